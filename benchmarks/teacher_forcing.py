"""Teacher forcing without a Python loop over time steps, against one with it.

The course's :class:`attncourse.translator.Translator` trains with teacher forcing in one
call: Luong-style attention attends after the decoder RNN over all target steps at
once, and Bahdanau-style attention runs inside a ``keras.layers.RNN`` cell. Many
tutorials instead loop over the target steps in Python, calling the decoder once per
word. This script times one training step (forward + backward + update) of both, on
the same model and batch, side by side in one process, and reports the speed-up.

The loop is timed twice: eagerly (as such tutorials run it) and traced once with
``tf.function`` (the loop then unrolls into one graph), so the speed-up is not only the
cost of eager execution.

    python benchmarks/teacher_forcing.py [--quick]

Writes ``_build/bench/teacher_forcing.json``.
"""

import argparse
import json
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from attncourse import data, translator  # noqa: E402
from attncourse.layers import BahdanauAttention, LuongAttention  # noqa: E402


def looped_loss(model, source, decoder_input, decoder_target, loss_fn):
    """The tutorial way: one decoder call per target word, in a Python loop."""
    encoder_states, state, source_mask = model.encode(source)
    total = 0.0
    for step in range(decoder_input.shape[1]):
        logits, state, _ = model.decode_step(decoder_input[:, step], state, encoder_states, source_mask)
        total += loss_fn(decoder_target[:, step], logits)
    return total / decoder_input.shape[1]


def make_steps(model, arrays):
    source = tf.constant(arrays["source"])
    decoder_input = tf.constant(arrays["decoder_input"])
    decoder_target = tf.constant(arrays["decoder_target"])
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=data.PAD)
    optimizer = keras.optimizers.Adam(1e-3)

    def vectorised():
        with tf.GradientTape() as tape:
            loss = loss_fn(decoder_target, model([source, decoder_input], training=True))
        optimizer.apply(tape.gradient(loss, model.trainable_variables), model.trainable_variables)
        return loss

    def looped():
        with tf.GradientTape() as tape:
            loss = looped_loss(model, source, decoder_input, decoder_target, loss_fn)
        optimizer.apply(tape.gradient(loss, model.trainable_variables), model.trainable_variables)
        return loss

    return {
        "vectorised": tf.function(vectorised),
        "loop, traced": tf.function(looped),
        "loop, eager": looped,
    }


def median_seconds(steps, repeats):
    """Median time of each step, with repeats interleaved so noise hits all alike."""
    for step in steps.values():  # warm-up: tracing and first allocations
        step()
        step()
    times = {name: [] for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            start = time.perf_counter()
            float(step())  # forces the computation to finish
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats and shorter sentences (< 1 minute)")
    args = parser.parse_args()
    batch, length, repeats = (32, 20, 3) if args.quick else (64, 30, 7)

    keras.utils.set_random_seed(0)
    pairs = data.toy_translation(batch, vocab_size=60, min_length=length, max_length=length, seed=0)
    arrays = data.seq2seq_arrays(pairs, source_length=length)
    results = {}
    for name, attention in (("bahdanau (context feeds the state)", BahdanauAttention(64)),
                            ("luong (attention after the RNN)", LuongAttention("general"))):
        model = translator.make_translator(pairs, source_length=length, embedding_dim=32, units=64,
                                           attention=attention, compile=False)
        seconds = median_seconds(make_steps(model, arrays), repeats)
        results[name] = {
            "ms": {k: round(1000 * v, 2) for k, v in seconds.items()},
            "speedup_vs_eager_loop": seconds["loop, eager"] / seconds["vectorised"],
            "speedup_vs_traced_loop": seconds["loop, traced"] / seconds["vectorised"],
        }

    print(f"one training step, batch {batch}, {length} target words, median of {repeats}")
    print(f"{'model':38s} {'vectorised':>11s} {'loop traced':>12s} {'loop eager':>11s} {'x eager':>8s} {'x traced':>9s}")
    for name, r in results.items():
        ms = r["ms"]
        print(f"{name:38s} {ms['vectorised']:9.1f}ms {ms['loop, traced']:10.1f}ms {ms['loop, eager']:9.1f}ms "
              f"{r['speedup_vs_eager_loop']:7.1f}x {r['speedup_vs_traced_loop']:8.1f}x")
    out = Path("_build/bench/teacher_forcing.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"batch": batch, "target_length": length, "repeats": repeats,
                               "backend": keras.backend.backend(), "results": results}, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
