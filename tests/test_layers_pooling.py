"""What the pooling and causal layers promise beyond the shared invariants.

ContextAttention (HAN), SelfAttentivePooling (Lin et al.) and KeyValueAttention
(Daniluk et al.) agree with the NumPy reference given the layer's own weights; the
context attention gives one weight per step; the hop penalty reaches the model's losses;
key-value attention is strictly causal and windowed, and computes only its window: it
matches the all-pairs formulation it replaced, gradients included, without building a
T × T × units tensor (read from the traced graph on TensorFlow). Otherwise only
``keras.ops`` and NumPy are used, so this file runs on the TensorFlow, JAX and PyTorch
backends.
"""

import numpy as np
import pytest

import keras
from keras import ops

from attncourse import reference
from attncourse.layers.common import masked_softmax
from attncourse.layers.context import ContextAttention
from attncourse.layers.key_value import KeyValueAttention
from attncourse.layers.self_attentive import SelfAttentivePooling, hop_penalty
from tests.layer_harness import gradients

LENGTHS = np.array([7, 4, 1, 0])  # the last example has no real step at all
STEPS = 7


@pytest.fixture
def rng():
    return np.random.default_rng(2017)


def sequence(rng, depth, steps=STEPS, batch=len(LENGTHS)):
    return rng.normal(size=(batch, steps, depth)).astype("float32")


def lengths_mask(lengths=LENGTHS, steps=STEPS):
    return np.arange(steps)[None, :] < np.asarray(lengths)[:, None]


def numpy(x):
    return ops.convert_to_numpy(x)


def call(layer, h, mask):
    output, weights = layer(h, mask=mask, return_attention_scores=True)
    return numpy(output), numpy(weights)


# --------------------------------------------------------------------------------------
# ContextAttention
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("units", [None, 5])
def test_context_attention_agrees_with_the_reference(units, rng):
    h, mask = sequence(rng, 6), lengths_mask()
    layer = ContextAttention(units=units)
    pooled, weights = call(layer, h, mask)
    assert numpy(layer.kernel).shape == (6, units or 6)
    expected = reference.context_attention_weights(
        h, numpy(layer.kernel), numpy(layer.bias), numpy(layer.context_vector), mask
    )
    np.testing.assert_allclose(weights, expected, atol=1e-5)
    np.testing.assert_allclose(pooled, np.einsum("bt,btd->bd", expected, h), atol=1e-5)


def convex_weights_of(pooled, rows):
    """The λ ≥ 0, Σλ = 1 with pooled = λ @ rows, or None if no such λ exists."""
    # Solve [rows^T; 1^T] λ = [pooled; 1] by least squares and check the fit.
    system = np.vstack([rows.T, np.ones((1, len(rows)))])
    target = np.append(pooled, 1.0)
    solution, *_ = np.linalg.lstsq(system, target, rcond=None)
    fits = np.allclose(system @ solution, target, atol=1e-4)
    return solution if fits and np.all(solution > -1e-4) else None


def test_context_attention_gives_one_weight_per_step(rng):
    # Fewer steps than features: the rows are linearly independent, so a pooled vector
    # that mixes them with one weight per step has exactly one such λ.
    depth, steps = 8, 4
    h = sequence(rng, depth, steps=steps, batch=2)
    layer = ContextAttention(units=6)
    pooled, weights = call(layer, h, None)
    for example in range(2):
        found = convex_weights_of(pooled[example], h[example])
        assert found is not None, "the output must be a convex combination of the steps"
        np.testing.assert_allclose(found, weights[example], atol=1e-4)

    # The seed article's layer gives each FEATURE its own softmax over the steps
    # (no context vector); its output is in general no such combination, so the check
    # above can fail.
    hidden = np.tanh(h[0] @ rng.normal(size=(depth, depth)))
    per_feature = np.exp(hidden) / np.exp(hidden).sum(axis=0, keepdims=True)
    assert convex_weights_of((per_feature * h[0]).sum(axis=0), h[0]) is None


def test_context_attention_ignores_the_mask_after_pooling(rng):
    inputs = keras.Input((None,), dtype="int32")
    embedded = keras.layers.Embedding(10, 4, mask_zero=True)(inputs)
    pooled = ContextAttention()(embedded)
    assert pooled.shape == (None, 4)
    assert getattr(pooled, "_keras_mask", None) is None


