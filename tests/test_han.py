"""Chapter 8's hierarchical attention network (``attncourse.han``): MaskedPooling, the sentence
encoder and the document model with each pooling, HAN with recurrent encoders, and the
training helper. The gpu settings (XLA, the real reviews' shape, mixed precision) are run in
tests/test_gpu_paths.py.
"""

import numpy as np
import pytest

import keras
from keras import ops

from attncourse import data
from attncourse.han import (
    ENCODERS,
    POOLINGS,
    MaskedPooling,
    build_classifier,
    build_han,
    context_encoder,
    encode_sentences,
    train_classifier,
)
from attncourse.layers import ContextAttention

UNITS = 8


@pytest.fixture(scope="module")
def docs():
    """24 planted reviews, padded to 8 sentences of 12 words, some sentences all padding."""
    documents = data.planted_documents(24, seed=1)
    assert (documents.ids == 0).all(axis=-1).any() and (documents.ids != 0).any(axis=(1, 2)).all()
    return documents


def classifier_for(docs, pooling, recurrent=False, seed=0, encoder=None):
    keras.utils.set_random_seed(seed)
    return build_classifier(pooling, UNITS, shape=docs.ids.shape[1:], vocabulary_size=len(docs.vocabulary),
                            recurrent=recurrent, encoder=encoder)


# ----------------------------------------------------------------------------- MaskedPooling

STATES = np.array([[[1.0, -2.0], [3.0, 4.0], [9.0, 9.0]],
                   [[-5.0, -5.0], [-6.0, -7.0], [-7.0, -6.0]],
                   [[5.0, 5.0], [6.0, 6.0], [7.0, 7.0]]], dtype="float32")
MASK = np.array([[True, True, False], [True, True, True], [False, False, False]])


@pytest.mark.parametrize("mode", ["average", "max"])
def test_masked_pooling_reads_the_real_steps_only(mode):
    pooled = ops.convert_to_numpy(MaskedPooling(mode)(STATES, mask=MASK))
    reduce = np.mean if mode == "average" else np.max
    for row in range(2):
        np.testing.assert_allclose(pooled[row], reduce(STATES[row][MASK[row]], axis=0), rtol=1e-6)
    # Negative values: padding must never win the max (the all-negative row), and a
    # sequence of padding only pools to zeros, not NaN.
    np.testing.assert_array_equal(pooled[2], 0.0)
    without_mask = ops.convert_to_numpy(MaskedPooling(mode)(STATES))
    np.testing.assert_allclose(without_mask, reduce(STATES, axis=1), rtol=1e-6)


@pytest.mark.parametrize("mode", ["average", "max"])
def test_masked_pooling_shapes_masks_and_float16(mode):
    layer = MaskedPooling(mode)
    assert layer.compute_output_shape((None, 7, 5)) == (None, 5)
    assert layer.compute_mask(STATES, MASK) is None  # the time axis is pooled away
    half = MaskedPooling(mode, dtype="mixed_float16")(STATES * 1e3, mask=MASK)
    assert keras.backend.standardize_dtype(half.dtype) == "float16"
    assert np.all(np.isfinite(ops.convert_to_numpy(half)))
    # In a functional model, after Embedding(mask_zero=True), the mask arrives by itself.
    ids = keras.Input((4,), dtype="int32")
    pooled = MaskedPooling(mode)(keras.layers.Embedding(10, 3, mask_zero=True)(ids))
    model = keras.Model(ids, pooled)
    assert model.output_shape == (None, 3)
    out = ops.convert_to_numpy(model(np.array([[0, 0, 0, 0], [5, 0, 0, 0]])))
    np.testing.assert_array_equal(out[0], 0.0)
    np.testing.assert_allclose(out[1], ops.convert_to_numpy(model.layers[1].embeddings)[5], rtol=1e-6)


def test_masked_pooling_config_round_trip():
    layer = MaskedPooling("max", name="sentence_max_pooling")
    config = layer.get_config()
    assert config["mode"] == "max" and config["name"] == "sentence_max_pooling"
    copy = MaskedPooling.from_config(config)
    assert (copy.mode, copy.name) == ("max", "sentence_max_pooling")
    serialized = keras.saving.serialize_keras_object(layer)
    assert serialized["registered_name"] == "attncourse>MaskedPooling"
    restored = keras.saving.deserialize_keras_object(serialized)
    assert isinstance(restored, MaskedPooling) and restored.mode == "max"
    np.testing.assert_array_equal(ops.convert_to_numpy(restored(STATES, mask=MASK)),
                                  ops.convert_to_numpy(layer(STATES, mask=MASK)))


