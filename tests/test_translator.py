"""The translation model of chapters 2–5 (``attncourse.translator``): the Translator with each
attention, step-by-step decoding against teacher forcing, training, saving, and the builder the
chapters share. Greedy decoding and accuracy by length are tested in tests/test_decoding.py.
"""

import re

import numpy as np
import pytest

import keras
from keras import ops

from attncourse import data, decoding, translator
from attncourse.layers import BahdanauAttention, LocalAttention, LuongAttention, MonotonicAttention
from tests.conftest import KINDS, SOURCE_LENGTH, toy_translator as make


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
    model = translator.Translator(len(pairs.source_vocab), len(pairs.target_vocab), source_length=SOURCE_LENGTH,
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
    tokens, greedy_weights = decoding.greedy_decode(model, source, max_length=6)
    fed = np.concatenate([np.full((len(source), 1), data.START), tokens[:, :-1]], axis=1)
    _, forced = model([source, fed], return_attention_scores=True)
    real = fed != data.PAD
    np.testing.assert_allclose(greedy_weights[real], ops.convert_to_numpy(forced)[real], atol=1e-4)


def looped_teacher_forcing(model, source, decoder_input):
    """The reference: ``decode_step`` over the target words in a Python loop, masked as the RNN masks.

    A padded target step keeps the decoder state and repeats the step before's logits and
    weights (what ``keras.layers.RNN`` does with a mask). The first step is START, never padded.
    """
    encoder_states, state, source_mask = model.encode(source)
    real = ops.expand_dims(ops.not_equal(decoder_input, data.PAD), -1)
    all_logits, all_weights = [], []
    for step in range(decoder_input.shape[1]):
        logits, new_state, weights = model.decode_step(decoder_input[:, step], state, encoder_states, source_mask)
        keep = real[:, step]
        state = ops.where(keep, new_state, state)
        if step:
            logits = ops.where(keep, logits, all_logits[-1])
            weights = ops.where(keep, weights, all_weights[-1])
        all_logits.append(logits)
        all_weights.append(weights)
    return ops.stack(all_logits, axis=1), ops.stack(all_weights, axis=1)


def feeding_translator(pairs, kind, bidirectional=False):
    """A toy translator whose attention feeds the state: Bahdanau's, or Luong's (any layer can)."""
    if kind == "bahdanau":
        return make(pairs, kind, bidirectional)
    keras.utils.set_random_seed(0)
    return translator.Translator(len(pairs.source_vocab), len(pairs.target_vocab), source_length=SOURCE_LENGTH,
                                 embedding_dim=6, units=10, attention=LuongAttention("general"),
                                 feed_context=True, bidirectional=bidirectional)


@pytest.mark.parametrize("kind, bidirectional", [("bahdanau", False), ("bahdanau", True), ("luong", False)])
def test_teacher_forcing_reading_the_memory_once_matches_the_looped_decoder(toy, kind, bidirectional):
    # Teacher forcing runs the context-feeding cell inside keras.layers.RNN with the memory
    # prepared once (ContextFeedingCell.reading). The same logits, weights and gradients must
    # come out of the straightforward ways: the cell called step by step in a Python loop
    # (decode_step, the memory passed as states at every call), and the RNN run over the
    # cell with the memory as states.
    import tensorflow as tf

    pairs, arrays = toy
    model = feeding_translator(pairs, kind, bidirectional)
    source, decoder_input = arrays["source"], arrays["decoder_input"]
    assert np.all(decoder_input[:, 0] == data.START) and np.any(decoder_input == data.PAD)
    loss_fn = translator.masked_loss()
    model([source, decoder_input])  # builds every weight
    with tf.GradientTape(persistent=True) as tape:
        logits, weights = model([source, decoder_input], return_attention_scores=True)
        loss = loss_fn(arrays["decoder_target"], logits)
        looped_logits, looped_weights = looped_teacher_forcing(model, source, decoder_input)
        looped_loss = loss_fn(arrays["decoder_target"], looped_logits)
    for got, expected in ((logits, looped_logits), (weights, looped_weights)):
        np.testing.assert_allclose(ops.convert_to_numpy(got), ops.convert_to_numpy(expected), atol=1e-5)
    variables = model.trainable_variables
    for variable, got, expected in zip(variables, tape.gradient(loss, variables), tape.gradient(looped_loss, variables)):
        np.testing.assert_allclose(ops.convert_to_numpy(tf.convert_to_tensor(got)),
                                   ops.convert_to_numpy(tf.convert_to_tensor(expected)), atol=1e-5,
                                   err_msg=variable.path)

    # The RNN over the cell with the memory as states: the decoder's outputs are the same.
    encoder_states, last, source_mask = model.encode(source)
    embedded = model.target_embedding(decoder_input)
    target_mask = ops.not_equal(decoder_input, data.PAD)
    as_states = model.decoder(embedded, initial_state=[last, encoder_states, ops.cast(source_mask, "float32")],
                              mask=target_mask)
    with model.decoder.cell.reading(encoder_states, source_mask):
        read_once = model.decoder(embedded, initial_state=last, mask=target_mask)
    np.testing.assert_allclose(ops.convert_to_numpy(read_once), ops.convert_to_numpy(as_states), atol=1e-6)


def test_context_feeding_cell_with_one_state_needs_the_memory_fixed(toy):
    pairs, arrays = toy
    model = make(pairs, "bahdanau")
    model.build(None)
    cell = model.decoder.cell
    encoder_states, state, source_mask = model.encode(arrays["source"])
    embedded = ops.take(model.target_embedding.embeddings, arrays["decoder_input"][:, 0], axis=0)
    with pytest.raises(ValueError, match="reading"):
        cell(embedded, [state])
    output, states = cell(embedded, [state, encoder_states, ops.cast(source_mask, "float32")])
    assert len(states) == 3
    with cell.reading(encoder_states, source_mask):
        read_once, (new_state,) = cell(embedded, [state])
    np.testing.assert_allclose(ops.convert_to_numpy(read_once), ops.convert_to_numpy(output), atol=1e-6)
    np.testing.assert_allclose(ops.convert_to_numpy(new_state), ops.convert_to_numpy(states[0]), atol=1e-6)


def test_bahdanau_translator_weights_keep_their_names_and_shapes(toy):
    # Saved models and the chapters' seeded weights depend on where each weight is made:
    # the attention's weights belong to the decoder's cell, created after the embeddings.
    pairs, _ = toy
    model = make(pairs, "bahdanau")
    model.build(None)
    names = [re.sub(r"_\d+(?=/|$)", "", v.path.split("/", 1)[1]) for v in model.weights]
    shapes = [tuple(v.shape) for v in model.weights]
    cell = "rnn/context_feeding_cell"
    vocab = len(pairs.target_vocab)
    assert list(zip(names, shapes)) == [
        (f"{cell}/bahdanau_attention/query_kernel", (10, 8)), (f"{cell}/bahdanau_attention/key_kernel", (10, 8)),
        (f"{cell}/bahdanau_attention/score_vector", (8,)),
        ("embedding/embeddings", (len(pairs.source_vocab), 6)), ("embedding/embeddings", (vocab, 6)),
        ("gru/gru_cell/kernel", (6, 30)), ("gru/gru_cell/recurrent_kernel", (10, 30)), ("gru/gru_cell/bias", (2, 30)),
        (f"{cell}/gru_cell/kernel", (16, 30)), (f"{cell}/gru_cell/recurrent_kernel", (10, 30)),
        (f"{cell}/gru_cell/bias", (2, 30)),
        ("dense/kernel", (20, 10)), ("dense/bias", (10,)), ("dense/kernel", (10, vocab)), ("dense/bias", (vocab,)),
    ]


def test_training_learns_and_the_metric_ignores_padding(toy):
    pairs, arrays = toy
    model = translator.compile_translator(make(pairs, "bahdanau"), learning_rate=1e-2)
    history = model.fit([arrays["source"], arrays["decoder_input"]], arrays["decoder_target"],
                        epochs=15, batch_size=12, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    metric = translator.TokenAccuracy()
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
        model = translator.compile_translator(make(pairs, "bahdanau", bidirectional), learning_rate=1e-2,
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
        model = translator.compile_translator(make(pairs, kind), learning_rate=1e-2)
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
        translator.Translator(10, 10, source_length=5, feed_context=True)
    with pytest.raises(ValueError, match="even"):
        translator.Translator(10, 10, source_length=5, units=9, bidirectional=True)


def test_monotonic_attention_sits_after_the_decoder(toy):
    pairs, _ = toy
    assert make(pairs, "monotonic").feed_context is False
    with pytest.raises(ValueError, match="MonotonicAttention"):
        translator.Translator(10, 10, source_length=5, attention=MonotonicAttention(4), feed_context=True)


def test_monotonic_translator_declines_xla_and_still_trains(toy):
    pairs, arrays = toy
    with pytest.warns(UserWarning, match="jit_compile"):
        model = translator.compile_translator(make(pairs, "monotonic"), learning_rate=1e-2, jit_compile=True)
    assert model.jit_compile is False
    history = model.fit([arrays["source"], arrays["decoder_input"]], arrays["decoder_target"],
                        epochs=2, batch_size=12, verbose=0)
    assert np.isfinite(history.history["loss"][-1])


# ----------------------------------------------------------------------------- the chapters' builder


def test_make_translator_builds_and_compiles_the_chapters_model(toy):
    pairs, arrays = toy
    model = translator.make_translator(pairs, source_length=SOURCE_LENGTH, embedding_dim=6, units=10,
                                       attention=BahdanauAttention(8), learning_rate=1e-2, jit_compile=False)
    assert isinstance(model, translator.Translator) and model.built
    assert (model.source_vocab_size, model.target_vocab_size) == (len(pairs.source_vocab), len(pairs.target_vocab))
    assert (model.source_length, model.embedding_dim, model.units) == (SOURCE_LENGTH, 6, 10)
    assert model.feed_context is True and model.bidirectional is False
    assert model.count_params() > 0  # every weight exists before any call
    # Compiled as compile_translator compiles: Adam with clipping, the masked loss, token accuracy.
    assert model.compiled and model.jit_compile is False
    assert type(model.optimizer).__name__ == "Adam" and model.optimizer.clipnorm == 1.0
    assert float(ops.convert_to_numpy(model.optimizer.learning_rate)) == pytest.approx(1e-2)
    assert model.loss.get_config()["ignore_class"] == data.PAD
    # Shapes and masks: logits for every target step, no weight on padded source words.
    logits, weights = model([arrays["source"], arrays["decoder_input"]], return_attention_scores=True)
    assert tuple(logits.shape) == (*arrays["decoder_input"].shape, len(pairs.target_vocab))
    padding = arrays["source"] == data.PAD
    assert np.all(np.where(padding[:, None, :], ops.convert_to_numpy(weights), 0.0) == 0.0)


def test_make_translator_defaults_are_the_chapters(toy):
    pairs, _ = toy
    model = translator.make_translator(pairs, source_length=SOURCE_LENGTH)
    assert (model.embedding_dim, model.units, model.attention, model.bidirectional) == (32, 64, None, False)
    assert float(ops.convert_to_numpy(model.optimizer.learning_rate)) == pytest.approx(3e-3)


def test_make_translator_passes_the_layout_on(toy):
    pairs, _ = toy
    model = translator.make_translator(pairs, source_length=SOURCE_LENGTH, embedding_dim=6, units=10,
                                       attention=BahdanauAttention(8), bidirectional=True, feed_context=False,
                                       compile=False)
    assert model.bidirectional is True and isinstance(model.encoder, keras.layers.Bidirectional)
    assert model.feed_context is False and isinstance(model.decoder, keras.layers.GRU)
    assert not model.compiled  # chapter 11 compiles by hand, inside a distribution strategy


def test_make_translator_with_a_seed_is_the_model_built_by_hand(toy):
    # The notebooks used to build their translators by hand: seed, Translator, build. The
    # builder starts from exactly those weights, so the chapters' results do not move.
    pairs, _ = toy
    built = translator.make_translator(pairs, source_length=SOURCE_LENGTH, embedding_dim=6, units=10,
                                       attention=LuongAttention("general"), seed=7, compile=False)
    again = translator.make_translator(pairs, source_length=SOURCE_LENGTH, embedding_dim=6, units=10,
                                       attention=LuongAttention("general"), seed=7, compile=False)
    keras.utils.set_random_seed(7)
    by_hand = translator.Translator(len(pairs.source_vocab), len(pairs.target_vocab),
                                    source_length=SOURCE_LENGTH, embedding_dim=6, units=10,
                                    attention=LuongAttention("general"))
    by_hand.build(None)
    for model in (again, by_hand):
        assert len(model.get_weights()) == len(built.get_weights())
        for got, expected in zip(model.get_weights(), built.get_weights()):
            np.testing.assert_array_equal(got, expected)


def test_make_translator_trains_a_step(toy):
    pairs, arrays = toy
    model = translator.make_translator(pairs, source_length=SOURCE_LENGTH, embedding_dim=6, units=10,
                                       attention=MonotonicAttention(8), learning_rate=1e-2, jit_compile=False,
                                       seed=0)
    before = [w.copy() for w in model.get_weights()]
    logs = model.train_on_batch([arrays["source"], arrays["decoder_input"]], arrays["decoder_target"],
                                return_dict=True)
    assert np.isfinite(logs["loss"]) and 0.0 <= logs["token_accuracy"] <= 1.0
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_compile_translator_creates_the_optimizer_slots_before_the_first_step(toy):
    # Slots created inside the first training step would make TensorFlow trace it twice.
    # compile_translator builds the model and the slots at once, so the step has no variable
    # to create; compiled by hand, Keras creates them in the step. The training is the same.
    pairs, arrays = toy
    inputs, targets = [arrays["source"], arrays["decoder_input"]], arrays["decoder_target"]
    early = translator.compile_translator(make(pairs, "luong"), learning_rate=1e-2, jit_compile=False)
    lazy = make(pairs, "luong")
    lazy.compile(optimizer=keras.optimizers.Adam(1e-2, clipnorm=1.0), loss=translator.masked_loss(),
                 metrics=[translator.TokenAccuracy()], jit_compile=False)
    assert early.built and early.optimizer.built and not lazy.optimizer.built
    slots = len(early.optimizer.variables)
    for model in (early, lazy):
        model.train_on_batch(inputs, targets)
    assert len(early.optimizer.variables) == slots == len(lazy.optimizer.variables)
    for got, expected in zip(early.get_weights(), lazy.get_weights()):
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7)
