"""What each cross-attention layer computes, checked against attncourse.reference.

The shared promises (masking, padding, mixed precision, saving) are in
tests/test_layer_invariants.py; here each layer's own arithmetic is compared with the
NumPy reference using the layer's own weights, and the behaviour particular to each
layer (windows, centres, monotonic walks, one-step decoding) is checked.
"""

import numpy as np
import pytest

import keras
from keras import ops

from attncourse import decoding, reference
from attncourse.layers import BahdanauAttention, LocalAttention, LuongAttention, MonotonicAttention
from attncourse.layers import monotonic
from attncourse.translator import make_translator
from tests.conftest import SOURCE_LENGTH
from tests.layer_harness import gradients

BATCH, T_Q, T_V = 3, 5, 7
D_Q, D_K, D_V = 6, 4, 3
VALUE_LENGTHS = np.array([7, 4, 0])  # the last example has no real source position
QUERY_LENGTHS = np.array([5, 3, 4])


def lengths_mask(lengths, steps):
    return np.arange(steps)[None, :] < np.asarray(lengths)[:, None]


@pytest.fixture
def data():
    """Query, value and key of three different depths, with padding on both sides."""
    rng = np.random.default_rng(2024)
    return dict(
        query=rng.normal(size=(BATCH, T_Q, D_Q)).astype("float32"),
        value=rng.normal(size=(BATCH, T_V, D_V)).astype("float32"),
        key=rng.normal(size=(BATCH, T_V, D_K)).astype("float32"),
        query_mask=lengths_mask(QUERY_LENGTHS, T_Q),
        value_mask=lengths_mask(VALUE_LENGTHS, T_V),
    )


def cross_inputs(data):
    return [data["query"], data["value"], data["key"]]


def attend(layer, data, key=True, **kwargs):
    inputs = cross_inputs(data) if key else [data["query"], data["value"]]
    outputs = layer(
        inputs,
        mask=[data["query_mask"], data["value_mask"]],
        return_attention_scores=True,
        **kwargs,
    )
    return tuple(ops.convert_to_numpy(x) for x in outputs)


def weight(variable):
    return ops.convert_to_numpy(variable).astype("float64")


def expected_weights(scores, data):
    """The reference softmax over real keys, with padded query rows zeroed like the layer."""
    weights = reference.masked_softmax(scores, data["value_mask"][:, None, :])
    return weights * data["query_mask"][:, :, None]


def check_context(context, weights, data):
    np.testing.assert_allclose(context, reference.context(weights, data["value"]), atol=1e-5)


# --------------------------------------------------------------------------------------
# Bahdanau and Luong: each score against its reference
# --------------------------------------------------------------------------------------


def test_bahdanau_matches_the_reference_additive_score(data):
    layer = BahdanauAttention(units=5)
    context, weights = attend(layer, data)
    assert [v.name for v in layer.weights] == ["query_kernel", "key_kernel", "score_vector"]
    scores = reference.additive_score(
        data["query"],
        data["key"],
        weight(layer.query_kernel),
        weight(layer.key_kernel),
        weight(layer.score_vector),
    )
    np.testing.assert_allclose(weights, expected_weights(scores, data), atol=1e-5)
    check_context(context, weights, data)


def test_bahdanau_equals_keras_additive_attention_on_projected_inputs(data):
    # Keras's AdditiveAttention computes Σ_u scale_u tanh(q_u + k_u) on what it is given:
    # with our projections and scale = w_a it is exactly our score.
    ours = BahdanauAttention(units=5)
    context, weights = attend(ours, data)
    keras_layer = keras.layers.AdditiveAttention()
    projected_query = ops.matmul(data["query"], ours.query_kernel)
    projected_key = ops.matmul(data["key"], ours.key_kernel)
    keras_layer([projected_query, data["value"], projected_key])
    keras_layer.scale.assign(ours.score_vector)
    keras_context, keras_weights = keras_layer(
        [projected_query, data["value"], projected_key],
        mask=[data["query_mask"], data["value_mask"]],
        return_attention_scores=True,
    )
    # Keras keeps weights on padded query rows and spreads a fully masked row evenly;
    # compare the rows where both are defined.
    real_queries = data["query_mask"][:2, :, None]
    np.testing.assert_allclose(
        weights[:2], ops.convert_to_numpy(keras_weights)[:2] * real_queries, atol=1e-5
    )
    np.testing.assert_allclose(context[:2], ops.convert_to_numpy(keras_context)[:2], atol=1e-5)


@pytest.mark.parametrize("scale", [False, True], ids=["dot", "dot-scaled"])
def test_luong_dot_matches_the_reference(data, scale):
    data = {**data, "query": data["query"][..., :D_K]}  # dot needs d_q = d_k
    layer = LuongAttention(score="dot", scale=scale)
    context, weights = attend(layer, data)
    assert layer.weights == []
    score = reference.scaled_dot_score if scale else reference.dot_score
    np.testing.assert_allclose(
        weights, expected_weights(score(data["query"], data["key"]), data), atol=1e-5
    )
    check_context(context, weights, data)


