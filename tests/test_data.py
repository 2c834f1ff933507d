"""Tests of attncourse.data: the toy translation language, padding, buckets and AER."""


import numpy as np
import pytest

from attncourse import data as D
from attncourse.data import (
    END,
    PAD,
    START,
    Pair,
    ToyTranslation,
    Vocabulary,
    alignment_error,
    alignment_links,
    bucket_labels,
    gold_links,
    length_buckets,
    pad,
    seq2seq_arrays,
    split,
    toy_translation,
)


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


def same_pairs(a, b):
    return (
        len(a) == len(b)
        and all(np.array_equal(x, y) for x, y in zip(a.source, b.source))
        and all(np.array_equal(x, y) for x, y in zip(a.target, b.target))
        and all(np.array_equal(x, y) for x, y in zip(a.alignment, b.alignment))
    )


# ----------------------------------------------------------------------------- Vocabulary


def test_vocabulary_reserved_ids_and_lookup():
    vocab = Vocabulary(["the", "dog", "runs"])
    assert (PAD, START, END) == (0, 1, 2)
    assert len(vocab) == 6
    assert [vocab.token(i) for i in range(3)] == ["<pad>", "<start>", "<end>"]
    assert vocab.id("the") == 3 and vocab.token(5) == "runs"
    assert vocab.token(np.int64(4)) == "dog"
    assert vocab.words == ("the", "dog", "runs")
    assert "dog" in vocab and "cat" not in vocab


def test_vocabulary_round_trip():
    vocab = Vocabulary(["the", "dog", "runs", "fast"])
    words = ["the", "dog", "runs", "fast", "the", "dog"]
    ids = vocab.encode(words)
    assert ids.dtype == np.int32 and ids.ndim == 1
    assert vocab.decode(ids) == words
    assert np.array_equal(vocab.encode("the dog runs"), vocab.encode(["the", "dog", "runs"]))
    assert vocab.encode([]).shape == (0,)


def test_vocabulary_decode_stops_at_end_and_drops_pad_and_start():
    vocab = Vocabulary(["a", "b", "c"])
    a, b, c = vocab.encode("a b c")
    assert vocab.decode([START, a, PAD, b, END, c, c]) == ["a", "b"]
    assert vocab.decode(np.array([START, END, a])) == []
    assert vocab.decode([a, b, c, PAD, PAD]) == ["a", "b", "c"]


@pytest.mark.parametrize(
    "words, message",
    [
        (["a", "b", "a"], "distinct"),
        (["a", "<end>"], "reserved"),
        (["a", ""], "non-empty"),
        (["a b"], "spaces"),
    ],
)
def test_vocabulary_rejects_bad_words(words, message):
    with pytest.raises(ValueError, match=message):
        Vocabulary(words)


def test_vocabulary_lookup_errors():
    vocab = Vocabulary(["a", "b"])
    with pytest.raises(ValueError, match="'zebra' is not in the vocabulary"):
        vocab.id("zebra")
    with pytest.raises(ValueError, match="not in the vocabulary"):
        vocab.encode("a zebra")
    with pytest.raises(ValueError, match=r"\[0, 4\]"):
        vocab.token(5)
    with pytest.raises(ValueError, match="token id"):
        vocab.token(-1)
    with pytest.raises(ValueError, match="token id"):
        vocab.decode([3, 99])
    with pytest.raises(ValueError, match="1-D"):
        vocab.decode([[3, 4]])


def test_vocabulary_equality():
    assert Vocabulary(["a", "b"]) == Vocabulary(["a", "b"])
    assert Vocabulary(["a", "b"]) != Vocabulary(["b", "a"])
    assert "Vocabulary(5 tokens" in repr(Vocabulary(["a", "b"]))


# ----------------------------------------------------------------------------- the language


def test_word_lists_are_distinct_across_classes():
    words = [word for listed in D._WORD_LISTS.values() for word in listed]
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


# ----------------------------------------------------------------------------- indexing


