"""attncourse.reference against formulas written out independently, one entry at a time.

The reference functions are vectorised NumPy; the expectations here are explicit loops
over i and j in the equation's own form (``W x`` with the equation's matrix, the
transpose of the stored one), so the two can only agree when both are right.
"""

import math

import numpy as np
import pytest

from attncourse import reference as R


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


def softmax_written_out(scores, allowed):
    """m_j exp(e_j) / Σ m_j' exp(e_j') for one row, by hand (small scores only)."""
    numerators = [math.exp(e) if m else 0.0 for e, m in zip(scores, allowed)]
    total = sum(numerators)
    return np.array([n / total if total else 0.0 for n in numerators])


# ----------------------------------------------------------------------------- softmax


def test_masked_softmax_matches_exp_over_sum(rng):
    scores = rng.normal(size=(2, 3, 5))
    mask = rng.random((2, 3, 5)) > 0.3
    weights = R.masked_softmax(scores, mask)
    for b in range(2):
        for i in range(3):
            np.testing.assert_allclose(weights[b, i], softmax_written_out(scores[b, i], mask[b, i]), atol=1e-12)


def test_masked_softmax_without_mask_and_on_another_axis(rng):
    scores = rng.normal(size=(4, 3))
    along_rows = R.masked_softmax(scores, axis=0)
    for column in range(3):
        np.testing.assert_allclose(along_rows[:, column], softmax_written_out(scores[:, column], [True] * 4))
    np.testing.assert_allclose(R.masked_softmax(scores).sum(-1), 1.0)


def test_masked_softmax_broadcasts_a_padding_mask(rng):
    scores = rng.normal(size=(2, 3, 4))
    padding = np.array([[True, True, True, False], [True, True, False, False]])
    weights = R.masked_softmax(scores, padding[:, None, :])
    np.testing.assert_array_equal(weights[0, :, 3], 0.0)
    np.testing.assert_array_equal(weights[1, :, 2:], 0.0)
    np.testing.assert_allclose(weights.sum(-1), 1.0)
    np.testing.assert_allclose(weights, R.masked_softmax(scores, np.broadcast_to(padding[:, None, :], (2, 3, 4))))


def test_masked_softmax_is_stable_for_huge_logits():
    scores = np.array([[1e4, 1e4 - 1.0, -1e4], [-1e4, -1e4, -1e4], [1e4, 0.0, 1e4]])
    with np.errstate(invalid="raise", divide="raise", over="raise"):
        weights = R.masked_softmax(scores)
    assert np.all(np.isfinite(weights))
    # Shifting every score by a constant changes nothing: compare with small logits.
    np.testing.assert_allclose(weights[0], softmax_written_out([0.0, -1.0, -700.0], [True] * 3), atol=1e-12)
    np.testing.assert_allclose(weights[1], [1 / 3, 1 / 3, 1 / 3])
    np.testing.assert_allclose(weights[2], [0.5, 0.0, 0.5], atol=1e-12)


def test_masked_softmax_gives_exact_zeros_and_zero_rows():
    scores = np.array([[1e4, 2.0, 3.0], [1.0, 2.0, 3.0], [np.nan, 5.0, 1.0]])
    mask = np.array([[False, True, True], [False, False, False], [False, True, True]])
    with np.errstate(invalid="raise", divide="raise", over="raise"):
        weights = R.masked_softmax(scores, mask)
    assert weights[0, 0] == 0.0  # masked, although its logit is by far the largest
    np.testing.assert_array_equal(weights[1], [0.0, 0.0, 0.0])  # nothing to attend: zeros, not NaN
    assert weights[2, 0] == 0.0 and np.all(np.isfinite(weights))  # a masked NaN is ignored
    np.testing.assert_allclose(weights[[0, 2]].sum(-1), 1.0)


# ----------------------------------------------------------------------------- scores


@pytest.fixture
def pair(rng):
    """A query (2, T_q=3, d_q=4) and keys (2, T_v=5, d_k=6)."""
    return rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 5, 6))