def test_luong_dot_equals_keras_attention(data):
    query, value = data["query"][..., :D_V], data["value"]
    ours = LuongAttention(score="dot")
    mask = [data["query_mask"], data["value_mask"]]
    context, weights = ours([query, value], mask=mask, return_attention_scores=True)
    keras_context, keras_weights = keras.layers.Attention()(
        [query, value], mask=mask, return_attention_scores=True
    )
    np.testing.assert_allclose(
        ops.convert_to_numpy(weights)[:2],
        ops.convert_to_numpy(keras_weights)[:2] * data["query_mask"][:2, :, None],
        atol=1e-6,
    )
    np.testing.assert_allclose(
        ops.convert_to_numpy(context)[:2], ops.convert_to_numpy(keras_context)[:2], atol=1e-6
    )


@pytest.mark.parametrize("scale", [False, True], ids=["general", "general-scaled"])
def test_luong_general_matches_the_reference(data, scale):
    layer = LuongAttention(score="general", scale=scale)
    context, weights = attend(layer, data)
    assert layer.score_kernel.shape == (D_Q, D_K)
    scores = reference.general_score(data["query"], data["key"], weight(layer.score_kernel))
    if scale:
        scores = scores / np.sqrt(D_K)
    np.testing.assert_allclose(weights, expected_weights(scores, data), atol=1e-5)
    check_context(context, weights, data)


def test_luong_concat_matches_the_reference(data):
    layer = LuongAttention(score="concat", units=5)
    context, weights = attend(layer, data)
    assert layer.concat_kernel.shape == (D_Q + D_K, 5)
    scores = reference.concat_score(
        data["query"], data["key"], weight(layer.concat_kernel), weight(layer.score_vector)
    )
    np.testing.assert_allclose(weights, expected_weights(scores, data), atol=1e-5)
    check_context(context, weights, data)


def test_luong_location_matches_the_reference(data):
    layer = LuongAttention(score="location")
    context, weights = attend(layer, data)
    assert [v.name for v in layer.weights] == ["location_kernel"]
    assert layer.location_kernel.shape == (D_Q, T_V)  # one logit per source position
    scores = reference.location_score(data["query"], weight(layer.location_kernel))
    np.testing.assert_allclose(weights, expected_weights(scores, data), atol=1e-5)
    check_context(context, weights, data)


def test_luong_location_does_not_read_the_keys(data):
    layer = LuongAttention(score="location")
    _, weights = attend(layer, data)
    _, other_keys = attend(layer, {**data, "key": -3.0 * data["key"]})
    np.testing.assert_array_equal(weights, other_keys)


def test_luong_location_on_shorter_and_longer_sources(data):
    layer = LuongAttention(score="location")
    attend(layer, data)  # built for T_V positions
    kernel = weight(layer.location_kernel)
    query, value, key = data["query"], data["value"], data["key"]
    # Shorter: the first T_v logits.
    _, short = layer([query, value[:, :4], key[:, :4]], return_attention_scores=True)
    expected = reference.masked_softmax(reference.location_score(query, kernel)[..., :4])
    np.testing.assert_allclose(ops.convert_to_numpy(short), expected, atol=1e-5)
    # Longer: the positions from T_V on have no logit and get weight zero.
    longer = [np.concatenate([x, x], axis=1) for x in (value, key)]
    _, long = layer([query, *longer], return_attention_scores=True)
    long = ops.convert_to_numpy(long)
    assert np.all(long[..., T_V:] == 0.0)
    expected = reference.masked_softmax(reference.location_score(query, kernel))
    np.testing.assert_allclose(long[..., :T_V], expected, atol=1e-5)


def test_luong_location_keeps_the_layer_promises(data, tmp_path):
    # What tests/test_layer_invariants.py checks on the other layers, with sources of a
    # fixed length: the location score needs to know how many positions there are.
    layer = LuongAttention(score="location")
    _, weights = attend(layer, data)
    assert np.all(weights[2] == 0.0)  # the example with no real source position
    clone = LuongAttention.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    _, huge = attend(layer, {**data, "query": 1e4 * data["query"]})
    assert np.all(np.isfinite(huge))
    _, half = attend(LuongAttention(score="location", dtype="mixed_float16"), data)
    real = data["query_mask"][:2]
    np.testing.assert_allclose(half[:2].astype("float32").sum(-1)[real], 1.0, atol=1e-2)
    query_ids = keras.Input((T_Q,), dtype="int32")
    value_ids = keras.Input((T_V,), dtype="int32")
    query = keras.layers.Embedding(20, 6, mask_zero=True)(query_ids)
    value = keras.layers.Embedding(20, 6, mask_zero=True)(value_ids)
    model = keras.Model(
        [query_ids, value_ids],
        LuongAttention(score="location")([query, value], return_attention_scores=True),
    )
    ids = [np.array([[1, 2, 3, 0, 0]] * 2), np.array([[4, 5, 6, 7, 0, 0, 0], [4, 0, 0, 0, 0, 0, 0]])]
    before = [ops.convert_to_numpy(x) for x in model(ids)]
    model.save(tmp_path / "location.keras")
    after = [ops.convert_to_numpy(x) for x in keras.saving.load_model(tmp_path / "location.keras")(ids)]
    for old, new in zip(before, after):
        np.testing.assert_array_equal(old, new)
    assert np.all(after[1][:, :, 4:] == 0.0) and np.all(after[1][1, :, 1:] == 0.0)  # padding


