"""The attention arithmetic in plain NumPy: the readable math the course checks against.

Every score and weighting function of the course has a version here, written for
reading rather than speed (some use explicit loops on purpose). The Keras layers in
:mod:`attncourse.layers` and the exercise checkers in :mod:`attncourse.exercises` are
tested against these functions.

Conventions (see ``book/notation.md``):

- Queries ``q_i`` (i over ``T_q``), keys ``k_j`` and values ``v_j`` (j over ``T_v``),
  mask ``m_j`` (True = a real token, False = padding).
- Leading batch dimensions, written ``...``, broadcast like NumPy's ``matmul``.
- Row vectors: ``x @ W`` with ``W`` of shape ``(d_in, d_out)`` implements the
  equations' ``W x``. The stored matrix is the transpose of the equation's matrix; the
  Keras layers store their kernels in exactly these layouts.
- Positions are 0-based in code: ``j = 0 … T_v - 1`` (the book's equations count from 1).
- Everything is computed in float64, so the reference is more precise than any layer.

Every function checks its inputs and raises a ``ValueError`` that says what shape (or
value) it expected and what it received.
"""

import numpy as np

__all__ = [
    "masked_softmax",
    "additive_score",
    "dot_score",
    "scaled_dot_score",
    "general_score",
    "concat_score",
    "location_score",
    "context",
    "gaussian_window",
    "local_window_mask",
    "predictive_centers",
    "local_attention_weights",
    "monotonic_expected_alignment",
    "hard_monotonic_alignment",
    "context_attention_weights",
    "self_attentive_weights",
    "hop_penalty",
    "key_value_split",
    "key_value_attention",
]

KEY_VALUE_MODES = ("attention", "key_value", "key_value_predict")


# --------------------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------------------


def _float_array(name, value, min_ndim=0, expected="an array"):
    """``value`` as a float64 array with at least ``min_ndim`` dimensions."""
    array = np.asarray(value)
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise ValueError(f"{name}: expected numbers, received dtype {array.dtype}")
    if array.ndim < min_ndim:
        raise ValueError(
            f"{name}: expected shape {expected} (at least {min_ndim} dimensions), "
            f"received shape {array.shape}"
        )
    return array.astype(np.float64)


def _matrix(name, value, rows, columns, rows_name, columns_name):
    """A 2-D weight matrix of shape ``(rows, columns)``; ``None`` accepts any size."""
    matrix = _float_array(name, value)
    expected_rows = rows_name if rows is None else f"{rows_name}={rows}"
    expected_columns = columns_name if columns is None else f"{columns_name}={columns}"
    if (
        matrix.ndim != 2
        or (rows is not None and matrix.shape[0] != rows)
        or (columns is not None and matrix.shape[1] != columns)
    ):
        raise ValueError(
            f"{name}: expected shape ({expected_rows}, {expected_columns}), "
            f"received shape {matrix.shape}"
        )
    return matrix


def _vector(name, value, size, size_name):
    """A 1-D weight vector of length ``size``."""
    vector = _float_array(name, value)
    if vector.shape != (size,):
        raise ValueError(
            f"{name}: expected shape ({size_name}={size},), received shape {vector.shape}"
        )
    return vector


def _broadcast(what, **shapes):
    """The broadcast of several shapes, or a ValueError naming them all."""
    try:
        return tuple(np.broadcast_shapes(*shapes.values()))
    except ValueError:
        listed = ", ".join(f"{name} {shape}" for name, shape in shapes.items())
        raise ValueError(f"{what}: expected shapes that broadcast together, received {listed}") from None


def _mask(mask, shape, expected="broadcastable to the scores"):
    """A boolean array of exactly ``shape``; all True when ``mask`` is None."""
    if mask is None:
        return np.ones(shape, dtype=bool)
    mask = np.asarray(mask)
    try:
        broadcast = np.broadcast_shapes(mask.shape, shape)
    except ValueError:
        broadcast = None
    if broadcast != tuple(shape):
        raise ValueError(
            f"mask: expected a shape {expected} {tuple(shape)}, received shape {mask.shape}"
        )
    return np.broadcast_to(mask.astype(bool), shape)


