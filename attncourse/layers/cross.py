"""The shared base of the cross-attention layers: calling convention, masks, config.

A cross attention lets each step ``q_i`` of one sequence (the decoder's states) read a
weighted average of another sequence (the encoder's states). What changes from one paper
to the next is only how the weights are computed, so the common part is written once
here, as :class:`CrossAttention`: the inputs ``[query, value]`` or ``[query, value, key]``
and their checks, the query and value masks (padded keys get weight zero, padded query
steps a zero context), the output shapes and the mask the output carries on. The layers
of ``bahdanau``, ``luong``, ``local`` and ``monotonic`` subclass it and only compute the
weights; their ``get_config`` adds their own arguments to the base's.

The module also holds the helpers more than one of them needs: :func:`check_units`, and
the additive score :func:`additive_scores` (Bahdanau's score, and Luong's concat score
with its kernel split in two) with its matrix product :func:`times_matrix`.
"""

import keras
from keras import ops

from attncourse.layers.common import (
    check_cross_shapes,
    masked_softmax,
    split_cross_inputs,
    split_cross_masks,
)


def check_units(units, layer, allow_none=False):
    """Raise a ValueError unless ``units`` is a positive integer (or None when allowed)."""
    if units is None and allow_none:
        return
    if isinstance(units, bool) or not isinstance(units, int) or units < 1:
        expected = "None or a positive integer" if allow_none else "a positive integer"
        raise ValueError(f"{layer}: units must be {expected}, received {units!r}")


def times_matrix(x, matrix):
    """``x @ matrix`` for ``x`` of shape ``(..., d)`` and ``matrix`` ``(d, n)``, as one 2-D matmul.

    The rows of ``x`` are flattened into one ``(rows, d)`` matrix, multiplied, and the
    result is given back its leading axes: ``(..., n)``.

    Why not ``ops.matmul(x, matrix)``: Keras before 3.15 sends a rank > 2 tensor times a
    matrix to TensorFlow's broadcasting batch matmul (BatchMatMulV2), and the oneDNN
    kernel of that op on CPU (TensorFlow 2.20 and 2.21) writes past its output when the
    left operand's batch shape has a 1 after a larger axis, as ``(B, 1, T_v, u)`` in
    :func:`additive_scores` when ``T_q = 1``: every step of ``ContextFeedingCell`` and
    of greedy decoding. The heap is corrupted and Python dies (segfault or abort) a
    little later; this is what Colab's TensorFlow 2.20 with Keras 3.13 did on CPU.
    ``ops.tensordot`` avoids that kernel too, but on TensorFlow 2.20 its transpose cannot
    be differentiated under XLA inside an RNN (its permutation is not a compile-time
    constant). Keras >= 3.15 computes ``ops.matmul(x, matrix)`` as ``tf.tensordot``,
    that is, as this same reshape and 2-D matmul, so the numbers there do not change.
    """
    shape = ops.shape(x)
    product = ops.matmul(ops.reshape(x, (-1, shape[-1])), matrix)  # (rows, n)
    middle = tuple(shape[1:-1])
    if all(isinstance(size, int) for size in middle):
        # Only the batch size unknown (as in training): -1 stands for it, so no shape
        # needs computing at run time (inside an RNN loop, at every step).
        return ops.reshape(product, (-1, *middle, matrix.shape[-1]))
    return ops.reshape(product, (*shape[:-1], matrix.shape[-1]))


def additive_scores(query, key, query_kernel, key_kernel, score_vector):
    """The additive score e_ij = w_a^T tanh(W_q q_i + W_k k_j) for every pair (i, j).

    Projecting first and adding afterwards costs two small matmuls, ``(T_q + T_v) d u``
    multiplications, instead of projecting each of the ``T_q T_v`` pairs. Only the tanh
    needs the full ``(batch, T_q, T_v, units)`` tensor.

    Args:
        query: ``(batch, T_q, d_q)``.
        key: ``(batch, T_v, d_k)``.
        query_kernel: ``W_q``, ``(d_q, units)``.
        key_kernel: ``W_k``, ``(d_k, units)``.
        score_vector: ``w_a``, ``(units,)``.

    Returns:
        Scores ``(batch, T_q, T_v)``.
    """
    # Outside a layer call (e.g. MonotonicAttention.step) the weights are not autocast.
    dtype = query.dtype
    projected_query = times_matrix(query, ops.cast(query_kernel, dtype))  # (B, T_q, u)
    projected_key = times_matrix(key, ops.cast(key_kernel, dtype))  # (B, T_v, u)
    # (B, T_q, 1, u) + (B, 1, T_v, u) -> (B, T_q, T_v, u)
    hidden = ops.tanh(ops.expand_dims(projected_query, 2) + ops.expand_dims(projected_key, 1))
    # w_a^T hidden as a matrix product rather than sum(hidden * w_a): on CPU with XLA the
    # matmul's backward pass is about twice as fast (benchmarks/layers.py). Not an einsum
    # either: TensorFlow's einsum here is 2x slower under XLA and 4x slower without.
    scores = times_matrix(hidden, ops.expand_dims(ops.cast(score_vector, dtype), -1))  # (B, T_q, T_v, 1)
    return ops.squeeze(scores, -1)