def test_indexing_slicing_and_subset(corpus):
    pair = corpus[4]
    assert isinstance(pair, Pair)
    assert pair.source is corpus.source[4] and pair.alignment is corpus.alignment[4]
    source, target, alignment = corpus[-1]
    assert source is corpus.source[-1]

    part = corpus[10:13]
    assert isinstance(part, ToyTranslation) and len(part) == 3
    assert part.source_vocab is corpus.source_vocab and part.lexicon is corpus.lexicon
    assert (part.seed, part.reorder, part.max_length) == (corpus.seed, corpus.reorder, corpus.max_length)
    assert np.array_equal(part.target[0], corpus.target[10])

    picked = corpus.subset([7, 2, 7])
    assert [len(s) for s in picked.source] == [len(corpus.source[k]) for k in (7, 2, 7)]
    assert same_pairs(corpus[[7, 2, 7]], picked)
    mask = corpus.source_lengths <= 10
    short = corpus.subset(mask)
    assert len(short) == mask.sum() and short.source_lengths.max() <= 10
    assert len(corpus.subset([])) == 0

    with pytest.raises(IndexError):
        corpus[len(corpus)]
    with pytest.raises(IndexError):
        corpus.subset([0, len(corpus)])
    with pytest.raises(ValueError, match="boolean mask"):
        corpus.subset(np.ones(3, dtype=bool))
    assert sum(1 for _ in corpus[:5]) == 5


def test_frozen_and_readable(corpus):
    with pytest.raises(AttributeError):
        corpus.seed = 4
    text = repr(corpus)
    assert "1500 pairs" in text and "seed=3" in text and len(text) < 300
    source_words, target_words = corpus.words(0)
    assert len(source_words) == len(corpus.source[0]) and len(target_words) == len(corpus.target[0])


# ----------------------------------------------------------------------------- pad, seq2seq arrays


def test_pad_shapes_values_and_dtype():
    padded = pad([[5, 6, 7], [8], np.array([9, 10], dtype=np.int64)])
    assert padded.dtype == np.int32
    assert padded.tolist() == [[5, 6, 7], [8, 0, 0], [9, 10, 0]]
    assert pad([[5], [6, 7]], length=4, value=-1).tolist() == [[5, -1, -1, -1], [6, 7, -1, -1]]
    assert pad([], length=3).shape == (0, 3)
    assert pad([[], []]).shape == (2, 0)


def test_pad_never_truncates():
    with pytest.raises(ValueError, match="sequence 1 has 3 tokens, more than length=2"):
        pad([[1], [1, 2, 3]], length=2)
    with pytest.raises(ValueError, match="1-D"):
        pad([[[1, 2]]])
    with pytest.raises(ValueError, match="at least one sequence"):
        pad([])
    with pytest.raises(ValueError, match="length must be at least 0"):
        pad([[1]], length=-1)


def test_seq2seq_arrays_teacher_forcing_layout(corpus):
    data = corpus[:40]
    arrays = seq2seq_arrays(data)
    assert set(arrays) == {"source", "decoder_input", "decoder_target"}
    n = len(data)
    longest_source, longest_target = data.source_lengths.max(), data.target_lengths.max()
    assert arrays["source"].shape == (n, longest_source)
    assert arrays["decoder_input"].shape == arrays["decoder_target"].shape == (n, longest_target + 1)
    assert all(a.dtype == np.int32 for a in arrays.values())
    for k in range(n):
        source, target = data.source[k], data.target[k]
        s, t = len(source), len(target)
        assert np.array_equal(arrays["source"][k, :s], source) and np.all(arrays["source"][k, s:] == PAD)
        decoder_input, decoder_target = arrays["decoder_input"][k], arrays["decoder_target"][k]
        assert decoder_input[0] == START and np.array_equal(decoder_input[1 : t + 1], target)
        assert np.array_equal(decoder_target[:t], target) and decoder_target[t] == END
        # Input is the target shifted right by one: step i sees word i-1 and predicts word i.
        assert np.array_equal(decoder_input[1 : t + 1], decoder_target[:t])
        assert np.all(decoder_input[t + 1 :] == PAD) and np.all(decoder_target[t + 1 :] == PAD)
        assert np.count_nonzero(decoder_target == END) == 1 and np.count_nonzero(decoder_input == START) == 1
        assert data.target_vocab.decode(decoder_target) == data.target_vocab.decode(target)