def _query_and_keys(query, keys):
    query = _float_array("query", query, 2, "(..., T_q, d_q)")
    keys = _float_array("keys", keys, 2, "(..., T_v, d_k)")
    _broadcast("batch dimensions of query and keys", query=query.shape[:-2], keys=keys.shape[:-2])
    return query, keys


def _window(window, allow_zero):
    """The half-width D of a local window as a float."""
    expected = "a number >= 0" if allow_zero else "a number > 0 (sigma = window / 2)"
    array = np.asarray(window)
    if array.ndim != 0 or not np.issubdtype(array.dtype, np.number):
        raise ValueError(f"window: expected {expected}, received {window!r}")
    value = float(array)
    if not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"window: expected {expected}, received {window!r}")
    return value


def _sigmoid(x):
    # exp(-log(1 + exp(-x))) never overflows, whatever the sign of x.
    return np.exp(-np.logaddexp(0.0, -x))


def _transpose(x):
    """Swap the last two axes (the key matrix K becomes K^T)."""
    return np.swapaxes(x, -1, -2)


# --------------------------------------------------------------------------------------
# Softmax and the score functions
# --------------------------------------------------------------------------------------


def masked_softmax(scores, mask=None, axis=-1):
    """Softmax that gives exact zeros on masked positions.

    α_ij = m_j exp(e_ij − M_i) / Σ_j' m_j' exp(e_ij' − M_i), with M_i the largest
    *unmasked* score of the row. Subtracting M_i changes nothing mathematically but
    keeps ``exp`` finite for logits such as 1e4. A row with no unmasked position has no
    distribution to give: it comes out as zeros, never NaN.

    Args:
        scores: scores e of any shape.
        mask: ``None`` or booleans broadcastable to ``scores`` (True = attend).
        axis: the axis to normalise over.

    Returns:
        Weights of the shape of ``scores``: non-negative, exactly 0 where masked,
        summing to 1 along ``axis`` (or all 0 on a fully masked row).
    """
    scores = _float_array("scores", scores, 1, "(..., T_v)")
    if not -scores.ndim <= axis < scores.ndim:
        raise ValueError(
            f"axis: expected an axis of scores with shape {scores.shape} "
            f"(from {-scores.ndim} to {scores.ndim - 1}), received {axis}"
        )
    allowed = _mask(mask, scores.shape)
    logits = np.where(allowed, scores, -np.inf)
    row_max = np.max(logits, axis=axis, keepdims=True)
    # A fully masked row has max -inf; shifting by it would give -inf - -inf = NaN.
    row_max = np.where(np.isfinite(row_max), row_max, 0.0)
    exponentials = np.exp(logits - row_max)  # exp(-inf) = 0: masked entries vanish exactly
    totals = exponentials.sum(axis=axis, keepdims=True)
    return np.divide(exponentials, totals, out=np.zeros_like(exponentials), where=totals > 0)


def additive_score(query, keys, W_q, W_k, w):
    """Additive (Bahdanau) score: e_ij = w^T tanh(W_q q_i + W_k k_j).

    In code the projections are ``q_i @ W_q`` and ``k_j @ W_k`` (row vectors).

    Args:
        query: (..., T_q, d_q).
        keys: (..., T_v, d_k).
        W_q: (d_q, u).
        W_k: (d_k, u).
        w: (u,).

    Returns:
        Scores (..., T_q, T_v).
    """
    query, keys = _query_and_keys(query, keys)
    W_q = _matrix("W_q", W_q, query.shape[-1], None, "d_q", "u")
    units = W_q.shape[1]
    W_k = _matrix("W_k", W_k, keys.shape[-1], units, "d_k", "u")
    w = _vector("w", w, units, "u")
    projected_queries = query @ W_q  # (..., T_q, u)
    projected_keys = keys @ W_k  # (..., T_v, u)
    # Every (i, j) pair: (..., T_q, 1, u) + (..., 1, T_v, u) -> (..., T_q, T_v, u).
    hidden = np.tanh(projected_queries[..., :, None, :] + projected_keys[..., None, :, :])
    return hidden @ w


