"""Write the table of book/exercises.md from the exercise registry (``make exercises-page``).

    python tests/exercises_page.py          # rewrite the table
    python tests/exercises_page.py --check  # exit 1 if the page is out of date
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "book" / "exercises.md"
START, END = "<!-- generated: exercises table -->", "<!-- end of the generated table -->"


def chapters():
    """{"3": "notebooks/03_bahdanau", ...} from the notebooks' names."""
    return {str(int(path.name[:2])): f"notebooks/{path.stem}" for path in sorted((ROOT / "notebooks").glob("*.ipynb"))}


def expected_page():
    from attncourse import exercises

    text = PAGE.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise SystemExit(f"{PAGE} lost its markers {START!r} and {END!r}")
    before, rest = text.split(START, 1)
    after = rest.split(END, 1)[1]
    return f"{before}{START}\n\n{exercises.index_table(chapters())}\n{END}{after}"


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
