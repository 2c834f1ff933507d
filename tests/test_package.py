"""The package's metadata: one version, and dependencies that never replace Colab's stack."""

import re
import tomllib
from importlib import metadata
from pathlib import Path

import attncourse

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def names(requirements):
    return {re.split(r"[\s<>=!~;\[]", r, maxsplit=1)[0].lower() for r in requirements}


def test_one_version_everywhere():
    assert PYPROJECT["project"]["version"] == attncourse.__version__ == metadata.version("attncourse")


def test_runtime_dependencies_leave_colabs_frameworks_alone():
    # Colab ships TensorFlow, Keras, NumPy, matplotlib and scikit-learn; installing the course there must
    # not pull another TensorFlow, nor a PyTorch or JAX.
    runtime = names(PYPROJECT["project"]["dependencies"])
    assert not runtime & {"tensorflow", "tensorflow-cpu", "torch", "jax", "jaxlib", "tf-keras"}
    assert runtime <= {"numpy", "keras", "matplotlib", "scikit-learn"}
    installed = names(r for r in metadata.requires("attncourse") if "extra ==" not in r)
    assert installed == runtime


def test_the_test_environment_is_pinned():
    dev = " ".join(PYPROJECT["project"]["optional-dependencies"]["dev"])
    assert "tensorflow>=2.21,<2.22" in dev and "keras>=3.15,<3.16" in dev
    assert "jupyter-book>=1.0,<2" in dev and "nbval" in dev
