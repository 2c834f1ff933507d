"""The translation model of chapters 2–5 and 9–11: a GRU encoder–decoder, with or without attention.

One class, :class:`Translator`, covers the three designs the chapters compare:

- no attention (Cho et al. 2014; Sutskever et al. 2014): the encoder's last state is the
  decoder's first state, and the only thing the decoder knows of the source;
- attention that feeds the state (Bahdanau et al. 2015): before step i the decoder reads
  a context c_i with its previous state s_{i-1} as the query, and c_i goes into the GRU
  together with the previous word. Teacher forcing runs as one ``keras.layers.RNN`` over
  a cell that does both, so no Python loop over time steps, and the cell reads the
  encoder states prepared once per sequence, not once per step;
- attention after the decoder (Luong et al. 2015): the GRU runs over all target steps at
  once, then every state s_i attends in one batched call, and [s_i; c_i] predicts the word.
  Monotonic attention (Raffel et al. 2017) sits here too: in training its expected
  alignment runs over all target steps at once; in decoding each step starts from the
  alignment of the step before, and the walk is hard (one source word) by default.

The module also holds what trains it: :func:`masked_loss`, :class:`TokenAccuracy`,
:func:`compile_translator`, and :func:`make_translator`, the builder the chapters share.
Greedy decoding and accuracy per source-length bucket live in ``attncourse.decoding``,
since chapter 9's Transformer (``attncourse.transformer``) decodes the same way: it has
the same ``encode`` / ``decode_step`` interface.
"""

import contextlib
import contextvars

import keras
from keras import ops

from attncourse.data import PAD, START
from attncourse.layers.bahdanau import BahdanauAttention
from attncourse.layers.common import masked_softmax
from attncourse.layers.cross import CrossAttention
from attncourse.layers.local import LocalAttention
from attncourse.layers.monotonic import MonotonicAttention

# The memory ContextFeedingCell.reading fixed, as ``(cell, prepared memory)``: a context
# variable, so that replicas traced in parallel threads (tf.distribute) keep their own.
_READING = contextvars.ContextVar("attncourse_context_feeding_memory", default=None)


def _with_attention_layer(config):
    """A copy of a saved ``config`` whose ``"attention"`` entry is the layer again, not its config."""
    config = dict(config)
    config["attention"] = keras.saving.deserialize_keras_object(config["attention"])
    return config


def _scores_step_by_step(attention):
    """Whether ``attention`` weighs as ``BahdanauAttention`` does, so its score can be split.

    True when the weights are the masked softmax of Bahdanau's additive scores (no
    subclass changed ``scores``, ``attention_weights`` or ``call``): then
    ``prepare_keys`` and ``step_scores`` compute its scores in two parts.
    """
    kind = type(attention)
    return (isinstance(attention, BahdanauAttention) and kind.scores is BahdanauAttention.scores
            and kind.attention_weights is CrossAttention.attention_weights
            and kind.call is CrossAttention.call)


