"""Chapter 8, HAN: attention with a learned context vector, at two levels.

Exercises 8.1 to 8.3.
"""

import numpy as np

from attncourse import reference
from attncourse.exercises.registry import Case, normal, register


@register("8.1", "HAN's word attention over a whole document")
def _han_word_attention_cases():
    rng = np.random.default_rng(81)
    sentence, W, b, u_w = normal(rng, 5, 4), normal(rng, 4, 3), normal(rng, 3), normal(rng, 3)
    document = normal(rng, 3, 5, 4)  # 3 sentences of 5 words, d = 4
    mask = np.array([[1, 1, 1, 1, 0], [1, 1, 0, 0, 0], [0, 0, 0, 0, 0]], dtype=bool)
    # A large context vector makes scores of several hundred: exp overflows without the max shift.
    sharp_u_w = 200.0 * u_w
    return [
        Case("one sentence of five words, no mask", (sentence, W, b, u_w), reference.context_attention_weights(sentence, W, b, u_w)),
        Case("a document of 3 sentences with padded words and a fully padded third sentence (it must get zeros)",
             (document, W, b, u_w), reference.context_attention_weights(document, W, b, u_w, mask), {"mask": mask}),
        Case("a large context vector: scores of several hundred (subtract the max before exp)",
             (document, W, b, sharp_u_w), reference.context_attention_weights(document, W, b, sharp_u_w, mask),
             {"mask": mask}),
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


@register("8.2", "masked average and max pooling, the baselines of HAN")
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


@register("8.3", "how much each word counts in the document vector")
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
