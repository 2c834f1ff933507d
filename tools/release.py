"""Bump the course's version everywhere it is written, for a release.

    python tools/release.py NEW_VERSION [--root DIR]      (or: make release VERSION=x.y.z)

The version lives in five kinds of place, all changed here at once:

- ``pyproject.toml`` (``version = "x.y.z"`` of ``[project]``);
- ``attncourse/__init__.py`` (``__version__``);
- ``CITATION.cff`` (``version`` and ``date-released``);
- every notebook's setup cell, which installs the course on Colab from the tag of its own
  version: ``%pip install --quiet "attncourse @ git+<repository>@v<version>"``;
- and the links at the foot of ``CHANGELOG.md`` (``[Unreleased]`` compares from the new tag).

It refuses to run unless ``CHANGELOG.md`` already has the new version's section, dated, as
``## [x.y.z] - YYYY-MM-DD`` (the maintainer moves the entries there from ``Unreleased``); that
date becomes ``date-released`` in ``CITATION.cff``. Nothing is written unless every file can
be changed. It runs no git command: it prints the ones that commit and tag the release.

Notebooks are rewritten in the layout they are stored in (JSON with a one-space indent,
non-ASCII characters as they are, keys in their order, a final newline), so only the setup
line changes in the diff; a notebook in another layout is refused rather than reformatted.
"""

import argparse
import json
import re
import sys
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

VERSION = re.compile(r"\d+\.\d+\.\d+")
PYPROJECT_VERSION = re.compile(r'^(version = ")([^"]+)(")', re.M)
PACKAGE_VERSION = re.compile(r'^(__version__ = ")([^"]+)(")', re.M)
CITATION_VERSION = re.compile(r'^(version: )"?([^"\s]+)"?', re.M)
CITATION_DATE = re.compile(r"^(date-released: )\S+", re.M)
# The Colab install of the notebooks' setup cell: "attncourse @ git+<url>@v<version>".
SETUP_PIN = re.compile(r'("attncourse @ git\+\S+?@v)([^"\s]+)(")')
CHANGELOG_SECTION = re.compile(r"^## \[(?P<version>[^\]]+)\](?:\s+-\s+(?P<date>\S+))?", re.M)
# The foot of the changelog: "[Unreleased]: <repository>/compare/v<last version>...HEAD".
UNRELEASED_LINK = re.compile(r"^(\[Unreleased\]: (\S+/compare/)v)(\S+?)(\.\.\.HEAD)[ \t]*$", re.M)


class ReleaseError(Exception):
    """The release cannot be made as asked; the message says why."""


def parse_version(text):
    if not VERSION.fullmatch(text):
        raise ReleaseError(f"a version is three numbers, MAJOR.MINOR.PATCH, such as 0.2.0; got {text!r}")
    return tuple(int(part) for part in text.split("."))


def dump_notebook(notebook):
    """A notebook's JSON as the course stores it: indent 1, non-ASCII kept, keys in their order, a final newline."""
    return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"


def changelog_sections(text):
    """{version: date or None} for every ``## [version] - date`` heading of a changelog."""
    return {m.group("version"): m.group("date") for m in CHANGELOG_SECTION.finditer(text)}


def replace_one(pattern, text, replacement, where):
    """``text`` with the single match of ``pattern`` replaced; an error unless exactly one."""
    found = len(pattern.findall(text))
    if found != 1:
        raise ReleaseError(f"{where}: expected one line matching {pattern.pattern!r}, found {found}")
    return pattern.sub(replacement, text)


def current_version(root):
    match = PYPROJECT_VERSION.search((root / "pyproject.toml").read_text(encoding="utf-8"))
    if not match:
        raise ReleaseError("pyproject.toml has no `version = \"...\"` line")
    return match.group(2)


def bump_notebook(path, new):
    """The notebook's new text, with its setup cell pinning ``v<new>``."""
    original = path.read_text(encoding="utf-8")
    notebook = json.loads(original)
    if dump_notebook(notebook) != original:
        raise ReleaseError(f"{path.name}: not stored as JSON with a one-space indent and a final newline; "
                           "save it from Jupyter (or strip its outputs) and try again")
    pins = 0
    for cell in notebook["cells"]:
        if cell["cell_type"] != "code":
            continue
        lines = cell["source"] if isinstance(cell["source"], list) else [cell["source"]]
        changed = []
        for line in lines:
            line, count = SETUP_PIN.subn(rf"\g<1>{new}\g<3>", line)
            pins += count
            changed.append(line)
        cell["source"] = changed if isinstance(cell["source"], list) else changed[0]
    if pins != 1:
        raise ReleaseError(f"{path.name}: expected one setup line installing "
                           f'"attncourse @ git+...@v<version>", found {pins}')
    return dump_notebook(notebook)