def test_seq2seq_arrays_fixed_lengths():
    data = toy_translation(20, max_length=8, seed=1)
    arrays = seq2seq_arrays(data, source_length=10, target_length=12)
    assert arrays["source"].shape == (20, 10) and arrays["decoder_target"].shape == (20, 12)
    with pytest.raises(ValueError, match="more than length=8"):
        # The longest target has 8 words, so its decoder arrays need 9 columns.
        seq2seq_arrays(toy_translation(50, min_length=8, max_length=8), target_length=8)
    with pytest.raises(ValueError, match="more than length=5"):
        seq2seq_arrays(data, source_length=5)


# ----------------------------------------------------------------------------- split


def test_split_partitions_the_pairs(corpus):
    train, test = split(corpus, test_fraction=0.2, seed=1)
    assert len(test) == 300 and len(train) == 1200

    def key(data):
        return sorted(s.tobytes() + b"|" + t.tobytes() for s, t in zip(data.source, data.target))

    assert sorted(key(train) + key(test)) == key(corpus)
    again_train, again_test = split(corpus, test_fraction=0.2, seed=1)
    assert same_pairs(train, again_train) and same_pairs(test, again_test)
    _, other_test = split(corpus, test_fraction=0.2, seed=2)
    assert not same_pairs(test, other_test)
    assert train.lexicon is corpus.lexicon


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.2, 1.5, "half"])
def test_split_rejects_bad_fractions(corpus, fraction):
    with pytest.raises(ValueError, match="test_fraction"):
        split(corpus, test_fraction=fraction)


def test_split_rejects_an_empty_side():
    with pytest.raises(ValueError, match="both sides need at least one pair"):
        split(toy_translation(3), test_fraction=0.1)


# ----------------------------------------------------------------------------- buckets


def test_length_buckets_edge_rule():
    edges = (3, 10, 20, 40)
    lengths = [3, 4, 10, 11, 20, 21, 39, 40]
    assert length_buckets(lengths, edges).tolist() == [0, 0, 0, 1, 1, 2, 2, 2]
    assert bucket_labels(edges) == ["3–10", "11–20", "21–40"]
    assert bucket_labels([3, 4, 10]) == ["3–4", "5–10"]
    assert bucket_labels([3, 5, 6]) == ["3–5", "6"]
    assert length_buckets(np.array([5, 6]), [3, 5, 6]).tolist() == [0, 1]
    assert length_buckets([], edges).shape == (0,)


def test_every_length_falls_in_the_bucket_its_label_names():
    edges = [3, 7, 12, 25, 40]
    labels = bucket_labels(edges)
    for length, bucket in zip(range(3, 41), length_buckets(np.arange(3, 41), edges)):
        low, _, high = labels[bucket].partition("–")
        assert int(low) <= length <= int(high or low)


@pytest.mark.parametrize(
    "lengths, edges, message",
    [
        ([2, 5], (3, 10), "length 2 is outside the buckets 3..10"),
        ([11], (3, 10), "length 11 is outside"),
        ([5], (3,), "at least two"),
        ([5], (3, 3, 10), "strictly increasing"),
        ([5], (10, 3), "strictly increasing"),
        ([5], (3.0, 10.5), "integers"),
        ([[5]], (3, 10), "1-D"),
    ],
)
def test_length_buckets_bad_inputs(lengths, edges, message):
    with pytest.raises(ValueError, match=message):
        length_buckets(lengths, edges)


def test_bucket_labels_bad_edges():
    with pytest.raises(ValueError, match="strictly increasing"):
        bucket_labels([10, 5])


# ----------------------------------------------------------------------------- links and AER