def test_luong_location_needs_the_number_of_source_positions():
    query, value = keras.Input((None, 6)), keras.Input((None, 6))
    with pytest.raises(ValueError, match=r"location.*number of key steps.*\(None, None, 6\)"):
        LuongAttention(score="location")([query, value])


def test_luong_dot_with_different_depths_names_both_and_suggests_general(data):
    with pytest.raises(ValueError, match=rf"d_q={D_Q}.*d_k={D_K}.*general"):
        LuongAttention(score="dot")(cross_inputs(data))


@pytest.mark.parametrize(
    "options, message",
    [
        ({"score": "cosine"}, r"score 'cosine'.*'dot', 'general', 'concat'"),
        ({"score": "concat"}, r"units"),
        ({"score": "concat", "units": 4, "scale": True}, r"scale"),
        ({"score": "location", "scale": True}, r"scale.*'location'"),
        ({"units": 0}, r"units.*0"),
    ],
)
def test_luong_bad_options_say_what_was_expected(options, message):
    with pytest.raises(ValueError, match=message):
        LuongAttention(**options)


def test_a_built_layer_refuses_other_depths(data):
    layer = LuongAttention(score="general")
    attend(layer, data)
    with pytest.raises(ValueError, match=rf"d_q={D_Q}.*d_q={D_Q + 1}"):
        layer([np.ones((BATCH, T_Q, D_Q + 1), "float32"), data["value"], data["key"]])


def test_a_single_tensor_is_refused_with_the_expected_inputs(data):
    with pytest.raises(ValueError, match=r"\[query, value\]"):
        BahdanauAttention(units=4)(data["query"])


# --------------------------------------------------------------------------------------
# Local attention
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("score", ["dot", "general", "concat"])
def test_local_m_matches_the_reference(data, score):
    query, key = (data["query"][..., :D_K] if score == "dot" else data["query"]), data["key"]
    data = {**data, "query": query}
    layer = LocalAttention(
        window=1, mode="monotonic", score=score, units=4 if score == "concat" else None
    )
    context, weights, centers = attend(layer, data, return_centers=True)
    # p_i = i, clipped at the last real source position.
    lengths = data["value_mask"].sum(-1)
    np.testing.assert_array_equal(
        centers, np.minimum(np.arange(T_Q)[None], np.maximum(lengths - 1, 0)[:, None])
    )
    if score == "dot":
        scores = reference.dot_score(query, key)
    elif score == "general":
        scores = reference.general_score(query, key, weight(layer.score_kernel))
    else:
        scores = reference.concat_score(
            query, key, weight(layer.concat_kernel), weight(layer.score_vector)
        )
    expected = reference.local_attention_weights(
        scores, centers, 1, mask=data["value_mask"][:, None, :], gaussian=False
    )
    np.testing.assert_allclose(weights, expected * data["query_mask"][:, :, None], atol=1e-5)
    check_context(context, weights, data)


def test_local_m_is_the_reference_local_m_while_the_target_is_not_longer(data):
    layer = LocalAttention(window=2, mode="monotonic")
    _, weights = attend(layer, data)
    scores = reference.general_score(data["query"], data["key"], weight(layer.score_kernel))
    expected = reference.local_attention_weights(
        scores, None, 2, mask=data["value_mask"][:, None, :], gaussian=False
    )
    np.testing.assert_allclose(weights[0], expected[0], atol=1e-5)  # the example with T_q <= S


def test_local_p_matches_the_reference(data):
    layer = LocalAttention(window=2, mode="predictive", units=3)
    context, weights, centers = attend(layer, data, return_centers=True)
    assert layer.center_kernel.shape == (D_Q, 3)
    lengths = data["value_mask"].sum(-1)
    expected_centers = reference.predictive_centers(
        data["query"], weight(layer.center_kernel), weight(layer.center_vector), lengths
    )
    np.testing.assert_allclose(centers, expected_centers, atol=1e-5)
    scores = reference.general_score(data["query"], data["key"], weight(layer.score_kernel))
    expected = reference.local_attention_weights(
        scores, centers, 2, mask=data["value_mask"][:, None, :]
    )
    np.testing.assert_allclose(weights, expected * data["query_mask"][:, :, None], atol=1e-5)
    check_context(context, weights, data)


def test_local_p_unnormalised_is_luongs_window_softmax_times_the_gaussian(data):
    layer = LocalAttention(window=2, mode="predictive", normalize=False)
    context, weights, centers = attend(layer, data, return_centers=True)
    scores = reference.general_score(data["query"], data["key"], weight(layer.score_kernel))
    expected = reference.local_attention_weights(
        scores, centers, 2, mask=data["value_mask"][:, None, :], normalize=False
    )
    np.testing.assert_allclose(weights, expected * data["query_mask"][:, :, None], atol=1e-5)
    check_context(context, weights, data)
    # Written out: the softmax over the window, then the Gaussian, no renormalisation.
    distance = np.arange(T_V)[None, None, :] - centers[..., None]
    inside = (np.abs(distance) <= 2) & data["value_mask"][:, None, :]
    by_hand = reference.masked_softmax(scores, inside) * np.exp(-(distance**2) / 2.0)  # σ = 1
    np.testing.assert_allclose(weights[0], by_hand[0], atol=1e-5)
    real_rows = weights.sum(-1) > 0
    assert np.all(weights.sum(-1)[real_rows] < 1.0)  # not a distribution, as in the paper


