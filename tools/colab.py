"""Colab copies of the chapters: the book's MyST Markdown made plain, and a GPU runtime asked for.

    python tools/colab.py [OUTPUT_DIR] [--root DIR] [--html BUILT_BOOK]      (or: make colab)

Every notebook of ``notebooks/`` is written to ``OUTPUT_DIR/<same name>.ipynb`` (by default
``_build/colab/notebooks``), the folder that the publish workflow pushes to the branch
``colab``, where the chapters' Colab badges and the book's launch buttons open them. Colab
renders Markdown and ``$$`` math but shows MyST's roles and directives as raw text, so in the
Markdown cells of a copy:

- a citation becomes an author-year link to its entry on the book's bibliography page:
  ``{cite:t}`bahdanau2015``` gives ``[Bahdanau et al. (2015)](<base>book/bibliography.html#cite-bahdanau2015)``
  and ``{cite:p}`cho2014,sutskever2014``` gives ``([Cho et al., 2014](...); [Sutskever et al., 2014](...))``;
  the author-year text comes from ``book/references.bib`` (``et al.`` from three authors on),
  the anchor from ``bibtex_cite_id`` in ``_config.yml``;
- a glossary term becomes a link to its entry on the glossary page (``#term-soft-attention``);
- ``{doc}`` and ``{ref}`` become links to the online pages, with the page's or section's title
  when the role gives no text;
- an admonition (``{note}``, ``{tip}``, ..., ``{admonition} Title``), in backtick or colon
  fences, becomes a block quote that starts with its bold title;
- MyST target lines ``(label)=`` and ``%`` comment lines are dropped.

Anything else written as a role or a directive is an error naming the notebook, the cell and
the text, so a copy never shows MyST to a reader. Code cells are copied unchanged (source and
metadata; outputs and execution counts empty), so a copy runs exactly the code of its
original. The copy's metadata asks Colab for a GPU runtime (``"accelerator": "GPU"`` and
``"colab": {"gpuType": "T4"}``), as the originals' does.

The online book's address is ``html.baseurl`` of ``_config.yml``; pages are
``<base>book/glossary.html``, ``<base>notebooks/03_bahdanau.html``, ... . With ``--html
_build/html`` (a built book), every link of the copies into the book is checked against the
pages and anchors that the build has. Only the standard library and PyYAML are needed.
"""

import argparse
import copy
import json
import posixpath
import re
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = Path("_build") / "colab" / "notebooks"

# What a copy's (and an original's) metadata says so that Colab opens it on a GPU runtime.
GPU_METADATA = {"accelerator": "GPU", "colab": {"gpuType": "T4", "provenance": []}}

ADMONITIONS = {
    "admonition": None,  # the title is the directive's argument
    "attention": "Attention",
    "caution": "Caution",
    "danger": "Danger",
    "error": "Error",
    "hint": "Hint",
    "important": "Important",
    "note": "Note",
    "seealso": "See also",
    "tip": "Tip",
    "warning": "Warning",
}


class ConversionError(ValueError):
    """A notebook cannot be made plain Markdown; the message names the notebook, cell and text."""


def asks_for_gpu(metadata):
    """Whether notebook metadata asks Colab for a GPU runtime."""
    return metadata.get("accelerator") == "GPU" and bool(metadata.get("colab", {}).get("gpuType"))


def with_gpu(metadata):
    """A copy of notebook metadata that asks Colab for a GPU runtime (other keys kept)."""
    metadata = copy.deepcopy(metadata)
    metadata["accelerator"] = GPU_METADATA["accelerator"]
    colab = metadata.setdefault("colab", {})
    for key, value in GPU_METADATA["colab"].items():
        colab.setdefault(key, copy.deepcopy(value))
    return metadata


# --- Identifiers, as Sphinx and docutils make them -------------------------------------------