# --------------------------------------------------------------------------------------
# SelfAttentivePooling
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("hops", [1, 3])
def test_self_attentive_pooling_agrees_with_the_reference(hops, rng):
    h, mask = sequence(rng, 6), lengths_mask()
    layer = SelfAttentivePooling(units=5, hops=hops)
    pooled, weights = call(layer, h, mask)
    expected = reference.self_attentive_weights(h, numpy(layer.kernel_1), numpy(layer.kernel_2), mask)
    if hops == 1:
        assert pooled.shape == (len(h), 6) and weights.shape == (len(h), STEPS)
        expected = expected[:, 0, :]
    else:
        assert pooled.shape == (len(h), hops, 6) and weights.shape == (len(h), hops, STEPS)
    np.testing.assert_allclose(weights, expected, atol=1e-5)
    np.testing.assert_allclose(pooled, np.einsum("b...t,btd->b...d", expected, h), atol=1e-5)


def test_hop_penalty_matches_the_reference_and_is_zero_without_real_steps(rng):
    mask = lengths_mask()
    raw = rng.random(size=(len(LENGTHS), 3, STEPS)) * mask[:, None, :]
    totals = raw.sum(-1, keepdims=True)
    weights = np.divide(raw, totals, out=np.zeros_like(raw), where=totals > 0).astype("float32")
    penalty = numpy(hop_penalty(weights, mask))
    real = LENGTHS > 0
    np.testing.assert_allclose(penalty[real], reference.hop_penalty(weights[real]), rtol=1e-5)
    # No real step: nothing to spread, no penalty (and not NaN).
    assert penalty[~real].tolist() == [0.0]


def test_hop_penalty_tells_disjoint_hops_from_overlapping_ones():
    disjoint = np.eye(3, 5, dtype="float32")[None]  # hop a looks only at step a
    overlapping = np.tile(np.eye(1, 5, dtype="float32"), (3, 1))[None]  # all hops on step 0
    assert numpy(hop_penalty(disjoint))[0] == pytest.approx(0.0, abs=1e-7)
    assert numpy(hop_penalty(overlapping))[0] == pytest.approx(6.0)  # six off-diagonal ones


@pytest.mark.parametrize("hops", [1, 3])
def test_penalty_is_added_to_the_layer_losses(hops, rng):
    h, mask = sequence(rng, 6), lengths_mask()
    layer = SelfAttentivePooling(units=5, hops=hops, penalty=0.25)
    _, weights = call(layer, h, mask)
    assert len(layer.losses) == 1
    per_example = reference.hop_penalty(weights if hops > 1 else weights[:, None, :])
    per_example[LENGTHS == 0] = 0.0  # the layer's convention for an empty example
    np.testing.assert_allclose(numpy(layer.losses[0]), 0.25 * per_example.mean(), rtol=1e-5)
    # A new call replaces the loss rather than accumulating it.
    layer(h, mask=mask)
    assert len(layer.losses) == 1


def test_penalty_reaches_the_model_losses(rng):
    inputs = keras.Input((None,), dtype="int32")
    embedded = keras.layers.Embedding(10, 6, mask_zero=True)(inputs)
    pooled = SelfAttentivePooling(units=4, hops=2, penalty=1.0)(embedded)
    model = keras.Model(inputs, keras.layers.Flatten()(pooled))
    ids = np.where(lengths_mask(), rng.integers(1, 10, size=(len(LENGTHS), STEPS)), 0)
    model(ids)
    assert len(model.losses) == 1
    value = float(numpy(model.losses[0]))
    assert np.isfinite(value) and value > 0


def test_no_penalty_adds_no_loss(rng):
    layer = SelfAttentivePooling(units=5, hops=3)
    layer(sequence(rng, 6), mask=lengths_mask())
    assert layer.losses == []


@pytest.mark.parametrize(
    "options, message",
    [({"units": 0}, "units"), ({"units": 4, "hops": 0}, "hops"), ({"units": 4, "penalty": -1.0}, "penalty")],
)
def test_self_attentive_rejects_bad_options(options, message):
    with pytest.raises(ValueError, match=message):
        SelfAttentivePooling(**options)


# --------------------------------------------------------------------------------------
# KeyValueAttention
# --------------------------------------------------------------------------------------

MODES = ["attention", "key_value", "key_value_predict"]


