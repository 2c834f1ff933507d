"""Appendix B: chapter 3's translator trains the same under MirroredStrategy as on one device.

TensorFlow fixes its devices once per process, and other tests have initialised them by
the time this file runs, so the two logical CPU devices are made in a fresh Python
process, which prints its results as JSON.
"""

import json
import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("tensorflow")

SCRIPT = textwrap.dedent(
    """
    import json
    import os

    os.environ["KERAS_BACKEND"] = "tensorflow"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from attncourse import distribute

    devices = distribute.split_cpu(2)  # before anything creates a tensor

    import keras
    import numpy as np
    import tensorflow as tf

    import attncourse
    from attncourse import data, translator
    from attncourse.layers import BahdanauAttention

    attncourse.seed(0)
    strategy, description = distribute.choose_strategy()

    pairs = data.toy_translation(128, vocab_size=30, min_length=3, max_length=8, seed=1)
    arrays = data.seq2seq_arrays(pairs, source_length=8, target_length=9)
    inputs, targets = [arrays["source"], arrays["decoder_input"]], arrays["decoder_target"]
    padding_weight = (targets != data.PAD).astype("float32")


    def build(loss):
        model = translator.make_translator(pairs, source_length=8, embedding_dim=8, units=16,
                                           attention=BahdanauAttention(16), compile=False)
        # No clipnorm: Keras clips each replica's gradient before the all-reduce, which is
        # not the one-device step once clipping bites (appendix B shows it).
        model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=loss, jit_compile=False)
        return model


    def compare(loss, sample_weight=None):
        with tf.distribute.OneDeviceStrategy(strategy.extended.worker_devices[0]).scope():
            one_device = build(loss)
        with strategy.scope():
            mirrored = build(loss)
        mirrored.set_weights(one_device.get_weights())
        fit = dict(sample_weight=sample_weight, batch_size=32, epochs=2, shuffle=False, verbose=0)
        losses_one = one_device.fit(inputs, targets, **fit).history["loss"]
        losses_mirrored = mirrored.fit(inputs, targets, **fit).history["loss"]
        weight_gap = max(float(np.abs(a - b).max())
                         for a, b in zip(one_device.get_weights(), mirrored.get_weights()))
        return {"one": losses_one, "mirrored": losses_mirrored, "weight_gap": weight_gap}


    print("RESULT" + json.dumps({
        "devices": devices,
        "replicas": strategy.num_replicas_in_sync,
        "description": description,
        # the mean over all positions of the global batch, padding weighted 0
        "position_mean": compare(keras.losses.SparseCategoricalCrossentropy(from_logits=True), padding_weight),
        # chapter 3's loss: each replica averages over its own real tokens
        "token_mean": compare(translator.masked_loss()),
    }))
    """
)


@pytest.fixture(scope="module")
def result():
    environment = {**os.environ, "KERAS_BACKEND": "tensorflow", "CUDA_VISIBLE_DEVICES": ""}
    completed = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=300,
                               env=environment)
    assert completed.returncode == 0, completed.stderr[-3000:]
    line = next(line for line in completed.stdout.splitlines() if line.startswith("RESULT"))
    return json.loads(line[len("RESULT"):])


def test_two_logical_cpus_make_a_mirrored_strategy_of_two_replicas(result):
    assert len(result["devices"]) == 2
    assert result["replicas"] == 2
    assert result["description"].startswith("MirroredStrategy over 2 logical CPU")


def test_same_weights_same_data_same_losses_with_a_loss_that_splits_exactly(result):
    # Summed token losses over all positions of the global batch: each replica's share adds
    # up to the one-device loss, so only float rounding separates the two runs.
    run = result["position_mean"]
    assert run["one"] == pytest.approx(run["mirrored"], rel=1e-5)
    assert run["weight_gap"] < 1e-4
    assert run["one"][-1] < run["one"][0]


def test_a_mean_over_each_replicas_own_tokens_stays_close_but_not_exact(result):
    # Each replica averages over its own real tokens, which is not the mean of the batch; the
    # steps differ a little (appendix B explains it), and the losses still agree closely.
    run = result["token_mean"]
    assert run["one"] == pytest.approx(run["mirrored"], rel=1e-2)
    assert run["one"][-1] < run["one"][0]


def test_split_cpu_rejects_a_bad_count():
    from attncourse import distribute

    for count in (1, 2.0, True):
        with pytest.raises(ValueError, match="count"):
            distribute.split_cpu(count)
