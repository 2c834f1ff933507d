"""Luong et al.'s (2015) global attention: three ways to score a query against a key."""

import math

import keras
from keras import ops

from attncourse.layers.bahdanau import CrossAttention, additive_scores, check_units
from attncourse.layers.common import check_option

LUONG_SCORES = ("dot", "general", "concat")


@keras.saving.register_keras_serializable(package="attncourse")
class LuongAttention(CrossAttention):
    """Global attention with Luong et al.'s (2015) scores: dot, general or concat.

    For queries ``q_i`` (the decoder's current state s_i), keys ``k_j`` and values ``v_j``
    (the encoder states h_j) and the value mask ``m_j``::

        dot:      e_ij = q_i^T k_j                      (needs d_q = d_k)
        general:  e_ij = q_i^T W_a k_j
        concat:   e_ij = w_a^T tanh(W_a [q_i; k_j])
        α_ij = m_j exp(e_ij) / Σ_j' m_j' exp(e_ij'),    c_i = Σ_j α_ij v_j

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
    dot has no weights.

    Args:
        score: ``"dot"``, ``"general"`` (default) or ``"concat"``.
        units: hidden size of the concat score (required for concat, ignored otherwise).
        scale: divide dot and general scores by sqrt(d_k) (not available for concat).
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
        ValueError: an unknown score, concat without units, scale with concat, or (at
            build) dot with a query depth different from the key depth.

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
        self.score = score
        self.units = units
        self.scale = scale

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

    def scores(self, query, key):
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
