"""The code paths only the ``gpu`` profile runs, run on a CPU at ci sizes.

Each notebook sizes its runs with ``attncourse.pick(ci=..., cpu=..., gpu=...)``; some gpu
values switch on code that ``make test`` (ci) and ``make book`` (cpu) never execute: XLA,
the mixed_float16 dtype policy, the real-data loaders, recurrent encoders, wider shapes.
On top of that, Keras compiles with ``jit_compile="auto"`` by default, which means XLA as
soon as TensorFlow sees a GPU: every chapter that leaves ``jit_compile`` alone trains
under XLA on Colab and eagerly (tf.function, no XLA) everywhere else.

Every test here passes the package the arguments a notebook's gpu branch passes (the
constants below, each named after its notebook cell) on data small enough for seconds.
Paths covered elsewhere are only listed here:

- the Bahdanau translator under XLA on whole batches: tests/test_translator.py,
  ``test_bahdanau_translator_trains_under_xla_like_without`` (the gpu profile's last
  batch of an epoch is smaller, a case that failed and is tested here);
- mixed precision in chapter 9 (the cell that sets PRECISION_STEPS) runs in every profile, so ``make test`` runs it;
  tests/test_translator.py, ``test_translator_trains_in_mixed_precision``, trains the
  translators under it without XLA;
- downloading the sentence pairs, and falling back when offline (chapter 10):
  tests/test_data_sentence_pairs.py, ``test_download_unpacks_a_cached_archive_once`` and
  ``test_offline_download_raises_a_connection_error_naming_the_url``;
- unpacking the IMDB archive (chapters 8 and 10): tests/test_data_documents.py,
  ``test_download_imdb_reviews_unpacks_a_cached_archive_once``.

The builders the chapters share live in the package and run here with the gpu values:
``translator.make_translator`` (chapters 3 and 10) and ``attncourse.han``'s
``build_classifier`` / ``MaskedPooling`` / ``train_classifier`` (chapter 8) and
``build_han`` (chapter 10). What lives only in a notebook cell (chapter 7's
``language_model``) is not run here; its test uses the package layer it is made of, in the
configuration the gpu branch gives it.
"""

import ast
import contextlib
import json
from pathlib import Path

import numpy as np
import pytest

keras = pytest.importorskip("keras")
from keras import ops  # noqa: E402

from attncourse import data, decoding, translator  # noqa: E402
from attncourse.han import POOLINGS, build_han, train_classifier  # noqa: E402
from attncourse.layers import (  # noqa: E402
    BahdanauAttention,
    ContextAttention,
    KeyValueAttention,
    LocalAttention,
    LuongAttention,
    SelfAttentivePooling,
)
from tests.test_data_documents import write_reviews  # noqa: E402
from tests.test_data_sentence_pairs import PAIRS, write_pairs  # noqa: E402

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"

# The gpu values of the notebooks, each under the name its notebook gives it.
# 06_static_and_self: MAX_LENGTH.
CH6_MAX_LENGTH = 24
# 07_key_value: VOCABULARY_SIZE and the cell that sets PART_SIZE.
CH7_VOCABULARY_SIZE, CH7_STEPS, CH7_CONTEXT = 2000, 20, 10
CH7_PART_SIZE, CH7_WINDOW = 64, 10
# Every model has one LSTM of 3 parts; attention reads all of h_t, key-value splits it in 2 or 3 parts.
CH7_LSTM_PARTS = 3
CH7_PARTS = {"attention": 1, "key_value": 2, "key_value_predict": 3}
# 08_han (use_real_data) and 10_real_data (REVIEWS_PER_CLASS, REVIEW_VOCABULARY): the real reviews.
REVIEWS_PER_CLASS = 10000
REVIEW_SHAPE = (15, 40)  # sentences, words
REVIEW_VOCABULARY = 20000
# 08_han's UNITS (every profile); 08_han's use_real_data cell and 10_real_data's HAN_UNITS:
# the units of the HAN models; 10_real_data's HAN cell: HAN's batch size.
CH8_UNITS, REVIEW_UNITS, CH10_HAN_BATCH = 16, 64, 64
# 10_real_data: MAX_LENGTH, MAX_VOCABULARY, N_PAIRS and EDGES, the real sentence pairs.
CH10_MAX_LENGTH, CH10_MAX_VOCABULARY, CH10_N_PAIRS = 20, 8000, 60000
CH10_EDGES = (1, 5, 10, 15, 20)

