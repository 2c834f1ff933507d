"""The hierarchical attention network of chapter 8 (Yang et al., 2016), and its pooling baselines.

A document is a grid of word ids, ``(S sentences, T words)``, 0 for padding. The model reads
it the way it is built, in two levels:

- the **sentence encoder** (:func:`encode_sentences`): every sentence of every document is
  one sequence of words; an embedding, a word encoder and a pooling over the words give
  one vector per sentence;
- the **document model** (:func:`build_classifier`): the sentence vectors, read by a
  sentence encoder of the same kind (none for ``"dense"``), are pooled over the sentences
  into one document vector, and a sigmoid unit gives P(positive).

Three encoders (``ENCODERS``): ``"dense"`` reads each word on its own (a ``Dense`` layer,
and no sentence encoder), ``"context"`` reads each word together with the mean of its
sentence, and each sentence with the mean of its document (:func:`context_encoder`: cheap,
and like a GRU it lets a word's state depend on the rest of its sentence), ``"gru"`` reads
them with bidirectional GRUs, as Yang et al. do.

The pooling at both levels is the other thing chapter 8 varies: ``"attention"`` is HAN
(:class:`~attncourse.layers.ContextAttention` at each level), ``"average"`` and ``"max"``
are the paper's HN-AVE and HN-MAX, with :class:`MaskedPooling`. :func:`build_han` is HAN
as the paper built it (recurrent encoders, chapter 10), and :func:`train_classifier`
builds, compiles and fits one model with the chapter's training settings.

Masks come from the ids: a word is real when its id is not 0, a sentence when it has a real
word. A padded sentence is a sequence without any real word; every pooling here gives it a
zero vector (never NaN), and the sentence mask keeps it out of the document.
"""

import keras
from keras import ops

from attncourse.layers.context import ContextAttention

POOLINGS = ("attention", "average", "max")
ENCODERS = ("dense", "context", "gru")


@keras.saving.register_keras_serializable(package="attncourse")
class MaskedPooling(keras.layers.Layer):
    """Average or maximum over the real steps of a sequence; zeros for one of padding only.

    Keras's ``GlobalAveragePooling1D`` divides by the number of real steps, which is 0 for
    a padded sentence (0/0 = NaN, which poisons the gradients even where it is masked
    later), and ``GlobalMaxPooling1D`` ignores masks: this layer does neither.

    Args:
        mode: ``"average"`` or ``"max"``.
        **kwargs: standard layer arguments (``name``, ``dtype``, ...).

    Call arguments:
        inputs: ``(batch, T, d)``.
        mask: booleans ``(batch, T)``, True on real steps; None means every step is real.

    Returns:
        ``(batch, d)``: the average or the maximum of each feature over the real steps, and
        zeros for a sequence without any real step. The time axis is pooled away, so the
        output carries no mask.

    Raises:
        ValueError: ``mode`` is neither ``"average"`` nor ``"max"``.

    Example:
        >>> states = np.array([[[1.0, -2.0], [3.0, 4.0], [9.0, 9.0]]], dtype="float32")
        >>> mask = np.array([[True, True, False]])
        >>> ops.convert_to_numpy(MaskedPooling("max")(states, mask=mask))
        array([[3., 4.]], dtype=float32)
    """

    def __init__(self, mode, **kwargs):
        super().__init__(**kwargs)
        if mode not in ("average", "max"):
            raise ValueError(f"MaskedPooling: mode must be 'average' or 'max', received {mode!r}")
        self.mode = mode
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            mask = ops.ones(ops.shape(inputs)[:2], dtype="bool")
        real = ops.expand_dims(ops.cast(mask, "bool"), -1)  # (batch, T, 1): broadcasts over the features
        count = ops.sum(ops.cast(real, inputs.dtype), axis=1)  # real steps per sequence, (batch, 1)
        if self.mode == "average":
            pooled = ops.sum(ops.where(real, inputs, 0.0), axis=1) / ops.maximum(count, 1.0)
        else:
            lowest = ops.min(inputs) - 1.0  # below every real value, so padding never wins the max
            pooled = ops.max(ops.where(real, inputs, lowest), axis=1)
        return ops.where(count > 0, pooled, 0.0)

    def compute_mask(self, inputs, mask=None):
        return None  # the time axis is pooled away

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


def pooling_layer(pooling, level):
    """One level's pooling, as a function ``(states, mask) -> (pooled, weights or None)``.

    Args:
        pooling: ``"attention"`` (a :class:`~attncourse.layers.ContextAttention`, whose
            weights come back too), ``"average"`` or ``"max"`` (a :class:`MaskedPooling`,
            no weights).
        level: ``"word"`` or ``"sentence"``, for the layer's name.

    Returns:
        The function, with its layer created (once: every call uses the same weights).
    """
    if pooling == "attention":
        attention = ContextAttention(name=f"{level}_attention")
        return lambda states, mask: attention(states, mask=mask, return_attention_scores=True)
    pool = MaskedPooling(pooling, name=f"{level}_{pooling}_pooling")
    return lambda states, mask: (pool(states, mask=mask), None)


