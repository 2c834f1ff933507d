"""Greedy decoding, accuracy by source length and corpus BLEU, for the Translator and the Transformer.

Both :class:`attncourse.translator.Translator` (chapters 2–5) and
:class:`attncourse.transformer.Transformer` (chapter 9) have the same decoding interface:
``encode(source)`` gives ``(encoder_states, state, source_mask)`` and ``decode_step``
one word's logits, the next state and the attention weights, plus ``source_length``. The
functions here use only that interface, so chapter 9 can put the two side by side.
:func:`corpus_bleu` scores decoded words against reference translations (appendix A).
"""

import collections
import math

import numpy as np
from keras import ops

from attncourse.data import END, PAD, START, bucket_labels, length_buckets, pad
from attncourse.layers.monotonic import MONOTONIC_MODES


def greedy_decode(model, source, max_length, batch_size=512, monotonic_mode="hard"):
    """Translate by taking the most likely word at every step, without teacher forcing.

    Args:
        model: a :class:`~attncourse.translator.Translator` or a
            :class:`~attncourse.transformer.Transformer`.
        source: padded source ids ``(n, T_v)``.
        max_length: the number of steps to decode (END included).
        batch_size: sentences decoded together.
        monotonic_mode: how ``MonotonicAttention`` decodes, ``"hard"`` (default, Raffel
            et al.'s test-time walk) or ``"soft"``; other attentions ignore it.

    Returns:
        ``(tokens, weights)``: tokens ``(n, max_length)`` (everything after the first END
        set to PAD) and, for an attention model, weights ``(n, max_length, T_v)`` (else None).
    """
    if monotonic_mode not in MONOTONIC_MODES:
        raise ValueError(f"monotonic_mode: expected one of {MONOTONIC_MODES}, received {monotonic_mode!r}")
    source = np.asarray(source)
    if not model.built:
        model.build([source.shape, (None, 1)])
    all_tokens, all_weights = [], []
    for start in range(0, len(source), batch_size):
        batch = source[start : start + batch_size]
        encoder_states, state, source_mask = model.encode(batch)
        token = np.full((len(batch),), START, dtype="int32")
        tokens, weights = [], []
        step_weights = None
        for step in range(max_length):
            logits, state, step_weights = model.decode_step(
                token, state, encoder_states, source_mask, previous_weights=step_weights,
                monotonic_mode=monotonic_mode, step=step)
            token = ops.convert_to_numpy(ops.argmax(logits, axis=-1)).astype("int32")
            tokens.append(token)
            if step_weights is not None:
                weights.append(ops.convert_to_numpy(step_weights))
        tokens = np.stack(tokens, axis=1)
        finished = np.cumsum(tokens == END, axis=1) - (tokens == END) > 0  # steps after the first END
        all_tokens.append(np.where(finished, PAD, tokens))
        if weights:
            all_weights.append(np.stack(weights, axis=1))
    return np.concatenate(all_tokens), (np.concatenate(all_weights) if all_weights else None)


def accuracy_by_length(model, data, edges, source_length=None, monotonic_mode="hard"):
    """Greedy-decoding accuracy per source-length bucket.

    Token accuracy compares the decoded words, END included, position by position with
    the reference translation; sequence accuracy counts sentences decoded exactly.

    Args:
        model: a :class:`~attncourse.translator.Translator` or a
            :class:`~attncourse.transformer.Transformer`.
        data: a ``ToyTranslation`` (usually the test split).
        edges: bucket edges for :func:`attncourse.data.length_buckets`.
        source_length: padded source length (defaults to the model's). A model without
            the context-feeding cell (``feed_context=False``) reads sources of any length,
            so it can be tested on sentences longer than it was built for.
        monotonic_mode: passed to :func:`greedy_decode`.

    Returns:
        A dict with ``labels``, ``token_accuracy``, ``sequence_accuracy`` and ``count``
        (lists, one entry per bucket), and ``weights``/``tokens`` of the decoding.
    """
    source_length = source_length or model.source_length
    source = pad(data.source, length=source_length)
    targets = [np.append(t, END) for t in data.target]
    max_length = max(len(t) for t in targets)
    tokens, weights = greedy_decode(model, source, max_length, monotonic_mode=monotonic_mode)
    buckets = length_buckets(np.array([len(s) for s in data.source]), edges)
    n_buckets = len(edges) - 1
    hits, totals, exact, counts = (np.zeros(n_buckets) for _ in range(4))
    for k, target in enumerate(targets):
        right = tokens[k, : len(target)] == target
        b = buckets[k]
        hits[b] += right.sum()
        totals[b] += len(target)
        exact[b] += right.all()
        counts[b] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "labels": bucket_labels(edges),
            "token_accuracy": (hits / totals).tolist(),
            "sequence_accuracy": (exact / counts).tolist(),
            "count": counts.astype(int).tolist(),
            "tokens": tokens,
            "weights": weights,
        }