# Every pick() whose gpu value switches something on (a bool or a str that neither ci nor
# cpu uses), and the test here that runs it. A new switch must be added to this table.
GPU_ONLY_SWITCHES = {
    ("03_bahdanau", "jit_compile"): "test_translator_trains_under_xla_with_a_smaller_last_batch",
    ("08_han", "compare_recurrent"): "test_han_classifiers_with_recurrent_encoders_under_xla",
    ("08_han", "use_real_data"): "test_han_classifiers_train_on_real_reviews_at_gpu_sizes",
    ("10_real_data", "set_dtype_policy"): "test_translator_in_mixed_precision_under_xla_on_real_pairs",
    ("10_real_data", "SOURCE"): "test_imdb_download_failure_is_an_exception_the_notebooks_catch",
    ("10_real_data", "jit_compile"): "test_translator_in_mixed_precision_under_xla_on_real_pairs",
}


@contextlib.contextmanager
def dtype_policy(name):
    """Set Keras's global dtype policy for a block, then put the previous one back."""
    previous = keras.mixed_precision.dtype_policy()
    keras.mixed_precision.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.mixed_precision.set_dtype_policy(previous)


@pytest.fixture
def mixed_float16():
    """The policy of chapter 10's gpu profile (its imports cell), restored after the test."""
    with dtype_policy("mixed_float16"):
        yield


def fit_losses(model, x, y, epochs=2, batch_size=16, **kwargs):
    history = model.fit(x, y, epochs=epochs, batch_size=batch_size, shuffle=False, verbose=0, **kwargs)
    return np.array(history.history["loss"])


def assert_learns(losses):
    assert np.all(np.isfinite(losses)), losses
    assert losses[-1] < losses[0], losses


needs_tensorflow = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="jit_compile='auto' means XLA on a TensorFlow GPU"
)


def assert_xla_matches_eager(layer, inputs, mask):
    """The layer's outputs, and the gradients of a loss on them, the same under XLA as eagerly.

    What Keras's ``jit_compile="auto"`` compiles on a GPU for a model with this layer: the
    forward pass and the gradients with respect to the weights and the inputs. The loss is
    the sum of the squared outputs plus the layer's own losses (a penalty, if any).
    Returns the eager outputs ``[output, weights]`` as NumPy arrays.
    """
    import tensorflow as tf

    inputs = [tf.constant(x) for x in inputs]
    single = len(inputs) == 1

    def forward_and_gradients(*tensors):
        with tf.GradientTape() as tape:
            tape.watch(tensors)
            output, weights = layer(tensors[0] if single else list(tensors), mask=mask,
                                    return_attention_scores=True)
            loss = tf.reduce_sum(tf.square(tf.cast(output, "float32"))) + sum(layer.losses)
        return [output, weights, *tape.gradient(loss, [*layer.trainable_variables, *tensors])]

    eager = forward_and_gradients(*inputs)
    compiled = tf.function(forward_and_gradients, jit_compile=True)(*inputs)
    assert len(compiled) == len(eager) == 2 + len(layer.trainable_variables) + len(inputs)
    for got, expected in zip(compiled, eager):
        assert np.all(np.isfinite(got.numpy()))
        np.testing.assert_allclose(got.numpy(), expected.numpy(), atol=1e-4, rtol=1e-4)
    return [t.numpy() for t in eager[:2]]


def as_numpy(x):
    return ops.convert_to_numpy(ops.cast(x, "float32"))


# ----------------------------------------------------------------------------- chapters 3 and 10: XLA