def dot_score(query, keys):
    """Dot-product (Luong "dot") score: e_ij = q_i^T k_j.

    Args:
        query: (..., T_q, d).
        keys: (..., T_v, d), the same depth d as the query.

    Returns:
        Scores (..., T_q, T_v).
    """
    query, keys = _query_and_keys(query, keys)
    if query.shape[-1] != keys.shape[-1]:
        raise ValueError(
            f"dot_score: expected query and keys of the same depth, received query "
            f"{query.shape} (d_q={query.shape[-1]}) and keys {keys.shape} (d_k={keys.shape[-1]})"
        )
    return query @ _transpose(keys)


def scaled_dot_score(query, keys):
    """Scaled dot-product (Vaswani) score: e_ij = q_i^T k_j / sqrt(d_k).

    With entries of unit variance, q^T k has variance d_k; dividing by sqrt(d_k) brings
    it back to 1 so the softmax does not saturate at large depths.

    Args:
        query: (..., T_q, d).
        keys: (..., T_v, d).

    Returns:
        Scores (..., T_q, T_v).
    """
    scores = dot_score(query, keys)
    depth = np.shape(keys)[-1]
    return scores / np.sqrt(depth)


def general_score(query, keys, W):
    """Bilinear (Luong "general") score: e_ij = q_i^T W_a k_j.

    In code ``q_i @ W @ k_j`` with ``W`` of shape (d_q, d_k).

    Args:
        query: (..., T_q, d_q).
        keys: (..., T_v, d_k).
        W: (d_q, d_k).

    Returns:
        Scores (..., T_q, T_v).
    """
    query, keys = _query_and_keys(query, keys)
    W = _matrix("W", W, query.shape[-1], keys.shape[-1], "d_q", "d_k")
    return query @ W @ _transpose(keys)


def concat_score(query, keys, W, w):
    """Concat (Luong "concat") score: e_ij = w_a^T tanh(W_a [q_i; k_j]).

    In code ``[q_i; k_j] @ W``: the first d_q rows of ``W`` act on the query and the
    last d_k rows on the key, so this equals the additive score with
    ``W_q = W[:d_q]`` and ``W_k = W[d_q:]``.

    Args:
        query: (..., T_q, d_q).
        keys: (..., T_v, d_k).
        W: (d_q + d_k, u).
        w: (u,).

    Returns:
        Scores (..., T_q, T_v).
    """
    query, keys = _query_and_keys(query, keys)
    (steps_q, depth_q), (steps_v, depth_k) = query.shape[-2:], keys.shape[-2:]
    W = _matrix("W", W, depth_q + depth_k, None, "d_q + d_k", "u")
    w = _vector("w", w, W.shape[1], "u")
    batch = np.broadcast_shapes(query.shape[:-2], keys.shape[:-2])
    # Build every pair [q_i; k_j] explicitly: (..., T_q, T_v, d_q + d_k).
    queries = np.broadcast_to(query[..., :, None, :], batch + (steps_q, steps_v, depth_q))
    keys_ = np.broadcast_to(keys[..., None, :, :], batch + (steps_q, steps_v, depth_k))
    pairs = np.concatenate([queries, keys_], axis=-1)
    return np.tanh(pairs @ W) @ w


