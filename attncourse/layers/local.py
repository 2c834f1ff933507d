"""Luong et al.'s (2015) local attention: a Luong score, restricted to a window."""

import keras
from keras import ops

from attncourse.layers.common import check_option, masked_softmax
from attncourse.layers.luong import LuongAttention

LOCAL_MODES = ("monotonic", "predictive")
LOCAL_SCORES = ("dot", "general", "concat")  # content scores; the location score is global only


@keras.saving.register_keras_serializable(package="attncourse")
class LocalAttention(LuongAttention):
    """Local attention (Luong et al., 2015): each query looks at a window of 2D + 1 keys.

    Query step i chooses a centre p_i in the source and attends only to the real
    positions j with |j − p_i| ≤ D (D = ``window``), with the content scores of
    :class:`~attncourse.layers.LuongAttention` (positions count from 0 in code)::

        local-m ("monotonic"):  p_i = min(i, S − 1)
        local-p ("predictive"): p_i = S · sigmoid(w_p^T tanh(W_p q_i))
        α_ij ∝ m_j [|j − p_i| ≤ D] exp(e_ij − g (j − p_i)^2 / (2σ^2)),   σ = D / 2
        c_i = Σ_j α_ij v_j

    S is the number of real (unpadded) source positions, read from the value mask, so a
    centre never lands on padding. ``g`` is 1 for local-p (the Gaussian favours keys near
    the predicted centre, and its gradient is what trains W_p and w_p) and 0 for local-m
    (a plain softmax over the window). Local-m clips the centre at the last real source
    position: a target longer than its source then keeps attending to the source's last
    words rather than to nothing.

    Here i is the query's position in the target. A call on the whole target counts from
    0; a call on one decoding step at a time must say which step it is (``query_start``),
    or every step would be step 0.

    With ``normalize=True`` (the course's default) adding −(j − p_i)^2 / (2σ^2) to the
    score multiplies the softmax by the Gaussian and renormalises, as
    ``attncourse.reference.local_attention_weights`` does: the weights are a distribution
    like every other attention of the course. With ``normalize=False`` the layer is
    Luong et al.'s: the softmax over the window times the Gaussian, not renormalised,

        α_ij = m_j [|j − p_i| ≤ D] exp(e_ij) / Σ_j' m_j' [|j' − p_i| ≤ D] exp(e_ij')
               · exp(−(j − p_i)^2 / (2σ^2)),

    so a local-p row sums to less than one, the less the further p_i lies from the words
    it reads (``reference.local_attention_weights(..., normalize=False)``). A centre off
    target then shrinks the context, which keeps p_i on the alignment in training
    (chapter 4 measures it). Local-m has no Gaussian, and ``normalize`` changes nothing.

    Weights: those of the Luong score (see :class:`LuongAttention`), and for local-p
    ``center_kernel`` W_p ``(d_q, units or d_q)`` and ``center_vector`` w_p ``(units or
    d_q,)``, the layouts of ``attncourse.reference.predictive_centers(query, W_p, w_p,
    source_length)``.

    Args:
        window: the half-width D of the window, a positive integer.
        mode: ``"monotonic"`` (local-m) or ``"predictive"`` (local-p).
        score: the Luong score, ``"dot"``, ``"general"`` (default) or ``"concat"``.
        units: hidden size of the concat score and of the local-p centre predictor
            (``None``: concat needs it; the predictor then uses d_q).
        scale: divide dot and general scores by sqrt(d_k).
        normalize: True (default): local-p's weights are renormalised to sum to one.
            False: Luong et al.'s window softmax times the Gaussian, rows sum to less
            than one. Ignored by local-m.
        **kwargs: standard layer arguments (``name``, ``dtype``, ...).

    Call arguments:
        inputs: ``[query, value]`` or ``[query, value, key]``: query ``(batch, T_q, d_q)``,
            value ``(batch, T_v, d_v)``, key ``(batch, T_v, d_k)`` (defaults to value).
        mask: optional ``[query_mask, value_mask]``, booleans ``(batch, T_q)`` and
            ``(batch, T_v)``, True for real steps; either may be None.
        return_attention_scores: if True, also return the weights.
        return_centers: if True, also return the centres p_i (after the weights, if
            those are returned too), float32 ``(batch, T_q)``. Chapter 4 plots them over
            the gold alignment. ``predict_centers`` gives them without the rest.
        query_start: the target position of the first query row, an integer or an
            integer tensor of shape ``()`` or ``(batch,)`` (default 0): local-m centres
            query row r on ``query_start + r``. Step-by-step decoding calls the layer on
            one query at a time and passes the step number here
            (``Translator.decode_step`` does). Local-p ignores it.

    Returns:
        The context ``(batch, T_q, d_v)``, followed by the weights ``(batch, T_q, T_v)``
        and the centres ``(batch, T_q)`` when asked for. The weights are zero outside the
        window and on padding; they sum to one over the rest, except local-p's with
        ``normalize=False``, which sum to less.

    Raises:
        ValueError: a window that is not a positive integer, an unknown mode, a score
            other than dot, general or concat, or ``normalize`` not a bool (and the
            errors of :class:`LuongAttention`).

    Example:
        >>> decoder_states = keras.random.normal((2, 5, 16))
        >>> encoder_states = keras.random.normal((2, 9, 16))
        >>> attention = LocalAttention(window=2, mode="predictive")
        >>> context, weights, centers = attention(
        ...     [decoder_states, encoder_states], return_attention_scores=True,
        ...     return_centers=True)
        >>> tuple(context.shape), tuple(weights.shape), tuple(centers.shape)
        ((2, 5, 16), (2, 5, 9), (2, 5))
    """

    def __init__(self, window, mode, score="general", units=None, scale=False, normalize=True,
                 **kwargs):
        name = type(self).__name__
        check_option("score", score, LOCAL_SCORES, name)
        super().__init__(score=score, units=units, scale=scale, **kwargs)
        if isinstance(window, bool) or not isinstance(window, int) or window < 1:
            raise ValueError(
                f"{name}: window must be a positive integer (the half-width D; the window "
                f"covers 2D + 1 positions), received {window!r}"
            )
        check_option("mode", mode, LOCAL_MODES, name)
        if not isinstance(normalize, bool):
            raise ValueError(f"{name}: normalize must be True or False, received {normalize!r}")
        self.window = window
        self.mode = mode
        self.normalize = normalize

    def build_weights(self, query_depth, key_depth):
        super().build_weights(query_depth, key_depth)
        if self.mode == "predictive":
            hidden = self.units or query_depth
            self.center_kernel = self.add_weight(
                name="center_kernel", shape=(query_depth, hidden), initializer="glorot_uniform"
            )
            self.center_vector = self.add_weight(
                name="center_vector", shape=(hidden,), initializer="glorot_uniform"
            )

    def _centers(self, query, key, value_mask, query_start=0):
        """p_i, float32 ``(batch, T_q)``."""
        if value_mask is None:
            source_length = ops.cast(ops.shape(key)[1], "float32") * ops.ones(
                (ops.shape(key)[0], 1), "float32"
            )
        else:
            source_length = ops.sum(ops.cast(value_mask, "float32"), axis=-1, keepdims=True)
        if self.mode == "monotonic":
            # i = query_start … query_start + T_q − 1, one start for all or one per example.
            start = ops.reshape(ops.cast(query_start, "float32"), (-1, 1))
            steps = start + ops.cast(ops.arange(ops.shape(query)[1]), "float32")[None, :]
            return ops.minimum(steps, ops.maximum(source_length - 1.0, 0.0))
        hidden = ops.tanh(ops.matmul(query, ops.cast(self.center_kernel, query.dtype)))
        energy = ops.matmul(hidden, ops.cast(ops.expand_dims(self.center_vector, -1), query.dtype))
        return source_length * ops.sigmoid(ops.cast(ops.squeeze(energy, -1), "float32"))

    def _local_weights(self, query, key, value_mask, centers):
        # The window arithmetic runs in float32: positions and squared distances in
        # float16 would lose precision for long sources.
        scores = ops.cast(self.scores(query, key), "float32")
        positions = ops.cast(ops.arange(ops.shape(key)[1]), "float32")
        distance = positions[None, None, :] - ops.expand_dims(centers, -1)  # j − p_i: (B, T_q, T_v)
        allowed = ops.abs(distance) <= float(self.window)
        if value_mask is not None:
            allowed = ops.logical_and(allowed, ops.expand_dims(ops.cast(value_mask, "bool"), 1))
        if self.mode != "predictive":
            return ops.cast(masked_softmax(scores, allowed), query.dtype)
        sigma = self.window / 2.0
        log_gaussian = -ops.square(distance) / (2.0 * sigma**2)
        if self.normalize:
            return ops.cast(masked_softmax(scores + log_gaussian, allowed), query.dtype)
        # Luong et al.: the window's softmax times the Gaussian, left unnormalised.
        return ops.cast(masked_softmax(scores, allowed) * ops.exp(log_gaussian), query.dtype)

    def attention_weights(self, query, key, value_mask):
        centers = self._centers(query, key, value_mask)
        return self._local_weights(query, key, value_mask, centers)

    def predict_centers(self, inputs, mask=None, query_start=0):
        """The centres p_i the layer would use for these inputs, float32 ``(batch, T_q)``.

        Args:
            inputs: ``[query, value]`` or ``[query, value, key]``, as for the call.
            mask: optional ``[query_mask, value_mask]``; the value mask gives S.
            query_start: the target position of the first query row (see the call).

        Returns:
            ``(batch, T_q)`` centres in [0, S] (local-m: min(i, S − 1)).
        """
        if not self.built:
            query, value, key = (inputs[0], inputs[1], inputs[-1])
            self.build([tuple(query.shape), tuple(value.shape), tuple(key.shape)])
        query, _, key, _, value_mask = self._check_call(inputs, mask)
        query = ops.cast(query, self.compute_dtype)
        return self._centers(query, ops.cast(key, self.compute_dtype), value_mask, query_start)

    def call(self, inputs, mask=None, return_attention_scores=False, return_centers=False,
             query_start=0):
        query, value, key, query_mask, value_mask = self._check_call(inputs, mask)
        centers = self._centers(query, key, value_mask, query_start)
        weights = self._local_weights(query, key, value_mask, centers)
        weights = self._zero_padded_queries(weights, query_mask)
        outputs = [ops.matmul(weights, ops.cast(value, weights.dtype))]
        if return_attention_scores:
            outputs.append(weights)
        if return_centers:
            outputs.append(centers)
        return outputs[0] if len(outputs) == 1 else tuple(outputs)

    def compute_output_spec(
        self, inputs, mask=None, return_attention_scores=False, return_centers=False, **kwargs
    ):
        outputs = super().compute_output_spec(inputs, mask, return_attention_scores)
        if not return_centers:
            return outputs
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        query_shape = tuple(inputs[0].shape)
        return (*outputs, keras.KerasTensor(query_shape[:-1], dtype="float32"))

    def get_config(self):
        return {
            **super().get_config(),
            "window": self.window,
            "mode": self.mode,
            "normalize": self.normalize,
        }
