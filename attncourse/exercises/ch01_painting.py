"""Chapter 1, looking at a painting: interest scores become a distribution over places.

Exercises 1.1 to 1.5.
"""

import numpy as np

from attncourse import reference
from attncourse.exercises.registry import Case, normal, register


@register("1.1", "softmax: turn scores into attention weights")
def _softmax_cases():
    rng = np.random.default_rng(11)
    scores = normal(rng, 2, 5)
    huge = np.array([[1e4, 1e4 - 1.0, 0.0]])
    return [
        Case("a small batch of random scores", (scores,), reference.masked_softmax(scores)),
        Case("equal scores (the weights must be uniform)", (np.zeros((1, 4)),), reference.masked_softmax(np.zeros((1, 4)))),
        Case("huge scores of 1e4 (subtract the max before exp)", (huge,), reference.masked_softmax(huge)),
    ]


@register("1.2", "softmax with a temperature: sharper or flatter attention")
def _temperature_cases():
    rng = np.random.default_rng(12)
    scores = normal(rng, 2, 6)
    return [
        Case("temperature 1 (the plain softmax)", (scores, 1.0), reference.masked_softmax(scores)),
        Case("temperature 0.25 (divide the scores by it: sharper)", (scores, 0.25),
             reference.masked_softmax(scores / 0.25)),
        Case("temperature 20 (flatter, close to uniform)", (scores, 20.0), reference.masked_softmax(scores / 20.0)),
        Case("temperature 1e-4 (scores / τ reach 1e4: subtract the max)", (scores, 1e-4),
             reference.masked_softmax(scores / 1e-4)),
    ]


def _mass_ratio_by_counting(weights, box, cell_size):
    """The answer to exercise 1.3, one cell at a time (plain NumPy, no helper)."""
    top, left, height, width = box
    mass = cells = 0
    for r in range(weights.shape[0]):
        for c in range(weights.shape[1]):
            rows_overlap = r * cell_size < top + height and top < (r + 1) * cell_size
            cols_overlap = c * cell_size < left + width and left < (c + 1) * cell_size
            if rows_overlap and cols_overlap:
                mass += weights[r, c]
                cells += 1
    return np.float64(mass / (cells / weights.size))


@register("1.3", "attention mass inside a box, relative to the box's share of the grid")
def _mass_in_box_cases():
    rng = np.random.default_rng(13)
    grid = rng.dirichlet(np.full(64, 0.3)).reshape(8, 8)
    uniform = np.full((8, 8), 1 / 64)
    peaked = np.zeros((4, 4))
    peaked[1, 2] = 1.0
    cases = [
        ("uniform weights (the ratio must be 1)", uniform, (9, 5, 8, 8), 4),
        ("a box aligned with the cells (2 x 2 cells)", grid, (8, 12, 8, 8), 4),
        ("a box straddling cell borders (every touched cell counts: 3 x 3)", grid, (9, 5, 8, 8), 4),
        ("a box in the bottom-right corner", grid, (24, 24, 8, 8), 4),
        ("all the mass on one cell of a 4 x 4 grid of 8-pixel cells", peaked, (10, 17, 5, 3), 8),
    ]
    return [Case(text, (weights, box, cell), _mass_ratio_by_counting(weights, box, cell))
            for text, weights, box, cell in cases]


def _inverse_cdf_by_hand(weights, seed):
    """The answer to exercise 1.4: one uniform number per row, then the first place past it."""
    weights = np.asarray(weights, dtype=float)
    u = np.random.default_rng(seed).random(weights.shape[0])
    chosen = []
    for row, threshold in zip(weights, u):
        cumulative = np.cumsum(row) / row.sum()
        chosen.append(int(np.flatnonzero(cumulative > threshold)[0]))
    return np.array(chosen)


@register("1.4", "hard attention: sample one place per row with a given rng")
def _sample_place_cases():
    rng = np.random.default_rng(14)
    soft = reference.masked_softmax(normal(rng, 6, 10) * 2.0)
    one_hot = np.eye(5)[[3, 0, 4]]
    with_zeros = np.array([[0.0, 0.5, 0.0, 0.5], [0.25, 0.0, 0.0, 0.75]] * 4)
    cases = [
        ("six rows of ten softmax weights, rng seed 0", soft, 0),
        ("one-hot rows (the only place with weight must be chosen)", one_hot, 1),
        ("places of weight zero (they must never be chosen)", with_zeros, 2),
        ("the same weights with rng seed 7 (a different seed, different choices)", soft, 7),
    ]
    # A fresh Generator per case: the same seed must give the same choices.
    return [Case(text, (weights, np.random.default_rng(seed)), _inverse_cdf_by_hand(weights, seed))
            for text, weights, seed in cases]


def _tempered_by_logs(weights, temperature):
    """The answer to exercise 1.5, one row at a time: softmax(log α / τ) over the places of weight > 0."""
    weights = np.asarray(weights, dtype=float)
    tempered = np.zeros(weights.shape)
    for index in np.ndindex(weights.shape[:-1]):
        row = weights[index]
        places = [j for j in range(len(row)) if row[j] > 0]
        logs = [np.log(row[j]) / temperature for j in places]
        top = max(logs)
        exponentials = [np.exp(value - top) for value in logs]
        for j, value in zip(places, exponentials):
            tempered[index + (j,)] = value / sum(exponentials)
    return tempered


@register("1.5", "re-temper a trained attention map: softmax(log α / τ), zeros stay zero")
def _temper_cases():
    rng = np.random.default_rng(15)
    maps = reference.masked_softmax(normal(rng, 3, 8) * 1.5)
    with_zeros = np.array([[0.0, 0.2, 0.0, 0.8], [0.5, 0.0, 0.5, 0.0]])
    cases = [
        ("τ = 1 gives the map back", maps, 1.0),
        ("τ = 0.5 squares the weights and renormalises (sharper)", maps, 0.5),
        ("τ = 4 (flatter)", maps, 4.0),
        ("places of weight zero stay zero, no NaN (τ = 0.5)", with_zeros, 0.5),
        ("τ = 0.001: weights to the power 1000 underflow to 0 / 0; work with logs", maps, 0.001),
        ("a batch of maps, shape (2, 3, 8), τ = 2", np.stack([maps, maps[::-1]]), 2.0),
    ]
    return [Case(text, (weights, temperature), _tempered_by_logs(weights, temperature))
            for text, weights, temperature in cases]
