"""Additive attention (Bahdanau et al., 2015): a one-hidden-layer network scores each pair.

:class:`BahdanauAttention` computes the weights with the additive score
e_ij = w_a^T tanh(W_q q_i + W_k k_j); the inputs, masks and context come from
:class:`~attncourse.layers.cross.CrossAttention`, the base every cross attention shares.
For a decoder that queries the same keys once per step, :meth:`~BahdanauAttention.prepare_keys`
and :meth:`~BahdanauAttention.step_scores` split the score in two: what depends on the keys
alone, computed once, and what each query adds.
"""

import keras
from keras import ops

from attncourse.layers.cross import CrossAttention, additive_scores, check_units, times_matrix


@keras.saving.register_keras_serializable(package="attncourse")
class BahdanauAttention(CrossAttention):
    """Additive attention (Bahdanau et al., 2015).

    For queries ``q_i`` (in translation the decoder state s_{i-1}), keys ``k_j`` and
    values ``v_j`` (the encoder states h_j) and the value mask ``m_j``::

        e_ij = w_a^T tanh(W_q q_i + W_k k_j)
        α_ij = m_j exp(e_ij) / Σ_j' m_j' exp(e_ij')
        c_i  = Σ_j α_ij v_j

    The score is a one-hidden-layer network applied to every pair (q_i, k_j). The two
    projections are computed once per step, not once per pair; only the tanh of their
    sums has the full ``(batch, T_q, T_v, units)`` size.

    Weights, in the layouts of ``attncourse.reference.additive_score(query, keys, W_q,
    W_k, w)`` (row vectors: ``q @ W_q`` is the equation's ``W_q q``):
    ``query_kernel`` W_q ``(d_q, units)``, ``key_kernel`` W_k ``(d_k, units)``,
    ``score_vector`` w_a ``(units,)``.

    A recurrent decoder asks one query per step, always of the same keys; the half
    W_k k_j of the score does not depend on the query, so it can be computed once per
    sequence with :meth:`prepare_keys`, and each step's scores with :meth:`step_scores`
    (the scores of :meth:`scores` with ``T_q = 1``, up to float rounding).

    Unlike ``keras.layers.AdditiveAttention``, which adds query and key as they come
    (same depth, no projection), this layer learns W_q and W_k, so query and key may
    have different depths.

    Args:
        units: size ``u`` of the hidden layer of the score (a positive integer).
        **kwargs: standard layer arguments (``name``, ``dtype``, ...).

    Call arguments:
        inputs: ``[query, value]`` or ``[query, value, key]``: query ``(batch, T_q, d_q)``,
            value ``(batch, T_v, d_v)``, key ``(batch, T_v, d_k)`` (defaults to value).
        mask: optional ``[query_mask, value_mask]``, booleans ``(batch, T_q)`` and
            ``(batch, T_v)``, True for real steps (set automatically after
            ``Embedding(mask_zero=True)``). Either may be None.
        return_attention_scores: if True, also return the weights.

    Returns:
        The context ``(batch, T_q, d_v)``; with ``return_attention_scores=True`` the pair
        ``(context, weights)``, weights ``(batch, T_q, T_v)``: zero on padded keys,
        summing to one over the real ones; a padded query step (or one without any real
        key) gets zero weights and a zero context.

    Example:
        >>> decoder_states = keras.random.normal((2, 5, 16))
        >>> encoder_states = keras.random.normal((2, 7, 32))
        >>> context, weights = BahdanauAttention(units=8)(
        ...     [decoder_states, encoder_states], return_attention_scores=True)
        >>> tuple(context.shape), tuple(weights.shape)
        ((2, 5, 32), (2, 5, 7))
    """

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        check_units(units, type(self).__name__)
        self.units = units

    def build_weights(self, query_depth, key_depth):
        self.query_kernel = self.add_weight(
            name="query_kernel", shape=(query_depth, self.units), initializer="glorot_uniform"
        )
        self.key_kernel = self.add_weight(
            name="key_kernel", shape=(key_depth, self.units), initializer="glorot_uniform"
        )
        # Keras's own layers draw their score vectors from glorot_uniform too; as a
        # (units,) vector it gets entries of size about sqrt(3 / units).
        self.score_vector = self.add_weight(
            name="score_vector", shape=(self.units,), initializer="glorot_uniform"
        )

    def scores(self, query, key):
        return additive_scores(query, key, self.query_kernel, self.key_kernel, self.score_vector)

    def prepare_keys(self, key):
        """What :meth:`step_scores` needs of the keys and the weights, computed once.

        Args:
            key: ``(batch, T_v, d_k)``.

        Returns:
            ``(projected_keys, query_kernel, score_column)``: W_k k_j for every key,
            ``(batch, T_v, units)``, W_q, and w_a as a ``(units, 1)`` column, all in the
            dtype of ``key``. Read here, outside the decoder's loop, the weights need no
            copy per step for the gradient.
        """
        dtype = key.dtype
        return (times_matrix(key, ops.cast(self.key_kernel, dtype)), ops.cast(self.query_kernel, dtype),
                ops.expand_dims(ops.cast(self.score_vector, dtype), -1))

    def step_scores(self, query, prepared):
        """The scores e_j of one query per example, ``(batch, d_q)`` -> ``(batch, T_v)``.

        Args:
            query: ``(batch, d_q)``, e.g. the decoder state s_{i-1}.
            prepared: what :meth:`prepare_keys` returned for the keys.
        """
        projected_keys, query_kernel, score_column = prepared
        projected_query = ops.matmul(query, query_kernel)  # (B, u)
        hidden = ops.tanh(ops.expand_dims(projected_query, 1) + projected_keys)  # (B, T_v, u)
        # w_a^T hidden as a matrix product, as additive_scores computes it.
        return ops.squeeze(times_matrix(hidden, score_column), -1)

    def get_config(self):
        return {**super().get_config(), "units": self.units}
