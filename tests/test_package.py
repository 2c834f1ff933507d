"""The package: one version, dependencies that never replace Colab's stack, and a shape a
newcomer can read (short modules, one idea each, no import cycle)."""

import ast
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


# The package's shape: small modules, each with one idea that its docstring names, importing
# one another without a loop, and speaking only of the course itself.
PACKAGE = ROOT / "attncourse"
MODULES = sorted(PACKAGE.rglob("*.py"))
MAX_LINES = 750  # "about 700": reference.py, every score in NumPy, is the longest


def module_name(path):
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_every_module_is_short_and_says_its_idea():
    for path in MODULES:
        source = path.read_text(encoding="utf-8")
        assert len(source.splitlines()) <= MAX_LINES, f"{path.name}: {len(source.splitlines())} lines"
        assert ast.get_docstring(ast.parse(source)), f"{module_name(path)} has no docstring"


def imports_of(path):
    """The attncourse modules that ``path`` imports at its top level, as module names."""
    found = set()
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("attncourse")}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            if base.startswith("attncourse"):
                found |= {f"{base}.{alias.name}" for alias in node.names} | {base}
    names = {module_name(p) for p in MODULES}
    return {name for name in found if name in names} - {module_name(path)}


def test_no_import_cycle():
    graph = {module_name(path): imports_of(path) for path in MODULES}
    # A package's __init__ importing its own modules is how it hands names on; a module
    # importing its package's __init__ back would be the cycle.
    state = {}

    def visit(name, trail):
        if state.get(name) == "done":
            return
        assert state.get(name) != "open", "import cycle: " + " -> ".join(trail + [name])
        state[name] = "open"
        for target in sorted(graph[name]):
            visit(target, trail + [name])
        state[name] = "done"

    for name in sorted(graph):
        visit(name, [])


def test_the_package_speaks_only_of_the_course():
    for path in MODULES:
        text = path.read_text(encoding="utf-8")
        for word in ("DESIGN", "design document", "issue #", "session"):
            assert word not in text, f"{path.relative_to(ROOT)} mentions {word!r}"
