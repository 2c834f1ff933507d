import importlib.util
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from attncourse import data, exercises, reference

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("exercises_page", ROOT / "tools" / "exercises_page.py")
exercises_page = importlib.util.module_from_spec(spec)
spec.loader.exec_module(exercises_page)


def _softmax_row_by_row(scores):
    """Exercise 1.1 one row at a time: exp(e_j − max e) / Σ_k exp(e_k − max e), with math.exp."""
    weights = np.zeros(np.shape(scores))
    for r, row in enumerate(np.asarray(scores, dtype=float)):
        top = max(row)
        exponentials = [math.exp(score - top) for score in row]
        total = sum(exponentials)
        weights[r] = [value / total for value in exponentials]
    return weights


def _softmax_with_temperature_by_logsumexp(scores, temperature):
    """Exercise 1.2 in log space: exp(e / τ − log Σ_k exp(e_k / τ)), the log-sum-exp by np.logaddexp."""
    scaled = np.asarray(scores, dtype=float) / temperature
    return np.exp(scaled - np.logaddexp.reduce(scaled, axis=-1, keepdims=True))


def _additive_score_by_pairs(query, keys, W_q, W_k, w):
    """Exercise 3.1 one (query, key) pair at a time, in the paper's column form w^T tanh(W_qᵀ q + W_kᵀ k)."""
    scores = np.zeros((len(query), len(keys)))
    for i, q in enumerate(query):
        for j, k in enumerate(keys):
            scores[i, j] = np.dot(w, np.tanh(W_q.T @ q + W_k.T @ k))
    return scores


def _context_as_weighted_sum(weights, values):
    """Exercise 3.2: c_i = Σ_j α_ij v_j, adding the values one at a time."""
    contexts = np.zeros((len(weights), values.shape[-1]))
    for i, row in enumerate(weights):
        for alpha, value in zip(row, values):
            contexts[i] += alpha * value
    return contexts


def _masked_softmax_over_real_positions(scores, mask):
    """Exercise 3.3 row by row: a softmax over the real positions only; zeros everywhere else."""
    scores, mask = np.asarray(scores, dtype=float), np.asarray(mask, dtype=bool)
    weights = np.zeros(scores.shape)
    for r in range(scores.shape[0]):
        real = np.flatnonzero(mask[r])
        if real.size == 0:
            continue  # nothing to attend: the row stays all zeros
        kept = scores[r, real]
        exponentials = np.array([math.exp(score - kept.max()) for score in kept])
        weights[r, real] = exponentials / exponentials.sum()
    return weights


def _scaled_dot_by_loops(query, keys):
    """Exercise 4.1: Σ_c q_ic k_jc / sqrt(d), one pair at a time, for every leading index."""
    query, keys = np.asarray(query, dtype=float), np.asarray(keys, dtype=float)
    depth = query.shape[-1]
    scores = np.zeros(query.shape[:-1] + keys.shape[-2:-1])
    for index in np.ndindex(query.shape[:-2]):
        for i in range(query.shape[-2]):
            for j in range(keys.shape[-2]):
                products = [query[index + (i, c)] * keys[index + (j, c)] for c in range(depth)]
                scores[index + (i, j)] = sum(products) / math.sqrt(depth)
    return scores


def _centers_by_loops(query, W_p, w_p, source_length):
    """Exercise 4.3: p_i = S / (1 + exp(−w_pᵀ tanh(W_pᵀ q_i))), one query at a time."""
    query = np.asarray(query, dtype=float)
    lengths = np.broadcast_to(np.asarray(source_length, dtype=float), query.shape[:-2])
    centers = np.zeros(query.shape[:-1])
    for index in np.ndindex(query.shape[:-1]):
        logit = np.dot(w_p, np.tanh(W_p.T @ query[index]))
        centers[index] = lengths[index[:-1]] / (1.0 + math.exp(-logit))
    return centers