def location_score(query, W):
    """Luong's location score: e_i = W_a q_i, one logit per source position.

    The keys are not read: the query alone says where to look. In code ``q_i @ W`` with
    ``W`` of shape (d_q, L), L the number of source positions the score knows; with a
    source of T_v ≤ L positions, use the first T_v columns.

    Args:
        query: (..., T_q, d_q).
        W: (d_q, L).

    Returns:
        Scores (..., T_q, L).
    """
    query = _float_array("query", query, 2, "(..., T_q, d_q)")
    W = _matrix("W", W, query.shape[-1], None, "d_q", "L")
    return query @ W


def context(weights, values):
    """Context vectors: c_i = Σ_j α_ij v_j.

    Args:
        weights: (..., T_q, T_v).
        values: (..., T_v, d_v).

    Returns:
        Context (..., T_q, d_v).
    """
    weights = _float_array("weights", weights, 2, "(..., T_q, T_v)")
    values = _float_array("values", values, 2, "(..., T_v, d_v)")
    if weights.shape[-1] != values.shape[-2]:
        raise ValueError(
            f"context: expected weights (..., T_q, T_v) and values (..., T_v, d_v) with the same "
            f"T_v, received weights {weights.shape} and values {values.shape}"
        )
    _broadcast("batch dimensions of weights and values", weights=weights.shape[:-2], values=values.shape[:-2])
    return weights @ values


# --------------------------------------------------------------------------------------
# Local attention (Luong 2015)
# --------------------------------------------------------------------------------------


def _distances(centers, source_positions):
    centers = _float_array("centers", centers, 1, "(..., T_q)")
    positions = _float_array("source_positions", source_positions, 1, "(T_v,)")
    if positions.ndim != 1:
        raise ValueError(f"source_positions: expected shape (T_v,), received shape {positions.shape}")
    return positions - centers[..., None]  # j - p_i, shape (..., T_q, T_v)


def gaussian_window(centers, source_positions, window):
    """Luong's Gaussian factor: exp(−(j − p_i)^2 / (2σ^2)) with σ = D / 2.

    Args:
        centers: window centres p_i, (..., T_q) (they need not be integers).
        source_positions: the positions j, (T_v,) (usually ``np.arange(T_v)``).
        window: the half-width D > 0 of the window.

    Returns:
        Factors in (0, 1], (..., T_q, T_v); 1 at the centre.
    """
    sigma = _window(window, allow_zero=False) / 2.0
    distance = _distances(centers, source_positions)
    return np.exp(-(distance**2) / (2.0 * sigma**2))


def local_window_mask(centers, source_positions, window):
    """The positions a local attention may look at: |j − p_i| ≤ D.

    Args:
        centers: window centres p_i, (..., T_q).
        source_positions: the positions j, (T_v,).
        window: the half-width D ≥ 0.

    Returns:
        Booleans (..., T_q, T_v), True inside the window.
    """
    window = _window(window, allow_zero=True)
    return np.abs(_distances(centers, source_positions)) <= window


def predictive_centers(query, W_p, w_p, source_length):
    """Local-p centres: p_i = S · sigmoid(w_p^T tanh(W_p q_i)).

    S is the unpadded source length, so a centre never lands on padding: p_i ∈ (0, S).

    Args:
        query: (..., T_q, d_q).
        W_p: (d_q, u).
        w_p: (u,).
        source_length: S, a scalar or one length per example, shape (...,).

    Returns:
        Centres (..., T_q), real numbers (not rounded).
    """
    query = _float_array("query", query, 2, "(..., T_q, d_q)")
    W_p = _matrix("W_p", W_p, query.shape[-1], None, "d_q", "u")
    w_p = _vector("w_p", w_p, W_p.shape[1], "u")
    lengths = _float_array("source_length", source_length)
    if np.any(lengths < 0):
        raise ValueError(f"source_length: expected lengths >= 0, received {lengths}")
    _broadcast(
        "predictive_centers (source_length is one length per example)",
        source_length=lengths.shape,
        query_batch=query.shape[:-2],
    )
    fractions = _sigmoid(np.tanh(query @ W_p) @ w_p)  # (..., T_q), in (0, 1)
    return lengths[..., None] * fractions