def test_translator_trains_under_xla_with_a_smaller_last_batch():
    # 03_bahdanau (the cell that sets N_PAIRS) compiles both translators with jit_compile=True in
    # the gpu profile (as 10_real_data's translators cell does, there in mixed precision). 56 pairs in batches of 16:
    # the last batch of an epoch is smaller, as with 17,000 training pairs in batches of
    # 128, so XLA compiles for an unknown batch size. tests/test_translator.py's XLA test has
    # whole batches only, which hid the failure additive_scores had here. The attention
    # model holds every layer the encoder-decoder has (GRU encoder, embeddings, output
    # layer), so the encoder-decoder gets no XLA run of its own, which keeps this file fast.
    pairs = data.toy_translation(56, vocab_size=20, min_length=3, max_length=9, seed=3)
    arrays = data.seq2seq_arrays(pairs, source_length=9, target_length=10)
    inputs, targets = [arrays["source"], arrays["decoder_input"]], arrays["decoder_target"]
    losses, logits = {}, {}
    for jit in (False, True):
        model = translator.make_translator(pairs, source_length=9, attention=BahdanauAttention(10), units=10,
                                           embedding_dim=6, seed=0, learning_rate=1e-2, jit_compile=jit)
        assert model.jit_compile is jit
        losses[jit] = fit_losses(model, inputs, targets)
        logits[jit] = as_numpy(model(inputs))
    assert_learns(losses[True])
    np.testing.assert_allclose(losses[True], losses[False], rtol=1e-4)
    np.testing.assert_allclose(logits[True], logits[False], atol=1e-4)


# A pair of exactly CH10_MAX_LENGTH source tokens, and one a token longer on the English side.
LONG_PAIRS = [
    "The old man and the young boy walk to the big house near the river every day in summer.\t"
    "El viejo y el niño caminan a la casa grande cerca del río todos los días en verano.",
    "The old man and the young boy walk slowly to the big house near the river every day in summer.\t"
    "El viejo y el niño caminan despacio a la casa grande cerca del río todos los días.",
]


@pytest.fixture
def real_pairs(tmp_path):
    """10_real_data's sentence-pairs cell (MAX_LENGTH, N_PAIRS) with the gpu sizes, on a file of a few pairs."""
    path = write_pairs(tmp_path / "spa.txt", PAIRS + LONG_PAIRS)
    all_pairs = data.read_sentence_pairs(path, max_length=CH10_MAX_LENGTH, max_vocabulary=CH10_MAX_VOCABULARY)
    rng = np.random.default_rng(0)
    return all_pairs.subset(rng.permutation(len(all_pairs))[:CH10_N_PAIRS])


def test_translator_in_mixed_precision_under_xla_on_real_pairs(mixed_float16, real_pairs):
    # 10_real_data in the gpu profile: mixed_float16 from its imports cell on, both translators
    # compiled with jit_compile=True (the cell that sets UNITS), then greedy decoding by length
    # (the cell that sets EDGES).
    # The attention model only (see the test above for why).
    pairs = real_pairs
    assert len(pairs) == len(PAIRS) + 1  # the 21-token pair is dropped, the 20-token one kept
    assert pairs.source_lengths.max() == CH10_MAX_LENGTH
    arrays = data.seq2seq_arrays(pairs, source_length=CH10_MAX_LENGTH, target_length=CH10_MAX_LENGTH + 1)
    inputs = [np.tile(arrays["source"], (8, 1)), np.tile(arrays["decoder_input"], (8, 1))]
    targets = np.tile(arrays["decoder_target"], (8, 1))

    def make():
        return translator.make_translator(pairs, source_length=CH10_MAX_LENGTH, attention=BahdanauAttention(16),
                                          units=16, embedding_dim=8, seed=0, compile=False)

    model = translator.compile_translator(make(), learning_rate=1e-2, jit_compile=True)
    assert model.jit_compile is True
    assert type(model.optimizer).__name__ == "LossScaleOptimizer"
    assert model.output_layer.compute_dtype == "float16"
    assert all(v.dtype == "float32" for v in model.weights)
    # Whole batches (56 = 2 x 28): the smaller last batch under XLA is the test above's,
    # and a second compilation for it would double this test's time.
    assert_learns(fit_losses(model, inputs, targets, batch_size=28))

    # The float16 model computes what a float32 copy with the same weights computes.
    half_logits = model(inputs)
    assert keras.backend.standardize_dtype(half_logits.dtype) == "float16"
    with dtype_policy("float32"):
        full = make()
    full.set_weights(model.get_weights())
    np.testing.assert_allclose(as_numpy(half_logits), as_numpy(full(inputs)), atol=3e-2)

    result = decoding.accuracy_by_length(model, pairs, CH10_EDGES)
    assert result["labels"] == data.bucket_labels(CH10_EDGES)
    lengths = pairs.source_lengths
    assert sorted(lengths.tolist()) == [2, 3, 5, 5, 7, 10, 20]
    assert result["count"] == [4, 2, 0, 1]  # 16-20 holds the 20-token sentence, a bucket ci lacks
    assert all(0.0 <= a <= 1.0 for a, n in zip(result["token_accuracy"], result["count"]) if n)
    weights = result["weights"]
    assert weights.dtype == np.float16 and np.all(np.isfinite(weights))
    for k, n in enumerate(lengths):
        assert np.all(weights[k, :, n:] == 0.0)
        np.testing.assert_allclose(weights[k, :, :n].astype("float32").sum(-1), 1.0, atol=1e-2)


