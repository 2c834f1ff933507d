"""Memory and training-step time of KeyValueAttention: the banded window against all pairs.

``KeyValueAttention`` lets step t read only the previous ``L = window`` steps. It computes
just those: L lagged copies of the projected keys and of the values, a hidden layer
``(batch, T, L, units)``. The baseline, :class:`DenseKeyValueAttention` below, is the
layer's previous implementation, kept here unchanged: it scores all T × T pairs through a
``(batch, T, T, units)`` hidden layer and masks the result to the band. Both compute the
same function of the same three weights (tests/test_layers_pooling.py checks the outputs
and the gradients).

The model around the layer is the same for both sides: inputs ``h`` ``(batch, T, 3·64)``
and a padding mask (real lengths drawn between T/2 and T), a Dense layer, the layer in
mode ``key_value_predict`` (``units`` 64, ``window`` 10), a Dense output layer and a
mean squared error; TensorFlow backend. At T = 40, 512 and 2,048, batch 4:

- **peak memory** of one forward and backward pass (``tf.GradientTape`` in a
  ``tf.function``, no XLA, Keras's default on a CPU), in a fresh Python process per side
  and T: the peak of TensorFlow's own CPU allocator over the pass, less what it held
  before (``tf.config.experimental.get_memory_info("CPU:0")`` after
  ``reset_memory_stats``; with oneDNN on, TensorFlow's default on x86, the CPU allocator
  is a BFC allocator that keeps these statistics, as the GPU's does). The function is
  traced and run once before, so the measured pass allocates only its tensors. It is
  the memory of the tensors themselves, not the resident set of the process: freed
  buffers stay in the allocator's pool, so the resident set would not show a second
  pass at all. The parent process stops a probe whose resident set grows by more than
  a cap after its model is built (2 GiB with ``--quick``, else 10 GiB or half the memory
  available if less): such a case is reported as "> cap", and its ratio as a lower
  bound. The table also gives the largest single tensor of the traced graph, read
  without running it: the intermediate that grows as T² (all pairs) or as T·L (banded).
- **time of a training step**: forward, backward and an Adam update in one
  ``tf.function``, without XLA and with ``jit_compile=True``. The two sides run in one
  process, in rounds that alternate which side goes first, so that the noise of a
  shared machine hits both; a round's ratio is banded / dense, and the reported ratio
  is the median over rounds. A T whose memory probe was stopped at the cap, or needs
  more than half the memory available, is not timed.

The goals: peak memory dense / banded at T = 2,048 of at least 10, and time banded /
dense at T = 40 of at most 1 within noise (the table's goal: at most 1.1).

Usage::

    TF_CPP_MIN_LOG_LEVEL=3 .venv/bin/python benchmarks/key_value.py [--quick]

``--quick`` (under two minutes on two cores) probes the memory of every case, with the
lower cap, and times T = 40 and 512 only, in fewer rounds. Prints a table and writes
``_build/bench/key_value.json``: ``{"comparisons": [...], "ratios": {...}, "memory_mib": {...},
"times_ms": {...}, "shapes": {...}, ...}``.
"""

import argparse
import json
import os
import pathlib
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time

os.environ["KERAS_BACKEND"] = "tensorflow"  # the graphs, tf.function and XLA are TensorFlow's

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import ops  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from attncourse.layers import KeyValueAttention  # noqa: E402
from attncourse.layers.common import masked_softmax  # noqa: E402

BATCH, PART, WINDOW, MODE = 4, 64, 10, "key_value_predict"
DEPTH = 3 * PART  # h_t = [k_t; v_t; p_t]
STEPS = (40, 512, 2048)
OUTPUT = pathlib.Path(__file__).resolve().parents[1] / "_build" / "bench" / "key_value.json"
MIB = 2**20


