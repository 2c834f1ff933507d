"""attncourse.plot: every figure is titled and labelled, and wrong shapes are refused."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from attncourse import plot  # noqa: E402

SOURCE = ["the", "black", "cat", "sleeps"]
TARGET = ["le", "chat", "noir", "dort", "."]


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture
def weights():
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(len(TARGET), len(SOURCE)))
    return np.exp(scores) / np.exp(scores).sum(-1, keepdims=True)


def labels(tick_labels):
    return [label.get_text() for label in tick_labels]


def gold_patches(ax):
    return [patch for patch in ax.patches if isinstance(patch, Rectangle) and not patch.get_fill()]


def assert_titled_and_labelled(ax):
    assert ax.get_title()
    assert ax.get_xlabel()
    assert ax.get_ylabel()


def test_attention_heatmap(weights):
    ax = plot.attention(weights, SOURCE, TARGET)
    assert_titled_and_labelled(ax)
    assert ax.get_title() == "Attention weights"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("source", "target")
    assert labels(ax.get_xticklabels()) == SOURCE
    assert labels(ax.get_yticklabels()) == TARGET
    assert all(label.get_rotation() > 0 for label in ax.get_xticklabels())
    (image,) = ax.get_images()
    assert image.get_clim() == (0.0, 1.0)
    np.testing.assert_array_equal(image.get_array(), weights)
    colorbars = [other for other in ax.figure.axes if other is not ax]
    assert [bar.get_ylabel() for bar in colorbars] == ["attention weight"]
    assert gold_patches(ax) == []
    assert ax.get_legend() is None


def test_attention_draws_on_a_given_axes(weights):
    _, (left, right) = plt.subplots(1, 2)
    assert plot.attention(weights, SOURCE, TARGET, ax=right, title="right") is right
    assert right.get_title() == "right" and not left.get_images()


@pytest.mark.parametrize(
    "gold",
    [
        {(0, 0), (1, 2), (2, 1), (3, 3)},  # (target, source) links
        np.array([[0, 0], [1, 2], [2, 1], [3, 3]]),
        np.array([0, 2, 1, 3, -1]),  # one source position per target word, "." unaligned
    ],
    ids=["link-set", "link-array", "positions"],
)
def test_attention_gold_overlay(weights, gold):
    ax = plot.attention(weights, SOURCE, TARGET, gold=gold)
    patches = gold_patches(ax)
    # Rectangle (j - 0.5, i - 0.5) outlines cell (target i, source j).
    cells = sorted((round(p.get_y() + 0.5), round(p.get_x() + 0.5)) for p in patches)
    assert cells == [(0, 0), (1, 2), (2, 1), (3, 3)]
    legend_texts = [text.get_text() for text in ax.get_legend().get_texts()]
    assert legend_texts == ["gold alignment"]


@pytest.mark.parametrize(
    "call",
    [
        lambda w: plot.attention(w, SOURCE, TARGET[:-1]),  # one target token short
        lambda w: plot.attention(w, SOURCE + ["!"], TARGET),
        lambda w: plot.attention(w.T, SOURCE, TARGET),  # rows and columns swapped
        lambda w: plot.attention(w[0], SOURCE, TARGET),  # 1-D weights
        lambda w: plot.attention(w, "the black cat sleeps", TARGET),  # a string, not tokens
        lambda w: plot.attention(w, SOURCE, TARGET, gold={(0, 4)}),  # source position 4 of 4 words
        lambda w: plot.attention(w, SOURCE, TARGET, gold=np.array([0, 1, 2])),  # 3 positions for 5 words
        lambda w: plot.attention(w, SOURCE, TARGET, gold=np.ones((2, 3), dtype=int)),
    ],
    ids=["short-target", "long-source", "transposed", "1-D", "string", "gold-outside", "gold-length", "gold-shape"],
)
def test_attention_refuses_mismatched_shapes(weights, call):
    with pytest.raises(ValueError, match="expected"):
        call(weights)


def test_metric_by_length():
    buckets = [10, 20, 30, 40]
    series = {"no attention": [0.9, 0.7, 0.5, 0.3], "attention": [0.95, 0.94, 0.92, 1.0]}
    ax = plot.metric_by_length(buckets, series)
    assert_titled_and_labelled(ax)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("source sentence length", "token accuracy")
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == list(series)
    assert all(line.get_marker() not in (None, "None", "") for line in lines)
    np.testing.assert_array_equal(lines[0].get_xdata(), buckets)
    np.testing.assert_array_equal(lines[1].get_ydata(), series["attention"])
    assert ax.get_ylim() == (0.0, 1.0)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list(series)
    assert any(line.get_visible() for line in ax.get_xgridlines())


def test_metric_by_length_with_bucket_labels_and_other_units():
    ax = plot.metric_by_length(
        ["1-10", "11-20", "21-30"], {"loss": [2.5, 1.0, np.nan]}, ylabel="loss", title="Loss by length"
    )
    assert labels(ax.get_xticklabels()) == ["1-10", "11-20", "21-30"]
    assert ax.get_ylabel() == "loss" and ax.get_title() == "Loss by length"
    assert ax.get_ylim()[1] > 2.5  # not squeezed into [0, 1]


@pytest.mark.parametrize(
    "series", [{}, {"model": [0.5, 0.6]}, {"model": [[0.5, 0.6, 0.7]]}], ids=["empty", "short", "2-D"]
)
def test_metric_by_length_refuses_bad_series(series):
    with pytest.raises(ValueError, match="expected"):
        plot.metric_by_length([10, 20, 30], series)


def test_weights_1d():
    tokens = ["a", "movie", "so", "good"]
    weights = np.array([0.1, 0.2, 0.1, 0.6])
    ax = plot.weights_1d(weights, tokens)
    assert_titled_and_labelled(ax)
    assert labels(ax.get_xticklabels()) == tokens
    np.testing.assert_allclose([bar.get_height() for bar in ax.patches], weights)
    assert ax.get_ylim()[0] == 0.0
    with pytest.raises(ValueError, match="expected"):
        plot.weights_1d(weights[:3], tokens)
    with pytest.raises(ValueError, match="expected"):
        plot.weights_1d(np.ones((2, 4)), tokens)


@pytest.mark.parametrize("image_shape", [(24, 32), (24, 32, 3), (24, 32, 1)])
def test_image_attention(image_shape):
    image = np.random.default_rng(0).random(image_shape)
    grid = np.arange(12.0).reshape(3, 4) / 66
    ax = plot.image_attention(image, grid, alpha=0.4)
    assert_titled_and_labelled(ax)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("x (pixels)", "y (pixels)")
    picture, overlay = ax.get_images()
    # the 3 x 4 grid is stretched over the whole 24 x 32 image
    assert overlay.get_extent() == picture.get_extent()
    assert overlay.get_alpha() == 0.4
    np.testing.assert_array_equal(overlay.get_array(), grid)


@pytest.mark.parametrize(
    "image, grid, alpha",
    [(np.ones(5), np.ones((2, 2)), 0.5), (np.ones((4, 4, 2)), np.ones((2, 2)), 0.5),
     (np.ones((4, 4)), np.ones(4), 0.5), (np.ones((4, 4)), np.ones((2, 2)), 1.5)],
    ids=["1-D image", "2 channels", "1-D grid", "alpha"],
)
def test_image_attention_refuses_bad_inputs(image, grid, alpha):
    with pytest.raises(ValueError, match="expected"):
        plot.image_attention(image, grid, alpha=alpha)
