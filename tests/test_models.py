import numpy as np
import pytest

import keras
from keras import ops

from attncourse import data, models
from attncourse.layers import BahdanauAttention, LocalAttention, LuongAttention, MonotonicAttention

SOURCE_LENGTH = 9


@pytest.fixture(scope="module")
def toy():
    pairs = data.toy_translation(12, vocab_size=20, min_length=3, max_length=SOURCE_LENGTH, seed=3)
    return pairs, data.seq2seq_arrays(pairs, source_length=SOURCE_LENGTH)


def make(pairs, kind, bidirectional=False):
    attention = {"none": None, "bahdanau": BahdanauAttention(8), "luong": LuongAttention("general"),
                 "monotonic": MonotonicAttention(8)}[kind]
    keras.utils.set_random_seed(0)
    return models.Translator(len(pairs.source_vocab), len(pairs.target_vocab), source_length=SOURCE_LENGTH,
                             embedding_dim=6, units=10, attention=attention, bidirectional=bidirectional)


KINDS = ["none", "bahdanau", "luong", "monotonic"]


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
    weights = None  # monotonic attention walks on from the previous step's alignment
    for step in range(4):
        step_logits, state, weights = model.decode_step(
            decoder_input[:, step], state, encoder_states, source_mask, previous_weights=weights,
            monotonic_mode="soft")
        np.testing.assert_allclose(ops.convert_to_numpy(step_logits), logits[:, step], atol=1e-4)


def test_local_m_decoding_step_by_step_matches_teacher_forcing(toy):
    # Local-m centres step i's window on source position i: decode_step must pass the step
    # on, or every step would look around position 0.
    pairs, arrays = toy
    keras.utils.set_random_seed(0)
    model = models.Translator(len(pairs.source_vocab), len(pairs.target_vocab), source_length=SOURCE_LENGTH,
                              embedding_dim=6, units=10, attention=LocalAttention(1, "monotonic"))
    source, decoder_input = arrays["source"], arrays["decoder_input"]
    logits, weights = (ops.convert_to_numpy(x) for x in model([source, decoder_input], return_attention_scores=True))
    encoder_states, state, source_mask = model.encode(source)
    for step in range(6):
        step_logits, state, step_weights = model.decode_step(
            decoder_input[:, step], state, encoder_states, source_mask, step=step)
        real = decoder_input[:, step] != data.PAD  # teacher forcing stops at the padding
        np.testing.assert_allclose(ops.convert_to_numpy(step_logits)[real], logits[real, step], atol=1e-4)
        np.testing.assert_allclose(ops.convert_to_numpy(step_weights)[real], weights[real, step], atol=1e-5)
    with pytest.raises(ValueError, match="step"):
        model.decode_step(decoder_input[:, 0], state, encoder_states, source_mask)
    # Greedy decoding passes the step too: its weights are the teacher-forced weights of
    # its own output.
    tokens, greedy_weights = models.greedy_decode(model, source, max_length=6)
    fed = np.concatenate([np.full((len(source), 1), data.START), tokens[:, :-1]], axis=1)
    _, forced = model([source, fed], return_attention_scores=True)
    real = fed != data.PAD
    np.testing.assert_allclose(greedy_weights[real], ops.convert_to_numpy(forced)[real], atol=1e-4)


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


@pytest.mark.parametrize("bidirectional", [False, True])
def test_bahdanau_translator_trains_under_xla_like_without(toy, bidirectional):
    # The attention sits inside the decoder's RNN loop; XLA must compile its gradient too.
    pairs, arrays = toy
    inputs, targets = [arrays["source"], arrays["decoder_input"]], arrays["decoder_target"]
    losses = {}
    for jit in (False, True):
        model = models.compile_translator(make(pairs, "bahdanau", bidirectional), learning_rate=1e-2,
                                          jit_compile=jit)
        history = model.fit(inputs, targets, epochs=2, batch_size=12, verbose=0, shuffle=False)
        losses[jit] = history.history["loss"]
    np.testing.assert_allclose(losses[True], losses[False], rtol=1e-4)


