"""Tests of attncourse.data.digits: chapter 1's digits in a cluttered canvas, and the cells a box touches."""

import numpy as np
import pytest
from sklearn.datasets import load_digits

from attncourse.data import DIGIT_SIZE, box_cells, cluttered_digits


def test_cluttered_digits_shapes_ranges_and_boxes():
    canvases = cluttered_digits(50, canvas_size=24, fragments=4, seed=1)
    assert canvases.images.shape == (50, 24, 24, 1) and canvases.images.dtype == np.float32
    assert canvases.labels.shape == (50,) and set(canvases.labels) <= set(range(10))
    assert 0.0 <= canvases.images.min() and canvases.images.max() <= 1.0
    top, left, height, width = canvases.boxes.T
    assert np.all(height == DIGIT_SIZE) and np.all(width == DIGIT_SIZE)
    assert np.all(top >= 0) and np.all(top + height <= 24) and np.all(left >= 0) and np.all(left + width <= 24)
    assert len({(t, l) for t, l in zip(top, left)}) > 10  # the digit moves around


def test_the_box_holds_a_real_digit_and_the_clutter_lies_outside_it():
    digits = load_digits()
    known = {(d / digits.images.max()).astype("float32").tobytes(): label
             for d, label in zip(digits.images, digits.target)}
    clean = cluttered_digits(20, canvas_size=20, fragments=0, seed=2)
    cluttered = cluttered_digits(20, canvas_size=20, fragments=8, seed=2)
    for canvases in (clean, cluttered):
        for image, label, (t, l, h, w) in zip(canvases.images[..., 0], canvases.labels, canvases.boxes):
            assert known[image[t:t + h, l:l + w].tobytes()] == label
    outside = np.ones((20, 20, 20), bool)
    for n, (t, l, h, w) in enumerate(clean.boxes):
        outside[n, t:t + h, l:l + w] = False
    assert clean.images[..., 0][outside].max() == 0.0  # no clutter: black around the digit
    assert cluttered.images[..., 0][outside].max() > 0.0  # clutter: ink around the digit


def test_cluttered_digits_is_seeded_and_train_and_test_use_different_digits():
    a = cluttered_digits(30, seed=5)
    b = cluttered_digits(30, seed=5)
    c = cluttered_digits(30, seed=6)
    assert np.array_equal(a.images, b.images) and np.array_equal(a.boxes, b.boxes)
    assert not np.array_equal(a.images, c.images)

    def digits_in(canvases):
        return {image[t:t + h, l:l + w].tobytes()
                for image, (t, l, h, w) in zip(canvases.images[..., 0], canvases.boxes)}

    train = digits_in(cluttered_digits(400, fragments=0, split="train", seed=0))
    test = digits_in(cluttered_digits(400, fragments=0, split="test", seed=0))
    assert train and test and not (train & test)


@pytest.mark.parametrize("kwargs, message", [
    ({"count": 0}, "count must be at least 1"),
    ({"count": 2, "canvas_size": 6}, "canvas_size must be at least 8"),
    ({"count": 2, "fragment_size": 9}, "fragment_size must be at most"),
    ({"count": 2, "split": "valid"}, "split must be 'train' or 'test'"),
    ({"count": 2, "test_fraction": 1.0}, "test_fraction"),
])
def test_cluttered_digits_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        cluttered_digits(**kwargs)


def test_box_cells_counts_every_cell_the_box_touches():
    # A 4x4 grid of 4-pixel cells. A box aligned with the cells covers exactly 2 x 2 of them.
    aligned = box_cells([4, 8, 8, 8], cell_size=4, grid_shape=(4, 4))
    expected = np.zeros((4, 4), bool)
    expected[1:3, 2:4] = True
    assert np.array_equal(aligned, expected)
    # Shifted by one pixel it straddles the borders: 3 x 3 cells, though its pixels are the same.
    shifted = box_cells(np.array([[5, 1, 8, 8]]), cell_size=4, grid_shape=(4, 4))
    assert shifted.shape == (1, 4, 4)
    expected = np.zeros((4, 4), bool)
    expected[1:4, 0:3] = True
    assert np.array_equal(shifted[0], expected)
    # A box that ends exactly on a cell border does not touch the next cell.
    assert box_cells([0, 0, 4, 1], cell_size=4, grid_shape=(2, 2)).sum() == 1


def test_box_cells_agrees_with_counting_pixels():
    rng = np.random.default_rng(0)
    boxes = np.column_stack([rng.integers(0, 20, (30, 2)), rng.integers(1, 9, (30, 2))])
    cells = box_cells(boxes, cell_size=4, grid_shape=(7, 7))
    for (t, l, h, w), hit in zip(boxes, cells):
        pixels = np.zeros((28, 28), bool)
        pixels[t:t + h, l:l + w] = True
        per_cell = pixels.reshape(7, 4, 7, 4).any(axis=(1, 3))
        assert np.array_equal(hit, per_cell)


def test_box_cells_bad_arguments():
    with pytest.raises(ValueError, match=r"shape \(n, 4\)"):
        box_cells([1, 2, 3], cell_size=4, grid_shape=(2, 2))
    with pytest.raises(ValueError, match="at least 1 pixel"):
        box_cells([0, 0, 0, 4], cell_size=4, grid_shape=(2, 2))
    with pytest.raises(ValueError, match="cell_size must be at least 1"):
        box_cells([0, 0, 2, 2], cell_size=0, grid_shape=(2, 2))