@pytest.mark.parametrize("mode", MODES)
def test_key_value_attention_agrees_with_the_reference(mode, rng):
    h, mask = sequence(rng, 12), lengths_mask()
    layer = KeyValueAttention(window=3, mode=mode)
    context, weights = call(layer, h, mask)
    expected_context, expected_weights = reference.key_value_attention(
        h, numpy(layer.key_kernel), numpy(layer.query_kernel), numpy(layer.score_vector),
        window=3, mode=mode, mask=mask,
    )
    real = mask  # the layer also zeroes the rows of padded steps; the reference does not
    np.testing.assert_allclose(weights[real], expected_weights[real], atol=1e-5)
    np.testing.assert_allclose(context[real], expected_context[real], atol=1e-5)
    assert np.all(weights[~real] == 0.0) and np.all(context[~real] == 0.0)


def test_key_value_units_size_the_score_layer(rng):
    h = sequence(rng, 12, batch=2)
    layer = KeyValueAttention(window=2, mode="key_value", units=4)
    _, weights = call(layer, h, None)
    assert numpy(layer.key_kernel).shape == (6, 4) and numpy(layer.score_vector).shape == (4,)
    keys = h[..., :6]
    scores = reference.additive_score(
        keys, keys, numpy(layer.query_kernel), numpy(layer.key_kernel), numpy(layer.score_vector)
    )
    lag = np.arange(STEPS)[:, None] - np.arange(STEPS)[None, :]
    expected = reference.masked_softmax(scores, (lag >= 1) & (lag <= 2))
    np.testing.assert_allclose(weights, expected, atol=1e-5)


@pytest.mark.parametrize("window", [1, 3, 10])
def test_key_value_attention_is_strictly_causal_and_windowed(window, rng):
    h = sequence(rng, 12)
    layer = KeyValueAttention(window=window, mode="key_value_predict")
    context, weights = call(layer, h, None)
    lag = np.arange(STEPS)[:, None] - np.arange(STEPS)[None, :]  # t - j
    outside = (lag < 1) | (lag > window)
    assert np.all(weights[:, outside] == 0.0), "j >= t and j < t - window get exactly 0"
    np.testing.assert_allclose(weights.sum(-1)[:, 1:], 1.0, atol=1e-5)
    assert np.all(weights[:, 0] == 0.0) and np.all(context[:, 0] == 0.0), "step 0 reads nothing"

    # Changing the future changes nothing at step t (and t itself is not read either).
    t = 3
    changed = h.copy()
    changed[:, t + 1 :] = rng.normal(size=changed[:, t + 1 :].shape)
    changed[:, t, 4:] = rng.normal(size=changed[:, t, 4:].shape)  # value and predict of step t
    context_changed, _ = call(layer, changed, None)
    np.testing.assert_allclose(context_changed[:, : t + 1], context[:, : t + 1], atol=1e-6)


@pytest.mark.parametrize("mode", MODES)
def test_key_value_split_matches_the_reference(mode, rng):
    h = sequence(rng, 12, batch=2)
    layer = KeyValueAttention(window=2, mode=mode)
    parts = layer.split(h)
    for ours, theirs in zip(parts, reference.key_value_split(h, mode)):
        np.testing.assert_array_equal(numpy(ours), theirs)
    context = layer(h)
    assert tuple(context.shape) == tuple(numpy(parts[1]).shape) == layer.compute_output_shape(h.shape)


def test_key_value_passes_the_mask_on():
    inputs = keras.Input((None,), dtype="int32")
    embedded = keras.layers.Embedding(10, 6, mask_zero=True)(inputs)
    context = KeyValueAttention(window=2, mode="key_value")(embedded)
    assert context.shape == (None, None, 3)
    ids = np.array([[3, 4, 5, 0, 0]])
    layer = KeyValueAttention(window=2)
    h = np.random.default_rng(0).normal(size=(1, 5, 6)).astype("float32")
    mask = ids != 0
    np.testing.assert_array_equal(numpy(layer.compute_mask(h, ops.convert_to_tensor(mask))), mask)


@pytest.mark.parametrize("mode, depth", [("key_value", 7), ("key_value_predict", 8)])
def test_key_value_rejects_a_depth_the_mode_cannot_split(mode, depth, rng):
    layer = KeyValueAttention(window=2, mode=mode)
    with pytest.raises(ValueError, match=rf"(?s){mode}.*d = {depth}"):
        layer(sequence(rng, depth, batch=1))


@pytest.mark.parametrize(
    "options, message",
    [({"window": 0}, "window"), ({"window": 2, "mode": "values"}, "mode"), ({"window": 2, "units": 0}, "units")],
)
def test_key_value_rejects_bad_options(options, message):
    with pytest.raises(ValueError, match=message):
        KeyValueAttention(**options)