def test_masked_pooling_rejects_an_unknown_mode():
    with pytest.raises(ValueError, match="'average' or 'max'"):
        MaskedPooling("median")


# ----------------------------------------------------------------------------- the models


@pytest.mark.parametrize("encoder", ENCODERS)
@pytest.mark.parametrize("pooling", POOLINGS)
def test_classifier_shapes_and_weights_model(docs, pooling, encoder):
    classifier, weights_model = classifier_for(docs, pooling, encoder=encoder)
    assert classifier.name == f"{pooling}_pooling"
    assert classifier.input_shape == (None, *docs.ids.shape[1:]) and classifier.output_shape == (None, 1)
    probability = ops.convert_to_numpy(classifier(docs.ids))
    assert probability.shape == (len(docs), 1) and np.all((probability > 0) & (probability < 1))
    word_encoder = classifier.get_layer("word_encoder")
    assert isinstance(word_encoder, keras.layers.Bidirectional if encoder == "gru" else keras.layers.Dense)
    assert ("sentence_encoder" in [layer.name for layer in classifier.layers]) == (encoder != "dense")
    if pooling != "attention":
        assert weights_model is None
        assert isinstance(classifier.get_layer(f"word_{pooling}_pooling"), MaskedPooling)
        return
    assert isinstance(classifier.get_layer("sentence_attention"), ContextAttention)
    word_weights, sentence_weights = (ops.convert_to_numpy(w) for w in weights_model(docs.ids))
    assert word_weights.shape == docs.ids.shape and sentence_weights.shape == docs.ids.shape[:2]
    real_words = docs.ids != 0
    real_sentences = real_words.any(axis=-1)
    # Masking at both levels: no weight on padded words or padded sentences, a distribution
    # over the real ones; a padded sentence gets a row of zeros.
    assert np.all(word_weights[~real_words] == 0.0) and np.all(sentence_weights[~real_sentences] == 0.0)
    np.testing.assert_allclose(word_weights.sum(-1)[real_sentences], 1.0, atol=1e-5)
    np.testing.assert_array_equal(word_weights.sum(-1)[~real_sentences], 0.0)
    np.testing.assert_allclose(sentence_weights.sum(-1), 1.0, atol=1e-5)


@pytest.mark.parametrize("encoder", ENCODERS)
@pytest.mark.parametrize("pooling", POOLINGS)
def test_padding_never_reaches_the_prediction(docs, pooling, encoder):
    # Padding is id 0: whatever the embedding of id 0 holds, the prediction must not move.
    classifier, _ = classifier_for(docs, pooling, encoder=encoder)
    before = ops.convert_to_numpy(classifier(docs.ids))
    embedding = classifier.get_layer("embedding")
    table = ops.convert_to_numpy(embedding.embeddings)
    table[0] = 100.0
    embedding.embeddings.assign(table)
    np.testing.assert_allclose(ops.convert_to_numpy(classifier(docs.ids)), before, atol=1e-5)


def test_encode_sentences_gives_one_vector_per_sentence(docs):
    documents = keras.Input(docs.ids.shape[1:], dtype="int32")
    sentences, word_weights = encode_sentences(documents, "attention", UNITS, len(docs.vocabulary))
    assert tuple(sentences.shape) == (None, docs.ids.shape[1], UNITS)
    assert tuple(word_weights.shape) == (None, *docs.ids.shape[1:])
    pooled, no_weights = encode_sentences(documents, "max", UNITS, len(docs.vocabulary), recurrent=True)
    assert tuple(pooled.shape) == (None, docs.ids.shape[1], UNITS) and no_weights is None
    vectors = ops.convert_to_numpy(keras.Model(documents, sentences)(docs.ids))
    padded = ~(docs.ids != 0).any(axis=-1)
    np.testing.assert_array_equal(vectors[padded], 0.0)  # a padded sentence is a zero vector


def test_unknown_pooling_is_a_clear_error(docs):
    with pytest.raises(ValueError, match="pooling"):
        classifier_for(docs, "sum")


