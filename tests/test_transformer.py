"""Chapter 9's Transformer (``attncourse.transformer``): positions, masks, every head's
weights, decoding step by step with and without the key-value cache, training, saving and
mixed precision. Its greedy decoding and accuracy by length are tested with the Translator's,
in tests/test_decoding.py.
"""

import numpy as np
import pytest

import keras
from keras import ops

from attncourse import data, decoding, transformer, translator
from tests.conftest import SOURCE_LENGTH, toy_transformer as make_transformer


def test_positional_encoding_is_sines_and_cosines_of_each_position():
    encoding = transformer.positional_encoding(50, 16)
    assert encoding.shape == (50, 16) and encoding.dtype == np.float32
    np.testing.assert_allclose(encoding[0], np.tile([0.0, 1.0], 8), atol=1e-7)  # sin 0, cos 0
    # Each column pair is a point on the unit circle: sin² + cos² = 1.
    np.testing.assert_allclose(encoding[:, 0::2] ** 2 + encoding[:, 1::2] ** 2, 1.0, atol=1e-6)
    # The first pair turns one radian per position; later pairs turn slower.
    np.testing.assert_allclose(encoding[:, 0], np.sin(np.arange(50)), atol=1e-6)
    assert np.all(np.abs(np.diff(encoding[:, -2])) < np.abs(np.diff(encoding[:, 0])).max())
    distances = np.linalg.norm(encoding[:, None] - encoding[None], axis=-1)
    assert np.all(distances[~np.eye(50, dtype=bool)] > 1e-3)  # every position is distinct
    assert transformer.positional_encoding(3, 5).shape == (3, 5)  # odd depth: the last cosine is dropped
    for length, depth in [(-1, 4), (4, 0), (2.5, 4)]:
        with pytest.raises(ValueError, match="length|depth"):
            transformer.positional_encoding(length, depth)


def test_causal_padding_mask():
    token_mask = np.array([[True, True, True, False], [True, False, False, False]])
    expected = np.tril(np.ones((4, 4), dtype=bool))[None] & token_mask[:, None, :]
    np.testing.assert_array_equal(ops.convert_to_numpy(transformer.causal_padding_mask(token_mask)), expected)


def test_transformer_shapes_and_every_heads_weights(toy):
    pairs, arrays = toy
    model = make_transformer(pairs, num_layers=2)
    source, decoder_input = arrays["source"], arrays["decoder_input"]
    logits, weights = model([source, decoder_input], return_attention_scores=True)
    batch, steps_y = decoder_input.shape
    assert tuple(logits.shape) == (batch, steps_y, len(pairs.target_vocab))
    assert [len(weights[k]) for k in ("encoder", "decoder", "cross")] == [2, 2, 2]
    source_padding = (source == data.PAD)[:, None, None, :]
    for encoder in map(ops.convert_to_numpy, weights["encoder"]):
        assert encoder.shape == (batch, 2, SOURCE_LENGTH, SOURCE_LENGTH)
        assert np.all(np.where(source_padding, encoder, 0.0) == 0.0)
        np.testing.assert_allclose(encoder.sum(-1), 1.0, atol=1e-5)
    for cross in map(ops.convert_to_numpy, weights["cross"]):
        assert cross.shape == (batch, 2, steps_y, SOURCE_LENGTH)
        assert np.all(np.where(source_padding, cross, 0.0) == 0.0)
    future = ~np.tril(np.ones((steps_y, steps_y), dtype=bool))
    for decoder in map(ops.convert_to_numpy, weights["decoder"]):
        assert np.all(decoder[:, :, future] == 0.0)  # no step looks ahead
        np.testing.assert_allclose(decoder.sum(-1), 1.0, atol=1e-5)


def test_transformer_never_reads_the_future_or_the_padding(toy):
    pairs, arrays = toy
    model = make_transformer(pairs)
    source, decoder_input = arrays["source"], arrays["decoder_input"]
    logits = ops.convert_to_numpy(model([source, decoder_input]))
    # Changing the word at step 3 may change step 3 onwards, never the steps before.
    changed = decoder_input.copy()
    changed[:, 3] = 3 + (changed[:, 3] + 1) % (len(pairs.target_vocab) - 3)
    changed_logits = ops.convert_to_numpy(model([source, changed]))
    np.testing.assert_allclose(changed_logits[:, :3], logits[:, :3], atol=1e-5)
    assert not np.allclose(changed_logits[:, 3], logits[:, 3], atol=1e-5)
    # More padding after the source or the target changes nothing at the real positions.
    wider_source = np.pad(source, [(0, 0), (0, 4)])
    wider_target = np.pad(decoder_input, [(0, 0), (0, 3)])
    wider_logits = ops.convert_to_numpy(model([wider_source, wider_target]))
    real = decoder_input != data.PAD
    np.testing.assert_allclose(wider_logits[:, : decoder_input.shape[1]][real], logits[real], atol=1e-5)


