"""The toy translation task: two synthetic languages, with the gold word alignment of every pair.

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

:func:`toy_translation` generates a :class:`ToyTranslation` (source and target token
ids, gold alignments, the two :class:`~attncourse.data.vocabulary.Vocabulary` objects).
The rest of the task lives beside it: :func:`~attncourse.data.pairs.seq2seq_arrays`
turns the pairs into the arrays a teacher-forced Keras model fits on,
:func:`~attncourse.data.rows.split` makes train and test sets,
:mod:`attncourse.data.lengths` groups sentences by length and
:mod:`attncourse.data.alignment` scores attention against the gold alignments.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import numbers
from typing import NamedTuple

import numpy as np

from attncourse.data.arguments import _check_integer
from attncourse.data.pairs import _PairLists
from attncourse.data.vocabulary import _RESERVED_TOKENS, Vocabulary

__all__ = [
    "ADJ",
    "ADV",
    "CONJ",
    "DET",
    "MIN_LENGTH",
    "MIN_VOCAB_SIZE",
    "NOUN",
    "PREP",
    "REORDERINGS",
    "ToyTranslation",
    "VERB",
    "toy_translation",
]

# The word orders the target language can change, in the order they are applied.
REORDERINGS = ("adjective_noun", "verb_final")


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
