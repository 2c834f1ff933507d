"""Sphinx extension: the ``claims-ledger`` directive, the book's table of measured claims.

Every chapter records its claims with ``attncourse.claims.record``, which appends them to
``_build/claims.jsonl`` while the notebooks execute (in the read phase of the build). The
directive leaves a placeholder, and once every page has been read (``doctree-resolved``) the
placeholder becomes two tables built from that file: the claims the course reproduces and
the findings it keeps as not reproduced, each with the paper and where it says so, the
value, the null, the threshold, the margin, the profile and the seed. Only the last entry
of each claim of the build's profile (``ATTNCOURSE_PROFILE``, ``cpu`` for ``make book``)
is shown. A page holding the directive is rebuilt on every build, so it never shows the
claims of an older run.
"""

import os
from pathlib import Path

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

from attncourse.claims import latest, read_claims

COLUMNS = ["Claim", "Paper", "Where", "Value", "Null", "Threshold", "Margin", "Profile, seed"]


class ledger_placeholder(nodes.General, nodes.Element):
    """Where the tables go once every page has been read."""


class ClaimsLedger(SphinxDirective):
    has_content = False

    def run(self):
        docs = getattr(self.env, "claims_ledger_docs", set())
        docs.add(self.env.docname)
        self.env.claims_ledger_docs = docs
        return [ledger_placeholder()]


def _number(value):
    return f"{value:.4g}"


def _null(entry):
    null = entry["null"]
    if isinstance(null, dict):
        return "; ".join(f"{name} {_number(value)}" for name, value in null.items())
    return _number(null)


def _threshold(entry):
    (kind, value), = entry["threshold"].items()
    return ("≥ " if kind == "at_least" else "≤ ") + _number(value)


def ledger_rows(entries):
    """The text of each table cell, per entry: ``(claim id, [cells after the first])``."""
    rows = []
    for entry in entries:
        paper = "the course's own finding" if entry["paper"] == "course" else entry["paper"]
        rows.append((entry["id"], [paper, entry["where"], _number(entry["value"]), _null(entry),
                                   _threshold(entry), f"{entry['margin']:+.4g}",
                                   f"{entry['profile']}, {entry['seed']}"]))
    return rows


def _chapter_doc(env, claim_id):
    """The chapter page a claim id such as ``3.long`` belongs to, or None."""
    head = claim_id.partition(".")[0]
    if not head.isdigit():
        return None
    prefix = f"notebooks/{int(head):02d}_"
    matches = sorted(doc for doc in env.found_docs if doc.startswith(prefix))
    return matches[0] if matches else None


def _table(app, fromdocname, entries):
    table = nodes.table(classes=["claims-ledger"])
    group = nodes.tgroup(cols=len(COLUMNS))
    table += group
    for _ in COLUMNS:
        group += nodes.colspec(colwidth=1)
    head = nodes.thead()
    group += head
    header = nodes.row()
    for title in COLUMNS:
        header += nodes.entry("", nodes.paragraph(text=title))
    head += header
    body = nodes.tbody()
    group += body
    for claim_id, cells in ledger_rows(entries):
        row = nodes.row()
        paragraph = nodes.paragraph()
        chapter = _chapter_doc(app.env, claim_id)
        if chapter is not None:
            uri = app.builder.get_relative_uri(fromdocname, chapter)
            paragraph += nodes.reference("", "", nodes.literal(text=claim_id), refuri=uri, internal=True)
        else:
            paragraph += nodes.literal(text=claim_id)
        row += nodes.entry("", paragraph)
        for text in cells:
            row += nodes.entry("", nodes.paragraph(text=text))
        body += row
    return table


def claims_file(app):
    explicit = os.environ.get("ATTNCOURSE_CLAIMS")
    return Path(explicit) if explicit else Path(app.srcdir) / "_build" / "claims.jsonl"


def fill_ledgers(app, doctree, fromdocname):
    placeholders = list(doctree.findall(ledger_placeholder))
    if not placeholders:
        return
    profile_name = os.environ.get("ATTNCOURSE_PROFILE", "cpu")
    entries = latest(read_claims(claims_file(app)), profile_name)
    for placeholder in placeholders:
        content = []
        if not entries:
            empty = nodes.paragraph(text=f"No claim of the {profile_name} profile has been recorded in this "
                                         "build: the chapters were not executed. ")
            empty += nodes.literal(text="make book")
            empty += nodes.Text(" executes them and fills this page.")
            content.append(empty)
        for expected, title in ((True, "Reproduced"), (False, "Kept as not reproduced")):
            chosen = [entry for entry in entries if entry["expected"] is expected]
            if not chosen:
                continue
            section = nodes.rubric(text=f"{title} ({len(chosen)})")
            held = sum(entry["holds"] == entry["expected"] for entry in chosen)
            summary = nodes.paragraph(text=(
                f"{held} of {len(chosen)} in their expected state in this build "
                f"({profile_name} profile)."))
            content.extend([section, summary, _table(app, fromdocname, chosen)])
        placeholder.replace_self(content)


def rebuild_ledger_pages(app, env, added, changed, removed):
    return sorted(getattr(env, "claims_ledger_docs", set()) - set(removed))


def purge_doc(app, env, docname):
    getattr(env, "claims_ledger_docs", set()).discard(docname)


def merge_info(app, env, docnames, other):
    env.claims_ledger_docs = getattr(env, "claims_ledger_docs", set()) | (
        getattr(other, "claims_ledger_docs", set()) & set(docnames))


def setup(app):
    app.add_node(ledger_placeholder)
    app.add_directive("claims-ledger", ClaimsLedger)
    app.connect("doctree-resolved", fill_ledgers)
    app.connect("env-get-outdated", rebuild_ledger_pages)
    app.connect("env-purge-doc", purge_doc)
    app.connect("env-merge-info", merge_info)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
