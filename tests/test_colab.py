"""The Colab copies of the notebooks (tools/colab.py): plain Markdown, the same code, a GPU asked for."""

import importlib.util
import json
import re
import sys
import types
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))

spec = importlib.util.spec_from_file_location("colab", ROOT / "tools" / "colab.py")
colab = importlib.util.module_from_spec(spec)
sys.modules["colab"] = colab  # dataclasses look their module up by name
spec.loader.exec_module(colab)

BOOK = colab.Book.load(ROOT)
BASE = BOOK.base_url
BIB = f"{BASE}book/bibliography.html"
GLOSSARY = f"{BASE}book/glossary.html"


def source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def load(path):
    return json.loads(Path(path).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def copies(tmp_path_factory):
    folder = tmp_path_factory.mktemp("colab")
    written = colab.convert_all(folder, root=ROOT)
    return {path.name: load(path) for path in written}


def convert(text, docname="notebooks/03_bahdanau"):
    return colab.Converter(BOOK, docname).convert(text)


# --- The copies of the course's notebooks ------------------------------------------------------

def test_every_notebook_has_a_copy(copies):
    assert sorted(copies) == [path.name for path in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_role_or_directive_is_left_in_a_copy(copies, path):
    for number, cell in enumerate(copies[path.name]["cells"]):
        if cell["cell_type"] == "markdown":
            text = source(cell)
            assert not colab.leftovers(text), f"cell {number}: {colab.leftovers(text)}"
            assert not re.search(r"\{(term|cite(:\w+)?|doc|ref)\}`", text), f"cell {number}"
            assert not re.search(r"^\s*(```+|:::+)\s*\{", text, re.M), f"cell {number}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_a_copy_runs_exactly_the_code_of_its_original(copies, path):
    original, copy = load(path)["cells"], copies[path.name]["cells"]
    assert [c["cell_type"] for c in copy] == [c["cell_type"] for c in original]
    for number, (a, b) in enumerate(zip(original, copy)):
        if a["cell_type"] == "code":
            assert source(b).encode() == source(a).encode(), f"cell {number}: the code differs"
            assert b["metadata"] == a["metadata"] and b.get("id") == a.get("id"), f"cell {number}"
            assert b["outputs"] == [] and b["execution_count"] is None, f"cell {number} has outputs"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_a_copy_keeps_its_original_s_other_markdown(copies, path):
    # Roles aside, the Markdown is the original's: the title and the Colab badge are there.
    original, copy = source(load(path)["cells"][0]), source(copies[path.name]["cells"][0])
    assert copy.splitlines()[0] == original.splitlines()[0]
    badge = next(line for line in original.splitlines() if "colab-badge.svg" in line)
    assert badge in copy


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_originals_and_copies_ask_colab_for_a_gpu(copies, path):
    for metadata in (load(path)["metadata"], copies[path.name]["metadata"]):
        assert metadata["accelerator"] == "GPU"
        assert metadata["colab"]["gpuType"] == "T4"
        assert colab.asks_for_gpu(metadata)
        assert metadata["kernelspec"]["name"] == "python3"


def test_copies_are_written_as_jupyter_writes_notebooks(tmp_path):
    written = colab.convert_all(tmp_path, root=ROOT)
    for path in written:
        text = path.read_text(encoding="utf-8")
        assert text == json.dumps(json.loads(text), indent=1, ensure_ascii=False) + "\n"


def test_the_command_line_writes_the_copies_where_asked(tmp_path, capsys):
    assert colab.main([str(tmp_path / "out")]) == 0
    assert sorted(p.name for p in (tmp_path / "out").glob("*.ipynb")) == [p.name for p in NOTEBOOKS]
    assert f"{len(NOTEBOOKS)} Colab copies" in capsys.readouterr().out


# --- What the notebooks refer to exists --------------------------------------------------------

def roles(name_pattern):
    for path in NOTEBOOKS:
        for cell in load(path)["cells"]:
            if cell["cell_type"] == "markdown":
                for match in colab.ROLE.finditer(source(cell)):
                    if re.fullmatch(name_pattern, match.group("name")):
                        yield path.name, match.group("body")


def test_every_term_used_in_the_notebooks_is_in_the_glossary():
    used = list(roles("term"))
    assert used
    glossary = (ROOT / "book" / "glossary.md").read_text(encoding="utf-8")
    for name, body in used:
        target = colab.Converter.explicit(body)[1]
        assert BOOK.term_anchor(target), f"{name}: {{term}}`{body}` is not in book/glossary.md"
        assert re.search(rf"^{re.escape(target)}$", glossary, re.M | re.I), f"{name}: {target!r}"


def test_every_key_cited_in_the_notebooks_is_in_the_bibliography():
    bib = (ROOT / "book" / "references.bib").read_text(encoding="utf-8")
    keys = set(re.findall(r"@\w+\{([^,\s]+),", bib))
    cited = [(name, key.strip()) for name, body in roles(r"cite(:\w+)?") for key in body.split(",")]
    assert cited
    missing = sorted({f"{name}: {key}" for name, key in cited if key not in keys})
    assert not missing, f"not in book/references.bib: {missing}"
    assert keys == set(BOOK.references), "tools/colab.py reads every entry of references.bib"


# --- Conversions, exactly ----------------------------------------------------------------------

def test_a_textual_citation():
    assert convert("{cite:t}`bahdanau2015` changed one thing") == (
        f"[Bahdanau et al. (2015)]({BIB}#cite-bahdanau2015) changed one thing")


def test_a_parenthetical_citation_of_two_papers():
    assert convert("the encoder–decoder {cite:p}`cho2014,sutskever2014`.") == (
        f"the encoder–decoder ([Cho et al., 2014]({BIB}#cite-cho2014); "
        f"[Sutskever et al., 2014]({BIB}#cite-sutskever2014)).")


def test_citations_of_one_and_two_authors_and_the_plain_cite_role():
    assert convert("{cite:t}`williams1992`") == f"[Williams (1992)]({BIB}#cite-williams1992)"
    assert convert("{cite}`liu2017`") == f"([Liu and Lapata, 2018]({BIB}#cite-liu2017))"
    assert convert("{cite:t}`tatoeba`") == f"[Tatoeba contributors (2024)]({BIB}#cite-tatoeba)"


def test_a_term_and_a_term_with_an_explicit_target():
    assert convert("{term}`soft attention`") == f"[soft attention]({GLOSSARY}#term-soft-attention)"
    assert convert("{term}`Global attention <global attention>`") == (
        f"[Global attention]({GLOSSARY}#term-global-attention)")


def test_terms_in_any_case_and_in_chinese_link_to_their_entry():
    assert convert("{term}`Self-attention`") == f"[Self-attention]({GLOSSARY}#term-self-attention)"
    assert convert("{term}`软注意力`") == f"[软注意力]({GLOSSARY}#term-soft-attention)"
    # "Transformer 模型" would get a numbered id after "Transformer": the entry's id instead.
    assert convert("{term}`Transformer 模型`") == f"[Transformer 模型]({GLOSSARY}#term-Transformer)"


def test_a_term_split_over_two_lines():
    assert convert("the {term}`alignment error\nrate` of") == (
        f"the [alignment error\nrate]({GLOSSARY}#term-alignment-error-rate) of")


def test_a_ref_with_and_without_text():
    assert convert("see {ref}`notation`") == f"see [Notation]({BASE}book/notation.html#notation)"
    assert convert("{ref}`the notation <notation>`") == f"[the notation]({BASE}book/notation.html#notation)"


def test_a_doc_with_and_without_text():
    assert convert("on the {doc}`../book/bibliography` page") == f"on the [Bibliography]({BIB}) page"
    assert convert("the {doc}`glossary <../book/glossary>`") == f"the [glossary]({GLOSSARY})"
    assert convert("{doc}`/book/notation`", docname="book/intro") == f"[Notation]({BASE}book/notation.html)"


def test_an_admonition_without_a_title():
    assert convert("```{note}\nThe weights sum to one, see {term}`mask`.\n```") == (
        f"> **Note**\n>\n> The weights sum to one, see [mask]({GLOSSARY}#term-mask).")


def test_an_admonition_with_a_title_and_options():
    assert convert("```{admonition} Why a softmax?\n:class: tip\n\nIt makes weights.\n\nThey sum to one.\n```") == (
        "> **Why a softmax?**\n>\n> It makes weights.\n>\n> They sum to one.")


def test_colon_fences_nested_admonitions_and_text_after_the_name():
    assert convert(":::{tip}\nTry a longer window.\n:::\nAfter.") == "> **Tip**\n>\n> Try a longer window.\n\nAfter."
    assert convert("```{warning} Slow on a CPU.\n```") == "> **Warning**\n>\n> Slow on a CPU."
    assert convert("````{note}\nOuter.\n\n```{seealso}\nInner.\n```\n````") == (
        "> **Note**\n>\n> Outer.\n>\n> > **See also**\n> >\n> > Inner.")


def test_an_admonition_in_a_list_item_keeps_its_indent():
    assert convert("- item\n\n  ```{note}\n  Indented.\n  ```") == "- item\n\n  > **Note**\n  >\n  > Indented."


def test_code_is_left_alone():
    text = "Write ``{term}`soft attention` `` in a page.\n\n````python\nprint('{cite:t}`x`')\n```{note}\n````"
    assert convert(text) == text
    in_note = "````{note}\n```python\nx = '{term}`key`'\n```\n````"
    assert convert(in_note) == "> **Note**\n>\n> ```python\n> x = '{term}`key`'\n> ```"


def test_math_stays_and_myst_targets_and_comments_go():
    assert convert("(my-label)=\n## Title\n% a comment\n$$\\alpha_{ij}$$ and {math}`x^2`") == (
        "## Title\n$$\\alpha_{ij}$$ and $x^2$")


@pytest.mark.parametrize("text, message", [
    ("see {numref}`fig-weights`", "the role {numref}"),
    ("```{figure} weights.png\n```", "the directive {figure}"),
    (":::{dropdown} More\ntext\n:::", "the directive {dropdown}"),
    ("{term}`no such term`", "not a term"),
    ("{cite:t}`nobody2099`", "not in the bibliography"),
    ("{ref}`no-such-label`", "no target"),
    ("{doc}`../book/nowhere`", "not a page"),
    ("```{admonition}\ntext\n```", "needs a title"),
    ("{cite:label}`bahdanau2015`", "no plain Markdown form"),
])
def test_what_has_no_plain_form_is_an_error(text, message):
    with pytest.raises(colab.ConversionError, match=re.escape(message)):
        convert(text)


def test_an_error_names_the_notebook_the_cell_and_the_text():
    notebook = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": ["# Title"]},
                          {"cell_type": "markdown", "metadata": {}, "source": ["Then {eq}`softmax`."]}],
                "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    with pytest.raises(colab.ConversionError) as error:
        colab.convert_notebook(notebook, BOOK, "notebooks/99_new", name="notebooks/99_new.ipynb")
    assert "notebooks/99_new.ipynb, cell 1" in str(error.value)
    assert "{eq}`softmax`" in str(error.value)


def test_leftovers_finds_roles_and_directives_outside_code():
    assert colab.leftovers("a {term}`x` b") == ["{term}`x`"]
    assert colab.leftovers("> ```{note}\n> text\n> ```") == ["```{note}"]
    assert colab.leftovers(":::{tip}\nx\n:::") == [":::{tip}"]
    assert colab.leftovers("`{term}`x`` and\n```\n{cite}`y`\n```\n$\\mathbb{R}^d$") == []


# --- Author-year text from BibTeX --------------------------------------------------------------

def test_bibtex_names_accents_and_braces():
    assert colab.latex_to_text(r"Doll{\'a}r") == "Dollár"
    assert colab.latex_to_text(r"Schr\"{o}dinger and G\"odel and {\v{S}}koda and \L{}ukasz") == (
        "Schrödinger and Gödel and Škoda and Łukasz")
    assert colab.last_name("van Merriënboer, Bart") == "van Merriënboer"
    assert colab.last_name("{dos Santos}, Cicero Nogueira") == "dos Santos"
    assert colab.last_name("{Tatoeba contributors}") == "Tatoeba contributors"
    assert colab.last_name("Ludwig van Beethoven") == "van Beethoven"
    assert colab.last_name(r"Piotr Doll{\'a}r") == "Dollár"


def test_bibtex_entries_and_author_year():
    entries = colab.parse_bibtex("""
        % a comment with @misc{not, an entry}
        @string{icml = "ICML"}
        @article{one, author = "Le, Quoc and Mikolov, Tomas", year = 2014, title = {A {B} c}}
        @inproceedings{three,
          author = {Goyal, Priya and
                    Doll{\\'a}r, Piotr and Girshick, Ross},
          year   = {2017}
        }
        @misc{none, title = {Untitled}}
    """)
    assert sorted(entries) == ["none", "one", "three"]
    assert colab.author_year(entries["one"]) == ("Le and Mikolov", "2014")
    assert colab.author_year(entries["three"]) == ("Goyal et al.", "2017")
    assert colab.author_year(entries["three"], full=True) == ("Goyal, Dollár, and Girshick", "2017")
    assert colab.author_year(entries["none"]) == ("Untitled", "n.d.")


# --- Anchors, as Sphinx and sphinxcontrib-bibtex make them -------------------------------------

def test_glossary_anchors_are_the_ids_sphinx_gives_the_terms():
    from sphinx.util.nodes import _make_id  # the function Sphinx makes term ids with

    glossary = colab.parse_glossary((ROOT / "book" / "glossary.md").read_text(encoding="utf-8"))
    assert len(glossary) > 30
    for entry in glossary:
        assert entry.anchors, f"{entry.terms}: no term with an id made from its text"
        for term, anchor in entry.anchors.items():
            assert anchor == _make_id(f"term-{term}")


def test_citation_and_label_anchors_are_docutils_ids():
    from docutils.nodes import make_id

    for key in BOOK.references:
        assert BOOK.citation_url(key).endswith("#" + make_id(CONFIG["sphinx"]["config"]["bibtex_cite_id"].format(
            key=key, bibliography_count=1)))
    for label in BOOK.labels:
        assert colab.docutils_id(label) == make_id(label)


def test_missing_links_checks_pages_and_anchors_of_a_built_book(tmp_path):
    html = tmp_path / "html"
    (html / "book").mkdir(parents=True)
    (html / "book" / "glossary.html").write_text('<dt id="term-key">key</dt>', encoding="utf-8")
    notebook = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": [
        f"[key]({GLOSSARY}#term-key) [value]({GLOSSARY}#term-value) [n]({BASE}book/notation.html) "
        "[elsewhere](https://example.org/x.html#y)"]}]}
    path = tmp_path / "01_x.ipynb"
    path.write_text(json.dumps(notebook), encoding="utf-8")
    assert colab.missing_links([path], html, BASE) == [
        ("01_x.ipynb", f"{GLOSSARY}#term-value"), ("01_x.ipynb", f"{BASE}book/notation.html")]