# ----------------------------------------------------------------------------- chapters 8 and 10: real reviews

TRAIN_REVIEWS = {
    "neg": [
        "A dull film. The plot makes no sense.<br /><br />The jokes fall flat.",
        "Boring and far too long. The acting is wooden.",
        "A weak script and a silly ending. Avoid it.",
        "Awful dialogue. I checked my watch many times.",
    ],
    "pos": [
        "A warm and funny film. The two leads are wonderful.",
        "Beautifully shot and well acted. The story moved me.",
        "One of the best films this year. The ending is perfect.",
        # Longer than the gpu shape: 20 sentences, the first of 45 words.
        " ".join(["great"] * 45) + ". " + " ".join(f"Lovely scene number {k}." for k in range(19)),
    ],
}
TEST_REVIEWS = {
    "neg": ["A tedious film with a weak plot.", "Unseen words everywhere, sadly."],
    "pos": ["A lovely film with a great cast.", "Clever, funny and moving."],
}


@pytest.fixture(scope="module")
def review_folder(tmp_path_factory):
    """A folder in the layout of aclImdb (train/ and test/, neg/ and pos/)."""
    folder = tmp_path_factory.mktemp("aclImdb")
    write_reviews(folder / "train", TRAIN_REVIEWS)
    write_reviews(folder / "test", TEST_REVIEWS)
    return folder


def load_reviews(folder, shape=REVIEW_SHAPE):
    """08_han's use_real_data cell and 10_real_data's REVIEWS_PER_CLASS cell, with the gpu sizes."""
    texts, labels = data.read_review_folder(folder / "train", limit=REVIEWS_PER_CLASS)
    train = data.review_documents(texts, labels, max_vocabulary=REVIEW_VOCABULARY,
                                  max_sentences=shape[0], max_words=shape[1])
    train = train.subset(np.random.default_rng(0).permutation(len(train)))
    texts, labels = data.read_review_folder(folder / "test", limit=REVIEWS_PER_CLASS)
    test = data.review_documents(texts, labels, vocabulary=train.vocabulary,
                                 max_sentences=shape[0], max_words=shape[1])
    return train, test


