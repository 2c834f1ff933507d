"""Tests of the loader of real sentence pairs (appendix A), on tiny files the tests write."""

import zipfile

import numpy as np
import pytest

from attncourse import data as D
from attncourse.data import (
    END,
    PAD,
    START,
    UNKNOWN,
    SentencePairs,
    Vocabulary,
    read_sentence_pairs,
    sentence_vocabulary,
    tokenize_sentence,
)

# The format of spa-eng.txt (two columns) and of the ManyThings files (a third column
# with the attribution). The sentences are written for these tests.
PAIRS = [
    "Go.\tVe.",
    "I see the cat.\tVeo el gato.",
    "Where is the boy?\t¿Dónde está el niño?",
    "The cat sleeps on the bed.\tEl gato duerme en la cama.",
    "Don't go!\t¡No te vayas!",
    "The boy sees the old cat near the house.\tEl niño ve al gato viejo cerca de la casa.",
]


def write_pairs(path, lines, newline="\n"):
    path.write_text(newline.join(lines) + newline, encoding="utf-8")
    return path


@pytest.fixture
def pairs_file(tmp_path):
    return write_pairs(tmp_path / "spa.txt", PAIRS)


# ----------------------------------------------------------------------------- tokens


def test_tokenize_keeps_accents_and_separates_punctuation():
    assert tokenize_sentence("¿Dónde está el NIÑO?") == ["¿", "dónde", "está", "el", "niño", "?"]
    assert tokenize_sentence("Hello, world...") == ["hello", ",", "world", ".", ".", "."]
    assert tokenize_sentence("Ça va, Zoë ?") == ["ça", "va", ",", "zoë", "?"]


def test_tokenize_normalises_unicode_and_apostrophes():
    composed, decomposed = "está", "esta\u0301"  # one code point for á, or a plus a combining accent
    assert tokenize_sentence(decomposed) == tokenize_sentence(composed) == ["está"]
    assert tokenize_sentence("Don’t, l'homme") == ["don't", ",", "l'homme"]
    assert tokenize_sentence("Tom's 2 cats.") == ["tom's", "2", "cats", "."]
    assert tokenize_sentence("   ") == []
    with pytest.raises(ValueError, match="str"):
        tokenize_sentence(b"bytes")


def test_sentence_vocabulary_ranks_by_frequency_then_alphabet():
    sentences = [["b", "a", "."], ["a", "c", "."], ["a"]]
    assert sentence_vocabulary(sentences).words == (UNKNOWN, "a", ".", "b", "c")
    assert sentence_vocabulary(sentences, max_size=2).words == (UNKNOWN, "a", ".")
    assert sentence_vocabulary(sentences[::-1]).words == sentence_vocabulary(sentences).words
    with pytest.raises(ValueError, match="max_size"):
        sentence_vocabulary(sentences, max_size=0)


# ----------------------------------------------------------------------------- reading


def test_read_sentence_pairs_tokenises_both_sides(pairs_file):
    pairs = read_sentence_pairs(pairs_file)
    assert isinstance(pairs, SentencePairs) and len(pairs) == len(PAIRS)
    assert pairs.words(2) == (["where", "is", "the", "boy", "?"], ["¿", "dónde", "está", "el", "niño", "?"])
    assert pairs.words(4) == (["don't", "go", "!"], ["¡", "no", "te", "vayas", "!"])
    assert pairs.source_vocab.words[0] == UNKNOWN and pairs.target_vocab.words[0] == UNKNOWN
    assert pairs.source_vocab.id(UNKNOWN) == 3
    assert pairs.source_lengths.tolist() == [2, 5, 5, 7, 3, 10]
    assert all(s.dtype == np.int32 for s in pairs.source + pairs.target)
    assert "6 pairs" in repr(pairs) and "no gold alignment" in repr(pairs)


def test_a_third_attribution_column_windows_newlines_and_blank_lines_are_fine(tmp_path):
    lines = [f"{pair}\tCC-BY 2.0 (France) Attribution: example #{k}" for k, pair in enumerate(PAIRS)]
    path = write_pairs(tmp_path / "fra.txt", lines[:3] + ["", "   "] + lines[3:], newline="\r\n")
    with_attribution = read_sentence_pairs(path)
    plain = read_sentence_pairs(write_pairs(tmp_path / "spa.txt", PAIRS))
    assert [with_attribution.words(k) for k in range(len(PAIRS))] == [plain.words(k) for k in range(len(PAIRS))]