def _encoder_name(encoder, recurrent):
    """The encoder to use: ``encoder`` when given, else ``"gru"`` if ``recurrent`` else ``"dense"``."""
    if encoder is None:
        return "gru" if recurrent else "dense"
    if encoder not in ENCODERS:
        raise ValueError(f"encoder must be one of {ENCODERS}, received {encoder!r}")
    if recurrent and encoder != "gru":
        raise ValueError(f"recurrent=True asks for the 'gru' encoder, but encoder={encoder!r}")
    return encoder


def context_encoder(states, mask, units, level):
    """Each step read with the mean of its sequence: ``tanh(x_t W + mean(x) U + b)``.

    A cheap stand-in for a bidirectional GRU: every output depends on its own input and on
    the masked mean of all the real steps of its sequence, so a word's state can say "my
    sentence holds a verdict marker" (and a sentence's state, something about its
    document), which a ``Dense`` layer applied to each step alone cannot. No recurrence:
    two matrix products per level.

    Args:
        states: ``(batch, T, d)``.
        mask: booleans ``(batch, T)``, True on real steps.
        units: the size of the outputs.
        level: ``"word"`` or ``"sentence"``, for the layers' names.

    Returns:
        ``(batch, T, units)``; a sequence of padding only reads a zero mean.
    """
    own = keras.layers.Dense(units, name=f"{level}_encoder")(states)
    mean = MaskedPooling("average", name=f"{level}_encoder_mean")(states, mask=mask)  # (batch, d)
    shared = keras.layers.Dense(units, use_bias=False, name=f"{level}_encoder_context")(mean)
    return ops.tanh(own + ops.expand_dims(shared, 1))