_TRANSLATE = {0x00F8: "o", 0x0111: "d", 0x0127: "h", 0x0131: "i", 0x0142: "l", 0x0167: "t",
              0x0180: "b", 0x0183: "b", 0x0188: "c", 0x018C: "d", 0x0192: "f", 0x0199: "k",
              0x019A: "l", 0x019E: "n", 0x01A5: "p", 0x01AB: "t", 0x01AD: "t", 0x01B4: "y",
              0x01B6: "z", 0x01E5: "g", 0x0225: "z", 0x0234: "l", 0x0235: "n", 0x0236: "t",
              0x0237: "j", 0x023C: "c", 0x023F: "s", 0x0240: "z", 0x0247: "e", 0x0249: "j",
              0x024B: "q", 0x024D: "r", 0x024F: "y"}
_DIGRAPHS = {0x00DF: "sz", 0x00E6: "ae", 0x0153: "oe", 0x0238: "db", 0x0239: "qp"}


def _ascii(text):
    text = text.translate(_DIGRAPHS).translate(_TRANSLATE)
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def sphinx_id(text):
    """Sphinx's identifier for ``text`` (``sphinx.util.nodes._make_id``): case kept, '.' and '_' kept."""
    ident = re.sub(r"[^a-zA-Z0-9._]+", "-", " ".join(_ascii(text).split()))
    return re.sub(r"^[-0-9._]+|-+$", "", ident)


def docutils_id(text):
    """docutils' identifier for ``text`` (``docutils.nodes.make_id``): lower case, '-' only."""
    ident = re.sub(r"[^a-z0-9]+", "-", " ".join(_ascii(text.lower()).split()))
    return re.sub(r"^[-0-9]+|-+$", "", ident)


# --- BibTeX ----------------------------------------------------------------------------------

_ACCENTS = {"'": "\u0301", "`": "\u0300", "^": "\u0302", '"': "\u0308", "~": "\u0303", "=": "\u0304",
            ".": "\u0307", "u": "\u0306", "v": "\u030C", "H": "\u030B", "c": "\u0327", "k": "\u0328",
            "r": "\u030A", "d": "\u0323", "b": "\u0331"}
_LETTERS = {"o": "ø", "O": "Ø", "l": "ł", "L": "Ł", "ss": "ß", "ae": "æ", "AE": "Æ", "oe": "œ",
            "OE": "Œ", "aa": "å", "AA": "Å", "i": "ı", "j": "ȷ"}


def latex_to_text(text):
    """BibTeX text as a reader sees it: accents such as ``{\\'a}`` or ``\\"{o}`` made Unicode,
    letters such as ``\\l`` or ``\\ss`` replaced, braces and ``~`` removed, spaces collapsed."""
    def accent(match):
        return match.group("letter") + _ACCENTS[match.group("accent")]

    # \'a  \'{a}  {\'a}  \'{\i}  \c c  \v{s}
    text = re.sub(r"\\(?P<accent>['`^\"~=.])\s*\{?\\?(?P<letter>[A-Za-z])\}?", accent, text)
    text = re.sub(r"\\(?P<accent>[uvHckrdb])(?:\s+|\{\\?)(?P<letter>[A-Za-z])\}?", accent, text)
    text = re.sub(r"\\(ss|ae|AE|oe|OE|aa|AA|o|O|l|L|i|j)(?![A-Za-z])\s*(?:\{\})?",
                  lambda m: _LETTERS[m.group(1)], text)
    text = re.sub(r"\\(?:url|emph|textit|textbf|textsc|mathrm|text)\s*", "", text)
    text = re.sub(r"\\([&%$#_{}])", r"\1", text)
    text = text.replace("~", " ").replace("{", "").replace("}", "").replace("--", "–")
    return unicodedata.normalize("NFC", " ".join(text.split()))


def _read_braced(text, start):
    """(content, end) of the balanced ``{...}`` or ``(...)`` that opens at ``text[start]``."""
    closing = "}" if text[start] == "{" else ")"
    depth, position = 0, start + 1  # depth: braces open inside
    while position < len(text):
        char = text[position]
        if char == "\\":
            position += 2
            continue
        if char == "{":
            depth += 1
        elif char == "}" and depth > 0:
            depth -= 1
        elif char == closing and depth == 0:
            return text[start + 1:position], position + 1
        position += 1
    raise ValueError(f"unbalanced {text[start]} at offset {start}")