class DenseKeyValueAttention(KeyValueAttention):
    """The all-pairs formulation the layer replaced, from keras.ops, as the banded layer's oracle.

    Every one of the T × T scores goes through a ``(batch, T, T, units)`` hidden layer,
    then a band mask keeps ``1 <= t - j <= window``: the same function of ``h`` and of
    the same three weights, with its own gradients (on every backend, through the
    harness's stateless call).
    """

    def call(self, inputs, mask=None, return_attention_scores=False):
        keys, values, _ = self.split(inputs)
        as_read = ops.matmul(keys, self.key_kernel)
        as_query = ops.matmul(keys, self.query_kernel)
        scores = ops.sum(ops.tanh(as_read[:, None, :, :] + as_query[:, :, None, :]) * self.score_vector, -1)
        positions = np.arange(inputs.shape[1])
        lag = positions[:, None] - positions[None, :]  # t - j
        allowed = ops.convert_to_tensor(((lag >= 1) & (lag <= self.window))[None])
        if mask is not None:
            mask = ops.cast(mask, "bool")
            allowed = ops.logical_and(allowed, ops.logical_and(mask[:, None, :], mask[:, :, None]))
        weights = masked_softmax(scores, allowed)
        context = ops.matmul(weights, values)
        return (context, weights) if return_attention_scores else context


def twin(layer, h):
    """The dense oracle with ``layer``'s options and weights."""
    dense = DenseKeyValueAttention.from_config(layer.get_config())
    dense.build(h.shape)
    dense.set_weights(layer.get_weights())
    return dense


def lengths_for(steps, batch):
    """Padding at the end of every example but the first; the last one is all padding."""
    return np.linspace(steps, 0, batch).round().astype(int)


BANDED_CASES = [  # (window, T): windows 1 and 3, a window as long as T, T < L
    (1, STEPS), (3, STEPS), (STEPS, STEPS), (9, STEPS), (5, 3),
]


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("window, steps", BANDED_CASES)
@pytest.mark.parametrize("mode", MODES)
def test_key_value_banded_window_agrees_with_the_reference(mode, window, steps, seed):
    rng = np.random.default_rng(seed)
    h = sequence(rng, 12, steps=steps)
    for mask in (None, lengths_mask(lengths_for(steps, len(h)), steps)):
        layer = KeyValueAttention(window=window, mode=mode)
        context, weights = call(layer, h, mask)
        assert weights.shape == (len(h), steps, steps)
        expected_context, expected_weights = reference.key_value_attention(
            h, numpy(layer.key_kernel), numpy(layer.query_kernel), numpy(layer.score_vector),
            window=window, mode=mode, mask=mask,
        )
        real = np.ones(h.shape[:2], bool) if mask is None else mask
        np.testing.assert_allclose(weights[real], expected_weights[real], atol=1e-5)
        np.testing.assert_allclose(context[real], expected_context[real], atol=1e-5)
        assert np.all(weights[~real] == 0.0) and np.all(context[~real] == 0.0)
        assert np.all(weights[:, 0] == 0.0) and np.all(context[:, 0] == 0.0)


# Every window of BANDED_CASES, every mode (not every pair: on JAX each shape compiles anew).
GRADIENT_CASES = [
    ("attention", 1, STEPS), ("key_value", 3, STEPS), ("key_value_predict", STEPS, STEPS),
    ("attention", 9, STEPS), ("key_value_predict", 5, 3), ("key_value", 5, 3),
]


@pytest.mark.parametrize("mode, window, steps", GRADIENT_CASES)
def test_key_value_banded_matches_the_dense_formulation_and_its_gradients(mode, window, steps, rng):
    h = sequence(rng, 12, steps=steps)
    mask = lengths_mask(lengths_for(steps, len(h)), steps)
    layer = KeyValueAttention(window=window, mode=mode, units=5)
    layer.build(h.shape)
    dense = twin(layer, h)
    context, weights = call(layer, h, mask)
    dense_context, dense_weights = call(dense, h, mask)
    np.testing.assert_allclose(weights, dense_weights, atol=1e-5)
    np.testing.assert_allclose(context, dense_context, atol=1e-5)

    context_weight = rng.normal(size=context.shape).astype("float32")
    weights_weight = rng.normal(size=weights.shape).astype("float32")

    def loss(call, inputs):
        context, weights = call(inputs[0], mask=mask, return_attention_scores=True)
        return ops.sum(ops.multiply(context, context_weight)) + ops.sum(ops.multiply(weights, weights_weight))

    names = [w.name for w in layer.trainable_weights] + ["inputs"]
    for name, ours, theirs in zip(names, gradients(layer, loss, [h]), gradients(dense, loss, [h])):
        assert ours is not None and np.all(np.isfinite(ours)), name
        np.testing.assert_allclose(ours, theirs, atol=1e-5, err_msg=name)