def test_alignment_links_argmax_per_row_ignores_padding():
    weights = np.array(
        [
            [0.7, 0.2, 0.1, 0.0],
            [0.1, 0.1, 0.3, 0.5],  # column 3 is padding when source_length = 3
            [0.2, 0.6, 0.2, 0.0],
            [0.0, 0.0, 0.0, 1.0],  # the END step or a padded row
        ]
    )
    assert alignment_links(weights) == {(0, 0), (1, 3), (2, 1), (3, 3)}
    assert alignment_links(weights, source_length=3, target_length=3) == {(0, 0), (1, 2), (2, 1)}
    assert alignment_links(weights, target_length=0) == set()
    links = alignment_links(weights[:, :3], source_length=3)
    assert all(type(i) is int and type(j) is int for i, j in links)


def test_alignment_links_bad_inputs():
    weights = np.ones((3, 4)) / 4
    with pytest.raises(ValueError, match=r"shape \(T_q, T_v\), got shape \(1, 3, 4\)"):
        alignment_links(weights[None])
    with pytest.raises(ValueError, match="source_length=5 exceeds the 4 columns"):
        alignment_links(weights, source_length=5)
    with pytest.raises(ValueError, match="target_length=4 exceeds the 3 rows"):
        alignment_links(weights, target_length=4)
    with pytest.raises(ValueError, match="source_length must be at least 1"):
        alignment_links(weights, source_length=0)


def test_gold_links():
    assert gold_links(np.array([2, 0, 1])) == {(0, 2), (1, 0), (2, 1)}
    assert gold_links([1, -1, 1]) == {(0, 1), (2, 1)}
    assert gold_links([]) == set()
    with pytest.raises(ValueError, match="1-D"):
        gold_links([[0, 1]])


def test_alignment_error_perfect_and_disjoint():
    gold = [np.array([0, 2, 1]), np.array([1, 0])]
    assert alignment_error(gold, gold) == 0.0
    assert alignment_error([gold_links(g) for g in gold], gold) == 0.0
    disjoint = [np.array([1, 0, 0]), np.array([0, 1])]
    assert alignment_error(disjoint, gold) == 1.0


def test_alignment_error_partial_case_by_hand():
    # Sentence 1: A = {(0,0), (1,2)}, S = {(0,0), (1,1)}: 1 common link.
    # Sentence 2: A = {(0,1)},        S = {(0,1), (1,0)}: 1 common link.
    # Corpus: |A∩S| = 2, |A| = 3, |S| = 4, AER = 1 - 2*2 / (3 + 4) = 3/7.
    predicted = [{(0, 0), (1, 2)}, np.array([1, -1])]
    gold = [np.array([0, 1]), {(0, 1), (1, 0)}]
    assert alignment_error(predicted, gold) == pytest.approx(3 / 7)
    # Corpus-level, not a mean of per-sentence rates (which would be 1/2 and 1/3).
    assert alignment_error(predicted, gold) != pytest.approx((0.5 + 1 / 3) / 2)


def test_alignment_error_of_gold_attention_is_zero(corpus):
    # One-hot attention on the gold source word, padded as a batch would be, scores 0.
    data = corpus[:20]
    arrays = seq2seq_arrays(data)
    steps, source_steps = arrays["decoder_target"].shape[1], arrays["source"].shape[1]
    predicted = []
    for source, target, alignment in data:
        weights = np.full((steps, source_steps), 0.01)
        weights[np.arange(len(target)), alignment] = 1.0
        weights[len(target):, source_steps - 1] = 5.0  # END and padded rows point at padding
        predicted.append(alignment_links(weights, len(source), len(target)))
    assert alignment_error(predicted, data.alignment) == 0.0
    # A monotone diagonal guess is wrong wherever the word order differs.
    diagonal = [np.arange(len(t)) for t in data.target]
    aer = alignment_error(diagonal, data.alignment)
    assert 0.2 < aer < 1.0