@pytest.mark.parametrize("kind", ["bahdanau", "luong"])
def test_translator_trains_in_mixed_precision(toy, kind):
    # The gpu profile may train in mixed_float16 (chapter 9): float16 computation inside the
    # decoder's RNN loop too, float32 weights, a loss-scaled optimizer, finite losses.
    pairs, arrays = toy
    keras.mixed_precision.set_dtype_policy("mixed_float16")
    try:
        model = models.compile_translator(make(pairs, kind), learning_rate=1e-2)
        history = model.fit([arrays["source"], arrays["decoder_input"]], arrays["decoder_target"],
                            epochs=3, batch_size=12, verbose=0)
        logits, weights = model([arrays["source"], arrays["decoder_input"]], return_attention_scores=True)
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
    assert type(model.optimizer).__name__ == "LossScaleOptimizer"
    assert all(v.dtype == "float32" for v in model.trainable_variables)
    assert np.all(np.isfinite(history.history["loss"])) and history.history["loss"][-1] < history.history["loss"][0]
    row_sums = ops.convert_to_numpy(ops.sum(ops.cast(weights, "float32"), -1))
    real = arrays["decoder_input"] != data.PAD  # padded target steps attend to nothing
    np.testing.assert_allclose(row_sums[real], 1.0, atol=2e-3)
    assert np.all(np.isfinite(ops.convert_to_numpy(ops.cast(logits, "float32"))))


@pytest.mark.parametrize("kind", ["bahdanau", "monotonic"])
def test_saved_translator_reloads(toy, tmp_path, kind):
    pairs, arrays = toy
    model = make(pairs, kind)
    inputs = [arrays["source"], arrays["decoder_input"]]
    before = ops.convert_to_numpy(model(inputs))
    model.save(tmp_path / f"{kind}.keras")
    reloaded = keras.saving.load_model(tmp_path / f"{kind}.keras")
    assert type(reloaded.attention) is type(model.attention) and reloaded.feed_context is model.feed_context
    if kind == "monotonic":
        assert isinstance(reloaded.attention, MonotonicAttention) and reloaded.feed_context is False
    np.testing.assert_allclose(ops.convert_to_numpy(reloaded(inputs)), before, atol=1e-6)


def test_bad_configurations_are_clear_errors(toy):
    pairs, _ = toy
    with pytest.raises(ValueError, match="attention layer"):
        models.Translator(10, 10, source_length=5, feed_context=True)
    with pytest.raises(ValueError, match="even"):
        models.Translator(10, 10, source_length=5, units=9, bidirectional=True)


def test_monotonic_attention_sits_after_the_decoder(toy):
    pairs, _ = toy
    assert make(pairs, "monotonic").feed_context is False
    with pytest.raises(ValueError, match="MonotonicAttention"):
        models.Translator(10, 10, source_length=5, attention=MonotonicAttention(4), feed_context=True)


def test_hard_monotonic_decoding_reads_one_word_and_never_moves_left(toy):
    pairs, arrays = toy
    keras.utils.set_random_seed(0)
    # With the offset r = 0 the untrained walk stops about every other word, so it moves
    # right step after step and reaches the end of the short sentences.
    model = models.Translator(len(pairs.source_vocab), len(pairs.target_vocab), source_length=SOURCE_LENGTH,
                              embedding_dim=6, units=10, attention=MonotonicAttention(8, init_bias=0.0))
    tokens, weights = models.greedy_decode(model, arrays["source"], max_length=12)
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
    _, soft = models.greedy_decode(model, arrays["source"], max_length=5, monotonic_mode="soft")
    assert np.any((soft > 0.01) & (soft < 0.99))  # spread over several words, not one-hot
    np.testing.assert_allclose(soft.sum(-1), 1.0, atol=1e-5)
    with pytest.raises(ValueError, match="monotonic_mode"):
        models.greedy_decode(model, arrays["source"], max_length=5, monotonic_mode="expected")


@pytest.mark.parametrize("kind", ["luong", "monotonic"])
def test_attention_after_the_decoder_reads_sources_longer_than_built_for(toy, kind):
    pairs, _ = toy
    model = make(pairs, kind)
    longer = data.toy_translation(6, vocab_size=20, min_length=2 * SOURCE_LENGTH,
                                  max_length=2 * SOURCE_LENGTH, seed=4)
    result = models.accuracy_by_length(model, longer, edges=[SOURCE_LENGTH, 2 * SOURCE_LENGTH + 1],
                                       source_length=2 * SOURCE_LENGTH)
    assert result["count"] == [len(longer)]
    assert result["weights"].shape[-1] == 2 * SOURCE_LENGTH



def test_monotonic_translator_declines_xla_and_still_trains(toy):
    pairs, arrays = toy
    with pytest.warns(UserWarning, match="jit_compile"):
        model = models.compile_translator(make(pairs, "monotonic"), learning_rate=1e-2, jit_compile=True)
    assert model.jit_compile is False
    history = model.fit([arrays["source"], arrays["decoder_input"]], arrays["decoder_target"],
                        epochs=2, batch_size=12, verbose=0)
    assert np.isfinite(history.history["loss"][-1])
