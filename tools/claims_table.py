"""Summarise claims files over seeds: one row per claim and profile.

    python tools/claims_table.py _build/sweep/ci.jsonl [more.jsonl ...] [--markdown]

For each claim id and profile it prints the seeds seen, the range of the measured value, the
range of the strongest null, the threshold, the smallest margin and how many runs ended in
the expected state. ``make claims-sweep`` writes the files this reads.
"""

import argparse
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from attncourse.claims import chapter_order, read_claims  # noqa: E402


def _strongest_null(entry):
    null = entry["null"]
    if not isinstance(null, dict):
        return null
    sign = 1.0 if "at_least" in entry["threshold"] else -1.0
    return max(null.values(), key=lambda v: sign * v)


def rows(entries):
    """One summary dict per (claim id, profile), in chapter order."""
    groups = defaultdict(list)
    for entry in entries:
        groups[(entry["id"], entry["profile"])].append(entry)
    summary = []
    for (claim_id, profile_name), runs in sorted(groups.items(), key=lambda item: (chapter_order(item[0][0]), item[0][1])):
        values = [run["value"] for run in runs]
        nulls = [_strongest_null(run) for run in runs]
        (kind, threshold), = runs[-1]["threshold"].items()
        summary.append({
            "id": claim_id,
            "profile": profile_name,
            "paper": runs[-1]["paper"],
            "where": runs[-1]["where"],
            "seeds": sorted({run["seed"] for run in runs}),
            "value": (min(values), max(values)),
            "null": (min(nulls), max(nulls)),
            "threshold": ("≥ " if kind == "at_least" else "≤ ") + f"{threshold:.4g}",
            # The run closest to leaving the expected state: the smallest margin of a claim
            # that should hold, the largest (least negative) of one kept as not reproduced.
            "margin": (min if runs[-1]["expected"] else max)(run["margin"] for run in runs),
            "expected": runs[-1]["expected"],
            "as_expected": sum(run["holds"] == run["expected"] for run in runs),
            "runs": len(runs),
        })
    return summary


def _span(pair):
    low, high = pair
    return f"{low:.4g}" if low == high else f"{low:.4g} – {high:.4g}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args(argv)
    entries = [entry for path in args.files for entry in read_claims(path)]
    if not entries:
        print("no claims in " + ", ".join(map(str, args.files)))
        return 1
    header = ["claim", "profile", "seeds", "expected", "value", "null", "threshold", "closest margin", "as expected"]
    summary = rows(entries)
    table = []
    for row in summary:
        seeds = row["seeds"]
        seed_text = f"{seeds[0]}–{seeds[-1]}" if seeds == list(range(seeds[0], seeds[-1] + 1)) and len(seeds) > 1 else ",".join(map(str, seeds))
        table.append([row["id"], row["profile"], seed_text, "holds" if row["expected"] else "not reproduced",
                      _span(row["value"]), _span(row["null"]), row["threshold"], f"{row['margin']:+.4g}",
                      f"{row['as_expected']}/{row['runs']}"])
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for line in table:
            print("| " + " | ".join(line) + " |")
    else:
        widths = [max(len(str(x)) for x in column) for column in zip(header, *table)]
        for line in [header, *table]:
            print("  ".join(str(x).ljust(w) for x, w in zip(line, widths)))
    return 0 if all(row["as_expected"] == row["runs"] for row in summary) else 2


if __name__ == "__main__":
    sys.exit(main())