def test_alignment_error_bad_inputs():
    with pytest.raises(ValueError, match="predicted has 1 sentences but gold has 2"):
        alignment_error([{(0, 0)}], [{(0, 0)}, {(0, 1)}])
    with pytest.raises(ValueError, match="not single sets"):
        alignment_error({(0, 0)}, {(0, 0)})
    with pytest.raises(ValueError, match="undefined"):
        alignment_error([set()], [np.array([-1])])
    with pytest.raises(ValueError, match=r"predicted\[0\] must hold"):
        alignment_error([{(0, 0, 1)}], [{(0, 0)}])


# --- Chapter 1: digits in a cluttered canvas -------------------------------------------

from attncourse.data import DIGIT_SIZE, box_cells, cluttered_digits  # noqa: E402


def test_cluttered_digits_shapes_ranges_and_boxes():
    canvases = cluttered_digits(50, canvas_size=24, fragments=4, seed=1)
    assert canvases.images.shape == (50, 24, 24, 1) and canvases.images.dtype == np.float32
    assert canvases.labels.shape == (50,) and set(canvases.labels) <= set(range(10))
    assert 0.0 <= canvases.images.min() and canvases.images.max() <= 1.0
    top, left, height, width = canvases.boxes.T
    assert np.all(height == DIGIT_SIZE) and np.all(width == DIGIT_SIZE)
    assert np.all(top >= 0) and np.all(top + height <= 24) and np.all(left >= 0) and np.all(left + width <= 24)
    assert len({(t, l) for t, l in zip(top, left)}) > 10  # the digit moves around


def test_the_box_holds_a_real_digit_and_the_clutter_lies_outside_it():
    from sklearn.datasets import load_digits

    digits = load_digits()
    known = {(d / digits.images.max()).astype("float32").tobytes(): label
             for d, label in zip(digits.images, digits.target)}
    clean = cluttered_digits(20, canvas_size=20, fragments=0, seed=2)
    cluttered = cluttered_digits(20, canvas_size=20, fragments=8, seed=2)
    for canvases in (clean, cluttered):
        for image, label, (t, l, h, w) in zip(canvases.images[..., 0], canvases.labels, canvases.boxes):
            assert known[image[t:t + h, l:l + w].tobytes()] == label
    outside = np.ones((20, 20, 20), bool)
    for n, (t, l, h, w) in enumerate(clean.boxes):
        outside[n, t:t + h, l:l + w] = False
    assert clean.images[..., 0][outside].max() == 0.0  # no clutter: black around the digit
    assert cluttered.images[..., 0][outside].max() > 0.0  # clutter: ink around the digit


def test_cluttered_digits_is_seeded_and_train_and_test_use_different_digits():
    a = cluttered_digits(30, seed=5)
    b = cluttered_digits(30, seed=5)
    c = cluttered_digits(30, seed=6)
    assert np.array_equal(a.images, b.images) and np.array_equal(a.boxes, b.boxes)
    assert not np.array_equal(a.images, c.images)

    def digits_in(canvases):
        return {image[t:t + h, l:l + w].tobytes()
                for image, (t, l, h, w) in zip(canvases.images[..., 0], canvases.boxes)}

    train = digits_in(cluttered_digits(400, fragments=0, split="train", seed=0))
    test = digits_in(cluttered_digits(400, fragments=0, split="test", seed=0))
    assert train and test and not (train & test)


@pytest.mark.parametrize("kwargs, message", [
    ({"count": 0}, "count must be at least 1"),
    ({"count": 2, "canvas_size": 6}, "canvas_size must be at least 8"),
    ({"count": 2, "fragment_size": 9}, "fragment_size must be at most"),
    ({"count": 2, "split": "valid"}, "split must be 'train' or 'test'"),
    ({"count": 2, "test_fraction": 1.0}, "test_fraction"),
])
def test_cluttered_digits_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        cluttered_digits(**kwargs)


