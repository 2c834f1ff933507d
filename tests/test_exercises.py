from types import SimpleNamespace

import numpy as np
import pytest

from attncourse import data, exercises, reference


def _mass_ratio_in_box(weights, box, cell_size):
    """Exercise 1.3 solved with the course's own helper (a different method from the checker's)."""
    cells = data.box_cells(box, cell_size, weights.shape)
    return weights[cells].sum() / cells.mean()


def _sample_places(weights, rng):
    """Exercise 1.4: inverse-CDF sampling, one uniform number per row, vectorised."""
    cumulative = np.cumsum(weights, axis=-1)
    cumulative /= cumulative[:, -1:]
    u = rng.random(len(weights))
    return np.argmax(cumulative > u[:, None], axis=-1)

def _local_p_by_multiplying(scores, centers, window, mask=None):
    """Exercise 4.4 Luong's way: softmax over the window, times the Gaussian, then renormalised."""
    positions = np.arange(scores.shape[-1])
    distance = positions - centers[..., None]
    allowed = np.abs(distance) <= window
    if mask is not None:
        allowed = allowed & mask
    weights = reference.masked_softmax(scores, allowed) * np.exp(-distance**2 / (2 * (window / 2) ** 2))
    return weights / weights.sum(axis=-1, keepdims=True)


def _softmax_jacobian_by_differences(scores, step=1e-6):
    """Exercise 4.5 by central differences of the softmax, one score at a time."""
    scores = np.asarray(scores, dtype=float)
    jacobian = np.zeros(scores.shape + scores.shape[-1:])
    for k in range(scores.shape[-1]):
        bump = np.zeros(scores.shape)
        bump[..., k] = step
        change = reference.masked_softmax(scores + bump) - reference.masked_softmax(scores - bump)
        jacobian[..., :, k] = change / (2 * step)
    return jacobian


def _reinforce_gradient_by_differences(scores, chosen, reward, baseline, step=1e-5):
    """Exercise 5.1 by central differences of (r − b) log softmax(e)_j, one score at a time."""
    def objective(e):
        shifted = e - e.max(axis=-1, keepdims=True)
        log_softmax = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
        return (np.asarray(reward) - baseline) * log_softmax[np.arange(len(e)), chosen]

    gradient = np.zeros(scores.shape)
    for j in range(scores.shape[1]):
        bump = np.zeros(scores.shape)
        bump[:, j] = step
        gradient[:, j] = (objective(scores + bump) - objective(scores - bump)) / (2 * step)
    return gradient


def _expected_alignment_recursive(p_choose):
    """Exercise 5.2 with Raffel et al.'s running sum q_ij = (1 − p_i,j−1) q_i,j−1 + α_i−1,j."""
    steps_q, steps_v = p_choose.shape
    previous = np.eye(steps_v)[0]
    rows = []
    for i in range(steps_q):
        arriving, row = 0.0, np.zeros(steps_v)
        for j in range(steps_v):
            arriving = (1.0 - p_choose[i, j - 1]) * arriving + previous[j] if j else previous[0]
            row[j] = p_choose[i, j] * arriving
        row[-1] += max(0.0, 1.0 - row.sum())  # the mass that walked past the end
        rows.append(row)
        previous = row
    return np.array(rows)


def _hard_monotonic_walk(p_choose, threshold):
    """Exercise 5.3: scan right from the last stop; stay on the last word if nothing is chosen."""
    steps_q, steps_v = p_choose.shape
    alignment = np.zeros(p_choose.shape)
    position = 0
    for i in range(steps_q):
        stops = np.flatnonzero(p_choose[i, position:] >= threshold)
        position = position + stops[0] if stops.size else steps_v - 1
        alignment[i, position] = 1.0
    return alignment


def _forward_attention_shifted(weights, move):
    """Exercise 5.4 vectorised over the source: shift the previous row by one word."""
    previous = np.eye(weights.shape[1])[0]
    rows = []
    for y, u in zip(weights, move):
        shifted = np.concatenate([[0.0], previous[:-1]])
        row = ((1.0 - u) * previous + u * shifted) * y
        previous = row / row.sum()
        rows.append(previous)
    return np.array(rows)


def _causal_mask_vectorised(token_mask):
    """Exercise 9.1: a lower triangle of ones, AND the mask of the keys (columns)."""
    steps = token_mask.shape[1]
    return np.tril(np.ones((steps, steps), dtype=bool))[None] & token_mask[:, None, :]


