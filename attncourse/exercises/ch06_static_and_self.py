"""Chapter 6, static attention, structured self-attention (Lin et al.) and self-attention.

Exercises 6.1 to 6.5.
"""

import numpy as np

from attncourse import reference
from attncourse.exercises.registry import Case, normal, register


def _static_pooling_by_hand(h, W, b, u_w, mask):
    """s = Σ_t α_t h_t with α from the NumPy reference (zeros for a sentence without words)."""

    weights = reference.context_attention_weights(h, W, b, u_w, mask)
    return np.sum(weights[..., None] * np.asarray(h, dtype=float), axis=-2)


@register("6.1", "static attention: pool a sentence into one vector s = Σ_t α_t h_t")
def _static_pooling_cases():
    rng = np.random.default_rng(61)
    h, W, b, u_w = normal(rng, 6, 4), normal(rng, 4, 3), normal(rng, 3), normal(rng, 3)
    batch = normal(rng, 3, 5, 4)
    mask = np.array([[1, 1, 1, 1, 1], [1, 1, 0, 0, 0], [0, 0, 0, 0, 0]], dtype=bool)
    cases = [
        ("one sentence of 6 words, d = 4, u = 3, no mask", (h, W, b, u_w, None)),
        ("3 sentences of 5 words, the second padded after 2 words, the third all padding (zeros)",
         (batch, W, b, u_w, mask)),
        ("huge hidden scores (u_w times 1e4): the softmax must subtract the max", (h, W, b, u_w * 1e4, None)),
    ]
    return [Case(text, args, _static_pooling_by_hand(*args)) for text, args in cases]


@register("6.2", "Lin's hop weights A = softmax(W_s2 tanh(W_s1 Hᵀ)), one row per hop, padding masked")
def _hop_weights_cases():
    rng = np.random.default_rng(62)
    h, W_s1, W_s2 = normal(rng, 6, 4), normal(rng, 4, 5), normal(rng, 5, 3)
    batch = normal(rng, 3, 5, 4)
    mask = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [0, 0, 0, 0, 0]], dtype=bool)
    one_hop = normal(rng, 5, 1)
    cases = [
        ("one sentence of 6 words, d = 4, d_a = 5, r = 3 hops, no mask", (h, W_s1, W_s2, None)),
        ("3 sentences of 5 words, the second padded after 3, the third all padding (zeros)",
         (batch, W_s1, W_s2, mask)),
        ("a single hop (r = 1: the result still has a hop axis of size 1)", (h, W_s1, one_hop, None)),
        ("huge scores (W_s2 times 1e4): subtract the max", (h, W_s1, W_s2 * 1e4, None)),
    ]
    return [Case(text, args, reference.self_attentive_weights(*args)) for text, args in cases]


def _penalty_parts_by_loops(A):
    """[Σ_a (Σ_t A_at² − 1)², Σ_{a≠b} (Σ_t A_at A_bt)²], one hop and one pair at a time."""
    A = np.asarray(A, dtype=float)
    hops = A.shape[-2]
    sharpness = np.zeros(A.shape[:-2])
    redundancy = np.zeros(A.shape[:-2])
    for a in range(hops):
        sharpness = sharpness + (np.sum(A[..., a, :] ** 2, axis=-1) - 1.0) ** 2
        for b in range(hops):
            if a != b:
                redundancy = redundancy + np.sum(A[..., a, :] * A[..., b, :], axis=-1) ** 2
    return np.stack([sharpness, redundancy], axis=-1)


@register("6.3", "the two parts of Lin's penalty: [diagonal (sharpness), off-diagonal (overlap)]")
def _penalty_parts_cases():
    rng = np.random.default_rng(63)
    hops = reference.masked_softmax(normal(rng, 2, 3, 7) * 2.0)  # (2 sentences, 3 hops, 7 words)
    same_word = np.tile(np.eye(5)[[2]], (3, 1))  # three one-hot hops on the same word
    different_words = np.eye(5)[[0, 2, 4]]  # three one-hot hops on three different words
    uniform = np.full((2, 5), 1 / 5)
    cases = [
        ("2 sentences, 3 hops over 7 words", hops),
        ("three one-hot hops on the same word (sharp, but every pair overlaps fully)", same_word),
        ("three one-hot hops on different words (both parts are 0)", different_words),
        ("two uniform hops over 5 words (not sharp, and overlapping)", uniform),
    ]
    return [Case(text, (A,), _penalty_parts_by_loops(A)) for text, A in cases]


def _self_attention_by_reference(x, W_q, W_k, W_v, mask):
    x = np.asarray(x, dtype=float)
    scores = reference.scaled_dot_score(x @ W_q, x @ W_k)  # (..., T, T): every word queries every word
    key_mask = None if mask is None else np.asarray(mask, dtype=bool)[..., None, :]
    return reference.context(reference.masked_softmax(scores, key_mask), x @ W_v)


@register("6.4", "scaled dot-product self-attention softmax(Q Kᵀ / sqrt(d_k)) V with Q, K, V from x")
def _self_attention_cases():
    rng = np.random.default_rng(64)
    x, W_q, W_k, W_v = normal(rng, 5, 4), normal(rng, 4, 3), normal(rng, 4, 3), normal(rng, 4, 2)
    batch = normal(rng, 2, 6, 4)
    mask = np.array([[1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0]], dtype=bool)
    wide_q, wide_k = normal(rng, 4, 64), normal(rng, 4, 64)
    cases = [
        ("one sentence of 5 words, d = 4, d_k = 3, d_v = 2, no mask", (x, W_q, W_k, W_v, None)),
        ("2 sentences of 6 words, the second padded after 3 (padded keys get no weight)",
         (batch, W_q, W_k, W_v, mask)),
        ("d_k = 64 (divide by sqrt(d_k) = 8, not by d or 64)", (x, wide_q, wide_k, W_v, None)),
    ]
    return [Case(text, args, _self_attention_by_reference(*args)) for text, args in cases]


def _mean_parts_by_loops(A):
    """The answer to exercise 6.5: the two parts sentence by sentence, then their means."""
    A = np.asarray(A, dtype=float)
    sentences = [A[index] for index in np.ndindex(A.shape[:-2])]
    parts = [_penalty_parts_by_loops(hops) for hops in sentences]
    return np.array([sum(part[0] for part in parts) / len(parts), sum(part[1] for part in parts) / len(parts)])


@register("6.5", "the mean of each part of the penalty over a batch of sentences: [sharpness, overlap]")
def _mean_penalty_parts_cases():
    rng = np.random.default_rng(65)
    mask = np.arange(7) < np.array([7, 4, 5, 2, 6])[:, None]  # 5 sentences of 7, 4, 5, 2 and 6 words
    batch = reference.masked_softmax(normal(rng, 5, 4, 7) * 2.0, mask[:, None, :])  # (5 sentences, 4 hops, 7 words)
    one = batch[0]
    nested = batch[:4].reshape(2, 2, 4, 7)
    cases = [
        ("5 padded sentences, 4 hops each (padding weighs 0)", batch),
        ("one sentence (r, T): the mean of one is the sentence's own parts", one),
        ("a (2, 2) grid of sentences: average over both leading axes", nested),
    ]
    return [Case(text, (A,), _mean_parts_by_loops(A)) for text, A in cases]