def local_attention_weights(scores, centers, window, mask=None, gaussian=True, normalize=True):
    """The course's local attention: a softmax limited to a window around p_i.

    α_ij = m_ij [|j − p_i| ≤ D] exp(e_ij − (j − p_i)^2 / (2σ^2)) / (same, summed over j),
    σ = D / 2, positions j = 0 … T_v − 1.

    Adding −(j − p_i)^2 / (2σ^2) to the score multiplies the weights by the Gaussian
    factor before normalising. Luong et al. (2015) instead multiply an already
    normalised softmax by the Gaussian and do not renormalise, so their weights sum to
    less than 1 and the context vector shrinks by a factor that depends on where p_i
    falls. The course renormalises so that local weights are a distribution like every
    other attention in the book (weights sum to 1, alignment plots and alignment errors
    are comparable across mechanisms). Inside the window the two differ only by one
    constant per row; renormalising also makes it irrelevant whether the softmax was
    taken over the window or over the whole sentence.

    Args:
        scores: e, (..., T_q, T_v).
        centers: p_i, (..., T_q). ``None`` means local-m, p_i = i.
        window: the half-width D (> 0 with the Gaussian; ≥ 0 without).
        mask: ``None`` or booleans broadcastable to the scores, e.g. a source padding
            mask of shape (..., 1, T_v).
        gaussian: True for local-p (Gaussian factor); False for local-m (a plain
            softmax over the window).
        normalize: True (the course): renormalise after the Gaussian. False (Luong et
            al.): the softmax over the window times the Gaussian, as it is.

    Returns:
        Weights (..., T_q, T_v): zero outside the window and the mask, summing to 1 over
        the rest (a row with nothing left is all zeros); with ``gaussian=True`` and
        ``normalize=False`` the rows sum to less than 1.
    """
    scores = _float_array("scores", scores, 2, "(..., T_q, T_v)")
    steps_q, steps_v = scores.shape[-2:]
    if centers is None:
        centers = np.arange(steps_q)  # local-m: the target position itself
    centers = _float_array("centers", centers, 1, "(..., T_q)")
    if centers.shape[-1] != steps_q:
        raise ValueError(
            f"centers: expected shape (..., T_q={steps_q}) to match scores {scores.shape}, "
            f"received shape {centers.shape}"
        )
    window = _window(window, allow_zero=not gaussian)
    positions = np.arange(steps_v)
    shape = _broadcast("local_attention_weights", scores=scores.shape, centers=centers.shape + (steps_v,))
    distance = np.broadcast_to(positions - centers[..., None], shape)
    logits = np.broadcast_to(scores, shape)
    allowed = (np.abs(distance) <= window) & _mask(mask, shape)
    if not gaussian:
        return masked_softmax(logits, allowed)
    sigma = window / 2.0
    log_gaussian = -(distance**2) / (2.0 * sigma**2)
    if not normalize:
        return masked_softmax(logits, allowed) * np.exp(log_gaussian)
    return masked_softmax(logits + log_gaussian, allowed)


# --------------------------------------------------------------------------------------
# Monotonic attention (Raffel 2017)
# --------------------------------------------------------------------------------------


def _probabilities(p_choose):
    p_choose = _float_array("p_choose", p_choose, 2, "(..., T_q, T_v)")
    outside = p_choose[~((p_choose >= 0) & (p_choose <= 1))]  # NaN is outside too
    if outside.size:
        raise ValueError(
            f"p_choose: expected probabilities in [0, 1], received {outside.size} values "
            f"outside, e.g. {outside[0]}"
        )
    return p_choose


def _last_true(allowed):
    """Index of the last True along the last axis (0 where there is none)."""
    steps = allowed.shape[-1]
    return steps - 1 - np.argmax(allowed[..., ::-1], axis=-1)


