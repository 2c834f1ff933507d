"""The promises every attention layer of `attncourse.layers` makes, checked on each one.

The calling convention (one tensor for a pooling, ``[query, value]`` for a cross attention;
``return_attention_scores``), masks (weights are a distribution over the real positions,
exactly zero on padding; appended padding changes nothing; a fully masked row gives finite
zeros and finite gradients), numerics (huge logits, mixed float16), serialisation (config
round trip, a saved model reloads without custom objects) and clear errors for wrong inputs
and options. Each layer module declares its configurations as ``CASES`` (see
tests/layer_harness.py); every test below runs on every case. The tests use ``keras.ops`` and
NumPy only, so the same file runs on the TensorFlow, JAX and PyTorch backends
(`make test-backends`).
"""

import numpy as np
import pytest

import keras
from keras import ops

from tests.layer_cases_cross import CASES as CROSS_CASES
from tests.layer_cases_pooling import CASES as POOLING_CASES
from tests.layer_harness import gradients

CASES = list(CROSS_CASES) + list(POOLING_CASES)
IDS = [case.id for case in CASES]

BATCH, T_Q, T_V = 3, 4, 6
# Real lengths per example: the second is short, the third has no real token at all
# (a fully masked row), which must give zeros and never NaN.
QUERY_LENGTHS = np.array([4, 2, 3])
VALUE_LENGTHS = np.array([6, 3, 0])


def lengths_mask(lengths, steps):
    return np.arange(steps)[None, :] < np.asarray(lengths)[:, None]


def make_inputs(case, rng, scale=1.0, extra_padding=0):
    """Random inputs, masks and the values the weights average, for one case.

    ``extra_padding`` appends that many masked steps (of random junk, which must be
    ignored) to the attended sequence.
    """
    d = case.depth
    t_v = T_V + extra_padding
    value_mask = lengths_mask(VALUE_LENGTHS, t_v)
    value = (scale * rng.normal(size=(BATCH, t_v, d))).astype("float32")
    if case.kind == "cross":
        query = (scale * rng.normal(size=(BATCH, T_Q, d))).astype("float32")
        query_mask = lengths_mask(QUERY_LENGTHS, T_Q)
        return dict(inputs=[query, value], mask=[query_mask, value_mask], query_mask=query_mask,
                    value_mask=value_mask, values=value)
    values = case.values(value) if case.kind == "causal" else value
    return dict(inputs=value, mask=value_mask, query_mask=None, value_mask=value_mask,
                values=np.asarray(values))


def run(layer, data, **kwargs):
    context, weights = layer(data["inputs"], mask=data["mask"], return_attention_scores=True, **kwargs)
    return ops.convert_to_numpy(context), ops.convert_to_numpy(weights)


def attended_mask(case, data, weights_shape):
    """Boolean array, shaped like the weights, of the positions allowed to get weight."""
    value_mask = data["value_mask"]
    if case.kind == "cross":
        allowed = value_mask[:, None, :] & data["query_mask"][:, :, None]
    elif case.kind == "pooling":
        allowed = value_mask if len(weights_shape) == 2 else np.broadcast_to(
            value_mask[:, None, :], weights_shape)
    else:  # causal: step t sees only earlier real steps, and only from a real step
        steps = weights_shape[-1]
        earlier = np.tril(np.ones((steps, steps), dtype=bool), k=-1)
        allowed = earlier[None] & value_mask[:, None, :] & value_mask[:, :, None]
    return np.broadcast_to(allowed, weights_shape)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_weights_are_a_distribution_over_real_positions(case, rng):
    data = make_inputs(case, rng)
    _, weights = run(case.make(), data)
    allowed = attended_mask(case, data, weights.shape)
    assert np.all(weights >= 0)
    assert np.all(weights[~allowed] == 0.0), "masked positions must get exactly zero weight"
    sums = weights.sum(axis=-1)
    must_sum = allowed.any(axis=-1)
    # Every row that can attend somewhere sums to one, except where the layer's own window
    # leaves it nothing (key-value's first step); such rows must then be exactly zero.
    np.testing.assert_allclose(sums[must_sum & (sums > 0)], 1.0, atol=1e-5)
    assert np.all((sums[must_sum] > 0.5) | (sums[must_sum] == 0.0))
    if case.kind != "causal":
        assert np.all(sums[must_sum] > 0.5), "a row with real positions must attend to them"
    assert np.all(sums[~must_sum] == 0.0), "a row with nothing to attend to must be all zeros"


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_context_is_the_weighted_average_of_the_values(case, rng):
    data = make_inputs(case, rng)
    context, weights = run(case.make(), data)
    values = data["values"]
    expected = np.einsum("b...t,btd->b...d", weights, values)
    np.testing.assert_allclose(context, expected.reshape(context.shape), atol=1e-5)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_appending_padding_changes_nothing(case, rng):
    layer = case.make()
    data = make_inputs(case, np.random.default_rng(7))
    context, weights = run(layer, data)
    padded = make_inputs(case, np.random.default_rng(7), extra_padding=3)
    # Same real tokens, junk in the padding.
    real = lengths_mask(VALUE_LENGTHS, T_V)
    if case.kind == "cross":
        padded["inputs"][0] = data["inputs"][0]
        padded["inputs"][1][:, :T_V] = np.where(real[..., None], data["inputs"][1], padded["inputs"][1][:, :T_V])
    else:
        padded["inputs"][:, :T_V] = np.where(real[..., None], data["inputs"], padded["inputs"][:, :T_V])
        padded["values"] = np.asarray(case.values(padded["inputs"])) if case.kind == "causal" else padded["inputs"]
    context_padded, weights_padded = run(layer, padded)
    if case.kind == "causal":
        np.testing.assert_allclose(context_padded[:, :T_V], context, atol=1e-5)
        np.testing.assert_allclose(weights_padded[:, :T_V, :T_V], weights, atol=1e-6)
        return
    np.testing.assert_allclose(weights_padded[..., :T_V], weights, atol=1e-6)
    assert np.all(weights_padded[..., T_V:] == 0.0)
    np.testing.assert_allclose(context_padded, context, atol=1e-5)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_fully_masked_row_gives_finite_zeros_and_gradients(case, rng):
    data = make_inputs(case, rng)
    layer = case.make()
    context, weights = run(layer, data)
    assert np.all(np.isfinite(context)) and np.all(np.isfinite(weights))
    empty = 2  # the example whose value mask is all False
    assert np.all(weights[empty] == 0.0)
    assert np.all(context[empty] == 0.0)
    # Gradients of a loss through the fully masked example stay finite too, on every backend.
    cross = case.kind == "cross"

    def loss(call, inputs):
        out = call(inputs if cross else inputs[0], mask=data["mask"])
        return ops.sum(out * out)

    grads = gradients(layer, loss, data["inputs"] if cross else [data["inputs"]])
    assert any(grad is not None for grad in grads)
    for grad in grads:
        if grad is not None:
            assert np.all(np.isfinite(grad))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_huge_logits_stay_finite(case, rng):
    # Inputs scaled so that raw scores reach 1e4 and beyond.
    data = make_inputs(case, rng, scale=100.0)
    context, weights = run(case.make(), data)
    assert np.all(np.isfinite(context)) and np.all(np.isfinite(weights))
    sums = weights.sum(axis=-1)
    allowed = attended_mask(case, data, weights.shape).any(axis=-1)
    assert np.all((np.abs(sums[allowed] - 1.0) < 1e-4) | (sums[allowed] == 0.0))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_mixed_float16(case, rng):
    data = make_inputs(case, rng)
    layer = case.make(dtype="mixed_float16")
    context, weights = run(layer, data)
    assert keras.backend.standardize_dtype(context.dtype) == "float16"
    assert np.all(np.isfinite(context)) and np.all(np.isfinite(weights))
    allowed = attended_mask(case, data, weights.shape)
    assert np.all(weights[~allowed] == 0.0)
    sums = weights.astype("float32").sum(axis=-1)
    assert np.all((np.abs(sums[allowed.any(axis=-1)] - 1.0) < 1e-2) | (sums[allowed.any(axis=-1)] == 0.0))


