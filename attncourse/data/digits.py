"""Chapter 1's cluttered digits: one 8x8 digit at a random place on a cluttered canvas.

Like the cluttered, translated MNIST of Mnih et al. (2014), made from scikit-learn's
bundled 8x8 digits so that nothing is downloaded. :func:`cluttered_digits` makes the
canvases (a :class:`ClutteredDigits`); the digit's place is returned for measuring where
a model looks, never for training it, and :func:`box_cells` says which cells of an
attention grid that place overlaps.
"""

from __future__ import annotations

import functools
import numbers
from typing import NamedTuple

import numpy as np

from attncourse.data.arguments import _check_integer

__all__ = ["ClutteredDigits", "DIGIT_SIZE", "box_cells", "cluttered_digits"]

DIGIT_SIZE = 8  # scikit-learn's digits are 8 x 8 pixels
# The source digits are split once, with this fixed seed, so that training and test
# canvases never share a digit image, whatever seed draws the canvases.
_DIGIT_SPLIT_SEED = 1797


class ClutteredDigits(NamedTuple):
    """Canvases made by :func:`cluttered_digits`.

    Attributes:
        images: float32 array ``(n, canvas_size, canvas_size, 1)`` of grey levels in [0, 1].
        labels: int64 array ``(n,)``, the class 0-9 of each canvas's digit.
        boxes: int64 array ``(n, 4)``, the digit's box in pixels as
            ``(top, left, height, width)``.
    """

    images: np.ndarray
    labels: np.ndarray
    boxes: np.ndarray


@functools.lru_cache(maxsize=2)
def _digit_split(test_fraction):
    """The 8x8 digits as float32 in [0, 1], with labels, split into (train, test)."""
    # Imported here, not at the top: scikit-learn (with SciPy) takes about a second to
    # import, and only chapter 1 needs its digits.
    try:
        from sklearn.datasets import load_digits
    except ImportError as error:  # pragma: no cover - scikit-learn ships with Colab
        raise ImportError(
            "cluttered_digits needs scikit-learn for its bundled 8x8 digits: pip install scikit-learn"
        ) from error
    digits = load_digits()
    images = (digits.images / digits.images.max()).astype("float32")
    order = np.random.default_rng(_DIGIT_SPLIT_SEED).permutation(len(images))
    n_test = int(round(test_fraction * len(images)))
    test, train = order[:n_test], order[n_test:]
    return (images[train], digits.target[train]), (images[test], digits.target[test])