def monotonic_expected_alignment(p_choose, mask=None):
    """Raffel et al.'s expected monotonic alignment, one output step after another.

    At output step i the attention starts where step i − 1 stopped and walks right,
    stopping at j with probability p_ij. The probability that it stops at j is

        α_ij = p_ij Σ_{k ≤ j} α_{i−1,k} Π_{l=k}^{j−1} (1 − p_il),

    the mass that stopped at k last time and then passed k … j − 1 without stopping.
    α_0 is one-hot on position 0: attention starts at the first source word.

    The course's choice for the end of the sentence: the mass that walks past the last
    position without stopping, 1 − Σ_j α_ij, is added to the last position (the last
    unmasked one when ``mask`` is given). Raffel et al. let that mass vanish (the
    context becomes zero), so rows sum to less than 1; keeping it makes every row a
    distribution like the rest of the book's attention, and matches hard decoding,
    which attends to the last word when nothing is chosen. This completed row is the
    α_{i−1} of the next step.

    Masked positions are never chosen (p is taken as 0 there, so mass walks over them).
    A fully masked row gives zeros, and the next step starts from the last row that was
    not fully masked.

    Args:
        p_choose: stopping probabilities p_ij = sigmoid(e_ij), (..., T_q, T_v), in [0, 1].
        mask: ``None`` or booleans broadcastable to ``p_choose``, e.g. a source padding
            mask of shape (..., 1, T_v).

    Returns:
        Expected alignment (..., T_q, T_v); each row sums to 1 (0 if fully masked).
    """
    p_choose = _probabilities(p_choose)
    allowed = _mask(mask, p_choose.shape, "broadcastable to p_choose")
    p = np.where(allowed, p_choose, 0.0)
    batch, (steps_q, steps_v) = p.shape[:-2], p.shape[-2:]

    alignment = np.zeros(p.shape)
    previous = np.zeros(batch + (steps_v,))
    previous[..., 0] = 1.0  # α_0: the attention starts on the first source position
    for i in range(steps_q):
        row = np.zeros(batch + (steps_v,))
        for j in range(steps_v):
            arriving = np.zeros(batch)
            for k in range(j + 1):
                # Stopped at k last step, then did not stop at k, k+1, …, j−1 this step.
                passed_without_stopping = np.prod(1.0 - p[..., i, k:j], axis=-1)
                arriving = arriving + previous[..., k] * passed_without_stopping
            row[..., j] = p[..., i, j] * arriving
        leftover = np.clip(1.0 - row.sum(axis=-1), 0.0, None)  # walked past the end
        is_last = np.arange(steps_v) == _last_true(allowed[..., i, :])[..., None]
        row = row + leftover[..., None] * is_last
        has_any = allowed[..., i, :].any(axis=-1)
        alignment[..., i, :] = np.where(has_any[..., None], row, 0.0)
        previous = np.where(has_any[..., None], row, previous)
    return alignment


def hard_monotonic_alignment(p_choose, mask=None, threshold=0.5):
    """Test-time hard monotonic attention: one-hot rows that never move left.

    For each output step, start at the position chosen at the previous step (position
    0 at the first step) and move right until p_ij ≥ ``threshold``; attend there. If no
    position is chosen before the end, attend the last unmasked position, as the
    expected alignment does with the mass that passes the end. Masked positions are
    never chosen; a fully masked row is all zeros.

    Args:
        p_choose: stopping probabilities, (..., T_q, T_v), in [0, 1].
        mask: ``None`` or booleans broadcastable to ``p_choose``.
        threshold: the probability at which the walk stops, in [0, 1].

    Returns:
        One-hot alignment (..., T_q, T_v) (zero rows where fully masked).
    """
    p_choose = _probabilities(p_choose)
    threshold = float(threshold)
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold: expected a probability in [0, 1], received {threshold}")
    allowed = _mask(mask, p_choose.shape, "broadcastable to p_choose")
    steps_q, steps_v = p_choose.shape[-2:]
    # One sequence at a time keeps the walk readable.
    flat_p = p_choose.reshape((-1, steps_q, steps_v))
    flat_allowed = allowed.reshape((-1, steps_q, steps_v))
    alignment = np.zeros(flat_p.shape)
    for sequence in range(flat_p.shape[0]):
        position = 0
        for i in range(steps_q):
            valid = np.flatnonzero(flat_allowed[sequence, i])
            if valid.size == 0:
                continue
            chosen = valid[-1]  # nothing chosen before the end: stay on the last word
            for j in range(position, steps_v):
                if flat_allowed[sequence, i, j] and flat_p[sequence, i, j] >= threshold:
                    chosen = j
                    break
            alignment[sequence, i, chosen] = 1.0
            position = chosen
    return alignment.reshape(p_choose.shape)


