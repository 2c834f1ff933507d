"""Toy translation data with gold word alignments, padding, and alignment error.

Chapters 2, 3, 4, 5 and 9 translate between two small synthetic languages. The data
needs no download, every pair is generated from a seed in milliseconds, and, unlike a
real corpus, every pair comes with its exact word alignment, so an attention matrix can
be scored against the truth the way Luong et al. (2015) scored theirs with the
alignment error rate (AER).

The source language is a tiny English-like grammar. A sentence is one or more clauses
joined by conjunctions; a clause is::

    subject  verb  [object]  [preposition phrase]  [adverb]
    the old dog  sees  a red ball  near the tall tree  quietly

where each noun phrase is a determiner, zero to three adjectives and a noun. The target
language uses made-up words (a fixed one-to-one lexicon drawn from the seed, e.g.
``dog -> "kuza"``) and, by default, two changes of word order:

- ``"adjective_noun"``: adjectives follow their noun (``the red ball`` -> ``the ball red``);
- ``"verb_final"``: the verb moves to the end of its clause (subject-verb-object becomes
  subject-object-verb, as in Japanese, or German subordinate clauses).

So the pair above becomes, word for word, ``the dog old a ball red near the tree tall
quietly sees``: long sentences need long-range reordering, which is exactly what a
fixed-vector encoder-decoder finds hard and what attention learns to align.

Main entry points:

- :func:`toy_translation` generates a :class:`ToyTranslation` (source and target token
  ids, gold alignments, the two :class:`Vocabulary` objects);
- :func:`pad` and :func:`seq2seq_arrays` turn it into the arrays a teacher-forced Keras
  model fits on; :func:`split` makes train and test sets;
- :func:`length_buckets` and :func:`bucket_labels` group sentences by length (accuracy
  against length, Bahdanau et al. 2015, Fig. 2);
- :func:`alignment_links`, :func:`gold_links` and :func:`alignment_error` turn attention
  weights and gold alignments into link sets and score them.

Links are pairs ``(target_position, source_position)``, positions counted from 0.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import numbers
from typing import NamedTuple

import numpy as np

__all__ = [
    "END",
    "PAD",
    "REORDERINGS",
    "START",
    "MIN_LENGTH",
    "MIN_VOCAB_SIZE",
    "Pair",
    "ToyTranslation",
    "Vocabulary",
    "alignment_error",
    "alignment_links",
    "bucket_labels",
    "gold_links",
    "length_buckets",
    "pad",
    "seq2seq_arrays",
    "split",
    "toy_translation",
]

# Reserved ids, identical in every vocabulary. PAD is 0 so that
# `keras.layers.Embedding(mask_zero=True)` masks padding.
PAD, START, END = 0, 1, 2
_RESERVED_TOKENS = ("<pad>", "<start>", "<end>")

# The word orders the target language can change, in the order they are applied.
REORDERINGS = ("adjective_noun", "verb_final")


# ----------------------------------------------------------------------------- vocabulary


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


# ----------------------------------------------------------------------------- the grammar

# Word classes of the source grammar, by code.
DET, ADJ, NOUN, VERB, ADV, PREP, CONJ = range(7)
_CLASS_NAMES = ("determiner", "adjective", "noun", "verb", "adverb", "preposition", "conjunction")
_CONTENT_CLASSES = (ADJ, NOUN, VERB, ADV)

# Built-in English words of each class (all distinct across classes). When a vocabulary
# needs more words of a class than listed, numbered variants follow (cat2, dog2, ...).
_WORD_LISTS = {
    DET: "the a this that every some my your his her our their each one no any".split(),
    PREP: (
        "in on near under behind with without over beside across after before through "
        "around above below inside outside beyond toward"
    ).split(),
    CONJ: "and but while because so although when or until since yet whereas".split(),
    ADV: (
        "quickly slowly often rarely again today quietly loudly happily sadly early late "
        "always never gently carefully suddenly easily badly soon twice calmly bravely "
        "eagerly proudly softly warmly barely nearly finally politely secretly"
    ).split(),
    NOUN: (
        "dog cat bird fish horse cow sheep goat mouse lion tiger bear wolf fox rabbit "
        "duck frog snake owl bee ant whale shark seal crab man woman child girl boy "
        "king queen farmer teacher doctor baker sailor pilot singer painter student "
        "friend neighbour soldier judge cook driver nurse poet thief guard house car "
        "boat train bus bike road bridge river lake sea hill mountain forest garden "
        "field tree flower stone rock door window table chair bed lamp book letter "
        "song story picture map key box bag cup plate bottle bread apple cake cheese "
        "egg milk soup coffee tea ship tower castle village city market school church "
        "shop park island beach cloud storm moon star sun sky rain snow wind fire "
        "candle clock bell drum flute piano radio phone coat hat shoe ring glove "
        "basket ladder rope wheel hammer knife spoon mirror blanket pillow pencil "
        "paper stamp coin ticket wallet umbrella kite ball doll robot rocket engine "
        "tent fence gate wall roof floor kitchen office bank library museum harbour "
        "desert valley cave"
    ).split(),
    ADJ: (
        "big small old young red blue green yellow black white happy sad tall short "
        "long wide narrow heavy bright dark quiet loud fast slow warm cold hot wet dry "
        "clean dirty rich poor brave shy kind proud strange famous tired hungry angry "
        "calm clever lazy busy gentle wild soft hard sweet bitter fresh ancient modern "
        "tiny huge round square empty full broken shiny rusty wooden golden silver "
        "purple orange pink grey noisy silent cheerful lonely curious careful polite "
        "honest smart friendly"
    ).split(),
    VERB: (
        "sees finds likes wants takes gives holds carries follows watches helps calls "
        "meets loves hates paints draws reads writes builds buys sells moves pushes "
        "pulls opens closes brings sends keeps leaves visits cleans fixes breaks "
        "catches throws hears knows remembers forgets chooses needs hides shows "
        "teaches feeds wakes greets thanks invites warns protects admires ignores "
        "counts measures washes touches kicks lifts drops bites chases guides answers "
        "asks pays owns borrows finishes starts joins leads misses wins loses tells "
        "hits cuts"
    ).split(),
}

# Share of the source vocabulary in each class; nouns take whatever is left.
_CLOSED_SHARES = {DET: 0.04, PREP: 0.05, CONJ: 0.03, ADV: 0.08}
_ADJECTIVE_SHARE = _VERB_SHARE = 0.25  # of the words left after the closed classes
_MIN_WORDS_PER_CLASS = 2

#: The smallest ``vocab_size``: two words in each of the seven classes.
MIN_VOCAB_SIZE = _MIN_WORDS_PER_CLASS * len(_CLASS_NAMES)
#: The shortest clause, hence the shortest sentence: determiner noun verb.
MIN_LENGTH = 3
_MAX_ADJECTIVES = 3  # per noun phrase


class _Clause(NamedTuple):
    """One clause shape: source word classes and, per target slot, its source position."""

    classes: tuple
    target_order: tuple


def _noun_phrase(n_adjectives):
    return [DET] + [ADJ] * n_adjectives + [NOUN]


def _clause(subject_adjectives, object_adjectives, phrase_adjectives, adverb, reorder):
    """Build one clause shape; ``None`` for an absent object or preposition phrase.

    Returns the source classes and the target order, where the target order lists,
    for each target word, the source position it translates.
    """
    # Constituents in source order; each is a list of (position, class).
    position = itertools.count()
    subject = [(next(position), c) for c in _noun_phrase(subject_adjectives)]
    verb = [(next(position), VERB)]
    rest = []  # what follows the verb in the source: object, phrase, adverb
    if object_adjectives is not None:
        rest.append([(next(position), c) for c in _noun_phrase(object_adjectives)])
    if phrase_adjectives is not None:
        rest.append([(next(position), c) for c in [PREP] + _noun_phrase(phrase_adjectives)])
    if adverb:
        rest.append([(next(position), ADV)])
    source = subject + verb + [word for part in rest for word in part]

    def target_phrase(words):
        if "adjective_noun" in reorder:
            # Adjectives after their noun, in their source order: the red old cat -> the cat red old.
            adjectives = [word for word in words if word[1] == ADJ]
            others = [word for word in words if word[1] != ADJ]
            return others + adjectives
        return words

    target_subject = target_phrase(subject)
    target_rest = [word for part in rest for word in target_phrase(part)]
    if "verb_final" in reorder:
        target = target_subject + target_rest + verb
    else:
        target = target_subject + verb + target_rest
    return _Clause(tuple(c for _, c in source), tuple(p for p, _ in target))


@functools.lru_cache(maxsize=None)
def _clauses_by_length(reorder):
    """Every clause shape, grouped by number of words: {length: [_Clause, ...]}."""
    adjective_counts = range(_MAX_ADJECTIVES + 1)
    optional_counts = [None, *adjective_counts]
    by_length = {}
    for subject, obj, phrase, adverb in itertools.product(
        adjective_counts, optional_counts, optional_counts, (False, True)
    ):
        clause = _clause(subject, obj, phrase, adverb, reorder)
        by_length.setdefault(len(clause.classes), []).append(clause)
    return by_length


_MAX_CLAUSE_LENGTH = max(_clauses_by_length(()))


def _class_sizes(vocab_size):
    """How many source words each class gets, summing to ``vocab_size``."""
    sizes = {c: max(_MIN_WORDS_PER_CLASS, round(share * vocab_size)) for c, share in _CLOSED_SHARES.items()}
    left = vocab_size - sum(sizes.values())
    sizes[ADJ] = max(_MIN_WORDS_PER_CLASS, round(_ADJECTIVE_SHARE * left))
    sizes[VERB] = max(_MIN_WORDS_PER_CLASS, round(_VERB_SHARE * left))
    sizes[NOUN] = left - sizes[ADJ] - sizes[VERB]
    return sizes


def _source_words(word_class, count):
    """The first ``count`` words of a class, extended with numbered variants if needed."""
    listed = _WORD_LISTS[word_class]
    words = list(listed[:count])
    suffix = 2
    while len(words) < count:
        words.extend(f"{word}{suffix}" for word in listed[: count - len(words)])
        suffix += 1
    return words


_CONSONANTS = "bdfgklmnprstvz"
_VOWELS = "aeiou"
_SYLLABLES = [c + v for c in _CONSONANTS for v in _VOWELS]


def _made_up_words(count, rng, avoid=()):
    """``count`` distinct pronounceable words (consonant-vowel syllables), random order.

    Words in ``avoid`` (the source words: "bike" or "rose" can come out of the
    syllables) are skipped, so a target word is never mistaken for a source word.
    """
    avoid = set(avoid)
    drawn = count + len(avoid)  # enough that `count` remain after skipping
    n_syllables = 2
    while len(_SYLLABLES) ** n_syllables < 4 * drawn:  # keep the choice random, not exhaustive
        n_syllables += 1
    codes = rng.choice(len(_SYLLABLES) ** n_syllables, size=drawn, replace=False)
    words = []
    for code in codes.tolist():
        syllables = []
        for _ in range(n_syllables):
            code, syllable = divmod(code, len(_SYLLABLES))
            syllables.append(_SYLLABLES[syllable])
        word = "".join(syllables)
        if word not in avoid:
            words.append(word)
    return words[:count]


# ----------------------------------------------------------------------------- the data set


class Pair(NamedTuple):
    """One sentence pair: token ids of both sides and the gold alignment.

    ``alignment[i]`` is the source position that target word ``i`` translates.
    """

    source: np.ndarray
    target: np.ndarray
    alignment: np.ndarray


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


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class ToyTranslation(_PairLists):
    """Sentence pairs of the toy language, with gold alignments (see :func:`toy_translation`).

    Attributes:
        source: list of 1-D int32 arrays, source token ids (no padding, no START/END).
        target: list of 1-D int32 arrays, target token ids (no padding, no START/END).
        alignment: list of 1-D int32 arrays; ``alignment[k][i]`` is the position in
            ``source[k]`` of the word that target word ``i`` translates. Every target word
            aligns to exactly one source word.
        source_vocab, target_vocab: the two :class:`Vocabulary` objects.
        lexicon: source word -> tuple of its target word(s).
        word_classes: source word -> its class ("noun", "verb", ...).
        vocab_size, min_length, max_length, reorder, seed, two_word_fraction: the
            parameters the data was generated with.

    ``len(data)`` is the number of pairs; ``data[k]`` is the :class:`Pair` ``k``;
    ``data[a:b]``, ``data[[k1, k2]]`` or ``data.subset(indices)`` give a new
    ``ToyTranslation`` of those pairs; iterating yields :class:`Pair` objects.
    """

    source: list
    target: list
    alignment: list
    source_vocab: Vocabulary
    target_vocab: Vocabulary
    lexicon: dict
    word_classes: dict
    vocab_size: int
    min_length: int
    max_length: int
    reorder: tuple
    seed: int
    two_word_fraction: float
    _list_fields = ("source", "target", "alignment")

    def __repr__(self):
        return (
            f"ToyTranslation({len(self)} pairs, source lengths {self.min_length}-{self.max_length}, "
            f"{len(self.source_vocab)} source / {len(self.target_vocab)} target tokens, "
            f"reorder={self.reorder}, seed={self.seed})"
        )


def _check_integer(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def _check_reorder(reorder):
    if isinstance(reorder, str):
        reorder = (reorder,)
    try:
        names = tuple(reorder)
    except TypeError:
        raise ValueError(f"reorder must be a tuple of names from {REORDERINGS}, got {reorder!r}") from None
    unknown = [name for name in names if name not in REORDERINGS]
    if unknown:
        raise ValueError(
            f"unknown reorder {unknown}; valid reorderings are {list(REORDERINGS)} (or () for none)"
        )
    return tuple(name for name in REORDERINGS if name in names)


def _clause_budgets(length, n_clauses, u_cuts):
    """Split the words of a sentence among its clauses, each within the clause limits."""
    extra = length - (n_clauses - 1) - MIN_LENGTH * n_clauses  # words beyond the minimal clauses
    cuts = sorted(int(u * (extra + 1)) for u in u_cuts[: n_clauses - 1])
    budgets = [MIN_LENGTH + b - a for a, b in zip([0, *cuts], [*cuts, extra])]
    # Rarely a clause gets more words than any clause shape has: hand the excess to the shortest.
    while max(budgets) > _MAX_CLAUSE_LENGTH:
        longest = budgets.index(max(budgets))
        shortest = budgets.index(min(budgets))
        move = min(budgets[longest] - _MAX_CLAUSE_LENGTH, _MAX_CLAUSE_LENGTH - budgets[shortest])
        budgets[longest] -= move
        budgets[shortest] += move
    return budgets


def toy_translation(
    n_pairs,
    *,
    vocab_size=200,
    min_length=3,
    max_length=40,
    reorder=REORDERINGS,
    seed=0,
    two_word_fraction=0.0,
):
    """Generate sentence pairs of the toy language with their gold word alignments.

    Each source length is drawn uniformly from ``[min_length, max_length]`` and the
    sentence is built to exactly that length: clauses (``subject verb [object]
    [preposition phrase] [adverb]``, noun phrases with up to three adjectives) joined
    by conjunctions, with longer sentences using more clauses. Words within a class
    are drawn uniformly. The target translates every word through a fixed lexicon of
    made-up words and applies the reorderings named in ``reorder``.

    The result depends only on the arguments: the same seed gives identical data,
    another seed other sentences and another lexicon. The first ``n`` pairs do not
    depend on ``n_pairs``, so a small run sees a prefix of a large one.

    Args:
        n_pairs: number of sentence pairs.
        vocab_size: number of real source words, split among the seven word classes
            (nouns about 40%, adjectives and verbs about 20% each, the rest determiners,
            prepositions, conjunctions and adverbs); at least :data:`MIN_VOCAB_SIZE` (14).
            The target has as many words, plus one for each two-word translation.
        min_length, max_length: range of source lengths, inclusive; ``min_length`` is
            at least 3 (determiner noun verb).
        reorder: word-order changes from source to target, a subset of
            ``("adjective_noun", "verb_final")``; ``()`` gives a monotone word-for-word
            translation (the alignment is the identity when ``two_word_fraction`` is 0).
        seed: non-negative integer.
        two_word_fraction: fraction of content words (nouns, adjectives, verbs, adverbs)
            whose translation is two target words, both aligned to the source word.
            With the default 0 every target sentence is as long as its source.

    Returns:
        A :class:`ToyTranslation`.

    Raises:
        ValueError: ``n_pairs < 1``; ``min_length < 3`` or ``min_length > max_length``;
            ``vocab_size < 14``; a negative seed; an unknown reordering; a
            ``two_word_fraction`` outside [0, 1]; or a non-integer count.

    Example:
        >>> data = toy_translation(1000, max_length=12, seed=1)
        >>> len(data), int(data.source_lengths.min()), int(data.source_lengths.max())
        (1000, 3, 12)
        >>> source_words, target_words = data.words(0)
        >>> [data.lexicon[source_words[j]][0] for j in data.alignment[0]] == target_words
        True
    """
    n_pairs = _check_integer("n_pairs", n_pairs, 1)
    vocab_size = _check_integer("vocab_size", vocab_size, MIN_VOCAB_SIZE)
    min_length = _check_integer("min_length", min_length, MIN_LENGTH)
    max_length = _check_integer("max_length", max_length, 1)
    if min_length > max_length:
        raise ValueError(f"min_length ({min_length}) must not exceed max_length ({max_length})")
    seed = _check_integer("seed", seed, 0)
    reorder = _check_reorder(reorder)
    if not isinstance(two_word_fraction, numbers.Real) or not 0.0 <= two_word_fraction <= 1.0:
        raise ValueError(f"two_word_fraction must be a number in [0, 1], got {two_word_fraction!r}")

    # Two independent streams: the lexicon does not depend on how many pairs are drawn.
    lexicon_seed, sentence_seed = np.random.SeedSequence(seed).spawn(2)
    lexicon_rng = np.random.default_rng(lexicon_seed)
    sentence_rng = np.random.default_rng(sentence_seed)

    # Source vocabulary: classes in contiguous id ranges.
    sizes = _class_sizes(vocab_size)
    class_words = {c: _source_words(c, sizes[c]) for c in range(len(_CLASS_NAMES))}
    source_vocab = Vocabulary(word for c in range(len(_CLASS_NAMES)) for word in class_words[c])
    class_offset = np.zeros(len(_CLASS_NAMES), dtype=np.int64)
    class_offset[1:] = np.cumsum([sizes[c] for c in range(len(_CLASS_NAMES))])[:-1]
    class_offset += len(_RESERVED_TOKENS)
    class_size = np.array([sizes[c] for c in range(len(_CLASS_NAMES))], dtype=np.int64)
    word_classes = {word: _CLASS_NAMES[c] for c, words in class_words.items() for word in words}

    # Lexicon: each source word -> one or two made-up target words, all distinct.
    content_words = [word for c in _CONTENT_CLASSES for word in class_words[c]]
    n_two = int(round(two_word_fraction * len(content_words)))
    two_word = set(lexicon_rng.choice(content_words, size=n_two, replace=False).tolist()) if n_two else set()
    made_up = iter(_made_up_words(len(source_vocab.words) + n_two, lexicon_rng, avoid=source_vocab.words))
    lexicon = {
        word: (next(made_up), next(made_up)) if word in two_word else (next(made_up),)
        for word in source_vocab.words
    }
    # Sorted so that target ids carry no trace of the source ids.
    target_vocab = Vocabulary(sorted(t for translation in lexicon.values() for t in translation))
    translation_ids = np.full((len(source_vocab), 2), -1, dtype=np.int64)
    for word, translation in lexicon.items():
        translation_ids[source_vocab.id(word), : len(translation)] = [target_vocab.id(t) for t in translation]
    translation_counts = (translation_ids >= 0).sum(axis=1)

    # One row of uniforms per pair, consumed left to right, so pair k depends on row k only.
    max_clauses = (max_length + 1) // (MIN_LENGTH + 1)
    cut_column, clause_column = 2, 2 + max_clauses
    word_column = clause_column + max_clauses
    uniforms = sentence_rng.random((n_pairs, word_column + max_length))
    lengths = min_length + (uniforms[:, 0] * (max_length - min_length + 1)).astype(np.int64)

    clauses_by_length = _clauses_by_length(reorder)
    classes, target_order = [], []  # over the whole corpus, source positions counted globally
    for k, length in enumerate(lengths.tolist()):
        row = uniforms[k]
        fewest = -(-(length + 1) // (_MAX_CLAUSE_LENGTH + 1))
        most = (length + 1) // (MIN_LENGTH + 1)
        # Clauses of about 5 to 10 words on average, within what the length allows.
        n_clauses = min(most, max(fewest, round((length + 1) / (6.0 + 5.0 * row[1]))))
        budgets = _clause_budgets(length, n_clauses, row[cut_column:clause_column])
        position = len(classes)
        for i, budget in enumerate(budgets):
            if i:
                classes.append(CONJ)
                target_order.append(position)
                position += 1
            shapes = clauses_by_length[budget]
            clause = shapes[int(row[clause_column + i] * len(shapes))]
            classes.extend(clause.classes)
            target_order.extend([position + p for p in clause.target_order])
            position += budget

    # Words: uniform within each position's class, from the word columns of its pair's row.
    classes = np.array(classes, dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    pair_of_position = np.repeat(np.arange(n_pairs), lengths)
    position_in_pair = np.arange(len(classes)) - starts[pair_of_position]
    word_uniforms = uniforms[pair_of_position, word_column + position_in_pair]
    source_ids = class_offset[classes] + (word_uniforms * class_size[classes]).astype(np.int64)

    # Target: translate the source words in target order; a two-word translation adds a slot.
    target_order = np.array(target_order, dtype=np.int64)
    translated = source_ids[target_order]
    counts = translation_counts[translated]
    target_ids = translation_ids[translated].reshape(-1)
    target_ids = target_ids[target_ids >= 0]
    alignment = np.repeat(position_in_pair[target_order], counts)
    target_lengths = np.add.reduceat(counts, starts)

    source_bounds = np.cumsum(lengths)[:-1]
    target_bounds = np.cumsum(target_lengths)[:-1]
    return ToyTranslation(
        source=np.split(source_ids.astype(np.int32), source_bounds),
        target=np.split(target_ids.astype(np.int32), target_bounds),
        alignment=np.split(alignment.astype(np.int32), target_bounds),
        source_vocab=source_vocab,
        target_vocab=target_vocab,
        lexicon=lexicon,
        word_classes=word_classes,
        vocab_size=vocab_size,
        min_length=min_length,
        max_length=max_length,
        reorder=reorder,
        seed=seed,
        two_word_fraction=float(two_word_fraction),
    )


# ----------------------------------------------------------------------------- arrays for Keras


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


def seq2seq_arrays(data, source_length=None, target_length=None):
    """The padded arrays a teacher-forced encoder-decoder fits on.

    For a target sentence ``y1 .. yn`` the decoder reads ``START y1 .. yn`` and must
    predict ``y1 .. yn END``: at step ``i`` it sees the true previous word (teacher
    forcing). Padding is 0, so ``Embedding(mask_zero=True)`` masks it, and a loss
    computed with that mask ignores the padded steps.

    Args:
        data: a :class:`ToyTranslation` (or any object with ``source`` and ``target``
            lists of 1-D id arrays).
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


