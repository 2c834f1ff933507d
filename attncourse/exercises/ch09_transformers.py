"""Chapter 9, the reader builds the Transformer. The answers are written here in plain NumPy.

Exercises 9.1 to 9.6, in the order the chapter builds the model: the positional encoding,
splitting into heads, multi-head attention, the encoder block, the decoder block, and greedy
decoding with a key-value cache. Every answer is computed by loops, one entry or one
position at a time, so that it shares no shortcut with the reader's vectorised code.

The weights of an attention are a dict with the keys ``W_Q``, ``W_K``, ``W_V``, ``W_O``
(each ``(d, d)``) and ``b_Q``, ``b_K``, ``b_V``, ``b_O`` (each ``(d,)``); head n uses
columns ``n * d_k`` to ``(n + 1) * d_k - 1`` of ``W_Q``, ``W_K``, ``W_V`` (and rows of
``W_O``), ``d_k = d / heads``, as ``keras.layers.MultiHeadAttention`` does once its kernels
are reshaped to ``(d, d)``.
"""

import numpy as np

from attncourse.exercises.registry import Case, normal, register

EPSILON = 1e-6  # the layer normalisation's epsilon, as in attncourse.transformer


def _positions_by_hand(length, depth):
    """PE[t, 2i] = sin(t / 10000^(2i/d)), PE[t, 2i+1] = cos(t / 10000^(2i/d)), entry by entry."""
    encoding = np.zeros((length, depth))
    for t in range(length):
        for column in range(depth):
            pair = column - column % 2  # 2i: both columns of a pair share one frequency
            angle = t / 10000.0 ** (pair / depth)
            encoding[t, column] = np.sin(angle) if column % 2 == 0 else np.cos(angle)
    return encoding


@register("9.1", "sinusoidal positional encoding")
def _positional_encoding_cases():
    cases = [
        ("4 positions, depth 6", 4, 6),
        ("one position, depth 2 (position 0: sin 0 = 0, cos 0 = 1)", 1, 2),
        ("50 positions, depth 16 (slow columns: 10000 ** (2i / d), not (2i / d) alone)", 50, 16),
    ]
    return [Case(text, (length, depth), _positions_by_hand(length, depth)) for text, length, depth in cases]


def _heads_by_hand(x, heads):
    """Head n of position t: the n-th block of d/heads columns of x[b, t], copied one by one."""
    batch, steps, depth = x.shape
    size = depth // heads
    split = np.zeros((batch, heads, steps, size))
    for n in range(heads):
        for t in range(steps):
            split[:, n, t, :] = x[:, t, n * size:(n + 1) * size]
    return split


@register("9.2", "split the last axis into heads: (batch, T, d) -> (batch, heads, T, d / heads)")
def _split_heads_cases():
    rng = np.random.default_rng(93)
    # Distinct, readable numbers: entry (b, t, c) is 100 b + 10 t + c, so a scrambled
    # reshape shows up at once in the hint.
    counted = (100 * np.arange(2)[:, None, None] + 10 * np.arange(3)[None, :, None]
               + np.arange(4)[None, None, :]).astype(float)
    random = normal(rng, 1, 5, 12)
    cases = [
        ("2 sentences of 3 positions, d = 4, 2 heads (entry = 100 b + 10 t + c)", counted, 2),
        ("one sentence of 5 positions, d = 12, 3 heads", random, 3),
        ("one head (only a new axis)", random, 1),
    ]
    return [Case(text, (x, heads), _heads_by_hand(x, heads)) for text, x, heads in cases]


# ---------------------------------------------------------------- multi-head attention


def attention_weights(rng, depth):
    """Random weights of one multi-head attention, as a dict (see the module's docstring)."""
    weights = {}
    for name in "QKVO":
        weights[f"W_{name}"] = normal(rng, depth, depth) / np.sqrt(depth)
        weights[f"b_{name}"] = 0.1 * normal(rng, depth)
    return weights


def _softmax_by_hand(scores, allowed):
    """One row: exp over the allowed entries, divided by their sum; zeros if none is allowed."""
    out = np.zeros(len(scores))
    if not any(allowed):
        return out
    top = max(score for score, ok in zip(scores, allowed) if ok)
    for j, (score, ok) in enumerate(zip(scores, allowed)):
        if ok:
            out[j] = np.exp(score - top)
    return out / out.sum()


def _attention_by_hand(x_q, x_kv, weights, heads, mask=None):
    """Multi-head attention, one sentence, one head and one query at a time."""
    batch, queries, depth = x_q.shape
    keys = x_kv.shape[1]
    size = depth // heads
    allowed = np.ones((batch, queries, keys), bool) if mask is None else np.broadcast_to(
        np.asarray(mask, bool), (batch, queries, keys))
    out = np.zeros((batch, queries, depth))
    for b in range(batch):
        q = x_q[b] @ weights["W_Q"] + weights["b_Q"]
        k = x_kv[b] @ weights["W_K"] + weights["b_K"]
        v = x_kv[b] @ weights["W_V"] + weights["b_V"]
        merged = np.zeros((queries, depth))
        for n in range(heads):
            columns = slice(n * size, (n + 1) * size)
            for i in range(queries):
                scores = [float(q[i, columns] @ k[j, columns]) / np.sqrt(size) for j in range(keys)]
                alpha = _softmax_by_hand(scores, allowed[b, i])
                for j in range(keys):
                    merged[i, columns] += alpha[j] * v[j, columns]
        out[b] = merged @ weights["W_O"] + weights["b_O"]
    return out