def cluttered_digits(count, *, canvas_size=32, fragments=6, fragment_size=4, split="train",
                     test_fraction=0.25, seed=0):
    """Canvases with one 8x8 digit at a random place among fragments of other digits.

    Each canvas is black; ``fragments`` random ``fragment_size`` squares cut from random
    digits are scattered over it (overlapping fragments keep the brighter pixel), then the
    digit is pasted at a uniformly random place, over whatever clutter was there. The
    fragments are pieces of real digits, so a model cannot tell the digit from the clutter
    by its strokes alone; it has to find the one complete digit.

    Args:
        count: the number of canvases.
        canvas_size: the side of the square canvas in pixels, at least 8.
        fragments: the number of clutter fragments per canvas (0 for a clean canvas).
        fragment_size: the side of a fragment in pixels, 1 to 8.
        split: ``"train"`` or ``"test"``: which digit images (and clutter) to use. The
            1797 digits are split once, the same way for every ``seed``, so test canvases
            show digits that no training canvas contains.
        test_fraction: the share of the digit images kept for ``"test"``, in (0, 1).
        seed: seeds the places, the digits and the clutter.

    Returns:
        A :class:`ClutteredDigits` of ``images`` ``(count, canvas_size, canvas_size, 1)``,
        ``labels`` ``(count,)`` and ``boxes`` ``(count, 4)`` as (top, left, height, width).

    Raises:
        ValueError: a count, size or fraction out of range, or an unknown split.
    """
    _check_integer("count", count, 1)
    _check_integer("canvas_size", canvas_size, DIGIT_SIZE)
    _check_integer("fragments", fragments, 0)
    _check_integer("fragment_size", fragment_size, 1)
    if fragment_size > DIGIT_SIZE:
        raise ValueError(f"fragment_size must be at most the digit size {DIGIT_SIZE}, got {fragment_size}")
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    if not (isinstance(test_fraction, numbers.Real) and 0.0 < test_fraction < 1.0):
        raise ValueError(f"test_fraction must be a number strictly between 0 and 1, got {test_fraction!r}")
    train, test = _digit_split(float(test_fraction))
    digit_images, digit_labels = train if split == "train" else test

    rng = np.random.default_rng(seed)
    # Every random choice is drawn up front, in arrays: the loop below only pastes.
    chosen = rng.integers(0, len(digit_images), size=count)
    tops, lefts = rng.integers(0, canvas_size - DIGIT_SIZE + 1, size=(2, count))
    clutter_sources = rng.integers(0, len(digit_images), size=(count, fragments))
    cut_rows, cut_cols = rng.integers(0, DIGIT_SIZE - fragment_size + 1, size=(2, count, fragments))
    clutter_rows, clutter_cols = rng.integers(0, canvas_size - fragment_size + 1, size=(2, count, fragments))

    images = np.zeros((count, canvas_size, canvas_size), dtype="float32")
    for n in range(count):
        canvas = images[n]
        for f in range(fragments):
            piece = digit_images[clutter_sources[n, f]][
                cut_rows[n, f]:cut_rows[n, f] + fragment_size, cut_cols[n, f]:cut_cols[n, f] + fragment_size]
            window = canvas[clutter_rows[n, f]:clutter_rows[n, f] + fragment_size,
                            clutter_cols[n, f]:clutter_cols[n, f] + fragment_size]
            np.maximum(window, piece, out=window)
        canvas[tops[n]:tops[n] + DIGIT_SIZE, lefts[n]:lefts[n] + DIGIT_SIZE] = digit_images[chosen[n]]

    boxes = np.stack([tops, lefts, np.full(count, DIGIT_SIZE), np.full(count, DIGIT_SIZE)], axis=1)
    return ClutteredDigits(images[..., None], digit_labels[chosen].astype("int64"), boxes.astype("int64"))


def box_cells(boxes, cell_size, grid_shape):
    """Which cells of a grid over the canvas each box overlaps, even by one pixel.

    Cell ``(r, c)`` covers the pixels ``[r * cell_size, (r + 1) * cell_size)`` down and
    ``[c * cell_size, (c + 1) * cell_size)`` across. Counting every overlapped cell (not
    only the cells inside the box) is the honest rule for scoring attention on a grid: the
    attention cannot be finer than a cell, and the box's share of the grid is the share of
    these cells, usually larger than the box's share of the pixels.

    Args:
        boxes: integers ``(n, 4)`` (or one box ``(4,)``) as (top, left, height, width)
            in pixels, height and width at least 1.
        cell_size: the side of a cell in pixels (the canvas size divided by the grid size).
        grid_shape: ``(rows, cols)`` of the grid.

    Returns:
        Booleans ``(n, rows, cols)`` (or ``(rows, cols)`` for one box), True where the box
        overlaps the cell.

    Raises:
        ValueError: boxes of the wrong shape, an empty box, or a non-positive cell size.
    """
    boxes = np.asarray(boxes)
    single = boxes.ndim == 1
    boxes = np.atleast_2d(boxes)
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f"boxes must have shape (n, 4) as (top, left, height, width), got shape {boxes.shape}")
    if np.any(boxes[:, 2:] < 1):
        raise ValueError("every box needs a height and width of at least 1 pixel")
    _check_integer("cell_size", cell_size, 1)
    rows, cols = grid_shape
    top, left, height, width = (boxes[:, k, None] for k in range(4))
    row_starts = np.arange(rows)[None, :] * cell_size
    col_starts = np.arange(cols)[None, :] * cell_size
    # Two intervals [a, a + s) and [b, b + t) overlap when a < b + t and b < a + s.
    rows_hit = (row_starts < top + height) & (top < row_starts + cell_size)  # (n, rows)
    cols_hit = (col_starts < left + width) & (left < col_starts + cell_size)  # (n, cols)
    hit = rows_hit[:, :, None] & cols_hit[:, None, :]
    return hit[0] if single else hit
