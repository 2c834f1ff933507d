"""The Makefile explains itself: `make help` lists every target with what it does."""

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAKEFILE = (ROOT / "Makefile").read_text(encoding="utf-8")
# A rule's first line: a lower-case target name, a colon, not an assignment (`X := ...`).
RULE = re.compile(r"^([a-z][a-z-]*):(?!=)(.*)$", re.MULTILINE)


def targets():
    return {match.group(1): match.group(2) for match in RULE.finditer(MAKEFILE)}


def phony():
    declared = re.search(r"^\.PHONY:((?:.*\\\n)*.*)$", MAKEFILE, re.MULTILINE).group(1)
    return set(declared.replace("\\\n", " ").split())


def test_every_target_says_what_it_does():
    undocumented = [name for name, rest in targets().items() if "## " not in rest]
    assert not undocumented, f"targets without a `## what it does`: {undocumented}"


def test_every_target_is_phony_and_every_phony_name_is_a_target():
    assert phony() == set(targets())


def test_make_help_lists_every_target_with_its_text():
    listed = subprocess.run(["make", "--no-print-directory", "help"], cwd=ROOT, capture_output=True,
                            text=True, check=True).stdout
    for name, rest in targets().items():
        text = rest.split("## ", 1)[1].strip()
        assert re.search(rf"^  make {re.escape(name)} +{re.escape(text)}$", listed, re.MULTILINE), name


def test_no_two_targets_differ_only_in_word_order():
    by_words = {}
    for name in targets():
        by_words.setdefault(frozenset(name.split("-")), []).append(name)
    assert [names for names in by_words.values() if len(names) > 1] == []


def test_make_test_runs_the_same_steps_whatever_is_installed():
    # No `if command -v ...` in the recipe: a missing browser is installed, never skipped.
    recipe = re.search(r"^test:.*\n((?:\t.*\n)+)", MAKEFILE, re.MULTILINE).group(1)
    assert "if " not in recipe and "command -v" not in recipe
    steps = re.findall(r"\$\(MAKE\) --no-print-directory ([a-z-]+)", recipe)
    assert steps == ["lint-workflows", "unit", "browser-check", "notebooks"]
