"""Key-value(-predict) attention over a short causal window (Daniluk et al., 2017)."""

import warnings

import keras
from keras import ops

from attncourse.layers.common import check_option, check_rank, check_step_mask, masked_softmax
from attncourse.layers.cross import times_matrix

# How many equal parts the output h_t of the RNN is split into, for each mode.
_PARTS = {"attention": 1, "key_value": 2, "key_value_predict": 3}


@keras.saving.register_keras_serializable(package="attncourse")
class KeyValueAttention(keras.layers.Layer):
    """Each step attends to the previous ``window`` steps of its own sequence (Daniluk et al.).

    A language model's RNN state ``h_t`` has three jobs at once: predict the next token,
    be a key that later steps can find, and carry the value they read. Daniluk et al.
    split it so each job gets its own part:

    - mode ``"attention"``: ``k_t = v_t = h_t``;
    - mode ``"key_value"``: ``h_t = [k_t; v_t]`` (halves);
    - mode ``"key_value_predict"``: ``h_t = [k_t; v_t; p_t]`` (thirds).

    Step ``t`` looks back at most ``L = window`` steps, j = t-L .. t-1 (strictly causal:
    never itself, never the future, never padding), with an additive score::

        e_tj = w^T tanh(W_k k_j + W_q k_t)         for t-L <= j <= t-1
        α_tj = m_j exp(e_tj) / Σ_j' m_j' exp(e_tj')
        r_t  = Σ_j α_tj v_j

    The first step has nothing before it: its weights and ``r_0`` are zero. A padded
    step ``t`` (``m_t = 0``) also gets zero weights and a zero ``r_t``.

    Using it in a language model: the layer returns only the memory read ``r_t``. As in
    the paper, combine it with the current step before the softmax over the vocabulary,
    ``h*_t = tanh(W_r r_t + W_h x_t)`` where ``x_t`` is ``h_t`` (mode attention), ``v_t``
    (key_value) or ``p_t`` (key_value_predict); ``split`` returns that ``x_t`` as its
    third part, ``predict``, in every mode::

        h = keras.layers.LSTM(3 * 64, return_sequences=True)(embedded)
        memory = KeyValueAttention(window=5, mode="key_value_predict")
        r = memory(h)                                   # (batch, T, 64)
        keys, values, predict = memory.split(h)         # each (batch, T, 64)
        combined = keras.layers.Concatenate()([r, predict])
        combined = keras.layers.Dense(64, activation="tanh")(combined)   # h*_t
        logits = keras.layers.Dense(vocabulary_size)(combined)

    (A Dense layer on the concatenation ``[r_t; x_t]`` is ``W_r r_t + W_h x_t``.)

    Implementation: only the window is computed. The projected keys ``W_k k_j`` and the
    values get L zeros in front, and one gather takes, for every t, the L steps before
    it (lags 1 to L): the hidden layer is ``(batch, T, L, units)``, the scores and the
    softmax are ``(batch, T, L)`` (a lag is masked where ``t - lag < 0`` or either step
    is padding) and ``r_t`` is the weighted sum of the L lagged values; no Python loop
    over t. Memory grows as O(T · L · units), linearly in T, not as the T × T × units of
    scoring every pair. Only ``return_attention_scores=True`` builds the
    ``(batch, T, T)`` weights, by placing each lag on its diagonal (T² scalars, no
    units axis).

    In code the steps are row vectors, so ``key_kernel`` and ``query_kernel``
    (``(d_k, units)``) are the transposes of the equation's ``W_k`` and ``W_q``;
    ``score_vector`` (``(units,)``) is ``w``. These are the layouts of
    ``attncourse.reference.key_value_attention(h, W_k, W_q, w, window, mode, mask)``.

    Args:
        window: ``L``, how many previous steps each step may attend to (>= 1).
        mode: ``"attention"``, ``"key_value"`` or ``"key_value_predict"``.
        units: size of the score's hidden layer; ``None`` uses the key size ``d_k``.
        **kwargs: standard layer arguments (``name``, ``dtype``, ...).

    Call arguments:
        inputs: the RNN outputs ``h``, shape ``(batch, T, d)``; ``d`` must be divisible
            by 2 (key_value) or 3 (key_value_predict).
        mask: optional booleans ``(batch, T)``, True for real steps.
        return_attention_scores: if True, also return the weights.

    Returns:
        ``r``, shape ``(batch, T, d_v)`` with ``d_v = d`` (attention), ``d/2``
        (key_value) or ``d/3`` (key_value_predict); with ``return_attention_scores=True``
        the pair ``(r, weights)``, weights ``(batch, T, T)`` (row t: the step that reads,
        column j: the step read). The input mask is passed on.

    Raises:
        ValueError: an unknown mode, a window or units below 1 (at construction); a
            depth not divisible for the mode, or a wrong rank (when built).
    """

    def __init__(self, window, mode="attention", units=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(window, bool) or not isinstance(window, int) or window < 1:
            raise ValueError(
                f"KeyValueAttention: window must be a positive integer, received {window!r}"
            )
        check_option("mode", mode, tuple(_PARTS), "KeyValueAttention")
        if units is not None and (isinstance(units, bool) or not isinstance(units, int) or units < 1):
            raise ValueError(
                f"KeyValueAttention: units must be None or a positive integer, received {units!r}"
            )
        self.window = window
        self.mode = mode
        self.units = units
        self.supports_masking = True

    def _key_depth(self, depth):
        parts = _PARTS[self.mode]
        if depth is None or depth % parts:
            raise ValueError(
                f"KeyValueAttention: mode {self.mode!r} splits h into {parts} equal parts, so "
                f"the depth d must be known and divisible by {parts}; received d = {depth}"
            )
        return depth // parts

    def build(self, input_shape):
        check_rank("inputs", input_shape, 3, "KeyValueAttention")
        key_depth = self._key_depth(input_shape[-1])
        units = self.units or key_depth
        self.key_kernel = self.add_weight(
            name="key_kernel", shape=(key_depth, units), initializer="glorot_uniform"
        )
        self.query_kernel = self.add_weight(
            name="query_kernel", shape=(key_depth, units), initializer="glorot_uniform"
        )
        self.score_vector = self.add_weight(
            name="score_vector", shape=(units,), initializer="glorot_uniform"
        )
        self.input_spec = keras.layers.InputSpec(ndim=3, axes={-1: input_shape[-1]})

    def split(self, h):
        """Split ``h`` into ``(keys, values, predict)`` for this layer's mode.

        ``predict`` is the part of ``h_t`` that Daniluk et al. combine with the memory read
        ``r_t`` to predict the next token: ``h_t`` itself in mode attention, the value
        ``v_t`` in mode key_value, ``p_t`` in mode key_value_predict (the same convention
        as ``attncourse.reference.key_value_split``).

        Args:
            h: tensor ``(batch, T, d)``.

        Returns:
            ``(keys, values, predict)``: ``(h, h, h)`` in mode attention, ``(k, v, v)``
            (halves of h) in mode key_value, ``(k, v, p)`` (thirds) in mode
            key_value_predict.

        Raises:
            ValueError: ``d`` is not divisible for the mode.
        """
        parts = _PARTS[self.mode]
        self._key_depth(h.shape[-1])  # raises if d is not divisible
        if parts == 1:
            return h, h, h
        pieces = ops.split(h, parts, axis=-1)
        if parts == 2:
            return pieces[0], pieces[1], pieces[1]
        return pieces[0], pieces[1], pieces[2]

    def _lagged(self, x):
        """``x`` (B, T, n) -> (B, T, L, n): ``[:, t, lag - 1]`` is ``x[:, t - lag]``, zero if t < lag."""
        window = self.window
        # L zeros in front put x[t - lag] at row t + L - lag of the padded tensor; one
        # gather takes the L rows of every t (faster than L slices, forward and backward).
        padded = ops.pad(x, [[0, 0], [window, 0], [0, 0]])
        rows = ops.expand_dims(ops.arange(ops.shape(x)[1]), 1) + ops.arange(window - 1, -1, -1)
        return ops.take(padded, rows, axis=1)

    def _allowed(self, steps, mask):
        """Booleans (batch or 1, T, L): may step t read step t - lag (lag = 1 .. L)?"""
        lags = ops.arange(1, self.window + 1)
        allowed = ops.expand_dims(ops.expand_dims(ops.arange(steps), 1) >= lags, 0)  # t - lag >= 0
        if mask is not None:
            real = ops.cast(mask, "int32")
            # Never read a padded step, and a padded step reads nothing.
            read_is_real = ops.squeeze(self._lagged(ops.expand_dims(real, -1)), -1) > 0
            allowed = allowed & read_is_real & ops.expand_dims(real > 0, -1)
        return allowed

    def _dense_weights(self, weights):
        """(B, T, L) weights by lag -> (B, T, T), row t, column j = t - lag; zeros elsewhere."""
        positions = ops.arange(ops.shape(weights)[1])
        lag = ops.expand_dims(positions, 1) - ops.expand_dims(positions, 0)  # t - j: (T, T)
        zero = ops.zeros((), dtype=weights.dtype)
        dense = None
        for index in range(self.window):
            diagonal = ops.where(lag == index + 1, weights[:, :, index : index + 1], zero)
            dense = diagonal if dense is None else dense + diagonal
        return dense

    def call(self, inputs, mask=None, return_attention_scores=False):
        check_step_mask(mask, inputs, "KeyValueAttention")
        keys, values, _ = self.split(inputs)
        as_read = times_matrix(keys, self.key_kernel)  # W_k k_j: (B, T, units)
        as_query = times_matrix(keys, self.query_kernel)  # W_q k_t: (B, T, units)
        # hidden[b, t, lag - 1] = tanh(W_k k_{t-lag} + W_q k_t): (B, T, L, units)
        hidden = ops.tanh(self._lagged(as_read) + ops.expand_dims(as_query, 2))
        # w^T hidden as a product and a sum over units, not a matrix product with one
        # column: the training step at T = 40 is 10-15% faster under XLA on a CPU, and no
        # slower without (benchmarks/key_value.py); at T = 512 the matmul would be faster.
        scores = ops.sum(hidden * self.score_vector, axis=-1)  # (B, T, L)
        with warnings.catch_warnings():
            # With window 1 the softmax runs over one lag (1 where allowed, else 0), which
            # is right here; Keras warns about any softmax over an axis of size 1.
            warnings.filterwarnings("ignore", message="You are using a softmax over axis")
            weights = masked_softmax(scores, self._allowed(ops.shape(inputs)[1], mask))  # (B, T, L)
        # r_t = Σ_lag α_{t, lag} v_{t-lag}: (B, T, d_v)
        context = ops.sum(ops.expand_dims(weights, -1) * self._lagged(values), axis=2)
        if return_attention_scores:
            return context, self._dense_weights(weights)
        return context

    def compute_mask(self, inputs, mask=None):
        return mask

    def compute_output_shape(self, input_shape):
        return (*input_shape[:2], self._key_depth(input_shape[-1]))

    def compute_output_spec(self, inputs, mask=None, return_attention_scores=False):
        output = keras.KerasTensor(self.compute_output_shape(inputs.shape), dtype=self.compute_dtype)
        if return_attention_scores:
            batch, steps = inputs.shape[0], inputs.shape[1]
            return output, keras.KerasTensor((batch, steps, steps), dtype=self.compute_dtype)
        return output

    def get_config(self):
        return {
            **super().get_config(),
            "window": self.window,
            "mode": self.mode,
            "units": self.units,
        }
