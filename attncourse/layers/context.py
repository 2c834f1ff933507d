"""Attention pooling with a learned context vector: the HAN layer of Yang et al. (2016).

The seed article ends with a widely copied Keras layer that claims to be this one but is
not: it has no context vector ``u_w``, so it applies ``exp`` to every feature of
``tanh(W h_t + b)`` and normalises each feature over time on its own. Every feature then
gets its own distribution over the steps, which is not attention over words any more.
Its masked ``exp`` is safe only by accident: ``tanh`` bounds every logit to [-1, 1], so
``exp`` cannot overflow, and the epsilon in the denominator turns a fully padded sentence
into zeros. Restore the context vector and the logit ``u_t · u_w`` is bounded only by the
size of ``u_w``: an ``exp`` that overflows on a padded step, multiplied by its mask of 0,
gives ``inf · 0 = NaN``. This layer scores each step with ONE number, ``u_t · u_w``, and
normalises those numbers with a masked softmax, which masks before normalising.
"""

import keras
from keras import ops

from attncourse.layers.common import check_step_mask, masked_softmax, sequence_depth


@keras.saving.register_keras_serializable(package="attncourse")
class ContextAttention(keras.layers.Layer):
    """Pools a sequence into one vector with a learned context vector (Yang et al., 2016).

    For the steps ``h_t`` (t = 1..T) of one sequence, with mask ``m_t``::

        u_t = tanh(W h_t + b)
        e_t = u_t^T u_w
        α_t = m_t exp(e_t) / Σ_t' m_t' exp(e_t')
        s   = Σ_t α_t h_t

    ``u_w`` is the context vector, a weight learned with the rest of the model: it plays
    the role of a fixed query, "which step is informative?". There is one weight ``α_t``
    per step, shared by all the features of ``h_t``, so ``s`` is a convex combination of
    the rows ``h_t``.

    In code the steps are row vectors, so ``kernel`` (shape ``(d, units)``) is the
    transpose of the equation's ``W``; ``bias`` is ``b`` (``(units,)``) and
    ``context_vector`` is ``u_w`` (``(units,)``). These are the layouts of
    ``attncourse.reference.context_attention_weights(h, W, b, u_w, mask)``.

    Args:
        units: size of the hidden representation ``u_t``; ``None`` (the default) uses
            the depth ``d`` of the input.
        **kwargs: standard layer arguments (``name``, ``dtype``, ...).

    Call arguments:
        inputs: the sequence ``h``, shape ``(batch, T, d)``.
        mask: optional booleans ``(batch, T)``, True for real steps (arrives on its own
            after ``Embedding(mask_zero=True)`` or a masking RNN).
        return_attention_scores: if True, also return the weights ``α``.

    Returns:
        The pooled vector ``s``, shape ``(batch, d)``; with
        ``return_attention_scores=True`` the pair ``(s, weights)``, weights of shape
        ``(batch, T)``: exactly zero on padding, summing to one over the real steps, and
        all zero (with ``s = 0``) for a sequence without any real step. The mask is not
        passed on (the time axis is gone).

    Example:
        >>> ids = keras.Input((None,), dtype="int32")
        >>> h = keras.layers.Embedding(1000, 32, mask_zero=True)(ids)
        >>> h = keras.layers.Bidirectional(keras.layers.GRU(16, return_sequences=True))(h)
        >>> sentence, weights = ContextAttention(units=32)(h, return_attention_scores=True)
        >>> sentence.shape, weights.shape
        ((None, 32), (None, None))
    """

    def __init__(self, units=None, **kwargs):
        super().__init__(**kwargs)
        if units is not None and (isinstance(units, bool) or not isinstance(units, int) or units < 1):
            raise ValueError(
                f"ContextAttention: units must be None or a positive integer, received {units!r}"
            )
        self.units = units
        self.supports_masking = True

    def build(self, input_shape):
        depth = sequence_depth(input_shape, "ContextAttention")
        units = self.units or depth
        self.kernel = self.add_weight(
            name="kernel", shape=(depth, units), initializer="glorot_uniform"
        )
        self.bias = self.add_weight(name="bias", shape=(units,), initializer="zeros")
        self.context_vector = self.add_weight(
            name="context_vector", shape=(units,), initializer="glorot_uniform"
        )
        # Later calls must keep the depth the weights were made for.
        self.input_spec = keras.layers.InputSpec(ndim=3, axes={-1: depth})

    def call(self, inputs, mask=None, return_attention_scores=False):
        check_step_mask(mask, inputs, "ContextAttention")
        hidden = ops.tanh(ops.matmul(inputs, self.kernel) + self.bias)  # u_t: (B, T, units)
        # One score per step: u_t · u_w. (The seed's layer skipped this dot product.)
        scores = ops.squeeze(ops.matmul(hidden, ops.expand_dims(self.context_vector, -1)), -1)
        weights = masked_softmax(scores, mask)  # (B, T)
        pooled = ops.squeeze(ops.matmul(ops.expand_dims(weights, 1), inputs), 1)  # (B, d)
        if return_attention_scores:
            return pooled, weights
        return pooled

    def compute_mask(self, inputs, mask=None):
        # The time axis is pooled away, and with it the mask.
        return None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])

    def compute_output_spec(self, inputs, mask=None, return_attention_scores=False):
        output = keras.KerasTensor(self.compute_output_shape(inputs.shape), dtype=self.compute_dtype)
        if return_attention_scores:
            return output, keras.KerasTensor(inputs.shape[:2], dtype=self.compute_dtype)
        return output

    def get_config(self):
        return {**super().get_config(), "units": self.units}