# --------------------------------------------------------------------------------------
# Pooling attention over one sequence (Yang 2016, Lin 2017)
# --------------------------------------------------------------------------------------


def context_attention_weights(h, W, b, u_w, mask=None):
    """HAN's attention with a context vector (Yang et al. 2016).

    u_t = tanh(W h_t + b),  α_t = softmax_t(u_t^T u_w). In code ``h_t @ W + b``.

    Args:
        h: the sequence, (..., T, d).
        W: (d, u).
        b: (u,).
        u_w: the learned context vector, (u,).
        mask: ``None`` or booleans broadcastable to (..., T).

    Returns:
        Weights (..., T), summing to 1 over unmasked steps. The pooled vector is
        s = Σ_t α_t h_t, i.e. ``(weights[..., None] * h).sum(-2)``.
    """
    h = _float_array("h", h, 2, "(..., T, d)")
    W = _matrix("W", W, h.shape[-1], None, "d", "u")
    b = _vector("b", b, W.shape[1], "u")
    u_w = _vector("u_w", u_w, W.shape[1], "u")
    hidden = np.tanh(h @ W + b)  # u_t, (..., T, u)
    scores = hidden @ u_w  # (..., T)
    return masked_softmax(scores, _mask(mask, scores.shape, "broadcastable to (..., T)"))


def self_attentive_weights(h, W_s1, W_s2, mask=None):
    """Lin et al.'s structured self-attention: A = softmax(W_s2 tanh(W_s1 H^T)).

    In code ``tanh(h @ W_s1) @ W_s2`` gives (..., T, r); transposed, each of the r rows
    (hops) is a softmax over the T steps. The sentence embedding is M = A H.

    Args:
        h: H, (..., T, d).
        W_s1: (d, u).
        W_s2: (u, r).
        mask: ``None`` or booleans broadcastable to (..., T).

    Returns:
        A, (..., r, T); each row sums to 1 over unmasked steps.
    """
    h = _float_array("h", h, 2, "(..., T, d)")
    W_s1 = _matrix("W_s1", W_s1, h.shape[-1], None, "d", "u")
    W_s2 = _matrix("W_s2", W_s2, W_s1.shape[1], None, "u", "r")
    scores = _transpose(np.tanh(h @ W_s1) @ W_s2)  # (..., r, T)
    steps_mask = _mask(mask, h.shape[:-1], "broadcastable to (..., T)")
    return masked_softmax(scores, np.broadcast_to(steps_mask[..., None, :], scores.shape))


def hop_penalty(A):
    """Lin et al.'s penalty P = ||A A^T − I||_F^2, per example.

    It is 0 when the r hops are one-hot on different steps, and grows when hops overlap
    (off-diagonal terms) or spread out (diagonal terms below 1).

    Args:
        A: attention of the hops, (..., r, T).

    Returns:
        Penalty (...,).
    """
    A = _float_array("A", A, 2, "(..., r, T)")
    hops = A.shape[-2]
    difference = A @ _transpose(A) - np.eye(hops)
    return np.sum(difference**2, axis=(-2, -1))


