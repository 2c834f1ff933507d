"""Tests of the package attncourse.data itself: one name space for all of its modules."""

import importlib
import pkgutil
import subprocess
import sys

import pytest

from attncourse import data

MODULES = sorted(info.name for info in pkgutil.iter_modules(data.__path__))


def test_the_package_has_one_module_per_idea_and_each_says_which():
    assert "toy_language" in MODULES and "vocabulary" in MODULES
    for name in MODULES:
        module = importlib.import_module(f"attncourse.data.{name}")
        assert module.__doc__ and module.__doc__.strip(), name
        assert f"``{name}``" in data.__doc__, f"the package docstring does not list {name}"


@pytest.mark.parametrize("name", MODULES)
def test_every_public_name_of_a_module_is_the_packages_own(name):
    module = importlib.import_module(f"attncourse.data.{name}")
    for public in getattr(module, "__all__", []):
        assert public in data.__all__, f"{name}.{public} is not in attncourse.data.__all__"
        assert getattr(data, public) is getattr(module, public)


def test_the_package_lists_exactly_what_its_modules_export():
    exported = [
        public
        for name in MODULES
        for public in getattr(importlib.import_module(f"attncourse.data.{name}"), "__all__", [])
    ]
    assert sorted(data.__all__) == sorted(exported)
    assert len(set(data.__all__)) == len(data.__all__)
    # A module must not hide a function of the same name: data.toy_translation is the function.
    assert callable(data.toy_translation) and callable(data.split) and callable(data.pad)


def test_importing_the_data_needs_neither_keras_nor_scikit_learn():
    # Only the downloads import Keras (TensorFlow takes seconds) and only chapter 1's digits
    # import scikit-learn; every generator is NumPy alone.
    code = "import sys, attncourse.data; print(sorted({'keras', 'tensorflow', 'sklearn'} & set(sys.modules)))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]"
