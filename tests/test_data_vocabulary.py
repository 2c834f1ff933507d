"""Tests of attncourse.data.vocabulary: vocabularies, reserved ids, real-text vocabularies and padding."""

import numpy as np
import pytest

from attncourse.data import END, PAD, START, UNKNOWN, Vocabulary, encode_words, pad, word_vocabulary


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


# ----------------------------------------------------------------------------- real-text vocabularies


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


# ----------------------------------------------------------------------------- pad


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
