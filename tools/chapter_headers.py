"""Write the "Before you start" header of every chapter (``make chapter-headers``).

    python tools/chapter_headers.py          # rewrite the headers in notebooks/*.ipynb
    python tools/chapter_headers.py --check  # exit 1 if a header is missing or out of date
    python tools/chapter_headers.py --times LOG  # each notebook's seconds in a pytest log

The header is the notebook's second cell, a MyST admonition (made plain Markdown in the Colab
copies) that says which chapters to read first, how long the chapter takes to read, how long it
takes to run in each profile, and what the reader builds. The reading time is computed from the
chapter's prose; the run times are measurements, kept in ``RUN_TIMES`` below with how they were
taken, and updated when a chapter's training changes.
"""

import argparse
import json
import math
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEADER_ID = "chapter-header"
# Prose with equations and code beside it reads slower than a novel: 150 words a minute.
WORDS_PER_MINUTE = 150

# What each chapter needs first, and what the reader builds in it.
CHAPTERS = {
    "01_painting": ((), "a softmax and a temperature in NumPy, then a CNN whose attention pooling "
                        "finds a digit in clutter with no location labels, and a hard glimpse sampled "
                        "from it"),
    "02_encoder_decoder": ((1,), "the data pipeline of every translation chapter (padding, teacher "
                                 "forcing, a loss that ignores padding) and a GRU encoder–decoder, "
                                 "measured sentence length by sentence length"),
    "03_bahdanau": ((1, 2), "additive attention and a masked softmax in NumPy, the Keras layer, a "
                            "translator with attention, and the alignment error rate of its weights"),
    "04_luong": ((3,), "the dot, general and concat scores, scaled dot-product attention, local-m "
                       "and local-p attention, each trained and scored against the true alignment"),
    "05_hard_and_monotonic": ((1, 3), "a REINFORCE gradient, a hard-attention translator and glimpse "
                                      "classifier, and monotonic attention's expected alignment and "
                                      "hard walk"),
    "06_static_and_self": ((3, 4), "static attention pooling, Lin et al.'s multi-hop self-attention "
                                   "with its penalty, and scaled dot-product self-attention"),
    "07_key_value": ((3, 6), "causal key-value(-predict) attention over a language model's past, "
                             "the N-gram RNN, and perplexity"),
    "08_han": ((6,), "HAN's word and sentence attention, the seed note's layer taken apart and "
                     "retrained, and HAN against pooling baselines"),
    "09_transformers": ((4, 6, 7), "multi-head attention, the encoder and decoder blocks and a "
                                   "key-value cache, then a tiny Transformer raced against the RNN"),
    "10_real_data": ((3, 8, 9), "readers for real sentence pairs and reviews, and the chapters' "
                                "models trained on them"),
    "11_scaling_out": ((9,), "a data-parallel training run with tf.distribute, checked against a "
                             "single-device run"),
}

# Seconds to run each notebook top to bottom under nbval (`make notebooks`, and the same with
# ATTNCOURSE_PROFILE=cpu), on 2 CPU cores with nothing else running: the sum of the cells'
# durations that pytest --durations=0 prints (`python tools/chapter_headers.py --times LOG`
# sums them from a log). None: not measured yet. The ci times come from `bash .ci/run` on a
# fresh clone, the cpu times from nbval runs of every notebook, one after another, with
# ATTNCOURSE_PROFILE=cpu and nothing else running.
RUN_TIMES = {
    "01_painting": {"ci": 46.2, "cpu": 91.6, "gpu": None},
    "02_encoder_decoder": {"ci": 56.4, "cpu": 122.3, "gpu": None},
    "03_bahdanau": {"ci": 44.0, "cpu": 72.6, "gpu": None},
    "04_luong": {"ci": 66.6, "cpu": 102.1, "gpu": None},
    "05_hard_and_monotonic": {"ci": 70.4, "cpu": 94.8, "gpu": None},
    "06_static_and_self": {"ci": 24.2, "cpu": 34.8, "gpu": None},
    "07_key_value": {"ci": 70.4, "cpu": 82.1, "gpu": None},
    "08_han": {"ci": 38.1, "cpu": 52.2, "gpu": None},
    "09_transformers": {"ci": 55.1, "cpu": 70.5, "gpu": None},
    "10_real_data": {"ci": 24.8, "cpu": 27.8, "gpu": None},
    "11_scaling_out": {"ci": 31.1, "cpu": 44.6, "gpu": None},
}
PROFILE_PLACES = {"ci": "on 2 CPU cores", "cpu": "on 2 CPU cores", "gpu": "on one GPU"}