def test_a_byte_order_mark_is_not_a_token(tmp_path):
    path = tmp_path / "bom.txt"
    path.write_text("\ufeff" + "\n".join(PAIRS) + "\n", encoding="utf-8")
    assert read_sentence_pairs(path).words(0) == (["go", "."], ["ve", "."])


def test_columns_reverse_the_direction(pairs_file):
    forward, backward = read_sentence_pairs(pairs_file), read_sentence_pairs(pairs_file, columns=(1, 0))
    assert backward.words(1) == forward.words(1)[::-1]
    assert backward.source_vocab == forward.target_vocab


def test_limit_and_max_length(pairs_file):
    assert [p.words(k)[0][0] for p in [read_sentence_pairs(pairs_file, limit=2)] for k in range(2)] == ["go", "i"]
    assert len(read_sentence_pairs(pairs_file, limit=2)) == 2
    short = read_sentence_pairs(pairs_file, max_length=5)
    # A pair goes when either side is too long: "Where is the boy?" has 5 tokens, its Spanish 6.
    assert [short.words(k)[0] for k in range(len(short))] == [["go", "."], ["i", "see", "the", "cat", "."],
                                                              ["don't", "go", "!"]]
    assert max(short.source_lengths.max(), short.target_lengths.max()) <= 5
    # limit counts the pairs kept, after the long ones are dropped.
    limited = read_sentence_pairs(pairs_file, max_length=5, limit=3)
    assert len(limited) == 3 and limited.words(2)[0] == ["don't", "go", "!"]
    assert len(read_sentence_pairs(pairs_file, max_length=4)) == 1


def test_rare_tokens_become_unknown(pairs_file):
    pairs = read_sentence_pairs(pairs_file, max_vocabulary=3)
    # Only the three most frequent source tokens stay: the (7 times), "." (4), cat (3).
    assert len(pairs.source_vocab) == 3 + 1 + 3
    source, _ = pairs.words(5)
    assert pairs.source_vocab.words == (UNKNOWN, "the", ".", "cat")
    assert source == ["the", UNKNOWN, UNKNOWN, "the", UNKNOWN, "cat", UNKNOWN, "the", UNKNOWN, "."]
    assert sum(np.count_nonzero(s == pairs.source_vocab.id(UNKNOWN)) for s in pairs.source) > 0


def test_a_given_vocabulary_is_reused_and_unknown_words_map_to_unk(pairs_file):
    train = read_sentence_pairs(pairs_file, limit=3)
    more = read_sentence_pairs(pairs_file, source_vocab=train.source_vocab, target_vocab=train.target_vocab)
    assert more.source_vocab is train.source_vocab and more.target_vocab is train.target_vocab
    assert more.words(3)[0] == ["the", "cat", UNKNOWN, UNKNOWN, "the", UNKNOWN, "."]
    with pytest.raises(ValueError, match="source_vocab"):
        read_sentence_pairs(pairs_file, source_vocab=Vocabulary(["go", "."]))


@pytest.mark.parametrize(
    "line, message",
    [
        ("Just one column.", "line 3: expected tab-separated"),
        ("\tVe.", "line 3: an empty sentence"),
        ("Go.\t   ", "line 3: an empty sentence"),
    ],
)
def test_malformed_lines_raise_naming_the_line(tmp_path, line, message):
    path = write_pairs(tmp_path / "bad.txt", PAIRS[:2] + [line] + PAIRS[2:])
    with pytest.raises(ValueError, match=message) as error:
        read_sentence_pairs(path)
    assert "bad.txt" in str(error.value)


def test_a_limit_stops_before_a_malformed_line(tmp_path):
    path = write_pairs(tmp_path / "bad.txt", PAIRS[:2] + ["no tab here"])
    assert len(read_sentence_pairs(path, limit=2)) == 2


