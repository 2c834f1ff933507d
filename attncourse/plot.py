"""Pictures of attention: heatmaps, single distributions, image maps and metric curves.

Matplotlib only. Every function draws on ``ax`` when given (so figures can be composed
with ``plt.subplots``), otherwise on a new figure, and returns the Axes. Every figure
gets a title and labelled axes; weights are drawn on a fixed 0–1 colour scale so that
two heatmaps can be compared by eye.
"""

import numbers

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

__all__ = ["attention", "metric_by_length", "weights_1d", "image_attention"]

GOLD_COLOR = "red"


def _new_axes(ax, figsize):
    if ax is not None:
        return ax
    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _tokens(name, tokens):
    if isinstance(tokens, str):
        raise ValueError(f"{name}: expected a list of tokens, received the string {tokens!r}")
    return [str(token) for token in tokens]


def _gold_links(gold, steps_target, steps_source):
    """Gold alignment as a sorted list of (target position, source position) links.

    ``gold`` is either a collection of ``(target, source)`` pairs (a set, or an array of
    shape (n, 2)), or a 1-D array with one source position per target word, where a
    negative position means "aligned to nothing".
    """
    if isinstance(gold, (set, frozenset)):
        gold = sorted(gold)
    array = np.asarray(gold)
    if array.size == 0:
        return []
    if not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"gold: expected integer positions, received dtype {array.dtype}")
    if array.ndim == 1:
        if array.shape[0] != steps_target:
            raise ValueError(
                f"gold: expected one source position per target word, {steps_target} of them, "
                f"received {array.shape[0]}"
            )
        links = [(i, int(j)) for i, j in enumerate(array) if j >= 0]
    elif array.ndim == 2 and array.shape[1] == 2:
        links = sorted({(int(i), int(j)) for i, j in array})
    else:
        raise ValueError(
            "gold: expected (target, source) links of shape (n, 2) or one source position "
            f"per target word of shape (T_q,), received shape {array.shape}"
        )
    for i, j in links:
        if not (0 <= i < steps_target and 0 <= j < steps_source):
            raise ValueError(
                f"gold: expected links inside the {steps_target} x {steps_source} weights "
                f"(target, source), received the link {(i, j)}"
            )
    return links


def attention(weights, source_tokens, target_tokens, ax=None, title="Attention weights", gold=None, cmap="viridis"):
    """Heatmap of cross-attention weights, one row per target word.

    Args:
        weights: α, shape (T_q, T_v): rows are target (query) words, columns source words.
        source_tokens: the T_v source tokens (column labels).
        target_tokens: the T_q target tokens (row labels).
        ax: the Axes to draw on; a new figure when ``None``.
        title: the title of the plot.
        gold: optional ground-truth alignment drawn as outlined squares: a set of
            ``(target, source)`` position pairs, an array of such pairs of shape (n, 2),
            or a 1-D array with the source position of each target word (negative =
            unaligned).
        cmap: the colour map; the scale is fixed to [0, 1].

    Returns:
        The Axes.

    Raises:
        ValueError: weights are not 2-D, their shape does not match the token lists, or
            a gold link falls outside the matrix.
    """
    weights = np.asarray(weights, dtype=float)
    source_tokens = _tokens("source_tokens", source_tokens)
    target_tokens = _tokens("target_tokens", target_tokens)
    expected = (len(target_tokens), len(source_tokens))
    if weights.ndim != 2 or weights.shape != expected:
        raise ValueError(
            f"weights: expected shape (len(target_tokens), len(source_tokens)) = {expected}, "
            f"received shape {weights.shape}"
        )
    links = [] if gold is None else _gold_links(gold, *expected)
    steps_target, steps_source = expected

    ax = _new_axes(ax, figsize=(max(4.5, 2.0 + 0.35 * steps_source), max(3.0, 1.5 + 0.35 * steps_target)))
    image = ax.imshow(weights, cmap=cmap, vmin=0.0, vmax=1.0)
    ax.set_xticks(np.arange(steps_source), labels=source_tokens, rotation=90)
    ax.set_yticks(np.arange(steps_target), labels=target_tokens)
    ax.set_xlabel("source")
    ax.set_ylabel("target")
    # With a gold overlay the legend sits just above the heatmap, so the title moves up.
    ax.set_title(title, pad=18 if links else None)
    ax.figure.colorbar(image, ax=ax, label="attention weight")

    for number, (i, j) in enumerate(links):
        # Cell (i, j) of imshow spans [j - 0.5, j + 0.5] x [i - 0.5, i + 0.5].
        ax.add_patch(
            Rectangle(
                (j - 0.5, i - 0.5), 1.0, 1.0,
                fill=False, edgecolor=GOLD_COLOR, linewidth=1.5, clip_on=False,
                label="gold alignment" if number == 0 else None,
            )
        )
    if links:
        # Above the heatmap, so that the legend hides no cell.
        ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), fontsize="small", frameon=False, borderaxespad=0.2)
    return ax


