"""Checks of the book's sources that need no build: toc, notebooks, Colab, citations."""

import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
REPOSITORY = CONFIG["repository"]["url"].rstrip("/")
OWNER_REPO = REPOSITORY.split("github.com/")[1]
# The branch where Colab opens the notebooks: the Colab copies (tools/colab.py) are published
# there, and the book's launch buttons use it too.
COLAB_BRANCH = CONFIG["repository"]["branch"]
# The course's version: Colab installs the package at the matching tag, v<version>, so a
# notebook always gets the helpers it was written for (a release pushes that tag).
VERSION = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M).group(1)


def toc_files(node):
    if isinstance(node, dict):
        if "file" in node:
            yield node["file"]
        if "root" in node:
            yield node["root"]
        for value in node.values():
            yield from toc_files(value)
    elif isinstance(node, list):
        for item in node:
            yield from toc_files(item)


TOC = list(toc_files(yaml.safe_load((ROOT / "_toc.yml").read_text())))


def source_of(entry):
    matches = [ROOT / f"{entry}{suffix}" for suffix in (".md", ".ipynb") if (ROOT / f"{entry}{suffix}").is_file()]
    return matches[0] if matches else None


@pytest.mark.parametrize("entry", TOC)
def test_every_toc_entry_exists(entry):
    assert source_of(entry) is not None, f"_toc.yml lists {entry!r} but neither .md nor .ipynb exists"


def test_every_notebook_is_in_the_toc():
    listed = {source_of(entry) for entry in TOC}
    missing = [nb.name for nb in NOTEBOOKS if nb not in listed]
    assert not missing, f"notebooks missing from _toc.yml: {missing}"


def test_the_book_has_its_reference_pages():
    for page in ("book/intro", "book/how_to_use", "book/notation", "book/glossary", "book/bibliography"):
        assert page in TOC


def test_every_paper_of_the_curriculum_is_in_the_bibliography():
    bib = (ROOT / "book" / "references.bib").read_text()
    keys = set(re.findall(r"@\w+\{([^,\s]+),", bib))
    curriculum = {"mnih2014", "xu2015", "cho2014", "sutskever2014", "bahdanau2015", "luong2015", "britz2017",
                  "vaswani2017", "raffel2017", "zhang2018", "lin2017", "yang2016", "daniluk2017"}
    assert curriculum <= keys, f"missing from references.bib: {sorted(curriculum - keys)}"


def load(path):
    return json.loads(path.read_text())