# --- The configuration the copies rely on ------------------------------------------------------

def test_the_online_book_is_the_github_pages_site_of_the_repository():
    owner, repository = CONFIG["repository"]["url"].rstrip("/").split("/")[-2:]
    assert CONFIG["html"]["baseurl"] == f"https://{owner}.github.io/{repository}/"


def test_launch_buttons_open_the_copies_and_edit_links_stay_on_main():
    assert CONFIG["repository"]["branch"] == "colab"
    template = CONFIG["sphinx"]["config"]["html_context"]["edit_page_url_template"]
    assert "/edit/main/" in template and "{{ file_name }}" in template
    publish = ROOT / ".github" / "workflows" / "publish.yml"
    if publish.is_file():
        workflow = publish.read_text(encoding="utf-8")
        assert "make colab" in workflow and "refs/heads/colab" in workflow


# --- The setup cell tells a Colab user without a GPU how to get one ----------------------------

SETUP = next(source(c) for c in load(NOTEBOOKS[0])["cells"] if c["cell_type"] == "code" and "pip install" in source(c))


def run_setup(monkeypatch, tmp_path, on_colab, nvidia_smi_status=None):
    """Run the setup cell as IPython would, with %pip recorded instead of run; what it printed, and the pip calls."""
    from IPython.core.inputtransformer2 import TransformerManager

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    if nvidia_smi_status is not None:
        script = bin_dir / "nvidia-smi"
        script.write_text(f"#!/bin/sh\necho 'GPU 0: Tesla T4'\nexit {nvidia_smi_status}\n")
        script.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    if on_colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    calls = []
    shell = types.SimpleNamespace(run_line_magic=lambda name, line, *rest: calls.append((name, line)))
    code = TransformerManager().transform_cell(SETUP)
    exec(compile(code, "setup", "exec"), {"get_ipython": lambda: shell})
    return calls


@pytest.mark.parametrize("status, hint", [(None, True), (9, True), (0, False)],
                         ids=["no nvidia-smi", "nvidia-smi fails", "a GPU"])
def test_setup_on_colab_says_how_to_get_a_gpu_only_without_one(monkeypatch, tmp_path, capsys, status, hint):
    calls = run_setup(monkeypatch, tmp_path, on_colab=True, nvidia_smi_status=status)
    printed = capsys.readouterr().out
    assert [name for name, _ in calls] == ["pip"]
    if hint:
        assert printed.count("\n") == 1 and "Runtime → Change runtime type → GPU" in printed
        assert "CPU" in printed
    else:
        assert printed == ""


def test_setup_elsewhere_installs_and_prints_nothing(monkeypatch, tmp_path, capsys):
    assert run_setup(monkeypatch, tmp_path, on_colab=False) == []
    assert capsys.readouterr().out == ""
