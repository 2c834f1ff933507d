"""What every attention layer of the course shares: masked softmax and input checks.

Kept in one place so that the guarantees every layer keeps (exact zeros on padding, a
fully masked row gives zeros and never NaN, huge logits stay finite, mixed precision
works) are implemented once.
"""

import keras
from keras import ops


def _large_negative(dtype):
    # A finite stand-in for -inf: -inf would turn a fully masked row into NaN
    # (max = -inf, then -inf - -inf), and NaN poisons the gradient even where masked.
    return -65000.0 if dtype == "float16" else -1e9


def masked_softmax(scores, mask=None, axis=-1):
    """Softmax over ``axis`` that gives exact zeros where ``mask`` is False.

    The softmax runs in float32 whatever the compute dtype (float16 logits of 1e4
    would otherwise lose the max-subtraction's precision), and the result is cast
    back. A row whose mask is all False comes out as zeros.

    Args:
        scores: logits, any float dtype.
        mask: ``None`` or booleans broadcastable to ``scores`` (True = attend).
        axis: the axis to normalise over.

    Returns:
        Weights of the dtype of ``scores``.
    """
    compute_dtype = keras.backend.standardize_dtype(scores.dtype)
    logits = ops.cast(scores, "float32")
    if mask is None:
        return ops.cast(ops.softmax(logits, axis=axis), compute_dtype)
    mask = ops.cast(mask, "bool")
    logits = ops.where(mask, logits, _large_negative("float32"))
    weights = ops.softmax(logits, axis=axis)
    weights = ops.where(mask, weights, ops.zeros_like(weights))
    return ops.cast(weights, compute_dtype)


def _shape_text(shape):
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


def check_rank(name, shape, rank, layer):
    """Raise a ValueError unless ``shape`` has ``rank`` dimensions."""
    if len(shape) != rank:
        expected = "(batch, steps, features)" if rank == 3 else f"{rank} dimensions"
        raise ValueError(
            f"{layer}: {name} must have rank {rank}, expected {expected}, "
            f"received shape {_shape_text(shape)}"
        )


def sequence_depth(input_shape, layer):
    """The feature depth of ``(batch, steps, features)`` inputs, which weights are built for.

    Raises:
        ValueError: the inputs are not of rank 3, or their last axis is unknown.
    """
    check_rank("inputs", input_shape, 3, layer)
    depth = input_shape[-1]
    if depth is None:
        raise ValueError(
            f"{layer}: the feature depth (last axis) of the inputs must be known, "
            f"received shape {_shape_text(input_shape)}"
        )
    return depth


def split_cross_inputs(inputs, layer):
    """Split ``[query, value]`` or ``[query, value, key]``; key defaults to value.

    Raises:
        ValueError: not a list of 2 or 3 tensors.
    """
    if not isinstance(inputs, (list, tuple)) or len(inputs) not in (2, 3):
        received = f"a list of {len(inputs)}" if isinstance(inputs, (list, tuple)) else type(inputs).__name__
        raise ValueError(
            f"{layer}: expected inputs [query, value] or [query, value, key], received {received}"
        )
    query, value = inputs[0], inputs[1]
    key = inputs[2] if len(inputs) == 3 else value
    return query, value, key


def check_cross_shapes(query_shape, value_shape, key_shape, layer):
    """Validate the shapes of a cross-attention call (rank 3, matching batch and Tv)."""
    check_rank("query", query_shape, 3, layer)
    check_rank("value", value_shape, 3, layer)
    check_rank("key", key_shape, 3, layer)
    if key_shape[1] is not None and value_shape[1] is not None and key_shape[1] != value_shape[1]:
        raise ValueError(
            f"{layer}: key and value must have the same number of steps, "
            f"received key {_shape_text(key_shape)} and value {_shape_text(value_shape)}"
        )
    batches = {s[0] for s in (query_shape, value_shape, key_shape) if s[0] is not None}
    if len(batches) > 1:
        raise ValueError(
            f"{layer}: query, value and key must share the batch size, received "
            f"query {_shape_text(query_shape)}, value {_shape_text(value_shape)}, key {_shape_text(key_shape)}"
        )


def split_cross_masks(mask, layer):
    """Return ``(query_mask, value_mask)`` from ``None`` or ``[query_mask, value_mask(, key_mask)]``."""
    if mask is None:
        return None, None
    if not isinstance(mask, (list, tuple)) or len(mask) not in (2, 3):
        raise ValueError(
            f"{layer}: expected mask=[query_mask, value_mask], received {type(mask).__name__}"
            + (f" of length {len(mask)}" if isinstance(mask, (list, tuple)) else "")
        )
    return mask[0], mask[1]


def check_option(name, value, allowed, layer):
    """Raise a ValueError unless ``value`` is one of ``allowed``."""
    if value not in allowed:
        raise ValueError(
            f"{layer}: unknown {name} {value!r}; expected one of {', '.join(map(repr, allowed))}"
        )


def check_step_mask(mask, inputs, layer):
    """Raise a ValueError unless ``mask`` is None or shaped ``inputs.shape[:2]`` (batch, T).

    Shared by the layers that attend over one sequence (pooling and key-value).
    """
    if mask is None:
        return
    expected, received = tuple(inputs.shape[:2]), tuple(mask.shape)
    if len(received) != 2 or any(
        e is not None and r is not None and e != r for e, r in zip(expected, received)
    ):
        raise ValueError(
            f"{layer}: mask must have shape (batch, steps) = {expected} like the inputs, "
            f"received shape {received}"
        )