def encode_sentences(documents, pooling, units, vocabulary_size, recurrent=False, encoder=None):
    """The sentence encoder: word ids ``(batch, S, T)`` to one vector per sentence.

    Every sentence of every document becomes one sequence, ``(batch · S, T)``, so one word
    encoder and one pooling serve all sentences (``keras.layers.TimeDistributed`` would do
    the same one sentence slot at a time); a reshape back gives ``(batch, S, units)``.

    Args:
        documents: int word ids ``(batch, S, T)`` with a static ``(S, T)``, 0 for padding
            (a Keras input, or a tensor).
        pooling: ``"attention"``, ``"average"`` or ``"max"``.
        units: the size of the word embeddings and of the word encoder's outputs (for
            ``"gru"``, each direction of the GRU has ``units // 2``).
        vocabulary_size: the number of word ids.
        recurrent: shorthand for ``encoder="gru"``.
        encoder: ``"dense"`` reads each word on its own (``Dense``), ``"context"`` each
            word with the mean of its sentence (:func:`context_encoder`), ``"gru"`` the
            words of each sentence with a bidirectional GRU, as Yang et al. do. Default:
            ``"gru"`` if ``recurrent`` else ``"dense"``.

    Returns:
        ``(sentence_vectors, word_weights)``: ``(batch, S, units)``, and the word weights
        ``(batch, S, T)`` for ``"attention"`` (zero on padded words), else None.
    """
    encoder = _encoder_name(encoder, recurrent)
    max_sentences, max_words = documents.shape[1:]
    word_ids = ops.reshape(documents, (-1, max_words))
    word_mask = ops.not_equal(word_ids, 0)  # padded words, and every word of a padded sentence
    word_states = keras.layers.Embedding(vocabulary_size, units, name="embedding")(word_ids)
    if encoder == "gru":
        # use_cudnn=False: a padded sentence is a sequence of length 0, which cuDNN rejects on a GPU.
        word_gru = keras.layers.GRU(units // 2, return_sequences=True, use_cudnn=False)
        word_states = keras.layers.Bidirectional(word_gru, name="word_encoder")(word_states, mask=word_mask)
    elif encoder == "context":
        word_states = context_encoder(word_states, word_mask, units, "word")
    else:
        word_states = keras.layers.Dense(units, activation="tanh", name="word_encoder")(word_states)
    sentence_vectors, word_weights = pooling_layer(pooling, "word")(word_states, word_mask)
    sentence_vectors = ops.reshape(sentence_vectors, (-1, max_sentences, units))
    if word_weights is not None:
        word_weights = ops.reshape(word_weights, (-1, max_sentences, max_words))
    return sentence_vectors, word_weights


def build_classifier(pooling, units, *, shape, vocabulary_size, recurrent=False, encoder=None, name=None):
    """The document model: a two-level classifier, HAN for ``"attention"``, else a pooling baseline.

    Args:
        pooling: ``"attention"`` (``ContextAttention`` at both levels), ``"average"`` or
            ``"max"`` (:class:`MaskedPooling` at both levels).
        units: the size of the word embeddings and of the encoders' outputs.
        shape: ``(max_sentences, max_words)`` of the documents.
        vocabulary_size: the number of word ids.
        recurrent: shorthand for ``encoder="gru"``.
        encoder: ``"dense"`` reads each word on its own (``Dense``) and has no sentence
            encoder; ``"context"`` reads each word with the mean of its sentence and each
            sentence with the mean of its document (:func:`context_encoder`); ``"gru"``
            reads words and sentences with bidirectional GRUs, as Yang et al. do. Default:
            ``"gru"`` if ``recurrent`` else ``"dense"``.
        name: the classifier's name; ``f"{pooling}_pooling"`` by default.

    Returns:
        ``(classifier, weights_model)``: the classifier maps ids ``(batch, S, T)`` to
        P(positive) ``(batch, 1)``; ``weights_model`` (HAN only, else None) maps them to the
        word weights ``(batch, S, T)`` and the sentence weights ``(batch, S)``.

    Raises:
        ValueError: an unknown ``pooling`` or ``encoder``.
    """
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {POOLINGS}, received {pooling!r}")
    encoder = _encoder_name(encoder, recurrent)
    max_sentences, max_words = shape
    documents = keras.Input((max_sentences, max_words), dtype="int32", name="documents")
    sentence_states, word_weights = encode_sentences(documents, pooling, units, vocabulary_size, encoder=encoder)

    # Sentence level: a sentence is real when it has a word.
    sentence_mask = ops.any(ops.not_equal(documents, 0), axis=-1)
    if encoder == "gru":
        sentence_gru = keras.layers.GRU(units // 2, return_sequences=True)
        sentence_states = keras.layers.Bidirectional(sentence_gru, name="sentence_encoder")(
            sentence_states, mask=sentence_mask)
    elif encoder == "context":
        sentence_states = context_encoder(sentence_states, sentence_mask, units, "sentence")
    document_vector, sentence_weights = pooling_layer(pooling, "sentence")(sentence_states, sentence_mask)
    probability = keras.layers.Dense(1, activation="sigmoid", name="classifier")(document_vector)

    classifier = keras.Model(documents, probability, name=name or f"{pooling}_pooling")
    if word_weights is None:
        return classifier, None
    return classifier, keras.Model(documents, [word_weights, sentence_weights], name="han_weights")


def build_han(shape, vocabulary_size, units):
    """HAN as Yang et al. built it: bidirectional GRUs and ``ContextAttention`` at both levels.

    :func:`build_classifier` with ``pooling="attention"`` and ``recurrent=True``, named
    ``"han"``; chapter 10 trains it on real reviews.

    Returns:
        ``(classifier, weights_model)``, as :func:`build_classifier` returns them.
    """
    return build_classifier("attention", units, shape=shape, vocabulary_size=vocabulary_size,
                            recurrent=True, name="han")


def train_classifier(pooling, docs, *, units, epochs, recurrent=False, encoder=None, seed=0,
                     learning_rate=3e-3, batch_size=64, label_smoothing=0.1, validation_split=0.1,
                     jit_compile="auto", verbose=2):
    """Build, compile and fit one classifier of chapter 8 on ``docs``.

    The seed is set first, so models trained with the same seed start from the same draws.
    The loss is the binary cross-entropy with label smoothing (targets 0.05 and 0.95 for the
    default 0.1: once every review is right, training stops asking for ever more
    confidence); the optimiser is Adam; Keras holds out the last ``validation_split`` of the
    documents and reports a validation accuracy after each epoch.

    Args:
        pooling: ``"attention"``, ``"average"`` or ``"max"``.
        docs: the training documents (``ids`` ``(n, S, T)``, ``labels``, ``vocabulary``),
            e.g. ``data.planted_documents`` or ``data.review_documents``.
        units: the size of the embeddings and encoders.
        epochs: the number of epochs.
        recurrent: shorthand for ``encoder="gru"``.
        encoder: ``"dense"``, ``"context"`` or ``"gru"`` (see :func:`build_classifier`).
        seed: passed to ``keras.utils.set_random_seed`` before the model is built.
        learning_rate: Adam's learning rate.
        batch_size: documents per training step.
        label_smoothing: of the binary cross-entropy.
        validation_split: the share of ``docs`` held out for validation.
        jit_compile: passed to ``compile`` (``"auto"``: XLA on a GPU).
        verbose: passed to ``fit``; with a nonzero value the model's name is printed first.

    Returns:
        ``(classifier, weights_model, history)``; ``weights_model`` is None but for HAN.
    """
    keras.utils.set_random_seed(seed)  # the same initial draws for every model
    encoder = _encoder_name(encoder, recurrent)
    classifier, weights_model = build_classifier(
        pooling, units, encoder=encoder, shape=docs.ids.shape[1:], vocabulary_size=len(docs.vocabulary))
    loss = keras.losses.BinaryCrossentropy(label_smoothing=label_smoothing)
    # Metric and optimizer state created now, not inside the first training step, which
    # TensorFlow would otherwise trace twice (once to create the variables, once without).
    classifier.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss,
                       metrics=[keras.metrics.BinaryAccuracy(name="accuracy")], jit_compile=jit_compile)
    classifier.optimizer.build(classifier.trainable_variables)
    if verbose:
        print(f"--- {classifier.name} ({encoder} encoders)")
    history = classifier.fit(docs.ids, docs.labels, validation_split=validation_split, epochs=epochs,
                             batch_size=batch_size, verbose=verbose)
    return classifier, weights_model, history
