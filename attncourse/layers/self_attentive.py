"""Structured self-attentive pooling with several hops (Lin et al., 2017) and its penalty."""

import keras
from keras import ops

from attncourse.layers.common import check_step_mask, masked_softmax, sequence_depth


def hop_penalty(weights, mask=None):
    """Lin et al.'s redundancy penalty ``P = ||A A^T - I||_F^2``, one value per example.

    ``A A^T`` holds the overlaps of the hops: entry (a, b) is ``Σ_t A_at A_bt``. Its
    diagonal is near 1 only when a hop focuses on few steps, its off-diagonal entries
    are 0 only when two hops look at different steps; so ``P`` is 0 for hops that are
    sharp and disjoint, and grows as they overlap. Chapter 6 uses the off-diagonal part
    to measure how much the hops spread.

    Padded steps carry zero weight, so they never enter ``A A^T``. An example with no real
    step at all has ``A = 0``; there is nothing to spread, so its target is 0 instead of
    ``I`` and its penalty is 0 (rather than a constant ``hops`` that would only shift the
    loss).

    Args:
        weights: the attention ``A``, shape ``(batch, hops, T)``, or ``(batch, T)`` for a
            single hop.
        mask: optional booleans ``(batch, T)``, True for real steps; only used to tell
            which examples have no real step.

    Returns:
        float32 tensor ``(batch,)``.
    """
    weights = ops.cast(weights, "float32")
    if len(weights.shape) == 2:
        weights = ops.expand_dims(weights, 1)
    hops = weights.shape[1]
    overlap = ops.matmul(weights, ops.transpose(weights, (0, 2, 1)))  # A A^T: (B, hops, hops)
    if mask is None:
        has_steps = ops.ones((ops.shape(weights)[0], 1, 1), dtype="float32")
    else:
        has_steps = ops.cast(ops.any(ops.cast(mask, "bool"), axis=-1), "float32")[:, None, None]
    target = ops.eye(hops, dtype="float32")[None] * has_steps
    return ops.sum(ops.square(overlap - target), axis=(1, 2))


@keras.saving.register_keras_serializable(package="attncourse")
class SelfAttentivePooling(keras.layers.Layer):
    """Pools a sequence into ``hops`` vectors, each a different weighting (Lin et al., 2017).

    With ``H`` the ``T × d`` matrix of the steps ``h_t`` and mask ``m``::

        A = softmax_T(W_s2 tanh(W_s1 H^T))     (hops × T, padded steps get 0)
        M = A H                                (hops × d)
        P = ||A A^T - I||_F^2                  (the penalty, see ``hop_penalty``)

    Each row of ``A`` is one hop: a distribution over the steps. Without the penalty the
    hops tend to collapse onto the same few steps; with ``penalty > 0`` the layer adds
    ``penalty × mean_batch(P)`` to the model's loss (``layer.losses``), pushing each hop
    to be sharp and the hops to look at different steps.

    In code the steps are row vectors, so ``kernel_1`` (``(d, units)``) and ``kernel_2``
    (``(units, hops)``) are the transposes of the equation's ``W_s1`` and ``W_s2``: the
    layouts of ``attncourse.reference.self_attentive_weights(h, W_s1, W_s2, mask)``.

    Args:
        units: the hidden size ``d_a`` of the scoring MLP.
        hops: the number of hops ``r`` (rows of ``A``).
        penalty: the coefficient of the penalty loss; 0 adds no loss.
        **kwargs: standard layer arguments (``name``, ``dtype``, ...).

    Call arguments:
        inputs: the sequence ``h``, shape ``(batch, T, d)``.
        mask: optional booleans ``(batch, T)``, True for real steps.
        return_attention_scores: if True, also return ``A``.

    Returns:
        ``M``, shape ``(batch, hops, d)``, or ``(batch, d)`` when ``hops == 1``; with
        ``return_attention_scores=True`` the pair ``(M, A)``, ``A`` of shape
        ``(batch, hops, T)`` (``(batch, T)`` when ``hops == 1``). A sequence without real
        steps gives zeros. The mask is not passed on.

    Raises:
        ValueError: ``units < 1``, ``hops < 1`` or ``penalty < 0``.

    Example:
        >>> x = keras.random.normal((2, 7, 16))
        >>> layer = SelfAttentivePooling(units=8, hops=3, penalty=0.1)
        >>> embedding, weights = layer(x, return_attention_scores=True)
        >>> embedding.shape, weights.shape, len(layer.losses)
        ((2, 3, 16), (2, 3, 7), 1)
    """

    def __init__(self, units, hops=1, penalty=0.0, **kwargs):
        super().__init__(**kwargs)
        for name, value in (("units", units), ("hops", hops)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(
                    f"SelfAttentivePooling: {name} must be a positive integer, received {value!r}"
                )
        if isinstance(penalty, bool) or not isinstance(penalty, (int, float)) or penalty < 0:
            raise ValueError(
                f"SelfAttentivePooling: penalty must be a number >= 0, received {penalty!r}"
            )
        self.units = units
        self.hops = hops
        self.penalty = float(penalty)
        self.supports_masking = True

    def build(self, input_shape):
        depth = sequence_depth(input_shape, "SelfAttentivePooling")
        self.kernel_1 = self.add_weight(
            name="kernel_1", shape=(depth, self.units), initializer="glorot_uniform"
        )
        self.kernel_2 = self.add_weight(
            name="kernel_2", shape=(self.units, self.hops), initializer="glorot_uniform"
        )
        self.input_spec = keras.layers.InputSpec(ndim=3, axes={-1: depth})

    def call(self, inputs, mask=None, return_attention_scores=False):
        check_step_mask(mask, inputs, "SelfAttentivePooling")
        hidden = ops.tanh(ops.matmul(inputs, self.kernel_1))  # (B, T, units)
        scores = ops.transpose(ops.matmul(hidden, self.kernel_2), (0, 2, 1))  # (B, hops, T)
        step_mask = None if mask is None else ops.expand_dims(mask, 1)
        weights = masked_softmax(scores, step_mask)  # A: (B, hops, T)
        pooled = ops.matmul(weights, inputs)  # M = A H: (B, hops, d)
        if self.penalty > 0:
            self.add_loss(self.penalty * ops.mean(hop_penalty(weights, mask)))
        if self.hops == 1:
            pooled, weights = ops.squeeze(pooled, 1), ops.squeeze(weights, 1)
        if return_attention_scores:
            return pooled, weights
        return pooled

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        if self.hops == 1:
            return (input_shape[0], input_shape[-1])
        return (input_shape[0], self.hops, input_shape[-1])

    def compute_output_spec(self, inputs, mask=None, return_attention_scores=False):
        output = keras.KerasTensor(self.compute_output_shape(inputs.shape), dtype=self.compute_dtype)
        if not return_attention_scores:
            return output
        batch, steps = inputs.shape[0], inputs.shape[1]
        weights_shape = (batch, steps) if self.hops == 1 else (batch, self.hops, steps)
        return output, keras.KerasTensor(weights_shape, dtype=self.compute_dtype)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "hops": self.hops,
            "penalty": self.penalty,
        }
