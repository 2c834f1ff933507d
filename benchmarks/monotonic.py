"""Hard monotonic decoding, one output step at a time: the online walk against the full pass.

``MonotonicAttention.step(..., mode="hard")`` can compute a step two ways, with the same
result:

- ``online=True``: the walk of Raffel et al. scores the keys from the previous position
  on, a few at a time, and stops at the first position it chooses, so the time of a
  step should not depend on the source length T_v;
- ``online=False``: the choose probability of every source position is computed, then
  the first one at or right of the previous position that passes the threshold is taken,
  so the time grows with T_v.

Both decode random sources of 100, 1,000 and 10,000 positions (each the start of the
next), batch 8, units 64, keys and values of depth 64, for 40 output steps from the first
position, eagerly, as ``greedy_decode`` runs them. The energy bias r is set so that a walk
moves on one position per step on average, as in speech recognition; the output gives the
mean move and the largest, and whether the walks are the same at every length (they are
unless one reaches the end of the 100 positions).

Both sides run in one process, in rounds that alternate the order; a round times one
decode of each length with each method. The reported times and ratios are medians over
rounds (each ratio is taken within a round). Goals: the online step time at 10,000
positions within 1.5 times that at 100 (flat), and the full pass slower than the walk at
10,000 positions.

Usage::

    TF_CPP_MIN_LOG_LEVEL=3 .venv/bin/python benchmarks/monotonic.py [--quick]

Prints a table and writes ``_build/bench/monotonic.json``: ``{"comparisons": [{"name",
"ratio", "goal", "met"}, ...], "times_ms": {T_v: {"online": ms, "full": ms}}, ...}``.
"""

import argparse
import json
import os
import pathlib
import platform
import statistics
import sys
import time

os.environ["KERAS_BACKEND"] = "tensorflow"

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import ops  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from attncourse.layers import MonotonicAttention  # noqa: E402
from attncourse.layers import monotonic  # noqa: E402

BATCH, UNITS, DEPTH, STEPS = 8, 64, 64, 40
LENGTHS = (100, 1_000, 10_000)
CALIBRATION = 1_000  # source positions on which the energy bias is set
# The random draws: with this one the mean move comes close to one (it moves by jumps
# with r, and how close it can come depends on the draw).
SEED = 4
METHODS = {"online": True, "full": False}  # the step's ``online`` argument
OUTPUT = pathlib.Path(__file__).resolve().parents[1] / "_build" / "bench" / "monotonic.json"


def make_inputs(seed=SEED):
    """The layer, its queries ``(B, STEPS, d)`` and one source ``(B, T_v, d)`` per length."""
    rng = np.random.default_rng(seed)
    # Queries of half the keys' scale: p_ij depends on the key as much as on the query, so
    # the walks move on steadily, without the long jumps of a query that scores every key low.
    queries = 0.5 * rng.normal(size=(BATCH, STEPS, DEPTH)).astype("float32")
    memory = rng.normal(size=(BATCH, max(LENGTHS), DEPTH)).astype("float32")
    keras.utils.set_random_seed(seed)
    layer = MonotonicAttention(UNITS, mode="hard")
    layer.build([(BATCH, 1, DEPTH), (BATCH, max(LENGTHS), DEPTH)])
    # r such that the walk moves on about one position per step on average, on the first
    # CALIBRATION positions, as the layer's own hard call over all steps measures it. The
    # mean move falls as r grows, by jumps (where a walk stops or runs on): r is the value
    # tried whose mean is nearest to one, first on a grid, then halving the interval
    # where the mean passes one.
    def mean_move(bias):
        layer.score_bias.assign(bias)
        _, alignment = layer([queries, memory[:, :CALIBRATION]], return_attention_scores=True)
        positions = ops.convert_to_numpy(ops.argmax(alignment, axis=-1))
        return float(np.mean(np.diff(positions, axis=1, prepend=0)))

    tried = {bias: mean_move(bias) for bias in np.arange(-3.0, 3.0, 0.1)}
    low = max(bias for bias, move in tried.items() if move > 1.0)
    high = low + 0.1
    for _ in range(8):
        middle = (low + high) / 2
        tried[middle] = mean_move(middle)
        low, high = (middle, high) if tried[middle] > 1.0 else (low, middle)
    layer.score_bias.assign(min(tried, key=lambda bias: abs(tried[bias] - 1.0)))
    sources = {length: tf.constant(memory[:, :length]) for length in LENGTHS}
    return layer, queries, sources


