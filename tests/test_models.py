import numpy as np
import pytest

import keras
from keras import ops

from attncourse import data, models
from attncourse.layers import BahdanauAttention, LuongAttention

SOURCE_LENGTH = 9


@pytest.fixture(scope="module")
def toy():
    pairs = data.toy_translation(12, vocab_size=20, min_length=3, max_length=SOURCE_LENGTH, seed=3)
    return pairs, data.seq2seq_arrays(pairs, source_length=SOURCE_LENGTH)


def make(pairs, kind, bidirectional=False):
    attention = {"none": None, "bahdanau": BahdanauAttention(8), "luong": LuongAttention("general")}[kind]
    keras.utils.set_random_seed(0)
    return models.Translator(len(pairs.source_vocab), len(pairs.target_vocab), source_length=SOURCE_LENGTH,
                             embedding_dim=6, units=10, attention=attention, bidirectional=bidirectional)


KINDS = ["none", "bahdanau", "luong"]


@pytest.mark.parametrize("kind", KINDS)
def test_teacher_forcing_shapes_and_weights(toy, kind):
    pairs, arrays = toy
    model = make(pairs, kind)
    inputs = [arrays["source"], arrays["decoder_input"]]
    logits, weights = model(inputs, return_attention_scores=True)
    assert tuple(logits.shape) == (*arrays["decoder_input"].shape, len(pairs.target_vocab))
    if kind == "none":
        assert weights is None
        return
    weights = ops.convert_to_numpy(weights)
    assert weights.shape == (*arrays["decoder_input"].shape, SOURCE_LENGTH)
    padding = arrays["source"] == data.PAD
    assert np.all(np.where(padding[:, None, :], weights, 0.0) == 0.0)
    real_rows = arrays["decoder_input"] != data.PAD
    np.testing.assert_allclose(weights.sum(-1)[real_rows], 1.0, atol=1e-5)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_step_by_step_decoding_matches_teacher_forcing(toy, kind, bidirectional):
    # Feeding the gold words one step at a time must give the teacher-forced logits:
    # the vectorised training path and the decoding path are the same model.
    pairs, arrays = toy
    model = make(pairs, kind, bidirectional)
    source, decoder_input = arrays["source"], arrays["decoder_input"]
    logits = ops.convert_to_numpy(model([source, decoder_input]))
    encoder_states, state, source_mask = model.encode(source)
    for step in range(4):
        step_logits, state, _ = model.decode_step(decoder_input[:, step], state, encoder_states, source_mask)
        np.testing.assert_allclose(ops.convert_to_numpy(step_logits), logits[:, step], atol=1e-4)


@pytest.mark.parametrize("kind", ["none", "bahdanau"])
def test_greedy_decode_stops_at_end(toy, kind):
    pairs, arrays = toy
    model = make(pairs, kind)
    tokens, weights = models.greedy_decode(model, arrays["source"], max_length=6, batch_size=5)
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
    result = models.accuracy_by_length(model, pairs, edges=[3, 6, SOURCE_LENGTH])
    assert result["labels"] == data.bucket_labels([3, 6, SOURCE_LENGTH])
    assert sum(result["count"]) == len(pairs)
    for values in (result["token_accuracy"], result["sequence_accuracy"]):
        assert all(0.0 <= v <= 1.0 for v, n in zip(values, result["count"]) if n)


def test_training_learns_and_the_metric_ignores_padding(toy):
    pairs, arrays = toy
    model = models.compile_translator(make(pairs, "bahdanau"), learning_rate=1e-2)
    history = model.fit([arrays["source"], arrays["decoder_input"]], arrays["decoder_target"],
                        epochs=15, batch_size=12, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    metric = models.TokenAccuracy()
    targets = np.array([[5, 6, 0, 0]])
    logits = np.eye(8)[[[5, 1, 3, 3]]]  # right, wrong, then padding predicted as anything
    metric.update_state(targets, logits)
    assert float(metric.result()) == pytest.approx(0.5)


def test_saved_translator_reloads(toy, tmp_path):
    pairs, arrays = toy
    model = make(pairs, "bahdanau")
    inputs = [arrays["source"], arrays["decoder_input"]]
    before = ops.convert_to_numpy(model(inputs))
    model.save(tmp_path / "translator.keras")
    reloaded = keras.saving.load_model(tmp_path / "translator.keras")
    np.testing.assert_allclose(ops.convert_to_numpy(reloaded(inputs)), before, atol=1e-6)


def test_bad_configurations_are_clear_errors(toy):
    pairs, _ = toy
    with pytest.raises(ValueError, match="attention layer"):
        models.Translator(10, 10, source_length=5, feed_context=True)
    with pytest.raises(ValueError, match="even"):
        models.Translator(10, 10, source_length=5, units=9, bidirectional=True)