def test_real_reviews_load_at_gpu_sizes(review_folder):
    train, test = load_reviews(review_folder)
    assert train.ids.shape == (8, *REVIEW_SHAPE) and train.ids.dtype == np.int32
    assert test.ids.shape == (4, *REVIEW_SHAPE)
    assert sorted(train.labels.tolist()) == [0] * 4 + [1] * 4 and test.labels.tolist() == [0, 0, 1, 1]
    # The shuffle keeps every review with its label: the long review is positive.
    long_review = int(np.argmax(train.sentence_mask.sum(axis=1)))
    assert train.labels[long_review] == 1
    # The long review fills the gpu shape and is cut there: 15 sentences, 40 words.
    assert train.sentence_mask[long_review].sum() == REVIEW_SHAPE[0]
    assert train.word_mask[long_review, 0].sum() == REVIEW_SHAPE[1]
    assert train.sentences(long_review)[0] == ["great"] * REVIEW_SHAPE[1]
    # The test reviews use the training vocabulary; words it lacks are <unk>, every id fits.
    assert test.vocabulary is train.vocabulary
    assert len(train.vocabulary) <= REVIEW_VOCABULARY + 4
    assert max(train.ids.max(), test.ids.max()) < len(train.vocabulary)
    assert data.UNKNOWN in test.sentences(1)[0]
    # The gpu shape keeps words the ci shapes of chapters 8 and 10 cut.
    for ci_shape in ((10, 25), (4, 16)):
        ci_train, _ = load_reviews(review_folder, ci_shape)
        assert train.word_mask.sum() > ci_train.word_mask.sum()


def test_imdb_download_failure_is_an_exception_the_notebooks_catch(tmp_path, monkeypatch):
    # 08_han (use_real_data) and 10_real_data (its reviews cell) call download_imdb_reviews() in the gpu
    # profile and carry on without the reviews on `except Exception`. Nothing listens on
    # port 9 here: the fetch fails at once, as offline.
    monkeypatch.setattr(data.documents, "IMDB_URL", "http://127.0.0.1:9/aclImdb_v1.tar.gz")
    with pytest.raises(Exception, match="127.0.0.1:9") as error:
        data.download_imdb_reviews(cache_dir=str(tmp_path))
    assert not isinstance(error.value, (KeyboardInterrupt, SystemExit))
    assert not list(tmp_path.rglob("aclImdb"))  # no half-unpacked folder left behind


def test_context_attention_reads_recurrent_states_of_real_reviews(mixed_float16, review_folder):
    # The word level of chapter 8's recurrent classifiers (compare_recurrent and
    # use_real_data) and of chapter 10's HAN (HAN_UNITS, under the gpu
    # profile's mixed_float16): a bidirectional GRU without cuDNN over every sentence of
    # every review, padded sentences included, then ContextAttention. Keras compiles them
    # with jit_compile="auto", which is XLA on a GPU.
    train, _ = load_reviews(review_folder)
    max_words = REVIEW_SHAPE[1]
    sentences = train.ids.reshape(-1, max_words)
    labels = np.repeat(train.labels, REVIEW_SHAPE[0]).astype("float32")
    empty = ~sentences.any(axis=-1)
    assert empty.any() and (~empty).any()

    keras.utils.set_random_seed(0)
    word_ids = keras.Input((max_words,), dtype="int32")
    mask = ops.not_equal(word_ids, 0)
    words = keras.layers.Embedding(len(train.vocabulary), 16)(word_ids)
    gru = keras.layers.GRU(8, return_sequences=True, use_cudnn=False)
    states = keras.layers.Bidirectional(gru)(words, mask=mask)
    pooled, weights = ContextAttention()(states, mask=mask, return_attention_scores=True)
    probability = keras.layers.Dense(1, activation="sigmoid")(pooled)
    model = keras.Model(word_ids, probability)
    probe = keras.Model(word_ids, [pooled, weights])
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="binary_crossentropy", jit_compile=True)
    assert_learns(fit_losses(model, sentences, labels, epochs=3, batch_size=40))  # 120 sentences
    assert all(v.dtype == "float32" for v in model.weights)

    pooled, weights = probe(sentences)
    assert keras.backend.standardize_dtype(weights.dtype) == "float16"
    pooled, weights = as_numpy(pooled), as_numpy(weights)
    assert np.all(np.isfinite(pooled)) and np.all(np.isfinite(weights))
    real = sentences != 0
    assert np.all(weights[~real] == 0.0)
    assert np.all(pooled[empty] == 0.0)  # an empty sentence pools to zeros, not NaN
    np.testing.assert_allclose(weights[~empty].sum(-1), 1.0, atol=1e-2)