def test_transformer_decoding_step_by_step_matches_teacher_forcing(toy):
    pairs, arrays = toy
    model = make_transformer(pairs, num_layers=2)
    source, decoder_input = arrays["source"], arrays["decoder_input"]
    logits, weights = model([source, decoder_input], return_attention_scores=True)
    logits = ops.convert_to_numpy(logits)
    last_cross = ops.convert_to_numpy(weights["cross"][-1]).mean(axis=1)
    memory, state, source_mask = model.encode(source)
    assert tuple(state.shape) == (len(source), 0)
    for step in range(4):
        step_logits, state, step_weights = model.decode_step(decoder_input[:, step], state, memory, source_mask)
        assert tuple(state.shape) == (len(source), step + 1)
        np.testing.assert_allclose(ops.convert_to_numpy(step_logits), logits[:, step], atol=1e-4)
        np.testing.assert_allclose(ops.convert_to_numpy(step_weights), last_cross[:, step], atol=1e-5)


def test_transformer_learns(toy):
    pairs, arrays = toy
    model = translator.compile_translator(make_transformer(pairs), learning_rate=1e-2)
    history = model.fit([arrays["source"], arrays["decoder_input"]], arrays["decoder_target"],
                        epochs=15, batch_size=12, verbose=0)
    assert history.history["loss"][-1] < 0.75 * history.history["loss"][0]


def test_saved_transformer_reloads(toy, tmp_path):
    pairs, arrays = toy
    model = make_transformer(pairs, num_layers=2)
    inputs = [arrays["source"], arrays["decoder_input"]]
    before = ops.convert_to_numpy(model(inputs))
    model.save(tmp_path / "transformer.keras")
    reloaded = keras.saving.load_model(tmp_path / "transformer.keras")
    assert isinstance(reloaded, transformer.Transformer) and reloaded.num_layers == 2
    np.testing.assert_allclose(ops.convert_to_numpy(reloaded(inputs)), before, atol=1e-6)


def test_bad_transformer_configurations_are_clear_errors(toy):
    with pytest.raises(ValueError, match="heads"):
        transformer.Transformer(10, 10, source_length=5, depth=10, heads=3)
    with pytest.raises(ValueError, match="max_length"):
        transformer.Transformer(10, 10, source_length=40, max_length=20)
    with pytest.raises(ValueError, match="num_layers"):
        transformer.Transformer(10, 10, source_length=5, num_layers=0)
    pairs, arrays = toy
    model = make_transformer(pairs)
    with pytest.raises(ValueError, match="max_length"):
        model([np.ones((1, 40), dtype="int32"), arrays["decoder_input"][:1]])


def test_transformer_runs_in_mixed_precision(toy):
    pairs, arrays = toy
    keras.mixed_precision.set_dtype_policy("mixed_float16")
    try:
        model = make_transformer(pairs)
        logits = ops.convert_to_numpy(model([arrays["source"], arrays["decoder_input"]]))
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
    assert np.all(np.isfinite(logits))


def _numpy(x):
    return ops.convert_to_numpy(x)


