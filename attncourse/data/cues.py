"""Chapter 6's planted cues: chatter with cue words planted at random places.

Chapter 6 pools a sentence into a few vectors with several attention hops. Its sentences
are chatter with cue words planted at random places (:func:`planted_cues`), and the label
names the set of cues present, so a model has to find every cue, wherever it is, and only
the cues' positions (never given to the model) tell afterwards where the hops should have
looked.
"""

from __future__ import annotations

import dataclasses
import numbers

import numpy as np

from attncourse.data.arguments import _check_integer
from attncourse.data.rows import _ArrayRows
from attncourse.data.vocabulary import PAD, Vocabulary

__all__ = ["CHATTER_WORDS", "PlantedCues", "WEATHER_CUES", "planted_cues"]

WEATHER_CUES = ("rain", "wind", "snow")
CHATTER_WORDS = tuple(
    (
        "the a and then we they it was is were today yesterday in on at by of to from some very "
        "quite just also more people town road market said think that this there morning evening "
        "later after before around"
    ).split()
)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class PlantedCues(_ArrayRows):
    """Sentences of filler words with cue words planted at random places (see :func:`planted_cues`).

    Attributes:
        ids: int32 array ``(n, max_length)`` of word ids, padded with 0 after the last word.
        labels: int64 array ``(n,)``: the set of cues present as a number, bit ``k`` set
            when cue ``k`` is in the sentence, ``labels = Σ_k present_k 2^k``.
        cue_positions: int64 array ``(n, n_cues)``, the position of cue ``k`` in each
            sentence, or -1 where the sentence does not hold it.
        vocabulary: the :class:`Vocabulary` of the ids (filler words first, then the cues).
        cue_words: the cue words, in bit order.

    ``len(cues)`` is the number of sentences and ``cues.subset(indices)`` (or
    ``cues[indices]``) keeps some of them, so :func:`split` works on them too.
    """

    ids: np.ndarray
    labels: np.ndarray
    cue_positions: np.ndarray
    vocabulary: Vocabulary
    cue_words: tuple
    _row_fields = ("ids", "labels", "cue_positions")

    @property
    def n_classes(self):
        """The number of possible labels, ``2 ** n_cues`` (every subset of the cues)."""
        return 2 ** len(self.cue_words)

    @property
    def present(self):
        """Booleans ``(n, n_cues)``, True where the sentence holds the cue."""
        return self.cue_positions >= 0

    @property
    def lengths(self):
        """The number of words of each sentence (1-D int array)."""
        return np.sum(self.ids != PAD, axis=1)

    def words(self, index):
        """Sentence ``index`` as a list of words (no padding)."""
        return [self.vocabulary.token(int(token)) for token in self.ids[index] if token != PAD]

    def label_name(self, label):
        """The cues a label stands for, e.g. ``"rain + snow"``, or ``"no cue"`` for 0."""
        label = _check_integer("label", label, 0)
        if label >= self.n_classes:
            raise ValueError(f"label must be below {self.n_classes} for {len(self.cue_words)} cues, got {label}")
        names = [word for k, word in enumerate(self.cue_words) if label >> k & 1]
        return " + ".join(names) if names else "no cue"

    def __repr__(self):
        n, max_length = self.ids.shape
        return (
            f"PlantedCues({n} sentences of up to {max_length} words, cues {list(self.cue_words)}, "
            f"{len(self.vocabulary)} tokens)"
        )


def planted_cues(
    n_sentences,
    *,
    cue_words=WEATHER_CUES,
    filler_words=CHATTER_WORDS,
    min_length=8,
    max_length=16,
    cue_rate=0.5,
    seed=0,
):
    """Sentences of filler words in which each cue word appears, or not, at a random place.

    A sentence has ``min_length`` to ``max_length`` words (uniform). Each cue word is in
    it with probability ``cue_rate``, independently of the others, at a random position;
    the cues never share a position, and every other word is a filler drawn uniformly.
    The label is the set of cues present, written as a number (bit ``k`` for cue ``k``):
    with the three weather cues, ``0`` is no cue, ``1`` rain, ``2`` wind, ``3`` rain + wind
    and so on up to ``7``.

    No single word decides the label: a model has to find every cue that is there, and
    notice the ones that are not. The cue positions are returned so that one can check
    afterwards where a model looked; a model should never be trained on them.

    Args:
        n_sentences: the number of sentences, at least 1.
        cue_words: the distinct cue words, one to eight of them.
        filler_words: the distinct filler words, at least one, none of them a cue.
        min_length, max_length: the range of sentence lengths, inclusive; ``min_length``
            must leave room for every cue, and ``max_length`` is the padded width.
        cue_rate: the probability, in [0, 1], that a given cue is in a sentence.
        seed: seeds everything; the same arguments give the same sentences.

    Returns:
        A :class:`PlantedCues`.

    Raises:
        ValueError: a count or length out of range, repeated words, a cue among the
            fillers, or a rate outside [0, 1].

    Example:
        >>> cues = planted_cues(4, seed=1)
        >>> cues.ids.shape, cues.n_classes
        ((4, 16), 8)
        >>> cues.label_name(5)
        'rain + snow'
    """
    n_sentences = _check_integer("n_sentences", n_sentences, 1)
    if isinstance(cue_words, str) or isinstance(filler_words, str):
        raise ValueError("cue_words and filler_words must be sequences of words, not a single string")
    cue_words, filler_words = tuple(str(w) for w in cue_words), tuple(str(w) for w in filler_words)
    if not 1 <= len(cue_words) <= 8:
        raise ValueError(f"cue_words must hold 1 to 8 words (labels are subsets), got {len(cue_words)}")
    if not filler_words:
        raise ValueError("filler_words must hold at least one word")
    shared = sorted(set(cue_words) & set(filler_words))
    if shared:
        raise ValueError(f"a cue cannot also be a filler word; both lists hold {shared}")
    min_length = _check_integer("min_length", min_length, len(cue_words))  # room for every cue
    max_length = _check_integer("max_length", max_length, min_length)
    if not (isinstance(cue_rate, numbers.Real) and 0.0 <= cue_rate <= 1.0):
        raise ValueError(f"cue_rate must be a probability in [0, 1], got {cue_rate!r}")
    seed = _check_integer("seed", seed, 0)
    vocabulary = Vocabulary(filler_words + cue_words)  # also refuses repeated words

    rng = np.random.default_rng(seed)
    lengths = rng.integers(min_length, max_length + 1, size=n_sentences)
    columns = np.arange(max_length)
    real = columns < lengths[:, None]
    filler_ids = np.array([vocabulary.id(word) for word in filler_words], dtype=np.int32)
    ids = np.where(real, filler_ids[rng.integers(0, len(filler_ids), size=(n_sentences, max_length))], PAD)
    # Distinct random places inside each sentence: sort random keys, padding's keys last.
    keys = np.where(real, rng.random((n_sentences, max_length)), 2.0)
    places = np.argsort(keys, axis=1)[:, : len(cue_words)]
    present = rng.random((n_sentences, len(cue_words))) < cue_rate
    cue_positions = np.where(present, places, -1).astype(np.int64)
    for k, word in enumerate(cue_words):
        rows = np.flatnonzero(present[:, k])
        ids[rows, cue_positions[rows, k]] = vocabulary.id(word)
    labels = present.astype(np.int64) @ (2 ** np.arange(len(cue_words), dtype=np.int64))
    return PlantedCues(ids.astype(np.int32), labels, cue_positions, vocabulary, cue_words)