def test_local_m_ignores_normalize(data):
    renormalised, luong = (LocalAttention(window=2, mode="monotonic", normalize=n) for n in (True, False))
    _, weights = attend(renormalised, data)
    luong.build([data["query"].shape, data["value"].shape, data["key"].shape])
    luong.set_weights(renormalised.get_weights())
    np.testing.assert_array_equal(attend(luong, data)[1], weights)


def test_local_m_query_start_centres_one_step_at_a_time(data):
    # Step-by-step decoding hands the layer one query at a time: query_start says which.
    layer = LocalAttention(window=1, mode="monotonic")
    _, weights, centers = attend(layer, data, return_centers=True)
    for step in range(T_Q):
        outputs = layer(
            [data["query"][:, step : step + 1], data["value"], data["key"]],
            mask=[None, data["value_mask"]],
            return_attention_scores=True,
            return_centers=True,
            query_start=step,
        )
        _, step_weights, step_centers = (ops.convert_to_numpy(x) for x in outputs)
        np.testing.assert_array_equal(step_centers[:, 0], centers[:, step])
        real = data["query_mask"][:, step]
        np.testing.assert_allclose(step_weights[real, 0], weights[real, step], atol=1e-6)
    # One start per example works too.
    starts = np.array([2, 0, 1])
    centers_per_example = layer.predict_centers(
        [data["query"][:, :1], data["value"], data["key"]],
        mask=[None, data["value_mask"]],
        query_start=starts,
    )
    lengths = data["value_mask"].sum(-1)
    np.testing.assert_array_equal(
        ops.convert_to_numpy(centers_per_example)[:, 0], np.minimum(starts, np.maximum(lengths - 1, 0))
    )


@pytest.mark.parametrize("mode", ["monotonic", "predictive"])
def test_local_weights_vanish_outside_the_window_and_centres_stay_in_the_source(mode):
    rng = np.random.default_rng(5)
    lengths = np.array([12, 9, 5, 1])
    query = rng.normal(size=(4, 10, 6)).astype("float32") * 3.0
    value = rng.normal(size=(4, 12, 6)).astype("float32")
    value_mask = lengths_mask(lengths, 12)
    layer = LocalAttention(window=2, mode=mode)
    _, weights, centers = (
        ops.convert_to_numpy(x)
        for x in layer(
            [query, value],
            mask=[None, value_mask],
            return_attention_scores=True,
            return_centers=True,
        )
    )
    assert np.all(centers >= 0) and np.all(centers <= lengths[:, None])
    distance = np.abs(np.arange(12)[None, None, :] - centers[..., None])
    assert np.all(weights[distance > 2] == 0.0)
    assert np.all(weights[~np.broadcast_to(value_mask[:, None, :], weights.shape)] == 0.0)
    np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-5)  # never an empty window
    # The method gives the same centres as the call.
    np.testing.assert_allclose(
        ops.convert_to_numpy(layer.predict_centers([query, value], mask=[None, value_mask])),
        centers,
        atol=1e-6,
    )


def test_local_p_trains_its_centre_predictor(data):
    layer = LocalAttention(window=2, mode="predictive")
    attend(layer, data)  # build

    def loss(call, inputs):
        return ops.sum(call(inputs, mask=[None, data["value_mask"]])[..., 0])

    grads = dict(zip([v.path for v in layer.trainable_weights], gradients(layer, loss, cross_inputs(data))))
    for variable in (layer.center_kernel, layer.center_vector):
        gradient = grads[variable.path]
        assert gradient is not None and np.any(gradient != 0.0)


@pytest.mark.parametrize(
    "options, message",
    [
        ({"window": 0, "mode": "monotonic"}, r"window.*positive integer.*0"),
        ({"window": -1, "mode": "monotonic"}, r"window.*-1"),
        ({"window": 2.0, "mode": "monotonic"}, r"window.*2\.0"),
        ({"window": 2, "mode": "global"}, r"mode 'global'.*'monotonic', 'predictive'"),
        ({"window": 2, "mode": "predictive", "score": "location"}, r"score 'location'.*'concat'"),
        ({"window": 2, "mode": "predictive", "normalize": "no"}, r"normalize.*'no'"),
    ],
)
def test_local_bad_options_say_what_was_expected(options, message):
    with pytest.raises(ValueError, match=message):
        LocalAttention(**options)


def test_local_p_centres_returned_in_a_functional_model():
    query = keras.Input((None, 6))
    value = keras.Input((None, 6))
    context, weights, centers = LocalAttention(window=2, mode="predictive")(
        [query, value], return_attention_scores=True, return_centers=True
    )
    model = keras.Model([query, value], [context, weights, centers])
    outputs = model([np.ones((2, 3, 6), "float32"), np.ones((2, 5, 6), "float32")])
    assert [tuple(x.shape) for x in outputs] == [(2, 3, 6), (2, 3, 5), (2, 3)]