def _field_value(body, position):
    """(raw value, end) of one field value: ``{...}``, ``"..."`` or a bare word, joined by ``#``."""
    parts = []
    while True:
        while position < len(body) and body[position].isspace():
            position += 1
        if position >= len(body):
            break
        char = body[position]
        if char == "{":
            value, position = _read_braced(body, position)
        elif char == '"':
            depth, end = 0, position + 1
            while end < len(body) and not (body[end] == '"' and depth == 0):
                depth += {"{": 1, "}": -1}.get(body[end], 0)
                end += 1
            value, position = body[position + 1:end], end + 1
        else:
            match = re.compile(r"[^\s,#]+").match(body, position)
            value, position = match.group(), match.end()
        parts.append(value)
        while position < len(body) and body[position].isspace():
            position += 1
        if position < len(body) and body[position] == "#":
            position += 1
            continue
        break
    return "".join(parts), position


def parse_bibtex(text):
    """{key: {field: raw value}} of the entries of a BibTeX file (field names lower case).

    Small and forgiving: ``%`` comments outside entries, ``@comment``, ``@preamble`` and
    ``@string`` are skipped; values may be braced, quoted or bare, and joined with ``#``.
    """
    entries, position = {}, 0
    start = re.compile(r"@\s*(\w+)\s*([{(])")
    while (match := start.search(text, position)):
        line_start = text.rfind("\n", 0, match.start()) + 1
        if "%" in text[line_start:match.start()]:  # in a comment line
            end_of_line = text.find("\n", match.start())
            position = len(text) if end_of_line < 0 else end_of_line
            continue
        kind = match.group(1).lower()
        try:
            body, position = _read_braced(text, match.end() - 1)
        except ValueError as error:
            raise ValueError(f"references: entry at offset {match.start()}: {error}") from None
        if kind in ("comment", "preamble", "string"):
            continue
        key, _, rest = body.partition(",")
        key = key.strip()
        fields, offset = {}, 0
        while True:
            name = re.compile(r"\s*,?\s*([\w:.+-]+)\s*=").match(rest, offset)
            if not name:
                break
            value, offset = _field_value(rest, name.end())
            fields[name.group(1).lower()] = value
        entries[key] = fields
    return entries


def split_names(authors):
    """The names of a BibTeX ``author`` field, split on ``and`` outside braces."""
    names, depth, current = [], 0, []
    for token in re.split(r"(\{|\}|\s+and\s+)", " ".join(authors.split())):
        if token == "{":
            depth += 1
        elif token == "}":
            depth -= 1
        elif re.fullmatch(r"\s+and\s+", token or "") and depth == 0:
            names.append("".join(current).strip())
            current = []
            continue
        current.append(token)
    names.append("".join(current).strip())
    return [name for name in names if name]


def _words(text):
    """Words of a name outside braces (a braced group stays one word)."""
    words, depth, current = [], 0, ""
    for char in text:
        depth += {"{": 1, "}": -1}.get(char, 0)
        if char.isspace() and depth == 0:
            if current:
                words.append(current)
            current = ""
        else:
            current += char
    return words + ([current] if current else [])


def last_name(name):
    """The surname of one BibTeX name, with its "von" part: "van Merriënboer", "dos Santos"."""
    depth, comma = 0, None
    for position, char in enumerate(name):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if char == "," and depth == 0:
            comma = position
            break
    if comma is not None:  # "von Last, First" or "von Last, Jr, First"
        return latex_to_text(name[:comma])
    words = _words(name)
    if len(words) <= 1:  # "{Tatoeba contributors}", "Plato"
        return latex_to_text(name)
    # "First von Last": the last word, and the lower-case words just before it.
    start = len(words) - 1
    while start > 1 and latex_to_text(words[start - 1])[:1].islower():
        start -= 1
    return latex_to_text(" ".join(words[start:]))