def han_weights_of(weights_model, ids):
    """The word and sentence weights a HAN gives ``ids``, checked: zero on padding, else a distribution."""
    word_weights, sentence_weights = (as_numpy(w) for w in weights_model(ids))
    real_words = ids != 0
    real_sentences = real_words.any(axis=-1)
    assert word_weights.shape == ids.shape and sentence_weights.shape == ids.shape[:2]
    assert np.all(np.isfinite(word_weights)) and np.all(np.isfinite(sentence_weights))
    assert np.all(word_weights[~real_words] == 0.0)
    assert np.all(sentence_weights[~real_sentences] == 0.0)
    np.testing.assert_allclose(word_weights.sum(-1)[real_sentences], 1.0, atol=1e-2)
    np.testing.assert_allclose(sentence_weights.sum(-1), 1.0, atol=1e-2)
    return word_weights, sentence_weights


@needs_tensorflow
@pytest.mark.parametrize("pooling", POOLINGS)
def test_han_classifiers_with_recurrent_encoders_under_xla(pooling):
    # 08_han's compare_recurrent cell (gpu only): train_classifier trains the three
    # classifiers with bidirectional GRUs at both levels (the word GRU without cuDNN, over
    # padded sentences too), on the planted reviews, with UNITS = 16 (as the chapter sets it). Keras
    # compiles them with jit_compile="auto", XLA on a GPU; here jit_compile=True, and the
    # first epochs must match an eager run from the same seed.
    docs = data.planted_documents(40, seed=0)
    assert (docs.ids == 0).all(axis=-1).any()  # some padded sentences
    losses = {}
    for jit in (False, True):
        classifier, weights_model, history = train_classifier(
            pooling, docs, units=CH8_UNITS, recurrent=True, epochs=2, seed=0, batch_size=12,
            jit_compile=jit, verbose=0)
        assert classifier.jit_compile is jit
        losses[jit] = np.array(history.history["loss"])
    assert np.all(np.isfinite(losses[True])) and np.isfinite(history.history["val_loss"][-1])
    np.testing.assert_allclose(losses[True], losses[False], rtol=1e-4)
    assert isinstance(classifier.get_layer("word_encoder"), keras.layers.Bidirectional)
    assert (weights_model is None) == (pooling != "attention")
    if weights_model is not None:
        han_weights_of(weights_model, docs.ids)


@pytest.mark.parametrize("pooling", POOLINGS)
def test_han_classifiers_train_on_real_reviews_at_gpu_sizes(review_folder, pooling):
    # 08_han's use_real_data cell (gpu only): the reviews at the gpu shape, 15 sentences of
    # 40 words, and the three recurrent classifiers with 64 units, trained by train_classifier
    # under jit_compile="auto" (XLA on a GPU, here jit_compile=True).
    train, test = load_reviews(review_folder)
    classifier, weights_model, history = train_classifier(
        pooling, train, units=REVIEW_UNITS, recurrent=True, epochs=1, seed=0, batch_size=4,
        jit_compile=True, verbose=0)
    assert classifier.jit_compile is True
    assert classifier.input_shape == (None, *REVIEW_SHAPE)
    assert classifier.get_layer("embedding").input_dim == len(train.vocabulary)
    assert np.all(np.isfinite(history.history["loss"]))
    accuracy = classifier.evaluate(test.ids, test.labels, verbose=0)[1]
    assert 0.0 <= accuracy <= 1.0
    if pooling == "attention":
        word_weights, _ = han_weights_of(weights_model, test.ids[:2])
        assert word_weights.shape == (2, *REVIEW_SHAPE)