def test_a_column_beyond_the_line_is_malformed(pairs_file):
    with pytest.raises(ValueError, match="line 1"):
        read_sentence_pairs(pairs_file, columns=(0, 2))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"limit": 0}, "limit"),
        ({"max_length": 0}, "max_length"),
        ({"max_vocabulary": 0}, "max_size"),
        ({"columns": (0, 0)}, "columns"),
        ({"columns": (0,)}, "columns"),
        ({"columns": (-1, 0)}, "columns"),
    ],
)
def test_bad_arguments_raise(pairs_file, kwargs, message):
    with pytest.raises(ValueError, match=message):
        read_sentence_pairs(pairs_file, **kwargs)


def test_no_pair_left_raises(tmp_path, pairs_file):
    with pytest.raises(ValueError, match="no sentence pair of at most 1 tokens"):
        read_sentence_pairs(pairs_file, max_length=1)
    with pytest.raises(ValueError, match="no sentence pair"):
        read_sentence_pairs(write_pairs(tmp_path / "empty.txt", [""]))
    with pytest.raises(OSError):
        read_sentence_pairs(tmp_path / "missing.txt")


# ----------------------------------------------------------------------------- with the rest of the course


def test_sentence_pairs_work_with_seq2seq_arrays_split_and_subset(pairs_file):
    pairs = read_sentence_pairs(pairs_file)
    arrays = D.seq2seq_arrays(pairs, source_length=12, target_length=14)
    assert arrays["source"].shape == (6, 12) and arrays["decoder_input"].shape == (6, 14)
    assert arrays["decoder_input"][0, 0] == START
    target = pairs.target[0]
    assert arrays["decoder_target"][0, len(target)] == END and arrays["decoder_target"][0, -1] == PAD
    train, test = D.split(pairs, test_fraction=1 / 3, seed=0)
    assert isinstance(train, SentencePairs) and (len(train), len(test)) == (4, 2)
    assert train.source_vocab is pairs.source_vocab
    together = sorted(tuple(s.tolist()) for s in train.source + test.source)
    assert together == sorted(tuple(s.tolist()) for s in pairs.source)
    assert len(pairs[:3]) == 3 and len(pairs.subset(pairs.source_lengths > 4)) == 4
    with pytest.raises(IndexError):
        pairs.subset([6])
    with pytest.raises(ValueError, match="boolean mask"):
        pairs.subset(np.ones(2, dtype=bool))


def test_vocabularies_of_the_training_pairs_leave_words_only_in_test_pairs_unknown(pairs_file):
    # Appendix A's order: read every word, split, build the vocabularies on the training
    # pairs, encode both splits with them. "where", "is" and "?" (English), "¿", "dónde",
    # "está" and "?" (Spanish) occur in pair 2 only: with pair 2 held out, they are unknown.
    pairs = read_sentence_pairs(pairs_file)
    test_index = [2]
    train_text = pairs.subset([k for k in range(len(pairs)) if k not in test_index])
    test_text = pairs.subset(test_index)
    source_vocab, target_vocab = train_text.vocabularies()
    assert "where" not in source_vocab and "dónde" not in target_vocab and "¿" not in target_vocab
    assert "the" in source_vocab and "el" in target_vocab
    # Built from the training pairs alone: the same as reading only those lines.
    only_train = read_sentence_pairs(write_pairs(pairs_file.parent / "train.txt",
                                                 [line for k, line in enumerate(PAIRS) if k not in test_index]))
    assert (source_vocab, target_vocab) == (only_train.source_vocab, only_train.target_vocab)
    train, test = (part.with_vocabularies(source_vocab, target_vocab) for part in (train_text, test_text))
    assert train.source_vocab is source_vocab and test.target_vocab is target_vocab
    assert test.words(0) == ([UNKNOWN, UNKNOWN, "the", "boy", UNKNOWN], [UNKNOWN, UNKNOWN, UNKNOWN, "el", "niño", UNKNOWN])
    assert test_text.words(0) == (["where", "is", "the", "boy", "?"], ["¿", "dónde", "está", "el", "niño", "?"])
    # The training pairs keep every word, and the same words as before.
    assert [train.words(k) for k in range(len(train))] == [train_text.words(k) for k in range(len(train_text))]
    # max_size counts the training pairs only: "the" (7 times there) and "." come first.
    assert train_text.vocabularies(max_size=2)[0].words == (UNKNOWN, "the", ".")