def each_score(query, keys, score_of_pair):
    """Scores (B, T_q, T_v) filled one (b, i, j) entry at a time."""
    batch, steps_q, steps_v = query.shape[0], query.shape[1], keys.shape[1]
    scores = np.zeros((batch, steps_q, steps_v))
    for b in range(batch):
        for i in range(steps_q):
            for j in range(steps_v):
                scores[b, i, j] = score_of_pair(query[b, i], keys[b, j])
    return scores


def test_additive_score(rng, pair):
    query, keys = pair
    W_q, W_k, w = rng.normal(size=(4, 7)), rng.normal(size=(6, 7)), rng.normal(size=7)
    expected = each_score(query, keys, lambda q, k: w @ np.tanh(W_q.T @ q + W_k.T @ k))
    np.testing.assert_allclose(R.additive_score(query, keys, W_q, W_k, w), expected, atol=1e-12)


def test_dot_and_scaled_dot_scores(rng):
    query, keys = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 5, 4))
    expected = each_score(query, keys, lambda q, k: sum(q[n] * k[n] for n in range(4)))
    np.testing.assert_allclose(R.dot_score(query, keys), expected, atol=1e-12)
    np.testing.assert_allclose(R.scaled_dot_score(query, keys), expected / 2.0, atol=1e-12)  # sqrt(4)


def test_general_score(rng, pair):
    query, keys = pair
    W = rng.normal(size=(4, 6))
    expected = each_score(query, keys, lambda q, k: q @ W @ k)
    np.testing.assert_allclose(R.general_score(query, keys, W), expected, atol=1e-12)


def test_concat_score(rng, pair):
    query, keys = pair
    W, w = rng.normal(size=(10, 7)), rng.normal(size=7)
    expected = each_score(query, keys, lambda q, k: w @ np.tanh(W.T @ np.concatenate([q, k])))
    np.testing.assert_allclose(R.concat_score(query, keys, W, w), expected, atol=1e-12)
    # concat is additive with the stacked matrix cut in two
    np.testing.assert_allclose(R.concat_score(query, keys, W, w), R.additive_score(query, keys, W[:4], W[4:], w))


def test_scores_broadcast_batch_dimensions(rng):
    query, keys = rng.normal(size=(2, 1, 3, 4)), rng.normal(size=(3, 5, 4))
    W_q, W_k, w = rng.normal(size=(4, 2)), rng.normal(size=(4, 2)), rng.normal(size=2)
    W = rng.normal(size=(4, 4))
    W_concat = rng.normal(size=(8, 2))
    functions = {
        "additive": lambda q, k: R.additive_score(q, k, W_q, W_k, w),
        "dot": R.dot_score,
        "scaled": R.scaled_dot_score,
        "general": lambda q, k: R.general_score(q, k, W),
        "concat": lambda q, k: R.concat_score(q, k, W_concat, w),
    }
    for name, score in functions.items():
        batched = score(query, keys)
        assert batched.shape == (2, 3, 3, 5), name
        for a in range(2):
            for b in range(3):
                np.testing.assert_allclose(batched[a, b], score(query[a, 0], keys[b]), err_msg=name)


def test_context_is_the_weighted_sum_of_values(rng):
    weights = R.masked_softmax(rng.normal(size=(2, 3, 5)))
    values = rng.normal(size=(2, 5, 4))
    expected = np.zeros((2, 3, 4))
    for b in range(2):
        for i in range(3):
            for j in range(5):
                expected[b, i] += weights[b, i, j] * values[b, j]
    np.testing.assert_allclose(R.context(weights, values), expected, atol=1e-12)


# ----------------------------------------------------------------------------- local attention


def test_gaussian_window_and_local_window_mask():
    centers = np.array([[0.0, 2.5, 4.0]])
    positions = np.arange(6)
    window = 2
    gaussian = R.gaussian_window(centers, positions, window)
    inside = R.local_window_mask(centers, positions, window)
    assert gaussian.shape == inside.shape == (1, 3, 6)
    sigma = window / 2
    for i, center in enumerate(centers[0]):
        for j in positions:
            assert gaussian[0, i, j] == pytest.approx(math.exp(-((j - center) ** 2) / (2 * sigma**2)))
            assert inside[0, i, j] == (abs(j - center) <= window)
    assert inside[0, 0, 2] and not inside[0, 0, 3]  # the edge |j - p| = D is inside
    assert gaussian[0, 2, 5] == pytest.approx(math.exp(-0.5))  # one sigma away


