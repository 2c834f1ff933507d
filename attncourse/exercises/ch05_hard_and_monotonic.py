"""Chapter 5, hard and monotonic (forced-forward) attention.

Exercises 5.1 to 5.6.
"""

import numpy as np

from attncourse import reference
from attncourse.exercises.registry import Case, normal, register


@register("5.1", "REINFORCE: the gradient of (r − b) log π(j) with respect to the scores")
def _reinforce_gradient_cases():
    def expected(scores, chosen, reward, baseline):
        # d/de log softmax(e)_j = onehot(j) − softmax(e), scaled by the advantage r − b.
        picked = np.eye(scores.shape[-1])[chosen]
        advantage = (np.asarray(reward, dtype=float) - baseline)[:, None]
        return advantage * (picked - reference.masked_softmax(scores))

    rng = np.random.default_rng(51)
    scores = normal(rng, 4, 6)
    chosen = rng.integers(0, 6, size=4)
    reward = normal(rng, 4)
    huge = np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 1e4 - 2.0]])
    cases = [
        ("four rows of six scores, baseline 0.3", scores, chosen, reward, 0.3),
        ("every reward equal to the baseline (no signal: the gradient is zero)", scores, chosen,
         np.full(4, -0.7), -0.7),
        ("a reward below the baseline (a negative advantage)", scores[:1], np.array([2]),
         np.array([-2.0]), 1.0),
        ("huge scores of 1e4 (a softmax that subtracts the max)", huge, np.array([1, 2]), np.array([1.0, 0.5]), 0.0),
    ]
    return [Case(text, (s, c, r, b), expected(s, c, r, b)) for text, s, c, r, b in cases]


@register("5.2", "the expected monotonic alignment of Raffel et al.")
def _expected_alignment_cases():
    rng = np.random.default_rng(52)
    p_random = rng.uniform(0.05, 0.95, size=(4, 6))
    p_sure = np.ones((3, 5))
    p_never = np.zeros((3, 5))
    p_mixed = np.array([[0.0, 0.9, 0.1, 0.5], [0.2, 0.2, 0.2, 0.2], [1.0, 0.0, 1.0, 0.0]])
    cases = [
        ("random choose probabilities, 4 output steps, 6 source words", p_random),
        ("p = 1 everywhere (the walk stops at once and never leaves the first word)", p_sure),
        ("p = 0 everywhere (all the mass walks past the end: it goes to the last word)", p_never),
        ("probabilities of exactly 0 and 1 mixed with others", p_mixed),
    ]
    return [Case(text, (p,), reference.monotonic_expected_alignment(p)) for text, p in cases]


@register("5.3", "hard monotonic decoding: stop at the first p ≥ threshold, never move left")
def _hard_monotonic_cases():
    rng = np.random.default_rng(53)
    p_random = rng.uniform(size=(5, 7))
    # Row 1 only wants the word left of where row 0 stopped: the walk must not go back.
    p_backwards = np.array([[0.1, 0.2, 0.9, 0.1], [0.9, 0.1, 0.2, 0.3], [0.1, 0.1, 0.1, 0.8]])
    p_low = np.full((2, 4), 0.3)
    cases = [
        ("random probabilities, threshold 0.5", p_random, 0.5),
        ("a row whose only high p is left of the previous stop (stay at or right of it)", p_backwards, 0.5),
        ("no p reaches the threshold (attend the last word)", p_low, 0.5),
        ("the same random probabilities with threshold 0.8", p_random, 0.8),
    ]
    return [Case(text, (p, t), reference.hard_monotonic_alignment(p, threshold=t)) for text, p, t in cases]


def _forward_attention_by_loop(weights, move):
    """The answer to exercise 5.4, one output step and one source word at a time."""
    steps_q, steps_v = weights.shape
    previous = np.zeros(steps_v)
    previous[0] = 1.0  # before the first output step, all the mass is on the first word
    rows = []
    for i in range(steps_q):
        row = np.zeros(steps_v)
        for j in range(steps_v):
            stay = (1.0 - move[i]) * previous[j]
            arrive = move[i] * previous[j - 1] if j > 0 else 0.0
            row[j] = (stay + arrive) * weights[i, j]
        previous = row / row.sum()
        rows.append(previous)
    return np.array(rows)


