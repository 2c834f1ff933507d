"""Tests of attncourse.data.toy_language: the toy translation language, its reorderings and its lengths."""


import numpy as np
import pytest

from attncourse import data as D
from attncourse.data import END, ToyTranslation, length_buckets, toy_translation
from attncourse.data.toy_language import _WORD_LISTS
from tests.test_data_pairs import same_pairs


@pytest.fixture(scope="module")
def corpus():
    return toy_translation(1500, seed=3)


def classes_of(data, k):
    """Word class names of source sentence k."""
    return [data.word_classes[word] for word in data.source_vocab.decode(data.source[k])]


def clause_spans(classes):
    """(start, stop) of each clause of a source sentence (clauses are split by conjunctions)."""
    spans, start = [], 0
    for position, word_class in enumerate(classes + ["conjunction"]):
        if word_class == "conjunction":
            spans.append((start, position))
            start = position + 1
    return spans


# ----------------------------------------------------------------------------- the language


def test_word_lists_are_distinct_across_classes():
    words = [word for listed in _WORD_LISTS.values() for word in listed]
    assert len(words) == len(set(words))
    assert all(word.isalpha() and word.islower() for word in words)


@pytest.mark.parametrize("vocab_size", [D.MIN_VOCAB_SIZE, 20, 40, 200, 450])
def test_vocab_size_is_the_number_of_source_words(vocab_size):
    data = toy_translation(300, vocab_size=vocab_size, max_length=15)
    assert len(data.source_vocab) == vocab_size + 3
    assert len(data.target_vocab) == vocab_size + 3
    assert len(data.lexicon) == vocab_size
    counts = {}
    for word_class in data.word_classes.values():
        counts[word_class] = counts.get(word_class, 0) + 1
    assert len(counts) == 7 and min(counts.values()) >= 2
    if vocab_size >= 200:
        # The open classes dominate, nouns most of all.
        assert counts["noun"] > counts["adjective"] >= counts["determiner"]
        assert counts["noun"] > counts["verb"] >= counts["conjunction"]


def test_result_types_and_contents(corpus):
    assert isinstance(corpus, ToyTranslation)
    assert len(corpus) == 1500
    assert corpus.reorder == ("adjective_noun", "verb_final")
    assert (corpus.vocab_size, corpus.min_length, corpus.max_length, corpus.seed) == (200, 3, 40, 3)
    for field in (corpus.source, corpus.target, corpus.alignment):
        assert isinstance(field, list) and len(field) == len(corpus)
    for source, target, alignment in corpus:
        assert source.dtype == np.int32 and target.dtype == np.int32 and alignment.ndim == 1
        assert source.ndim == 1 and target.ndim == 1
        assert np.issubdtype(alignment.dtype, np.integer)
        # Real words only: no padding, START or END inside the data.
        assert source.min() > END and target.min() > END
        assert source.max() < len(corpus.source_vocab) and target.max() < len(corpus.target_vocab)
        assert len(alignment) == len(target)
    # Both vocabularies reserve the same ids.
    assert corpus.source_vocab.tokens[:3] == corpus.target_vocab.tokens[:3] == ("<pad>", "<start>", "<end>")


def test_lexicon_is_one_to_one_and_target_words_are_made_up(corpus):
    translations = [t for translation in corpus.lexicon.values() for t in translation]
    assert all(len(translation) == 1 for translation in corpus.lexicon.values())
    assert len(set(translations)) == len(translations)
    assert set(translations) == set(corpus.target_vocab.words)
    assert not set(translations) & set(corpus.source_vocab.words)


def test_every_target_word_translates_its_aligned_source_word(corpus):
    for k in range(len(corpus)):
        source_words, target_words = corpus.words(k)
        for i, j in enumerate(corpus.alignment[k]):
            assert target_words[i] == corpus.lexicon[source_words[j]][0]
        # One-to-one lexicon: the alignment is a permutation of the source positions.
        assert sorted(corpus.alignment[k].tolist()) == list(range(len(source_words)))


def test_no_reordering_gives_the_identity_alignment():
    data = toy_translation(300, reorder=(), seed=5)
    assert data.reorder == ()
    for source, target, alignment in data:
        assert np.array_equal(alignment, np.arange(len(source)))
        translated = [data.lexicon[w][0] for w in data.source_vocab.decode(source)]
        assert data.target_vocab.decode(target) == translated


