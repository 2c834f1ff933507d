"""Sphinx extension: each page loads every ``<script>`` once.

sphinx-thebe and sphinx-togglebutton register their inline scripts from a read-phase
event that Jupyter Book's build fires twice, so every page carries two copies. For
togglebutton that is harmless (a ``var`` may be declared twice); thebe's script
declares ``const THEBE_JS_URL``, and its second copy is a console error on every page.
Dropping repeated scripts when a page is rendered removes it.
"""


def _identity(script):
    # A script is either a file (identified by its path) or inline code (by its text).
    if script.filename:
        return ("file", script.filename)
    return ("inline", script.attributes.get("body", ""))


def drop_repeated_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if scripts:
        first = {}
        for script in scripts:
            first.setdefault(_identity(script), script)
        context["script_files"] = list(first.values())


def setup(app):
    app.connect("html-page-context", drop_repeated_scripts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