# --------------------------------------------------------------------------------------
# Monotonic attention
# --------------------------------------------------------------------------------------


def reference_p_choose(layer, data):
    energy = reference.additive_score(
        data["query"],
        data["key"],
        weight(layer.query_kernel),
        weight(layer.key_kernel),
        weight(layer.score_vector),
    ) + weight(layer.score_bias)
    return 1.0 / (1.0 + np.exp(-energy))


@pytest.mark.parametrize("init_bias", [-1.0, 0.5])
def test_monotonic_soft_matches_the_reference_expected_alignment(data, init_bias):
    layer = MonotonicAttention(units=5, init_bias=init_bias)
    context, alignment = attend(layer, data)
    p_choose = reference_p_choose(layer, data)
    expected = reference.monotonic_expected_alignment(p_choose, data["value_mask"][:, None, :])
    np.testing.assert_allclose(alignment, expected * data["query_mask"][:, :, None], atol=1e-5)
    check_context(context, alignment, data)


def test_monotonic_hard_matches_the_reference_and_never_moves_left(data):
    rng = np.random.default_rng(11)
    lengths = np.array([12, 9, 5, 1])
    query = rng.normal(size=(4, 10, 6)).astype("float32") * 2.0
    value = rng.normal(size=(4, 12, 4)).astype("float32")
    value_mask = lengths_mask(lengths, 12)
    layer = MonotonicAttention(units=5, mode="hard", init_bias=0.0)
    _, alignment = layer([query, value], mask=[None, value_mask], return_attention_scores=True)
    alignment = ops.convert_to_numpy(alignment)
    p_choose = reference_p_choose(layer, dict(query=query, key=value))
    expected = reference.hard_monotonic_alignment(p_choose, value_mask[:, None, :], threshold=0.5)
    np.testing.assert_array_equal(alignment, expected)
    assert set(np.unique(alignment)) <= {0.0, 1.0}
    np.testing.assert_array_equal(alignment.sum(-1), 1.0)
    positions = alignment.argmax(-1)
    assert np.all(np.diff(positions, axis=-1) >= 0), "hard monotonic attention moved left"
    assert np.all(positions < lengths[:, None])
    # The walk did move on (the test would be empty if it stayed on the first position).
    assert positions.max() > 0


def test_monotonic_bias_sets_where_the_walk_stops(data):
    # r = +30: every p is 1, the walk stops at once: it stays on the first position.
    # r = -30: every p is 0, the walk runs off the end: the last real position gets it all.
    query, value, mask = data["query"][:2], data["value"][:2], [None, data["value_mask"][:2]]
    for mode in ("soft", "hard"):
        stay = MonotonicAttention(units=4, init_bias=30.0, mode=mode)
        run_off = MonotonicAttention(units=4, init_bias=-30.0, mode=mode)
        _, stayed = stay([query, value], mask=mask, return_attention_scores=True)
        _, ran = run_off([query, value], mask=mask, return_attention_scores=True)
        np.testing.assert_allclose(ops.convert_to_numpy(stayed)[..., 0], 1.0, atol=1e-6)
        last = VALUE_LENGTHS[:2] - 1
        np.testing.assert_allclose(ops.convert_to_numpy(ran)[np.arange(2), :, last], 1.0, atol=1e-6)


def test_monotonic_leftover_mass_goes_to_the_last_real_position(data):
    layer = MonotonicAttention(units=5, init_bias=-2.0)
    _, alignment = attend(layer, data)
    p_choose = reference_p_choose(layer, data)
    # Without the leftover rule the row would be p ⊙ (mass arriving); the difference must
    # sit on the last real position only.
    np.testing.assert_allclose(alignment[:2].sum(-1)[data["query_mask"][:2]], 1.0, atol=1e-5)
    first_row = alignment[1, 0]
    raw_first = p_choose[1, 0] * np.concatenate([[1.0], np.cumprod(1.0 - p_choose[1, 0])[:-1]])
    raw_first = raw_first * data["value_mask"][1]
    difference = first_row - raw_first
    last = VALUE_LENGTHS[1] - 1
    assert difference[last] > 1e-3
    np.testing.assert_allclose(np.delete(difference, last), 0.0, atol=1e-6)


@pytest.mark.parametrize("mode", ["soft", "hard"])
def test_monotonic_step_by_step_decoding_reproduces_the_full_call(data, mode):
    layer = MonotonicAttention(units=5, mode=mode, init_bias=0.0)
    inputs = cross_inputs(data)
    context, alignment = layer(
        inputs, mask=[None, data["value_mask"]], return_attention_scores=True
    )
    previous = None
    for i in range(T_Q):
        context_i, previous = layer.step(
            data["query"][:, i],
            data["value"],
            previous,
            value_mask=data["value_mask"],
            key=data["key"],
        )
        np.testing.assert_allclose(
            ops.convert_to_numpy(previous), ops.convert_to_numpy(alignment)[:, i], atol=1e-6
        )
        np.testing.assert_allclose(
            ops.convert_to_numpy(context_i), ops.convert_to_numpy(context)[:, i], atol=1e-6
        )


