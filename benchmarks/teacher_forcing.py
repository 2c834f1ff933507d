"""Teacher forcing in one call against a Python loop over the target words, traced and eager.

The course's :class:`attncourse.translator.Translator` trains with teacher forcing in one
call: Luong-style attention attends after the decoder RNN over all target steps at
once, and Bahdanau-style attention runs inside a ``keras.layers.RNN`` cell that reads the
encoder states prepared once per sentence. Many tutorials instead loop over the target
steps in Python, calling the decoder once per word. This script times one training step
(forward + backward + Adam update) of each way, on the same model and batch, for both
translators.

The loop has two forms, and the one-call step is compared with each:

- traced once by ``tf.function`` (the loop unrolls into one graph: per word, a few dozen
  operations and no loop machinery). This is the loop's best form and the stronger
  rival, so its ratio comes first;
- run eagerly, as such tutorials run it.

Like with like: one model, one batch and one optimizer per translator, and the one-call
step and the traced loop compiled alike: by default as ``translator.compile_translator``
compiles (``jit_compile="auto"``: XLA when TensorFlow sees a GPU, none on a CPU-only
machine); ``--jit-compile true`` or ``false`` forces either for both. The eager loop is
never compiled.

The sides run in rounds, so that the noise of a shared machine hits all of them alike: in
each round the one-call step and the traced loop take turns, step by step, for a few steps
each (which goes first alternates between rounds), and the eager loop runs one step. A
round's ratio is the rival's time per step over the one-call step's; the reported ratio is
the median over rounds, with its range. Goal: the one call at least as fast as each rival
(ratio >= 1).

Where Bahdanau's time goes, on a CPU: most of a step is the attention itself (the
``(batch, T_v, units)`` tanh of every target word, forward and backward), which both sides
compute alike. The one call saves the traced loop's per-word work (output layer, loss, key
projection) but pays for TensorFlow's ``while`` loop: per target word, its backward pass
runs a body of over two hundred operations, more than half of them constants, copies and
pops of the word's intermediate tensors from lists, besides the arithmetic. The two nearly
cancel, and the traced loop comes out a few per cent ahead, with or
without XLA. Unrolling the decoder's RNN (``keras.layers.RNN(unroll=True)``) removes the
loop machinery and brings the one call level with the traced loop, but its first call,
which traces the unrolled graph, takes two to three times as long; the course's training
runs are too short to win that back, so the translator keeps the loop.

Usage::

    TF_CPP_MIN_LOG_LEVEL=3 .venv/bin/python benchmarks/teacher_forcing.py [--quick] [--jit-compile auto]

Prints a table and writes ``_build/bench/teacher_forcing.json``: ``{"comparisons": [{"name":
"bahdanau_traced_loop_over_one_call", "ratio": ..., "goal": ">= 1", "met": ...}, ...],
"results": {model: {"ms": {side: ...}, "speedup_vs_eager_loop": ..., "speedup_vs_traced_loop":
...}}, "ratio_spread": ..., "jit_compile": ..., "batch": ..., "target_length": ..., ...}``.
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
import tensorflow as tf  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from attncourse import data, translator  # noqa: E402
from attncourse.layers import BahdanauAttention, LuongAttention  # noqa: E402

OUTPUT = pathlib.Path(__file__).resolve().parents[1] / "_build" / "bench" / "teacher_forcing.json"
# Each translator: its short name (in the comparisons), its description and its attention.
MODELS = (("bahdanau", "bahdanau (context feeds the state)", lambda: BahdanauAttention(64)),
          ("luong", "luong (attention after the RNN)", lambda: LuongAttention("general")))
ONE_CALL, TRACED, EAGER = "vectorised", "loop, traced", "loop, eager"
RIVALS = {TRACED: "traced_loop", EAGER: "eager_loop"}
GOAL = 1.0


def looped_loss(model, source, decoder_input, decoder_target, loss_fn):
    """The tutorial way: one decoder call per target word, in a Python loop."""
    encoder_states, state, source_mask = model.encode(source)
    total = 0.0
    for step in range(decoder_input.shape[1]):
        logits, state, _ = model.decode_step(decoder_input[:, step], state, encoder_states, source_mask)
        total += loss_fn(decoder_target[:, step], logits)
    return total / decoder_input.shape[1]


def make_steps(model, arrays, jit_compile):
    """The three training steps on one model and one optimizer; the compiled two alike."""
    source = tf.constant(arrays["source"])
    decoder_input = tf.constant(arrays["decoder_input"])
    decoder_target = tf.constant(arrays["decoder_target"])
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=data.PAD)
    optimizer = keras.optimizers.Adam(1e-3)

    def one_call():
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
        ONE_CALL: tf.function(one_call, jit_compile=jit_compile),
        TRACED: tf.function(looped, jit_compile=jit_compile),
        EAGER: looped,
    }


def seconds_of(step):
    start = time.perf_counter()
    float(step())  # forces the computation to finish
    return time.perf_counter() - start


def measure(steps, rounds, calls):
    """Seconds per step of each side, one entry per round.

    In a round the compiled sides take turns step by step, ``calls`` steps each (the order
    alternating between rounds), and the eager loop runs one step, first or last.
    """
    for step in steps.values():  # warm-up: tracing (and compiling) and first allocations
        step()
        step()
    compiled = [side for side in steps if side != EAGER]
    seconds = {side: [] for side in steps}
    for round_index in range(rounds):
        order = compiled if round_index % 2 == 0 else compiled[::-1]
        if round_index % 2:
            seconds[EAGER].append(seconds_of(steps[EAGER]))
        total = dict.fromkeys(compiled, 0.0)
        for _ in range(calls):
            for side in order:
                total[side] += seconds_of(steps[side])
        for side in compiled:
            seconds[side].append(total[side] / calls)
        if not round_index % 2:
            seconds[EAGER].append(seconds_of(steps[EAGER]))
    return seconds


def resolve_jit_compile(choice):
    """``jit_compile`` as ``compile_translator``'s ``"auto"`` resolves it: XLA only with a GPU."""
    if choice == "auto":
        return any(device.device_type != "CPU" for device in tf.config.list_physical_devices())
    return choice == "true"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds and shorter sentences (about a minute)")
    parser.add_argument("--jit-compile", choices=("auto", "true", "false"), default="auto",
                        help="XLA for the one-call step and the traced loop (default auto: as compile_translator)")
    args = parser.parse_args()
    batch, length, rounds, calls = (32, 20, 9, 5) if args.quick else (64, 30, 15, 5)
    jit_compile = resolve_jit_compile(args.jit_compile)

    keras.utils.set_random_seed(0)
    pairs = data.toy_translation(batch, vocab_size=60, min_length=length, max_length=length, seed=0)
    arrays = data.seq2seq_arrays(pairs, source_length=length)
    results, comparisons, spreads = {}, [], {}
    for short, name, attention in MODELS:
        model = translator.make_translator(pairs, source_length=length, embedding_dim=32, units=64,
                                           attention=attention(), compile=False)
        seconds = measure(make_steps(model, arrays, jit_compile), rounds, calls)
        ratios = {rival: [r / o for r, o in zip(seconds[rival], seconds[ONE_CALL])] for rival in RIVALS}
        median = {rival: statistics.median(values) for rival, values in ratios.items()}
        results[name] = {
            "ms": {side: round(1000 * statistics.median(values), 2) for side, values in seconds.items()},
            "speedup_vs_eager_loop": median[EAGER],
            "speedup_vs_traced_loop": median[TRACED],
        }
        for rival, label in RIVALS.items():
            comparison = f"{short}_{label}_over_one_call"
            comparisons.append({"name": comparison, "ratio": median[rival], "goal": f">= {GOAL:g}",
                                "met": bool(median[rival] >= GOAL)})
            spreads[comparison] = [min(ratios[rival]), max(ratios[rival])]
    comparisons.sort(key=lambda row: "eager" in row["name"])  # the traced loop, the stronger rival, first

    print(f"one training step, batch {batch}, {length} target words, jit_compile={jit_compile}, "
          f"{keras.backend.backend()}, {rounds} rounds (median)")
    print(f"{'model':38s} {'one call':>9s} {'loop traced':>12s} {'loop eager':>11s}")
    for name, r in results.items():
        ms = r["ms"]
        print(f"{name:38s} {ms[ONE_CALL]:7.1f}ms {ms[TRACED]:10.1f}ms {ms[EAGER]:9.1f}ms")
    print(f"{'comparison (rival time / one-call time)':42s} {'ratio':>7s}  {'range':>13s}  goal")
    for row in comparisons:
        low, high = spreads[row["name"]]
        print(f"{row['name']:42s} {row['ratio']:7.2f}  {low:6.2f}-{high:<6.2f}  {row['goal']} "
              f"{'met' if row['met'] else 'NOT met'}")

    report = {
        "comparisons": comparisons,
        "results": results,
        "ratio_spread": spreads,
        "jit_compile": jit_compile,
        "batch": batch,
        "target_length": length,
        "repeats": rounds,
        "rounds": rounds,
        "steps_per_round": {ONE_CALL: calls, TRACED: calls, EAGER: 1},
        "quick": args.quick,
        "backend": keras.backend.backend(),
        "versions": {"tensorflow": tf.__version__, "keras": keras.__version__, "python": platform.python_version()},
    }
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {OUTPUT.relative_to(OUTPUT.parents[2])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