def plan(root, new):
    """{path: new text} of every file the release changes; raises ReleaseError instead."""
    old = current_version(root)
    if parse_version(new) <= parse_version(old):
        raise ReleaseError(f"the new version {new} must be above the current one, {old}")

    changelog = (root / "CHANGELOG.md").read_text(encoding="utf-8")
    sections = changelog_sections(changelog)
    if new not in sections:
        raise ReleaseError(
            f"CHANGELOG.md has no section for {new}: move the entries of `## [Unreleased]` into a new "
            f"`## [{new}] - YYYY-MM-DD` section (the release date) first")
    released = sections[new]
    try:
        date.fromisoformat(released or "")
    except ValueError:
        raise ReleaseError(f"CHANGELOG.md: give the section of {new} its release date, "
                           f"`## [{new}] - YYYY-MM-DD` (found {released!r})") from None

    changes = {}
    path = root / "pyproject.toml"
    changes[path] = replace_one(PYPROJECT_VERSION, path.read_text(encoding="utf-8"), rf"\g<1>{new}\g<3>", path.name)
    path = root / "attncourse" / "__init__.py"
    changes[path] = replace_one(PACKAGE_VERSION, path.read_text(encoding="utf-8"), rf"\g<1>{new}\g<3>",
                                "attncourse/__init__.py")
    path = root / "CITATION.cff"
    text = replace_one(CITATION_VERSION, path.read_text(encoding="utf-8"), rf'\g<1>"{new}"', path.name)
    changes[path] = replace_one(CITATION_DATE, text, rf'\g<1>"{released}"', path.name)

    notebooks = sorted((root / "notebooks").glob("*.ipynb"))
    if not notebooks:
        raise ReleaseError(f"no notebooks under {root / 'notebooks'}")
    for path in notebooks:
        changes[path] = bump_notebook(path, new)

    # The links at the foot of the changelog, when it has them: [Unreleased] compares from the
    # new tag, and the new version gets its own comparison with the previous tag.
    link = UNRELEASED_LINK.search(changelog)
    if link:
        compare = link.group(2)
        changelog = UNRELEASED_LINK.sub(rf"\g<1>{new}\g<4>", changelog, count=1)
        if not re.search(rf"^\[{re.escape(new)}\]: ", changelog, re.M):
            end = UNRELEASED_LINK.search(changelog).end()
            changelog = changelog[:end] + f"\n[{new}]: {compare}v{old}...v{new}" + changelog[end:]
        changes[root / "CHANGELOG.md"] = changelog
    return old, changes


def git_commands(root, new, changed):
    """The commands that commit the release (with the maintainer's CHANGELOG.md) and tag it."""
    files = {"CHANGELOG.md"} | {str(p.relative_to(root)) if p.parent.name != "notebooks" else "notebooks/*.ipynb"
                                for p in changed}
    files = sorted(files)
    return [
        f"git add {' '.join(files)}",
        f'git commit -m "Release {new}"',
        f'git tag -a v{new} -m "attncourse {new}"',
        f"git push origin main v{new}",
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("version", help="the new version, MAJOR.MINOR.PATCH (e.g. 0.2.0)")
    parser.add_argument("--root", type=Path, default=ROOT, help="the repository (default: this one)")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    try:
        parse_version(args.version)
        old, changes = plan(root, args.version)
    except ReleaseError as error:
        print(f"release: {error}", file=sys.stderr)
        return 1
    written = {path: text for path, text in changes.items() if path.read_text(encoding="utf-8") != text}
    for path, text in written.items():
        path.write_text(text, encoding="utf-8")
    print(f"Version {old} → {args.version} in {len(written)} files:")
    for path in written:
        print(f"  {path.relative_to(root)}")
    print("\nCheck the diff and run `make test`, then commit and tag the release:\n")
    for command in git_commands(root, args.version, written):
        print(f"  {command}")
    print(f"\nThe tag v{args.version} is what the notebooks' setup cells install on Colab; "
          "pushing it runs the publish workflow.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
