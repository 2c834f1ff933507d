"""Write the table of book/exercises.md from the exercise registry (``make exercises-page``).

    python tools/exercises_page.py          # rewrite the table
    python tools/exercises_page.py --check  # exit 1 if the page is out of date

The table lists, chapter by chapter, every exercise registered in :mod:`attncourse.exercises`
with its id (a link to the exercise in its chapter), its title and the cases its check runs; a
test regenerates it and fails when the page is out of date. Each exercise's heading in its
notebook carries the label that :func:`label` names.
"""

import sys
from pathlib import Path

from attncourse import exercises

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "book" / "exercises.md"
START, END = "<!-- generated: exercises table -->", "<!-- end of the generated table -->"


def chapters():
    """{"3": "notebooks/03_bahdanau", ...} from the notebooks' names."""
    return {str(int(path.name[:2])): f"notebooks/{path.stem}" for path in sorted((ROOT / "notebooks").glob("*.ipynb"))}


def label(exercise_id):
    """The MyST label of an exercise's heading in its notebook: ``"3.2"`` -> ``"exercise-3-2"``."""
    return "exercise-" + exercise_id.replace(".", "-")


def index_table(chapters):
    """The exercises index of the book, in Markdown: one table per chapter.

    Args:
        chapters: maps a chapter number (``"3"``) to its notebook's toc path, e.g.
            ``{"3": "notebooks/03_bahdanau"}``.

    Returns:
        Markdown: for each chapter a heading that links to it, then a row per exercise
        with its id (the first argument of ``exercises.check``, linked to the exercise in
        its chapter), its title and its cases.

    Raises:
        KeyError: an exercise belongs to a chapter that ``chapters`` lacks.
    """
    parts, current = [], None
    for exercise in exercises.registered():
        chapter = exercise.id.split(".")[0]
        if chapter not in chapters:
            raise KeyError(f"exercise {exercise.id} belongs to chapter {chapter}, which has no notebook")
        if chapter != current:
            current = chapter
            parts += [f"\n## Chapter {chapter}\n", f"In {{doc}}`../{chapters[chapter]}`:\n",
                      "| Exercise | Check | What it asks | Cases the check runs |", "|---|---|---|---|"]
        cases = "; ".join(case.description for case in exercise.make_cases()).replace("|", r"\|")
        title = exercise.title.replace("|", r"\|")
        parts.append(f'| {{ref}}`{exercise.id} <{label(exercise.id)}>` | `check("{exercise.id}", fn)` | {title} | {cases} |')
    return "\n".join(parts).lstrip("\n") + "\n"


def expected_page():
    text = PAGE.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise SystemExit(f"{PAGE} lost its markers {START!r} and {END!r}")
    before, rest = text.split(START, 1)
    after = rest.split(END, 1)[1]
    return f"{before}{START}\n\n{index_table(chapters())}\n{END}{after}"


def main(argv):
    page = expected_page()
    if "--check" in argv:
        if page != PAGE.read_text(encoding="utf-8"):
            print(f"{PAGE.relative_to(ROOT)} is out of date: run `make exercises-page`")
            return 1
        return 0
    PAGE.write_text(page, encoding="utf-8")
    print(f"wrote {PAGE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