def author_year(entry, full=False):
    """(authors, year) as the book's author-year citations write them: "Bahdanau et al.",
    "Liu and Lapata", "Williams"; every surname when ``full``."""
    names = [last_name(name) for name in split_names(entry.get("author") or entry.get("editor") or "")]
    if not names:
        authors = latex_to_text(entry.get("organization") or entry.get("title") or "Anonymous")
    elif len(names) == 1:
        authors = names[0]
    elif len(names) == 2:
        authors = f"{names[0]} and {names[1]}"
    elif full:
        authors = ", ".join(names[:-1]) + f", and {names[-1]}"
    else:
        authors = f"{names[0]} et al."
    year = re.search(r"\d{4}", entry.get("year") or entry.get("date") or "")
    return authors, year.group() if year else "n.d."


# --- The book: pages, titles, labels, glossary -------------------------------------------------

FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,}|:{3,})(?P<info>.*)$")
DIRECTIVE = re.compile(r"^\s*\{(?P<name>[^}\s]+)\}\s*(?P<argument>.*?)\s*$")
LABEL = re.compile(r"^\s*\((?P<label>[^()\s]+)\)=\s*$")
HEADING = re.compile(r"^\s{0,3}(?P<level>#{1,6})\s+(?P<title>.+?)\s*#*\s*$")


def toc_documents(toc):
    """Docnames of a ``_toc.yml`` (root first), in order."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            for key in ("root", "file"):
                if key in node:
                    found.append(str(node[key]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc)
    return [doc.rsplit(".", 1)[0] if doc.endswith((".md", ".ipynb")) else doc for doc in found]


def document_path(root, docname):
    """The source of a docname (``book/glossary`` -> ``book/glossary.md``), or None."""
    for suffix in (".md", ".ipynb"):
        path = root / f"{docname}{suffix}"
        if path.is_file():
            return path
    return None


def markdown_of(path):
    """The Markdown of a page: a .md file, or a notebook's Markdown cells joined."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".ipynb":
        cells = json.loads(text)["cells"]
        return "\n\n".join(_source(cell) for cell in cells if cell["cell_type"] == "markdown")
    return text


def _source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def outside_code_fences(text):
    """The lines of ``text`` with their line numbers, skipping those in plain code fences."""
    lines, inside = text.split("\n"), None
    for number, line in enumerate(lines):
        if inside:
            if re.fullmatch(rf" {{0,3}}{re.escape(inside[0])}{{{len(inside)},}}\s*", line):
                inside = None
            continue
        fence = FENCE.match(line)
        if fence and fence.group("fence")[0] != ":" and not DIRECTIVE.match(fence.group("info")):
            inside = fence.group("fence")
            continue
        yield number, line


def page_title(markdown):
    """The first heading of a page (its title in the book)."""
    for _, line in outside_code_fences(markdown):
        heading = HEADING.match(line)
        if heading:
            return heading.group("title")
    return None


@dataclass
class GlossaryEntry:
    terms: list
    anchors: dict = field(default_factory=dict)  # term -> its own id, when Sphinx derives it from the text


def parse_glossary(markdown):
    """The entries of the ``{glossary}`` directive of a page, with the ids Sphinx gives their terms.

    Sphinx makes a term's id from its text (``term-`` + the text, case kept, runs of other
    characters as ``-``, non-ASCII letters dropped); a term that gives no id that way (a
    Chinese one) or the id of an earlier term gets a number instead, which moves when the
    glossary changes, so such a term is linked to the first term of its entry that has a
    text-derived id.
    """
    lines = markdown.split("\n")
    start = next((i for i, line in enumerate(lines)
                  if (m := FENCE.match(line)) and (d := DIRECTIVE.match(m.group("info"))) and d["name"] == "glossary"),
                 None)
    if start is None:
        return []
    fence = FENCE.match(lines[start]).group("fence")
    closing = re.compile(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}\s*$")
    # As Sphinx's Glossary directive reads its content: an unindented line is a term, the
    # indented lines after a run of terms are their definition, and the next unindented line
    # after a definition starts a new entry.
    entries, in_definition, used = [], True, set()
    for line in lines[start + 1:]:
        if closing.match(line):
            break
        if not line.strip():
            continue
        if line[0].isspace():
            in_definition = True
            continue
        if not entries and re.match(r"^:[\w-]+:", line):  # the directive's options, such as :sorted:
            continue
        if in_definition:
            entries.append(GlossaryEntry(terms=[]))
            in_definition = False
        term = re.split(r" +: +", line.strip(), maxsplit=1)[0]  # "term : classifier"
        entries[-1].terms.append(term)
        anchor = sphinx_id(f"term-{term}")
        if anchor != "term" and anchor not in used:
            entries[-1].anchors[term] = anchor
            used.add(anchor)
    return entries


