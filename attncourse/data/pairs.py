"""Sentence pairs held as lists of token ids, and the padded arrays a translator fits on.

The toy translation task (:mod:`attncourse.data.toy_language`) and the real sentence
pairs of appendix A (:mod:`attncourse.data.sentence_pairs`) both hold a corpus as lists of
1-D id arrays, one per sentence: ``source``, ``target`` and, for the toy task only, the
gold ``alignment``. :class:`_PairLists` gives them the same indexing (``pairs[k]`` is a
:class:`Pair`) and lengths, and :func:`seq2seq_arrays` pads them into the arrays a
teacher-forced encoder-decoder fits on.
"""

from __future__ import annotations

import dataclasses
import numbers
from typing import NamedTuple

import numpy as np

from attncourse.data.rows import _row_indices
from attncourse.data.vocabulary import END, START, pad

__all__ = ["Pair", "seq2seq_arrays"]


class Pair(NamedTuple):
    """One sentence pair: token ids of both sides and the gold alignment.

    ``alignment[i]`` is the source position that target word ``i`` translates.
    """

    source: np.ndarray
    target: np.ndarray
    alignment: np.ndarray


class _PairLists:
    """Indexing and lengths for collections of sentence pairs held as lists of id arrays.

    ``len(pairs)``, ``pairs[k]`` (a :class:`Pair`), ``pairs[a:b]``, ``pairs[[k1, k2]]``,
    ``pairs[mask]`` and ``pairs.subset(indices)`` work alike for every subclass; the lists
    named in ``_list_fields`` are cut together.
    """

    _list_fields = ("source", "target")

    def __len__(self):
        return len(self.source)

    def __iter__(self):
        for k in range(len(self)):
            yield self[k]

    def __getitem__(self, index):
        if isinstance(index, numbers.Integral):
            k = int(index)
            if not -len(self) <= k < len(self):
                raise IndexError(f"pair index {k} out of range for {len(self)} pairs")
            alignment = None if self.alignment is None else self.alignment[k]
            return Pair(self.source[k], self.target[k], alignment)
        if isinstance(index, slice):
            return self.subset(range(len(self))[index])
        return self.subset(index)

    def subset(self, indices):
        """The pairs at ``indices`` (ints or a boolean mask), in that order, as the same class.

        Raises:
            ValueError: a boolean mask of the wrong length.
            IndexError: an index out of range.
        """
        picked = _row_indices(indices, len(self)).tolist()
        return dataclasses.replace(
            self, **{name: [getattr(self, name)[k] for k in picked] for name in self._list_fields}
        )

    @property
    def source_lengths(self):
        """Number of tokens of each source sentence (1-D int array)."""
        return np.array([len(s) for s in self.source], dtype=np.int64)

    @property
    def target_lengths(self):
        """Number of tokens of each target sentence (1-D int array)."""
        return np.array([len(t) for t in self.target], dtype=np.int64)

    def words(self, index):
        """Pair ``index`` as tokens: ``(source_tokens, target_tokens)``, two lists of str."""
        pair = self[index]
        return self.source_vocab.decode(pair.source), self.target_vocab.decode(pair.target)


def seq2seq_arrays(data, source_length=None, target_length=None):
    """The padded arrays a teacher-forced encoder-decoder fits on.

    For a target sentence ``y1 .. yn`` the decoder reads ``START y1 .. yn`` and must
    predict ``y1 .. yn END``: at step ``i`` it sees the true previous word (teacher
    forcing). Padding is 0, so ``Embedding(mask_zero=True)`` masks it, and a loss
    computed with that mask ignores the padded steps.

    Args:
        data: a :class:`~attncourse.data.toy_language.ToyTranslation` or a
            :class:`~attncourse.data.sentence_pairs.SentencePairs` (or any object with
            ``source`` and ``target`` lists of 1-D id arrays).
        source_length: columns of the source array; defaults to the longest source.
        target_length: columns of both decoder arrays, counting the START or END
            token; defaults to the longest target plus one.

    Returns:
        A dict of int32 arrays: ``"source"`` ``(n, source_length)``,
        ``"decoder_input"`` and ``"decoder_target"`` ``(n, target_length)``.

    Raises:
        ValueError: a sentence does not fit the requested length.
    """
    decoder_input = [np.concatenate([[START], target]) for target in data.target]
    decoder_target = [np.concatenate([target, [END]]) for target in data.target]
    return {
        "source": pad(data.source, source_length),
        "decoder_input": pad(decoder_input, target_length),
        "decoder_target": pad(decoder_target, target_length),
    }
