"""Monotonic attention (Raffel et al., 2017): attention that only ever moves forward."""

import keras
from keras import ops

from attncourse.layers.bahdanau import BahdanauAttention
from attncourse.layers.common import check_option

MONOTONIC_MODES = ("soft", "hard")

# Π(1 − p) is clipped below at this value before the division in the parallel form;
# see MonotonicAttention.
SAFE_PRODUCT = 1e-10
# Hard decoding (MonotonicAttention.step) walks the source in windows: the first of
# HARD_WINDOW positions, each further one twice as long as the one before, up to
# LONGEST_WINDOW. Where the step is traced (tf.function, jax.jit) every window has
# HARD_WINDOW positions: the loop of a compiled graph keeps its shapes.
HARD_WINDOW = 8
LONGEST_WINDOW = 256
# The walk is the default from this source length on. Below it, one pass over the whole
# source is cheaper when operations run one by one (eagerly): the walk runs more of
# them, and only saves the arithmetic on the positions it skips. benchmarks/monotonic.py
# times both: on CPU the pass is the faster at 100 positions, about even at 1,000.
ONLINE_FROM = 512
# How close to the threshold a choose probability of the walk counts as a tie. The same
# p_ij computed for a window or for the whole source can differ in the last bits (the
# kernels sum in another order for another shape): by up to about 3e-7 in float32 on CPU
# (TensorFlow, JAX, PyTorch), with units up to 1024. A step with a tie is computed over
# the whole source instead. (A GPU that multiplies in TF32 for one shape and in float32
# for the other would differ by more.)
TIE_MARGIN = 1e-5


def _check_online(online, name):
    if online not in (None, True, False):
        raise ValueError(f"{name}: online must be None, True or False, received {online!r}")


def _positions_of(key, value_mask):
    """Masks describing the source: real positions, the last real one, any real one.

    Returns:
        ``real`` bool ``(B, T_v)``; ``last`` float32 ``(B, T_v)``, one-hot on the last real
        position (all zero without one); ``has_any`` bool ``(B, 1)``.
    """
    if value_mask is None:
        real = ops.ones(ops.shape(key)[:2], dtype="bool")
    else:
        real = ops.cast(value_mask, "bool")
    count = ops.cumsum(ops.cast(real, "int32"), axis=-1)  # real positions up to j
    last = ops.logical_and(real, ops.equal(count, count[:, -1:]))
    return real, ops.cast(last, "float32"), ops.any(real, axis=-1, keepdims=True)


def expected_alignment_step(p_choose, previous, last):
    """One output step of Raffel et al.'s expected alignment, parallel over the source.

    α_ij = p_ij Σ_{k≤j} α_{i−1,k} Π_{l=k}^{j−1} (1 − p_il) is computed, as in the paper,
    as p_ij · P_j · Σ_{k≤j} α_{i−1,k} / P_k with the exclusive product P_j = Π_{l<j}(1 − p_il):
    one cumulative sum and one cumulative product instead of a loop over the source.
    Then the mass that walked past the end, 1 − Σ_j α_ij, goes to the last real position.

    Args:
        p_choose: float32 ``(B, T_v)``, stopping probabilities, 0 on padding.
        previous: float32 ``(B, T_v)``, α_{i−1}.
        last: float32 ``(B, T_v)``, one-hot on the last real position.

    Returns:
        α_i, float32 ``(B, T_v)``.
    """
    # The product in log space, each factor clipped above 0: a plain cumprod has a NaN
    # gradient where a factor is exactly 0 (p = 1), and a product of many factors < 1
    # underflows.
    log_not_chosen = ops.log(ops.clip(1.0 - p_choose, SAFE_PRODUCT, 1.0))
    not_chosen_before = ops.exp(ops.cumsum(log_not_chosen, axis=-1) - log_not_chosen)  # P_j
    # Dividing by P_k is the numerically fragile step; the paper clips it, so a P that
    # underflows below SAFE_PRODUCT turns into a slight loss of mass (which the leftover
    # rule then hands to the last position) instead of an overflow.
    arriving = not_chosen_before * ops.cumsum(
        previous / ops.clip(not_chosen_before, SAFE_PRODUCT, 1.0), axis=-1
    )
    row = p_choose * arriving
    leftover = ops.relu(1.0 - ops.sum(row, axis=-1, keepdims=True))
    return row + leftover * last


