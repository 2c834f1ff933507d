"""Vocabularies and padding: words to token ids and back, and padded arrays of ids.

Every data set of the course turns words into ids with a :class:`Vocabulary`. Ids 0, 1
and 2 are reserved in every vocabulary: :data:`PAD` (0, so that
``keras.layers.Embedding(mask_zero=True)`` masks padding), :data:`START` and :data:`END`.

- :class:`Vocabulary`: an ordered list of tokens, a token's id being its position;
- :data:`UNKNOWN`, :func:`word_vocabulary` and :func:`encode_words`: the vocabulary of
  the most frequent words of a real text, where every other word becomes ``<unk>``;
- :func:`pad`: sequences of ids stacked into one int32 array, padded with :data:`PAD`.
"""

from __future__ import annotations

import numbers

import numpy as np

from attncourse.data.arguments import _check_integer

__all__ = ["END", "PAD", "START", "UNKNOWN", "Vocabulary", "encode_words", "pad", "word_vocabulary"]

# Reserved ids, identical in every vocabulary. PAD is 0 so that
# `keras.layers.Embedding(mask_zero=True)` masks padding.
PAD, START, END = 0, 1, 2
_RESERVED_TOKENS = ("<pad>", "<start>", "<end>")

UNKNOWN = "<unk>"  # the token that stands for every word outside a real-text vocabulary


class Vocabulary:
    """An ordered list of tokens; a token's id is its position.

    Ids 0, 1, 2 are always ``<pad>``, ``<start>`` and ``<end>`` (:data:`PAD`,
    :data:`START`, :data:`END`); the real words follow in the order given.

    Args:
        words: the real words, distinct, none of them a reserved token.

    Raises:
        ValueError: a word is repeated, empty, or a reserved token.

    Example:
        >>> vocab = Vocabulary(["the", "dog", "runs"])
        >>> vocab.encode("the dog runs")
        array([3, 4, 5], dtype=int32)
        >>> vocab.decode([1, 3, 4, 5, 2, 0, 0])
        ['the', 'dog', 'runs']
    """

    def __init__(self, words):
        words = tuple(str(word) for word in words)
        reserved = [word for word in words if word in _RESERVED_TOKENS]
        if reserved:
            raise ValueError(f"the reserved tokens {_RESERVED_TOKENS} cannot be words; got {reserved}")
        if any(not word or word != word.strip() or " " in word for word in words):
            raise ValueError("words must be non-empty and contain no spaces")
        if len(set(words)) != len(words):
            repeated = sorted({word for word in words if words.count(word) > 1})
            raise ValueError(f"words must be distinct; repeated: {repeated[:10]}")
        self._tokens = _RESERVED_TOKENS + words
        self._ids = {token: index for index, token in enumerate(self._tokens)}

    @property
    def tokens(self):
        """All tokens in id order, reserved ones first (a tuple of str)."""
        return self._tokens

    @property
    def words(self):
        """The real words, in id order (ids 3, 4, ...)."""
        return self._tokens[len(_RESERVED_TOKENS):]

    def __len__(self):
        return len(self._tokens)

    def __iter__(self):
        return iter(self._tokens)

    def __contains__(self, word):
        return word in self._ids

    def __eq__(self, other):
        return isinstance(other, Vocabulary) and self._tokens == other._tokens

    def __hash__(self):
        return hash(self._tokens)

    def __repr__(self):
        shown = ", ".join(self.words[:5])
        more = ", ..." if len(self.words) > 5 else ""
        return f"Vocabulary({len(self)} tokens: <pad>, <start>, <end>, {shown}{more})"

    def token(self, token_id):
        """The token with id ``token_id``.

        Raises:
            ValueError: no token has that id.
        """
        if not isinstance(token_id, numbers.Integral) or not 0 <= token_id < len(self._tokens):
            raise ValueError(f"token id must be an integer in [0, {len(self._tokens) - 1}], got {token_id!r}")
        return self._tokens[int(token_id)]

    def id(self, word):
        """The id of ``word``.

        Raises:
            ValueError: the word is not in the vocabulary.
        """
        try:
            return self._ids[word]
        except (KeyError, TypeError):
            raise ValueError(f"{word!r} is not in the vocabulary") from None

    def encode(self, words):
        """Token ids of ``words`` (no START or END is added).

        Args:
            words: a list of words, or one string of words separated by spaces.

        Returns:
            A 1-D int32 NumPy array.

        Raises:
            ValueError: a word is not in the vocabulary.
        """
        if isinstance(words, str):
            words = words.split()
        return np.array([self.id(word) for word in words], dtype=np.int32)

    def decode(self, ids):
        """Words of a sequence of ids: stops at the first END, drops PAD and START.

        Args:
            ids: a 1-D sequence of token ids (a list or NumPy array), e.g. a model's
                output or a padded row.

        Returns:
            A list of str.

        Raises:
            ValueError: ``ids`` is not 1-D, or an id is out of range.
        """
        ids = np.asarray(ids)
        if ids.ndim != 1:
            raise ValueError(f"decode expects a 1-D sequence of ids, got shape {ids.shape}")
        words = []
        for token_id in ids.tolist():
            if token_id == END:
                break
            if token_id in (PAD, START):
                continue
            words.append(self.token(token_id))
        return words


