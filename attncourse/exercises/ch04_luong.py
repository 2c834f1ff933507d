"""Chapter 4, Luong attention: multiplicative scores and local-p.

Exercises 4.1 to 4.6.
"""

import numpy as np

from attncourse import reference
from attncourse.exercises.registry import Case, normal, register


@register("4.1", "the scaled dot-product score q·k / sqrt(d)")
def _scaled_dot_cases():
    rng = np.random.default_rng(41)
    query, keys = normal(rng, 2, 16), normal(rng, 3, 16)
    batch_query, batch_keys = normal(rng, 2, 1, 4), normal(rng, 2, 5, 4)
    return [
        Case("two queries, three keys, d = 16", (query, keys), reference.scaled_dot_score(query, keys)),
        Case("a batch of two examples (use the last axis for d)", (batch_query, batch_keys),
             reference.scaled_dot_score(batch_query, batch_keys)),
    ]


@register("4.2", "Luong's general score q W_a k^T")
def _general_score_cases():
    rng = np.random.default_rng(42)
    query, keys, W = normal(rng, 2, 3), normal(rng, 5, 3), normal(rng, 3, 3)
    # Different depths: W_a maps a d_q = 4 query onto d_k = 2 keys, which "dot" cannot do.
    query2, keys2, W2 = normal(rng, 3, 4), normal(rng, 6, 2), normal(rng, 4, 2)
    batch_query, batch_keys = normal(rng, 2, 1, 3), normal(rng, 2, 4, 3)
    return [
        Case("two queries, five keys, d_q = d_k = 3", (query, keys, W), reference.general_score(query, keys, W)),
        Case("d_q = 4 but d_k = 2 (W_a has shape (d_q, d_k))", (query2, keys2, W2),
             reference.general_score(query2, keys2, W2)),
        Case("the identity W_a (must equal the dot score)", (query, keys, np.eye(3)), reference.dot_score(query, keys)),
        Case("a batch of two examples", (batch_query, batch_keys, W), reference.general_score(batch_query, batch_keys, W)),
    ]


@register("4.3", "local-p's aligned positions p_i = S · sigmoid(w_p · tanh(q_i W_p))")
def _predictive_centers_cases():
    rng = np.random.default_rng(43)
    query, W_p, w_p = normal(rng, 4, 3), normal(rng, 3, 5), normal(rng, 5)
    batch_query = normal(rng, 2, 4, 3)
    lengths = np.array([7.0, 12.0])
    return [
        Case("four queries, a source of S = 9 words", (query, W_p, w_p, 9.0),
             reference.predictive_centers(query, W_p, w_p, 9.0)),
        Case("two sentences of S = 7 and 12 words (one S per sentence)", (batch_query, W_p, w_p, lengths),
             reference.predictive_centers(batch_query, W_p, w_p, lengths)),
        Case("a zero w_p (every centre must be the middle, S / 2)", (query, W_p, np.zeros(5), 10.0),
             reference.predictive_centers(query, W_p, np.zeros(5), 10.0)),
    ]


@register("4.4", "local-p weights: a softmax inside the window, times the Gaussian")
def _local_weights_cases():
    rng = np.random.default_rng(44)
    scores = normal(rng, 3, 8)
    centers = np.array([1.0, 3.6, 7.0])  # a fractional centre, and windows cut by both ends
    padding = np.array([[True] * 6 + [False] * 2])  # the last two source positions are padding
    return [
        Case("three queries, window D = 2, centres 1, 3.6 and 7", (scores, centers, 2),
             reference.local_attention_weights(scores, centers, 2)),
        Case("the same with padding at positions 6 and 7", (scores, centers, 2),
             reference.local_attention_weights(scores, centers, 2, mask=padding), {"mask": padding}),
        Case("equal scores (the Gaussian alone decides), D = 3", (np.zeros((3, 8)), centers, 3),
             reference.local_attention_weights(np.zeros((3, 8)), centers, 3)),
    ]


@register("4.5", "the softmax Jacobian diag(α) − α αᵀ: how much the weights can still move")
def _softmax_jacobian_cases():
    def jacobian(scores):
        # ∂α_j / ∂e_k = α_j ([j = k] − α_k), written out in NumPy from the reference softmax.
        weights = reference.masked_softmax(scores)
        return weights[..., :, None] * (np.eye(weights.shape[-1]) - weights[..., None, :])

    rng = np.random.default_rng(45)
    scores = normal(rng, 5)
    saturated = np.array([30.0, 0.0, -5.0, 2.0])
    batch = 3.0 * normal(rng, 3, 4)
    return [
        Case("five random scores", (scores,), jacobian(scores)),
        Case("equal scores", (np.zeros(4),), jacobian(np.zeros(4))),
        Case("one score far above the rest (saturated: almost all zeros)", (saturated,), jacobian(saturated),
             atol=1e-8),
        Case("a batch of three rows (one (4, 4) Jacobian per row)", (batch,), jacobian(batch)),
    ]


@register("4.6", "the lowest AER local-m can reach with windows |j − i| ≤ D")
def _window_floor_cases():
    def floor(alignments, window):
        # One target word at a time: it can be linked right only if its gold word is in its window.
        inside = total = 0
        for alignment in alignments:
            for i, a in enumerate(alignment):
                total += 1
                inside += abs(int(a) - i) <= window
        return 1.0 - inside / total

    rng = np.random.default_rng(46)
    moved = [np.array([0, 2, 1, 3]), np.array([0, 1, 4, 2, 3, 5])]  # moves of 1 and 2 places
    unmoved = [np.arange(5), np.arange(3)]
    shuffled = [rng.permutation(n) for n in (7, 12, 3)]
    return [
        Case("two sentences, window D = 0 (only the diagonal links count)", (moved, 0), floor(moved, 0)),
        Case("the same with D = 1 (moves of one place now fit)", (moved, 1), floor(moved, 1)),
        Case("a window wider than every move (the floor is 0)", (moved, 5), floor(moved, 5)),
        Case("no word moved: 0 even at D = 0", (unmoved, 0), floor(unmoved, 0)),
        Case("three shuffled sentences of 7, 12 and 3 words, D = 2", (shuffled, 2), floor(shuffled, 2)),
    ]
