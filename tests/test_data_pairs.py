"""Tests of attncourse.data.pairs: indexing sentence pairs, and the teacher-forced arrays."""

import numpy as np
import pytest

from attncourse.data import END, PAD, START, Pair, ToyTranslation, seq2seq_arrays, toy_translation


@pytest.fixture(scope="module")
def corpus():
    return toy_translation(1500, seed=3)


def same_pairs(a, b):
    return (
        len(a) == len(b)
        and all(np.array_equal(x, y) for x, y in zip(a.source, b.source))
        and all(np.array_equal(x, y) for x, y in zip(a.target, b.target))
        and all(np.array_equal(x, y) for x, y in zip(a.alignment, b.alignment))
    )


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


# ----------------------------------------------------------------------------- seq2seq arrays


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