def _positions_vectorised(length, depth):
    """Exercise 9.2: all angles at once, sines in the even columns and cosines in the odd ones."""
    angles = np.arange(length)[:, None] / 10000.0 ** (np.arange(0, depth, 2) / depth)
    encoding = np.zeros((length, depth))
    encoding[:, 0::2], encoding[:, 1::2] = np.sin(angles), np.cos(angles)
    return encoding


def _split_heads_by_reshape(x, heads):
    """Exercise 9.3: cut the last axis into (heads, d / heads), then move heads before T."""
    batch, steps, depth = x.shape
    return x.reshape(batch, steps, heads, depth // heads).transpose(0, 2, 1, 3)


def _reverse_source_vectorised(padded):
    """Exercise 2.1 with index arithmetic: position t of a row reads word length - 1 - t."""
    padded = np.asarray(padded)
    lengths = (padded != data.PAD).sum(axis=1, keepdims=True)
    source_index = lengths - 1 - np.arange(padded.shape[1])
    taken = np.take_along_axis(padded, np.clip(source_index, 0, None), axis=1)
    return np.where(source_index >= 0, taken, data.PAD)


def _teacher_forcing_with_the_course_helper(targets, length):
    """Exercise 2.2 with attncourse.data.seq2seq_arrays (the checker builds its answer by a loop)."""
    arrays = data.seq2seq_arrays(SimpleNamespace(source=targets, target=targets), target_length=length)
    return arrays["decoder_input"], arrays["decoder_target"]


def _entropy_with_nansum(weights):
    """Exercise 3.4: 0 · log 0 comes out NaN here, and nansum drops it."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return -np.nansum(weights * np.log2(weights), axis=-1)


def _aer_with_sets(predicted, gold):
    """Exercise 3.5 from link sets: AER = 1 − 2|A ∩ S| / (|A| + |S|) over the corpus."""
    common = n_predicted = n_gold = 0
    for a, s in zip(predicted, gold):
        a = {(i, int(j)) for i, j in enumerate(a) if j >= 0}
        s = {(i, int(j)) for i, j in enumerate(s) if j >= 0}
        common, n_predicted, n_gold = common + len(a & s), n_predicted + len(a), n_gold + len(s)
    return 1.0 - 2.0 * common / (n_predicted + n_gold)


def _masked_pooling_with_counts(h, mask, mode):
    """Exercise 8.2: average or maximum over the real steps, zeros where there is none."""
    real = np.asarray(mask, dtype=bool)[..., None]
    count = real.sum(axis=-2)
    if mode == "average":
        pooled = (np.asarray(h) * real).sum(axis=-2) / np.maximum(count, 1)
    else:
        pooled = np.where(real, h, -np.inf).max(axis=-2)
    return np.where(count > 0, pooled, 0.0)


def _static_pooling_with_einsum(h, W, b, u_w, mask):
    """Exercise 6.1 vectorised: scores u_t · u_w, masked softmax, then one einsum."""
    scores = np.tanh(np.asarray(h) @ W + b) @ u_w
    weights = reference.masked_softmax(scores, mask)
    return np.einsum("...t,...td->...d", weights, h)


def _hop_weights_with_einsum(h, W_s1, W_s2, mask=None):
    """Exercise 6.2: scores (..., r, T) by einsum, then the masked softmax over the words."""
    scores = np.einsum("...td,dr->...rt", np.tanh(np.asarray(h) @ W_s1), W_s2)
    word_mask = None if mask is None else np.asarray(mask, dtype=bool)[..., None, :]
    return reference.masked_softmax(scores, word_mask)


def _penalty_parts_from_gram(A):
    """Exercise 6.3: the diagonal and the off-diagonal of A Aᵀ − I, squared and summed apart."""
    gram = A @ np.swapaxes(A, -1, -2)
    diagonal = np.diagonal(gram, axis1=-2, axis2=-1)
    sharpness = np.sum((diagonal - 1.0) ** 2, axis=-1)
    redundancy = np.sum(gram**2, axis=(-2, -1)) - np.sum(diagonal**2, axis=-1)
    return np.stack([sharpness, redundancy], axis=-1)


def _self_attention_with_einsum(x, W_q, W_k, W_v, mask=None):
    """Exercise 6.4 with einsum and a hand-written masked softmax."""
    queries, keys, values = x @ W_q, x @ W_k, x @ W_v
    scores = np.einsum("...id,...jd->...ij", queries, keys) / np.sqrt(W_k.shape[-1])
    if mask is not None:
        scores = np.where(np.asarray(mask, dtype=bool)[..., None, :], scores, -np.inf)
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights = weights / weights.sum(axis=-1, keepdims=True)
    return np.einsum("...ij,...jd->...id", weights, values)


def _causal_window_from_triangles(steps, window):
    """Exercise 7.1: below the diagonal, minus what lies more than `window` below it."""
    below = np.tri(steps, k=-1, dtype=bool)
    too_far = np.tri(steps, k=-window - 1, dtype=bool)
    return below & ~too_far


def _key_value_predict_vectorised(h, W_k, W_q, w, window):
    """Exercise 7.2: every score at once, a band mask, then one matrix product."""
    keys, values, _ = np.split(np.asarray(h), 3, axis=-1)
    scores = np.tanh((keys @ W_k)[None, :, :] + (keys @ W_q)[:, None, :]) @ w  # [t, j]
    lag = np.subtract.outer(np.arange(len(h)), np.arange(len(h)))
    return reference.masked_softmax(scores, (lag >= 1) & (lag <= window)) @ values


def _perplexity_with_logaddexp(logits, targets):
    """Exercise 7.3: log-softmax through np.logaddexp.reduce, which never overflows."""
    log_norm = np.logaddexp.reduce(logits, axis=-1, keepdims=True)
    picked = np.take_along_axis(logits - log_norm, np.asarray(targets)[..., None], axis=-1)
    return np.exp(-np.mean(picked))


def _ngram_input_step_by_step(h, n):
    """Exercise 7.4 with a loop over steps: part i of step t - i, or zeros before the start."""
    parts = np.split(np.asarray(h), n - 1, axis=-1)
    out = np.zeros_like(np.asarray(h))
    size = parts[0].shape[-1]
    for t in range(out.shape[1]):
        for i, part in enumerate(parts):
            if t - i >= 0:
                out[:, t, i * size:(i + 1) * size] = part[:, t - i]
    return out


SOLUTIONS = {
    "1.1": lambda scores: reference.masked_softmax(scores),
    "1.2": lambda scores, temperature: reference.masked_softmax(scores / temperature),
    "1.3": _mass_ratio_in_box,
    "1.4": _sample_places,
    "2.1": _reverse_source_vectorised,
    "2.2": _teacher_forcing_with_the_course_helper,
    "2.3": lambda predicted, target: np.sum((predicted == target) & (target != data.PAD)) / np.sum(target != data.PAD),
    "3.1": reference.additive_score,
    "3.2": reference.context,
    "3.3": reference.masked_softmax,
    "3.4": _entropy_with_nansum,
    "3.5": _aer_with_sets,
    "4.1": reference.scaled_dot_score,
    "4.2": lambda query, keys, W: np.einsum("...id,de,...je->...ij", query, W, keys),
    "4.3": reference.predictive_centers,
    "4.4": _local_p_by_multiplying,
    "4.5": _softmax_jacobian_by_differences,
    "5.1": _reinforce_gradient_by_differences,
    "5.2": _expected_alignment_recursive,
    "5.3": _hard_monotonic_walk,
    "5.4": _forward_attention_shifted,
    "6.1": _static_pooling_with_einsum,
    "6.2": _hop_weights_with_einsum,
    "6.3": _penalty_parts_from_gram,
    "6.4": _self_attention_with_einsum,
    "7.1": _causal_window_from_triangles,
    "7.2": _key_value_predict_vectorised,
    "7.3": _perplexity_with_logaddexp,
    "7.4": _ngram_input_step_by_step,
    "8.1": reference.context_attention_weights,
    "8.2": _masked_pooling_with_counts,
    "8.3": lambda word_weights, sentence_weights: np.asarray(sentence_weights)[..., None] * word_weights,
    "9.1": _causal_mask_vectorised,
    "9.2": _positions_vectorised,
    "9.3": _split_heads_by_reshape,
}


def test_every_registered_exercise_has_a_solution_here():
    assert set(exercises.EXERCISES) == set(SOLUTIONS)


@pytest.mark.parametrize("exercise_id", sorted(SOLUTIONS))
def test_a_right_solution_gets_a_tick(exercise_id, capsys):
    assert exercises.check(exercise_id, SOLUTIONS[exercise_id], strict=True).passed is True
    assert capsys.readouterr().out.startswith("✓")


def ellipsis_stub(*args):
    ...


def raising_stub(*args):
    raise NotImplementedError


@pytest.mark.parametrize("stub", [ellipsis_stub, raising_stub])
def test_a_stub_gets_a_hint_and_never_raises(stub, capsys):
    assert exercises.check("3.1", stub).passed is False
    out = capsys.readouterr().out
    assert out.startswith("✗") and "case 1/" in out
    assert "not filled in" in out or "not implemented" in out


@pytest.mark.parametrize("stub", [ellipsis_stub, raising_stub])
def test_strict_mode_raises_on_a_stub(stub):
    with pytest.raises(exercises.ExerciseFailed):
        exercises.check("3.1", stub, strict=True)


def test_wrong_shape_names_both_shapes(capsys):
    exercises.check("3.2", lambda weights, values: (weights @ values).T)
    out = capsys.readouterr().out
    assert "expected shape (3, 4)" in out and "got shape" in out


def test_wrong_value_names_the_index_and_both_values(capsys):
    exercises.check("4.1", lambda q, k: q @ np.swapaxes(k, -1, -2))  # forgot the 1/sqrt(d)
    out = capsys.readouterr().out
    assert "at index" in out and "expected" in out and "got" in out
    assert "two queries, three keys" in out  # says which case


def naive_masked_softmax(scores, mask):
    weights = np.exp(scores) * mask
    return weights / weights.sum(axis=-1, keepdims=True)


@pytest.mark.filterwarnings("ignore:(invalid value|overflow):RuntimeWarning")  # the wrong code's own warnings
def test_the_hint_points_at_the_fully_masked_row(capsys):
    exercises.check("3.3", naive_masked_softmax)
    out = capsys.readouterr().out
    assert "fully masked row" in out and "nan" in out.lower()


@pytest.mark.filterwarnings("ignore:(invalid value|overflow):RuntimeWarning")  # the wrong code's own warnings
def test_an_overflowing_softmax_is_caught(capsys):
    exercises.check("1.1", lambda s: np.exp(s) / np.exp(s).sum(axis=-1, keepdims=True))
    assert "1e4" in capsys.readouterr().out


def test_an_exception_in_the_readers_code_becomes_a_hint(capsys):
    def broken(weights, values):
        return weights @ values[:2]

    assert exercises.check("3.2", broken).passed is False
    assert "raised ValueError" in capsys.readouterr().out


def test_unknown_exercise_lists_the_known_ones():
    with pytest.raises(KeyError, match="3.1"):
        exercises.check("99.9", reference.context)


def test_registering_an_id_twice_is_refused():
    with pytest.raises(ValueError, match="twice"):
        exercises.register("3.1", "again")(lambda: [])


def test_sampling_with_the_rng_drawn_in_another_order_gets_a_hint(capsys):
    # Drawing the uniform numbers one row at a time in reverse order gives other choices.
    def reversed_draws(weights, rng):
        u = rng.random(len(weights))[::-1]
        return np.argmax(np.cumsum(weights, axis=-1) > u[:, None], axis=-1)

    assert exercises.check("1.4", reversed_draws).passed is False
    assert "✗" in capsys.readouterr().out


def test_mass_in_box_counting_only_whole_cells_gets_a_hint(capsys):
    def inside_cells_only(weights, box, cell_size):
        top, left, height, width = box
        rows = slice(-(-top // cell_size), (top + height) // cell_size)
        cols = slice(-(-left // cell_size), (left + width) // cell_size)
        inside = np.zeros(weights.shape, bool)
        inside[rows, cols] = True
        return weights[inside].sum() / inside.mean()

    assert exercises.check("1.3", inside_cells_only).passed is False
    assert "straddling" in capsys.readouterr().out


def test_a_temperature_applied_the_wrong_way_gets_a_hint(capsys):
    exercises.check("1.2", lambda scores, temperature: reference.masked_softmax(scores * temperature))
    assert "temperature 0.25" in capsys.readouterr().out


def test_a_forward_attention_that_forgets_to_renormalise_gets_a_hint(capsys):
    def unnormalised(weights, move):
        previous, rows = np.eye(weights.shape[1])[0], []
        for y, u in zip(weights, move):
            previous = ((1.0 - u) * previous + u * np.concatenate([[0.0], previous[:-1]])) * y
            rows.append(previous)
        return np.array(rows)

    assert exercises.check("5.4", unnormalised).passed is False
    assert "case 1/" in capsys.readouterr().out


def test_a_hard_walk_that_may_move_left_gets_a_hint(capsys):
    def restarts_each_step(p_choose, threshold):
        alignment = np.zeros(p_choose.shape)
        for i, row in enumerate(p_choose):
            stops = np.flatnonzero(row >= threshold)
            alignment[i, stops[0] if stops.size else -1] = 1.0
        return alignment

    assert exercises.check("5.3", restarts_each_step).passed is False
    assert "✗" in capsys.readouterr().out


def test_a_check_result_is_truthy_and_shows_nothing_more_in_a_notebook(capsys):
    result = exercises.check("3.2", reference.context)
    assert result and result.passed is True
    assert "✓" in capsys.readouterr().out
    assert result._ipython_display_() is None  # IPython shows nothing beyond the printed line
    assert not exercises.check("3.2", lambda weights, values: weights)