# --------------------------------------------------------------------------------------
# Key-value attention (Daniluk 2017)
# --------------------------------------------------------------------------------------


def key_value_split(h, mode):
    """Split each output vector h_t into the parts Daniluk et al. use.

    - ``"attention"``: one vector does everything, k_t = v_t = p_t = h_t.
    - ``"key_value"``: h_t = [k_t; v_t]; the value also predicts, p_t = v_t.
    - ``"key_value_predict"``: h_t = [k_t; v_t; p_t].

    Args:
        h: (..., d).
        mode: one of ``"attention"``, ``"key_value"``, ``"key_value_predict"``.

    Returns:
        ``(keys, values, predict)``, each (..., d), (..., d/2) or (..., d/3).
    """
    if mode not in KEY_VALUE_MODES:
        raise ValueError(f"mode: expected one of {', '.join(map(repr, KEY_VALUE_MODES))}, received {mode!r}")
    h = _float_array("h", h, 1, "(..., d)")
    if mode == "attention":
        return h, h, h
    parts = 2 if mode == "key_value" else 3
    depth = h.shape[-1]
    if depth % parts:
        raise ValueError(
            f"h: mode {mode!r} splits the last dimension into {parts} equal parts, expected d "
            f"divisible by {parts}, received d={depth} (shape {h.shape})"
        )
    pieces = np.split(h, parts, axis=-1)
    if mode == "key_value":
        keys, values = pieces
        return keys, values, values
    return tuple(pieces)


def key_value_attention(h, W_k, W_q, w, window, mode="attention", mask=None):
    """Daniluk et al.'s short-span attention of a language model over its own past.

    For each step t, with keys k and values v from :func:`key_value_split`:

        e_tj = w^T tanh(W^k k_j + W^q k_t),   j = t − L … t − 1 (only j ≥ 0),
        α_t = softmax_j(e_tj),   r_t = Σ_j α_tj v_j.

    Strictly causal: a step never looks at itself or the future, only at the previous
    L = ``window`` steps. Step 0 has no past: zero weights and a zero context.
    In code ``k_j @ W_k + k_t @ W_q``.

    Args:
        h: the outputs of the recurrent network, (T, d) or (..., T, d).
        W_k: (d_k, d_k).
        W_q: (d_k, d_k).
        w: (d_k,).
        window: L ≥ 1, how many previous steps are attended.
        mode: ``"attention"``, ``"key_value"`` or ``"key_value_predict"``.
        mask: ``None`` or booleans broadcastable to (..., T); masked steps are never
            attended.

    Returns:
        ``(context, weights)``: context r, (..., T, d_v), and weights (..., T, T) where
        ``weights[..., t, j]`` is nonzero only for t − L ≤ j < t.
    """
    h = _float_array("h", h, 2, "(..., T, d)")
    keys, values, _ = key_value_split(h, mode)
    depth_k = keys.shape[-1]
    W_k = _matrix("W_k", W_k, depth_k, depth_k, "d_k", "d_k")
    W_q = _matrix("W_q", W_q, depth_k, depth_k, "d_k", "d_k")
    w = _vector("w", w, depth_k, "d_k")
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 1:
        raise ValueError(f"window: expected an integer number of steps >= 1, received {window!r}")
    steps = h.shape[-2]
    allowed = _mask(mask, h.shape[:-1], "broadcastable to (..., T)")

    weights = np.zeros(h.shape[:-2] + (steps, steps))
    for t in range(1, steps):
        start = max(0, t - window)
        past_keys = keys[..., start:t, :]  # k_{t−L} … k_{t−1}, (..., n, d_k)
        query = keys[..., t, :] @ W_q  # (..., d_k)
        scores = np.tanh(past_keys @ W_k + query[..., None, :]) @ w  # (..., n)
        weights[..., t, start:t] = masked_softmax(scores, allowed[..., start:t])
    return weights @ values, weights