def test_with_vocabularies_needs_vocabularies_with_unknown(pairs_file):
    pairs = read_sentence_pairs(pairs_file)
    with pytest.raises(ValueError, match="source_vocab"):
        pairs.with_vocabularies(Vocabulary(["go", "."]), pairs.target_vocab)
    with pytest.raises(ValueError, match="target_vocab"):
        pairs.with_vocabularies(pairs.source_vocab, None)
    with pytest.raises(ValueError, match="max_size"):
        pairs.vocabularies(max_size=0)


def test_real_pairs_have_no_alignment_and_no_alignment_error(pairs_file):
    pairs = read_sentence_pairs(pairs_file)
    assert pairs.alignment is None
    assert pairs[0].alignment is None and pairs[0].source.tolist() == pairs.source[0].tolist()
    assert all(pair.alignment is None for pair in pairs)
    predicted = [{(0, 0)} for _ in range(len(pairs))]
    with pytest.raises(ValueError, match="no gold alignment"):
        D.alignment_error(predicted, pairs.alignment)


def test_accuracy_by_length_runs_on_sentence_pairs(pairs_file):
    pytest.importorskip("keras")
    # Imported here, after the skip: the rest of this file needs NumPy only, not Keras.
    from attncourse.decoding import accuracy_by_length
    from attncourse.layers import BahdanauAttention
    from attncourse.translator import Translator

    pairs = read_sentence_pairs(pairs_file)
    model = Translator(len(pairs.source_vocab), len(pairs.target_vocab), source_length=10,
                       embedding_dim=4, units=4, attention=BahdanauAttention(4))
    model.build(None)
    result = accuracy_by_length(model, pairs, edges=(1, 5, 10))
    assert result["count"] == [4, 2]
    assert result["weights"].shape[0] == len(pairs)


# ----------------------------------------------------------------------------- download


def write_archive(path, members):
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)


def test_download_unpacks_a_cached_archive_once(tmp_path):
    # A tiny archive with the layout of spa-eng.zip where keras.utils.get_file caches the
    # real one: get_file finds it and downloads nothing.
    write_archive(tmp_path / "datasets" / "spa-eng.zip",
                  {"spa-eng/_about.txt": "About the corpus.", "spa-eng/spa.txt": "\n".join(PAIRS) + "\n"})
    path = D.download_sentence_pairs(cache_dir=str(tmp_path))
    assert path == str(tmp_path / "datasets" / "spa-eng" / "spa.txt")
    assert read_sentence_pairs(path).words(1) == (["i", "see", "the", "cat", "."], ["veo", "el", "gato", "."])
    # A second call finds the unpacked file and leaves it alone.
    (tmp_path / "datasets" / "spa-eng" / "spa.txt").write_text("Edited.\tEditado.\n", encoding="utf-8")
    assert D.download_sentence_pairs(cache_dir=str(tmp_path)) == path
    assert len(read_sentence_pairs(path)) == 1


def test_download_of_a_manythings_archive(tmp_path):
    write_archive(tmp_path / "datasets" / "fra-eng.zip",
                  {"_about.txt": "About.", "fra.txt": "Go.\tVa !\tCC-BY 2.0 (France) Attribution: example\n"})
    path = D.download_sentence_pairs(cache_dir=str(tmp_path), url="https://example.org/fra-eng.zip")
    assert read_sentence_pairs(path).words(0) == (["go", "."], ["va", "!"])


def test_download_of_an_archive_without_pairs_or_not_a_zip(tmp_path):
    write_archive(tmp_path / "datasets" / "spa-eng.zip", {"spa-eng/_about.txt": "About."})
    with pytest.raises(ValueError, match="no sentence-pair"):
        D.download_sentence_pairs(cache_dir=str(tmp_path))
    (tmp_path / "datasets" / "spa-eng.zip").write_text("not a zip")
    with pytest.raises(ValueError, match="not a zip"):
        D.download_sentence_pairs(cache_dir=str(tmp_path))


def test_offline_download_raises_a_connection_error_naming_the_url(tmp_path):
    # Nothing listens on port 9 of this machine: the fetch fails at once, as offline.
    url = "http://127.0.0.1:9/spa-eng.zip"
    with pytest.raises(ConnectionError, match="127.0.0.1:9/spa-eng.zip"):
        D.download_sentence_pairs(cache_dir=str(tmp_path), url=url)
