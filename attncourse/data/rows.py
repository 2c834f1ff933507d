"""Data sets indexed by rows: picking examples by index or mask, and the train/test split.

A data set of the course holds its examples as rows: one row per example in each array
field (:class:`~attncourse.data.documents.Documents`,
:class:`~attncourse.data.cues.PlantedCues`, through :class:`_ArrayRows`), or one entry per
sentence pair in each list (the pairs of :mod:`attncourse.data.pairs`). Either way
``len(data)`` counts the examples and ``data.subset(indices)`` keeps some of them, with
:func:`_row_indices` checking the indices, so that :func:`split` shuffles any of them into
a training and a test set.
"""

from __future__ import annotations

import dataclasses
import numbers

import numpy as np

from attncourse.data.arguments import _check_integer

__all__ = ["split"]


def _row_indices(indices, n):
    """``indices`` (ints or a boolean mask over n rows) as an int64 array, checked.

    Raises:
        ValueError: a boolean mask of the wrong length.
        IndexError: an index out of range.
    """
    indices = np.asarray(indices)
    if indices.dtype == bool:
        if indices.shape != (n,):
            raise ValueError(f"a boolean mask needs shape ({n},), got {indices.shape}")
        indices = np.flatnonzero(indices)
    indices = indices.astype(np.int64).reshape(-1)
    if indices.size and not (-n <= indices.min() and indices.max() < n):
        raise IndexError(f"indices must be in [{-n}, {n - 1}]")
    return indices


class _ArrayRows:
    """Indexing for the data classes whose array fields hold one row per example.

    ``len(data)``, ``data[3]``, ``data[2:5]``, ``data[mask]`` and ``data.subset(indices)``
    all give a copy holding the chosen rows of every field named in ``_row_fields``, so
    :func:`split` works on the class.
    """

    _row_fields = ()

    def __len__(self):
        return len(getattr(self, self._row_fields[0]))

    def __getitem__(self, index):
        if isinstance(index, numbers.Integral):
            index = [index]
        if isinstance(index, slice):
            index = range(len(self))[index]
        return self.subset(index)

    def subset(self, indices):
        """The rows at ``indices`` (ints or a boolean mask), in that order."""
        rows = _row_indices(indices, len(self))
        return dataclasses.replace(self, **{name: getattr(self, name)[rows] for name in self._row_fields})


def split(data, test_fraction=0.2, seed=0):
    """Shuffle the examples (pairs, documents, sentences) and split them into training and test sets.

    Args:
        data: a data set indexed by rows: a
            :class:`~attncourse.data.toy_language.ToyTranslation`, a
            :class:`~attncourse.data.sentence_pairs.SentencePairs`, a
            :class:`~attncourse.data.documents.Documents` or a
            :class:`~attncourse.data.cues.PlantedCues` (anything with ``len`` and
            ``subset``).
        test_fraction: share of examples in the test set, strictly between 0 and 1; the
            test set gets ``round(test_fraction * len(data))`` examples.
        seed: seed of the shuffle.

    Returns:
        ``(train, test)``, two data sets of the class of ``data`` that together hold
        every example exactly once.

    Raises:
        ValueError: ``test_fraction`` outside (0, 1), or a split that leaves either
            side empty.
    """
    if not isinstance(test_fraction, numbers.Real) or not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be a number strictly between 0 and 1, got {test_fraction!r}")
    seed = _check_integer("seed", seed, 0)
    n_test = int(round(test_fraction * len(data)))
    if not 0 < n_test < len(data):
        raise ValueError(
            f"test_fraction={test_fraction} of {len(data)} pairs gives {n_test} test pairs; "
            "both sides need at least one pair"
        )
    order = np.random.default_rng(seed).permutation(len(data))
    return data.subset(order[n_test:]), data.subset(order[:n_test])
