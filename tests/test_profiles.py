import random

import numpy as np
import pytest

import attncourse
from attncourse import profiles as profile_module

REAL_GPU_VISIBLE = profile_module._gpu_visible


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in ("ATTNCOURSE_PROFILE", "ATTNCOURSE_SEED", "CI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(profile_module, "_gpu_visible", lambda: False)


@pytest.mark.parametrize("name", ["ci", "cpu", "gpu", "GPU", " cpu "])
def test_environment_variable_wins(monkeypatch, name):
    monkeypatch.setenv("ATTNCOURSE_PROFILE", name)
    monkeypatch.setenv("CI", "true")
    assert attncourse.profile() == name.strip().lower()


def test_unknown_profile_lists_the_valid_ones(monkeypatch):
    monkeypatch.setenv("ATTNCOURSE_PROFILE", "laptop")
    with pytest.raises(ValueError, match="laptop.*ci, cpu, gpu"):
        attncourse.profile()


def test_gpu_when_keras_sees_one(monkeypatch):
    monkeypatch.setattr(profile_module, "_gpu_visible", lambda: True)
    monkeypatch.setenv("CI", "true")
    assert attncourse.profile() == "gpu"


def test_ci_variable_then_cpu(monkeypatch):
    assert attncourse.profile() == "cpu"
    monkeypatch.setenv("CI", "true")
    assert attncourse.profile() == "ci"


def test_gpu_detection_runs_on_this_machine():
    # The real detector (not the fixture's stand-in) answers a bool without raising.
    assert isinstance(REAL_GPU_VISIBLE(), bool)


@pytest.mark.parametrize("name,expected", [("ci", 1), ("cpu", 2), ("gpu", 3)])
def test_pick_follows_the_profile(monkeypatch, name, expected):
    monkeypatch.setenv("ATTNCOURSE_PROFILE", name)
    assert attncourse.pick(ci=1, cpu=2, gpu=3) == expected


def test_pick_needs_every_profile():
    with pytest.raises(TypeError):
        attncourse.pick(ci=1, cpu=2)


def draws():
    import keras

    return random.random(), np.random.rand(), float(keras.ops.convert_to_numpy(keras.random.uniform(())))


def test_seed_makes_python_numpy_and_keras_repeatable():
    assert attncourse.seed(3) == 3
    first = draws()
    attncourse.seed(3)
    assert draws() == first
    attncourse.seed(4)
    assert draws() != first


def test_environment_seed_overrides_the_default(monkeypatch):
    monkeypatch.setenv("ATTNCOURSE_SEED", "17")
    assert attncourse.seed(0) == 17
    assert profile_module.current_seed() == 17


@pytest.mark.parametrize("bad", ["seven", "-1", "1.5"])
def test_bad_environment_seed_is_a_clear_error(monkeypatch, bad):
    monkeypatch.setenv("ATTNCOURSE_SEED", bad)
    with pytest.raises(ValueError, match="non-negative integer"):
        attncourse.seed(0)


def test_bad_default_seed():
    with pytest.raises(ValueError, match="non-negative integer"):
        attncourse.seed(-5)
