"""Colab's pinned versions (tools/colab-pins.txt) against what the package declares.

A reader on Colab runs `%pip install attncourse` on top of Colab's packages. Each declared
dependency must either accept the version Colab ships (then nothing is replaced) or ask for a
version that some test environment runs. The Keras floor in particular must be a version that
is tested: Colab's, which `make colab-parity` runs, or the development one of `make test`.
"""

import datetime
import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
PINS_FILE = ROOT / "tools" / "colab-pins.txt"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
MAKEFILE = (ROOT / "Makefile").read_text(encoding="utf-8")

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([0-9][0-9A-Za-z.+!-]*)$")


def read_pins(text):
    """{canonical name: Version} of a pin file; raises ValueError on a line that is no ``name==version``."""
    pins = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = PIN.match(line)
        if not match:
            raise ValueError(f"line {number}: expected name==version, got {line!r}")
        name = canonicalize_name(match.group(1))
        if name in pins:
            raise ValueError(f"line {number}: {name} pinned twice")
        pins[name] = Version(match.group(2))
    return pins


def header_field(text, field):
    """The value of a ``# Field: value`` comment line, or None."""
    match = re.search(rf"^#\s*{field}:\s*(.+?)\s*$", text, re.M)
    return match.group(1) if match else None


def requirements(key=None):
    """{canonical name: Requirement} of the runtime dependencies, or of the extra ``key``."""
    project = PYPROJECT["project"]
    listed = project["dependencies"] if key is None else project["optional-dependencies"][key]
    return {canonicalize_name(r.name): r for r in map(Requirement, listed)}


def floor(specifier):
    """The lower bound of a ``>=`` (or ``==``) specifier set, or None."""
    bounds = [Version(s.version) for s in SpecifierSet(str(specifier)) if s.operator in (">=", "==")]
    return max(bounds) if bounds else None


def problems_with_runtime_dependencies(runtime, pins, dev):
    """Each declared dependency accepts Colab's pin, or asks for at least a tested version.

    A dependency that rejects Colab's version makes the setup cell upgrade it; then its floor
    must be the lower bound of the development environment, which `make test` runs.
    """
    problems = []
    for name, requirement in runtime.items():
        if name not in pins:
            continue
        if requirement.specifier.contains(pins[name], prereleases=True):
            continue
        dev_floor = floor(dev[name].specifier) if name in dev else None
        if dev_floor is None or floor(requirement.specifier) != dev_floor:
            problems.append(f"{requirement} rejects Colab's {name} {pins[name]}, and its floor is not the "
                            f"tested development version ({dev.get(name, 'none')})")
    return problems


TEXT = PINS_FILE.read_text(encoding="utf-8")
PINS = read_pins(TEXT)


def test_the_pin_file_says_when_and_where_it_was_read():
    read_on = header_field(TEXT, "Read on")
    assert read_on, "tools/colab-pins.txt has no '# Read on: YYYY-MM-DD' line"
    date = datetime.date.fromisoformat(read_on)
    assert datetime.date(2024, 1, 1) <= date <= datetime.date.today()
    assert "googlecolab/backend-info" in (header_field(TEXT, "From") or "")


def test_the_pin_file_pins_what_the_course_runs_on():
    assert {"tensorflow", "keras", "numpy", "matplotlib", "scikit-learn", "ipykernel"} <= set(PINS)
    assert Version("2") <= PINS["tensorflow"] and Version("3") <= PINS["keras"] < Version("4")


def test_the_parity_python_is_the_pin_files():
    python = header_field(TEXT, "Python")
    assert python, "tools/colab-pins.txt has no '# Python: X.Y' line"
    version = re.match(r"\d+\.\d+", python).group(0)
    makefile = re.search(r"^COLAB_PYTHON_VERSION\s*:?=\s*(\S+)", MAKEFILE, re.M)
    assert makefile and makefile.group(1) == version
    assert "--requirement $(COLAB_PINS)" in MAKEFILE and "COLAB_PINS := tools/colab-pins.txt" in MAKEFILE


def test_the_keras_floor_is_a_tested_version():
    keras_floor = floor(requirements()["keras"].specifier)
    dev_floor = floor(requirements("dev")["keras"].specifier)
    assert keras_floor in (PINS["keras"], dev_floor), (
        f"keras>={keras_floor} is tested nowhere: make colab-parity runs Keras {PINS['keras']} "
        f"and make test Keras {dev_floor}")


def test_the_declared_dependencies_accept_colabs_versions_or_a_tested_one():
    assert problems_with_runtime_dependencies(requirements(), PINS, requirements("dev")) == []
    # Colab's TensorFlow is never replaced: the package does not declare it at all.
    assert "tensorflow" not in requirements()


def test_the_checks_can_fail():
    pins = {"keras": Version("3.13.2"), "numpy": Version("2.1.3")}
    dev = {"keras": Requirement("keras>=3.15,<3.16")}
    ok = {"keras": Requirement("keras>=3.13.2"), "numpy": Requirement("numpy>=1.26")}
    assert problems_with_runtime_dependencies(ok, pins, dev) == []
    assert problems_with_runtime_dependencies({"keras": Requirement("keras>=3.15")}, pins, dev) == []
    untested = problems_with_runtime_dependencies({"keras": Requirement("keras>=3.14")}, pins, dev)
    assert len(untested) == 1 and "keras>=3.14" in untested[0]
    assert problems_with_runtime_dependencies({"numpy": Requirement("numpy>=2.2")}, pins, dev) != []
    with pytest.raises(ValueError, match="line 2"):
        read_pins("keras==3.13.2\nnumpy>=2\n")
    with pytest.raises(ValueError, match="twice"):
        read_pins("ml_dtypes==0.6.0\nml-dtypes==0.6.0\n")
    assert header_field("# Read on: 2026-08-19\nkeras==3\n", "Read on") == "2026-08-19"
    assert header_field("keras==3\n", "Read on") is None