@dataclass
class Book:
    """What the conversion needs to know of the book, read from its sources."""

    root: Path
    base_url: str
    references: dict  # key -> BibTeX fields
    cite_id: str  # the bibtex_cite_id template
    bibliography_page: str  # docname of the page with the {bibliography} directive
    glossary_page: str
    terms: dict  # term -> anchor id
    labels: dict  # label -> (docname, title or None)
    titles: dict  # docname -> title

    @classmethod
    def load(cls, root=ROOT):
        root = Path(root)
        config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
        base_url = ((config.get("html") or {}).get("baseurl") or "").strip()
        if not base_url:
            raise ConversionError("_config.yml: set html.baseurl, the online book's address")
        sphinx_config = (config.get("sphinx") or {}).get("config") or {}
        cite_id = sphinx_config.get("bibtex_cite_id") or ""
        if "{key}" not in cite_id:
            raise ConversionError("_config.yml: set sphinx.config.bibtex_cite_id (such as 'cite-{key}') "
                                  "so that every bibliography entry has a stable anchor")
        references = {}
        for bibfile in config.get("bibtex_bibfiles") or []:
            references.update(parse_bibtex((root / bibfile).read_text(encoding="utf-8")))

        docs = toc_documents(yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8")))
        titles, labels, bibliography_pages, glossary_pages, terms = {}, {}, [], [], {}
        for docname in docs:
            path = document_path(root, docname)
            if path is None:
                raise ConversionError(f"_toc.yml lists {docname!r}, which has no .md or .ipynb source")
            markdown = markdown_of(path)
            titles[docname] = page_title(markdown)
            numbered = list(outside_code_fences(markdown))
            for index, (_, line) in enumerate(numbered):
                label = LABEL.match(line)
                if label:
                    following = next((l for _, l in numbered[index + 1:] if l.strip()), "")
                    heading = HEADING.match(following)
                    name = label.group("label")
                    if name in labels:
                        raise ConversionError(f"label {name!r} is defined twice ({labels[name][0]}, {docname})")
                    labels[name] = (docname, heading.group("title") if heading else None)
                fence = FENCE.match(line)
                directive = fence and DIRECTIVE.match(fence.group("info"))
                if directive and directive["name"] == "bibliography":
                    bibliography_pages.append(docname)
                if directive and directive["name"] == "glossary":
                    glossary_pages.append(docname)
            for entry in parse_glossary(markdown):
                fallback = next(iter(entry.anchors.values()), None)
                for term in entry.terms:
                    anchor = entry.anchors.get(term, fallback)
                    if anchor is None:
                        raise ConversionError(f"{docname}: no term of the glossary entry {entry.terms} "
                                              "has an anchor made from its text")
                    terms[term] = anchor
        for kind, pages in (("bibliography", bibliography_pages), ("glossary", glossary_pages)):
            if len(pages) != 1:
                raise ConversionError(f"expected one page with a {{{kind}}} directive in _toc.yml, found {pages}")
        return cls(root=root, base_url=base_url.rstrip("/") + "/", references=references, cite_id=cite_id,
                   bibliography_page=bibliography_pages[0], glossary_page=glossary_pages[0], terms=terms,
                   labels=labels, titles=titles)

    def page_url(self, docname, anchor=None):
        return f"{self.base_url}{docname}.html" + (f"#{anchor}" if anchor else "")

    def citation_url(self, key):
        anchor = docutils_id(self.cite_id.format(key=key, bibliography_count=1))
        return self.page_url(self.bibliography_page, anchor)

    def term_anchor(self, term):
        """The glossary anchor of a term; as in Sphinx, an exact match first, then any case."""
        term = " ".join(term.split())
        if term in self.terms:
            return self.terms[term]
        lowered = {name.lower(): anchor for name, anchor in self.terms.items()}
        return lowered.get(term.lower())


# --- Markdown conversion -----------------------------------------------------------------------

ROLE = re.compile(r"\{(?P<name>[A-Za-z][\w:.+-]*)\}(?P<ticks>`+)(?P<body>(?:(?!\n[ \t]*\n).)+?)(?P=ticks)(?!`)",
                  re.S)
EXPLICIT = re.compile(r"^(?P<text>.*?)\s*<(?P<target>[^<>]+)>$", re.S)


def _link(text, url):
    text = re.sub(r"([\[\]])", r"\\\1", text)
    return f"[{text}]({url})"


class Converter:
    """Converts the Markdown of one document of the book (``docname``) for Colab."""

    def __init__(self, book, docname, where=None):
        self.book = book
        self.docname = docname
        self.where = where or docname

    def fail(self, message, text):
        raise ConversionError(f"{self.where}: {message}: {text!r}")

    # roles

    def role(self, match):
        name, body = match.group("name"), match.group("body")
        if match.group("ticks") != "`" and name != "math":
            body = body.strip()
        if name == "term":
            return self.term(body, match.group())
        if name == "cite" or name.startswith("cite:"):
            return self.cite(name, body, match.group())
        if name == "doc":
            return self.doc(body, match.group())
        if name == "ref":
            return self.ref(body, match.group())
        if name == "math":
            return f"${body}$"
        self.fail(f"the role {{{name}}} has no plain Markdown form", match.group())

    @staticmethod
    def explicit(body):
        """(text, target) of a role's ``text <target>``, or (None, body)."""
        found = EXPLICIT.match(body)
        if found and found.group("text"):
            return found.group("text"), " ".join(found.group("target").split())
        return None, " ".join(body.split())

    def term(self, body, raw):
        text, target = self.explicit(body)
        anchor = self.book.term_anchor(target)
        if anchor is None:
            self.fail(f"{target!r} is not a term of {self.book.glossary_page}", raw)
        return _link(text or body, self.book.page_url(self.book.glossary_page, anchor))

    def cite(self, name, body, raw):
        variant = name.partition(":")[2] or "p"
        keys = [key.strip() for key in body.split(",") if key.strip()]
        if not keys:
            self.fail("a citation without a key", raw)
        for key in keys:
            if key not in self.book.references:
                self.fail(f"{key!r} is not in the bibliography", raw)
        full = variant in ("ps", "ts", "cps", "cts")
        parts = []
        for key in keys:
            authors, year = author_year(self.book.references[key], full=full)
            if variant.startswith("c"):
                authors = authors[:1].upper() + authors[1:]
            url = self.book.citation_url(key)
            if variant in ("t", "ts", "ct", "cts"):
                parts.append(_link(f"{authors} ({year})", url))
            elif variant in ("p", "ps", "cp", "cps"):
                parts.append(_link(f"{authors}, {year}", url))
            elif variant == "author":
                parts.append(_link(authors, url))
            elif variant == "year":
                parts.append(_link(year, url))
            elif variant == "yearpar":
                parts.append(_link(year, url))
            else:
                self.fail(f"the citation role {{{name}}} has no plain Markdown form", raw)
        joined = "; ".join(parts)
        return f"({joined})" if variant in ("p", "ps", "cp", "cps", "yearpar") else joined

    def resolve_doc(self, target, raw):
        if target.startswith("/"):
            docname = posixpath.normpath(target.lstrip("/"))
        else:
            docname = posixpath.normpath(posixpath.join(posixpath.dirname(self.docname), target))
        docname = re.sub(r"\.(md|ipynb)$", "", docname)
        if docname not in self.book.titles:
            self.fail(f"{target!r} is not a page of the book (_toc.yml)", raw)
        return docname

    def doc(self, body, raw):
        text, target = self.explicit(body)
        docname = self.resolve_doc(target, raw)
        title = text or self.book.titles[docname]
        if not title:
            self.fail(f"{docname} has no title to show", raw)
        return _link(title, self.book.page_url(docname))

    def ref(self, body, raw):
        text, target = self.explicit(body)
        if target not in self.book.labels:
            self.fail(f"no target ({target})= in the book", raw)
        docname, title = self.book.labels[target]
        if not (text or title):
            self.fail(f"the target ({target})= is not followed by a heading: give the link a text", raw)
        return _link(text or title, self.book.page_url(docname, docutils_id(target)))

    def inline(self, text):
        """``text`` with its roles converted; code spans and backslash escapes left alone."""
        return scan_roles(text, self.role)

    # blocks

    def directive(self, name, argument, body, raw):
        if name not in ADMONITIONS:
            self.fail(f"the directive {{{name}}} has no plain Markdown form", raw)
        lines = body.split("\n")
        # options: ":class: dropdown" lines, or a YAML block between --- lines
        if lines and lines[0].strip() == "---":
            end = next((i for i, line in enumerate(lines[1:], 1) if line.strip() == "---"), None)
            if end is not None:
                lines = lines[end + 1:]
        while lines and re.match(r"^\s*:[\w-]+:", lines[0]):
            lines = lines[1:]
        title = ADMONITIONS[name]
        if title is None:
            if not argument:
                self.fail("an {admonition} needs a title", raw)
            title = argument
        elif argument:  # "```{note} Text": the text is the note's first line
            lines = [argument, *lines]
        while lines and not lines[0].strip():
            lines = lines[1:]
        content = self.blocks("\n".join(lines).rstrip())
        quoted = [f"> **{self.inline(title)}**"]
        if content.strip():
            quoted.append(">")
            quoted += [f"> {line}" if line.strip() else ">" for line in content.split("\n")]
        return "\n".join(quoted)

    def blocks(self, text):
        """Convert a run of Markdown blocks: directives, plain code fences, and the text between."""
        lines, out, pending, index = text.split("\n"), [], [], 0

        def flush():
            if pending:
                out.append(self.inline("\n".join(pending)))
                pending.clear()

        while index < len(lines):
            line = lines[index]
            fence = FENCE.match(line)
            directive = fence and DIRECTIVE.match(fence.group("info"))
            if fence and (directive or fence.group("fence")[0] != ":"):
                flush()
                indent, marks = fence.group("indent"), fence.group("fence")
                closing = re.compile(rf"^ {{0,3}}{re.escape(marks[0])}{{{len(marks)},}}\s*$")
                end = next((i for i in range(index + 1, len(lines)) if closing.match(lines[i])), len(lines))
                inner = [l[len(indent):] if l.startswith(indent) else l.lstrip() for l in lines[index + 1:end]]
                if directive:
                    converted = self.directive(directive["name"], directive["argument"], "\n".join(inner),
                                               "\n".join(lines[index:end + 1]))
                    out.append("\n".join(indent + l if l else l for l in converted.split("\n")))
                    if end + 1 < len(lines) and lines[end + 1].strip():
                        out.append("")  # or the next line would continue the block quote
                else:
                    out.append("\n".join(lines[index:end + 1]))
                index = end + 1
                continue
            if LABEL.match(line) or re.match(r"^%", line):  # MyST targets and comments
                index += 1
                continue
            pending.append(line)
            index += 1
        flush()
        return "\n".join(out)

    def convert(self, text):
        converted = self.blocks(text)
        left = leftovers(converted)
        if left:
            self.fail("MyST syntax left after conversion", left[0])
        return converted


def scan_roles(text, on_role):
    """``text`` with every role replaced by ``on_role(match)``, skipping code spans and escapes."""
    out, position = [], 0
    while position < len(text):
        char = text[position]
        if char == "{":
            role = ROLE.match(text, position)
            if role:
                out.append(on_role(role))
                position = role.end()
                continue
        elif char == "`":
            ticks = re.compile(r"`+").match(text, position).group()
            close = re.compile(rf"(?<!`){ticks}(?!`)").search(text, position + len(ticks))
            end = close.end() if close else position + len(ticks)
            out.append(text[position:end])
            position = end
            continue
        elif char == "\\" and position + 1 < len(text):
            out.append(text[position:position + 2])
            position += 2
            continue
        out.append(char)
        position += 1
    return "".join(out)


def leftovers(markdown):
    """The roles and directives left in Markdown outside code, which Colab would show raw."""
    found = []
    unquoted = "\n".join(re.sub(r"^\s*(?:>\s?)+", "", line) for line in markdown.split("\n"))
    kept = []
    for _, line in outside_code_fences(unquoted):
        fence = FENCE.match(line)
        if fence and DIRECTIVE.match(fence.group("info")):
            found.append(line.strip())
        kept.append(line)
    scan_roles("\n".join(kept), lambda role: found.append(role.group()) or "")
    return found


# --- Notebooks ---------------------------------------------------------------------------------

def convert_notebook(notebook, book, docname, name=None):
    """The Colab copy of a notebook (a new dict): Markdown made plain, code cells as they are,
    outputs empty, a GPU runtime asked for."""
    name = name or f"{docname}.ipynb"
    result = copy.deepcopy(notebook)
    result["metadata"] = with_gpu(result.get("metadata", {}))
    for number, cell in enumerate(result["cells"]):
        if cell["cell_type"] == "markdown":
            text = Converter(book, docname, where=f"{name}, cell {number}").convert(_source(cell))
            cell["source"] = text.splitlines(keepends=True)
        elif cell["cell_type"] == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    return result


def dump_notebook(notebook):
    """A notebook as Jupyter writes it: indent 1, non-ASCII kept, a trailing newline."""
    return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"


def notebooks(root=ROOT):
    return sorted((Path(root) / "notebooks").glob("*.ipynb"))


def convert_all(output=None, root=ROOT):
    """Write the Colab copy of every notebook of ``root/notebooks`` into ``output``; the paths written."""
    root = Path(root)
    output = Path(output) if output is not None else root / DEFAULT_OUTPUT
    book = Book.load(root)
    copies = {}
    for path in notebooks(root):  # every copy is made before any is written
        docname = path.relative_to(root).with_suffix("").as_posix()
        notebook = json.loads(path.read_text(encoding="utf-8"))
        copies[output / path.name] = convert_notebook(notebook, book, docname, name=path.relative_to(root).as_posix())
    output.mkdir(parents=True, exist_ok=True)
    for target, notebook in copies.items():
        target.write_text(dump_notebook(notebook), encoding="utf-8")
    return list(copies)


LINK = re.compile(r"\]\((?P<url>[^()\s]+)\)")


def missing_links(copies, html, base_url):
    """The links of the copies into the online book that a built book lacks, page or anchor.

    ``html`` is the book's HTML folder (``_build/html``), ``base_url`` its online address; the
    answer lists ``(notebook name, url)`` pairs.
    """
    html, ids, missing = Path(html), {}, []
    for path in copies:
        notebook = json.loads(Path(path).read_text(encoding="utf-8"))
        for cell in notebook["cells"]:
            if cell["cell_type"] != "markdown":
                continue
            for url in LINK.findall(_source(cell)):
                if not url.startswith(base_url):
                    continue
                page, _, anchor = url[len(base_url):].partition("#")
                if page not in ids:
                    file = html / page
                    ids[page] = (set(re.findall(r'\bid="([^"]+)"', file.read_text(encoding="utf-8")))
                                 if file.is_file() else None)
                if ids[page] is None or (anchor and anchor not in ids[page]):
                    missing.append((Path(path).name, url))
    return missing


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("output", nargs="?", type=Path, help=f"folder of the copies (default {DEFAULT_OUTPUT})")
    parser.add_argument("--root", type=Path, default=ROOT, help="the book's root (default: this repository)")
    parser.add_argument("--html", type=Path,
                        help="a built book (such as _build/html): check that every link of the copies "
                             "into the online book names a page and an anchor that it has")
    args = parser.parse_args(argv)
    output = args.output if args.output is not None else args.root / DEFAULT_OUTPUT
    try:
        written = convert_all(output, root=args.root)
    except ConversionError as error:
        print(f"colab: {error}", file=sys.stderr)
        return 1
    print(f"{len(written)} Colab copies in {output}")
    if args.html is not None:
        missing = missing_links(written, args.html, Book.load(args.root).base_url)
        for name, url in missing:
            print(f"colab: {name} links to {url}, which {args.html} does not have", file=sys.stderr)
        if missing:
            return 1
        print(f"every link into the book found in {args.html}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