def test_unknown_or_contradictory_encoder_is_a_clear_error(docs):
    with pytest.raises(ValueError, match="encoder must be one of"):
        classifier_for(docs, "max", encoder="lstm")
    with pytest.raises(ValueError, match="recurrent=True"):
        classifier_for(docs, "max", recurrent=True, encoder="context")
    # recurrent=True and encoder="gru" say the same thing.
    classifier, _ = classifier_for(docs, "max", recurrent=True, encoder="gru")
    assert isinstance(classifier.get_layer("word_encoder"), keras.layers.Bidirectional)


def test_context_encoder_reads_each_step_with_the_mean_of_its_real_steps():
    rng = np.random.default_rng(3)
    states = rng.normal(size=(2, 4, 3)).astype("float32")
    mask = np.array([[True, True, True, False], [True, False, False, False]])
    inputs, mask_input = keras.Input((4, 3)), keras.Input((4,), dtype="bool")
    model = keras.Model([inputs, mask_input], context_encoder(inputs, mask_input, 5, "word"))
    out = ops.convert_to_numpy(model([states, mask]))
    own, bias = model.get_layer("word_encoder").get_weights()
    shared, = model.get_layer("word_encoder_context").get_weights()
    for row in range(2):
        mean = states[row][mask[row]].mean(axis=0)
        np.testing.assert_allclose(out[row], np.tanh(states[row] @ own + bias + mean @ shared), atol=1e-5)
    # A real step's output moves when another real step of its sequence changes, not with padding.
    changed = states.copy()
    changed[0, 1] += 1.0
    changed[1, 3] += 1.0  # padding
    after = ops.convert_to_numpy(model([changed, mask]))
    assert not np.allclose(after[0, 0], out[0, 0])
    np.testing.assert_allclose(after[1, 0], out[1, 0], atol=1e-6)


def test_the_same_seed_gives_every_pooling_the_same_first_draws(docs):
    # Chapter 8 compares the poolings from the same initial draws: with the same seed the
    # layers they share (embedding, word encoder) start equal.
    han, _ = classifier_for(docs, "attention", seed=5)
    average, _ = classifier_for(docs, "average", seed=5)
    for name in ("embedding", "word_encoder"):
        for a, b in zip(han.get_layer(name).get_weights(), average.get_layer(name).get_weights()):
            np.testing.assert_array_equal(a, b)


def test_build_han_is_the_recurrent_attention_classifier(docs):
    keras.utils.set_random_seed(2)
    han, han_weights = build_han(docs.ids.shape[1:], len(docs.vocabulary), UNITS)
    same, _ = classifier_for(docs, "attention", recurrent=True, seed=2)
    assert han.name == "han" and han_weights is not None
    assert isinstance(han.get_layer("sentence_encoder"), keras.layers.Bidirectional)
    for a, b in zip(han.get_weights(), same.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(ops.convert_to_numpy(han(docs.ids)), ops.convert_to_numpy(same(docs.ids)),
                               atol=1e-6)


def test_saved_baseline_reloads_without_custom_objects(docs, tmp_path):
    classifier, _ = classifier_for(docs, "average")
    before = ops.convert_to_numpy(classifier(docs.ids))
    classifier.save(tmp_path / "average.keras")
    reloaded = keras.saving.load_model(tmp_path / "average.keras")
    assert isinstance(reloaded.get_layer("sentence_average_pooling"), MaskedPooling)
    np.testing.assert_allclose(ops.convert_to_numpy(reloaded(docs.ids)), before, atol=1e-6)


# ----------------------------------------------------------------------------- training


@pytest.mark.parametrize("pooling", POOLINGS)
def test_train_classifier_trains_and_reports_validation(docs, pooling, capsys):
    classifier, weights_model, history = train_classifier(pooling, docs, units=UNITS, epochs=2, seed=0,
                                                          batch_size=8, verbose=2)
    assert f"--- {pooling}_pooling" in capsys.readouterr().out
    assert (weights_model is None) == (pooling != "attention")
    assert set(history.history) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert np.all(np.isfinite(history.history["loss"])) and len(history.history["loss"]) == 2
    assert type(classifier.optimizer).__name__ == "Adam"
    assert classifier.loss.get_config()["label_smoothing"] == pytest.approx(0.1)
    # The same seed gives the same run.
    _, _, again = train_classifier(pooling, docs, units=UNITS, epochs=2, seed=0, batch_size=8, verbose=0)
    np.testing.assert_allclose(again.history["loss"], history.history["loss"], rtol=1e-6)