@register("9.3", "multi-head attention: project, split, scaled dot-product with a mask, merge, project")
def _multi_head_attention_cases():
    rng = np.random.default_rng(94)
    depth = 8
    weights = attention_weights(rng, depth)
    x = normal(rng, 2, 5, depth)
    memory = normal(rng, 2, 4, depth)
    padding = np.array([[1, 1, 1, 1], [1, 1, 0, 0]], bool)[:, None, :]  # (batch, 1, T_k): real keys
    causal = np.tril(np.ones((5, 5), bool))[None]  # (1, T, T)
    cases = [
        ("self-attention, 2 heads, no mask", (x, x, weights, 2), {}),
        ("cross-attention from 5 queries to 4 keys, the second sentence padded after 2 keys (mask (batch, 1, T_k))",
         (x, memory, weights, 2), {"mask": padding}),
        ("self-attention with the causal mask (1, T, T): scores scaled by sqrt(d_k), d_k = d / heads",
         (x, x, weights, 4), {"mask": causal}),
        ("one head of full size", (x, x, weights, 1), {}),
    ]
    return [Case(text, args, _attention_by_hand(*args, **kwargs), kwargs) for text, args, kwargs in cases]


# ---------------------------------------------------------------- the blocks


def _layer_norm_by_hand(x, norm):
    """(x - mean) / sqrt(variance + eps) * gamma + beta, position by position."""
    out = np.zeros_like(x)
    for index in np.ndindex(*x.shape[:-1]):
        row = x[index]
        mean = sum(row) / len(row)
        variance = sum((value - mean) ** 2 for value in row) / len(row)
        out[index] = (row - mean) / np.sqrt(variance + EPSILON) * norm["gamma"] + norm["beta"]
    return out


def _feed_forward_by_hand(x, weights):
    """max(0, x W_1 + b_1) W_2 + b_2, position by position."""
    out = np.zeros_like(x)
    for index in np.ndindex(*x.shape[:-1]):
        hidden = np.maximum(0.0, x[index] @ weights["W_1"] + weights["b_1"])
        out[index] = hidden @ weights["W_2"] + weights["b_2"]
    return out


def norm_weights(rng, depth):
    """Random gain (near 1) and bias (near 0) of one layer normalisation."""
    return {"gamma": 1.0 + 0.1 * normal(rng, depth), "beta": 0.1 * normal(rng, depth)}


def feed_forward_weights(rng, depth, hidden):
    """Random weights of one position-wise feed-forward network."""
    return {"W_1": normal(rng, depth, hidden) / np.sqrt(depth), "b_1": 0.1 * normal(rng, hidden),
            "W_2": normal(rng, hidden, depth) / np.sqrt(hidden), "b_2": 0.1 * normal(rng, depth)}


def encoder_block_weights(rng, depth, hidden):
    """Random weights of one encoder block, named as in ``attncourse.transformer.EncoderBlock``."""
    return {"attention": attention_weights(rng, depth), "attention_norm": norm_weights(rng, depth),
            "feed_forward": feed_forward_weights(rng, depth, hidden),
            "feed_forward_norm": norm_weights(rng, depth)}


def decoder_block_weights(rng, depth, hidden):
    """Random weights of one decoder block, named as in ``attncourse.transformer.DecoderBlock``."""
    return {"self_attention": attention_weights(rng, depth), "self_attention_norm": norm_weights(rng, depth),
            "cross_attention": attention_weights(rng, depth), "cross_attention_norm": norm_weights(rng, depth),
            "feed_forward": feed_forward_weights(rng, depth, hidden),
            "feed_forward_norm": norm_weights(rng, depth)}


def _sublayer(x, norm, run, pre_norm):
    """Pre-norm: x + run(LN(x)). Post-norm (the paper): LN(x + run(x))."""
    if pre_norm:
        return x + run(_layer_norm_by_hand(x, norm))
    return _layer_norm_by_hand(x + run(x), norm)


def _encoder_block_by_hand(x, source_mask, params, heads, pre_norm=True):
    keys_allowed = np.asarray(source_mask, bool)[:, None, :]  # every query, real keys only
    x = _sublayer(x, params["attention_norm"],
                  lambda h: _attention_by_hand(h, h, params["attention"], heads, keys_allowed), pre_norm)
    return _sublayer(x, params["feed_forward_norm"], lambda h: _feed_forward_by_hand(h, params["feed_forward"]),
                     pre_norm)


def _decoder_mask_by_hand(target_mask):
    """m_ij = [j <= i] and m_j, one entry at a time."""
    batch, steps = target_mask.shape
    mask = np.zeros((batch, steps, steps), bool)
    for b in range(batch):
        for i in range(steps):
            for j in range(i + 1):
                mask[b, i, j] = target_mask[b, j]
    return mask