def test_monotonic_step_can_decode_hard_with_a_soft_layer(data):
    soft = MonotonicAttention(units=5, init_bias=0.0)
    attend(soft, data)
    hard = MonotonicAttention(units=5, mode="hard", init_bias=0.0)
    attend(hard, data)  # builds the layer, so that the soft layer's weights can be copied in
    hard.set_weights(soft.get_weights())
    _, hard_alignment = hard(
        cross_inputs(data),
        mask=[None, data["value_mask"]],
        return_attention_scores=True,
    )
    previous = None
    for i in range(T_Q):
        _, previous = soft.step(
            data["query"][:, i],
            data["value"],
            previous,
            value_mask=data["value_mask"],
            key=data["key"],
            mode="hard",
        )
        np.testing.assert_array_equal(
            ops.convert_to_numpy(previous), ops.convert_to_numpy(hard_alignment)[:, i]
        )


def test_monotonic_soft_trains_every_weight(data):
    layer = MonotonicAttention(units=5)
    attend(layer, data)  # build

    def loss(call, inputs):
        return ops.sum(call(inputs, mask=[None, data["value_mask"]])[..., 0] ** 2)

    assert [v.name for v in layer.trainable_weights] == [
        "query_kernel",
        "key_kernel",
        "score_vector",
        "score_bias",
    ]
    weight_grads = gradients(layer, loss, cross_inputs(data))[: len(layer.trainable_weights)]
    for gradient in weight_grads:
        assert np.all(np.isfinite(gradient)) and np.any(gradient != 0.0)


def test_monotonic_saturated_probabilities_keep_rows_and_gradients_finite(data):
    # Scaled inputs push p to exactly 0 or 1, where a plain cumprod has NaN gradients.
    layer = MonotonicAttention(units=5, init_bias=0.0)
    data = {**data, "query": data["query"] * 300.0}
    _, alignment = layer(
        cross_inputs(data), mask=[None, data["value_mask"]], return_attention_scores=True
    )
    np.testing.assert_allclose(ops.convert_to_numpy(alignment)[:2].sum(-1), 1.0, atol=1e-5)

    def loss(call, inputs):
        return ops.sum(call(inputs, mask=[None, data["value_mask"]]) ** 2)

    grads = gradients(layer, loss, cross_inputs(data))
    query_grad = grads[len(layer.trainable_weights)]
    for gradient in [*grads[: len(layer.trainable_weights)], query_grad]:
        assert gradient is not None and np.all(np.isfinite(gradient))


@pytest.mark.parametrize(
    "options, message",
    [
        ({"units": 4, "mode": "medium"}, r"mode 'medium'.*'soft', 'hard'"),
        ({"units": 4, "threshold": 1.5}, r"threshold.*\[0, 1\].*1\.5"),
        ({"units": 0}, r"units.*positive integer.*0"),
    ],
)
def test_monotonic_bad_options_say_what_was_expected(options, message):
    with pytest.raises(ValueError, match=message):
        MonotonicAttention(**options)


@pytest.mark.skipif(
    keras.backend.backend() not in ("tensorflow", "jax"), reason="XLA: TensorFlow and JAX only"
)
def test_monotonic_forward_runs_under_xla():
    layer = MonotonicAttention(units=4)
    query, value = np.ones((2, 3, 5), "float32"), np.ones((2, 4, 5), "float32")
    eager = ops.convert_to_numpy(layer([query, value]))
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        compiled = tf.function(lambda q, v: layer([q, v]), jit_compile=True)
    else:
        import jax

        trainable = [v.value for v in layer.trainable_weights]
        compiled = jax.jit(lambda q, v: layer.stateless_call(trainable, [], [q, v])[0])
    np.testing.assert_allclose(ops.convert_to_numpy(compiled(query, value)), eager, atol=1e-5)


# --------------------------------------------------------------------------------------
# Monotonic attention: the online hard walk of decoding
# --------------------------------------------------------------------------------------

WALK_LENGTHS = np.array([48, 45, 30, 9, 1, 0])  # the last source has no real position
WALK_STEPS = 24


def walk_inputs(seed, lengths=WALK_LENGTHS, steps=WALK_STEPS):
    """Queries, values and keys of three depths, sources padded at the end (and, with
    ``WALK_LENGTHS``, one source with padding inside it too)."""
    rng = np.random.default_rng(seed)
    batch, source_length = len(lengths), int(np.max(lengths))
    value_mask = lengths_mask(lengths, source_length)
    if lengths is WALK_LENGTHS:
        value_mask[3, [2, 3, 5]] = False
    return dict(
        query=rng.normal(size=(batch, steps, D_Q)).astype("float32") * 2.0,
        value=rng.normal(size=(batch, source_length, D_V)).astype("float32"),
        key=rng.normal(size=(batch, source_length, D_K)).astype("float32"),
        value_mask=value_mask,
    )