@keras.saving.register_keras_serializable(package="attncourse")
class ContextFeedingCell(keras.layers.Layer):
    """One decoder step of Bahdanau et al.: attend with s_{i-1}, then update the GRU.

    ``keras.layers.RNN`` runs it over all target steps, so the whole teacher-forced
    decoder is one loop::

        c_i, α_i = attention(s_{i-1}, h_1..h_T_v)
        s_i      = GRU([y_{i-1}; c_i], s_{i-1})

    The cell takes the encoder states h_j and their mask (the *memory*) in one of two ways:

    - as states, ``[s_{i-1}, encoder_states, encoder_mask]``: a plain RNN cell (Keras 3's
      RNN has no ``constants`` argument), as greedy decoding calls it, one step at a time;
    - fixed for a whole run with :meth:`reading`: inside ``with cell.reading(encoder_states,
      encoder_mask):`` the cell's only state is ``[s_{i-1}]``, and it reads the memory as
      :meth:`prepare` made it, once. This is how :class:`Translator` runs teacher forcing.
      Memory carried as RNN states would be masked by the RNN at every step (a select over
      ``(batch, T_v, d_v)``, forward and backward) although it never changes, and
      Bahdanau's key projection W_k h_j, the same at every step, would be redone T_y times.

    Both give the same numbers. With :class:`~attncourse.layers.BahdanauAttention` the
    cell computes the weights from the layer's two halves of the score
    (``prepare_keys`` once, ``step_scores`` per step) and the context as Σ_j α_ij h_j;
    any other attention is called as a layer, with one query step.

    Args:
        units: size of the decoder state.
        attention: a cross-attention layer (``attention([query, value])``).
        source_length: T_v, the padded source length (the RNN needs static state sizes).
        memory_depth: d_v, the depth of the encoder states.

    Call arguments:
        inputs: the embedded previous word, ``(batch, embedding_dim)``.
        states: ``[s_{i-1}, encoder_states, encoder_mask]``, the mask as floats or
            booleans; or ``[s_{i-1}]`` inside :meth:`reading`.

    Returns:
        ``(output, new_states)`` with output ``[s_i; c_i; α_i]``, ``(batch, units + d_v + T_v)``,
        and the new states in the layout of ``states``.
    """

    def __init__(self, units, attention, source_length, memory_depth, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.attention = attention
        self.source_length = source_length
        self.memory_depth = memory_depth
        self.gru = keras.layers.GRUCell(units)
        self.state_size = [units, (source_length, memory_depth), source_length]
        self.output_size = units + memory_depth + source_length

    def build(self, input_shape):
        batch = input_shape[0]
        self._build_attention(batch)
        self.gru.build((batch, input_shape[-1] + self.memory_depth))

    def _build_attention(self, batch=None):
        if not self.attention.built:  # a reloaded attention layer comes built already
            self.attention.build([(batch, 1, self.units), (batch, self.source_length, self.memory_depth)])

    def prepare(self, memory, memory_mask):
        """The memory as every step reads it, computed once: ``(values, keys, mask)``.

        ``values`` are the encoder states, ``mask`` the mask as booleans, and ``keys`` what
        ``BahdanauAttention.prepare_keys`` makes of them (the projected keys W_k h_j, and
        the weights read once), None for any other attention.
        """
        self._build_attention()
        keys = self.attention.prepare_keys(memory) if _scores_step_by_step(self.attention) else None
        return memory, keys, ops.cast(memory_mask, "bool")

    @contextlib.contextmanager
    def reading(self, memory, memory_mask):
        """Within the ``with``, the cell reads this memory, prepared once, and has one state.

        Args:
            memory: the encoder states ``(batch, T_v, d_v)``.
            memory_mask: their mask ``(batch, T_v)``, True (or 1) on real source words.
        """
        token = _READING.set((self, self.prepare(memory, memory_mask)))
        try:
            yield
        finally:
            _READING.reset(token)

    def attend(self, previous, memory):
        """The context c_i ``(batch, d_v)`` and weights α_i ``(batch, T_v)`` for the query s_{i-1}."""
        values, keys, mask = memory
        if keys is None:  # another attention: its own call, with one query step
            context, weights = self.attention(
                [ops.expand_dims(previous, 1), values], mask=[None, mask], return_attention_scores=True)
            return context[:, 0], weights[:, 0]
        weights = masked_softmax(self.attention.step_scores(previous, keys), mask)
        # Σ_j α_j h_j as a product and a sum over j: on CPU, TensorFlow's batched matmul
        # (batch, 1, T_v) @ (batch, T_v, d_v) costs several times more, and a training step
        # runs it three times per target word (once forward, twice backward).
        context = ops.sum(ops.expand_dims(weights, -1) * ops.cast(values, weights.dtype), axis=1)
        return context, weights

    def call(self, inputs, states, training=False):
        previous = states[0]
        if len(states) == 1:
            reading = _READING.get()
            if reading is None or reading[0] is not self:
                raise ValueError(
                    "ContextFeedingCell: with the decoder state as its only state, the cell must "
                    "run inside `with cell.reading(encoder_states, encoder_mask):`; otherwise "
                    "pass the states [state, encoder_states, encoder_mask]")
            memory = reading[1]
        else:
            memory = self.prepare(states[1], states[2])
        context, weights = self.attend(previous, memory)
        state, _ = self.gru(ops.concatenate([inputs, context], axis=-1), [previous], training=training)
        return ops.concatenate([state, context, weights], axis=-1), [state, *states[1:]]

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "attention": keras.saving.serialize_keras_object(self.attention),
            "source_length": self.source_length,
            "memory_depth": self.memory_depth,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**_with_attention_layer(config))