def test_adjective_noun_moves_adjectives_after_their_noun():
    data = toy_translation(400, reorder=("adjective_noun",), seed=1)
    with_adjectives = 0
    for k in range(len(data)):
        classes = classes_of(data, k)
        alignment = data.alignment[k]
        has_adjective = "adjective" in classes
        with_adjectives += has_adjective
        assert np.array_equal(alignment, np.arange(len(classes))) != has_adjective
        target_classes = [classes[j] for j in alignment]
        for i, word_class in enumerate(target_classes):
            if word_class == "adjective":  # follows its noun or another adjective
                assert target_classes[i - 1] in ("noun", "adjective")
            if word_class == "determiner":  # a noun phrase starts determiner, noun
                assert target_classes[i + 1] == "noun"
        # Source order is the usual one: an adjective precedes a noun or an adjective.
        for i, word_class in enumerate(classes):
            if word_class == "adjective":
                assert classes[i + 1] in ("noun", "adjective")
        # Only words within a noun phrase move: verbs stay in place.
        verbs = [j for j, c in enumerate(classes) if c == "verb"]
        assert all(alignment[j] == j for j in verbs)
    assert with_adjectives > 100


def test_verb_final_moves_each_verb_to_its_clause_end():
    data = toy_translation(400, reorder=("verb_final",), seed=2)
    moved = 0
    for k in range(len(data)):
        classes = classes_of(data, k)
        alignment = data.alignment[k].tolist()
        for start, stop in clause_spans(classes):
            clause = classes[start:stop]
            assert clause.count("verb") == 1
            verb = start + clause.index("verb")
            # The clause keeps its span; inside it the verb comes last, the rest keep their order.
            expected = [j for j in range(start, stop) if j != verb] + [verb]
            assert alignment[start:stop] == expected
            moved += verb != stop - 1
            # Source is subject-verb-object: determiner, adjectives, noun, then the verb.
            assert classes[verb - 1] == "noun" and classes[start] == "determiner"
        conjunctions = [j for j, c in enumerate(classes) if c == "conjunction"]
        assert all(alignment[j] == j for j in conjunctions)
    assert moved > 300


def test_both_reorderings_compose():
    both = toy_translation(200, seed=4)
    verb_only = toy_translation(200, reorder=("verb_final",), seed=4)
    adjective_only = toy_translation(200, reorder=["adjective_noun"], seed=4)
    assert all(np.array_equal(a, b) for a, b in zip(both.source, verb_only.source))
    crossing = 0
    for k in range(len(both)):
        # Composition: adjective-noun inversion inside the phrases, then each verb to its clause end.
        composed = np.asarray(adjective_only.alignment[k])[np.asarray(verb_only.alignment[k])]
        assert sorted(both.alignment[k].tolist()) == list(range(len(both.source[k])))
        crossing += not np.array_equal(both.alignment[k], np.arange(len(both.source[k])))
        # Same set of words per clause, and verbs last, as with verb_final alone.
        classes = classes_of(both, k)
        for start, stop in clause_spans(classes):
            assert sorted(both.alignment[k][start:stop].tolist()) == list(range(start, stop))
            assert classes[both.alignment[k][stop - 1]] == "verb"
        assert np.array_equal(composed, both.alignment[k])
    assert crossing > 150


def test_reorder_accepts_a_single_name_and_normalises_order():
    assert toy_translation(5, reorder="verb_final").reorder == ("verb_final",)
    assert toy_translation(5, reorder=("verb_final", "adjective_noun")).reorder == D.REORDERINGS


def test_two_word_translations_are_aligned_to_their_source_word():
    data = toy_translation(400, two_word_fraction=0.3, seed=6)
    two_words = [w for w, translation in data.lexicon.items() if len(translation) == 2]
    content = [w for w, c in data.word_classes.items() if c in ("noun", "adjective", "verb", "adverb")]
    assert len(two_words) == round(0.3 * len(content))
    assert all(data.word_classes[w] in ("noun", "adjective", "verb", "adverb") for w in two_words)
    assert len(data.target_vocab) == len(data.source_vocab) + len(two_words)
    longer = 0
    for k in range(len(data)):
        source_words, target_words = data.words(k)
        alignment = data.alignment[k].tolist()
        # Walking the target, each source word's translation appears whole and in order.
        rebuilt = []
        for i, j in enumerate(alignment):
            if i == 0 or alignment[i - 1] != j:
                rebuilt.extend(data.lexicon[source_words[j]])
        assert rebuilt == target_words
        assert sorted(set(alignment)) == list(range(len(source_words)))
        longer += len(target_words) > len(source_words)
    assert longer > 300


def test_two_word_translations_without_reordering_are_monotone():
    data = toy_translation(200, reorder=(), two_word_fraction=1.0, seed=6)
    for source, target, alignment in data:
        assert np.all(np.diff(alignment) >= 0)
        assert np.array_equal(np.unique(alignment), np.arange(len(source)))
        counts = np.bincount(alignment, minlength=len(source))
        expected = [len(data.lexicon[w]) for w in data.source_vocab.decode(source)]
        assert counts.tolist() == expected


# ----------------------------------------------------------------------------- lengths