def walk_layer(seed, units=5, **options):
    """A hard MonotonicAttention with weights drawn by NumPy: the same on every backend."""
    layer = MonotonicAttention(units=units, mode="hard", **options)
    layer.build([(None, 1, D_Q), (None, None, D_K)])
    rng = np.random.default_rng(seed)
    query_kernel, key_kernel, score_vector, score_bias = layer.get_weights()
    # Small W_q, larger W_k: p_ij depends on the key, so walks stop at some words only.
    layer.set_weights([
        rng.uniform(-0.3, 0.3, size=query_kernel.shape).astype("float32"),
        rng.uniform(-1.0, 1.0, size=key_kernel.shape).astype("float32"),
        rng.uniform(-1.5, 1.5, size=score_vector.shape).astype("float32"),
        score_bias,
    ])
    return layer


def decode_hard(layer, data, online, previous=None):
    """Contexts ``(B, T_q, d_v)`` and alignments ``(B, T_q, T_v)`` of hard steps, one by one."""
    contexts, alignments = [], []
    for i in range(data["query"].shape[1]):
        context, previous = layer.step(
            data["query"][:, i], data["value"], previous, value_mask=data["value_mask"],
            key=data["key"], mode="hard", online=online,
        )
        contexts.append(ops.convert_to_numpy(context))
        alignments.append(ops.convert_to_numpy(previous))
    return np.stack(contexts, axis=1), np.stack(alignments, axis=1)


def walk_kinds(layer, data, alignments):
    """What each hard step did: moves of 0, 1, 2..7 and 8+ positions, ran past the end."""
    p_choose = ops.convert_to_numpy(layer.choose_probabilities(data["query"], data["key"], data["value_mask"]))
    kinds = set()
    for row, real in enumerate(data["value_mask"]):
        if not real.any():
            continue
        position = 0
        for i, alignment in enumerate(alignments[row]):
            chosen = int(alignment.argmax())
            if not np.any(real[position:] & (p_choose[row, i, position:] >= layer.threshold)):
                kinds.add("ran past the end")
            move = chosen - position
            kinds.add({0: "stayed", 1: "moved 1"}.get(move, "moved 2-7" if move < 8 else "moved 8+"))
            position = chosen
    return kinds


def test_monotonic_online_hard_step_equals_the_full_step():
    # Thresholds and offsets r from "never moves" (threshold 0) through one or a few
    # positions per step to walks that run past the end (threshold 1, r = -3).
    kinds = set()
    for seed, (threshold, init_bias) in enumerate(
        [(0.5, 0.0), (0.5, -3.0), (0.8, 1.0), (0.3, -1.0), (0.0, 0.0), (1.0, 0.0)]
    ):
        data = walk_inputs(seed)
        layer = walk_layer(seed, threshold=threshold, init_bias=init_bias)
        contexts, alignments = decode_hard(layer, data, online=True)
        full_contexts, full_alignments = decode_hard(layer, data, online=False)
        np.testing.assert_array_equal(alignments, full_alignments)
        np.testing.assert_array_equal(contexts, full_contexts)
        kinds |= walk_kinds(layer, data, full_alignments)
    assert kinds == {"stayed", "moved 1", "moved 2-7", "moved 8+", "ran past the end"}


def test_monotonic_online_hard_step_starts_from_any_previous_alignment():
    # The walk starts where the cumulative sum of α_{i-1} passes 0.5, as the full step
    # does: also from a soft alignment, a zero row, or a padded position.
    data = walk_inputs(7, steps=1)
    layer = MonotonicAttention(units=5, mode="hard", init_bias=-1.0)
    batch, source_length = data["key"].shape[:2]
    rng = np.random.default_rng(8)
    previous = [
        np.zeros((batch, source_length), "float32"),
        rng.dirichlet(np.full(source_length, 0.3), size=batch).astype("float32"),
        np.eye(source_length, dtype="float32")[[47, 44, 40, 4, 0, 3]],  # 40: padding of row 2
    ]
    for alignment in previous:
        online = decode_hard(layer, data, online=True, previous=alignment)
        full = decode_hard(layer, data, online=False, previous=alignment)
        for got, expected in zip(online, full):
            np.testing.assert_array_equal(got, expected)


def test_monotonic_online_ties_with_the_threshold_are_settled_over_the_whole_source(monkeypatch):
    # A window's p can differ from the whole source's in the last bits; a threshold put
    # exactly on one p makes that matter. The step then scores the whole source.
    data = walk_inputs(3, steps=6)
    layer = MonotonicAttention(units=5, mode="hard", init_bias=0.0)
    decode_hard(layer, data, online=False)  # builds the layer
    p_choose = layer.choose_probabilities(data["query"][:, :1], data["key"], data["value_mask"])
    layer.threshold = float(ops.convert_to_numpy(p_choose)[0, 0, 0])  # the first step's start
    calls = []
    over_source = MonotonicAttention._step_over_source
    monkeypatch.setattr(
        MonotonicAttention, "_step_over_source",
        lambda self, *args: calls.append(args[-1]) or over_source(self, *args),
    )
    online = decode_hard(layer, data, online=True)
    assert calls and calls[0] == "hard"  # the tie went to the full computation
    full = decode_hard(layer, data, online=False)
    for got, expected in zip(online, full):
        np.testing.assert_array_equal(got, expected)


