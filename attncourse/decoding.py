"""Greedy decoding and accuracy by source length, for the Translator and the Transformer.

Both :class:`attncourse.translator.Translator` (chapters 2–5) and
:class:`attncourse.transformer.Transformer` (chapter 9) have the same decoding interface:
``encode(source)`` gives ``(encoder_states, state, source_mask)`` and ``decode_step``
one word's logits, the next state and the attention weights, plus ``source_length``. The
functions here use only that interface, so chapter 9 can put the two side by side.
"""

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
