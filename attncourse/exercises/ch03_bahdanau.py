"""Chapter 3, Bahdanau attention: the additive score, the context vector, the masked softmax.

Exercises 3.1 to 3.6.
"""

import numpy as np

from attncourse import reference
from attncourse.data import alignment_error
from attncourse.exercises.registry import Case, normal, register


@register("3.1", "the additive score w·tanh(q W_q + k W_k)")
def _additive_cases():
    rng = np.random.default_rng(31)
    query, keys = normal(rng, 1, 3), normal(rng, 4, 3)
    W_q, W_k, w = normal(rng, 3, 5), normal(rng, 3, 5), normal(rng, 5)
    query2, keys2 = normal(rng, 2, 3), normal(rng, 6, 4)
    W_q2, W_k2 = normal(rng, 3, 2), normal(rng, 4, 2)
    w2 = normal(rng, 2)
    return [
        Case("one query, four keys", (query, keys, W_q, W_k, w),
             reference.additive_score(query, keys, W_q, W_k, w)),
        Case("two queries, six keys of another depth", (query2, keys2, W_q2, W_k2, w2),
             reference.additive_score(query2, keys2, W_q2, W_k2, w2)),
    ]


@register("3.2", "the context vector: weights times values")
def _context_cases():
    rng = np.random.default_rng(32)
    weights = reference.masked_softmax(normal(rng, 3, 5))
    values = normal(rng, 5, 4)
    one_hot = np.eye(5)[[1, 4]]
    return [
        Case("three queries over five values", (weights, values), reference.context(weights, values)),
        Case("one-hot weights (the context must copy one value)", (one_hot, values), reference.context(one_hot, values)),
    ]


@register("3.3", "masked softmax: padding gets exactly zero")
def _masked_softmax_cases():
    rng = np.random.default_rng(33)
    scores = normal(rng, 3, 5)
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]], dtype=bool)
    empty = np.zeros((1, 5), dtype=bool)
    return [
        Case("rows with padding at the end", (scores, mask), reference.masked_softmax(scores, mask)),
        Case("a fully masked row (must give zeros, not NaN)", (scores[:1], empty), reference.masked_softmax(scores[:1], empty)),
        Case("huge scores of 1e4 beside padding", (scores * 1e4, mask), reference.masked_softmax(scores * 1e4, mask)),
    ]


def _entropy_in_bits(weights):
    weights = np.asarray(weights, dtype=float)
    safe = np.where(weights > 0, weights, 1.0)  # 0 log 0 = 0
    return -(weights * np.log2(safe)).sum(axis=-1)


@register("3.4", "the entropy of each attention row, in bits (0 log 0 = 0)")
def _entropy_cases():
    rng = np.random.default_rng(34)
    mask = np.array([[1, 1, 1, 1, 0, 0], [1, 1, 1, 0, 0, 0]], dtype=bool)
    uniform = reference.masked_softmax(np.zeros((2, 6)), mask)
    one_hot = np.eye(5)[[0, 3]]
    learned = reference.masked_softmax(3 * normal(rng, 3, 6), np.array([[1, 1, 1, 1, 1, 0]], dtype=bool))
    return [
        Case("uniform weights over 4 and 3 real words, the rest padding", (uniform,), _entropy_in_bits(uniform)),
        Case("one-hot rows (hard attention: 0 bits, not NaN)", (one_hot,), _entropy_in_bits(one_hot)),
        Case("peaked random weights with a padded last column", (learned,), _entropy_in_bits(learned)),
    ]


@register("3.5", "alignment error rate (AER) of predicted against gold source positions")
def _aer_cases():
    rng = np.random.default_rng(35)
    gold = [rng.integers(0, n, size=n) for n in (4, 7, 3)]
    perfect = [row.copy() for row in gold]
    shifted = [(row + 1) % 9 + 10 for row in gold]  # never a gold position
    partly = [np.where(rng.random(len(row)) < 0.5, row, (row + 1) % len(row)) for row in gold]
    with_unaligned = [np.where(np.arange(len(row)) == 0, -1, row) for row in gold]
    return [
        Case("every link right (AER 0)", (perfect, gold), np.float64(alignment_error(perfect, gold))),
        Case("every link wrong (AER 1)", (shifted, gold), np.float64(alignment_error(shifted, gold))),
        Case("about half the links right", (partly, gold), np.float64(alignment_error(partly, gold))),
        Case("gold with an unaligned first word (-1 is no link)", (perfect, with_unaligned),
             np.float64(alignment_error(perfect, with_unaligned))),
    ]


def _recall_split_by_loops(predicted, gold):
    """The answer to exercise 3.6: gold links counted one at a time, apart for words that stay and words that move."""
    found = {"stays": 0, "moves": 0}
    total = {"stays": 0, "moves": 0}
    for a, s in zip(predicted, gold):
        for i, j in enumerate(s):
            if j < 0:
                continue  # no gold link for this target word
            kind = "stays" if j == i else "moves"
            total[kind] += 1
            if i < len(a) and a[i] == j:
                found[kind] += 1
    return np.array([found["stays"] / total["stays"], found["moves"] / total["moves"]])


@register("3.6", "recall of the gold links, apart for words on the diagonal (j = i) and words that moved")
def _recall_split_cases():
    rng = np.random.default_rng(36)
    gold = [np.array([0, 2, 1, 3]), np.array([0, 1, 4, 2, 3]), np.array([1, 0, 2])]
    diagonal = [np.arange(len(row)) for row in gold]
    guessed = [rng.integers(0, len(row), size=len(row)) for row in gold]
    moved_only = [np.where(row == np.arange(len(row)), (row + 1) % len(row), row) for row in gold]
    unaligned = [np.where(np.arange(len(row)) == 1, -1, row) for row in gold]
    cases = [
        ("the diagonal itself (every word that stays, none that moved)", (diagonal, gold)),
        ("random links", (guessed, gold)),
        ("right on every moved word, wrong on every word that stays", (moved_only, gold)),
        ("gold with no link for target word 1 (-1: count it nowhere)", (diagonal, unaligned)),
    ]
    return [Case(text, args, _recall_split_by_loops(*args)) for text, args in cases]