def test_predictive_centers(rng):
    query = rng.normal(size=(2, 3, 4))
    W_p, w_p = rng.normal(size=(4, 5)), rng.normal(size=5)
    lengths = np.array([7.0, 4.0])
    centers = R.predictive_centers(query, W_p, w_p, lengths)
    assert centers.shape == (2, 3)
    for b in range(2):
        for i in range(3):
            expected = lengths[b] * sigmoid(w_p @ np.tanh(W_p.T @ query[b, i]))
            assert centers[b, i] == pytest.approx(expected)
    assert np.all((centers > 0) & (centers < lengths[:, None]))
    np.testing.assert_allclose(R.predictive_centers(query, W_p, w_p, 7), centers * 7 / lengths[:, None])


def local_weights_written_out(scores, centers, window, allowed, gaussian):
    """One row at a time: exp(e_j) · Gaussian_j over the window and mask, normalised."""
    steps_q, steps_v = scores.shape
    sigma = window / 2
    weights = np.zeros(scores.shape)
    for i in range(steps_q):
        numerators = np.zeros(steps_v)
        for j in range(steps_v):
            if abs(j - centers[i]) <= window and allowed[i, j]:
                factor = math.exp(-((j - centers[i]) ** 2) / (2 * sigma**2)) if gaussian else 1.0
                numerators[j] = math.exp(scores[i, j]) * factor
        if numerators.sum():
            weights[i] = numerators / numerators.sum()
    return weights


@pytest.mark.parametrize("gaussian", [True, False])
def test_local_attention_weights_written_out(rng, gaussian):
    scores = rng.normal(size=(2, 4, 9))
    centers = rng.uniform(0, 8, size=(2, 4))
    mask = np.ones((2, 1, 9), dtype=bool)
    mask[1, 0, 6:] = False
    weights = R.local_attention_weights(scores, centers, 2, mask=mask, gaussian=gaussian)
    for b in range(2):
        expected = local_weights_written_out(scores[b], centers[b], 2, np.broadcast_to(mask[b], (4, 9)), gaussian)
        np.testing.assert_allclose(weights[b], expected, atol=1e-12)


def test_local_attention_is_luongs_product_renormalised(rng):
    scores, centers, window = rng.normal(size=(3, 10)), np.array([1.0, 4.5, 8.2]), 3
    positions = np.arange(10)
    luong = R.masked_softmax(scores) * R.gaussian_window(centers, positions, window)
    luong = luong * R.local_window_mask(centers, positions, window)
    assert np.all(luong.sum(-1) < 1.0)  # Luong's weights are not a distribution
    np.testing.assert_allclose(
        R.local_attention_weights(scores, centers, window), luong / luong.sum(-1, keepdims=True), atol=1e-12
    )


def test_local_attention_zero_outside_the_window(rng):
    scores = rng.normal(size=(6, 12)) * 50  # large scores everywhere, also outside the window
    centers = np.array([0.0, 2.0, 3.7, 6.0, 9.5, 11.0])
    weights = R.local_attention_weights(scores, centers, 2)
    outside = np.abs(np.arange(12) - centers[:, None]) > 2
    assert np.all(weights[outside] == 0.0)
    np.testing.assert_allclose(weights.sum(-1), 1.0)