def test_han_of_chapter_10_in_mixed_precision_under_xla(mixed_float16, review_folder):
    # 10_real_data's HAN cell (HAN_UNITS) in the gpu profile: build_han at the gpu shape with 64 units,
    # under mixed_float16 (set in its imports cell), compiled as the cell compiles it, with XLA as
    # jit_compile="auto" gives on a GPU; batches of 64 (the 8 reviews in one batch).
    train, test = load_reviews(review_folder)
    keras.utils.set_random_seed(0)
    han, han_weights = build_han(REVIEW_SHAPE, len(train.vocabulary), REVIEW_UNITS)
    assert han.name == "han" and han.input_shape == (None, *REVIEW_SHAPE)
    assert isinstance(han.get_layer("sentence_encoder"), keras.layers.Bidirectional)
    han.compile(optimizer=keras.optimizers.Adam(3e-3), loss="binary_crossentropy", metrics=["accuracy"],
                jit_compile=True)
    losses = fit_losses(han, train.ids, train.labels, epochs=3, batch_size=CH10_HAN_BATCH)
    assert_learns(losses)
    assert all(v.dtype == "float32" for v in han.weights)
    probability = han(test.ids)
    assert keras.backend.standardize_dtype(probability.dtype) == "float16"
    assert np.all(np.isfinite(as_numpy(probability)))
    word_weights, sentence_weights = han_weights(test.ids)
    assert keras.backend.standardize_dtype(word_weights.dtype) == "float16"
    han_weights_of(han_weights, test.ids)


# ----------------------------------------------------------------------------- chapter 7: wider, more words


@pytest.fixture(scope="module")
def python_docs():
    return data.python_docs_corpus(max_words=CH7_VOCABULARY_SIZE, length=CH7_STEPS, context=CH7_CONTEXT)


def test_python_docs_corpus_at_the_gpu_vocabulary(python_docs):
    # 07_key_value's VOCABULARY_SIZE, gpu profile: 2000 words instead of 500. The notebook sizes the
    # embedding, the output layer and the log-frequency bias by len(vocabulary).
    corpus = python_docs
    size = len(corpus.vocabulary)
    assert size == CH7_VOCABULARY_SIZE + 4  # <pad> <start> <end> <unk>, then the 2000 words
    for ids in (corpus.train_inputs, corpus.train_targets, corpus.test_inputs, corpus.test_targets):
        assert ids.shape[1] == CH7_CONTEXT + CH7_STEPS and 0 <= ids.min() and ids.max() < size
    assert corpus.train_targets.max() >= 500 + 4  # words the ci vocabulary lacks do occur
    counts = np.bincount(corpus.train_targets.ravel(), minlength=size)
    assert counts.shape == (size,)


@needs_tensorflow
@pytest.mark.parametrize("mode", list(CH7_PARTS))
def test_key_value_memory_at_gpu_part_size_under_xla(mode):
    # 07_key_value, gpu profile: parts of 64 and an LSTM of 3 parts, so h_t has 192 features,
    # read whole (attention) or split into 2 or 3 parts; language_model (a notebook builder)
    # compiles with jit_compile="auto", XLA on a GPU.
    steps = CH7_CONTEXT + CH7_STEPS
    width = CH7_LSTM_PARTS * CH7_PART_SIZE
    h = np.random.default_rng(0).normal(size=(3, steps, width)).astype("float32")
    layer = KeyValueAttention(window=CH7_WINDOW, mode=mode)
    read, weights = assert_xla_matches_eager(layer, [h], mask=None)
    assert read.shape == (3, steps, width // CH7_PARTS[mode]) and weights.shape == (3, steps, steps)
    lag = np.arange(steps)[:, None] - np.arange(steps)[None, :]
    assert np.all(weights[:, (lag < 1) | (lag > CH7_WINDOW)] == 0.0)  # only the 10 steps before t
    np.testing.assert_allclose(weights[:, 1:].sum(-1), 1.0, atol=1e-5)


# ----------------------------------------------------------------------------- chapter 6: longer sentences


@needs_tensorflow
@pytest.mark.parametrize("pooling", ["static", "hops"])
def test_sentence_pooling_at_gpu_length_under_xla(pooling):
    # 06_static_and_self, gpu profile: sentences of up to 24 words (MAX_LENGTH); build_model
    # compiles with jit_compile="auto", XLA on a GPU. The hops carry the penalty,
    # a loss the layer adds, which XLA compiles with the rest.
    sentences = data.planted_cues(16, min_length=8, max_length=CH6_MAX_LENGTH, seed=0)
    assert sentences.ids.shape == (16, CH6_MAX_LENGTH) and sentences.lengths.max() == CH6_MAX_LENGTH
    mask = sentences.ids != data.PAD
    states = np.random.default_rng(0).normal(size=(16, CH6_MAX_LENGTH, 16)).astype("float32")
    if pooling == "static":
        layer = ContextAttention(units=16)
    else:
        layer = SelfAttentivePooling(16, hops=4, penalty=0.3)
    pooled, weights = assert_xla_matches_eager(layer, [states], mask=mask)
    if pooling == "hops":
        assert pooled.shape == (16, 4, 16) and len(layer.losses) == 1
        mask = mask[:, None, :]
    assert weights.shape[-1] == CH6_MAX_LENGTH
    assert np.all(np.where(mask, 0.0, weights) == 0.0)
    np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-5)