def test_monotonic_online_step_reads_keys_from_the_previous_position_on(monkeypatch):
    # A source of 600 positions (long enough for the default to walk online) and walks
    # that move a position or two per step: each step reads a few windows of keys, all
    # at or right of the previous position.
    lengths = np.array([600, 590, 350])
    data = walk_inputs(4, lengths=lengths, steps=20)
    layer = walk_layer(4, init_bias=0.0)
    full_contexts, full_alignments = decode_hard(layer, data, online=False)
    reads = []
    window_probabilities = layer._window_probabilities

    def recording(query, key):
        probabilities = window_probabilities(query, key)
        return lambda index: reads[-1].append(ops.convert_to_numpy(index)) or probabilities(index)

    monkeypatch.setattr(layer, "_window_probabilities", recording)
    positions = np.zeros(len(lengths), int)
    for i in range(data["query"].shape[1]):
        reads.append([])
        context, alignment = layer.step(
            data["query"][:, i], data["value"], None if i == 0 else full_alignments[:, i - 1],
            value_mask=data["value_mask"], key=data["key"],
        )
        np.testing.assert_array_equal(ops.convert_to_numpy(alignment), full_alignments[:, i])
        np.testing.assert_array_equal(ops.convert_to_numpy(context), full_contexts[:, i])
        read = np.concatenate(reads[-1], axis=1) - 600 * np.arange(len(lengths))[:, None]
        assert np.all(read >= positions[:, None]), "the walk read a key left of where it stood"
        chosen = full_alignments[:, i].argmax(-1)
        furthest = (chosen - positions).max()
        assert read.shape[1] <= 2 * (furthest + 1) + monotonic.HARD_WINDOW
        positions = chosen
    assert positions.min() > 2  # the walks did move


def test_monotonic_step_scores_the_whole_source_where_the_walk_does_not_pay(monkeypatch):
    walks = []
    hard_walk = MonotonicAttention._hard_walk
    monkeypatch.setattr(
        MonotonicAttention, "_hard_walk", lambda self, *args: walks.append(1) or hard_walk(self, *args)
    )
    data = walk_inputs(0, steps=1)
    decode_hard(MonotonicAttention(units=5, mode="hard"), data, online=None)
    assert not walks  # a short source: one pass over it
    decode_hard(MonotonicAttention(units=5, mode="hard", dtype="mixed_float16"), data, online=True)
    assert not walks  # 16-bit energies
    decode_hard(MonotonicAttention(units=5, mode="hard"), data, online=True)
    assert walks
    walks.clear()
    decode_hard(MonotonicAttention(units=5, mode="hard", online=True), data, online=None)
    assert walks  # the layer's own choice, where the step leaves it open
    walks.clear()
    decode_hard(MonotonicAttention(units=5, mode="hard", online=True), data, online=False)
    assert not walks  # the step's argument overrides it
    with pytest.raises(ValueError, match=r"online must be None, True or False.*'yes'"):
        MonotonicAttention(units=5).step(data["query"][:, 0], data["value"], online="yes")


@pytest.mark.skipif(
    keras.backend.backend() not in ("tensorflow", "jax"), reason="tracing: TensorFlow and JAX only"
)
def test_monotonic_online_step_runs_traced():
    data = walk_inputs(1, steps=12)
    layer = MonotonicAttention(units=5, mode="hard", init_bias=-1.0)
    full_contexts, full_alignments = decode_hard(layer, data, online=False)

    def step(query, previous):
        return layer.step(query, data["value"], previous, value_mask=data["value_mask"], key=data["key"],
                          online=True)

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        compiled = [tf.function(step), tf.function(step, jit_compile=True)]
    else:
        import jax

        compiled = [jax.jit(step)]
    for function in compiled:
        previous = layer.initial_alignment(data["key"])  # a tensor: one trace for every step
        for i in range(data["query"].shape[1]):
            context, previous = function(data["query"][:, i], previous)
            np.testing.assert_array_equal(ops.convert_to_numpy(previous), full_alignments[:, i])
            np.testing.assert_array_equal(ops.convert_to_numpy(context), full_contexts[:, i])


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="the Translator is tested on TensorFlow"
)
@pytest.mark.parametrize("init_bias", [0.0, -1.0])  # r = -1: most walks run past the end at once
def test_greedy_decoding_is_the_same_with_the_online_walk(toy, init_bias):
    pairs, arrays = toy
    model = make_translator(pairs, source_length=SOURCE_LENGTH, attention=MonotonicAttention(8, init_bias=init_bias),
                            embedding_dim=6, units=10, seed=0, compile=False)
    decoded = {}
    for online in (True, False):
        model.attention.online = online  # what every step of the decoding does
        decoded[online] = decoding.greedy_decode(model, arrays["source"], max_length=12, batch_size=5)
    np.testing.assert_array_equal(decoded[True][0], decoded[False][0])
    np.testing.assert_array_equal(decoded[True][1], decoded[False][1])
    assert decoded[True][1].argmax(-1).max() > 0  # the walks moved