class DenseKeyValueAttention(KeyValueAttention):
    """The baseline: every T × T score, then a band mask (the layer's previous call)."""

    def call(self, inputs, mask=None, return_attention_scores=False):
        keys, values, _ = self.split(inputs)
        as_read = ops.matmul(keys, self.key_kernel)  # W_k k_j: (B, T, units)
        as_query = ops.matmul(keys, self.query_kernel)  # W_q k_t: (B, T, units)
        # hidden[b, t, j] = tanh(W_k k_j + W_q k_t): (B, T, T, units)
        hidden = ops.tanh(ops.expand_dims(as_read, 1) + ops.expand_dims(as_query, 2))
        scores = ops.squeeze(ops.matmul(hidden, ops.expand_dims(self.score_vector, -1)), -1)
        positions = ops.arange(ops.shape(inputs)[1])
        lag = ops.expand_dims(positions, 1) - ops.expand_dims(positions, 0)  # t - j
        band = ops.expand_dims((lag >= 1) & (lag <= self.window), 0)
        if mask is not None:
            mask = ops.cast(mask, "bool")
            band = band & ops.expand_dims(mask, 1) & ops.expand_dims(mask, 2)
        weights = masked_softmax(scores, band)
        context = ops.matmul(weights, values)  # (B, T, d_v)
        return (context, weights) if return_attention_scores else context


SIDES = {"banded": KeyValueAttention, "dense": DenseKeyValueAttention}


def make_model(side, steps):
    """h, mask -> Dense -> the side's key-value layer -> Dense, seed 0."""
    keras.utils.set_random_seed(0)
    h = keras.Input((steps, DEPTH), batch_size=BATCH, name="h")
    mask = keras.Input((steps,), batch_size=BATCH, dtype="bool", name="mask")
    projected = keras.layers.Dense(DEPTH)(h)
    read = SIDES[side](window=WINDOW, mode=MODE, units=PART)(projected, mask=mask)
    return keras.Model([h, mask], keras.layers.Dense(PART)(read))


def make_batch(steps, seed=0):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(steps // 2, steps + 1, size=BATCH)  # padded batches, as in training
    return dict(
        h=tf.constant(rng.normal(size=(BATCH, steps, DEPTH)), tf.float32),
        mask=tf.constant(np.arange(steps)[None, :] < lengths[:, None]),
        target=tf.constant(rng.normal(size=(BATCH, steps, PART)), tf.float32),
    )


def forward_backward(model):
    """One forward and backward pass in a tf.function (no XLA): the loss and the gradients."""

    @tf.function
    def run(h, mask, target):
        with tf.GradientTape() as tape:
            tape.watch(h)
            loss = tf.reduce_mean(tf.square(model([h, mask], training=True) - target))
        return loss, tape.gradient(loss, [h, *model.trainable_variables])

    return run


def largest_tensor_mib(side, steps):
    """The largest tensor of the traced forward-and-backward graph, in MiB (nothing is run)."""
    batch = make_batch(steps)
    graph = forward_backward(make_model(side, steps)).get_concrete_function(**batch).graph
    largest = 0
    for operation in graph.get_operations():
        for output in operation.outputs:
            if output.shape.is_fully_defined() and output.dtype.is_floating:
                largest = max(largest, output.shape.num_elements() * output.dtype.size)
    return largest / MIB


def kib(field, path="/proc/self/status"):
    """A ``field: N kB`` line of a /proc file, in KiB."""
    match = re.search(rf"^{field}:\s+(\d+) kB", pathlib.Path(path).read_text(), re.M)
    return int(match.group(1))


def probe(side, steps):
    """In a fresh process: print the allocator's peak over one pass, in MiB, as JSON."""
    run = forward_backward(make_model(side, steps))
    batch = make_batch(steps)
    print(json.dumps({"ready_kib": kib("VmRSS")}), flush=True)  # the parent's cap starts here
    run(**batch)[0].numpy()  # trace, and allocate what is allocated once
    tf.config.experimental.reset_memory_stats("CPU:0")
    held = tf.config.experimental.get_memory_info("CPU:0")["current"]
    run(**batch)[0].numpy()
    peak = tf.config.experimental.get_memory_info("CPU:0")["peak"]
    print(json.dumps({"peak_mib": (peak - held) / MIB}), flush=True)


def measure_peak(side, steps, cap_mib):
    """``{"peak_mib": ...}`` of one pass in a fresh process, or ``{"stopped_above_mib": cap}``.

    The child is stopped as soon as its resident set has grown by more than ``cap_mib``
    since its model was built: its passes would need more than that.
    """
    errors = tempfile.TemporaryFile("w+")  # not a pipe: a full pipe would block the child
    child = subprocess.Popen(
        [sys.executable, __file__, "--probe", side, str(steps)],
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"), stdout=subprocess.PIPE, stderr=errors, text=True,
    )
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(child.stdout), daemon=True)
    reader.start()
    stopped = False
    while child.poll() is None:
        ready = [json.loads(line)["ready_kib"] for line in lines if "ready_kib" in line]
        try:
            grown_mib = (kib("VmRSS", f"/proc/{child.pid}/status") - ready[0]) / 1024 if ready else 0
        except (OSError, AttributeError):
            grown_mib = 0  # the child is ending
        if grown_mib > cap_mib:
            child.kill()
            stopped = True
        time.sleep(0.01)
    reader.join()
    if stopped:
        return {"stopped_above_mib": cap_mib}
    if child.returncode != 0:
        errors.seek(0)
        raise RuntimeError(f"memory probe {side} T={steps} failed:\n{errors.read()[-2000:]}")
    return json.loads(lines[-1])


