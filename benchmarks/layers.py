"""Training-step time of the course's cross-attention layers against Keras's own.

Two pairs, each timed as one training step (forward, backward and an Adam update) of a
small model, compiled with XLA (``tf.function(jit_compile=True)``), on the TensorFlow
backend:

- ``luong_dot``: ``LuongAttention(score="dot")`` against ``keras.layers.Attention()``;
- ``bahdanau``: ``BahdanauAttention(units)`` against ``keras.layers.AdditiveAttention()``.
  Keras's layer has no projections (it scores ``Σ_u scale_u tanh(q_u + k_u)`` on what it
  is given), so it gets ``Dense(units, use_bias=False)`` on the query and on the key
  outside the layer, while ours learns the same two projections inside: both sides
  compute the same function with the same number of weights.

Both models of a pair are the same around the attention: a Dense projection of the query
and one of the value before it, a Dense output layer after it, and padding masks on the
query and the value. The two sides run in one process, in rounds that alternate which
side goes first, so that the noise of a shared machine hits both; a round's ratio is
ours / Keras, and the reported ratio is the median over rounds.

Usage::

    TF_CPP_MIN_LOG_LEVEL=3 .venv/bin/python benchmarks/layers.py [--quick]

Prints a table and writes ``_build/bench/layers.json``:
``{"comparisons": [{name, ratio, goal, met}], "ratios": {name: ours/keras}, "times_ms": {name: {"ours": ms, "keras": ms}},
"shapes": {...}, "backend": ..., ...}``.
"""

import argparse
import json
import os
import pathlib
import platform
import statistics
import sys
import time

os.environ["KERAS_BACKEND"] = "tensorflow"  # the timing uses tf.function and XLA

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from attncourse.layers import BahdanauAttention, LuongAttention  # noqa: E402

BATCH, STEPS, DEPTH = 64, 40, 128
# Ours may take at most this share of Keras's time: as fast as Keras's layers, within the
# noise of a shared machine.
RATIO_GOAL = 1.1
OUTPUT = pathlib.Path(__file__).resolve().parents[1] / "_build" / "bench" / "layers.json"


def attention_model(attend):
    """query, value, masks -> Dense projections -> ``attend`` -> Dense output."""
    query = keras.Input((STEPS, DEPTH), name="query")
    value = keras.Input((STEPS, DEPTH), name="value")
    query_mask = keras.Input((STEPS,), dtype="bool", name="query_mask")
    value_mask = keras.Input((STEPS,), dtype="bool", name="value_mask")
    projected_query = keras.layers.Dense(DEPTH)(query)
    projected_value = keras.layers.Dense(DEPTH)(value)
    context = attend(projected_query, projected_value, [query_mask, value_mask])
    output = keras.layers.Dense(DEPTH)(context)
    return keras.Model([query, value, query_mask, value_mask], output)


def luong_dot_ours(query, value, mask):
    return LuongAttention(score="dot")([query, value], mask=mask)


def luong_dot_keras(query, value, mask):
    return keras.layers.Attention()([query, value], mask=mask)


def bahdanau_ours(query, value, mask):
    return BahdanauAttention(units=DEPTH)([query, value], mask=mask)  # W_q, W_k inside


def bahdanau_keras(query, value, mask):
    # AdditiveAttention has no projections: give it the same W_q, W_k, outside.
    query = keras.layers.Dense(DEPTH, use_bias=False)(query)
    key = keras.layers.Dense(DEPTH, use_bias=False)(value)
    return keras.layers.AdditiveAttention()([query, value, key], mask=mask)


PAIRS = {
    "luong_dot": (
        luong_dot_ours,
        luong_dot_keras,
        "LuongAttention(score='dot') vs keras.layers.Attention()",
    ),
    "bahdanau": (
        bahdanau_ours,
        bahdanau_keras,
        f"BahdanauAttention({DEPTH}) (projects inside) vs Dense({DEPTH}, use_bias=False) on query "
        "and key + keras.layers.AdditiveAttention()",
    ),
}


