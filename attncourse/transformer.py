"""A tiny encoder–decoder Transformer (Vaswani et al. 2017) for chapter 9.

Same inputs, outputs and decoding interface as :class:`attncourse.translator.Translator`
(``encode``, ``decode_step``, ``source_length``), so ``decoding.greedy_decode`` and
``decoding.accuracy_by_length`` work on both and chapter 9 can put the two side by side. No
recurrence: every position of a sentence is computed at once, which is where the speed
comes from. Greedy decoding, one word at a time, keeps a key-value cache
(:class:`DecoderCache`) so that each step computes only the new position.
"""

import dataclasses
import warnings

import numpy as np
import keras
from keras import ops

from attncourse.data import PAD, START


def positional_encoding(length, depth):
    """Vaswani et al.'s sinusoidal positions, one row per position.

    PE[t, 2i] = sin(t / 10000^(2i / depth)) and PE[t, 2i + 1] = cos(t / 10000^(2i / depth)):
    each pair of columns is a clock hand turning at its own speed, from one turn every 2π
    positions (i = 0) down towards one turn every 10000·2π, so every position gets a
    distinct pattern, and moving k positions turns each hand by the same angle wherever it
    starts.

    Args:
        length: the number of positions T (rows), positions 0 .. T - 1.
        depth: the size d of each encoding (columns); odd sizes drop the last cosine.

    Returns:
        A float32 array ``(length, depth)`` with entries in [-1, 1].

    Raises:
        ValueError: ``length`` is negative or ``depth`` is not positive.
    """
    if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 0:
        raise ValueError(f"length must be an integer >= 0, got {length!r}")
    if isinstance(depth, bool) or not isinstance(depth, (int, np.integer)) or depth < 1:
        raise ValueError(f"depth must be a positive integer, got {depth!r}")
    positions = np.arange(length)[:, None]  # (T, 1)
    frequencies = 1.0 / 10000.0 ** (np.arange(0, depth, 2) / depth)  # one per column pair
    angles = positions * frequencies  # (T, ceil(d / 2))
    encoding = np.zeros((length, depth))
    encoding[:, 0::2] = np.sin(angles)
    encoding[:, 1::2] = np.cos(angles[:, : depth // 2])
    return encoding.astype("float32")


def causal_padding_mask(token_mask):
    """The decoder's self-attention mask: m_ij = [j <= i] · m_j.

    Step i may look at itself and the steps before it (not at the words it has to predict),
    and never at padding.

    Args:
        token_mask: booleans ``(batch, T)``, True on real tokens.

    Returns:
        Booleans ``(batch, T, T)``: row i is what query i may attend to.
    """
    steps = ops.arange(ops.shape(token_mask)[1])
    causal = ops.expand_dims(steps, 1) >= ops.expand_dims(steps, 0)  # (T, T), lower triangle
    return ops.logical_and(ops.expand_dims(causal, 0), ops.expand_dims(token_mask, 1))


def _attend(attention, query, keys, values, mask, return_attention_scores=False):
    """A ``MultiHeadAttention``'s scaled dot-product on already projected heads.

    What ``attention(query_input, value_input, attention_mask=mask)`` does after its
    query, key and value projections, with its own weights: scores over the keys, masked
    softmax, weighted sum of the values, output projection.

    Args:
        attention: a built ``keras.layers.MultiHeadAttention``.
        query: ``(batch, T_q, heads, key_dim)``, from ``attention.query_dense``.
        keys, values: ``(batch, T_k, heads, key_dim)``, from ``attention.key_dense`` and
            ``attention.value_dense``.
        mask: booleans ``(batch, T_q, T_k)``, True where attending is allowed.
        return_attention_scores: also return the weights (the layer then computes them
            explicitly instead of with its fused ``dot_product_attention``).

    Returns:
        The output ``(batch, T_q, depth)``, or ``(output, weights)`` with the weights
        ``(batch, heads, T_q, T_k)``.
    """
    output, weights = attention._compute_attention(query, keys, values, attention_mask=mask,
                                                   return_attention_scores=return_attention_scores)
    output = attention.output_dense(output)
    return (output, weights) if return_attention_scores else output


def _feed_forward(depth, hidden):
    return keras.Sequential([keras.layers.Dense(hidden, activation="relu"), keras.layers.Dense(depth)])


class _Block(keras.layers.Layer):
    """What the encoder and decoder blocks share: their sizes, checked, and their config."""

    def __init__(self, depth, heads, hidden, **kwargs):
        super().__init__(**kwargs)
        if depth % heads:
            raise ValueError(f"depth must be divisible by heads, got depth={depth} and heads={heads}")
        self.depth, self.heads, self.hidden = depth, heads, hidden

    def get_config(self):
        return {**super().get_config(), "depth": self.depth, "heads": self.heads, "hidden": self.hidden}


@keras.saving.register_keras_serializable(package="attncourse")
class EncoderBlock(_Block):
    """One Transformer encoder layer: self-attention, then a position-wise network.

    Pre-norm residuals, as in nanoGPT: ``x + attention(norm(x))`` then
    ``x + feed_forward(norm(x))``. Vaswani et al. normalise after the residual instead
    (post-norm); Xiong et al. (2020) find that normalising first lets training do without
    the learning-rate warm-up that post-norm needs. Chapter 9 measures the difference.

    Args:
        depth: d, the size of every position's vector.
        heads: n_heads; each head works on ``depth // heads`` dimensions.
        hidden: the width of the position-wise feed-forward network.

    Call arguments:
        x: ``(batch, T, depth)``.
        mask: booleans ``(batch, T, T)`` or ``(batch, 1, T)``, True where attending is allowed.
        return_attention_scores: also return the weights ``(batch, heads, T, T)``.

    Returns:
        ``(batch, T, depth)``, or ``(output, weights)``.
    """

    def __init__(self, depth, heads, hidden, **kwargs):
        super().__init__(depth, heads, hidden, **kwargs)
        self.attention_norm = keras.layers.LayerNormalization(epsilon=1e-6)
        self.attention = keras.layers.MultiHeadAttention(heads, key_dim=depth // heads)
        self.feed_forward_norm = keras.layers.LayerNormalization(epsilon=1e-6)
        self.feed_forward = _feed_forward(depth, hidden)

    def call(self, x, mask, return_attention_scores=False):
        normed = self.attention_norm(x)
        attended = self.attention(normed, normed, attention_mask=mask,
                                  return_attention_scores=return_attention_scores)
        attended, weights = attended if return_attention_scores else (attended, None)
        x = x + attended
        x = x + self.feed_forward(self.feed_forward_norm(x))
        return (x, weights) if return_attention_scores else x


@keras.saving.register_keras_serializable(package="attncourse")
class DecoderBlock(_Block):
    """One Transformer decoder layer: causal self-attention, cross-attention, feed-forward.

    Args:
        depth, heads, hidden: as for :class:`EncoderBlock`.

    Call arguments:
        x: the decoder's positions ``(batch, T_q, depth)``.
        memory: the encoder's output ``(batch, T_v, depth)``: keys and values of the
            cross-attention.
        self_mask: booleans ``(batch, T_q, T_q)``, causal and padding (see
            :func:`causal_padding_mask`).
        memory_mask: booleans ``(batch, 1, T_v)``, True on real source words.
        return_attention_scores: also return ``(self_weights, cross_weights)``, of shapes
            ``(batch, heads, T_q, T_q)`` and ``(batch, heads, T_q, T_v)``.

    Returns:
        ``(batch, T_q, depth)``, or ``(output, self_weights, cross_weights)``.
    """

    def __init__(self, depth, heads, hidden, **kwargs):
        super().__init__(depth, heads, hidden, **kwargs)
        self.self_attention_norm = keras.layers.LayerNormalization(epsilon=1e-6)
        self.self_attention = keras.layers.MultiHeadAttention(heads, key_dim=depth // heads)
        self.cross_attention_norm = keras.layers.LayerNormalization(epsilon=1e-6)
        self.cross_attention = keras.layers.MultiHeadAttention(heads, key_dim=depth // heads)
        self.feed_forward_norm = keras.layers.LayerNormalization(epsilon=1e-6)
        self.feed_forward = _feed_forward(depth, hidden)

    def call(self, x, memory, self_mask, memory_mask, return_attention_scores=False):
        scores = return_attention_scores
        normed = self.self_attention_norm(x)
        attended = self.self_attention(normed, normed, attention_mask=self_mask, return_attention_scores=scores)
        attended, self_weights = attended if scores else (attended, None)
        x = x + attended
        # Queries from the decoder, keys and values from the encoder: Bahdanau's attention,
        # with a scaled dot-product score and several heads.
        attended = self.cross_attention(self.cross_attention_norm(x), memory, attention_mask=memory_mask,
                                        return_attention_scores=scores)
        attended, cross_weights = attended if scores else (attended, None)
        x = x + attended
        x = x + self.feed_forward(self.feed_forward_norm(x))
        return (x, self_weights, cross_weights) if scores else x

    def memory_keys_values(self, memory):
        """The cross-attention's keys and values of the encoder output, for :meth:`step`.

        They depend on the source only, so greedy decoding computes them once per sentence.

        Args:
            memory: the encoder's output ``(batch, T_v, depth)``.

        Returns:
            ``(keys, values)``, each ``(batch, T_v, heads, depth // heads)``.
        """
        return self.cross_attention.key_dense(memory), self.cross_attention.value_dense(memory)

    def step(self, x, keys, values, key_mask, memory_keys, memory_values, memory_mask):
        """The block at one new position, given the keys and values of the positions before it.

        The same computation as :meth:`call` at the last of ``t + 1`` positions, with the
        block's own weights, but the earlier positions enter only through their cached
        self-attention keys and values: the new position's query, key and value are
        projected, its key and value appended to the cache, and the query attends over
        all of them; then the cross-attention, the feed-forward network, and the same
        pre-norm residuals.

        Args:
            x: the new position ``(batch, 1, depth)``.
            keys, values: the self-attention keys and values of the ``t`` positions before,
                ``(batch, t, heads, depth // heads)`` each (``t`` may be 0).
            key_mask: booleans ``(batch, 1, t + 1)``, True on the real (non-padding) tokens
                of the prefix, the new one last.
            memory_keys, memory_values: from :meth:`memory_keys_values`.
            memory_mask: booleans ``(batch, 1, T_v)``, True on real source words.

        Returns:
            ``(output, keys, values, cross_weights)``: ``(batch, 1, depth)``, the keys and
            values with the new position appended ``(batch, t + 1, heads, depth // heads)``,
            and the cross-attention weights ``(batch, heads, 1, T_v)``.
        """
        normed = self.self_attention_norm(x)
        attention = self.self_attention
        keys = ops.concatenate([keys, attention.key_dense(normed)], axis=1)
        values = ops.concatenate([values, attention.value_dense(normed)], axis=1)
        x = x + _attend(attention, attention.query_dense(normed), keys, values, key_mask)
        query = self.cross_attention.query_dense(self.cross_attention_norm(x))
        attended, cross_weights = _attend(self.cross_attention, query, memory_keys, memory_values, memory_mask,
                                          return_attention_scores=True)
        x = x + attended
        x = x + self.feed_forward(self.feed_forward_norm(x))
        return x, keys, values, cross_weights


@dataclasses.dataclass(frozen=True, eq=False)
class DecoderCache:
    """The decoding state of a :class:`Transformer` with its key-value cache.

    After t steps of :meth:`Transformer.decode_step` it holds what the next step needs of
    the past, so that the step computes only its own position: the self-attention keys
    and values of the t positions of every decoder block, and every block's
    cross-attention keys and values of the encoder output (computed once per sentence).

    Attributes:
        tokens: the prefix decoded so far, int ids ``(batch, t)`` (the uncached state);
            its padding tokens are masked as keys, as in :meth:`Transformer.decode`.
        keys, values: one ``(batch, t, heads, depth // heads)`` per decoder block.
        memory_keys, memory_values: one ``(batch, T_v, heads, depth // heads)`` per block.
        steps: t, the number of steps so far.
        shape: ``(batch, t)``, the shape of ``tokens``, as for the uncached state.
    """

    tokens: object
    keys: tuple
    values: tuple
    memory_keys: tuple
    memory_values: tuple

    @property
    def steps(self):
        return int(ops.shape(self.tokens)[1])

    @property
    def shape(self):
        return tuple(ops.shape(self.tokens))


@keras.saving.register_keras_serializable(package="attncourse")
class Transformer(keras.Model):
    """A tiny encoder–decoder Transformer, a drop-in for :class:`attncourse.translator.Translator`.

    Source words and target words are embedded, scaled by sqrt(d) and added to
    :func:`positional_encoding`; ``num_layers`` encoder blocks of multi-head self-attention
    read the source; ``num_layers`` decoder blocks read the target so far (causal mask) and
    the source (cross-attention); a dense layer predicts the next word.

    Args:
        source_vocab_size: size of the source vocabulary (id 0 is padding).
        target_vocab_size: size of the target vocabulary (ids 0, 1, 2: pad, start, end).
        source_length: T_v, the padded source length (greedy decoding pads to it).
        depth: d, the size of every position's vector (``d_model`` in the paper).
        heads: n_heads, attention heads per layer; ``depth`` must be divisible by it.
        hidden: width of the feed-forward networks (the paper's d_ff); default ``2 * depth``.
        num_layers: number of encoder blocks and of decoder blocks.
        max_length: the longest sequence the positional table covers (source or target).

    Call arguments:
        inputs: ``[source, decoder_input]``, int ids ``(batch, T_v)`` and ``(batch, T_y)``
            (decoder_input starts with START; 0 is padding).
        return_attention_scores: also return a dict of every head's weights, with keys
            ``"encoder"`` (a list, one ``(batch, heads, T_v, T_v)`` per block),
            ``"decoder"`` (``(batch, heads, T_y, T_y)`` each) and ``"cross"``
            (``(batch, heads, T_y, T_v)`` each).

    Returns:
        Logits ``(batch, T_y, target_vocab_size)``, or ``(logits, weights)``.

    Attributes:
        kv_cache: whether :meth:`decode_step` keeps a key-value cache when its ``cache``
            argument is left out (True, the class default). Set it to False on a model to
            make ``decoding.greedy_decode`` run the decoder over the whole prefix at every
            step, the uncached way, e.g. to compare the two. Not part of the config.
    """

    kv_cache = True

    def __init__(self, source_vocab_size, target_vocab_size, *, source_length, depth=64, heads=4,
                 hidden=None, num_layers=2, max_length=256, **kwargs):
        super().__init__(**kwargs)
        if isinstance(heads, bool) or not isinstance(heads, int) or heads < 1 or depth % heads:
            raise ValueError(f"heads must be a positive integer dividing depth, got heads={heads!r}, depth={depth}")
        if isinstance(num_layers, bool) or not isinstance(num_layers, int) or num_layers < 1:
            raise ValueError(f"num_layers must be a positive integer, got {num_layers!r}")
        if max_length < source_length + 1:
            raise ValueError(f"max_length must cover the source, at least {source_length + 1}, got {max_length}")
        self.source_vocab_size = source_vocab_size
        self.target_vocab_size = target_vocab_size
        self.source_length = source_length
        self.depth, self.heads, self.num_layers = depth, heads, num_layers
        self.hidden = hidden or 2 * depth
        self.max_length = max_length
        self.positions = positional_encoding(max_length, depth)  # a constant, not a weight

        self.source_embedding = keras.layers.Embedding(source_vocab_size, depth)
        self.target_embedding = keras.layers.Embedding(target_vocab_size, depth)
        self.encoder_blocks = [EncoderBlock(depth, heads, self.hidden) for _ in range(num_layers)]
        self.encoder_norm = keras.layers.LayerNormalization(epsilon=1e-6)
        self.decoder_blocks = [DecoderBlock(depth, heads, self.hidden) for _ in range(num_layers)]
        self.decoder_norm = keras.layers.LayerNormalization(epsilon=1e-6)
        self.output_layer = keras.layers.Dense(target_vocab_size)

    def build(self, input_shape):
        # Create every weight now with one dummy pair, as Translator does.
        source = ops.ones((1, self.source_length), dtype="int32")
        self.call([source, ops.full((1, 1), START, dtype="int32")])

    def _embed(self, embedding, tokens, start=0):
        # `tokens` sit at positions start .. start + T - 1 (start > 0 for one step with a cache).
        end = start + ops.shape(tokens)[1]
        if isinstance(end, int) and end > self.max_length:
            raise ValueError(f"a sequence of {end} tokens is longer than max_length={self.max_length}")
        # Scaled by sqrt(d), as in the paper, so the embeddings are not drowned by positions in [-1, 1].
        scaled = embedding(tokens) * float(np.sqrt(self.depth))
        return scaled + ops.cast(ops.convert_to_tensor(self.positions)[start:end], scaled.dtype)

    def encode(self, source, return_attention_scores=False):
        """Encoder output ``(batch, T_v, depth)``, an empty decoding state and the source mask.

        The state is the target prefix decoded so far, ``(batch, 0)`` ids at the start;
        :meth:`decode_step` with the key-value cache turns it into a :class:`DecoderCache`
        at its first step. With ``return_attention_scores`` a fourth item, the list of
        each encoder block's weights ``(batch, heads, T_v, T_v)``.
        """
        source_mask = ops.not_equal(source, PAD)
        attend_to = ops.expand_dims(source_mask, 1)  # (batch, 1, T_v): every query, real keys only
        x = self._embed(self.source_embedding, source)
        weights = []
        for block in self.encoder_blocks:
            if return_attention_scores:
                x, block_weights = block(x, attend_to, return_attention_scores=True)
                weights.append(block_weights)
            else:
                x = block(x, attend_to)
        memory = self.encoder_norm(x)
        state = ops.zeros((ops.shape(source)[0], 0), dtype="int32")
        if return_attention_scores:
            return memory, state, source_mask, weights
        return memory, state, source_mask

    def decode(self, decoder_input, memory, source_mask, return_attention_scores=False):
        """Logits ``(batch, T_y, target_vocab_size)`` for every target position at once."""
        self_mask = causal_padding_mask(ops.not_equal(decoder_input, PAD))
        memory_mask = ops.expand_dims(source_mask, 1)
        x = self._embed(self.target_embedding, decoder_input)
        self_weights, cross_weights = [], []
        for block in self.decoder_blocks:
            if return_attention_scores:
                x, block_self, block_cross = block(x, memory, self_mask, memory_mask, return_attention_scores=True)
                self_weights.append(block_self)
                cross_weights.append(block_cross)
            else:
                x = block(x, memory, self_mask, memory_mask)
        logits = self.output_layer(self.decoder_norm(x))
        if return_attention_scores:
            return logits, self_weights, cross_weights
        return logits

    def call(self, inputs, training=False, return_attention_scores=False):
        source, decoder_input = inputs
        if not return_attention_scores:
            memory, _, source_mask = self.encode(source)
            return self.decode(decoder_input, memory, source_mask)
        memory, _, source_mask, encoder_weights = self.encode(source, return_attention_scores=True)
        logits, decoder_weights, cross_weights = self.decode(decoder_input, memory, source_mask,
                                                             return_attention_scores=True)
        return logits, {"encoder": encoder_weights, "decoder": decoder_weights, "cross": cross_weights}

    def decode_step(self, previous_token, state, encoder_states, source_mask, previous_weights=None,
                    monotonic_mode=None, step=None, cache=None):
        """One greedy step, with the interface of :meth:`Translator.decode_step`.

        No recurrence to carry. With the key-value cache (the default) the state is a
        :class:`DecoderCache`: the step embeds ``previous_token`` at its position, runs
        each decoder block on that one position over the cached keys and values of the
        earlier ones (:meth:`DecoderBlock.step`), and appends its own. Each step costs
        the same whatever the length. Without the cache the state is the prefix of target
        ids so far, and every step runs the whole decoder again over the prefix plus
        ``previous_token``: simple, quadratic in the length, and recomputing every earlier
        position's keys and values. Both give the same logits and weights.
        ``previous_weights``, ``monotonic_mode`` and ``step`` exist only for the common
        interface (monotonic and local-m attention use them) and are ignored.

        Args:
            previous_token: int ids ``(batch,)``, START at the first step.
            state: the state of the step before: the prefix ``(batch, t)`` of ids (what
                :meth:`encode` gives, ``(batch, 0)``) or a :class:`DecoderCache`. Either
                serves both ways: a prefix starts a cache (an empty one, or one filled
                by running the prefix through it), and the uncached way reads a cache's
                ``tokens``.
            encoder_states: the encoder output ``(batch, T_v, depth)`` from :meth:`encode`.
            source_mask: booleans ``(batch, T_v)`` from :meth:`encode`.
            cache: True to decode with the key-value cache, False the uncached way; None
                (default) follows the model's ``kv_cache`` attribute (True unless set).

        Returns:
            ``(logits, state, weights)``: logits ``(batch, target_vocab_size)`` of the next
            word; the next state, a :class:`DecoderCache` one step longer with the cache,
            else the longer prefix ``(batch, t + 1)`` (both have ``shape`` ``(batch,
            t + 1)``); and the last block's cross-attention of this step averaged over
            the heads, ``(batch, T_v)``.
        """
        previous_token = ops.cast(previous_token, "int32")
        use_cache = self.kv_cache if cache is None else cache
        with warnings.catch_warnings():
            # At the first step the self-attention has a single key, and Keras warns that a
            # softmax over one entry is always 1. That is right, and harmless here.
            warnings.filterwarnings("ignore", message="You are using a softmax over axis")
            if use_cache:
                if not isinstance(state, DecoderCache):
                    state = self.start_cache(state, encoder_states, source_mask)
                return self._cached_step(previous_token, state, source_mask)
            prefix = state.tokens if isinstance(state, DecoderCache) else state
            prefix = ops.concatenate([ops.cast(prefix, "int32"), ops.expand_dims(previous_token, 1)], axis=1)
            logits, _, cross_weights = self.decode(prefix, encoder_states, source_mask,
                                                   return_attention_scores=True)
        weights = ops.mean(cross_weights[-1][:, :, -1, :], axis=1)
        return logits[:, -1], prefix, weights

    def start_cache(self, prefix, encoder_states, source_mask):
        """A :class:`DecoderCache` for a sentence's encoder output, holding ``prefix``.

        Computes every decoder block's cross-attention keys and values of
        ``encoder_states`` (once per sentence), then runs the tokens of ``prefix``, if
        any, through the cache one step at a time.

        Args:
            prefix: int ids ``(batch, t)``, ``t`` >= 0 (the state :meth:`encode` gives is
                ``(batch, 0)``).
            encoder_states, source_mask: from :meth:`encode`.

        Returns:
            A :class:`DecoderCache` with ``steps == t``.
        """
        if not self.built:  # the decoder blocks' weights, which `encode` alone does not create
            self.build(None)
        prefix = ops.cast(prefix, "int32")
        batch = ops.shape(encoder_states)[0]
        memory = [block.memory_keys_values(encoder_states) for block in self.decoder_blocks]
        memory_keys, memory_values = (tuple(items) for items in zip(*memory))
        empty = ops.zeros((batch, 0, self.heads, self.depth // self.heads), dtype=memory_keys[0].dtype)
        cache = DecoderCache(ops.zeros((batch, 0), dtype="int32"), (empty,) * self.num_layers,
                             (empty,) * self.num_layers, memory_keys, memory_values)
        for position in range(ops.shape(prefix)[1]):
            _, cache, _ = self._cached_step(prefix[:, position], cache, source_mask)
        return cache

    def _cached_step(self, token, cache, source_mask):
        """:meth:`decode_step` with a :class:`DecoderCache`: ``(logits, cache, weights)``."""
        tokens = ops.concatenate([cache.tokens, ops.expand_dims(token, 1)], axis=1)
        key_mask = ops.expand_dims(ops.not_equal(tokens, PAD), 1)  # (batch, 1, t + 1): real tokens only
        memory_mask = ops.expand_dims(source_mask, 1)
        x = self._embed(self.target_embedding, ops.expand_dims(token, 1), start=cache.steps)
        keys, values = [], []
        for i, block in enumerate(self.decoder_blocks):
            x, block_keys, block_values, cross_weights = block.step(
                x, cache.keys[i], cache.values[i], key_mask, cache.memory_keys[i], cache.memory_values[i],
                memory_mask)
            keys.append(block_keys)
            values.append(block_values)
        logits = self.output_layer(self.decoder_norm(x))
        cache = DecoderCache(tokens, tuple(keys), tuple(values), cache.memory_keys, cache.memory_values)
        return logits[:, 0], cache, ops.mean(cross_weights[:, :, 0, :], axis=1)

    def get_config(self):
        return {
            **super().get_config(),
            "source_vocab_size": self.source_vocab_size,
            "target_vocab_size": self.target_vocab_size,
            "source_length": self.source_length,
            "depth": self.depth,
            "heads": self.heads,
            "hidden": self.hidden,
            "num_layers": self.num_layers,
            "max_length": self.max_length,
        }