# ----------------------------------------------------------------------------- chapter 4: the scores under XLA

CROSS_LAYERS = {
    "luong-location": lambda: LuongAttention("location"),
    "luong-general": lambda: LuongAttention("general"),
    "luong-dot": lambda: LuongAttention("dot"),
    "luong-concat": lambda: LuongAttention("concat", units=8),
    "bahdanau": lambda: BahdanauAttention(8),
    "local-m": lambda: LocalAttention(2, "monotonic", score="general"),
    "local-p": lambda: LocalAttention(2, "predictive", score="general", normalize=False),
}


@needs_tensorflow
@pytest.mark.parametrize("name", list(CROSS_LAYERS))
def test_cross_attention_under_xla(name):
    # 04_luong compiles its speed models (dot, general, concat, additive) and its
    # translators (location, general, local-m, local-p, attention after a
    # bidirectional encoder's decoder) with jit_compile="auto": XLA on a GPU.
    rng = np.random.default_rng(0)
    query = rng.normal(size=(4, 6, 8)).astype("float32")
    value = rng.normal(size=(4, 7, 8)).astype("float32")
    query_mask = np.arange(6)[None] < np.array([[6], [4], [2], [1]])
    value_mask = np.arange(7)[None] < np.array([[7], [5], [3], [1]])
    context, weights = assert_xla_matches_eager(CROSS_LAYERS[name](), [query, value], mask=[query_mask, value_mask])
    assert context.shape == (4, 6, 8) and weights.shape == (4, 6, 7)
    assert np.all(weights[~np.broadcast_to(value_mask[:, None, :], weights.shape)] == 0.0)


# ----------------------------------------------------------------------------- the inventory


def gpu_only_switches(notebook):
    """(notebook, what) for each pick() whose gpu value is a bool or str that ci and cpu lack."""
    found = set()
    for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] != "code" or "pick(" not in source:
            continue
        lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
        tree = ast.parse("\n".join(lines))
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and ast.unparse(node.func).rsplit(".", 1)[-1] == "pick"):
                continue
            try:
                values = {k.arg: ast.literal_eval(k.value) for k in node.keywords}
            except ValueError:
                continue
            gpu = values.get("gpu")
            if not isinstance(gpu, (bool, str)) or gpu == values.get("ci") or gpu == values.get("cpu"):
                continue
            parent = parents[node]
            if isinstance(parent, ast.keyword):
                what = parent.arg
            elif isinstance(parent, ast.Assign):
                what = ast.unparse(parent.targets[0])
            elif isinstance(parent, ast.Call):
                what = ast.unparse(parent.func).rsplit(".", 1)[-1]
            else:
                what = ast.unparse(parent)
            found.add((notebook.stem, what))
    return found


@pytest.mark.skipif(not NOTEBOOKS.is_dir(), reason="the notebooks are not next to the tests")
def test_every_gpu_only_switch_has_a_test_here():
    found = set().union(*(gpu_only_switches(path) for path in sorted(NOTEBOOKS.glob("*.ipynb"))))
    assert found == set(GPU_ONLY_SWITCHES), (
        "a pick() switches on something in the gpu profile only; run it on a CPU in this file "
        f"and list it in GPU_ONLY_SWITCHES. New: {sorted(found - set(GPU_ONLY_SWITCHES))}, "
        f"gone: {sorted(set(GPU_ONLY_SWITCHES) - found)}"
    )
    for test_name in GPU_ONLY_SWITCHES.values():
        assert callable(globals().get(test_name)), test_name