def training_step(side, steps, jit_compile):
    """A compiled training step (forward, backward, Adam) of a fresh model of ``side``."""
    model = make_model(side, steps)
    optimizer = keras.optimizers.Adam(1e-3)
    optimizer.build(model.trainable_variables)

    @tf.function(jit_compile=jit_compile)
    def step(h, mask, target):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(model([h, mask], training=True) - target))
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply(gradients, model.trainable_variables)
        return loss

    return step


def time_steps(step, batch, repeats):
    """Milliseconds per step, over ``repeats`` steps (waiting for the result each time)."""
    start = time.perf_counter()
    for _ in range(repeats):
        step(**batch).numpy()
    return 1000.0 * (time.perf_counter() - start) / repeats


def compare_times(steps, jit_compile, rounds, per_round, warmup):
    """Median ms per step of each side and the median banded/dense ratio over rounds."""
    batch = make_batch(steps)
    sides = {side: training_step(side, steps, jit_compile) for side in SIDES}
    for step in sides.values():  # compile, then warm up
        time_steps(step, batch, warmup)
    times = {side: [] for side in SIDES}
    for round_index in range(rounds):
        order = ("banded", "dense") if round_index % 2 == 0 else ("dense", "banded")
        for side in order:
            times[side].append(time_steps(sides[side], batch, per_round))
    ratios = [b / d for b, d in zip(times["banded"], times["dense"])]
    return dict(
        banded_ms=statistics.median(times["banded"]),
        dense_ms=statistics.median(times["dense"]),
        ratio=statistics.median(ratios),
        ratio_spread=[min(ratios), max(ratios)],
        rounds=rounds,
        steps_per_round=per_round,
    )