def test_box_cells_counts_every_cell_the_box_touches():
    # A 4x4 grid of 4-pixel cells. A box aligned with the cells covers exactly 2 x 2 of them.
    aligned = box_cells([4, 8, 8, 8], cell_size=4, grid_shape=(4, 4))
    expected = np.zeros((4, 4), bool)
    expected[1:3, 2:4] = True
    assert np.array_equal(aligned, expected)
    # Shifted by one pixel it straddles the borders: 3 x 3 cells, though its pixels are the same.
    shifted = box_cells(np.array([[5, 1, 8, 8]]), cell_size=4, grid_shape=(4, 4))
    assert shifted.shape == (1, 4, 4)
    expected = np.zeros((4, 4), bool)
    expected[1:4, 0:3] = True
    assert np.array_equal(shifted[0], expected)
    # A box that ends exactly on a cell border does not touch the next cell.
    assert box_cells([0, 0, 4, 1], cell_size=4, grid_shape=(2, 2)).sum() == 1


def test_box_cells_agrees_with_counting_pixels():
    rng = np.random.default_rng(0)
    boxes = np.column_stack([rng.integers(0, 20, (30, 2)), rng.integers(1, 9, (30, 2))])
    cells = box_cells(boxes, cell_size=4, grid_shape=(7, 7))
    for (t, l, h, w), hit in zip(boxes, cells):
        pixels = np.zeros((28, 28), bool)
        pixels[t:t + h, l:l + w] = True
        per_cell = pixels.reshape(7, 4, 7, 4).any(axis=(1, 3))
        assert np.array_equal(hit, per_cell)


def test_box_cells_bad_arguments():
    with pytest.raises(ValueError, match=r"shape \(n, 4\)"):
        box_cells([1, 2, 3], cell_size=4, grid_shape=(2, 2))
    with pytest.raises(ValueError, match="at least 1 pixel"):
        box_cells([0, 0, 0, 4], cell_size=4, grid_shape=(2, 2))
    with pytest.raises(ValueError, match="cell_size must be at least 1"):
        box_cells([0, 0, 2, 2], cell_size=0, grid_shape=(2, 2))


# ----------------------------------------------------------------------------- planted cues (chapter 6)


def test_planted_cues_labels_name_exactly_the_cues_present():
    cues = D.planted_cues(400, seed=5)
    assert cues.ids.shape == (400, 16) and cues.ids.dtype == np.int32
    assert cues.n_classes == 8
    cue_ids = [cues.vocabulary.id(word) for word in cues.cue_words]
    for k in range(len(cues)):
        row = cues.ids[k]
        present = [cue_id in row for cue_id in cue_ids]
        assert cues.labels[k] == sum(2**b for b, p in enumerate(present) if p)
        for b, (cue_id, position) in enumerate(zip(cue_ids, cues.cue_positions[k])):
            # The position says where the cue is, and a cue appears at most once.
            assert np.count_nonzero(row == cue_id) == (position >= 0)
            if position >= 0:
                assert row[position] == cue_id
    assert np.array_equal(cues.present, cues.cue_positions >= 0)


def test_planted_cues_lengths_padding_and_fillers():
    cues = D.planted_cues(300, min_length=5, max_length=9, seed=2)
    lengths = cues.lengths
    assert lengths.min() >= 5 and lengths.max() <= 9 and cues.ids.shape[1] == 9
    real = np.arange(9)[None, :] < lengths[:, None]
    assert np.all(cues.ids[~real] == PAD) and np.all(cues.ids[real] != PAD)  # padding only at the end
    assert np.all(cues.cue_positions < lengths[:, None])  # a cue is never planted in the padding
    words = {word for k in range(len(cues)) for word in cues.words(k)}
    assert words <= set(D.CHATTER_WORDS) | set(D.WEATHER_CUES)


