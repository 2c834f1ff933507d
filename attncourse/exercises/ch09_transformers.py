"""Chapter 9, towards the Transformer. The answers are written here in plain NumPy.

Exercises 9.1 to 9.3.
"""

import numpy as np

from attncourse.exercises.registry import Case, normal, register


def _causal_mask_by_hand(token_mask):
    """m_ij = [j <= i] and m_j, one entry at a time."""
    token_mask = np.asarray(token_mask, dtype=bool)
    batch, steps = token_mask.shape
    mask = np.zeros((batch, steps, steps), dtype=bool)
    for b in range(batch):
        for i in range(steps):
            for j in range(i + 1):
                mask[b, i, j] = token_mask[b, j]
    return mask


@register("9.1", "the decoder's mask: causal and padding, m_ij = [j ≤ i] m_j")
def _causal_mask_cases():
    no_padding = np.ones((1, 4), dtype=bool)
    padded = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 1, 0, 0, 0]], dtype=bool)
    single = np.ones((2, 1), dtype=bool)
    cases = [
        ("one sentence of 4 tokens, no padding (a lower triangle)", no_padding),
        ("three sentences padded to 5 (padding columns are False in every row)", padded),
        ("sentences of one token", single),
    ]
    # Compared as 0/1 floats, so that a wrong entry is named by its index in the hint.
    return [Case(text, (mask,), _causal_mask_by_hand(mask).astype(float)) for text, mask in cases]


def _positions_by_hand(length, depth):
    """PE[t, 2i] = sin(t / 10000^(2i/d)), PE[t, 2i+1] = cos(t / 10000^(2i/d)), entry by entry."""
    encoding = np.zeros((length, depth))
    for t in range(length):
        for column in range(depth):
            pair = column - column % 2  # 2i: both columns of a pair share one frequency
            angle = t / 10000.0 ** (pair / depth)
            encoding[t, column] = np.sin(angle) if column % 2 == 0 else np.cos(angle)
    return encoding


@register("9.2", "sinusoidal positional encoding")
def _positional_encoding_cases():
    cases = [
        ("4 positions, depth 6", 4, 6),
        ("one position, depth 2 (position 0: sin 0 = 0, cos 0 = 1)", 1, 2),
        ("50 positions, depth 16 (slow columns: 10000 ** (2i / d), not (2i / d) alone)", 50, 16),
    ]
    return [Case(text, (length, depth), _positions_by_hand(length, depth)) for text, length, depth in cases]


def _heads_by_hand(x, heads):
    """Head n of position t: the n-th block of d/heads columns of x[b, t], copied one by one."""
    batch, steps, depth = x.shape
    size = depth // heads
    split = np.zeros((batch, heads, steps, size))
    for n in range(heads):
        for t in range(steps):
            split[:, n, t, :] = x[:, t, n * size:(n + 1) * size]
    return split


@register("9.3", "split the last axis into heads: (batch, T, d) -> (batch, heads, T, d / heads)")
def _split_heads_cases():
    rng = np.random.default_rng(93)
    # Distinct, readable numbers: entry (b, t, c) is 100 b + 10 t + c, so a scrambled
    # reshape shows up at once in the hint.
    counted = (100 * np.arange(2)[:, None, None] + 10 * np.arange(3)[None, :, None]
               + np.arange(4)[None, None, :]).astype(float)
    random = normal(rng, 1, 5, 12)
    cases = [
        ("2 sentences of 3 positions, d = 4, 2 heads (entry = 100 b + 10 t + c)", counted, 2),
        ("one sentence of 5 positions, d = 12, 3 heads", random, 3),
        ("one head (only a new axis)", random, 1),
    ]
    return [Case(text, (x, heads), _heads_by_hand(x, heads)) for text, x, heads in cases]
