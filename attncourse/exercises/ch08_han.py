"""Chapter 8, HAN: attention with a learned context vector, at two levels.

Exercises 8.1 to 8.4. The expected answers are computed here by hand, one sequence (and one
feature) at a time with plain loops, not with the vectorised reference the chapter checks.
"""

import math

import numpy as np

from attncourse import reference
from attncourse.exercises.registry import Case, normal, register


def _softmax_of_real_steps(scores, real):
    """Weights over the steps of one sequence: a softmax of the real steps' scores, 0 elsewhere."""
    weights = [0.0] * len(scores)
    kept = [t for t in range(len(scores)) if real[t]]
    if not kept:
        return weights  # a sequence of padding only: no step gets any weight
    top = max(scores[t] for t in kept)
    exponentials = {t: math.exp(scores[t] - top) for t in kept}
    total = sum(exponentials.values())
    for t, value in exponentials.items():
        weights[t] = value / total
    return weights


def _repaired_seed_weights(x, W, b, u_w=None, mask=None):
    """The answer to exercise 8.1, one sequence (and, without u_w, one feature) at a time."""
    x = np.asarray(x, dtype=float)
    steps = x.shape[-2]
    mask = np.ones(x.shape[:-1], dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    if u_w is None:
        weights = np.zeros(x.shape)
    else:
        weights = np.zeros(x.shape[:-1])
    for sequence in np.ndindex(x.shape[:-2]):
        hidden = [np.tanh(x[sequence + (t,)] @ W + b) for t in range(steps)]  # u_t, one row per step
        real = [bool(mask[sequence + (t,)]) for t in range(steps)]
        if u_w is not None:
            scores = [float(np.dot(u, u_w)) for u in hidden]
            for t, value in enumerate(_softmax_of_real_steps(scores, real)):
                weights[sequence + (t,)] = value
            continue
        for k in range(x.shape[-1]):  # without u_w: feature k has a distribution over the steps of its own
            scores = [float(u[k]) for u in hidden]
            for t, value in enumerate(_softmax_of_real_steps(scores, real)):
                weights[sequence + (t, k)] = value
    return weights


@register("8.1", "the seed layer repaired: masked softmax over the steps, per feature or with u_w")
def _repaired_seed_layer_cases():
    rng = np.random.default_rng(81)
    x, W_square, b_square = normal(rng, 2, 5, 3), normal(rng, 3, 3), normal(rng, 3)
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=bool)
    x_square = normal(rng, 1, 3, 3)  # T = d = 3: a mask on the wrong axis broadcasts without an error
    square_mask = np.array([[1, 1, 0]], dtype=bool)
    empty_mask = np.array([[1, 1, 1, 1, 1], [0, 0, 0, 0, 0]], dtype=bool)

    document, W, b, u_w = normal(rng, 3, 5, 4), normal(rng, 4, 3), normal(rng, 3), normal(rng, 3)
    document_mask = np.array([[1, 1, 1, 1, 0], [1, 1, 0, 0, 0], [0, 0, 0, 0, 0]], dtype=bool)
    # u_w times 1000 gives scores of a thousand or more; put the step with the largest score on padding,
    # so that exp overflows there (even in float64, past 709) unless the mask comes before the softmax.
    sharp_u_w = 1000.0 * u_w
    sharp = normal(rng, 2, 5, 4)
    sharp_mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 0]], dtype=bool)
    for row in range(len(sharp)):
        scores = np.tanh(sharp[row] @ W + b) @ sharp_u_w
        last = int(sharp_mask[row].sum())  # the first padded step
        top = int(np.argmax(scores))
        sharp[row, [top, last]] = sharp[row, [last, top]]
        assert scores[top] > 710.0, "the padded step's score must overflow exp in float64"
    return [
        Case("per feature (no u_w): 2 sequences of 5 steps, d = 3, two padded steps; the mask needs a new axis",
             (x, W_square, b_square), _repaired_seed_weights(x, W_square, b_square, mask=mask), {"mask": mask}),
        Case("per feature, T = d = 3 with the last step padded: a mask on the feature axis broadcasts silently",
             (x_square, W_square, b_square), _repaired_seed_weights(x_square, W_square, b_square, mask=square_mask),
             {"mask": square_mask}),
        Case("per feature, the second sequence all padding: zeros, not NaN", (x, W_square, b_square),
             _repaired_seed_weights(x, W_square, b_square, mask=empty_mask), {"mask": empty_mask}),
        Case("with u_w: 3 sentences of 5 words, padded words and a sentence of padding only (zeros)",
             (document, W, b, u_w), _repaired_seed_weights(document, W, b, u_w, document_mask),
             {"mask": document_mask}),
        Case("with u_w times 1000: a padded step has the largest score (mask before exp, subtract the max)",
             (sharp, W, b, sharp_u_w), _repaired_seed_weights(sharp, W, b, sharp_u_w, sharp_mask),
             {"mask": sharp_mask}),
    ]


