"""Greedy decoding of chapter 9's Transformer with and without its key-value cache.

``decoding.greedy_decode`` translates one word at a time. Without a cache
(``model.kv_cache = False``) every step runs the decoder again over the whole prefix, so a
sentence of T words costs 1 + 2 + ... + T positions; with the cache (the default) every
step computes only its new position, against the keys and values kept from the steps
before, so it costs T. Both give the same words (checked here on every decoding).

The model is notebook 09's Transformer in its cpu profile (vocabulary of 60 words, sources
padded to 20, d = 64, 4 heads, 1 layer, untrained: the time does not depend on the
weights), on a batch of 512 toy sentences, the batch greedy_decode decodes together by
default and notebook 09 uses (``--batch`` for another size: on a CPU a small batch is
dominated by the fixed cost of eager operations, so the cache gains less), on the TensorFlow backend, eagerly (as the notebook decodes).
The number of steps is greedy_decode's ``max_length``: 20, 40 and 80.

The two sides use the same model (one attribute switches the cache) in one process, in
rounds that alternate which side goes first, so that the noise of a shared machine hits
both. A round's ratio is uncached seconds / cached seconds (tokens per second cached /
uncached); the reported ratio is the median over rounds. Goal: at least 3 at 80 steps,
and at least 1 (the cache never slows decoding down) at 20 and 40.

Usage::

    TF_CPP_MIN_LOG_LEVEL=3 .venv/bin/python benchmarks/decoding.py [--quick] [--batch 512]

Prints a table and writes ``_build/bench/decoding.json``: ``{"comparisons": [{"name":
"kv_cache_speedup_T80", "ratio": ..., "goal": ">= 3", "met": ...}, ...],
"tokens_per_second": {"cached": {T: ...}, "uncached": {T: ...}}, "seconds": ...,
"ratio_spread": ..., "shapes": ..., ...}``.
"""

import argparse
import json
import os
import pathlib
import platform
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["KERAS_BACKEND"] = "tensorflow"

import keras  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from attncourse import data, decoding, transformer  # noqa: E402

# Notebook 09, cpu profile: the toy task's vocabulary and longest sentence, the Transformer's sizes.
VOCAB_SIZE, SOURCE_LENGTH, DEPTH, HEADS, NUM_LAYERS = 60, 20, 64, 4, 1
LENGTHS = (20, 40, 80)
GOALS = {20: 1.0, 40: 1.0, 80: 3.0}
SIDES = ("cached", "uncached")
OUTPUT = pathlib.Path(__file__).resolve().parents[1] / "_build" / "bench" / "decoding.json"


def make_model_and_source(batch):
    """Notebook 09's Transformer (seed 0, untrained) and ``batch`` padded toy sources."""
    pairs = data.toy_translation(batch, vocab_size=VOCAB_SIZE, min_length=3, max_length=SOURCE_LENGTH, seed=0)
    keras.utils.set_random_seed(0)
    model = transformer.Transformer(len(pairs.source_vocab), len(pairs.target_vocab), source_length=SOURCE_LENGTH,
                                    depth=DEPTH, heads=HEADS, num_layers=NUM_LAYERS)
    model.build(None)
    return model, data.pad(pairs.source, length=SOURCE_LENGTH)


def decode(model, source, side, steps):
    """Seconds of one ``greedy_decode`` of ``steps`` words, and its tokens."""
    model.kv_cache = side == "cached"
    start = time.perf_counter()
    tokens, _ = decoding.greedy_decode(model, source, max_length=steps)
    return time.perf_counter() - start, tokens


def save(report):
    """Write ``report`` as JSON to ``_build/bench/decoding.json``, where ``make bench`` reads it."""
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {OUTPUT.relative_to(OUTPUT.parents[2])}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds (about a minute)")
    parser.add_argument("--batch", type=int, default=512, help="sentences decoded together (default 512)")
    args = parser.parse_args()
    rounds = 3 if args.quick else 9

    model, source = make_model_and_source(args.batch)
    for side in SIDES:  # the first decoding of each side pays for setting things up
        decode(model, source, side, LENGTHS[0])
    seconds = {side: {steps: [] for steps in LENGTHS} for side in SIDES}
    same_tokens = True
    for round_index in range(rounds):
        for length_index, steps in enumerate(LENGTHS):
            order = SIDES if (round_index + length_index) % 2 == 0 else SIDES[::-1]
            tokens = {}
            for side in order:
                elapsed, tokens[side] = decode(model, source, side, steps)
                seconds[side][steps].append(elapsed)
            same_tokens &= bool(np.array_equal(tokens["cached"], tokens["uncached"]))

    results = {}
    for steps in LENGTHS:
        ratios = [u / c for u, c in zip(seconds["uncached"][steps], seconds["cached"][steps])]
        ratio = statistics.median(ratios)
        results[steps] = dict(
            ratio=ratio, spread=[min(ratios), max(ratios)], met=bool(ratio >= GOALS[steps]),
            tokens_per_second={side: args.batch * steps / statistics.median(seconds[side][steps]) for side in SIDES},
        )

    print(f"greedy decoding, batch {args.batch}, source length {SOURCE_LENGTH}, d = {DEPTH}, {HEADS} heads, "
          f"{NUM_LAYERS} layer(s), eager {keras.backend.backend()}, {rounds} rounds (median)")
    print(f"{'steps':>5} {'cached tok/s':>13} {'uncached tok/s':>15} {'ratio':>7}  {'ratio range':>13}  goal")
    for steps, r in results.items():
        low, high = r["spread"]
        print(f"{steps:5d} {r['tokens_per_second']['cached']:13,.0f} {r['tokens_per_second']['uncached']:15,.0f} "
              f"{r['ratio']:7.2f}  {low:6.2f}-{high:<6.2f}  >= {GOALS[steps]:g} {'met' if r['met'] else 'NOT met'}")
    print(f"same tokens with and without the cache: {same_tokens}")

    import tensorflow as tf

    report = {
        "comparisons": [
            {"name": f"kv_cache_speedup_T{steps}", "ratio": r["ratio"], "goal": f">= {GOALS[steps]:g}",
             "met": r["met"]}
            for steps, r in results.items()
        ],
        "tokens_per_second": {side: {str(steps): r["tokens_per_second"][side] for steps, r in results.items()}
                              for side in SIDES},
        "seconds": {side: {str(steps): times for steps, times in by_length.items()}
                    for side, by_length in seconds.items()},
        "ratio_spread": {str(steps): r["spread"] for steps, r in results.items()},
        "same_tokens": same_tokens,
        "shapes": {"batch": args.batch, "source_length": SOURCE_LENGTH, "vocab_size": VOCAB_SIZE, "depth": DEPTH,
                   "heads": HEADS, "num_layers": NUM_LAYERS, "steps": list(LENGTHS)},
        "rounds": rounds,
        "quick": args.quick,
        "backend": keras.backend.backend(),
        "versions": {"tensorflow": tf.__version__, "keras": keras.__version__,
                     "python": platform.python_version()},
    }
    save(report)


if __name__ == "__main__":
    main()