@register("5.4", "forward attention with a transition agent (Zhang et al.)")
def _forward_attention_cases():
    rng = np.random.default_rng(54)
    weights = reference.masked_softmax(normal(rng, 5, 6))
    move = rng.uniform(0.1, 0.9, size=5)
    cases = [
        ("five steps over six words, random transition probabilities", weights, move),
        ("u = 0.5 at every step (plain forward attention)", weights, np.full(5, 0.5)),
        ("u = 0 (the attention never leaves the first word)", weights, np.zeros(5)),
        ("u = 1 (exactly one word forward per step)", weights, np.ones(5)),
    ]
    return [Case(text, (w, u), _forward_attention_by_loop(w, u)) for text, w, u in cases]


def _reinforce_variance_by_loop(scores, reward, baseline):
    """The answer to exercise 5.5: E[||g_z||²] − ||E[g_z]||², one possible choice z at a time."""
    weights = reference.masked_softmax(np.asarray(scores, dtype=float))
    steps = len(weights)
    mean = np.zeros(steps)
    mean_square = 0.0
    for z in range(steps):
        estimate = (reward[z] - baseline) * (np.eye(steps)[z] - weights)  # g_z, drawn with probability α_z
        mean += weights[z] * estimate
        mean_square += weights[z] * float(estimate @ estimate)
    return mean_square - float(mean @ mean)


def _variance_cases():
    rng = np.random.default_rng(55)
    scores = normal(rng, 6)
    reward = np.log(rng.uniform(0.01, 0.9, size=6))  # log-probabilities, all negative
    expected_reward = float(reference.masked_softmax(scores) @ reward)
    huge = np.array([1e4, 0.0, -3.0, 1e4 - 1.0])
    return [
        ("six words, log-probability rewards, no baseline (b = 0)", scores, reward, 0.0),
        ("the same with b = E[R], the expected reward", scores, reward, expected_reward),
        ("every reward equal to the baseline (no noise at all: variance 0)", scores, np.full(6, -1.5), -1.5),
        ("a baseline far above every reward (b = 10)", scores, reward, 10.0),
        ("huge scores of 1e4 (subtract the max in the softmax)", huge, np.array([-0.1, -2.0, -3.0, -0.5]), 0.0),
    ]


@register("5.5", "the variance of one REINFORCE estimate for a constant baseline b")
def _reinforce_variance_cases():
    return [Case(text, (e, r, b), _reinforce_variance_by_loop(e, r, b)) for text, e, r, b in _variance_cases()]


def _best_baseline_by_search(scores, reward):
    """The answer to exercise 5.6: the variance is a parabola in b; its vertex, from three of its values."""
    low, middle, high = (_reinforce_variance_by_loop(scores, reward, b) for b in (-1.0, 0.0, 1.0))
    curvature = (high + low - 2.0 * middle) / 2.0  # variance(b) = curvature b² + slope b + constant
    slope = (high - low) / 2.0
    return -slope / (2.0 * curvature)


@register("5.6", "the constant baseline of least variance (it is not E[R] in general)")
def _best_baseline_cases():
    rng = np.random.default_rng(56)
    scores = normal(rng, 6)
    reward = np.log(rng.uniform(0.01, 0.9, size=6))
    cases = [
        ("six words, log-probability rewards", scores, reward),
        ("two words: b* = α_2 R_1 + α_1 R_2, not E[R] = α_1 R_1 + α_2 R_2", np.array([0.3, -0.4]), np.array([-0.2, -2.0])),
        ("equal scores (every ||onehot(z) − α||² is the same, so here b* = E[R])", np.zeros(5), reward[:5]),
        ("huge scores of 1e4 (subtract the max in the softmax)", np.array([1e4, 0.0, -3.0, 1e4 - 1.0]),
         np.array([-0.1, -2.0, -3.0, -0.5])),
    ]
    return [Case(text, (e, r), _best_baseline_by_search(e, r), atol=1e-4) for text, e, r in cases]