def functional_model(case):
    """Token ids -> Embedding(mask_zero=True) -> the layer, so the mask arrives implicitly."""
    vocabulary = 20
    if case.kind == "cross":
        query_ids = keras.Input((None,), dtype="int32", name="query_ids")
        value_ids = keras.Input((None,), dtype="int32", name="value_ids")
        query = keras.layers.Embedding(vocabulary, case.depth, mask_zero=True)(query_ids)
        value = keras.layers.Embedding(vocabulary, case.depth, mask_zero=True)(value_ids)
        context, weights = case.make()([query, value], return_attention_scores=True)
        return keras.Model([query_ids, value_ids], [context, weights])
    ids = keras.Input((None,), dtype="int32", name="ids")
    embedded = keras.layers.Embedding(vocabulary, case.depth, mask_zero=True)(ids)
    output, weights = case.make()(embedded, return_attention_scores=True)
    return keras.Model(ids, [output, weights])


def token_ids(rng, lengths, steps):
    ids = rng.integers(1, 20, size=(len(lengths), steps))
    return np.where(lengths_mask(lengths, steps), ids, 0).astype("int32")


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_saved_model_reloads_without_custom_objects(case, rng, tmp_path):
    model = functional_model(case)
    values = token_ids(rng, VALUE_LENGTHS, T_V)
    inputs = [token_ids(rng, QUERY_LENGTHS, T_Q), values] if case.kind == "cross" else values
    before = [ops.convert_to_numpy(x) for x in model(inputs)]
    path = tmp_path / "model.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path)
    after = [ops.convert_to_numpy(x) for x in reloaded(inputs)]
    for old, new in zip(before, after):
        np.testing.assert_array_equal(old, new)
    # The implicit mask took effect: padding got no weight.
    weights = after[1]
    padding = values == 0
    if weights.ndim == 3:  # (batch, rows, steps): every row ignores the padded steps
        padding = padding[:, None, :]
    assert np.all(np.where(padding, weights, 0.0) == 0.0)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_config_round_trip(case):
    layer = case.make()
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_wrong_rank_raises_a_clear_value_error(case, rng):
    data = make_inputs(case, rng)
    layer = case.make()
    if case.kind == "cross":
        bad = [data["inputs"][0][:, 0, :], data["inputs"][1]]  # a rank-2 query
    else:
        bad = data["inputs"][:, 0, :]
    with pytest.raises(ValueError, match=r"(?i)rank|expected"):
        layer(bad)


@pytest.mark.parametrize("case", [c for c in CASES if c.kind == "cross"], ids=lambda c: c.id)
def test_mismatched_shapes_raise_a_clear_value_error(case, rng):
    data = make_inputs(case, rng)
    query, value = data["inputs"]
    key = value[:, :-1]  # one step fewer than the value
    with pytest.raises(ValueError, match=r"(?i)key.*value|steps"):
        case.make()([query, value, key])
    with pytest.raises(ValueError, match=r"(?i)batch"):
        case.make()([query[:2], value])
    with pytest.raises(ValueError, match=r"(?i)expected"):
        case.make()([query])


@pytest.mark.parametrize("case", [c for c in CASES if c.bad_options], ids=lambda c: c.id)
def test_unknown_options_raise_a_clear_value_error(case):
    for options in case.bad_options:
        with pytest.raises(ValueError):
            case.make(**options)