def test_lengths_cover_the_whole_range_uniformly(corpus):
    lengths = corpus.source_lengths
    assert lengths.min() == 3 and lengths.max() == 40
    counts = np.bincount(lengths, minlength=41)[3:]
    assert np.all(counts > 0)
    # Uniform: 1500 / 38 ~ 39 per length; every bucket of 10 lengths gets its share.
    edges = (3, 10, 20, 30, 40)
    per_bucket = np.bincount(length_buckets(lengths, edges), minlength=4)
    expected = np.array([8, 10, 10, 10]) / 38 * len(corpus)
    assert np.all(np.abs(per_bucket - expected) < 0.25 * expected)


@pytest.mark.parametrize("length", list(range(3, 41)) + [55, 80])
def test_every_length_is_produced_exactly(length):
    data = toy_translation(30, min_length=length, max_length=length, vocab_size=30, seed=length)
    assert np.all(data.source_lengths == length)
    assert np.all(data.target_lengths == length)
    for k in range(len(data)):
        classes = classes_of(data, k)
        # Every clause has a subject and exactly one verb.
        for start, stop in clause_spans(classes):
            assert stop - start >= 3 and classes[start:stop].count("verb") == 1
            assert classes[start] == "determiner"


def test_long_sentences_have_several_clauses():
    data = toy_translation(200, min_length=30, max_length=40, seed=9)
    clauses = [len(clause_spans(classes_of(data, k))) for k in range(len(data))]
    assert min(clauses) >= 2 and np.mean(clauses) > 3


def test_small_vocabulary_and_short_lengths_for_the_ci_profile():
    data = toy_translation(500, vocab_size=20, min_length=3, max_length=10, seed=0)
    assert set(np.unique(data.source_lengths).tolist()) == set(range(3, 11))
    used = np.unique(np.concatenate(data.source))
    assert len(used) == 20  # every word of a small vocabulary appears


# ----------------------------------------------------------------------------- determinism


def test_same_seed_same_data_other_seed_other_data():
    a = toy_translation(200, seed=11)
    b = toy_translation(200, seed=11)
    c = toy_translation(200, seed=12)
    assert same_pairs(a, b)
    assert a.lexicon == b.lexicon and a.target_vocab == b.target_vocab
    assert a.source_vocab == c.source_vocab  # the source words are fixed by vocab_size
    assert a.lexicon != c.lexicon
    differing = sum(
        len(x) != len(y) or not np.array_equal(x, y) for x, y in zip(a.source, c.source)
    )
    assert differing > 190


def test_a_small_run_is_a_prefix_of_a_large_one():
    small = toy_translation(50, seed=2)
    large = toy_translation(400, seed=2)
    assert same_pairs(small, large[:50])
    assert small.lexicon == large.lexicon


def test_generation_uses_no_global_random_state():
    np.random.seed(0)
    before = np.random.random()
    np.random.seed(0)
    toy_translation(20, seed=1)
    assert np.random.random() == before


# ----------------------------------------------------------------------------- bad parameters


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n_pairs": 0}, "n_pairs must be at least 1, got 0"),
        ({"n_pairs": -5}, "n_pairs must be at least 1, got -5"),
        ({"n_pairs": 2.5}, "n_pairs must be an integer, got 2.5"),
        ({"min_length": 0}, "min_length must be at least 3, got 0"),
        ({"min_length": 2}, "min_length must be at least 3, got 2"),
        ({"min_length": 12, "max_length": 10}, r"min_length \(12\) must not exceed max_length \(10\)"),
        ({"max_length": 0}, "max_length must be at least 1, got 0"),
        ({"vocab_size": 13}, "vocab_size must be at least 14, got 13"),
        ({"vocab_size": "200"}, "vocab_size must be an integer"),
        ({"seed": -1}, "seed must be at least 0, got -1"),
        (
            {"reorder": ("adjective_noun", "subject_last")},
            r"unknown reorder \['subject_last'\].*adjective_noun.*verb_final",
        ),
        ({"reorder": 3}, "reorder must be a tuple"),
        ({"two_word_fraction": 1.5}, r"two_word_fraction must be a number in \[0, 1\], got 1.5"),
        ({"two_word_fraction": -0.1}, "two_word_fraction"),
    ],
)
def test_impossible_parameters_raise(kwargs, message):
    kwargs = {"n_pairs": 10, **kwargs}
    n_pairs = kwargs.pop("n_pairs")
    with pytest.raises(ValueError, match=message):
        toy_translation(n_pairs, **kwargs)


# ----------------------------------------------------------------------------- the data set


def test_frozen_and_readable(corpus):
    with pytest.raises(AttributeError):
        corpus.seed = 4
    text = repr(corpus)
    assert "1500 pairs" in text and "seed=3" in text and len(text) < 300
    source_words, target_words = corpus.words(0)
    assert len(source_words) == len(corpus.source[0]) and len(target_words) == len(corpus.target[0])
