"""Alignment links and the alignment error rate (AER) of attention against gold alignments.

Luong et al. (2015) scored their attention the way word aligners are scored: each target
word is linked to the source word it attends to most (:func:`alignment_links`), the gold
alignment gives the true links (:func:`gold_links`), and the alignment error rate of
Och and Ney (2003) compares the two over a corpus (:func:`alignment_error`). The toy
translation task (:mod:`attncourse.data.toy_language`) has a gold alignment for every
pair; real sentence pairs have none.

Links are pairs ``(target_position, source_position)``, positions counted from 0.
"""

from __future__ import annotations

import numpy as np

from attncourse.data.arguments import _check_integer

__all__ = ["alignment_error", "alignment_links", "diagonal_links", "gold_links"]


def _link(target_position, source_position):
    return (int(target_position), int(source_position))


def alignment_links(weights, source_length=None, target_length=None):
    """Hard alignment links read off one attention matrix.

    Each target word is linked to the source word it attends to most (the argmax of
    its row), as Luong et al. (2015) did to score their attention against gold
    alignments.

    Args:
        weights: attention weights of one sentence, shape ``(T_q, T_v)``: one row per
            target (decoder) step, one column per source position.
        source_length: real source words; columns from here on are padding and are
            ignored. Defaults to ``T_v``.
        target_length: real target words; rows from here on (padding, or the step that
            predicts END) are ignored. Defaults to ``T_q``.

    Returns:
        A set of ``(target_position, source_position)`` tuples, one per target word.

    Raises:
        ValueError: ``weights`` is not 2-D, or a length is outside ``1 .. T``.
    """
    weights = np.asarray(weights)
    if weights.ndim != 2:
        raise ValueError(
            f"weights must be one attention matrix of shape (T_q, T_v), got shape {weights.shape}"
        )
    n_rows, n_columns = weights.shape
    if source_length is None:
        source_length = n_columns
    if target_length is None:
        target_length = n_rows
    source_length = _check_integer("source_length", source_length, 1)
    target_length = _check_integer("target_length", target_length, 0)
    if source_length > n_columns:
        raise ValueError(f"source_length={source_length} exceeds the {n_columns} columns of weights")
    if target_length > n_rows:
        raise ValueError(f"target_length={target_length} exceeds the {n_rows} rows of weights")
    best = np.argmax(weights[:target_length, :source_length], axis=1)
    return {_link(i, j) for i, j in enumerate(best.tolist())}


def gold_links(alignment_row):
    """The link set of one gold alignment: ``{(i, alignment_row[i])}``; ``-1`` means unaligned.

    Args:
        alignment_row: 1-D sequence, the source position of each target word.

    Returns:
        A set of ``(target_position, source_position)`` tuples.

    Raises:
        ValueError: ``alignment_row`` is not 1-D.
    """
    alignment_row = np.asarray(alignment_row)
    if alignment_row.ndim != 1:
        raise ValueError(f"an alignment row must be 1-D, got shape {alignment_row.shape}")
    return {_link(i, j) for i, j in enumerate(alignment_row.tolist()) if j >= 0}


def diagonal_links(sources, targets):
    """The diagonal alignment, the null of an alignment claim: target word ``i`` linked to source word ``i``.

    It reads no words, and it already gets every word that did not move; target words past
    the end of a shorter source are linked to its last word.

    Args:
        sources: the source sentences, each a sequence of words (only lengths are used).
        targets: the target sentences, as many as ``sources``.

    Returns:
        A list with one 1-D array per sentence, the source position of each target word, in
        the form :func:`alignment_error` takes.

    Raises:
        ValueError: the lists differ in length, or a source sentence is empty.
    """
    sources, targets = list(sources), list(targets)
    if len(sources) != len(targets):
        raise ValueError(f"sources has {len(sources)} sentences but targets has {len(targets)}")
    if any(len(source) == 0 for source in sources):
        raise ValueError("every source sentence needs at least one word to link to")
    return [np.minimum(np.arange(len(target)), len(source) - 1) for source, target in zip(sources, targets)]


def _as_links(links, which, k):
    if isinstance(links, (set, frozenset)):
        try:
            return {_link(i, j) for i, j in links}
        except (TypeError, ValueError):
            raise ValueError(f"{which}[{k}] must hold (target_position, source_position) pairs") from None
    return gold_links(links)


def alignment_error(predicted, gold):
    """Alignment error rate (AER, Och and Ney 2003) of a corpus, as used by Luong et al. (2015).

    With sure links only (every gold link is sure), for predicted links ``A`` and gold
    links ``S`` summed over the corpus::

        AER = 1 - 2 |A ∩ S| / (|A| + |S|)

    0 when the prediction equals the gold alignment, 1 when they share no link.

    Args:
        predicted: a list with one entry per sentence, each a set of
            ``(target_position, source_position)`` links (e.g. from
            :func:`alignment_links`) or a 1-D array of source positions per target word
            (-1 = unaligned).
        gold: the same for the gold alignment, e.g. ``data.alignment``.

    Returns:
        The AER, a float in [0, 1].

    Raises:
        ValueError: the lists differ in length, an entry is malformed, or neither side
            has a single link; or ``gold`` is None (real corpora such as
            :class:`SentencePairs` have no gold alignment).
    """
    if gold is None:
        raise ValueError("no gold alignment: real sentence pairs do not say which word translates which, "
                         "so their alignment error cannot be measured (the toy task's can)")
    if isinstance(predicted, (set, frozenset)) or isinstance(gold, (set, frozenset)):
        raise ValueError("predicted and gold must be lists with one link set per sentence, not single sets")
    predicted, gold = list(predicted), list(gold)
    if len(predicted) != len(gold):
        raise ValueError(f"predicted has {len(predicted)} sentences but gold has {len(gold)}")
    n_predicted = n_gold = n_common = 0
    for k, (a, s) in enumerate(zip(predicted, gold)):
        a, s = _as_links(a, "predicted", k), _as_links(s, "gold", k)
        n_predicted += len(a)
        n_gold += len(s)
        n_common += len(a & s)
    if n_predicted + n_gold == 0:
        raise ValueError("the alignment error is undefined: neither predicted nor gold has any link")
    return 1.0 - 2.0 * n_common / (n_predicted + n_gold)
