"""Luong et al.'s (2015) global attention: four ways to score a query against the keys."""

import math

import keras
from keras import ops

from attncourse.layers.cross import CrossAttention, additive_scores, check_units
from attncourse.layers.common import check_option, masked_softmax

LUONG_SCORES = ("dot", "general", "concat", "location")


@keras.saving.register_keras_serializable(package="attncourse")
class LuongAttention(CrossAttention):
    """Global attention with Luong et al.'s (2015) scores: dot, general, concat or location.

    For queries ``q_i`` (the decoder's current state s_i), keys ``k_j`` and values ``v_j``
    (the encoder states h_j) and the value mask ``m_j``::

        dot:      e_ij = q_i^T k_j                      (needs d_q = d_k)
        general:  e_ij = q_i^T W_a k_j
        concat:   e_ij = w_a^T tanh(W_a [q_i; k_j])
        location: e_ij = (W_a q_i)_j                    (j < L; the keys are not read)
        α_ij = m_j exp(e_ij) / Σ_j' m_j' exp(e_ij'),    c_i = Σ_j α_ij v_j

    The location score is Luong et al.'s baseline without content, a_i = softmax(W_a s_i):
    the decoder state alone predicts one logit per source *position*, so the layer needs
    the number of positions L, which it takes from the static key length at build time.
    Padding is masked like for the other scores. Keys longer than L (a longer source than
    the layer was built for) give weight zero to the positions from L on, which have no
    logit; shorter keys use the first T_v logits.

    With ``scale=True``, dot and general scores are divided by sqrt(d_k), as in the
    Transformer's scaled dot product: for entries of unit variance q^T k has variance
    d_k, and the division keeps the softmax out of saturation at large depths.

    The concat score never builds the pairs ``[q_i; k_j]``: splitting the kernel by rows,
    ``[q; k] W = q W[:d_q] + k W[d_q:]``, so it is the additive score of
    :class:`~attncourse.layers.BahdanauAttention` with ``W_q = W[:d_q]`` and
    ``W_k = W[d_q:]``, computed at the cost of two small projections.

    Weights, in the layouts of ``attncourse.reference`` (row vectors, ``x @ W`` is the
    equation's ``W x``): general has ``score_kernel`` W_a ``(d_q, d_k)``
    (``general_score(query, keys, W)``); concat has ``concat_kernel`` ``(d_q + d_k,
    units)`` and ``score_vector`` ``(units,)`` (``concat_score(query, keys, W, w)``);
    location has ``location_kernel`` W_a ``(d_q, L)`` (``location_score(query, W)``);
    dot has no weights.

    Args:
        score: ``"dot"``, ``"general"`` (default), ``"concat"`` or ``"location"``.
        units: hidden size of the concat score (required for concat, ignored otherwise).
        scale: divide dot and general scores by sqrt(d_k) (not available for concat and
            location).
        **kwargs: standard layer arguments (``name``, ``dtype``, ...).

    Call arguments:
        inputs: ``[query, value]`` or ``[query, value, key]``: query ``(batch, T_q, d_q)``,
            value ``(batch, T_v, d_v)``, key ``(batch, T_v, d_k)`` (defaults to value).
        mask: optional ``[query_mask, value_mask]``, booleans ``(batch, T_q)`` and
            ``(batch, T_v)``, True for real steps; either may be None.
        return_attention_scores: if True, also return the weights.

    Returns:
        The context ``(batch, T_q, d_v)``; with ``return_attention_scores=True`` the pair
        ``(context, weights)``, weights ``(batch, T_q, T_v)``: zero on padded keys,
        summing to one over the real ones (zero rows for padded query steps).

    Raises:
        ValueError: an unknown score, concat without units, scale with concat or location,
            or at build: dot with a query depth different from the key depth, location
            with keys whose number of steps is not known (``None``).

    Example:
        >>> decoder_states = keras.random.normal((2, 5, 16))
        >>> encoder_states = keras.random.normal((2, 7, 16))
        >>> attention = LuongAttention(score="dot", scale=True)
        >>> tuple(attention([decoder_states, encoder_states]).shape)
        (2, 5, 16)
    """

    def __init__(self, score="general", units=None, scale=False, **kwargs):
        super().__init__(**kwargs)
        name = type(self).__name__
        check_option("score", score, LUONG_SCORES, name)
        check_units(units, name, allow_none=True)
        if score == "concat" and units is None:
            raise ValueError(
                f"{name}: score='concat' needs the size of its hidden layer, e.g. units=64; "
                "received units=None"
            )
        if not isinstance(scale, bool):
            raise ValueError(f"{name}: scale must be True or False, received {scale!r}")
        if scale and score == "concat":
            raise ValueError(
                f"{name}: scale=True divides dot and general scores by sqrt(d_k); "
                "received score='concat', whose score is bounded by the tanh already"
            )
        if scale and score == "location":
            raise ValueError(
                f"{name}: scale=True divides dot and general scores by sqrt(d_k); "
                "received score='location', which does not read the keys"
            )
        self.score = score
        self.units = units
        self.scale = scale

    def build(self, input_shape):
        if self.score == "location":
            _, _, key_shape = self._input_shapes(input_shape)
            if key_shape[1] is None:
                raise ValueError(
                    f"{type(self).__name__}: score='location' predicts one logit per source "
                    "position, so it needs the number of key steps at build time; received "
                    f"keys of shape {key_shape}. Give the source a fixed length, e.g. "
                    "keras.Input((source_length,))"
                )
            self.location_length = key_shape[1]
        super().build(input_shape)

    def build_weights(self, query_depth, key_depth):
        if self.score == "dot" and query_depth != key_depth:
            raise ValueError(
                f"{type(self).__name__}: score='dot' needs queries and keys of the same depth, "
                f"received d_q={query_depth} and d_k={key_depth}; use score='general', whose "
                f"({query_depth}, {key_depth}) kernel maps one onto the other"
            )
        if self.score == "general":
            self.score_kernel = self.add_weight(
                name="score_kernel", shape=(query_depth, key_depth), initializer="glorot_uniform"
            )
        elif self.score == "concat":
            self.concat_kernel = self.add_weight(
                name="concat_kernel",
                shape=(query_depth + key_depth, self.units),
                initializer="glorot_uniform",
            )
            self.score_vector = self.add_weight(
                name="score_vector", shape=(self.units,), initializer="glorot_uniform"
            )
        elif self.score == "location":
            self.location_kernel = self.add_weight(
                name="location_kernel",
                shape=(query_depth, self.location_length),
                initializer="glorot_uniform",
            )

    def _location_scores(self, query, key):
        """(W_a q_i)_j for j < T_v, and where j < L; positions from L on have no logit."""
        logits = ops.matmul(query, ops.cast(self.location_kernel, query.dtype))  # (B, T_q, L)
        length, steps = self.location_length, key.shape[1]
        if steps == length:
            return logits, None
        positions = ops.arange(ops.shape(key)[1])
        # Position j reads logit min(j, L − 1); the positions j ≥ L are masked out below.
        logits = ops.take(logits, ops.minimum(positions, length - 1), axis=-1)
        return logits, (positions < length)[None, None, :]

    def attention_weights(self, query, key, value_mask):
        if self.score != "location":
            return super().attention_weights(query, key, value_mask)
        scores, known = self._location_scores(query, key)
        allowed = known
        if value_mask is not None:
            allowed = ops.expand_dims(ops.cast(value_mask, "bool"), 1)
            if known is not None:
                allowed = ops.logical_and(allowed, known)
        return masked_softmax(scores, allowed)

    def scores(self, query, key):
        if self.score == "location":
            # Only the first L positions have a logit: attention_weights masks the rest.
            return self._location_scores(query, key)[0]
        if self.score == "concat":
            query_depth = query.shape[-1]
            kernel = self.concat_kernel
            # [q; k] W = q W[:d_q] + k W[d_q:]: the additive score with a split kernel.
            return additive_scores(
                query, key, kernel[:query_depth], kernel[query_depth:], self.score_vector
            )
        if self.score == "general":
            # q W_a k^T: project the queries, then a dot product with every key.
            query = ops.matmul(query, ops.cast(self.score_kernel, query.dtype))
        scores = ops.matmul(query, ops.swapaxes(key, -2, -1))
        if self.scale:
            scores = scores / ops.cast(math.sqrt(key.shape[-1]), scores.dtype)
        return scores

    def get_config(self):
        return {
            **super().get_config(),
            "score": self.score,
            "units": self.units,
            "scale": self.scale,
        }
