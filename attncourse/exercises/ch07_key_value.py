"""Chapter 7, key-value attention in a language model (Daniluk et al. 2017).

Exercises 7.1 to 7.5.
"""

import numpy as np

from attncourse import reference
from attncourse.exercises.registry import Case, normal, register


@register("7.1", "the causal window: which earlier steps may step t read?")
def _causal_window_cases():
    def allowed(steps, window):
        # lag[t, j] = t - j: step t may read step j when 1 <= t - j <= L.
        lag = np.arange(steps)[:, None] - np.arange(steps)[None, :]
        return (lag >= 1) & (lag <= window)

    return [
        Case("6 steps, window 2", (6, 2), allowed(6, 2)),
        Case("4 steps, window 1 (only the step just before)", (4, 1), allowed(4, 1)),
        Case("5 steps, a window of 10, longer than the sequence", (5, 10), allowed(5, 10)),
    ]


@register("7.2", "key-value-predict attention: the read vectors r_t")
def _key_value_predict_cases():
    rng = np.random.default_rng(72)
    h = normal(rng, 6, 9)  # T = 6 steps, d = 9: keys, values and predict parts of 3
    W_k, W_q, w = normal(rng, 3, 3), normal(rng, 3, 3), normal(rng, 3)
    longer = normal(rng, 4, 9)
    return [
        Case("6 steps, d = 9, window 2", (h, W_k, W_q, w, 2),
             reference.key_value_attention(h, W_k, W_q, w, 2, "key_value_predict")[0]),
        Case("window 1: r_t must be the value v_{t-1}, and r_0 zero", (h, W_k, W_q, w, 1),
             reference.key_value_attention(h, W_k, W_q, w, 1, "key_value_predict")[0]),
        Case("4 steps, a window of 10 (longer than the sequence)", (longer, W_k, W_q, w, 10),
             reference.key_value_attention(longer, W_k, W_q, w, 10, "key_value_predict")[0]),
    ]


@register("7.3", "perplexity from the logits and the next words")
def _perplexity_cases():
    def perplexity(logits, targets):
        # exp of the mean negative log-probability of the right next word, with a stable log-softmax.
        shifted = logits - logits.max(axis=-1, keepdims=True)
        log_probabilities = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
        picked = np.take_along_axis(log_probabilities, targets[..., None], axis=-1)
        return np.exp(-picked.mean())

    rng = np.random.default_rng(73)
    logits = normal(rng, 2, 5, 7)  # 2 windows, 5 steps, 7 words
    targets = rng.integers(0, 7, size=(2, 5))
    uniform = np.zeros((1, 4, 10))
    confident = logits.argmax(axis=-1)
    return [
        Case("2 windows of 5 steps over 7 words", (logits, targets), perplexity(logits, targets)),
        Case("equal logits over 10 words (the perplexity must be 10)", (uniform, targets[:1, :4] % 10),
             perplexity(uniform, targets[:1, :4] % 10)),
        Case("logits of 1e4, each target the most likely word (use a stable log-softmax)",
             (logits * 1e4, confident), perplexity(logits * 1e4, confident)),
    ]


@register("7.4", "the N-gram RNN's input [h¹_t; h²_{t-1}; …; h^{N-1}_{t-N+2}]")
def _ngram_input_cases():
    def ngram_input(h, n):
        # Part i (counted from 0) of h_t is read i steps later: shift it right by i, zeros first.
        parts = np.split(h, n - 1, axis=-1)
        shifted = []
        for lag, part in enumerate(parts):
            delayed = np.zeros_like(part)
            delayed[:, lag:] = part[:, : part.shape[1] - lag]
            shifted.append(delayed)
        return np.concatenate(shifted, axis=-1)

    rng = np.random.default_rng(74)
    h = normal(rng, 1, 5, 6)
    batch = normal(rng, 2, 4, 4)
    return [
        Case("a 4-gram RNN: 3 parts of 2, 5 steps", (h, 4), ngram_input(h, 4)),
        Case("a 3-gram RNN on a batch of 2: 2 parts of 2", (batch, 3), ngram_input(batch, 3)),
        Case("a 2-gram RNN: one part, nothing is shifted", (batch, 2), ngram_input(batch, 2)),
    ]


def _cut_by_loops(weights, keep):
    """The answer to exercise 7.5: keep the weights with 1 <= t - j <= keep, then renormalise each row."""
    weights = np.asarray(weights, dtype=float)
    cut = np.zeros(weights.shape)
    for index in np.ndindex(weights.shape[:-1]):
        t = index[-1]
        kept = {j: weights[index + (j,)] for j in range(weights.shape[-1]) if 1 <= t - j <= keep}
        total = sum(kept.values())
        for j, value in kept.items():
            cut[index + (j,)] = value / total if total > 0 else 0.0
    return cut


@register("7.5", "a shorter window at test time: cut the weights to the last `keep` steps and renormalise")
def _cut_window_cases():
    rng = np.random.default_rng(75)
    h = normal(rng, 7, 9)
    W_k, W_q, w = normal(rng, 3, 3), normal(rng, 3, 3), normal(rng, 3)
    weights = reference.key_value_attention(h, W_k, W_q, w, 4, "key_value_predict")[1]  # window L = 4
    batch = np.stack([weights, weights[::-1, ::-1].T])
    return [
        Case("7 steps read with L = 4, cut to keep = 2", (weights, 2), _cut_by_loops(weights, 2)),
        Case("keep = 1: every row but the first becomes one-hot on the step before", (weights, 1),
             _cut_by_loops(weights, 1)),
        Case("keep = L: nothing changes", (weights, 4), _cut_by_loops(weights, 4)),
        Case("a batch of 2 weight matrices, keep = 3", (batch, 3), _cut_by_loops(batch, 3)),
    ]
