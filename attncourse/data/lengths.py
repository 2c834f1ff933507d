"""Sentence-length buckets: accuracy against sentence length (Bahdanau et al. 2015, Fig. 2).

:func:`length_buckets` puts each sentence in a bucket of lengths and
:func:`bucket_labels` names the buckets (``"3–10"``, ``"11–20"``, ...), so that a score
can be shown per bucket, as the course's ``accuracy_by_length`` does.
"""

from __future__ import annotations

import numpy as np

__all__ = ["bucket_labels", "length_buckets"]


def _check_edges(edges):
    edges = np.asarray(edges)
    if edges.ndim != 1 or len(edges) < 2:
        raise ValueError(f"edges must be a 1-D list of at least two lengths, got {edges.tolist()!r}")
    if not np.issubdtype(edges.dtype, np.integer):
        raise ValueError(f"edges must be integers (sentence lengths), got {edges.tolist()!r}")
    if np.any(np.diff(edges) <= 0):
        raise ValueError(f"edges must be strictly increasing, got {edges.tolist()}")
    return edges


def length_buckets(lengths, edges):
    """The length bucket of each sentence.

    With edges ``e0 < e1 < ... < eB`` there are ``B`` buckets: bucket 0 holds lengths
    ``e0 .. e1`` (both ends included) and bucket ``b > 0`` holds lengths
    ``e_b + 1 .. e_{b+1}``. Each edge after the first is the longest length of its
    bucket, so ``edges=(3, 10, 20, 30, 40)`` gives the buckets 3-10, 11-20, 21-30 and
    31-40 (see :func:`bucket_labels`).

    Args:
        lengths: sentence lengths (a sequence of ints).
        edges: strictly increasing integers, at least two.

    Returns:
        A 1-D int64 array of bucket indices, one per length.

    Raises:
        ValueError: bad edges, or a length outside ``[e0, eB]`` (no sentence is silently
            dropped).
    """
    edges = _check_edges(edges)
    lengths = np.asarray(lengths)
    if lengths.ndim != 1:
        raise ValueError(f"lengths must be 1-D, got shape {lengths.shape}")
    outside = (lengths < edges[0]) | (lengths > edges[-1])
    if np.any(outside):
        raise ValueError(
            f"length {lengths[outside][0]} is outside the buckets {edges[0]}..{edges[-1]}; widen the edges"
        )
    return np.maximum(np.searchsorted(edges, lengths, side="left") - 1, 0).astype(np.int64)


def bucket_labels(edges):
    """Readable labels of the buckets of :func:`length_buckets`, e.g. ``"3–10"``.

    A bucket holding a single length is labelled by that length alone.

    Args:
        edges: the same edges as for :func:`length_buckets`.

    Returns:
        A list of ``len(edges) - 1`` str.
    """
    edges = _check_edges(edges).tolist()
    lows = [edges[0]] + [edge + 1 for edge in edges[1:-1]]
    return [f"{low}" if low == high else f"{low}–{high}" for low, high in zip(lows, edges[1:])]