class CrossAttention(keras.layers.Layer):
    """The skeleton of a cross attention: queries read a weighted average of the values.

    Subclasses compute the weights; this class handles the inputs, the masks, the
    context and the shapes. For query ``q_i`` (i = 1..T_q), keys ``k_j`` and values
    ``v_j`` (j = 1..T_v) and the value mask ``m_j``::

        α_i = weights(q_i, k_1..k_T_v, m)      (zero where m_j = 0)
        c_i = Σ_j α_ij v_j

    A padded query step (query mask False) gets zero weights and a zero context. The
    values are not projected: ``context = weights @ value``.

    Subclasses implement ``build_weights(query_depth, key_depth)`` and either
    ``scores(query, key)`` (the weights are then a masked softmax of the scores) or
    ``attention_weights(query, key, value_mask)``, and add their arguments to
    ``get_config``. The base is not registered for serialisation: only the concrete
    layers are, each under ``attncourse>ClassName``.

    Args:
        **kwargs: the layer arguments Keras's ``Layer`` takes (``name``, ``dtype``, ...).

    Call arguments:
        inputs: a list, the queries ``(batch, T_q, d_q)`` then the values ``(batch, T_v,
            d_v)``, and optionally the keys ``(batch, T_v, d_k)``; without keys the values
            serve as keys.
        mask: None, or a pair ``[query_mask, value_mask]`` of boolean tensors of shapes
            ``(batch, T_q)`` and ``(batch, T_v)`` (True on real steps), either one None.
        return_attention_scores: whether to return the weights with the context.

    Returns:
        The context ``(batch, T_q, d_v)``, or ``(context, weights)`` with weights of shape
        ``(batch, T_q, T_v)``. The output carries the query mask on (``compute_mask``).
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    # -- what subclasses provide ---------------------------------------------------------

    def build_weights(self, query_depth, key_depth):
        """Create the layer's weights for queries of depth d_q and keys of depth d_k."""

    def scores(self, query, key):
        """The scores e_ij, ``(batch, T_q, T_v)``."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement scores or attention_weights"
        )

    def attention_weights(self, query, key, value_mask):
        """The weights α_ij, ``(batch, T_q, T_v)``: a softmax of the scores over the real keys."""
        scores = self.scores(query, key)
        if value_mask is None:
            return masked_softmax(scores)
        return masked_softmax(scores, ops.expand_dims(ops.cast(value_mask, "bool"), 1))

    # -- the shared skeleton -------------------------------------------------------------

    def _input_shapes(self, input_shape):
        name = type(self).__name__
        if not isinstance(input_shape, (list, tuple)) or not all(
            isinstance(shape, (list, tuple)) for shape in input_shape
        ):  # one tensor instead of a list of tensors
            raise ValueError(
                f"{name}: expected inputs [query, value] or [query, value, key], received one "
                f"tensor of shape {tuple(input_shape) if input_shape is not None else None}"
            )
        query_shape, value_shape, key_shape = split_cross_inputs(list(input_shape), name)
        shapes = tuple(tuple(shape) for shape in (query_shape, value_shape, key_shape))
        check_cross_shapes(*shapes, name)
        return shapes

    def build(self, input_shape):
        query_shape, _, key_shape = self._input_shapes(input_shape)
        for what, shape in (("query", query_shape), ("key", key_shape)):
            if shape[-1] is None:
                raise ValueError(
                    f"{type(self).__name__}: the feature depth (last axis) of the {what} must be "
                    f"known, received shape {shape}"
                )
        self._depths = (query_shape[-1], key_shape[-1])
        self.build_weights(query_shape[-1], key_shape[-1])

    def _check_call(self, inputs, mask):
        name = type(self).__name__
        query, value, key = split_cross_inputs(inputs, name)
        query_shape, _, key_shape = self._input_shapes(
            [tuple(x.shape) for x in (query, value, key)]
        )
        depths = (query_shape[-1], key_shape[-1])
        if getattr(self, "_depths", depths) != depths:
            raise ValueError(
                f"{name}: the layer was built for query depth d_q={self._depths[0]} and key depth "
                f"d_k={self._depths[1]}, received d_q={depths[0]} and d_k={depths[1]}"
            )
        query_mask, value_mask = split_cross_masks(mask, name)
        return query, value, key, query_mask, value_mask

    def call(self, inputs, mask=None, return_attention_scores=False):
        query, value, key, query_mask, value_mask = self._check_call(inputs, mask)
        weights = self.attention_weights(query, key, value_mask)
        weights = self._zero_padded_queries(weights, query_mask)
        context = ops.matmul(weights, ops.cast(value, weights.dtype))
        if return_attention_scores:
            return context, weights
        return context

    @staticmethod
    def _zero_padded_queries(weights, query_mask):
        if query_mask is None:
            return weights
        keep = ops.expand_dims(ops.cast(query_mask, "bool"), -1)  # (B, T_q, 1)
        return ops.where(keep, weights, ops.zeros_like(weights))

    def compute_mask(self, inputs, mask=None):
        # The output has one row per query step: the query mask carries over.
        if mask is None or mask[0] is None:
            return None
        return ops.convert_to_tensor(mask[0])

    def compute_output_shape(self, input_shape):
        query_shape, value_shape, _ = self._input_shapes(input_shape)
        return (*query_shape[:-1], value_shape[-1])

    def compute_output_spec(self, inputs, mask=None, return_attention_scores=False, **kwargs):
        query, value, key = split_cross_inputs(inputs, type(self).__name__)
        query_shape, value_shape, _ = self._input_shapes(
            [tuple(x.shape) for x in (query, value, key)]
        )
        context = keras.KerasTensor((*query_shape[:-1], value_shape[-1]), dtype=self.compute_dtype)
        if return_attention_scores:
            weights = keras.KerasTensor(
                (*query_shape[:-1], value_shape[1]), dtype=self.compute_dtype
            )
            return context, weights
        return context