@pytest.mark.parametrize("num_layers", [1, 2])
def test_decode_step_with_the_cache_matches_without_at_every_step(toy, num_layers):
    # Teacher forcing feeds real words, then padding: every step's logits and weights agree
    # both ways, and with the whole decoder run at once.
    pairs, arrays = toy
    model = make_transformer(pairs, num_layers=num_layers)
    source, decoder_input = arrays["source"], arrays["decoder_input"]
    assert np.any(source == data.PAD) and np.any(decoder_input == data.PAD)
    teacher_logits = _numpy(model([source, decoder_input]))
    memory, prefix, source_mask = model.encode(source)
    cache = prefix
    for step in range(decoder_input.shape[1]):
        token = decoder_input[:, step]
        logits, prefix, weights = model.decode_step(token, prefix, memory, source_mask, cache=False)
        cached_logits, cache, cached_weights = model.decode_step(token, cache, memory, source_mask)
        np.testing.assert_allclose(_numpy(cached_logits), _numpy(logits), atol=1e-5)
        np.testing.assert_allclose(_numpy(cached_weights), _numpy(weights), atol=1e-5)
        np.testing.assert_allclose(_numpy(cached_logits), teacher_logits[:, step], atol=1e-4)
        assert isinstance(cache, transformer.DecoderCache) and cache.steps == step + 1
        assert cache.shape == tuple(prefix.shape) == (len(source), step + 1)
        np.testing.assert_array_equal(_numpy(cache.tokens), _numpy(prefix))
        if step == 0:
            memory_keys = cache.memory_keys
        assert cache.memory_keys is memory_keys  # the encoder output's keys, computed once
    assert len(cache.keys) == len(cache.values) == num_layers
    for keys in cache.keys + cache.values:
        assert tuple(keys.shape) == (len(source), decoder_input.shape[1], model.heads, model.depth // model.heads)


@pytest.mark.parametrize("num_layers", [1, 2])
def test_greedy_decoding_with_the_cache_matches_without(toy, num_layers):
    pairs, arrays = toy
    model = make_transformer(pairs, num_layers=num_layers)
    source = arrays["source"]
    max_length = 14  # longer than any target (END included)
    assert np.any(source == data.PAD) and max_length > arrays["decoder_target"].shape[1]
    assert model.kv_cache  # the default
    tokens, weights = decoding.greedy_decode(model, source, max_length, batch_size=8)
    model.kv_cache = False
    uncached_tokens, uncached_weights = decoding.greedy_decode(model, source, max_length, batch_size=8)
    np.testing.assert_array_equal(tokens, uncached_tokens)
    np.testing.assert_allclose(weights, uncached_weights, atol=1e-5)
    # The same greedy walk over the whole batch, each step's logits both ways. (An untrained
    # model repeats itself; the test above feeds varied words, and padding, through the cache.)
    memory, prefix, source_mask = model.encode(source)
    cache = prefix
    token = np.full((len(source),), data.START, dtype="int32")
    for _ in range(max_length):
        logits, prefix, _ = model.decode_step(token, prefix, memory, source_mask)  # kv_cache is False
        cached_logits, cache, _ = model.decode_step(token, cache, memory, source_mask, cache=True)
        np.testing.assert_allclose(_numpy(cached_logits), _numpy(logits), atol=1e-5)
        token = np.argmax(_numpy(logits), axis=-1).astype("int32")
    assert not isinstance(prefix, transformer.DecoderCache) and cache.steps == max_length


def test_a_prefix_starts_a_cache_and_a_cache_gives_its_prefix(toy):
    pairs, arrays = toy
    model = make_transformer(pairs, num_layers=2)
    source, decoder_input = arrays["source"], arrays["decoder_input"]
    memory, _, source_mask = model.encode(source)
    prefix, token = decoder_input[:, :4], decoder_input[:, 4]
    logits, longer, weights = model.decode_step(token, prefix, memory, source_mask, cache=False)
    # A cache filled from a prefix, and a cache read back as its prefix, step as the prefix does.
    cached_logits, cache, cached_weights = model.decode_step(token, prefix, memory, source_mask)
    np.testing.assert_allclose(_numpy(cached_logits), _numpy(logits), atol=1e-5)
    np.testing.assert_allclose(_numpy(cached_weights), _numpy(weights), atol=1e-5)
    np.testing.assert_array_equal(_numpy(cache.tokens), _numpy(longer))
    filled = model.start_cache(prefix, memory, source_mask)
    assert filled.steps == 4
    for before, after in zip(filled.keys + filled.values, cache.keys + cache.values):
        np.testing.assert_allclose(_numpy(after)[:, :4], _numpy(before), atol=1e-6)
    next_token = decoder_input[:, 5]
    after_cache, prefix_again, _ = model.decode_step(next_token, cache, memory, source_mask, cache=False)
    after_prefix = model.decode_step(next_token, longer, memory, source_mask, cache=False)[0]
    np.testing.assert_allclose(_numpy(after_cache), _numpy(after_prefix), atol=1e-6)
    assert tuple(prefix_again.shape) == (len(source), 6)


def test_cached_decoding_stops_at_max_length(toy):
    pairs, arrays = toy
    model = make_transformer(pairs)  # positions for 32 words
    memory, _, source_mask = model.encode(arrays["source"][:1])
    cache = model.start_cache(np.full((1, model.max_length), 3, dtype="int32"), memory, source_mask)
    with pytest.raises(ValueError, match="max_length"):
        model.decode_step(np.array([3]), cache, memory, source_mask)


def test_cached_decoding_in_mixed_precision(toy):
    pairs, arrays = toy
    keras.mixed_precision.set_dtype_policy("mixed_float16")
    try:
        model = make_transformer(pairs)
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
    tokens, weights = decoding.greedy_decode(model, arrays["source"], max_length=6)
    model.kv_cache = False
    uncached_tokens, uncached_weights = decoding.greedy_decode(model, arrays["source"], max_length=6)
    np.testing.assert_array_equal(tokens, uncached_tokens)
    np.testing.assert_allclose(weights.astype("float32"), uncached_weights.astype("float32"), atol=1e-3)