def metric_by_length(
    lengths,
    series,
    ax=None,
    title="Accuracy by source sentence length",
    ylabel="token accuracy",
    xlabel="source sentence length",
):
    """One line per model of a metric measured per sentence-length bucket.

    Args:
        lengths: the buckets, numbers (e.g. 10, 20, 30) or labels (e.g. "1–10").
        series: a dict ``label -> values``, one value per bucket (NaN for an empty bucket).
        ax: the Axes to draw on; a new figure when ``None``.
        title, ylabel, xlabel: texts of the plot.

    Returns:
        The Axes. The y axis runs from 0 to 1 when every value lies in [0, 1].

    Raises:
        ValueError: no series, or a series whose length differs from ``lengths``.
    """
    lengths = list(lengths)
    if not isinstance(series, dict) or not series:
        raise ValueError(f"series: expected a non-empty dict label -> values, received {series!r}")
    numeric = all(isinstance(length, numbers.Real) for length in lengths)
    positions = np.asarray(lengths, dtype=float) if numeric else np.arange(len(lengths))

    ax = _new_axes(ax, figsize=(6, 4))
    every_value = []
    for label, values in series.items():
        values = np.asarray(values, dtype=float)
        if values.shape != (len(lengths),):
            raise ValueError(
                f"series[{label!r}]: expected one value per length bucket, shape ({len(lengths)},), "
                f"received shape {values.shape}"
            )
        # clip_on=False keeps markers at exactly 0 or 1 whole on the 0-1 axis.
        ax.plot(positions, values, marker="o", label=str(label), clip_on=False)
        every_value.append(values)
    if not numeric:
        ax.set_xticks(positions, labels=[str(length) for length in lengths])

    finite = np.concatenate(every_value)
    finite = finite[np.isfinite(finite)]
    if finite.size and finite.min() >= 0.0 and finite.max() <= 1.0:
        ax.set_ylim(0.0, 1.0)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    ax.legend()
    return ax


def weights_1d(weights, tokens, ax=None, title="Attention weights over the tokens"):
    """Bar plot of one attention distribution over a sequence (pooling attention).

    Args:
        weights: α_t, shape (T,).
        tokens: the T tokens (bar labels).
        ax: the Axes to draw on; a new figure when ``None``.
        title: the title of the plot.

    Returns:
        The Axes.

    Raises:
        ValueError: weights are not 1-D or their length differs from the tokens.
    """
    weights = np.asarray(weights, dtype=float)
    tokens = _tokens("tokens", tokens)
    if weights.shape != (len(tokens),):
        raise ValueError(
            f"weights: expected shape (len(tokens),) = ({len(tokens)},), received shape {weights.shape}"
        )
    ax = _new_axes(ax, figsize=(1.5 + 0.35 * len(tokens), 3))
    positions = np.arange(len(tokens))
    ax.bar(positions, weights)
    ax.set_xticks(positions, labels=tokens, rotation=90)
    ax.set_ylim(bottom=0.0)
    ax.set_title(title)
    ax.set_xlabel("token")
    ax.set_ylabel("attention weight")
    return ax


def image_attention(image, weights_grid, ax=None, title="Attention over the image", alpha=0.5):
    """An attention map over image regions, stretched over the image it attends to.

    The (h, w) grid of weights covers the whole (H, W) image, each weight spread over
    its region; matplotlib upsamples the grid with bilinear interpolation.

    Args:
        image: (H, W) grey levels or (H, W, 3 or 4) colours.
        weights_grid: (h, w) weights, one per image region.
        ax: the Axes to draw on; a new figure when ``None``.
        title: the title of the plot.
        alpha: opacity of the attention map over the image, in [0, 1].

    Returns:
        The Axes.

    Raises:
        ValueError: an image or grid of the wrong rank, or alpha outside [0, 1].
    """
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    if not (image.ndim == 2 or (image.ndim == 3 and image.shape[-1] in (3, 4))):
        raise ValueError(f"image: expected shape (H, W) or (H, W, 3 or 4), received shape {image.shape}")
    weights_grid = np.asarray(weights_grid, dtype=float)
    if weights_grid.ndim != 2:
        raise ValueError(f"weights_grid: expected shape (h, w), received shape {weights_grid.shape}")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha: expected an opacity in [0, 1], received {alpha}")

    height, width = image.shape[:2]
    ax = _new_axes(ax, figsize=(5, 5 * height / width + 0.5))
    ax.imshow(image, cmap="gray" if image.ndim == 2 else None)
    # The same extent as the image: the grid is stretched over every pixel.
    overlay = ax.imshow(
        weights_grid,
        extent=(-0.5, width - 0.5, height - 0.5, -0.5),
        alpha=alpha,
        cmap="inferno",
        vmin=0.0,
        interpolation="bilinear",
    )
    ax.figure.colorbar(overlay, ax=ax, label="attention weight")
    ax.set_title(title)
    ax.set_xlabel("x (pixels)")
    ax.set_ylabel("y (pixels)")
    return ax