# ----------------------------------------------------------------------------- real-text vocabularies


def word_vocabulary(tokens, max_size=None):
    """The ``max_size`` most frequent tokens, after :data:`UNKNOWN`, as a :class:`Vocabulary`.

    The one vocabulary builder of the real-text loaders (reviews, sentence pairs, Python's
    documentation).

    Args:
        tokens: an iterable of str.
        max_size: the most words to keep besides :data:`UNKNOWN` (which gets id 3);
            ``None`` keeps them all.

    Returns:
        A :class:`Vocabulary`: ``<unk>``, then the words, most frequent first (ties in
        alphabetical order, so the result does not depend on the order of the tokens).

    Raises:
        ValueError: ``max_size`` is given and is not a positive integer.
    """
    if max_size is not None:
        max_size = _check_integer("max_size", max_size, 1)
    counts = {}
    for token in tokens:
        counts[token] = counts.get(token, 0) + 1
    counts.pop(UNKNOWN, None)
    for reserved in _RESERVED_TOKENS:
        counts.pop(reserved, None)
    ranked = sorted(counts, key=lambda word: (-counts[word], word))
    return Vocabulary([UNKNOWN, *ranked[:max_size]])


def encode_words(vocabulary, tokens):
    """Word ids of ``tokens``; a token the vocabulary lacks becomes :data:`UNKNOWN`.

    Args:
        vocabulary: a :class:`Vocabulary` that holds :data:`UNKNOWN`.
        tokens: a sequence of str.

    Returns:
        A 1-D int32 array, one id per token.

    Raises:
        ValueError: the vocabulary has no :data:`UNKNOWN`.
    """
    if UNKNOWN not in vocabulary:
        raise ValueError(f"the vocabulary must contain {UNKNOWN!r} for the words it does not know")
    unknown = vocabulary.id(UNKNOWN)
    ids = [vocabulary.id(token) if token in vocabulary else unknown for token in tokens]
    return np.array(ids, dtype=np.int32)


# ----------------------------------------------------------------------------- padding


def pad(sequences, length=None, value=PAD):
    """Stack 1-D sequences into a 2-D int32 array, padding at the end.

    Args:
        sequences: a list of 1-D sequences of ints.
        length: number of columns; defaults to the longest sequence.
        value: the padding id (0, so ``Embedding(mask_zero=True)`` masks it).

    Returns:
        An int32 array of shape ``(len(sequences), length)``.

    Raises:
        ValueError: a sequence is longer than ``length`` (nothing is ever truncated),
            a sequence is not 1-D, ``length`` is negative, or ``sequences`` is empty
            and no ``length`` is given.
    """
    sequences = [np.asarray(sequence) for sequence in sequences]
    for k, sequence in enumerate(sequences):
        if sequence.ndim != 1:
            raise ValueError(f"sequence {k} must be 1-D, got shape {sequence.shape}")
    longest = max((len(sequence) for sequence in sequences), default=None)
    if length is None:
        if longest is None:
            raise ValueError("pad needs at least one sequence, or an explicit length")
        length = longest
    length = _check_integer("length", length, 0)
    if longest is not None and longest > length:
        k = next(k for k, sequence in enumerate(sequences) if len(sequence) > length)
        raise ValueError(
            f"sequence {k} has {len(sequences[k])} tokens, more than length={length}; "
            "pad never truncates: raise length or drop the long sequences"
        )
    padded = np.full((len(sequences), length), value, dtype=np.int32)
    for k, sequence in enumerate(sequences):
        padded[k, : len(sequence)] = sequence
    return padded