def decode(layer, queries, source, online):
    """Milliseconds per step of a hard decode of STEPS steps, and the positions attended."""
    previous, positions = None, []
    start = time.perf_counter()
    for i in range(STEPS):
        context, previous = layer.step(queries[:, i], source, previous, mode="hard", online=online)
        ops.convert_to_numpy(context)  # as greedy decoding, which reads each step's output
        positions.append(previous)
    elapsed = 1000.0 * (time.perf_counter() - start) / STEPS
    return elapsed, np.stack([ops.convert_to_numpy(ops.argmax(p, axis=-1)) for p in positions], 1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="5 rounds instead of 15 (well under a minute)")
    args = parser.parse_args()
    rounds = 5 if args.quick else 15

    layer, queries, sources = make_inputs()
    runs = [(length, method) for length in LENGTHS for method in METHODS]
    walks = {}
    for length, method in runs:  # warm up, and check that both methods walk alike
        _, walks[length, method] = decode(layer, queries, sources[length], METHODS[method])
    for length in LENGTHS:
        if not np.array_equal(walks[length, "online"], walks[length, "full"]):
            raise AssertionError(f"the online walk and the full pass differ at T_v = {length}")
    # The same walks at every length, unless one reached the end of a shorter source.
    same_walks = all(
        np.array_equal(walks[length, "online"], walks[LENGTHS[0], "online"]) for length in LENGTHS
    )
    moves = np.diff(walks[LENGTHS[-1], "online"], axis=1, prepend=0)

    times = {run: [] for run in runs}
    for round_index in range(rounds):
        for length, method in runs if round_index % 2 == 0 else runs[::-1]:
            elapsed, _ = decode(layer, queries, sources[length], METHODS[method])
            times[length, method].append(elapsed)

    def ratios(numerator, denominator):
        values = [n / d for n, d in zip(times[numerator], times[denominator])]
        return statistics.median(values), [min(values), max(values)]

    shortest, longest = LENGTHS[0], LENGTHS[-1]
    flat, flat_spread = ratios((longest, "online"), (shortest, "online"))
    faster, faster_spread = ratios((longest, "full"), (longest, "online"))
    comparisons = [
        {"name": f"online_step_time_{longest}_over_{shortest}", "ratio": flat, "goal": "<= 1.5",
         "met": bool(flat <= 1.5), "spread": flat_spread},
        {"name": f"full_over_online_at_{longest}", "ratio": faster, "goal": "> 1",
         "met": bool(faster > 1.0), "spread": faster_spread},
    ]
    median_ms = {
        length: {method: statistics.median(times[length, method]) for method in METHODS}
        for length in LENGTHS
    }

    print(
        f"hard monotonic decoding, ms per output step: batch {BATCH}, units {UNITS}, depth {DEPTH}, "
        f"{STEPS} steps, eager {keras.backend.backend()}, {rounds} rounds (median)"
    )
    print(
        f"the walks move on {moves.mean():.2f} positions per step on average, at most {moves.max()}; "
        f"the same walks at every length: {same_walks}"
    )
    print(f"{'T_v':>7} {'online':>8} {'full':>8} {'full/online':>12}")
    for length in LENGTHS:
        online_ms, full_ms = median_ms[length]["online"], median_ms[length]["full"]
        print(f"{length:>7} {online_ms:8.2f} {full_ms:8.2f} {full_ms / online_ms:12.2f}")
    for comparison in comparisons:
        low, high = comparison["spread"]
        print(
            f"{comparison['name']}: {comparison['ratio']:.3f} (rounds {low:.3f}-{high:.3f}), "
            f"goal {comparison['goal']}: {'met' if comparison['met'] else 'NOT met'}"
        )

    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "comparisons": comparisons,
        "times_ms": {str(length): median_ms[length] for length in LENGTHS},
        "backend": keras.backend.backend(),
        "versions": {"tensorflow": tf.__version__, "keras": keras.__version__,
                     "python": platform.python_version()},
        "rounds": rounds,
        "quick": args.quick,
        "shapes": {"batch": BATCH, "units": UNITS, "depth": DEPTH, "steps": STEPS, "T_v": list(LENGTHS)},
        "windows": {"first": monotonic.HARD_WINDOW, "longest": monotonic.LONGEST_WINDOW},
        "mean_move_per_step": float(moves.mean()),
        "largest_move": int(moves.max()),
        "same_walks_at_every_length": bool(same_walks),
    }
    OUTPUT.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {OUTPUT.relative_to(OUTPUT.parents[2])}")


if __name__ == "__main__":
    main()