def chapter_name(number):
    """The title a chapter number links to: "chapter 3", or "appendix A" for 10 and 11."""
    return f"appendix {chr(ord('A') + number - 10)}" if number >= 10 else f"chapter {number}"


def prose_words(notebook):
    """The words of a notebook's Markdown cells, its header left out."""
    return sum(len(re.findall(r"\S+", "".join(cell["source"])))
               for cell in notebook["cells"]
               if cell["cell_type"] == "markdown" and cell.get("id") != HEADER_ID)


def _duration(seconds):
    if seconds < 90:
        return f"about {5 * max(1, round(seconds / 5))} s"
    return f"about {max(2, round(seconds / 60))} min"


def header_text(stem, notebook):
    """The header's Markdown for the notebook ``notebooks/{stem}.ipynb``."""
    prerequisites, builds = CHAPTERS[stem]
    stems = sorted(CHAPTERS)
    if prerequisites:
        links = [f"{{doc}}`{chapter_name(n)} <{stems[n - 1]}>`" for n in prerequisites]
        needs = ", ".join(links[:-1]) + (" and " if len(links) > 1 else "") + links[-1]
    else:
        needs = "Python, NumPy and the softmax; nothing from the other chapters"
    minutes = max(5, 5 * math.ceil(prose_words(notebook) / WORDS_PER_MINUTE / 5))
    runs = [f"`{profile}` {_duration(seconds)} {PROFILE_PLACES[profile]}"
            for profile, seconds in RUN_TIMES[stem].items() if seconds is not None]
    missing = [f"`{profile}`" for profile, seconds in RUN_TIMES[stem].items() if seconds is None]
    run_line = "; ".join(runs)
    if missing:
        names = ", ".join(missing[:-1]) + (" and " if len(missing) > 1 else "") + missing[-1]
        run_line += ("; " if runs else "") + names + " not measured yet"
    return "\n".join([
        ":::{admonition} Before you start",
        ":class: tip",
        f"- **Read first:** {needs}.",
        f"- **Reading time:** about {minutes} minutes.",
        f"- **Run time**, top to bottom: {run_line}.",
        f"- **You will build:** {builds}.",
        ":::",
    ])


def _as_source(text):
    lines = text.split("\n")
    return [line + "\n" for line in lines[:-1]] + [lines[-1]]


def updated(stem, notebook):
    """The notebook with its header cell written (inserted after the title cell if missing)."""
    cells = notebook["cells"]
    cell = {"cell_type": "markdown", "id": HEADER_ID, "metadata": {}, "source": _as_source(header_text(stem, notebook))}
    index = next((i for i, c in enumerate(cells) if c.get("id") == HEADER_ID), None)
    if index is None:
        cells.insert(1, cell)
    else:
        cells[index] = cell
    return notebook


def durations(log_text):
    """Seconds per notebook stem, summed over the cells' durations in a pytest --durations=0 log."""
    seconds = {}
    for match in re.finditer(r"^\s*([0-9.]+)s (?:call|setup|teardown)\s+\S*?([0-9]{2}_\w+)\.ipynb::", log_text, re.M):
        seconds[match.group(2)] = seconds.get(match.group(2), 0.0) + float(match.group(1))
    return seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a header is missing or out of date")
    parser.add_argument("--times", metavar="LOG", help="print each notebook's seconds from a pytest --durations=0 log")
    args = parser.parse_args(argv)
    if args.times:
        for stem, seconds in sorted(durations(Path(args.times).read_text(encoding="utf-8")).items()):
            print(f"{stem:<24} {seconds:7.1f} s")
        return 0
    stale = []
    for stem in sorted(CHAPTERS):
        path = ROOT / "notebooks" / f"{stem}.ipynb"
        text = path.read_text(encoding="utf-8")
        new_text = json.dumps(updated(stem, json.loads(text)), indent=1, ensure_ascii=False) + "\n"
        if new_text != text:
            stale.append(path.name)
            if not args.check:
                path.write_text(new_text, encoding="utf-8")
    if args.check and stale:
        print("out of date: " + ", ".join(stale) + " (run `make chapter-headers`)")
        return 1
    print(("rewrote " if stale else "up to date: ") + (", ".join(stale) if stale else f"{len(CHAPTERS)} headers"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
