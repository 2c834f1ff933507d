"""Greedy decoding and accuracy by source length (``attncourse.decoding``), on the Translator
with each attention and on the Transformer.
"""

import numpy as np
import pytest

import keras

from attncourse import data, decoding
from attncourse.layers import MonotonicAttention
from attncourse.translator import Translator
from tests.conftest import SOURCE_LENGTH, toy_transformer, toy_translator as make


@pytest.mark.parametrize("kind", ["none", "bahdanau"])
def test_greedy_decode_stops_at_end(toy, kind):
    pairs, arrays = toy
    model = make(pairs, kind)
    tokens, weights = decoding.greedy_decode(model, arrays["source"], max_length=6, batch_size=5)
    assert tokens.shape == (len(pairs), 6)
    for row in tokens:
        ends = np.flatnonzero(row == data.END)
        if len(ends):
            assert np.all(row[ends[0] + 1 :] == data.PAD)
    assert (weights is None) == (kind == "none")
    if weights is not None:
        assert weights.shape == (len(pairs), 6, SOURCE_LENGTH)


def test_accuracy_by_length_reports_each_bucket(toy):
    pairs, _ = toy
    model = make(pairs, "luong")
    result = decoding.accuracy_by_length(model, pairs, edges=[3, 6, SOURCE_LENGTH])
    assert result["labels"] == data.bucket_labels([3, 6, SOURCE_LENGTH])
    assert sum(result["count"]) == len(pairs)
    for values in (result["token_accuracy"], result["sequence_accuracy"]):
        assert all(0.0 <= v <= 1.0 for v, n in zip(values, result["count"]) if n)


def test_hard_monotonic_decoding_reads_one_word_and_never_moves_left(toy):
    pairs, arrays = toy
    keras.utils.set_random_seed(0)
    # With the offset r = 0 the untrained walk stops about every other word, so it moves
    # right step after step and reaches the end of the short sentences.
    model = Translator(len(pairs.source_vocab), len(pairs.target_vocab), source_length=SOURCE_LENGTH,
                       embedding_dim=6, units=10, attention=MonotonicAttention(8, init_bias=0.0))
    tokens, weights = decoding.greedy_decode(model, arrays["source"], max_length=12)
    assert weights.shape == (len(pairs), 12, SOURCE_LENGTH)
    np.testing.assert_array_equal(np.sort(weights, axis=-1)[..., :-1], 0.0)
    np.testing.assert_allclose(weights.max(axis=-1), 1.0)
    positions = weights.argmax(axis=-1)
    assert np.all(np.diff(positions, axis=1) >= 0)
    assert np.all(positions < (arrays["source"] != data.PAD).sum(axis=1, keepdims=True))
    assert positions.max() > 0  # the walk did move


def test_soft_monotonic_decoding_gives_the_expected_alignment(toy):
    pairs, arrays = toy
    model = make(pairs, "monotonic")
    _, soft = decoding.greedy_decode(model, arrays["source"], max_length=5, monotonic_mode="soft")
    assert np.any((soft > 0.01) & (soft < 0.99))  # spread over several words, not one-hot
    np.testing.assert_allclose(soft.sum(-1), 1.0, atol=1e-5)
    with pytest.raises(ValueError, match="monotonic_mode"):
        decoding.greedy_decode(model, arrays["source"], max_length=5, monotonic_mode="expected")


@pytest.mark.parametrize("kind", ["luong", "monotonic"])
def test_attention_after_the_decoder_reads_sources_longer_than_built_for(toy, kind):
    pairs, _ = toy
    model = make(pairs, kind)
    longer = data.toy_translation(6, vocab_size=20, min_length=2 * SOURCE_LENGTH,
                                  max_length=2 * SOURCE_LENGTH, seed=4)
    result = decoding.accuracy_by_length(model, longer, edges=[SOURCE_LENGTH, 2 * SOURCE_LENGTH + 1],
                                         source_length=2 * SOURCE_LENGTH)
    assert result["count"] == [len(longer)]
    assert result["weights"].shape[-1] == 2 * SOURCE_LENGTH


def test_transformer_greedy_decoding_and_accuracy_by_length(toy):
    pairs, arrays = toy
    model = toy_transformer(pairs)
    tokens, weights = decoding.greedy_decode(model, arrays["source"], max_length=6, batch_size=5)
    assert tokens.shape == (len(pairs), 6) and weights.shape == (len(pairs), 6, SOURCE_LENGTH)
    for row in tokens:
        ends = np.flatnonzero(row == data.END)
        if len(ends):
            assert np.all(row[ends[0] + 1 :] == data.PAD)
    result = decoding.accuracy_by_length(model, pairs, edges=[3, 6, SOURCE_LENGTH])
    assert sum(result["count"]) == len(pairs)