def hard_alignment_step(p_choose, previous, real, last, threshold):
    """One output step of hard monotonic attention: stop at the first p_ij ≥ threshold.

    The walk starts at the position attended at the previous step and never moves left;
    if it stops nowhere it attends to the last real position.

    Args:
        p_choose: float32 ``(B, T_v)``.
        previous: float32 ``(B, T_v)``, one-hot on the previous position.
        real: bool ``(B, T_v)``.
        last: float32 ``(B, T_v)``.
        threshold: the stopping probability.

    Returns:
        One-hot float32 ``(B, T_v)`` (all zero without a real position).
    """
    reachable = ops.cumsum(previous, axis=-1) > 0.5  # at or right of the previous position
    stops = ops.logical_and(ops.logical_and(reachable, real), p_choose >= threshold)
    stops = ops.cast(stops, "float32")
    first_stop = stops * ops.cast(ops.equal(ops.cumsum(stops, axis=-1), 1.0), "float32")
    stopped = ops.sum(stops, axis=-1, keepdims=True) > 0
    return ops.where(stopped, first_stop, last)


def _traced(tensor):
    """Whether ``tensor`` is being traced for a compiled function (tf.function, jax.jit)."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return not tf.executing_eagerly()
    if backend == "jax":
        import jax

        return isinstance(tensor, jax.core.Tracer)
    return False  # PyTorch (and NumPy) run eagerly


@keras.saving.register_keras_serializable(package="attncourse")
class MonotonicAttention(BahdanauAttention):
    """Monotonic attention (Raffel et al., 2017): the attention walks left to right.

    At output step i the attention starts where it stopped at step i − 1 and scans the
    source to the right, stopping at position j with the choose probability::

        e_ij = w_a^T tanh(W_q q_i + W_k k_j) + r          (Bahdanau's energy, plus r)
        p_ij = sigmoid(e_ij)                              (0 on padding)

    ``mode="soft"`` (training) returns the expected alignment, the probability that the
    walk stops at j::

        α_ij = p_ij Σ_{k≤j} α_{i−1,k} Π_{l=k}^{j−1} (1 − p_il),   α_0 = one-hot on j = 0

    and ``mode="hard"`` (test time) the walk itself: one-hot rows on the first j at or
    right of the previous position with p_ij ≥ ``threshold``. Then c_i = Σ_j α_ij v_j.
    At test time the attention reads each source position at most once, in order, which
    is what makes it online and linear-time.

    Choices of this implementation, matching ``attncourse.reference``:

    - The energy is Bahdanau's additive score plus a learned scalar ``r``
      (``score_bias``). Raffel et al. also add r; they further normalise w_a to a
      learned norm g, which is left out here. A negative r makes every p small, so at
      the start of training the walk does not stop at the first positions it meets:
      with p = sigmoid(r) it moves on about (1 − p) / p positions per step.
      Raffel et al. recommend starting r clearly negative for long inputs; the default
      −1 (about 2.7 positions per step) suits the course's sentences of 3–40 words.
    - The mass that walks past the end, 1 − Σ_j α_ij, goes to the last real position,
      so each row sums to one like every attention of the course (Raffel et al. let it
      vanish); hard decoding likewise stays on the last word when it stops nowhere.
    - Soft mode is parallel over the source (the paper's cumulative sum / cumulative
      product form, with the denominator Π(1 − p) clipped below at 1e-10, so the result
      is approximate only where that product has underflowed, i.e. where the walk had
      almost surely stopped already). Over the output steps α_i needs α_{i−1}: the
      layer runs that recurrence with ``keras.ops.scan`` over T_q, which works on every
      backend and with a T_q unknown until run time (a functional model fed by
      ``Embedding(mask_zero=True)``), where a Python loop could not run.
    - The choose probabilities and the recurrence run in float32, also under mixed
      precision (the clipped products need float32's range).
    - Hard decoding with ``step`` walks online, as Raffel et al. decode: each step
      scores a few keys from where the previous one stopped, so its cost does not grow
      with the source. Its rows are those of the hard call, exactly (a choose
      probability within rounding of the threshold has the step computed over the whole
      source, as the call does). For sources shorter than :data:`ONLINE_FROM` positions
      (the course's sentences), where one pass over the source is the faster when
      operations run one by one, the step makes that pass, unless ``online=True``.

    Weights: those of :class:`~attncourse.layers.BahdanauAttention` (``query_kernel``,
    ``key_kernel``, ``score_vector``) and ``score_bias`` r, a scalar. For the reference,
    ``p = sigmoid(additive_score(query, keys, W_q, W_k, w) + r)``.

    Args:
        units: size of the hidden layer of the energy (a positive integer).
        mode: ``"soft"`` (default; expected alignment, for training) or ``"hard"``.
        threshold: the probability at which hard mode stops, in [0, 1].
        init_bias: the starting value of r.
        online: how hard decoding with ``step`` reads the source: True walks online,
            False scores every position, ``None`` (default) walks from
            :data:`ONLINE_FROM` source positions on (see ``step``).
        **kwargs: standard layer arguments (``name``, ``dtype``, ...).

    Call arguments:
        inputs: ``[query, value]`` or ``[query, value, key]``: query ``(batch, T_q, d_q)``
            (teacher forcing: all decoder states at once), value ``(batch, T_v, d_v)``,
            key ``(batch, T_v, d_k)`` (defaults to value).
        mask: optional ``[query_mask, value_mask]``, booleans ``(batch, T_q)`` and
            ``(batch, T_v)``; either may be None.
        return_attention_scores: if True, also return the alignment.

    Returns:
        The context ``(batch, T_q, d_v)``; with ``return_attention_scores=True`` the pair
        ``(context, alignment)``, alignment ``(batch, T_q, T_v)``: zero on padding, rows
        summing to one (zero rows for padded query steps).

    For decoding one step at a time, ``step`` takes one query and the previous alignment.

    Example:
        >>> decoder_states = keras.random.normal((2, 5, 16))
        >>> encoder_states = keras.random.normal((2, 7, 16))
        >>> attention = MonotonicAttention(units=8)
        >>> context, alignment = attention(
        ...     [decoder_states, encoder_states], return_attention_scores=True)
        >>> tuple(alignment.shape)
        (2, 5, 7)
        >>> previous = None  # test time: one step after another, hard attention
        >>> for i in range(5):
        ...     context_i, previous = attention.step(
        ...         decoder_states[:, i], encoder_states, previous, mode="hard")
        >>> tuple(context_i.shape), tuple(previous.shape)
        ((2, 16), (2, 7))
    """

    def __init__(self, units, mode="soft", threshold=0.5, init_bias=-1.0, online=None, **kwargs):
        super().__init__(units, **kwargs)
        name = type(self).__name__
        check_option("mode", mode, MONOTONIC_MODES, name)
        if (
            isinstance(threshold, bool)
            or not isinstance(threshold, (int, float))
            or not (0.0 <= threshold <= 1.0)
        ):
            raise ValueError(
                f"{name}: threshold must be a probability in [0, 1], received {threshold!r}"
            )
        if isinstance(init_bias, bool) or not isinstance(init_bias, (int, float)):
            raise ValueError(f"{name}: init_bias must be a number, received {init_bias!r}")
        _check_online(online, name)
        self.mode = mode
        self.online = online
        self.threshold = float(threshold)
        self.init_bias = float(init_bias)
        # XLA cannot compile the gradient of the scan over output steps (TensorFlow 2.21:
        # "tf2xla conversion failed" on the loop's cumsum accumulator). Declaring it makes
        # Keras train without XLA, also when a GPU would make it pick XLA by itself.
        self.supports_jit = False

    def build_weights(self, query_depth, key_depth):
        super().build_weights(query_depth, key_depth)
        self.score_bias = self.add_weight(
            name="score_bias", shape=(), initializer=keras.initializers.Constant(self.init_bias)
        )

    def choose_probabilities(self, query, key, value_mask=None):
        """p_ij = sigmoid(e_ij + r), float32 ``(batch, T_q, T_v)``, exactly 0 on padding."""
        energy = ops.cast(self.scores(query, key), "float32") + ops.cast(self.score_bias, "float32")
        p_choose = ops.sigmoid(energy)
        if value_mask is None:
            return p_choose
        real = ops.expand_dims(ops.cast(value_mask, "bool"), 1)
        return ops.where(real, p_choose, ops.zeros_like(p_choose))

    @staticmethod
    def initial_alignment(value):
        """α_0: float32 ``(batch, T_v)``, one-hot on the first source position."""
        first = ops.equal(ops.arange(ops.shape(value)[1]), 0)[None, :]
        return ops.cast(first, "float32") * ops.ones((ops.shape(value)[0], 1), "float32")

    def _next_alignment(self, p_choose, previous, real, last, mode):
        if mode == "hard":
            return hard_alignment_step(p_choose, previous, real, last, self.threshold)
        return expected_alignment_step(p_choose, previous, last)

    def attention_weights(self, query, key, value_mask):
        p_choose = self.choose_probabilities(query, key, value_mask)  # (B, T_q, T_v)
        real, last, has_any = _positions_of(key, value_mask)

        def next_row(previous, p_choose_i):
            row = self._next_alignment(p_choose_i, previous, real, last, self.mode)
            # A source without any real position gives zero rows; the walk keeps its place.
            return ops.where(has_any, row, previous), row

        # The recurrence over output steps: scan along T_q (time-major).
        _, rows = ops.scan(
            next_row, self.initial_alignment(key), ops.transpose(p_choose, (1, 0, 2))
        )
        return ops.cast(ops.transpose(rows, (1, 0, 2)), query.dtype)

    def step(
        self, query, value, previous_alignment=None, value_mask=None, key=None, mode=None, online=None
    ):
        """One decoding step: attend from one query, starting where the last step stopped.

        In hard mode the step can walk online, as Raffel et al. decode: it scores the keys
        from the previous position on, a window of a few positions at a time (see
        :data:`HARD_WINDOW`), and stops at the first window that holds a position with
        p_ij ≥ ``threshold`` or reaches the last real position. It reads no key left of
        the previous position, and no more windows than the longest walk of the batch
        needs, so the scoring does not grow with T_v (what does is a few cheap operations
        on the ``(batch, T_v)`` alignments it reads and returns). The result is the row the
        teacher-forced hard call computes over the whole source: where a p_ij of the walk
        lies within :data:`TIE_MARGIN` of the threshold, the step is computed over the
        whole source, so that the two agree there too. Subclasses that change
        ``choose_probabilities`` or ``scores`` have it called on windows of keys: their
        p_ij must depend on q_i and k_j only.

        Args:
            query: the decoder state of this step, ``(batch, d_q)``.
            value: ``(batch, T_v, d_v)``.
            previous_alignment: α_{i−1}, ``(batch, T_v)`` (what the previous ``step``
                returned); ``None`` at the first step (α_0, one-hot on position 0).
            value_mask: optional booleans ``(batch, T_v)``.
            key: optional ``(batch, T_v, d_k)``; defaults to ``value``.
            mode: ``"soft"`` or ``"hard"``; ``None`` uses the layer's mode (so a layer
                trained soft can decode hard).
            online: hard mode only: True walks online, False scores every source
                position; ``None`` (default) takes the layer's ``online``, and where that
                is ``None`` too, walks from :data:`ONLINE_FROM` source positions on,
                where the walk is the faster. The walk needs a float32 or
                float64 compute dtype (16-bit energies differ between a window and the
                whole source by more than the tie margin); otherwise the step scores
                every position.

        Returns:
            ``(context, alignment)``: ``(batch, d_v)`` and ``(batch, T_v)``. Feeding each
            alignment back in reproduces the rows of the full call.
        """
        _check_online(online, type(self).__name__)
        online = self.online if online is None else online
        key = value if key is None else key
        mode = self.mode if mode is None else mode
        check_option("mode", mode, MONOTONIC_MODES, type(self).__name__)
        query = ops.expand_dims(ops.convert_to_tensor(query), 1)  # one query step: (B, 1, d_q)
        if not self.built:
            self.build([tuple(query.shape), tuple(value.shape), tuple(key.shape)])
        query, value, key, _, value_mask = self._check_call([query, value, key], [None, value_mask])
        dtype = self.compute_dtype
        query, value, key = (ops.cast(x, dtype) for x in (query, value, key))
        if online is None:
            online = key.shape[1] is None or key.shape[1] >= ONLINE_FROM
        if mode == "hard" and online and dtype in ("float32", "float64"):
            return self._hard_walk(query, value, key, previous_alignment, value_mask)
        return self._step_over_source(query, value, key, previous_alignment, value_mask, mode)

    def _step_over_source(self, query, value, key, previous_alignment, value_mask, mode):
        """One step computed over every source position, as one row of the full call."""
        if previous_alignment is None:
            previous_alignment = self.initial_alignment(key)
        p_choose = self.choose_probabilities(query, key, value_mask)[:, 0]
        real, last, _ = _positions_of(key, value_mask)
        previous = ops.cast(previous_alignment, "float32")
        alignment = ops.cast(self._next_alignment(p_choose, previous, real, last, mode), self.compute_dtype)
        context = ops.squeeze(ops.matmul(ops.expand_dims(alignment, 1), value), 1)
        return context, alignment

    def _window_probabilities(self, query, key):
        """A function from indices into the flattened keys, ``(B, K)``, to their p_ij, float32.

        The arithmetic of :meth:`choose_probabilities` (Bahdanau's energy plus r, then the
        sigmoid) on the window's keys only, through Bahdanau's two halves of the score
        (:meth:`prepare_keys` on the window, :meth:`step_scores` for the query). A
        subclass that computes its probabilities otherwise has its own
        ``choose_probabilities`` called on the window's keys.
        """
        batch, depth = ops.shape(key)[0], ops.shape(key)[-1]
        flat_key = ops.reshape(key, (-1, depth))
        if (
            type(self).choose_probabilities is not MonotonicAttention.choose_probabilities
            or type(self).scores is not BahdanauAttention.scores
        ):
            return lambda index: self.choose_probabilities(
                query, ops.take(flat_key, index, axis=0)
            )[:, 0]
        bias = ops.cast(self.score_bias, "float32")
        one_query = query[:, 0]  # (B, d_q)

        def probabilities(index):
            keys = ops.take(flat_key, ops.reshape(index, (-1,)), axis=0)  # (B·K, d_k)
            window = ops.reshape(keys, (batch, -1, depth))  # (B, K, d_k)
            energy = self.step_scores(one_query, self.prepare_keys(window))  # (B, K)
            return ops.sigmoid(ops.cast(energy, "float32") + bias)

        return probabilities

    def _hard_walk(self, query, value, key, previous_alignment, value_mask):
        """The online hard step: windows of keys from the previous position on (see ``step``)."""
        batch, steps = ops.shape(key)[0], ops.shape(key)[1]
        row_start = ops.expand_dims(ops.arange(batch, dtype="int32") * steps, 1)  # (B, 1)
        probabilities = self._window_probabilities(query, key)
        # Where the walk starts, (B, 1): where the cumulative sum of α_{i−1} passes 0.5, as
        # in hard_alignment_step; for the one-hot rows that hard steps return, the position
        # of the 1, and T_v (nowhere) for a zero row. A row of α_{i−1} with other values (a
        # soft alignment) is left to the computation over the whole source.
        irregular = ops.convert_to_tensor(False)
        if previous_alignment is None:
            start = ops.zeros((batch, 1), "int32")  # α_0: the first position
        else:
            previous = ops.cast(previous_alignment, "float32")
            mass = ops.sum(previous, axis=-1, keepdims=True)
            # Σ α(1 − α) = 0 for values in {0, 1} only; then the mass counts the 1s.
            irregular = ops.any(
                ops.logical_or(ops.sum(previous * previous, axis=-1, keepdims=True) != mass, mass > 1.0)
            )
            one = ops.sum(previous * ops.arange(steps, dtype="float32"), axis=-1, keepdims=True)
            start = ops.where(mass > 0.5, ops.cast(one, "int32"), steps)
        # Where the walk ends, (B, 1): the last real position (−1: none), where a walk that
        # stops nowhere stays. Each window lowers it to the first stop found.
        if value_mask is None:
            flat_real = None
            chosen = ops.full((batch, 1), steps - 1, "int32")
        else:
            real = ops.cast(value_mask, "bool")
            flat_real = ops.reshape(real, (-1,))
            positions = ops.arange(steps, dtype="int32")
            chosen = ops.max(ops.where(real, positions, -1), axis=-1, keepdims=True)

        def scan_window(window_start, chosen, tied, offsets):
            """Score positions ``window_start + offsets`` of each row, up to ``chosen``."""
            window = window_start + offsets  # (B, K)
            index = row_start + ops.minimum(window, steps - 1)
            inside = window <= chosen
            if flat_real is not None:
                inside = ops.logical_and(inside, ops.take(flat_real, index))
            p_choose = probabilities(index)
            stops = ops.logical_and(inside, p_choose >= self.threshold)
            first_stop = ops.min(ops.where(stops, window, steps), axis=-1, keepdims=True)
            chosen = ops.minimum(chosen, first_stop)
            # The positions up to the stop decide the step: is any of them a tie?
            close = ops.abs(p_choose - self.threshold) <= TIE_MARGIN
            deciding = ops.logical_and(inside, window <= chosen)
            tied = ops.logical_or(tied, ops.any(ops.logical_and(deciding, close)))
            return window_start + ops.shape(offsets)[0], chosen, tied

        walk = (start, chosen, irregular)
        if _traced(key):  # a loop of the compiled graph, over windows of HARD_WINDOW
            walk = ops.while_loop(
                lambda start, chosen, tied: ops.logical_and(
                    ops.any(start <= chosen), ops.logical_not(tied)
                ),
                lambda *walk: scan_window(*walk, ops.arange(HARD_WINDOW, dtype="int32")),
                walk,
            )
            _, chosen, tied = walk
        else:  # eagerly: a window, then one look at the flags; each window twice as long
            size = HARD_WINDOW
            while True:
                walk = scan_window(*walk, ops.arange(size, dtype="int32"))
                flags = ops.stack([ops.any(walk[0] <= walk[1]), walk[2]])
                walking, tied = (bool(flag) for flag in ops.convert_to_numpy(flags))
                if tied or not walking:
                    break
                size = min(2 * size, LONGEST_WINDOW)
            chosen = walk[1]

        def over_source():
            return self._step_over_source(query, value, key, previous_alignment, value_mask, "hard")

        def walked():
            alignment = ops.one_hot(chosen[:, 0], steps, dtype=self.compute_dtype)  # −1: zeros
            # v_j itself, which is what the one-hot row times the values gives (for finite v).
            flat_value = ops.reshape(value, (-1, ops.shape(value)[-1]))
            context = ops.take(flat_value, (row_start + ops.maximum(chosen, 0))[:, 0], axis=0)
            return ops.where(chosen >= 0, context, ops.zeros_like(context)), alignment

        if _traced(key):
            return ops.cond(tied, over_source, walked)
        return over_source() if tied else walked()

    def get_config(self):
        return {
            **super().get_config(),
            "mode": self.mode,
            "threshold": self.threshold,
            "init_bias": self.init_bias,
            "online": self.online,
        }