def test_local_m_defaults_to_the_diagonal_and_empty_windows_give_zeros(rng):
    scores = rng.normal(size=(5, 5))
    weights = R.local_attention_weights(scores, None, 1, gaussian=False)
    band = np.abs(np.arange(5)[:, None] - np.arange(5)[None, :]) <= 1
    np.testing.assert_allclose(weights, R.masked_softmax(scores, band))
    # window 0: local-m attends only to its own position
    np.testing.assert_array_equal(R.local_attention_weights(scores, None, 0, gaussian=False), np.eye(5))
    # a window that lies entirely on padding has nothing to attend to
    padding = np.array([True, True, False, False, False])
    far = R.local_attention_weights(scores[:1], [4.0], 1, mask=padding)
    np.testing.assert_array_equal(far, 0.0)


# ----------------------------------------------------------------------------- monotonic


def raffel_recurrence(p_choose, allowed):
    """Raffel's linear recurrence q_ij = (1 − p_i,j−1) q_i,j−1 + α_i−1,j, α_ij = p_ij q_ij,
    with the course's completion (leftover mass on the last unmasked position)."""
    steps_q, steps_v = p_choose.shape
    p = np.where(allowed, p_choose, 0.0)
    previous = np.eye(steps_v)[0]
    alignment = np.zeros(p.shape)
    for i in range(steps_q):
        q = 0.0
        for j in range(steps_v):
            q = (1 - p[i, j - 1]) * q + previous[j] if j else previous[0]
            alignment[i, j] = p[i, j] * q
        last = np.flatnonzero(allowed[i])[-1]
        alignment[i, last] += 1 - alignment[i].sum()
        previous = alignment[i]
    return alignment


def test_monotonic_expected_alignment_matches_raffels_recurrence(rng):
    p_choose = rng.random((2, 4, 6))
    mask = np.ones((2, 1, 6), dtype=bool)
    mask[1, 0, 4:] = False
    alignment = R.monotonic_expected_alignment(p_choose, mask)
    for b in range(2):
        allowed = np.broadcast_to(mask[b], (4, 6))
        np.testing.assert_allclose(alignment[b], raffel_recurrence(p_choose[b], allowed), atol=1e-12)
    np.testing.assert_allclose(alignment.sum(-1), 1.0)
    np.testing.assert_array_equal(alignment[1, :, 4:], 0.0)


def test_monotonic_hand_computed_case():
    p_choose = np.array([[0.5, 0.5, 0.5], [0.2, 0.6, 1.0]])
    # Row 1 from one-hot α_0: 0.5, 0.5·0.5, 0.5·0.5·0.5 + the 0.125 that passes the end.
    # Row 2: α_20 = 0.2·0.5; α_21 = 0.6·(0.5·0.8 + 0.25); α_22 = 1·(0.5·0.8·0.4 + 0.25·0.4 + 0.25).
    expected = np.array([[0.5, 0.25, 0.25], [0.1, 0.39, 0.51]])
    np.testing.assert_allclose(R.monotonic_expected_alignment(p_choose), expected, atol=1e-12)


def test_monotonic_extreme_probabilities():
    # Always stopping: the attention never leaves the first word.
    np.testing.assert_array_equal(R.monotonic_expected_alignment(np.ones((4, 5))), np.eye(5)[[0, 0, 0, 0]])
    # Never stopping: every step walks past the end and lands on the last word...
    np.testing.assert_array_equal(R.monotonic_expected_alignment(np.zeros((3, 5))), np.eye(5)[[4, 4, 4]])
    # ... the last *real* word when the source is padded.
    padded = R.monotonic_expected_alignment(np.zeros((3, 5)), mask=np.array([True, True, True, False, False]))
    np.testing.assert_array_equal(padded, np.eye(5)[[2, 2, 2]])


def test_monotonic_mass_only_moves_right(rng):
    alignment = R.monotonic_expected_alignment(rng.random((6, 7)))
    expected_position = alignment @ np.arange(7)
    assert np.all(np.diff(expected_position) >= -1e-12)
    # the probability of having passed position j never decreases from one step to the next
    passed = 1 - np.cumsum(alignment, axis=-1)
    assert np.all(np.diff(passed, axis=0) >= -1e-12)


