"""Run profiles and seeds: how big a chapter runs, and how it is made repeatable.

Every notebook sizes its data, models and epochs with :func:`pick`, so one notebook
serves three places:

- ``"ci"``: the smallest run that still shows the effect (tests, 2 CPU cores);
- ``"cpu"``: the book build and a reader's laptop;
- ``"gpu"``: Colab with a GPU, bigger data and longer sequences.
"""

import os
import random

import numpy as np

PROFILES = ("ci", "cpu", "gpu")

# The seed last set by `seed`, so that claims can say which seed produced them.
_state = {"seed": None}


def _gpu_visible():
    """True when the active Keras backend can see a GPU."""
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return bool(tf.config.list_physical_devices("GPU"))
    if backend == "jax":
        import jax

        return any(device.platform == "gpu" for device in jax.devices())
    if backend == "torch":
        import torch

        return torch.cuda.is_available()
    return False


def profile():
    """The current run profile: ``"ci"``, ``"cpu"`` or ``"gpu"``.

    ``ATTNCOURSE_PROFILE`` wins when set. Otherwise ``"gpu"`` when Keras sees a GPU,
    ``"ci"`` when the variable ``CI`` is set (as CI services do), else ``"cpu"``.

    Raises:
        ValueError: ``ATTNCOURSE_PROFILE`` names no known profile.
    """
    requested = os.environ.get("ATTNCOURSE_PROFILE", "").strip().lower()
    if requested:
        if requested not in PROFILES:
            raise ValueError(
                f"ATTNCOURSE_PROFILE={requested!r} is not a profile; "
                f"expected one of {', '.join(PROFILES)}"
            )
        return requested
    if _gpu_visible():
        return "gpu"
    if os.environ.get("CI"):
        return "ci"
    return "cpu"


def pick(*, ci, cpu, gpu):
    """Return the value given for the current profile.

    Example:
        >>> epochs = pick(ci=3, cpu=10, gpu=30)
    """
    return {"ci": ci, "cpu": cpu, "gpu": gpu}[profile()]


def seed(default=0):
    """Seed Python, NumPy and Keras (and its backend) and return the seed used.

    The environment variable ``ATTNCOURSE_SEED`` overrides ``default``, so a chapter's
    claims can be re-checked with other seeds without editing the notebook::

        ATTNCOURSE_SEED=7 make test

    Raises:
        ValueError: the seed (or ``ATTNCOURSE_SEED``) is not a non-negative integer.
    """
    raw = os.environ.get("ATTNCOURSE_SEED", "").strip()
    value = raw if raw else default
    try:
        value = int(value)
    except (TypeError, ValueError):
        source = "ATTNCOURSE_SEED" if raw else "seed(default)"
        raise ValueError(f"{source} must be a non-negative integer, got {value!r}") from None
    if value < 0:
        raise ValueError(f"the seed must be a non-negative integer, got {value}")

    import keras

    random.seed(value)
    np.random.seed(value)
    keras.utils.set_random_seed(value)
    _state["seed"] = value
    return value


def current_seed():
    """The seed last set by :func:`seed` in this process, or ``None``."""
    return _state["seed"]