def _padding_share_by_loops(weights, mask):
    """The answer to exercise 8.2: the weight on padded steps, summed, averaged over the features."""
    weights = np.asarray(weights, dtype=float)
    per_feature = weights if weights.ndim == 3 else weights[..., None]
    shares = np.zeros(len(weights))
    for n in range(per_feature.shape[0]):
        features = per_feature.shape[-1]
        total = 0.0
        for k in range(features):
            total += sum(per_feature[n, t, k] for t in range(per_feature.shape[1]) if not mask[n][t])
        shares[n] = total / features
    return shares


@register("8.2", "the share of the weight that lands on padding, one number per sequence")
def _padding_share_cases():
    rng = np.random.default_rng(82)
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]], dtype=bool)
    unmasked = reference.masked_softmax(normal(rng, 3, 5))  # a layer that ignored the mask
    masked = reference.masked_softmax(normal(rng, 3, 5), mask)
    per_feature = np.swapaxes(reference.masked_softmax(np.swapaxes(normal(rng, 3, 5, 4), -1, -2)), -1, -2)
    empty_mask = np.array([[1, 1, 0, 0, 0], [0, 0, 0, 0, 0]], dtype=bool)
    empty = reference.masked_softmax(normal(rng, 2, 5), empty_mask)  # the second row is all zeros
    return [
        Case("weights (3, 5) from a layer that ignored the mask", (unmasked, mask),
             _padding_share_by_loops(unmasked, mask)),
        Case("weights (3, 5) from a masked softmax: no weight on padding", (masked, mask),
             _padding_share_by_loops(masked, mask)),
        Case("per-feature weights (3, 5, 4), each feature summing to 1 over the steps: average the features",
             (per_feature, mask), _padding_share_by_loops(per_feature, mask)),
        Case("a sequence of padding only, whose weights are all zero: share 0, not NaN", (empty, empty_mask),
             _padding_share_by_loops(empty, empty_mask)),
    ]


def _masked_pooling_expected(h, mask, mode):
    """Average or maximum over the real steps of (..., T, d); zeros where no step is real."""
    real = mask[..., None]
    count = real.sum(axis=-2)
    if mode == "average":
        pooled = np.where(real, h, 0.0).sum(axis=-2) / np.maximum(count, 1)
    else:
        pooled = np.where(real, h, -np.inf).max(axis=-2)
    return np.where(count > 0, pooled, 0.0)


@register("8.3", "masked average and max pooling, the baselines of HAN")
def _masked_pooling_cases():
    rng = np.random.default_rng(82)
    h = normal(rng, 3, 4, 2)
    mask = np.array([[1, 1, 1, 0], [1, 0, 0, 0], [0, 0, 0, 0]], dtype=bool)
    negative = -np.abs(normal(rng, 1, 4, 3)) - 1.0  # every value < -1: padding zeros must not win the max
    negative_mask = np.array([[1, 1, 0, 0]], dtype=bool)
    return [
        Case("average over sequences with padding, one of them fully padded (zeros, not NaN)",
             (h, mask), _masked_pooling_expected(h, mask, "average"), {"mode": "average"}),
        Case("max of negative values beside padding (a padded step must never win)",
             (negative, negative_mask), _masked_pooling_expected(negative, negative_mask, "max"), {"mode": "max"}),
        Case("max over sequences with padding, one of them fully padded (zeros, not -inf)",
             (h, mask), _masked_pooling_expected(h, mask, "max"), {"mode": "max"}),
    ]


@register("8.4", "how much each word counts in the document vector")
def _document_word_share_cases():
    rng = np.random.default_rng(83)

    word_mask = np.array([[1, 1, 1, 0], [1, 1, 0, 0], [0, 0, 0, 0]], dtype=bool)
    word_weights = reference.masked_softmax(normal(rng, 3, 4), word_mask)  # (S=3, T=4)
    sentence_weights = reference.masked_softmax(normal(rng, 3), word_mask.any(axis=-1))  # (S,)
    square_words = reference.masked_softmax(normal(rng, 3, 3))  # S = T = 3: a wrong axis still broadcasts
    square_sentences = reference.masked_softmax(normal(rng, 3))
    batch_words = reference.masked_softmax(normal(rng, 2, 3, 4))
    batch_sentences = reference.masked_softmax(normal(rng, 2, 3))
    return [
        Case("3 sentences of 4 words with padding", (word_weights, sentence_weights),
             sentence_weights[:, None] * word_weights),
        Case("as many sentences as words (3 x 3): multiply each ROW by its sentence weight",
             (square_words, square_sentences), square_sentences[:, None] * square_words),
        Case("a batch of two documents, weights (2, 3, 4) and (2, 3)", (batch_words, batch_sentences),
             batch_sentences[..., None] * batch_words),
    ]