def cell_source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_name_follows_the_layout(path):
    assert re.fullmatch(r"\d\d_[a-z0-9_]+\.ipynb", path.name), "notebooks are named NN_short_name.ipynb"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_without_outputs(path):
    for number, cell in enumerate(load(path)["cells"]):
        if cell["cell_type"] == "code":
            assert not cell.get("outputs"), f"cell {number} has outputs: strip them before committing"
            assert cell.get("execution_count") is None, f"cell {number} has an execution count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_has_a_colab_badge_for_itself(path):
    # The badge opens the Colab copy of the notebook, on the branch the launch buttons use.
    assert COLAB_BRANCH == "colab", "_config.yml: repository.branch is the branch of the Colab copies"
    badge = f"https://colab.research.google.com/github/{OWNER_REPO}/blob/{COLAB_BRANCH}/notebooks/{path.name}"
    markdown = [cell_source(c) for c in load(path)["cells"] if c["cell_type"] == "markdown"]
    assert any(badge in text and "colab-badge.svg" in text for text in markdown[:3]), (
        f"the first markdown cells need the badge linking to {badge}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_setup_cell_installs_only_on_colab_from_the_configured_repository(path):
    code = [cell_source(c) for c in load(path)["cells"] if c["cell_type"] == "code"]
    setups = [text for text in code if "pip install" in text]
    assert len(setups) == 1, "exactly one setup cell installs packages"
    setup = setups[0]
    assert setup in code[:2], "the setup cell comes first"
    lines = setup.splitlines()
    guard = next(i for i, line in enumerate(lines) if re.match(r"if .*google\.colab", line))
    installs = [i for i, line in enumerate(lines) if "pip install" in line]
    assert all(i > guard and lines[i].startswith((" ", "\t")) for i in installs), (
        "pip install must sit inside the `if 'google.colab' in sys.modules:` block")
    assert f"git+{REPOSITORY}" in setup, f"the setup cell installs from {REPOSITORY} (_config.yml)"
    pinned = f'"attncourse @ git+{REPOSITORY}@v{VERSION}"'
    assert pinned in setup, f"the setup cell installs the course's version: {pinned} (pyproject.toml)"
    # On Colab without a GPU it says how to get one, before the install, and does not import
    # TensorFlow to find out (tests/test_colab.py runs it with and without a GPU).
    hints = [i for i, line in enumerate(lines) if "Runtime → Change runtime type → GPU" in line]
    assert len(hints) == 1 and guard < hints[0] < installs[0] and lines[hints[0]].startswith((" ", "\t")), (
        "inside the Colab block and before the install, the setup cell prints how to switch to a GPU")
    assert "nvidia-smi" in setup and not re.search(r"^\s*(import|from)\s+(tensorflow|keras)", setup, re.M)


def test_the_package_and_the_project_have_one_version():
    import attncourse

    assert attncourse.__version__ == VERSION


def test_repeated_scripts_are_dropped_keeping_the_first_of_each():
    import sys
    from types import SimpleNamespace

    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    try:
        from unique_scripts import drop_repeated_scripts
    finally:
        sys.path.pop(0)

    def script(filename=None, body=""):
        return SimpleNamespace(filename=filename, attributes={"body": body} if body else {})

    first_inline, first_file = script(body="const A = 1"), script(filename="thebe.js")
    context = {"script_files": [first_inline, first_file, script(body="const A = 1"),
                                script(filename="thebe.js"), script(body="const B = 2")]}
    drop_repeated_scripts(None, "page", "page.html", context, None)
    kept = context["script_files"]
    assert kept[:2] == [first_inline, first_file] and len(kept) == 3
    assert kept[2].attributes["body"] == "const B = 2"


def test_the_exercises_page_lists_every_registered_exercise():
    import importlib.util

    spec = importlib.util.spec_from_file_location("exercises_page", ROOT / "tools" / "exercises_page.py")
    exercises_page = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(exercises_page)

    assert exercises_page.expected_page() == exercises_page.PAGE.read_text(encoding="utf-8"), (
        "book/exercises.md is out of date: run `make exercises-page`")


def test_every_exercise_has_a_labelled_heading_in_its_chapter_that_the_index_links_to():
    import importlib.util

    from attncourse import exercises

    spec = importlib.util.spec_from_file_location("exercises_page", ROOT / "tools" / "exercises_page.py")
    exercises_page = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(exercises_page)
    chapters = exercises_page.chapters()
    for exercise in exercises.registered():
        notebook = ROOT / f"{chapters[exercise.id.split('.')[0]]}.ipynb"
        text = "\n".join(cell_source(cell) for cell in load(notebook)["cells"] if cell["cell_type"] == "markdown")
        heading = re.search(rf"^\({exercises_page.label(exercise.id)}\)=\n### Exercise {re.escape(exercise.id)}: ",
                            text, re.M)
        assert heading, (f"{notebook.name}: no heading '### Exercise {exercise.id}: ...' right after the label "
                         f"({exercises_page.label(exercise.id)})=")


def _chapter_headers():
    import importlib.util

    spec = importlib.util.spec_from_file_location("chapter_headers", ROOT / "tools" / "chapter_headers.py")
    chapter_headers = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(chapter_headers)
    return chapter_headers


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_chapter_opens_with_its_header_and_the_header_is_current(path):
    chapter_headers = _chapter_headers()
    assert path.stem in chapter_headers.CHAPTERS, f"tools/chapter_headers.py does not know {path.name}"
    cells = load(path)["cells"]
    assert cells[1].get("id") == chapter_headers.HEADER_ID, (
        f"{path.name}: the second cell is not the chapter's header: run `make chapter-headers`")
    assert cell_source(cells[1]) == chapter_headers.header_text(path.stem, load(path)), (
        f"{path.name}: the header is out of date (reading time, run times or what it builds): "
        "run `make chapter-headers`")


def test_a_header_computes_its_reading_time_from_the_prose_and_names_unmeasured_profiles():
    chapter_headers = _chapter_headers()
    notebook = {"cells": [{"cell_type": "markdown", "id": "a", "source": ["word " * 1600]},
                          {"cell_type": "markdown", "id": chapter_headers.HEADER_ID, "source": ["word " * 9000]},
                          {"cell_type": "code", "id": "b", "source": ["x = 1 " * 9000]}]}
    stem = "03_bahdanau"
    saved = dict(chapter_headers.RUN_TIMES[stem])
    try:
        chapter_headers.RUN_TIMES[stem].update(ci=44, cpu=250, gpu=None)
        text = chapter_headers.header_text(stem, notebook)
    finally:
        chapter_headers.RUN_TIMES[stem] = saved
    # 1,600 words of prose at 150 a minute, rounded up to 5 minutes; the header and code not counted.
    assert "about 15 minutes" in text
    assert "`ci` about 45 s on 2 CPU cores" in text and "`cpu` about 4 min on 2 CPU cores" in text
    assert "`gpu` not measured yet" in text
    assert "{doc}`chapter 1 <01_painting>` and {doc}`chapter 2 <02_encoder_decoder>`" in text


# A code cell that draws: plt.show(), a new figure, an image, or one of attncourse.plot's figures.
DRAWS = re.compile(r"plt\.show\(\)|plt\.subplots|plt\.figure\(|\.imshow\(|\bplot\.(attention|metric_by_length|weights_1d|image_attention)\(")


def test_the_header_tool_sums_each_notebooks_cell_durations_from_a_pytest_log():
    log = ("12.50s call     _build/colab/notebooks/03_bahdanau.ipynb::Cell 5\n"
           "0.50s setup    _build/colab/notebooks/03_bahdanau.ipynb::Cell 0\n"
           "2.25s call     notebooks/09_transformers.ipynb::Cell 7\n"
           "1184 passed, 3 skipped in 264.91s (0:04:24)\n")
    assert _chapter_headers().durations(log) == {"03_bahdanau": 13.0, "09_transformers": 2.25}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_figure_has_alt_text_in_its_cell_metadata(path):
    # MyST-NB gives an output image the alt text of the cell's {"mystnb": {"image": {"alt": ...}}}.
    missing = []
    for cell in load(path)["cells"]:
        if cell["cell_type"] != "code" or not DRAWS.search(cell_source(cell)):
            continue
        alt = cell.get("metadata", {}).get("mystnb", {}).get("image", {}).get("alt", "")
        if len(alt.split()) < 8 or "$" in alt:
            missing.append(cell.get("id"))
    assert not missing, (f"{path.name}: figure cells without alt text (a sentence, no LaTeX) in "
                         f"metadata.mystnb.image.alt: {missing}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_keras_loops_print_one_line_per_epoch_or_nothing(path):
    # verbose=1 draws a progress bar that a built page shows as a wall of text; training says
    # verbose=2 (one line per epoch), prediction and evaluation verbose=0 or 2.
    import ast

    for number, cell in enumerate(load(path)["cells"]):
        if cell["cell_type"] != "code":
            continue
        lines = cell_source(cell).splitlines()
        code = "\n".join(line.replace(line.lstrip(), "pass") if line.lstrip().startswith(("%", "!")) else line
                         for line in lines)
        for node in ast.walk(ast.parse(code)):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("fit", "predict", "evaluate")):
                verbose = next((k.value for k in node.keywords if k.arg == "verbose"), None)
                assert verbose is not None, f"cell {number}: {node.func.attr}(...) without verbose="
                if isinstance(verbose, ast.Constant):
                    assert verbose.value in (0, 2), f"cell {number}: {node.func.attr}(..., verbose={verbose.value})"