def test_planted_cues_are_spread_over_places_and_subsets():
    cues = D.planted_cues(4000, cue_rate=0.5, seed=0)
    # Each of the 8 subsets of 3 cues has probability 1/8.
    shares = np.bincount(cues.labels, minlength=8) / len(cues)
    assert np.all(np.abs(shares - 1 / 8) < 0.03)
    # A cue is as likely at the first word as at the last real word.
    relative = cues.cue_positions[cues.present] / (np.repeat(cues.lengths, 3).reshape(-1, 3)[cues.present] - 1)
    assert 0.45 < relative.mean() < 0.55 and relative.min() == 0.0 and relative.max() == 1.0


def test_planted_cues_rate_extremes_and_seed():
    assert np.all(D.planted_cues(50, cue_rate=1.0).labels == 7)
    assert np.all(D.planted_cues(50, cue_rate=0.0).labels == 0)
    first, again, other = (D.planted_cues(50, seed=s) for s in (3, 3, 4))
    assert np.array_equal(first.ids, again.ids) and not np.array_equal(first.ids, other.ids)


def test_planted_cues_custom_words_names_and_split():
    cues = D.planted_cues(60, cue_words=("alpha", "beta"), filler_words=("x", "y", "z"), min_length=2, max_length=4)
    assert cues.n_classes == 4 and cues.label_name(0) == "no cue" and cues.label_name(3) == "alpha + beta"
    train, test = split(cues, test_fraction=0.25, seed=1)
    assert len(train) == 45 and len(test) == 15
    assert sorted(np.concatenate([train.labels, test.labels]).tolist()) == sorted(cues.labels.tolist())
    assert len(cues[2:5]) == 3 and cues[0].ids.shape == (1, 4)
    with pytest.raises(ValueError, match="below 4"):
        cues.label_name(4)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(n_sentences=0), "n_sentences must be at least 1"),
        (dict(cue_words=()), "1 to 8 words"),
        (dict(cue_words="rain"), "not a single string"),
        (dict(filler_words=()), "at least one word"),
        (dict(cue_words=("rain", "the")), "cannot also be a filler"),
        (dict(cue_words=("rain", "rain")), "distinct"),
        (dict(min_length=2), "min_length must be at least 3"),
        (dict(min_length=8, max_length=6), "max_length must be at least 8"),
        (dict(cue_rate=1.5), r"cue_rate must be a probability"),
    ],
)
def test_planted_cues_bad_arguments(kwargs, message):
    kwargs = {"n_sentences": 10, **kwargs}
    with pytest.raises(ValueError, match=message):
        D.planted_cues(**kwargs)


# --- Chapter 7: running text for language models -----------------------------------------

from attncourse.data import (  # noqa: E402
    UNKNOWN,
    TextCorpus,
    encode_words,
    language_model_windows,
    python_docs_corpus,
    python_docs_text,
    word_tokens,
    word_vocabulary,
)


def test_word_tokens_lowercases_keeps_identifiers_and_splits_punctuation():
    tokens = word_tokens('The "assert_stmt" of __debug__, 42 times.\n*****')
    assert tokens == ["the", '"', "assert_stmt", '"', "of", "__debug__", ",", "42", "times", ".", "*****"]


def test_word_tokens_rejects_what_is_not_text():
    with pytest.raises(ValueError, match="must be a str"):
        word_tokens(["not", "a", "str"])


def test_python_docs_text_is_the_documentation_that_ships_with_python():
    text = python_docs_text()
    assert len(text) > 100_000
    assert "assert" in text and "AssertionError" in text
    assert python_docs_text() == text  # the same text every time: nothing random


def test_word_vocabulary_ranks_by_count_then_alphabet_and_starts_with_unknown():
    vocabulary = word_vocabulary(["b", "a", "c", "a", "b", "a", "d"], max_size=2)
    assert vocabulary.words == (UNKNOWN, "a", "b")
    tied = word_vocabulary(["z", "y", "x"], max_size=3)
    assert tied.words == (UNKNOWN, "x", "y", "z")
    with pytest.raises(ValueError, match="max_size"):
        word_vocabulary(["a"], max_size=0)