def test_key_value_weights_keep_their_names_and_shapes(rng):
    # Models saved before the banded computation still load: the same three weights.
    layer = KeyValueAttention(window=4, mode="key_value_predict", units=5)
    layer(sequence(rng, 12, batch=1))
    assert [(w.name, tuple(w.shape)) for w in layer.weights] == [
        ("key_kernel", (4, 5)), ("query_kernel", (4, 5)), ("score_vector", (5,))
    ]


def test_key_value_under_mixed_precision_keeps_float16_weights(rng):
    h, mask = sequence(rng, 12), lengths_mask()
    layer = KeyValueAttention(window=3, mode="key_value", dtype="mixed_float16")
    context, weights = layer(h, mask=mask, return_attention_scores=True)
    assert keras.backend.standardize_dtype(context.dtype) == "float16"
    assert keras.backend.standardize_dtype(weights.dtype) == "float16"
    float32 = KeyValueAttention(window=3, mode="key_value")
    float32.build(h.shape)
    float32.set_weights(layer.get_weights())
    _, expected = call(float32, h, mask)
    np.testing.assert_allclose(numpy(weights).astype("float32"), expected, atol=2e-3)


def graph_tensor_shapes(function, *specs):
    """The static shapes of every tensor a traced TensorFlow function computes."""
    import tensorflow as tf

    graph = tf.function(function).get_concrete_function(*specs).graph
    return [tuple(out.shape.as_list()) for op in graph.get_operations() for out in op.outputs
            if out.shape.rank is not None]


@pytest.mark.parametrize("attend", ["banded", "dense"])
def test_key_value_memory_grows_with_t_times_window_not_t_squared(attend):
    if keras.backend.backend() != "tensorflow":
        pytest.skip("reads the traced TensorFlow graph")
    import tensorflow as tf

    batch, steps, window, units = 2, 64, 4, 8
    layer = KeyValueAttention(window=window, mode="key_value_predict", units=units)
    layer.build((batch, steps, 3 * units))
    if attend == "dense":
        layer = twin(layer, np.zeros((batch, steps, 3 * units)))

    def forward_and_backward(h, mask):
        with tf.GradientTape() as tape:
            tape.watch(h)
            context = layer(h, mask=mask)
            loss = tf.reduce_sum(context * context)
        return tape.gradient(loss, [h, *layer.trainable_weights])

    shapes = graph_tensor_shapes(
        forward_and_backward,
        tf.TensorSpec((batch, steps, 3 * units), tf.float32),
        tf.TensorSpec((batch, steps), tf.bool),
    )
    sizes = [int(np.prod([d for d in shape if d is not None])) for shape in shapes]
    pairs = [shape for shape in shapes if list(shape).count(steps) >= 2]
    if attend == "dense":  # the check below does see the all-pairs tensor when it is there
        assert max(sizes) >= batch * steps * steps * units and pairs
        return
    assert max(sizes) <= batch * steps * window * units, max(shapes, key=lambda s: np.prod(s))
    assert not pairs, f"no tensor may have both a T axis and another T axis: {pairs}"


# --------------------------------------------------------------------------------------
# Shared checks
# --------------------------------------------------------------------------------------

LAYERS = [
    lambda: ContextAttention(),
    lambda: SelfAttentivePooling(units=4, hops=2),
    lambda: KeyValueAttention(window=2, mode="key_value"),
]


@pytest.mark.parametrize("make", LAYERS, ids=["context", "self-attentive", "key-value"])
def test_a_mask_of_the_wrong_length_is_rejected(make, rng):
    with pytest.raises(ValueError, match=r"(?s)expected|mask.*received"):
        make()(sequence(rng, 6, batch=2), mask=np.ones((2, STEPS + 1), dtype=bool))


@pytest.mark.parametrize("make", LAYERS, ids=["context", "self-attentive", "key-value"])
def test_a_new_depth_after_build_is_rejected(make, rng):
    layer = make()
    layer(sequence(rng, 6, batch=2))
    with pytest.raises(ValueError):
        layer(sequence(rng, 12, batch=2))