def _repaired_seed_layer_vectorised(x, W, b, u_w=None, mask=None):
    """Exercise 8.1 vectorised: -inf on padding before the softmax, over the step axis, zeros for empty rows."""
    scores = np.tanh(np.asarray(x) @ W + b)  # (..., T, d)
    if u_w is not None:
        scores = scores @ u_w  # one score per step, (..., T)
    step_axis = -1 if u_w is not None else -2
    real = np.ones(np.shape(x)[:-1], dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    if u_w is None:
        real = real[..., None]  # (..., T, 1): the same mask for every feature
    real = np.broadcast_to(real, scores.shape)
    scores = np.where(real, scores, -np.inf)
    top = np.max(scores, axis=step_axis, keepdims=True)
    exponentials = np.where(real, np.exp(scores - np.where(np.isfinite(top), top, 0.0)), 0.0)
    totals = exponentials.sum(axis=step_axis, keepdims=True)
    return np.divide(exponentials, totals, out=np.zeros_like(exponentials), where=totals > 0)


def _padding_share_vectorised(weights, mask):
    """Exercise 8.2: the weight times the padding indicator, summed over the steps, averaged over features."""
    padding = ~np.asarray(mask, dtype=bool)
    weights = np.asarray(weights)
    if weights.ndim == 3:
        return np.einsum("ntk,nt->n", weights, padding.astype(float)) / weights.shape[-1]
    return (weights * padding).sum(axis=-1)


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


def _window_floor_with_sets(alignments, window):
    """Exercise 4.6: the gold links (i, a_i) against every link a window |j − i| <= D allows."""
    gold = {(k, i, int(a)) for k, alignment in enumerate(alignments) for i, a in enumerate(alignment)}
    reachable = {(k, i, a) for k, i, a in gold if i - window <= a <= i + window}
    return 1.0 - len(reachable) / len(gold)


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


def _reinforce_variance_closed_form(scores, reward, baseline):
    """Exercise 5.5: Σ_j α_j (R_j − b)² ||onehot(j) − α||² minus the squared exact gradient α ⊙ (R − E[R])."""
    alpha = reference.masked_softmax(np.asarray(scores, dtype=float))
    reward = np.asarray(reward, dtype=float)
    spread = 1.0 - 2.0 * alpha + alpha @ alpha  # ||onehot(j) − α||²
    exact = alpha * (reward - alpha @ reward)
    return float(np.sum(alpha * (reward - baseline) ** 2 * spread) - exact @ exact)


def _best_baseline_closed_form(scores, reward):
    """Exercise 5.6: b* = Σ_j α_j ||onehot(j) − α||² R_j / Σ_j α_j ||onehot(j) − α||²."""
    alpha = reference.masked_softmax(np.asarray(scores, dtype=float))
    weight = alpha * (1.0 - 2.0 * alpha + alpha @ alpha)
    return float(weight @ np.asarray(reward, dtype=float) / weight.sum())


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


def _positions_vectorised(length, depth):
    """Exercise 9.1: all angles at once, sines in the even columns and cosines in the odd ones."""
    angles = np.arange(length)[:, None] / 10000.0 ** (np.arange(0, depth, 2) / depth)
    encoding = np.zeros((length, depth))
    encoding[:, 0::2], encoding[:, 1::2] = np.sin(angles), np.cos(angles)
    return encoding


def _split_heads_by_reshape(x, heads):
    """Exercise 9.2: cut the last axis into (heads, d / heads), then move heads before T."""
    batch, steps, depth = x.shape
    return x.reshape(batch, steps, heads, depth // heads).transpose(0, 2, 1, 3)


def _attention_with_einsum(x_q, x_kv, weights, heads, mask=None):
    """Exercise 9.3 with kernels shaped (d, heads, d_k), as Keras stores them, and einsum."""
    depth = x_q.shape[-1]
    size = depth // heads
    q = np.einsum("btd,dhk->bhtk", x_q, weights["W_Q"].reshape(depth, heads, size)) + weights["b_Q"].reshape(heads, 1, size)
    k = np.einsum("btd,dhk->bhtk", x_kv, weights["W_K"].reshape(depth, heads, size)) + weights["b_K"].reshape(heads, 1, size)
    v = np.einsum("btd,dhk->bhtk", x_kv, weights["W_V"].reshape(depth, heads, size)) + weights["b_V"].reshape(heads, 1, size)
    scores = np.einsum("bhik,bhjk->bhij", q, k) / np.sqrt(size)
    if mask is not None:
        scores = np.where(np.asarray(mask, bool)[:, None], scores, -np.inf)
    scores = scores - scores.max(axis=-1, keepdims=True)
    alpha = np.exp(scores) / np.exp(scores).sum(axis=-1, keepdims=True)
    read = np.einsum("bhij,bhjk->bhik", alpha, v)
    return np.einsum("bhik,hkd->bid", read, weights["W_O"].reshape(heads, size, depth)) + weights["b_O"]


def _norm_after_or_before(x, norm, sublayer, pre_norm):
    def layer_norm(h):
        centred = h - h.mean(axis=-1, keepdims=True)
        return centred / np.sqrt((centred ** 2).mean(axis=-1, keepdims=True) + 1e-6) * norm["gamma"] + norm["beta"]

    return x + sublayer(layer_norm(x)) if pre_norm else layer_norm(x + sublayer(x))


def _position_wise(weights):
    return lambda h: np.maximum(h @ weights["W_1"] + weights["b_1"], 0) @ weights["W_2"] + weights["b_2"]


def _encoder_block_with_einsum(x, source_mask, params, heads, pre_norm=True):
    """Exercise 9.4 on top of the einsum attention."""
    attend = lambda h: _attention_with_einsum(h, h, params["attention"], heads, source_mask[:, None, :])  # noqa: E731
    x = _norm_after_or_before(x, params["attention_norm"], attend, pre_norm)
    return _norm_after_or_before(x, params["feed_forward_norm"], _position_wise(params["feed_forward"]), pre_norm)


def _decoder_block_with_einsum(y, memory, target_mask, source_mask, params, heads, pre_norm=True):
    """Exercise 9.5: the causal mask from index comparisons, then three sublayers."""
    steps = np.arange(target_mask.shape[1])
    self_mask = (steps[None, :, None] >= steps[None, None, :]) & target_mask[:, None, :]
    y = _norm_after_or_before(y, params["self_attention_norm"], lambda h: _attention_with_einsum(
        h, h, params["self_attention"], heads, self_mask), pre_norm)
    y = _norm_after_or_before(y, params["cross_attention_norm"], lambda h: _attention_with_einsum(
        h, memory, params["cross_attention"], heads, source_mask[:, None, :]), pre_norm)
    return _norm_after_or_before(y, params["feed_forward_norm"], _position_wise(params["feed_forward"]), pre_norm)


def _greedy_with_preallocated_cache(start, steps, params):
    """Exercise 9.6: keys and values written into arrays sized for every step at once."""
    depth = params["W_Q"].shape[0]
    keys, values = np.zeros((steps, depth)), np.zeros((steps, depth))
    tokens = np.zeros(steps, dtype=int)
    token = start
    for t in range(steps):
        x = params["embedding"][token] + params["positions"][t]
        keys[t], values[t] = x @ params["W_K"], x @ params["W_V"]
        scores = keys[:t + 1] @ (x @ params["W_Q"]) / np.sqrt(depth)
        alpha = np.exp(scores - scores.max())
        read = (alpha / alpha.sum()) @ values[:t + 1]
        token = tokens[t] = int(np.argmax((x + read @ params["W_O"]) @ params["W_out"]))
    return tokens


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
    """Exercise 8.3: average or maximum over the real steps, zeros where there is none."""
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


def _temper_by_powers(weights, temperature):
    """Exercise 1.5 as powers, α^(1/τ) renormalised, each row first divided by its largest weight (no underflow)."""
    weights = np.asarray(weights, dtype=float)
    powered = (weights / weights.max(axis=-1, keepdims=True)) ** (1.0 / temperature)
    return powered / powered.sum(axis=-1, keepdims=True)


def _first_word_replaced_vectorised(decoder_input, vocab_size):
    """Exercise 2.5 with modular arithmetic on column 1, where it holds a real word."""
    corrupted = np.array(decoder_input, copy=True)
    first = corrupted[:, 1]
    real = first >= 3
    corrupted[real, 1] = 3 + (first[real] - 3 + 1) % (vocab_size - 3)
    return corrupted


def _recall_split_by_sets(predicted, gold):
    """Exercise 3.6 from link sets: gold links on and off the diagonal, intersected with the predicted ones."""
    predicted_links, stays, moves = set(), set(), set()
    for k, (a, s) in enumerate(zip(predicted, gold)):
        predicted_links |= {(k, i, int(j)) for i, j in enumerate(a)}
        stays |= {(k, i, int(j)) for i, j in enumerate(s) if j == i}
        moves |= {(k, i, int(j)) for i, j in enumerate(s) if j >= 0 and j != i}
    return np.array([len(stays & predicted_links) / len(stays), len(moves & predicted_links) / len(moves)])


def _mean_penalty_parts_from_gram(A):
    """Exercise 6.5: the parts of exercise 6.3 for every sentence at once, averaged over the leading axes."""
    parts = _penalty_parts_from_gram(np.asarray(A, dtype=float))
    return parts.reshape(-1, 2).mean(axis=0)


def _cut_window_with_a_band(weights, keep):
    """Exercise 7.5: multiply by a band of ones, then divide by the row sums where they are positive."""
    weights = np.asarray(weights, dtype=float)
    steps = weights.shape[-1]
    lag = np.subtract.outer(np.arange(steps), np.arange(steps))
    kept = weights * ((lag >= 1) & (lag <= keep))
    totals = kept.sum(axis=-1, keepdims=True)
    return np.divide(kept, totals, out=np.zeros_like(kept), where=totals > 0)


SOLUTIONS = {
    "1.1": _softmax_row_by_row,
    "1.2": _softmax_with_temperature_by_logsumexp,
    "1.3": _mass_ratio_in_box,
    "1.4": _sample_places,
    "1.5": _temper_by_powers,
    "2.1": _reverse_source_vectorised,
    "2.2": _teacher_forcing_with_the_course_helper,
    "2.3": lambda predicted, target: np.sum((predicted == target) & (target != data.PAD)) / np.sum(target != data.PAD),
    "2.5": _first_word_replaced_vectorised,
    "3.1": _additive_score_by_pairs,
    "3.2": _context_as_weighted_sum,
    "3.3": _masked_softmax_over_real_positions,
    "3.4": _entropy_with_nansum,
    "3.5": _aer_with_sets,
    "3.6": _recall_split_by_sets,
    "4.1": _scaled_dot_by_loops,
    "4.2": lambda query, keys, W: np.einsum("...id,de,...je->...ij", query, W, keys),
    "4.3": _centers_by_loops,
    "4.4": _local_p_by_multiplying,
    "4.5": _softmax_jacobian_by_differences,
    "4.6": _window_floor_with_sets,
    "5.1": _reinforce_gradient_by_differences,
    "5.2": _expected_alignment_recursive,
    "5.3": _hard_monotonic_walk,
    "5.4": _forward_attention_shifted,
    "5.5": _reinforce_variance_closed_form,
    "5.6": _best_baseline_closed_form,
    "6.1": _static_pooling_with_einsum,
    "6.2": _hop_weights_with_einsum,
    "6.3": _penalty_parts_from_gram,
    "6.4": _self_attention_with_einsum,
    "6.5": _mean_penalty_parts_from_gram,
    "7.1": _causal_window_from_triangles,
    "7.2": _key_value_predict_vectorised,
    "7.3": _perplexity_with_logaddexp,
    "7.4": _ngram_input_step_by_step,
    "7.5": _cut_window_with_a_band,
    "8.1": _repaired_seed_layer_vectorised,
    "8.2": _padding_share_vectorised,
    "8.3": _masked_pooling_with_counts,
    "8.4": lambda word_weights, sentence_weights: np.asarray(sentence_weights)[..., None] * word_weights,
    "9.1": _positions_vectorised,
    "9.2": _split_heads_by_reshape,
    "9.3": _attention_with_einsum,
    "9.4": _encoder_block_with_einsum,
    "9.5": _decoder_block_with_einsum,
    "9.6": _greedy_with_preallocated_cache,
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


def test_registered_lists_every_exercise_in_id_order():
    ids = [exercise.id for exercise in exercises.registered()]
    assert set(ids) == set(exercises.EXERCISES)
    assert ids == sorted(ids, key=lambda k: tuple(int(part) for part in k.split(".")))


def test_the_index_table_has_a_row_per_exercise_under_its_chapter():
    table = exercises_page.index_table(exercises_page.chapters())
    rows = [line for line in table.splitlines() if line.startswith("| {ref}`")]
    assert [row.split('"')[1] for row in rows] == [exercise.id for exercise in exercises.registered()]
    # Each row links to the exercise's labelled heading in its chapter.
    for row, exercise in zip(rows, exercises.registered()):
        assert row.startswith("| {ref}`%s <exercise-%s>`" % (exercise.id, exercise.id.replace(".", "-")))
    assert "## Chapter 3\n\nIn {doc}`../notebooks/03_bahdanau`:" in table


def test_the_index_table_refuses_an_exercise_without_a_notebook():
    chapters = exercises_page.chapters()
    del chapters["3"]
    with pytest.raises(KeyError, match="chapter 3"):
        exercises_page.index_table(chapters)