def test_monotonic_padding_and_masked_rows_change_nothing(rng):
    p_choose = rng.random((4, 5))
    padded_p = np.concatenate([p_choose, rng.random((4, 2))], axis=-1)
    padded = R.monotonic_expected_alignment(padded_p, mask=np.arange(7) < 5)
    np.testing.assert_allclose(padded[:, :5], R.monotonic_expected_alignment(p_choose), atol=1e-12)
    np.testing.assert_array_equal(padded[:, 5:], 0.0)
    # A fully masked output step gives zeros; the next step continues from the one before.
    row_mask = np.ones((4, 5), dtype=bool)
    row_mask[1] = False
    with np.errstate(invalid="raise", divide="raise", over="raise"):
        skipped = R.monotonic_expected_alignment(p_choose, row_mask)
    np.testing.assert_array_equal(skipped[1], 0.0)
    np.testing.assert_allclose(skipped[[0, 2, 3]], R.monotonic_expected_alignment(p_choose[[0, 2, 3]]), atol=1e-12)


def test_hard_monotonic_hand_case():
    p_choose = np.array([[0.1, 0.7, 0.2, 0.9], [0.6, 0.2, 0.4, 0.3], [0.1, 0.1, 0.1, 0.1], [0.9, 0.9, 0.9, 0.9]])
    # step 1 stops at 1; step 2 starts at 1 (0.6 at position 0 is behind it), finds nothing,
    # ends on the last word; step 3 and 4 stay there.
    np.testing.assert_array_equal(R.hard_monotonic_alignment(p_choose), np.eye(4)[[1, 3, 3, 3]])
    np.testing.assert_array_equal(R.hard_monotonic_alignment(p_choose, threshold=0.95), np.eye(4)[[3, 3, 3, 3]])
    # with the last two words padded, "the end" is position 1
    mask = np.array([True, True, False, False])
    np.testing.assert_array_equal(R.hard_monotonic_alignment(p_choose, mask), np.eye(4)[[1, 1, 1, 1]])


def test_hard_monotonic_never_moves_left(rng):
    p_choose = rng.random((3, 8, 6))
    mask = np.ones((3, 1, 6), dtype=bool)
    mask[2, 0, 3:] = False
    hard = R.hard_monotonic_alignment(p_choose, mask)
    np.testing.assert_array_equal(hard.sum(-1), 1.0)
    assert set(np.unique(hard)) <= {0.0, 1.0}
    positions = hard.argmax(-1)
    assert np.all(np.diff(positions, axis=-1) >= 0)
    assert np.all(positions[2] < 3)


def test_hard_and_expected_agree_when_choices_are_certain(rng):
    p_choose = (rng.random((2, 6, 5)) > 0.6).astype(float)
    mask = np.ones((2, 1, 5), dtype=bool)
    mask[1, 0, 3:] = False
    np.testing.assert_array_equal(
        R.hard_monotonic_alignment(p_choose, mask), R.monotonic_expected_alignment(p_choose, mask)
    )


# ----------------------------------------------------------------------------- pooling


def test_context_attention_weights(rng):
    h = rng.normal(size=(2, 5, 4))
    W, b, u_w = rng.normal(size=(4, 3)), rng.normal(size=3), rng.normal(size=3)
    mask = np.array([[True] * 5, [True, True, True, False, False]])
    weights = R.context_attention_weights(h, W, b, u_w, mask)
    for n in range(2):
        scores = [u_w @ np.tanh(W.T @ h[n, t] + b) for t in range(5)]
        np.testing.assert_allclose(weights[n], softmax_written_out(scores, mask[n]), atol=1e-12)
    np.testing.assert_allclose(R.context_attention_weights(h[0], W, b, u_w), weights[0])


def test_self_attentive_weights(rng):
    h = rng.normal(size=(2, 5, 4))
    W_s1, W_s2 = rng.normal(size=(4, 6)), rng.normal(size=(6, 3))
    mask = np.array([[True] * 5, [True, True, True, True, False]])
    A = R.self_attentive_weights(h, W_s1, W_s2, mask)
    assert A.shape == (2, 3, 5)
    for n in range(2):
        for hop in range(3):
            scores = [W_s2[:, hop] @ np.tanh(W_s1.T @ h[n, t]) for t in range(5)]
            np.testing.assert_allclose(A[n, hop], softmax_written_out(scores, mask[n]), atol=1e-12)