def _ngram_counts(tokens, n):
    """How often each n-gram (a tuple of n tokens) occurs in ``tokens``."""
    return collections.Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def corpus_bleu(references, hypotheses, max_order=4, return_parts=False):
    """Corpus BLEU (Papineni et al. 2002) of tokenised translations, one reference each.

    For each n from 1 to ``max_order``, every n-gram of a hypothesis counts as a match at
    most as many times as it occurs in that sentence's reference (the count is *clipped*,
    so "the the the" earns one match for each "the" of the reference, no more). The
    matches of all sentences are added up and divided by the number of n-grams of all
    hypotheses: the modified precision p_n. BLEU is the geometric mean of p_1 .. p_N times
    a brevity penalty, BP = 1 when the hypotheses have more tokens in all (c) than the
    references (r), else exp(1 - r / c), so that short, safe output does not score well on
    precision alone. Sums run over the corpus before dividing: this is not the mean of
    sentence scores. There is no smoothing: a corpus without a single matching n-gram of
    some order scores 0.

    Args:
        references: one reference translation per sentence, each a sequence of tokens
            (str or ids), e.g. ``pairs.words(k)[1]``.
        hypotheses: the translations to score, in the same order, e.g. the decoded words
            of ``target_vocab.decode(tokens[k])``.
        max_order: N, the longest n-grams counted (4 in the paper).
        return_parts: also return what the score is made of.

    Returns:
        BLEU as a float in [0, 1] (papers print it times 100), or with ``return_parts`` a
        dict: ``bleu``, ``precisions`` (p_1 .. p_N, a list), ``matches`` and ``totals``
        (matching and hypothesis n-grams per order, lists of int), ``brevity_penalty``,
        ``hypothesis_length`` (c) and ``reference_length`` (r).

    Raises:
        ValueError: the two lists differ in length or are empty, a sentence is a str
            rather than a sequence of tokens, or ``max_order`` is not a positive integer.

    Example:
        >>> corpus_bleu([["the", "cat", "sat"]], [["the", "cat", "sat"]], max_order=2)
        1.0
    """
    if isinstance(max_order, bool) or not isinstance(max_order, int) or max_order < 1:
        raise ValueError(f"max_order must be a positive integer, got {max_order!r}")
    references, hypotheses = list(references), list(hypotheses)
    if len(references) != len(hypotheses) or not references:
        raise ValueError(f"expected one reference per hypothesis, at least one of each; got "
                         f"{len(references)} references and {len(hypotheses)} hypotheses")
    if any(isinstance(sentence, str) for sentence in references + hypotheses):
        raise ValueError("sentences must be sequences of tokens, not str: tokenise them first")
    matches, totals = [0] * max_order, [0] * max_order
    hypothesis_length = reference_length = 0
    for reference, hypothesis in zip(references, hypotheses):
        reference, hypothesis = list(reference), list(hypothesis)
        hypothesis_length += len(hypothesis)
        reference_length += len(reference)
        for n in range(1, max_order + 1):
            in_reference = _ngram_counts(reference, n)
            for ngram, count in _ngram_counts(hypothesis, n).items():
                matches[n - 1] += min(count, in_reference[ngram])
                totals[n - 1] += count
    precisions = [m / t if t else 0.0 for m, t in zip(matches, totals)]
    if hypothesis_length == 0:
        brevity_penalty = 0.0
    elif hypothesis_length > reference_length:
        brevity_penalty = 1.0
    else:
        brevity_penalty = math.exp(1.0 - reference_length / hypothesis_length)
    if min(precisions) > 0.0:
        bleu = brevity_penalty * math.exp(sum(math.log(p) for p in precisions) / max_order)
    else:
        bleu = 0.0
    if not return_parts:
        return bleu
    return {"bleu": bleu, "precisions": precisions, "matches": matches, "totals": totals,
            "brevity_penalty": brevity_penalty, "hypothesis_length": hypothesis_length,
            "reference_length": reference_length}