@keras.saving.register_keras_serializable(package="attncourse")
class Translator(keras.Model):
    """A GRU encoder–decoder, with an attention layer plugged in or none.

    Args:
        source_vocab_size: size of the source vocabulary (id 0 is padding).
        target_vocab_size: size of the target vocabulary (ids 0, 1, 2: pad, start, end).
        source_length: T_v, the padded source length the model is built for.
        embedding_dim: size of the word embeddings.
        units: size of the encoder and decoder states.
        attention: ``None`` (the fixed-vector bottleneck) or a cross-attention layer such
            as ``BahdanauAttention(units)``, ``LuongAttention("general")`` or
            ``MonotonicAttention(units)``.
        feed_context: where the attention sits. True: the context feeds the next decoder
            state (Bahdanau); False: the decoder attends after its RNN (Luong). Defaults to
            True for ``BahdanauAttention`` and False for the others. Monotonic attention
            always attends after the RNN: its alignment at step i depends on the one at
            step i − 1, which the feeding cell does not carry.
        bidirectional: a bidirectional encoder (Bahdanau's), each direction ``units // 2``.

    Call arguments:
        inputs: ``[source, decoder_input]``, int ids ``(batch, T_v)`` and ``(batch, T_y)``
            (decoder_input starts with START; 0 is padding).
        return_attention_scores: also return the weights ``(batch, T_y, T_v)``.

    Returns:
        Logits ``(batch, T_y, target_vocab_size)``, or ``(logits, weights)``.
    """

    def __init__(self, source_vocab_size, target_vocab_size, *, source_length, embedding_dim=32,
                 units=64, attention=None, feed_context=None, bidirectional=False, **kwargs):
        super().__init__(**kwargs)
        if units < 2 or (bidirectional and units % 2):
            raise ValueError(f"units must be a positive (and, bidirectional, even) integer, got {units}")
        self.source_vocab_size = source_vocab_size
        self.target_vocab_size = target_vocab_size
        self.source_length = source_length
        self.embedding_dim = embedding_dim
        self.units = units
        self.bidirectional = bidirectional
        monotonic = isinstance(attention, MonotonicAttention)
        if feed_context is None:
            feed_context = isinstance(attention, BahdanauAttention) and not monotonic
        self.feed_context = feed_context
        if self.feed_context and attention is None:
            raise ValueError("feed_context=True needs an attention layer")
        if self.feed_context and monotonic:
            raise ValueError(
                "feed_context=True is not supported with MonotonicAttention (its alignment "
                "carries from step to step); use feed_context=False or leave it unset")
        self.attention = attention

        self.source_embedding = keras.layers.Embedding(source_vocab_size, embedding_dim, mask_zero=True)
        self.target_embedding = keras.layers.Embedding(target_vocab_size, embedding_dim, mask_zero=True)
        if bidirectional:
            self.encoder = keras.layers.Bidirectional(
                keras.layers.GRU(units // 2, return_sequences=True, return_state=True), merge_mode="concat")
        else:
            self.encoder = keras.layers.GRU(units, return_sequences=True, return_state=True)
        if self.feed_context:
            self.decoder = keras.layers.RNN(
                ContextFeedingCell(units, attention, source_length, units), return_sequences=True)
        else:
            self.decoder = keras.layers.GRU(units, return_sequences=True)
        # Luong's attentional hidden state: h~_i = tanh(W_c [s_i; c_i]).
        self.combine = keras.layers.Dense(units, activation="tanh") if attention is not None else None
        self.output_layer = keras.layers.Dense(target_vocab_size)

    def build(self, input_shape):
        # Create every weight now, by running the model once on a dummy pair, so that a
        # reloaded model and greedy decoding find them (sub-layers build lazily otherwise).
        source = ops.ones((1, self.source_length), dtype="int32")
        self.call([source, ops.full((1, 1), START, dtype="int32")])

    # -- the pieces, usable step by step in greedy decoding ---------------------------------

    def encode(self, source):
        """Encoder states ``(batch, T_v, units)``, the last state, and the source mask."""
        source_mask = ops.not_equal(source, PAD)
        outputs = self.encoder(self.source_embedding(source), mask=source_mask)
        if self.bidirectional:
            states, forward_last, backward_last = outputs
            last = ops.concatenate([forward_last, backward_last], axis=-1)
        else:
            states, last = outputs
        return states, last, source_mask

    def _predict(self, decoder_states, context):
        if self.combine is None:
            return self.output_layer(decoder_states)
        return self.output_layer(self.combine(ops.concatenate([decoder_states, context], axis=-1)))

    def call(self, inputs, training=False, return_attention_scores=False):
        source, decoder_input = inputs
        encoder_states, last, source_mask = self.encode(source)
        target_mask = ops.not_equal(decoder_input, PAD)
        embedded = self.target_embedding(decoder_input)
        weights = None
        if self.attention is None:
            decoder_states = self.decoder(embedded, initial_state=last, mask=target_mask, training=training)
            context = None
        elif self.feed_context:
            # The RNN carries and masks the decoder state only; the memory is read as
            # prepared once for the whole sequence (ContextFeedingCell.reading).
            if not self.decoder.built:  # the cell's weights first, under the RNN's name
                self.decoder.build(tuple(embedded.shape))
            with self.decoder.cell.reading(encoder_states, source_mask):
                steps = self.decoder(embedded, initial_state=last, mask=target_mask, training=training)
            # One split, not three slices: its gradient is one concatenation.
            decoder_states, context, weights = ops.split(steps, [self.units, 2 * self.units], axis=-1)
        else:
            decoder_states = self.decoder(embedded, initial_state=last, mask=target_mask, training=training)
            context, weights = self.attention(
                [decoder_states, encoder_states], mask=[target_mask, source_mask], return_attention_scores=True)
        logits = self._predict(decoder_states, context)
        if return_attention_scores:
            return logits, weights
        return logits

    def decode_step(self, previous_token, state, encoder_states, source_mask, previous_weights=None,
                    monotonic_mode="hard", step=None):
        """One greedy step: logits for the next word, the new state and the weights.

        Args:
            previous_token: int ids ``(batch,)`` of the previous word (START at first).
            state: the decoder state ``(batch, units)``.
            encoder_states, source_mask: what :meth:`encode` returned.
            previous_weights: the weights this method returned at the step before
                (``None`` at the first step). Only monotonic attention uses them: its walk
                starts where the previous step stopped.
            monotonic_mode: for ``MonotonicAttention``, ``"hard"`` (test time: one source
                word, never moving left) or ``"soft"`` (the expected alignment, as in
                training). Ignored by the other attentions.
            step: the target position i of the word this step predicts (0 at the first
                step). Local-m attention centres its window on it, so it needs it (a
                ``ValueError`` otherwise); the other attentions ignore it.

        Returns:
            ``(logits, new_state, weights)``; weights ``(batch, T_v)`` or None.
        """
        # A plain lookup: the embedding layer would attach a mask the GRU cell cannot use.
        embedded = ops.take(self.target_embedding.embeddings, previous_token, axis=0)
        if self.attention is None:
            new_state, _ = self.decoder.cell(embedded, [state])
            return self.output_layer(new_state), new_state, None
        if self.feed_context:
            mask = ops.cast(source_mask, encoder_states.dtype)
            output, (new_state, _, _) = self.decoder.cell(embedded, [state, encoder_states, mask])
            context = output[:, self.units : 2 * self.units]
            weights = output[:, 2 * self.units :]
        elif isinstance(self.attention, MonotonicAttention):
            new_state, _ = self.decoder.cell(embedded, [state])
            context, weights = self.attention.step(
                new_state, encoder_states, previous_weights, value_mask=source_mask, mode=monotonic_mode)
        else:
            new_state, _ = self.decoder.cell(embedded, [state])
            position = {}
            if isinstance(self.attention, LocalAttention):
                if step is None and self.attention.mode == "monotonic":
                    raise ValueError("decode_step with local-m attention needs step= (its window "
                                     "is centred on the target position i)")
                position = {"query_start": 0 if step is None else step}
            context, weights = self.attention(
                [ops.expand_dims(new_state, 1), encoder_states], mask=[None, source_mask],
                return_attention_scores=True, **position)
            context, weights = context[:, 0], weights[:, 0]
        return self._predict(new_state, context), new_state, weights

    def get_config(self):
        return {
            **super().get_config(),
            "source_vocab_size": self.source_vocab_size,
            "target_vocab_size": self.target_vocab_size,
            "source_length": self.source_length,
            "embedding_dim": self.embedding_dim,
            "units": self.units,
            "attention": keras.saving.serialize_keras_object(self.attention),
            "feed_context": self.feed_context,
            "bidirectional": self.bidirectional,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**_with_attention_layer(config))


def masked_loss():
    """Cross-entropy over the real target tokens only (padding, id 0, is ignored)."""
    return keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=PAD)


@keras.saving.register_keras_serializable(package="attncourse")
class TokenAccuracy(keras.metrics.Metric):
    """Share of real target tokens (padding, id 0, excluded) predicted right.

    Under teacher forcing: each prediction sees the true previous words. Padding is
    found from the targets themselves, so the result does not depend on whether Keras
    passes the output mask along.
    """

    def __init__(self, name="token_accuracy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.hits = self.add_variable(shape=(), initializer="zeros", name="hits")
        self.total = self.add_variable(shape=(), initializer="zeros", name="total")

    def update_state(self, y_true, y_pred, sample_weight=None):
        real = ops.cast(ops.not_equal(y_true, PAD), "float32")
        predicted = ops.cast(ops.argmax(y_pred, axis=-1), y_true.dtype)
        hits = ops.cast(ops.equal(predicted, y_true), "float32")
        self.hits.assign_add(ops.sum(hits * real))
        self.total.assign_add(ops.sum(real))

    def result(self):
        return self.hits / ops.maximum(self.total, 1.0)


def compile_translator(model, learning_rate=3e-3, jit_compile="auto"):
    """Compile with Adam, the masked loss and masked token accuracy (the chapters' defaults).

    The model (a :class:`Translator` or a :class:`~attncourse.transformer.Transformer`)
    is built here if it is not yet, and so are the optimizer's slots. Keras otherwise
    creates the slots inside the first training step, and TensorFlow then traces that step
    twice (once to create the variables, once without): the first epoch starts twice as
    slowly. The weights are the same either way.
    """
    model.compile(optimizer=keras.optimizers.Adam(learning_rate, clipnorm=1.0), loss=masked_loss(),
                  metrics=[TokenAccuracy()], jit_compile=jit_compile)
    if not model.built:
        model.build(None)  # every weight, from the model's configuration
    model.optimizer.build(model.trainable_variables)
    return model


def make_translator(pairs, *, source_length, attention=None, embedding_dim=32, units=64,
                    bidirectional=False, feed_context=None, seed=None, compile=True,
                    learning_rate=3e-3, jit_compile="auto"):
    """The chapters' translator for a set of sentence pairs: built, and compiled by default.

    The vocabulary sizes come from ``pairs``; every weight is created at once (so
    ``count_params`` works before training); then the model is compiled with
    :func:`compile_translator` unless ``compile=False`` (chapter 11 compiles by hand,
    under a distribution strategy).

    Args:
        pairs: a ``ToyTranslation`` or ``SentencePairs`` (``source_vocab``, ``target_vocab``).
        source_length: T_v, the padded source length the model is built for.
        attention: ``None`` or a cross-attention layer, as for :class:`Translator`.
        embedding_dim: size of the word embeddings.
        units: size of the encoder and decoder states.
        bidirectional: a bidirectional encoder, as for :class:`Translator`.
        feed_context: where the attention sits, as for :class:`Translator`.
        seed: if given, ``keras.utils.set_random_seed(seed)`` first, so that models built
            with the same seed start from the same weights where they share them.
        compile: compile with :func:`compile_translator`.
        learning_rate: Adam's learning rate, when compiling.
        jit_compile: passed to ``compile``, when compiling.

    Returns:
        The :class:`Translator`, built (and compiled unless ``compile=False``).
    """
    if seed is not None:
        keras.utils.set_random_seed(seed)
    model = Translator(len(pairs.source_vocab), len(pairs.target_vocab), source_length=source_length,
                       embedding_dim=embedding_dim, units=units, attention=attention,
                       feed_context=feed_context, bidirectional=bidirectional)
    model.build(None)  # creates every weight, so the parameters can be counted
    if compile:
        compile_translator(model, learning_rate=learning_rate, jit_compile=jit_compile)
    return model