def test_hop_penalty(rng):
    A = R.masked_softmax(rng.normal(size=(2, 3, 5)))
    penalty = R.hop_penalty(A)
    assert penalty.shape == (2,)
    for n in range(2):
        expected = sum(
            (sum(A[n, a, t] * A[n, c, t] for t in range(5)) - (a == c)) ** 2 for a in range(3) for c in range(3)
        )
        assert penalty[n] == pytest.approx(expected)
    assert R.hop_penalty(np.eye(5)[[0, 2, 4]]) == pytest.approx(0.0)  # distinct one-hot hops
    assert R.hop_penalty(np.eye(5)[[1, 1, 1]]) == pytest.approx(6.0)  # the same hop three times


# ----------------------------------------------------------------------------- key-value


def test_key_value_split(rng):
    h = rng.normal(size=(2, 3, 6))
    keys, values, predict = R.key_value_split(h, "attention")
    assert keys is values is predict
    keys, values, predict = R.key_value_split(h, "key_value")
    np.testing.assert_array_equal(np.concatenate([keys, values], -1), h)
    assert values is predict
    keys, values, predict = R.key_value_split(h, "key_value_predict")
    assert keys.shape == values.shape == predict.shape == (2, 3, 2)
    np.testing.assert_array_equal(np.concatenate([keys, values, predict], -1), h)


def key_value_written_out(h, W_k, W_q, w, window, mode):
    """Daniluk's attention one step and one past position at a time."""
    steps, depth = h.shape
    parts = {"attention": 1, "key_value": 2, "key_value_predict": 3}[mode]
    size = depth // parts
    keys = h[:, :size]
    values = h if mode == "attention" else h[:, size : 2 * size]
    weights = np.zeros((steps, steps))
    for t in range(steps):
        past = [j for j in range(t - window, t) if j >= 0]
        scores = [w @ np.tanh(W_k.T @ keys[j] + W_q.T @ keys[t]) for j in past]
        if past:
            weights[t, past] = softmax_written_out(scores, [True] * len(past))
    contexts = np.array([sum(weights[t, j] * values[j] for j in range(steps)) for t in range(steps)])
    return contexts, weights


@pytest.mark.parametrize("mode, depth_k", [("attention", 6), ("key_value", 3), ("key_value_predict", 2)])
def test_key_value_attention_written_out(rng, mode, depth_k):
    h = rng.normal(size=(2, 7, 6))
    W_k, W_q, w = rng.normal(size=(depth_k, depth_k)), rng.normal(size=(depth_k, depth_k)), rng.normal(size=depth_k)
    contexts, weights = R.key_value_attention(h, W_k, W_q, w, 3, mode=mode)
    assert contexts.shape == (2, 7, 6 if mode == "attention" else depth_k)
    for b in range(2):
        expected_contexts, expected_weights = key_value_written_out(h[b], W_k, W_q, w, 3, mode)
        np.testing.assert_allclose(weights[b], expected_weights, atol=1e-12)
        np.testing.assert_allclose(contexts[b], expected_contexts, atol=1e-12)


def test_key_value_attention_is_causal_with_a_short_span(rng):
    h = rng.normal(size=(8, 4))
    W_k, W_q, w = rng.normal(size=(4, 4)), rng.normal(size=(4, 4)), rng.normal(size=4)
    contexts, weights = R.key_value_attention(h, W_k, W_q, w, window=2)
    t, j = np.indices((8, 8))
    assert np.all(weights[j >= t] == 0.0)  # never itself or the future
    assert np.all(weights[j < t - 2] == 0.0)  # nothing older than the window
    np.testing.assert_array_equal(weights[0], 0.0)
    np.testing.assert_array_equal(contexts[0], 0.0)
    np.testing.assert_allclose(weights[1:].sum(-1), 1.0)
    # changing the future changes nothing before it
    changed = h.copy()
    changed[5:] = rng.normal(size=(3, 4))
    changed_contexts, changed_weights = R.key_value_attention(changed, W_k, W_q, w, window=2)
    np.testing.assert_array_equal(changed_weights[:5], weights[:5])
    np.testing.assert_array_equal(changed_contexts[:5], contexts[:5])