def _decoder_block_by_hand(y, memory, target_mask, source_mask, params, heads, pre_norm=True):
    self_allowed = _decoder_mask_by_hand(np.asarray(target_mask, bool))
    source_allowed = np.asarray(source_mask, bool)[:, None, :]
    y = _sublayer(y, params["self_attention_norm"],
                  lambda h: _attention_by_hand(h, h, params["self_attention"], heads, self_allowed), pre_norm)
    y = _sublayer(y, params["cross_attention_norm"],
                  lambda h: _attention_by_hand(h, memory, params["cross_attention"], heads, source_allowed),
                  pre_norm)
    return _sublayer(y, params["feed_forward_norm"], lambda h: _feed_forward_by_hand(h, params["feed_forward"]),
                     pre_norm)


@register("9.4", "the encoder block: self-attention and feed-forward, each with a residual and a layer norm")
def _encoder_block_cases():
    rng = np.random.default_rng(95)
    depth, hidden = 8, 16
    params = encoder_block_weights(rng, depth, hidden)
    x = normal(rng, 2, 5, depth)
    real = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], bool)
    cases = [
        ("pre-norm, 2 heads, the second sentence padded after 3 words", {"pre_norm": True}),
        ("post-norm (the paper's order: LN(x + sublayer(x)))", {"pre_norm": False}),
    ]
    return [Case(text, (x, real, params, 2), _encoder_block_by_hand(x, real, params, 2, **kwargs), kwargs)
            for text, kwargs in cases]


@register("9.5", "the decoder block: causal self-attention, cross-attention, feed-forward")
def _decoder_block_cases():
    rng = np.random.default_rng(96)
    depth, hidden = 8, 16
    params = decoder_block_weights(rng, depth, hidden)
    y = normal(rng, 2, 5, depth)
    memory = normal(rng, 2, 4, depth)
    target_real = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], bool)
    source_real = np.array([[1, 1, 1, 1], [1, 1, 0, 0]], bool)
    args = (y, memory, target_real, source_real, params, 2)
    cases = [
        ("pre-norm, 2 heads, both sides padded in the second pair (causal + padding mask on the "
         "self-attention, the source mask on the cross-attention)", {"pre_norm": True}),
        ("post-norm (the paper's order)", {"pre_norm": False}),
    ]
    return [Case(text, args, _decoder_block_by_hand(*args, **kwargs), kwargs) for text, kwargs in cases]


# ---------------------------------------------------------------- greedy decoding with a cache


def decoder_weights(rng, vocab_size, depth, max_length):
    """Random weights of a one-layer, one-head causal self-attention decoder (exercise 9.6).

    ``embedding`` ``(vocab_size, depth)``, ``positions`` ``(max_length, depth)`` (sinusoidal),
    ``W_Q``, ``W_K``, ``W_V``, ``W_O`` ``(depth, depth)`` and ``W_out`` ``(depth, vocab_size)``.
    """
    return {"embedding": normal(rng, vocab_size, depth), "positions": _positions_by_hand(max_length, depth),
            **{f"W_{name}": normal(rng, depth, depth) / np.sqrt(depth) for name in "QKVO"},
            "W_out": normal(rng, depth, vocab_size) / np.sqrt(depth)}


def decoder_logits(tokens, params):
    """Logits of the next token at every position of ``tokens``, the whole prefix at once.

    x_t = E[token_t] + PE_t; h = x + softmax(causal(Q K^T / sqrt(d))) V W_O; logits = h W_out.
    """
    x = params["embedding"][np.asarray(tokens)] + params["positions"][:len(tokens)]
    q, k, v = x @ params["W_Q"], x @ params["W_K"], x @ params["W_V"]
    depth = x.shape[-1]
    h = np.zeros_like(x)
    for i in range(len(tokens)):
        alpha = _softmax_by_hand([float(q[i] @ k[j]) / np.sqrt(depth) for j in range(len(tokens))],
                                 [j <= i for j in range(len(tokens))])
        h[i] = x[i] + (alpha @ v) @ params["W_O"]
    return h @ params["W_out"]


def greedy_uncached(start, steps, params):
    """Greedy decoding the slow way: the whole prefix through the decoder at every step."""
    tokens = [start]
    for _ in range(steps):
        tokens.append(int(np.argmax(decoder_logits(tokens, params)[-1])))
    return np.array(tokens[1:])


@register("9.6", "greedy decoding with a key-value cache: the same tokens as without it")
def _cached_decoding_cases():
    rng = np.random.default_rng(97)
    cases = []
    for text, vocab_size, depth, steps, start in [
        ("vocabulary of 11, d = 8, 12 steps from token 1", 11, 8, 12, 1),
        ("vocabulary of 30, d = 16, 25 steps from token 4 (positions t counted from 0)", 30, 16, 25, 4),
        ("one step (the cache holds only the start token)", 7, 4, 1, 2),
    ]:
        params = decoder_weights(rng, vocab_size, depth, max_length=steps + 1)
        cases.append(Case(text, (start, steps, params), greedy_uncached(start, steps, params)))
    return cases