def split(data, test_fraction=0.2, seed=0):
    """Shuffle the pairs and split them into a training and a test set.

    Args:
        data: a :class:`ToyTranslation`.
        test_fraction: share of pairs in the test set, strictly between 0 and 1; the
            test set gets ``round(test_fraction * len(data))`` pairs.
        seed: seed of the shuffle.

    Returns:
        ``(train, test)``, two :class:`ToyTranslation` objects that together hold
        every pair exactly once.

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


# ----------------------------------------------------------------------------- lengths


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


# ----------------------------------------------------------------------------- alignment


def _link(target_position, source_position):
    return (int(target_position), int(source_position))


def alignment_links(weights, source_length=None, target_length=None):
    """Hard alignment links read off one attention matrix.

    Each target word is linked to the source word it attends to most (the argmax of
    its row), as Luong et al. (2015) did to score their attention against gold
    alignments.

    Args:
        weights: attention weights of one sentence, shape ``(T_q, T_v)``: one row per
            target (decoder) step, one column per source position.
        source_length: real source words; columns from here on are padding and are
            ignored. Defaults to ``T_v``.
        target_length: real target words; rows from here on (padding, or the step that
            predicts END) are ignored. Defaults to ``T_q``.

    Returns:
        A set of ``(target_position, source_position)`` tuples, one per target word.

    Raises:
        ValueError: ``weights`` is not 2-D, or a length is outside ``1 .. T``.
    """
    weights = np.asarray(weights)
    if weights.ndim != 2:
        raise ValueError(
            f"weights must be one attention matrix of shape (T_q, T_v), got shape {weights.shape}"
        )
    n_rows, n_columns = weights.shape
    if source_length is None:
        source_length = n_columns
    if target_length is None:
        target_length = n_rows
    source_length = _check_integer("source_length", source_length, 1)
    target_length = _check_integer("target_length", target_length, 0)
    if source_length > n_columns:
        raise ValueError(f"source_length={source_length} exceeds the {n_columns} columns of weights")
    if target_length > n_rows:
        raise ValueError(f"target_length={target_length} exceeds the {n_rows} rows of weights")
    best = np.argmax(weights[:target_length, :source_length], axis=1)
    return {_link(i, j) for i, j in enumerate(best.tolist())}


def gold_links(alignment_row):
    """The link set of one gold alignment: ``{(i, alignment_row[i])}``; ``-1`` means unaligned.

    Args:
        alignment_row: 1-D sequence, the source position of each target word.

    Returns:
        A set of ``(target_position, source_position)`` tuples.

    Raises:
        ValueError: ``alignment_row`` is not 1-D.
    """
    alignment_row = np.asarray(alignment_row)
    if alignment_row.ndim != 1:
        raise ValueError(f"an alignment row must be 1-D, got shape {alignment_row.shape}")
    return {_link(i, j) for i, j in enumerate(alignment_row.tolist()) if j >= 0}


def _as_links(links, which, k):
    if isinstance(links, (set, frozenset)):
        try:
            return {_link(i, j) for i, j in links}
        except (TypeError, ValueError):
            raise ValueError(f"{which}[{k}] must hold (target_position, source_position) pairs") from None
    return gold_links(links)


def alignment_error(predicted, gold):
    """Alignment error rate (AER, Och and Ney 2003) of a corpus, as used by Luong et al. (2015).

    With sure links only (every gold link is sure), for predicted links ``A`` and gold
    links ``S`` summed over the corpus::

        AER = 1 - 2 |A ∩ S| / (|A| + |S|)

    0 when the prediction equals the gold alignment, 1 when they share no link.

    Args:
        predicted: a list with one entry per sentence, each a set of
            ``(target_position, source_position)`` links (e.g. from
            :func:`alignment_links`) or a 1-D array of source positions per target word
            (-1 = unaligned).
        gold: the same for the gold alignment, e.g. ``data.alignment``.

    Returns:
        The AER, a float in [0, 1].

    Raises:
        ValueError: the lists differ in length, an entry is malformed, or neither side
            has a single link; or ``gold`` is None (real corpora such as
            :class:`SentencePairs` have no gold alignment).
    """
    if gold is None:
        raise ValueError("no gold alignment: real sentence pairs do not say which word translates which, "
                         "so their alignment error cannot be measured (the toy task's can)")
    if isinstance(predicted, (set, frozenset)) or isinstance(gold, (set, frozenset)):
        raise ValueError("predicted and gold must be lists with one link set per sentence, not single sets")
    predicted, gold = list(predicted), list(gold)
    if len(predicted) != len(gold):
        raise ValueError(f"predicted has {len(predicted)} sentences but gold has {len(gold)}")
    n_predicted = n_gold = n_common = 0
    for k, (a, s) in enumerate(zip(predicted, gold)):
        a, s = _as_links(a, "predicted", k), _as_links(s, "gold", k)
        n_predicted += len(a)
        n_gold += len(s)
        n_common += len(a & s)
    if n_predicted + n_gold == 0:
        raise ValueError("the alignment error is undefined: neither predicted nor gold has any link")
    return 1.0 - 2.0 * n_common / (n_predicted + n_gold)


# ---------------------------------------------------------------------------------------
# Chapter 1: a digit somewhere in a cluttered canvas.
#
# Like the cluttered, translated MNIST of Mnih et al. (2014), made from scikit-learn's
# bundled 8x8 digits so that nothing is downloaded. The digit's place is returned for
# measuring where a model looks, never for training it.

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


__all__ += ["ClutteredDigits", "DIGIT_SIZE", "box_cells", "cluttered_digits"]


# ----------------------------------------------------------------------------- documents (chapter 8)
#
# Chapter 8 classifies documents with a hierarchical attention network (Yang et al., 2016):
# words are pooled into sentence vectors, sentences into a document vector. A document is
# stored as a 3-D array of word ids, documents x sentences x words, padded with 0 at the end
# of every sentence and with all-zero sentences at the end of every document, so that
# `Embedding(mask_zero=True)` masks padded words and a sentence without any word is padding.
#
# Two sources fill that array: `planted_documents` generates reviews in which exactly one
# sentence, the verdict, decides the label (nothing to download, and the deciding sentence
# is known, so sentence attention can be scored); `review_documents` turns real review texts
# (e.g. the IMDB reviews fetched by `download_imdb_reviews`) into the same layout.

import os
import re
import unicodedata

UNKNOWN = "<unk>"  # the token that stands for every word outside a real-text vocabulary


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


# The planted reviews' words. A verdict marker names the sentence that decides the label;
# opinion words (positive or negative) also appear in other sentences, where they decide
# nothing; the rest is neutral filler.
VERDICT_MARKERS = ("overall", "verdict", "ultimately", "altogether")
POSITIVE_WORDS = ("great", "superb", "moving", "brilliant", "charming", "gripping", "delightful", "stunning")
NEGATIVE_WORDS = ("awful", "dull", "boring", "clumsy", "tedious", "weak", "bland", "messy")
NEUTRAL_WORDS = tuple(
    (
        "the a this its film plot actor actress scene music camera story ending script cast director "
        "dialogue sound pace set lighting score was is seems feels and with of in at very rather quite "
        "times first second half some every"
    ).split()
)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Documents(_ArrayRows):
    """Documents as padded word ids, documents x sentences x words, with their labels.

    Attributes:
        ids: int32 array ``(n, max_sentences, max_words)``; 0 is padding, both after the
            last word of a sentence and for whole sentences after the last one.
        labels: int64 array ``(n,)``, 1 for a positive and 0 for a negative review.
        key_sentence: int64 array ``(n,)``, the index of the sentence that decides the
            label, or -1 where it is not known (real reviews).
        vocabulary: the :class:`Vocabulary` of the ids.

    ``len(docs)`` is the number of documents, ``docs.subset(indices)`` (or
    ``docs[indices]``) keeps some of them, so :func:`split` works on documents too.
    """

    ids: np.ndarray
    labels: np.ndarray
    key_sentence: np.ndarray
    vocabulary: Vocabulary
    _row_fields = ("ids", "labels", "key_sentence")

    @property
    def word_mask(self):
        """Booleans ``(n, max_sentences, max_words)``, True on real words."""
        return self.ids != PAD

    @property
    def sentence_mask(self):
        """Booleans ``(n, max_sentences)``, True on sentences with at least one word."""
        return self.word_mask.any(axis=-1)

    def sentences(self, index):
        """Document ``index`` as a list of sentences, each a list of words (no padding)."""
        return [
            [self.vocabulary.token(int(token)) for token in row if token != PAD]
            for row in self.ids[index]
            if np.any(row != PAD)
        ]

    def __repr__(self):
        n, max_sentences, max_words = self.ids.shape
        return (
            f"Documents({n} documents of up to {max_sentences} sentences x {max_words} words, "
            f"{len(self.vocabulary)} tokens, {float(np.mean(self.labels)):.0%} positive)"
        )


def planted_documents(
    n_documents,
    *,
    min_sentences=4,
    max_sentences=8,
    min_words=4,
    max_words=12,
    opinion_rate=1.0,
    decoy_opinions=2,
    decoy_agreement=0.5,
    seed=0,
):
    """Synthetic reviews in which one planted verdict sentence decides the label.

    Every document has between ``min_sentences`` and ``max_sentences`` sentences, each of
    ``min_words`` to ``max_words`` words. Exactly one sentence, at a random place, is the
    verdict: it holds a verdict marker (``overall``, ``verdict``, ...) and one opinion
    word whose polarity is the label (``great`` for 1, ``dull`` for 0), at two random
    places. Each other sentence holds, with probability ``opinion_rate``, one to
    ``decoy_opinions`` opinion words, each of the label's polarity with probability
    ``decoy_agreement``: opinions about some detail, which do not decide the verdict (with
    ``decoy_agreement`` below 0.5 they lean against it, as in "the plot drags, the music is
    dull, but overall a superb film"). Every other word is neutral filler.

    Counting good and bad words therefore guesses the label only roughly. To be right
    every time, a model has to find the sentence with the marker and read the opinion in
    it: a marker word must decide how much the words beside it count.

    Args:
        n_documents: the number of documents.
        min_sentences, max_sentences: the range of sentences per document, inclusive;
            ``max_sentences`` is also the padded size of the sentence axis.
        min_words, max_words: the range of words per sentence, inclusive; at least 2 (a
            marker and an opinion) and at least ``decoy_opinions``. ``max_words`` is also
            the padded size of the word axis.
        opinion_rate: the probability, in [0, 1], that a sentence other than the verdict
            holds opinion words.
        decoy_opinions: the most opinion words such a sentence holds, at least 1.
        decoy_agreement: the probability, in [0, 1], that the polarity of such an opinion
            word is the label's; 0.5 makes decoys independent of the label.
        seed: seeds everything; the same arguments give the same documents.

    Returns:
        :class:`Documents`, with ``key_sentence`` the index of each verdict sentence.

    Raises:
        ValueError: a count or range out of bounds, or a probability outside [0, 1].

    Example:
        >>> docs = planted_documents(100, seed=1)
        >>> docs.ids.shape
        (100, 8, 12)
        >>> verdict = docs.sentences(0)[docs.key_sentence[0]]
        >>> any(word in VERDICT_MARKERS for word in verdict)
        True
    """
    n_documents = _check_integer("n_documents", n_documents, 1)
    min_sentences = _check_integer("min_sentences", min_sentences, 1)
    max_sentences = _check_integer("max_sentences", max_sentences, min_sentences)
    decoy_opinions = _check_integer("decoy_opinions", decoy_opinions, 1)
    min_words = _check_integer("min_words", min_words, max(2, decoy_opinions))
    max_words = _check_integer("max_words", max_words, min_words)
    for name, probability in (("opinion_rate", opinion_rate), ("decoy_agreement", decoy_agreement)):
        if isinstance(probability, bool) or not isinstance(probability, numbers.Real) or not 0.0 <= probability <= 1.0:
            raise ValueError(f"{name} must be a number in [0, 1], got {probability!r}")
    seed = _check_integer("seed", seed, 0)

    vocabulary = Vocabulary(VERDICT_MARKERS + POSITIVE_WORDS + NEGATIVE_WORDS + NEUTRAL_WORDS)
    marker_ids = vocabulary.encode(VERDICT_MARKERS)
    opinion_ids = np.stack([vocabulary.encode(NEGATIVE_WORDS), vocabulary.encode(POSITIVE_WORDS)])  # [polarity, k]
    neutral_ids = vocabulary.encode(NEUTRAL_WORDS)

    rng = np.random.default_rng(seed)
    shape = (n_documents, max_sentences, max_words)
    documents = np.arange(n_documents)
    labels = rng.integers(0, 2, size=n_documents)
    n_sentences = rng.integers(min_sentences, max_sentences + 1, size=n_documents)
    key_sentence = (rng.random(n_documents) * n_sentences).astype(np.int64)
    lengths = rng.integers(min_words, max_words + 1, size=shape[:2])
    lengths[np.arange(max_sentences)[None, :] >= n_sentences[:, None]] = 0  # padded sentences
    is_word = np.arange(max_words)[None, None, :] < lengths[..., None]

    # Neutral filler everywhere, then opinions and the marker at random places on top of it.
    ids = np.where(is_word, neutral_ids[rng.integers(0, len(neutral_ids), size=shape)], PAD)
    # A random order of the real places of each sentence (padding sorts last): the first
    # places take the opinion words, the next one the verdict marker.
    places = np.argsort(np.where(is_word, rng.random(shape), 2.0), axis=-1)

    # Decoy opinions, in sentences that are not the verdict: the label's polarity with
    # probability decoy_agreement, the other one otherwise.
    n_opinions = rng.integers(1, decoy_opinions + 1, size=shape[:2])
    n_opinions[(rng.random(shape[:2]) >= opinion_rate) | (lengths == 0)] = 0
    agrees = rng.random(shape[:2] + (decoy_opinions,)) < decoy_agreement
    polarity = np.where(agrees, labels[:, None, None], 1 - labels[:, None, None])
    # The verdict: one opinion, whose polarity is the label.
    n_opinions[documents, key_sentence] = 1
    polarity[documents, key_sentence, 0] = labels
    opinion_words = opinion_ids[polarity, rng.integers(0, opinion_ids.shape[1], size=polarity.shape)]
    for slot in range(decoy_opinions):
        doc, sentence = np.nonzero(n_opinions > slot)
        ids[doc, sentence, places[doc, sentence, slot]] = opinion_words[doc, sentence, slot]
    ids[documents, key_sentence, places[documents, key_sentence, 1]] = marker_ids[
        rng.integers(0, len(marker_ids), size=n_documents)
    ]
    return Documents(ids.astype(np.int32), labels.astype(np.int64), key_sentence, vocabulary)


# Real reviews: text -> sentences -> words -> ids.

_LINE_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)  # IMDB reviews keep HTML line breaks
_SENTENCE_END = re.compile(r"[.!?]+|\n")
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")  # "didn't", "film's" stay whole words


def split_review(text):
    """Split a review into sentences of lower-case words.

    A sentence ends at ``.``, ``!``, ``?``, a new line or an HTML ``<br />``; a word is a
    run of letters and digits, with an apostrophe inside it allowed (``didn't``). Empty
    sentences are dropped.

    Args:
        text: the review, a str.

    Returns:
        A list of sentences, each a non-empty list of str.

    Raises:
        ValueError: ``text`` is not a str.

    Example:
        >>> split_review("A fine cast. But the plot?<br />I didn't care!")
        [['a', 'fine', 'cast'], ['but', 'the', 'plot'], ['i', "didn't", 'care']]
    """
    if not isinstance(text, str):
        raise ValueError(f"a review must be a str, got {type(text).__name__}")
    text = _LINE_BREAK.sub("\n", text).lower()
    sentences = (_WORD.findall(piece) for piece in _SENTENCE_END.split(text))
    return [words for words in sentences if words]


def review_vocabulary(tokenised_reviews, max_size=20000):
    """The most frequent words of some reviews, as a :class:`Vocabulary`.

    Args:
        tokenised_reviews: reviews as lists of sentences of words (see :func:`split_review`).
        max_size: the most words to keep, besides :data:`UNKNOWN` (the first word, id 3).

    Returns:
        A :class:`Vocabulary` of ``<unk>`` followed by the words, most frequent first (ties
        in alphabetical order, so the vocabulary does not depend on the order of the reviews).

    Raises:
        ValueError: ``max_size`` is not a positive integer.
    """
    max_size = _check_integer("max_size", max_size, 1)
    return word_vocabulary((word for review in tokenised_reviews for sentence in review for word in sentence), max_size)


def review_documents(texts, labels, *, vocabulary=None, max_vocabulary=20000, max_sentences=15, max_words=30):
    """Turn review texts into :class:`Documents` (sentences x words of word ids).

    Each review is split with :func:`split_review`; its first ``max_sentences`` sentences
    and the first ``max_words`` words of each are kept (real reviews are long, and the
    array must be rectangular); words outside the vocabulary become :data:`UNKNOWN`.

    Args:
        texts: the reviews, a sequence of str.
        labels: one label per review (e.g. 1 positive, 0 negative).
        vocabulary: the :class:`Vocabulary` to use; ``None`` builds one from these reviews
            with :func:`review_vocabulary` (do that on the training reviews, and pass it on
            to the test reviews).
        max_vocabulary: the size of a vocabulary built here.
        max_sentences, max_words: the padded shape of a document.

    Returns:
        :class:`Documents` with ``key_sentence`` all -1 (nobody marked a deciding sentence).

    Raises:
        ValueError: as many labels as texts are needed, the sizes must be positive, and a
            given vocabulary must hold :data:`UNKNOWN`.
    """
    texts = list(texts)
    labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    if len(labels) != len(texts):
        raise ValueError(f"expected one label per review, got {len(labels)} labels for {len(texts)} reviews")
    max_sentences = _check_integer("max_sentences", max_sentences, 1)
    max_words = _check_integer("max_words", max_words, 1)
    tokenised = [split_review(text) for text in texts]
    if vocabulary is None:
        vocabulary = review_vocabulary(tokenised, max_vocabulary)
    elif UNKNOWN not in vocabulary:
        raise ValueError(f"the vocabulary must contain {UNKNOWN!r} for words it does not know")

    ids = np.zeros((len(texts), max_sentences, max_words), dtype=np.int32)
    for k, review in enumerate(tokenised):
        for s, sentence in enumerate(review[:max_sentences]):
            words = sentence[:max_words]
            ids[k, s, : len(words)] = encode_words(vocabulary, words)
    return Documents(ids, labels, np.full(len(texts), -1, dtype=np.int64), vocabulary)


def read_review_folder(folder, *, classes=("neg", "pos"), limit=None):
    """Read reviews stored one per text file, in one sub-folder per class.

    This is the layout of the IMDB reviews (``aclImdb/train/pos/0_9.txt``...) and of
    ``keras.utils.text_dataset_from_directory``. Files are read in sorted order, so the
    result does not depend on the file system.

    Args:
        folder: the folder holding one sub-folder per class.
        classes: the sub-folder names; the label of a review is the index of its class
            (so by default ``neg`` is 0 and ``pos`` is 1).
        limit: read at most this many files per class (``None``: all).

    Returns:
        ``(texts, labels)``: a list of str and an int64 array.

    Raises:
        ValueError: a class folder is missing, holds no ``.txt`` file, or ``limit`` is
            not a positive integer.
    """
    if limit is not None:
        limit = _check_integer("limit", limit, 1)
    texts, labels = [], []
    for label, name in enumerate(classes):
        class_folder = os.path.join(folder, name)
        if not os.path.isdir(class_folder):
            raise ValueError(f"expected a folder {class_folder!r} of {name!r} reviews, found none")
        files = sorted(f for f in os.listdir(class_folder) if f.endswith(".txt"))
        if not files:
            raise ValueError(f"the folder {class_folder!r} holds no .txt review")
        for file_name in files[:limit]:
            with open(os.path.join(class_folder, file_name), encoding="utf-8") as review:
                texts.append(review.read())
            labels.append(label)
    return texts, np.asarray(labels, dtype=np.int64)


IMDB_URL = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"


def download_imdb_reviews(cache_dir=None):
    """Download the IMDB reviews of Maas et al. (2011) with Keras, unpack them once, return their folder.

    ``keras.utils.get_file`` downloads the archive (about 80 MB) into Keras's cache
    (``~/.keras/datasets``) the first time only. The archive is unpacked next to it once;
    later calls find the unpacked folder and return at once. Reading the reviews is
    :func:`read_review_folder`'s job, on ``<folder>/train`` and ``<folder>/test``.

    Args:
        cache_dir: where Keras caches the download; ``None`` for Keras's default.

    Returns:
        The path of the ``aclImdb`` folder, which holds ``train/`` and ``test/``.

    Raises:
        Exception: the download failed (offline, say); Keras raises a plain ``Exception``
            that names the URL. Catch it and carry on without the real reviews.
        ValueError: the archive does not hold ``aclImdb/train/pos``.
    """
    import shutil
    import tarfile

    import keras

    archive = keras.utils.get_file("aclImdb_v1.tar.gz", origin=IMDB_URL, cache_dir=cache_dir)
    unpacked = os.path.join(os.path.dirname(archive), "aclImdb_v1")
    folder = os.path.join(unpacked, "aclImdb")
    if not os.path.isdir(os.path.join(folder, "train", "pos")):
        # Unpack beside the final place, then rename: an interrupted unpacking leaves no
        # half-filled folder that a later call would take for the real one.
        partial = unpacked + ".partial"
        shutil.rmtree(partial, ignore_errors=True)
        with tarfile.open(archive) as reviews:
            if hasattr(tarfile, "data_filter"):  # Python >= 3.12 (and recent 3.10, 3.11)
                reviews.extractall(partial, filter="data")
            else:  # pragma: no cover - older Pythons
                reviews.extractall(partial)
        shutil.rmtree(unpacked, ignore_errors=True)
        os.replace(partial, unpacked)
    if not os.path.isdir(os.path.join(folder, "train", "pos")):
        raise ValueError(f"the archive {archive!r} holds no aclImdb/train/pos folder")
    return folder


__all__ += [
    "Documents",
    "IMDB_URL",
    "NEGATIVE_WORDS",
    "NEUTRAL_WORDS",
    "POSITIVE_WORDS",
    "UNKNOWN",
    "VERDICT_MARKERS",
    "download_imdb_reviews",
    "planted_documents",
    "read_review_folder",
    "review_documents",
    "review_vocabulary",
    "split_review",
]


# ----------------------------------------------------------------------------- real sentence pairs (appendix A)
#
# The Tatoeba sentence pairs as ManyThings.org packs them, and as TensorFlow's translation
# tutorials download them: one pair a line, "English<TAB>translation", and in the
# ManyThings files a third column with the attribution. A real corpus has no gold word
# alignment, so the alignment error of chapters 3 and 4 cannot be measured on it.

SENTENCE_PAIRS_URL = "http://storage.googleapis.com/download.tensorflow.org/data/spa-eng.zip"
# A word is a run of letters or digits (accents kept), with apostrophes inside it allowed;
# any other character that is not a space is a token of its own ("¿", "?", ",").
_PAIR_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)*|\S")


def tokenize_sentence(text):
    """Split one sentence into lower-case words and punctuation marks.

    The text is put in Unicode NFC form first, so that an accented letter is one character
    however it was typed, and a typographic apostrophe (’) becomes a plain one. Words keep
    their accents and inner apostrophes (``"don't"``, ``"l'homme"``); every other character
    that is not a space, punctuation included, is a token by itself.

    Args:
        text: the sentence, a str.

    Returns:
        A list of str, possibly empty.

    Raises:
        ValueError: ``text`` is not a str.

    Example:
        >>> tokenize_sentence("¿Dónde está el niño? Don’t ask.")
        ['¿', 'dónde', 'está', 'el', 'niño', '?', "don't", 'ask', '.']
    """
    if not isinstance(text, str):
        raise ValueError(f"a sentence must be a str, got {type(text).__name__}")
    text = unicodedata.normalize("NFC", text).replace("\u2019", "'").lower()
    return _PAIR_TOKEN.findall(text)


def sentence_vocabulary(sentences, max_size=None):
    """The most frequent tokens of some sentences, as a :class:`Vocabulary` with ``<unk>``.

    Args:
        sentences: tokenised sentences, each a list of str (see :func:`tokenize_sentence`).
        max_size: the most tokens to keep besides :data:`UNKNOWN`; ``None`` keeps all.

    Returns:
        A :class:`Vocabulary` of :data:`UNKNOWN` (id 3) followed by the tokens, most frequent
        first, ties in alphabetical order (so it does not depend on the order of the sentences).

    Raises:
        ValueError: ``max_size`` is given and is not a positive integer.
    """
    return word_vocabulary(itertools.chain.from_iterable(sentences), max_size)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class SentencePairs(_PairLists):
    """Real sentence pairs as token ids (see :func:`read_sentence_pairs`).

    It has what :func:`seq2seq_arrays`, :func:`split` and
    :func:`attncourse.models.accuracy_by_length` need, like :class:`ToyTranslation`, but no
    gold alignment: :attr:`alignment` is ``None``, and the alignment error cannot be
    computed (passing it to :func:`alignment_error` raises instead of returning a number).

    Attributes:
        source: list of 1-D int32 arrays, source token ids (no padding, no START/END).
        target: list of 1-D int32 arrays, target token ids.
        source_vocab, target_vocab: the two :class:`Vocabulary` objects; both hold
            :data:`UNKNOWN`, the id of every token outside the vocabulary.

    ``len(pairs)``, ``pairs[k]`` (a :class:`Pair` whose ``alignment`` is ``None``),
    ``pairs[a:b]``, ``pairs[[k1, k2]]`` and ``pairs.subset(indices)`` work as for
    :class:`ToyTranslation`.
    """

    source: list
    target: list
    source_vocab: Vocabulary
    target_vocab: Vocabulary

    @property
    def alignment(self):
        """``None``: nobody marked which word translates which in a real corpus."""
        return None

    def __repr__(self):
        lengths = f", source lengths {self.source_lengths.min()}-{self.source_lengths.max()}" if len(self) else ""
        return (
            f"SentencePairs({len(self)} pairs{lengths}, "
            f"{len(self.source_vocab)} source / {len(self.target_vocab)} target tokens, no gold alignment)"
        )


def read_sentence_pairs(path, *, limit=None, max_length=None, max_vocabulary=None, columns=(0, 1),
                        source_vocab=None, target_vocab=None):
    """Read tab-separated sentence pairs (the Tatoeba / ManyThings format) into token ids.

    Each non-blank line holds at least two tab-separated sentences, ``English<TAB>Spanish``
    in ``spa-eng.zip``; further columns (the attribution in the ManyThings files) are
    ignored. Both sentences are tokenised with :func:`tokenize_sentence`. The files are
    roughly sorted by length, shortest first, so ``limit`` keeps the shortest pairs: to
    sample all lengths, read everything and take a random :meth:`SentencePairs.subset`.

    Args:
        path: the text file, UTF-8.
        limit: keep at most this many pairs, in file order (``None``: all).
        max_length: drop the pairs with more tokens than this on either side, punctuation
            included (``None``: keep all).
        max_vocabulary: the most tokens of each vocabulary built here, besides
            :data:`UNKNOWN`; rarer tokens become :data:`UNKNOWN` (``None``: keep all).
        columns: ``(source column, target column)``; ``(1, 0)`` translates into English.
        source_vocab, target_vocab: vocabularies to reuse (e.g. those of a training file);
            ``None`` builds one from the pairs read, with :func:`sentence_vocabulary`.

    Returns:
        :class:`SentencePairs`, whose ``alignment`` is ``None``.

    Raises:
        ValueError: a line without enough tab-separated columns or with an empty sentence
            (the message names the file and the line), no pair left to return, a bad
            ``limit``, ``max_length``, ``max_vocabulary`` or ``columns``, or a given
            vocabulary without :data:`UNKNOWN`.
        OSError: the file cannot be read.
    """
    if limit is not None:
        limit = _check_integer("limit", limit, 1)
    if max_length is not None:
        max_length = _check_integer("max_length", max_length, 1)
    columns = tuple(columns)
    if (len(columns) != 2 or columns[0] == columns[1]
            or not all(isinstance(c, numbers.Integral) and not isinstance(c, bool) and c >= 0 for c in columns)):
        raise ValueError(f"columns must be two different column indices, e.g. (0, 1), got {columns!r}")
    for name, vocabulary in (("source_vocab", source_vocab), ("target_vocab", target_vocab)):
        if vocabulary is not None and UNKNOWN not in vocabulary:
            raise ValueError(f"{name} must contain {UNKNOWN!r} for the tokens it does not know")

    sources, targets = [], []
    with open(path, encoding="utf-8-sig") as lines:
        for number, line in enumerate(lines, start=1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            fields = line.split("\t")
            if len(fields) <= max(columns):
                raise ValueError(
                    f"{path}, line {number}: expected tab-separated sentences with columns {columns} "
                    f"(source, target), found {len(fields)} column(s): {line[:80]!r}"
                )
            source, target = (tokenize_sentence(fields[c]) for c in columns)
            if not source or not target:
                raise ValueError(f"{path}, line {number}: an empty sentence: {line[:80]!r}")
            if max_length is not None and max(len(source), len(target)) > max_length:
                continue
            sources.append(source)
            targets.append(target)
            if limit is not None and len(sources) == limit:
                break
    if not sources:
        detail = f" of at most {max_length} tokens" if max_length is not None else ""
        raise ValueError(f"{path} holds no sentence pair{detail}")
    if source_vocab is None:
        source_vocab = sentence_vocabulary(sources, max_vocabulary)
    if target_vocab is None:
        target_vocab = sentence_vocabulary(targets, max_vocabulary)
    return SentencePairs(
        [encode_words(source_vocab, s) for s in sources],
        [encode_words(target_vocab, t) for t in targets],
        source_vocab,
        target_vocab,
    )


def download_sentence_pairs(cache_dir=None, *, url=SENTENCE_PAIRS_URL):
    """Download a zipped sentence-pair file with Keras, unpack its text file once, return its path.

    By default this is TensorFlow's copy of the English-Spanish pairs of the Tatoeba
    project (``spa-eng.zip``, about 2.6 MB, some 118,000 pairs). ``keras.utils.get_file``
    downloads the archive into Keras's cache (``~/.keras/datasets``) the first time only;
    the text file is unpacked beside it once. A ManyThings archive (``fra-eng.zip``...)
    works the same, given its ``url``: its ``_about.txt`` is skipped.

    Args:
        cache_dir: where Keras caches the download; ``None`` for Keras's default.
        url: the address of the zip archive.

    Returns:
        The path of the unpacked text file, for :func:`read_sentence_pairs`.

    Raises:
        ConnectionError: the download failed (offline, say); the message names the URL.
            Catch it and carry on without the real pairs.
        ValueError: the archive is not a zip file, or holds no sentence-pair ``.txt``.
    """
    import shutil
    import zipfile

    import keras

    name = url.rstrip("/").rsplit("/", 1)[-1]
    try:
        archive = keras.utils.get_file(name, origin=url, cache_dir=cache_dir)
    except Exception as error:  # Keras raises a plain Exception for a failed fetch
        raise ConnectionError(
            f"could not download {url} ({error}); without a connection, give read_sentence_pairs "
            "the path of a local copy instead"
        ) from error
    folder = os.path.join(os.path.dirname(archive), name.removesuffix(".zip"))
    try:
        with zipfile.ZipFile(archive) as zipped:
            members = sorted(
                member for member in zipped.namelist()
                if member.endswith(".txt") and not os.path.basename(member).startswith("_")
            )
            if not members:
                raise ValueError(f"the archive {archive!r} holds no sentence-pair .txt file")
            text_file = os.path.join(folder, os.path.basename(members[0]))
            if not os.path.isfile(text_file):
                # Unpack to a side file, then rename: an interrupted unpacking leaves no
                # half-written file that a later call would take for the real one.
                os.makedirs(folder, exist_ok=True)
                partial = text_file + ".partial"
                with zipped.open(members[0]) as packed, open(partial, "wb") as unpacked:
                    shutil.copyfileobj(packed, unpacked)
                os.replace(partial, text_file)
    except zipfile.BadZipFile:
        raise ValueError(f"{archive!r} is not a zip archive; delete it and download again") from None
    return text_file


__all__ += [
    "SENTENCE_PAIRS_URL",
    "SentencePairs",
    "download_sentence_pairs",
    "read_sentence_pairs",
    "sentence_vocabulary",
    "tokenize_sentence",
]


# ----------------------------------------------------------------------------- planted cues (chapter 6)
#
# Chapter 6 pools a sentence into a few vectors with several attention hops. Its sentences
# are chatter with cue words planted at random places, and the label names the set of cues
# present, so a model has to find every cue, wherever it is, and only the cues' positions
# (never given to the model) tell afterwards where the hops should have looked.

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


__all__ += ["CHATTER_WORDS", "PlantedCues", "WEATHER_CUES", "planted_cues"]


# ----------------------------------------------------------------------------- running text (chapter 7)
#
# Chapter 7 trains word-level language models (Daniluk et al., 2017) on text that ships
# with Python itself: the reference documentation kept in `pydoc_data.topics` (what
# `help("assert")` prints), about a hundred thousand words, nothing to download. A
# language model reads one long stream of word ids, cut into windows; the target of each
# step is the next word.

# A word is a lower-case identifier (`__debug__` and `assert_stmt` stay whole), a number, or
# a punctuation mark; a run of one repeated mark, such as the `*****` under a heading, is
# one token, so that underlines do not flood the text with easy predictions.
_TEXT_TOKEN = re.compile(r"[a-z_][a-z0-9_]*|[0-9]+|([^\w\s])\1*")


class TextCorpus(NamedTuple):
    """A language-modelling corpus made by :func:`python_docs_corpus`.

    Attributes:
        vocabulary: the :class:`Vocabulary`; its first word is :data:`UNKNOWN`.
        train_inputs, train_targets: int32 arrays ``(n_train, length)``; the targets are
            the inputs shifted by one word (``targets[:, t]`` is the word after
            ``inputs[:, t]``).
        test_inputs, test_targets: the same for the held-out windows.
        context: the number of leading steps of every window that only give context: the
            model reads them but is not scored on them (see :func:`language_model_windows`).
    """

    vocabulary: Vocabulary
    train_inputs: np.ndarray
    train_targets: np.ndarray
    test_inputs: np.ndarray
    test_targets: np.ndarray
    context: int = 0

    def scored(self, targets):
        """Sample weights for ``targets``: 0 on the context steps, 1 on the scored ones."""
        weights = (np.arange(targets.shape[1]) >= self.context).astype("float32")
        return np.broadcast_to(weights, targets.shape)


def word_tokens(text):
    """Split text into lower-case words, numbers and punctuation marks.

    Args:
        text: a str.

    Returns:
        A list of str tokens, e.g. ``word_tokens('The "assert" statement.')`` is
        ``['the', '"', 'assert', '"', 'statement', '.']``.

    Raises:
        ValueError: ``text`` is not a str.
    """
    if not isinstance(text, str):
        raise ValueError(f"text must be a str, got {type(text).__name__}")
    return [match.group(0) for match in _TEXT_TOKEN.finditer(text.lower())]


def python_docs_text():
    """The reference documentation that ships with Python, as one str.

    The pages of ``pydoc_data.topics`` (what ``help("topic")`` prints), in alphabetical
    order of their topic names, separated by blank lines. The text differs a little from one
    Python version to the next.
    """
    from pydoc_data.topics import topics

    return "\n\n".join(topics[name] for name in sorted(topics))


def language_model_windows(ids, length, context=0):
    """Cut a stream of word ids into windows of inputs and next-word targets.

    With ``context = 0``, window ``i`` reads ``ids[i*length : (i+1)*length]`` and must
    predict ``ids[i*length + 1 : (i+1)*length + 1]``; windows do not overlap, and the words
    left over at the end are dropped.

    With ``context = c > 0`` every window also reads the ``c`` words before its own
    ``length`` words: window ``i`` reads ``ids[i*length : i*length + c + length]``. The
    windows then overlap by ``c`` steps, and a model should be scored only on the last
    ``length`` steps of each (the first ``c`` give its state and its memory something to
    remember, as if the text had been read from its start); every word is then predicted
    exactly once, as with ``context = 0``.

    Args:
        ids: 1-D integer array of word ids.
        length: the number of scored steps in a window, at least 1.
        context: the number of context steps in front of them, at least 0.

    Returns:
        ``(inputs, targets)``, two int32 arrays of shape ``(n_windows, context + length)``.

    Raises:
        ValueError: ``ids`` is not 1-D, ``length`` is not a positive integer, ``context``
            is negative, or the stream is too short for one window (it needs
            ``context + length + 1`` ids).
    """
    ids = np.asarray(ids)
    if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"ids must be a 1-D array of integer word ids, got shape {ids.shape} and dtype {ids.dtype}")
    length = _check_integer("length", length, 1)
    context = _check_integer("context", context, 0)
    n_windows = (len(ids) - 1 - context) // length
    if n_windows < 1:
        raise ValueError(
            f"a window of {context} + {length} steps needs at least {context + length + 1} ids, got {len(ids)}"
        )
    starts = np.arange(n_windows) * length
    positions = starts[:, None] + np.arange(context + length)[None, :]
    return ids[positions].astype(np.int32), ids[positions + 1].astype(np.int32)


def python_docs_corpus(max_words=1000, length=30, test_every=10, context=0):
    """Python's own documentation as a word-level language-modelling corpus.

    The text of :func:`python_docs_text` is split by :func:`word_tokens`, the vocabulary is
    its ``max_words`` most frequent tokens plus :data:`UNKNOWN` (built from the whole text:
    the held-out windows have no word the model could not name), and the stream is cut
    into windows by :func:`language_model_windows`. Every ``test_every``-th window is held
    out, so the test text comes from all over the documentation rather than from the last
    pages only. Nothing here is random: the corpus is the same for every seed.

    With ``context > 0`` each window starts with that many words of context, read but not
    scored (``corpus.scored(targets)`` gives the sample weights); the scored words of the
    held-out windows are still never a training target, though the first training window
    after a held-out one reads its last words as context.

    Args:
        max_words: the vocabulary size, besides :data:`UNKNOWN` and the reserved tokens.
        length: the number of scored steps in a window.
        test_every: hold out one window in this many (at least 2).
        context: the number of context steps in front of every window (at least 0).

    Returns:
        A :class:`TextCorpus`.

    Raises:
        ValueError: a size that is not a positive integer, a negative ``context``, or
            ``test_every`` below 2.
    """
    test_every = _check_integer("test_every", test_every, 2)
    context = _check_integer("context", context, 0)
    tokens = word_tokens(python_docs_text())
    vocabulary = word_vocabulary(tokens, max_words)
    inputs, targets = language_model_windows(encode_words(vocabulary, tokens), length, context)
    held_out = np.arange(len(inputs)) % test_every == test_every - 1
    return TextCorpus(
        vocabulary, inputs[~held_out], targets[~held_out], inputs[held_out], targets[held_out], context
    )


__all__ += [
    "TextCorpus",
    "encode_words",
    "language_model_windows",
    "python_docs_corpus",
    "python_docs_text",
    "word_tokens",
    "word_vocabulary",
]