def make_batch(seed=0):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(STEPS // 2, STEPS + 1, size=(2, BATCH))  # padded batches, as in training
    steps = np.arange(STEPS)
    return dict(
        query=tf.constant(rng.normal(size=(BATCH, STEPS, DEPTH)), tf.float32),
        value=tf.constant(rng.normal(size=(BATCH, STEPS, DEPTH)), tf.float32),
        query_mask=tf.constant(steps[None, :] < lengths[0][:, None]),
        value_mask=tf.constant(steps[None, :] < lengths[1][:, None]),
        target=tf.constant(rng.normal(size=(BATCH, STEPS, DEPTH)), tf.float32),
    )


def training_step(build):
    """A compiled training step of a fresh model made with ``build``."""
    keras.utils.set_random_seed(0)
    model = attention_model(build)
    optimizer = keras.optimizers.Adam(1e-3)
    optimizer.build(model.trainable_variables)

    @tf.function(jit_compile=True)
    def step(query, value, query_mask, value_mask, target):
        with tf.GradientTape() as tape:
            output = model([query, value, query_mask, value_mask], training=True)
            loss = tf.reduce_mean(tf.square(output - target))
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply(gradients, model.trainable_variables)
        return loss

    return step, model.count_params()


def time_steps(step, batch, repeats):
    """Milliseconds per step, over ``repeats`` steps (waiting for the result each time)."""
    start = time.perf_counter()
    for _ in range(repeats):
        step(**batch).numpy()
    return 1000.0 * (time.perf_counter() - start) / repeats


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="few rounds (under a minute)")
    args = parser.parse_args()
    rounds, steps_per_round, warmup = (6, 3, 3) if args.quick else (25, 10, 10)

    batch = make_batch()
    results = {}
    for name, (ours_build, keras_build, description) in PAIRS.items():
        sides = {"ours": training_step(ours_build), "keras": training_step(keras_build)}
        for step, _ in sides.values():  # compile, then warm up
            time_steps(step, batch, warmup)
        times = {"ours": [], "keras": []}
        for round_index in range(rounds):
            order = ("ours", "keras") if round_index % 2 == 0 else ("keras", "ours")
            for side in order:
                times[side].append(time_steps(sides[side][0], batch, steps_per_round))
        ratios = [o / k for o, k in zip(times["ours"], times["keras"])]
        results[name] = dict(
            description=description,
            ours_ms=statistics.median(times["ours"]),
            keras_ms=statistics.median(times["keras"]),
            ratio=statistics.median(ratios),
            ratio_spread=[min(ratios), max(ratios)],
            params={side: count for side, (_, count) in sides.items()},
        )

    print(
        f"training step, batch {BATCH}, T_q = T_v = {STEPS}, d = {DEPTH}, "
        f"XLA on {keras.backend.backend()}, {rounds} rounds x {steps_per_round} steps (median)"
    )
    print(
        f"{'pair':<11} {'ours ms':>9} {'keras ms':>9} {'ratio':>7}  {'ratio range':>13}  params ours/keras"
    )
    for name, r in results.items():
        low, high = r["ratio_spread"]
        print(
            f"{name:<11} {r['ours_ms']:9.2f} {r['keras_ms']:9.2f} {r['ratio']:7.3f}  "
            f"{low:6.3f}-{high:<6.3f}  {r['params']['ours']}/{r['params']['keras']}"
        )
    for name, r in results.items():
        print(f"  {name}: {r['description']}")

    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    report = {
        # The comparisons `make bench` tabulates: ours / Keras's time, as fast within noise.
        "comparisons": [
            {"name": f"{name}_ours_over_keras_time", "ratio": r["ratio"], "goal": f"<= {RATIO_GOAL}",
             "met": r["ratio"] <= RATIO_GOAL}
            for name, r in results.items()
        ],
        "ratios": {name: r["ratio"] for name, r in results.items()},
        "times_ms": {
            name: {"ours": r["ours_ms"], "keras": r["keras_ms"]} for name, r in results.items()
        },
        "ratio_spread": {name: r["ratio_spread"] for name, r in results.items()},
        "shapes": {"batch": BATCH, "T_q": STEPS, "T_v": STEPS, "d": DEPTH, "units": DEPTH},
        "pairs": {name: r["description"] for name, r in results.items()},
        "backend": keras.backend.backend(),
        "jit_compile": True,
        "rounds": rounds,
        "steps_per_round": steps_per_round,
        "quick": args.quick,
        "versions": {
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
            "python": platform.python_version(),
        },
    }
    OUTPUT.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {OUTPUT.relative_to(OUTPUT.parents[2])}")


if __name__ == "__main__":
    main()