def test_key_value_attention_mask(rng):
    h = rng.normal(size=(6, 4))
    W_k, W_q, w = rng.normal(size=(4, 4)), rng.normal(size=(4, 4)), rng.normal(size=4)
    mask = np.array([True, False, True, True, True, True])
    _, weights = R.key_value_attention(h, W_k, W_q, w, window=3, mask=mask)
    np.testing.assert_array_equal(weights[:, 1], 0.0)
    np.testing.assert_array_equal(weights[2], np.eye(6)[0])  # its window holds 0 and the masked 1
    np.testing.assert_allclose(weights[3:].sum(-1), 1.0)


# ----------------------------------------------------------------------------- errors


def _arrays(*shapes):
    return [np.ones(shape) for shape in shapes]


INVALID_CALLS = {
    "softmax mask not broadcastable": lambda: R.masked_softmax(np.ones((2, 3)), np.ones((3, 2), bool)),
    "softmax mask larger than scores": lambda: R.masked_softmax(np.ones(3), np.ones((2, 3), bool)),
    "softmax axis": lambda: R.masked_softmax(np.ones((2, 3)), axis=2),
    "softmax scalar": lambda: R.masked_softmax(1.0),
    "softmax text": lambda: R.masked_softmax(np.array(["a", "b"])),
    "additive W_q rows": lambda: R.additive_score(*_arrays((3, 4), (5, 6), (5, 2), (6, 2), (2,))),
    "additive W_k units": lambda: R.additive_score(*_arrays((3, 4), (5, 6), (4, 2), (6, 3), (2,))),
    "additive w": lambda: R.additive_score(*_arrays((3, 4), (5, 6), (4, 2), (6, 2), (3,))),
    "additive query rank": lambda: R.additive_score(*_arrays((4,), (5, 6), (4, 2), (6, 2), (2,))),
    "dot depth": lambda: R.dot_score(*_arrays((3, 4), (5, 6))),
    "scaled depth": lambda: R.scaled_dot_score(*_arrays((3, 4), (5, 6))),
    "batch not broadcastable": lambda: R.dot_score(*_arrays((2, 3, 4), (3, 5, 4))),
    "general W": lambda: R.general_score(*_arrays((3, 4), (5, 6), (6, 4))),
    "concat W rows": lambda: R.concat_score(*_arrays((3, 4), (5, 6), (9, 2), (2,))),
    "concat w": lambda: R.concat_score(*_arrays((3, 4), (5, 6), (10, 2), (3,))),
    "context T_v": lambda: R.context(*_arrays((3, 5), (4, 2))),
    "context rank": lambda: R.context(*_arrays((5,), (5, 2))),
    "gaussian window 0": lambda: R.gaussian_window(np.ones(3), np.arange(4), 0),
    "gaussian window negative": lambda: R.gaussian_window(np.ones(3), np.arange(4), -1),
    "gaussian positions 2-D": lambda: R.gaussian_window(np.ones(3), np.ones((2, 4)), 1),
    "window mask window": lambda: R.local_window_mask(np.ones(3), np.arange(4), -0.5),
    "window mask not a number": lambda: R.local_window_mask(np.ones(3), np.arange(4), [1, 2]),
    "centers W_p": lambda: R.predictive_centers(*_arrays((3, 4), (5, 2), (2,)), 5),
    "centers w_p": lambda: R.predictive_centers(*_arrays((3, 4), (4, 2), (3,)), 5),
    "centers lengths": lambda: R.predictive_centers(*_arrays((2, 3, 4), (4, 2), (2,)), np.ones(3)),
    "centers negative length": lambda: R.predictive_centers(*_arrays((3, 4), (4, 2), (2,)), -1),
    "local centers T_q": lambda: R.local_attention_weights(np.ones((3, 5)), np.ones(4), 1),
    "local gaussian window 0": lambda: R.local_attention_weights(np.ones((3, 5)), np.ones(3), 0),
    "local mask": lambda: R.local_attention_weights(np.ones((3, 5)), np.ones(3), 1, mask=np.ones(4, bool)),
    "monotonic above 1": lambda: R.monotonic_expected_alignment(np.full((2, 3), 1.5)),
    "monotonic NaN": lambda: R.monotonic_expected_alignment(np.full((2, 3), np.nan)),
    "monotonic rank": lambda: R.monotonic_expected_alignment(np.full(3, 0.5)),
    "monotonic mask": lambda: R.monotonic_expected_alignment(np.full((2, 3), 0.5), np.ones(2, bool)),
    "hard negative": lambda: R.hard_monotonic_alignment(np.full((2, 3), -0.1)),
    "hard threshold": lambda: R.hard_monotonic_alignment(np.full((2, 3), 0.5), threshold=2.0),
    "hard mask": lambda: R.hard_monotonic_alignment(np.full((2, 3), 0.5), np.ones((3, 3), bool)),
    "HAN W": lambda: R.context_attention_weights(*_arrays((5, 4), (3, 2), (2,), (2,))),
    "HAN b": lambda: R.context_attention_weights(*_arrays((5, 4), (4, 2), (3,), (2,))),
    "HAN u_w": lambda: R.context_attention_weights(*_arrays((5, 4), (4, 2), (2,), (3,))),
    "HAN mask": lambda: R.context_attention_weights(*_arrays((5, 4), (4, 2), (2,), (2,)), np.ones(4, bool)),
    "HAN rank": lambda: R.context_attention_weights(*_arrays((4,), (4, 2), (2,), (2,))),
    "Lin W_s1": lambda: R.self_attentive_weights(*_arrays((5, 4), (3, 2), (2, 3))),
    "Lin W_s2": lambda: R.self_attentive_weights(*_arrays((5, 4), (4, 2), (3, 3))),
    "Lin mask": lambda: R.self_attentive_weights(*_arrays((5, 4), (4, 2), (2, 3)), np.ones(4, bool)),
    "penalty rank": lambda: R.hop_penalty(np.ones(3)),
    "split mode": lambda: R.key_value_split(np.ones((3, 6)), "keys"),
    "split halves": lambda: R.key_value_split(np.ones((3, 5)), "key_value"),
    "split thirds": lambda: R.key_value_split(np.ones((3, 8)), "key_value_predict"),
    "kv window 0": lambda: R.key_value_attention(*_arrays((5, 4), (4, 4), (4, 4), (4,)), 0),
    "kv window float": lambda: R.key_value_attention(*_arrays((5, 4), (4, 4), (4, 4), (4,)), 1.5),
    "kv W_k": lambda: R.key_value_attention(*_arrays((5, 4), (4, 3), (4, 4), (4,)), 2),
    "kv W_q": lambda: R.key_value_attention(*_arrays((5, 4), (4, 4), (2, 2), (4,)), 2),
    "kv w": lambda: R.key_value_attention(*_arrays((5, 4), (4, 4), (4, 4), (2,)), 2),
    "kv halves weights": lambda: R.key_value_attention(*_arrays((5, 4), (4, 4), (4, 4), (4,)), 2, "key_value"),
    "kv mode": lambda: R.key_value_attention(*_arrays((5, 4), (4, 4), (4, 4), (4,)), 2, "values"),
    "kv mask": lambda: R.key_value_attention(*_arrays((5, 4), (4, 4), (4, 4), (4,)), 2, mask=np.ones(4, bool)),
    "kv rank": lambda: R.key_value_attention(*_arrays((4,), (4, 4), (4, 4), (4,)), 2),
}


@pytest.mark.parametrize("case", sorted(INVALID_CALLS))
def test_invalid_inputs_raise_value_errors(case):
    with pytest.raises(ValueError, match="expected") as error:
        INVALID_CALLS[case]()
    assert "receiv" in str(error.value)  # says what came, not only what was expected