def test_encode_words_maps_unknown_words_to_unk():
    vocabulary = word_vocabulary(["a", "a", "b", "c"], max_size=2)
    ids = encode_words(vocabulary, ["a", "zebra", "b", "c"])
    assert ids.dtype == np.int32
    assert [vocabulary.token(int(i)) for i in ids] == ["a", UNKNOWN, "b", UNKNOWN]
    with pytest.raises(ValueError, match="<unk>"):
        encode_words(Vocabulary(["a"]), ["a"])


def test_language_model_windows_targets_are_the_next_ids():
    ids = np.arange(20, 31)  # 11 ids: 3 windows of 3, and the last ids left over
    inputs, targets = language_model_windows(ids, 3)
    assert inputs.shape == targets.shape == (3, 3) and inputs.dtype == np.int32
    np.testing.assert_array_equal(inputs.ravel(), ids[:9])
    np.testing.assert_array_equal(targets, inputs + 1)


def test_language_model_windows_bad_inputs():
    with pytest.raises(ValueError, match="at least 4 ids"):
        language_model_windows(np.arange(3), 3)
    with pytest.raises(ValueError, match="1-D"):
        language_model_windows(np.zeros((2, 5), dtype=int), 2)
    with pytest.raises(ValueError, match="length"):
        language_model_windows(np.arange(10), 0)


def test_python_docs_corpus_holds_out_every_tenth_window():
    corpus = python_docs_corpus(max_words=300, length=25)
    assert isinstance(corpus, TextCorpus)
    assert len(corpus.vocabulary) == 3 + 1 + 300  # reserved, <unk>, words
    n_train, n_test = len(corpus.train_inputs), len(corpus.test_inputs)
    assert corpus.train_inputs.shape[1] == corpus.test_targets.shape[1] == 25
    assert 8 * n_test <= n_train <= 10 * n_test
    # Next-word targets: within a window, the target of step t is the input of step t + 1.
    np.testing.assert_array_equal(corpus.train_targets[:, :-1], corpus.train_inputs[:, 1:])
    # The reserved ids never appear in running text; <unk> does, with a small vocabulary.
    assert corpus.train_inputs.min() >= 3
    assert np.any(corpus.train_inputs == corpus.vocabulary.id(UNKNOWN))
    # Nothing random: the same corpus twice.
    again = python_docs_corpus(max_words=300, length=25)
    np.testing.assert_array_equal(again.test_inputs, corpus.test_inputs)
    with pytest.raises(ValueError, match="test_every"):
        python_docs_corpus(test_every=1)


def test_language_model_windows_with_context_overlap_and_predict_each_word_once():
    ids = np.arange(100, 120)  # 20 ids
    inputs, targets = language_model_windows(ids, 4, context=3)
    assert inputs.shape == targets.shape == (4, 7)  # (20 - 1 - 3) // 4 windows of 3 + 4 steps
    np.testing.assert_array_equal(inputs[1], ids[4:11])
    np.testing.assert_array_equal(targets, inputs + 1)
    # The scored steps (the last 4 of each window) predict every word once, in order.
    np.testing.assert_array_equal(targets[:, 3:].ravel(), ids[4:20])
    plain, _ = language_model_windows(ids, 4)
    np.testing.assert_array_equal(language_model_windows(ids, 4, context=0)[0], plain)
    with pytest.raises(ValueError, match="context"):
        language_model_windows(ids, 4, context=-1)
    with pytest.raises(ValueError, match="at least 9 ids"):
        language_model_windows(np.arange(8), 4, context=4)


def test_python_docs_corpus_with_context_scores_only_the_last_steps():
    corpus = python_docs_corpus(max_words=300, length=20, context=10)
    assert corpus.context == 10 and corpus.train_inputs.shape[1] == 30
    weights = corpus.scored(corpus.test_targets)
    assert weights.shape == corpus.test_targets.shape
    assert weights[:, :10].sum() == 0 and np.all(weights[:, 10:] == 1)
    # Each window's context is the end of the window before it in the text.
    plain = python_docs_corpus(max_words=300, length=20)
    assert plain.context == 0 and np.all(plain.scored(plain.train_targets) == 1)