def memory_cap_mib(quick):
    """How much one probe's resident set may grow during its pass, in MiB."""
    if quick:
        return 2 * 1024
    return min(10 * 1024, kib("MemAvailable", "/proc/meminfo") / 1024 / 2)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="lower memory cap; time T = 40 and 512 only")
    parser.add_argument("--probe", nargs=2, metavar=("SIDE", "T"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe:
        probe(args.probe[0], int(args.probe[1]))
        return
    # (rounds, steps per round, warm-up steps) for each T timed
    if args.quick:
        timing = {40: (6, 5, 5), 512: (4, 1, 2)}
    else:
        timing = {40: (20, 10, 10), 512: (10, 2, 3), 2048: (4, 1, 1)}

    cap = memory_cap_mib(args.quick)
    memory, largest = {side: {} for side in SIDES}, {side: {} for side in SIDES}
    for steps in STEPS:
        for side in SIDES:
            largest[side][steps] = largest_tensor_mib(side, steps)
            memory[side][steps] = measure_peak(side, steps, cap)

    times, untimed = {}, []
    for steps, (rounds, per_round, warmup) in timing.items():
        peaks = [memory[side][steps].get("peak_mib") for side in SIDES]
        if None in peaks or max(peaks) > kib("MemAvailable", "/proc/meminfo") / 1024 / 2:
            untimed.append(steps)  # too large to run here, beside everything else
            continue
        for jit_compile in (False, True):
            name = f"{'xla' if jit_compile else 'graph'}_T{steps}"
            times[name] = compare_times(steps, jit_compile, rounds, per_round, warmup)

    print(
        f"KeyValueAttention({MODE}, window {WINDOW}, units {PART}), batch {BATCH}, d = {DEPTH}, "
        f"TensorFlow {tf.__version__} on CPU, {os.cpu_count()} cores"
    )
    print(f"peak memory of one forward+backward pass, MiB (the allocator's peak; cap {cap:.0f} MiB)")
    print(f"{'T':>6} {'banded':>9} {'dense':>10} {'dense/banded':>13}   largest tensor MiB banded / dense")
    memory_ratios = {}
    for steps in STEPS:
        banded, dense = memory["banded"][steps], memory["dense"][steps]
        if "peak_mib" not in banded:  # not expected: the banded pass is small
            memory_ratios[steps] = {}
            print(f"{steps:>6} {'> cap':>9}")
            continue
        if "peak_mib" in dense:
            memory_ratios[steps] = {"ratio": dense["peak_mib"] / banded["peak_mib"]}
            dense_text, ratio_text = f"{dense['peak_mib']:.1f}", f"{memory_ratios[steps]['ratio']:.1f}"
        else:  # stopped: its peak is higher than where it was stopped
            memory_ratios[steps] = {"at_least": dense["stopped_above_mib"] / banded["peak_mib"]}
            dense_text = f"> {dense['stopped_above_mib']:.0f}"
            ratio_text = f"> {memory_ratios[steps]['at_least']:.1f}"
        print(
            f"{steps:>6} {banded['peak_mib']:9.1f} {dense_text:>10} {ratio_text:>13}   "
            f"{largest['banded'][steps]:.2f} / {largest['dense'][steps]:.2f}"
        )
    print("training step (forward, backward, Adam), ms; median over rounds that alternate the order")
    print(f"{'case':<11} {'banded':>9} {'dense':>10} {'banded/dense':>13}  {'ratio range':>13}")
    for name, r in times.items():
        low, high = r["ratio_spread"]
        print(
            f"{name:<11} {r['banded_ms']:9.2f} {r['dense_ms']:10.2f} {r['ratio']:13.3f}  "
            f"{low:6.3f}-{high:<6.3f}  ({r['rounds']} rounds x {r['steps_per_round']} steps)"
        )
    for steps in untimed:
        print(f"T={steps}: not timed (a memory probe stopped at the cap, or over half the free memory)")

    at_2048 = memory_ratios[2048]
    if "at_least" in at_2048:
        memory_goal = f"> {at_2048['at_least']:.1f}"
    else:
        memory_goal = f"{at_2048.get('ratio', float('nan')):.1f}"
    time_goal = ", ".join(
        f"{mode} {times[f'{mode}_T40']['ratio']:.3f}" for mode in ("graph", "xla") if f"{mode}_T40" in times
    )
    print(f"goals: peak memory dense/banded at T=2048 = {memory_goal} (>= 10); "
          f"time banded/dense at T=40 = {time_goal} (<= 1 within noise)")

    # The comparisons `make bench` tabulates. A dense pass stopped at the cap gives a lower
    # bound on the memory ratio: it meets the goal when even the bound does.
    memory_ratio = at_2048.get("ratio", at_2048.get("at_least"))
    comparisons = [{
        "name": "memory_dense_over_banded_T2048" + ("_at_least" if "at_least" in at_2048 else ""),
        "ratio": memory_ratio, "goal": ">= 10", "met": memory_ratio is not None and memory_ratio >= 10,
    }]
    for mode in ("graph", "xla"):
        if f"{mode}_T40" in times:
            ratio = times[f"{mode}_T40"]["ratio"]
            comparisons.append({"name": f"time_banded_over_dense_T40_{mode}", "ratio": ratio,
                                "goal": "<= 1.1", "met": ratio <= 1.1})

    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "comparisons": comparisons,
        "versions": {
            "tensorflow": tf.__version__, "keras": keras.__version__, "python": platform.python_version()
        },
        "backend": keras.backend.backend(),
        "shapes": {"batch": BATCH, "T": list(STEPS), "d": DEPTH, "units": PART, "window": WINDOW, "mode": MODE},
        "ratios": {
            "memory_dense_over_banded_T2048": memory_ratios[2048],
            "time_banded_over_dense_T40": {
                mode: times[f"{mode}_T40"]["ratio"] for mode in ("graph", "xla") if f"{mode}_T40" in times
            },
        },
        "memory_mib": {side: {str(t): v for t, v in values.items()} for side, values in memory.items()},
        "memory_ratios": {str(t): v for t, v in memory_ratios.items()},
        "memory_cap_mib": cap,
        "largest_tensor_mib": {
            side: {str(t): v for t, v in values.items()} for side, values in largest.items()
        },
        "times_ms": times,
        "untimed_T": untimed,
        "quick": args.quick,
    }
    OUTPUT.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {OUTPUT.relative_to(OUTPUT.parents[2])}")


if __name__ == "__main__":
    main()
