"""`make bench`: every benchmark in quick mode, then one table of their comparisons.

Each script in ``benchmarks/`` times two ways of doing one thing side by side in one process
(the machines are noisy, so only ratios taken together mean anything) and writes
``_build/bench/<script>.json``, whose ``"comparisons"`` list holds what it measured::

    {"comparisons": [{"name": "kv_cache_speedup_T80", "ratio": 4.2, "goal": ">= 3", "met": true}]}

This tool runs each script with ``--quick`` (its own output passes through, so progress is
visible), reads those lists back, and prints one table: benchmark, comparison, ratio, goal,
and whether the goal was met. A goal not met is reported, not an error: a benchmark measures,
the tests decide. The tool fails only when a benchmark itself fails or writes no comparisons.

    python tools/bench.py                    # every benchmarks/*.py, quick
    python tools/bench.py --full             # the full runs (minutes each)
    python tools/bench.py decoding layers    # some of them
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "benchmarks"
RESULTS = ROOT / "_build" / "bench"


def benchmark_names():
    return sorted(path.stem for path in BENCHMARKS.glob("*.py") if not path.name.startswith("_"))


def comparisons(name, results=None):
    """The ``comparisons`` a benchmark wrote, checked: each has a name, ratio, goal and met."""
    path = (results or RESULTS) / f"{name}.json"
    if not path.exists():
        raise ValueError(f"{name}: no {path}")
    rows = json.loads(path.read_text(encoding="utf-8")).get("comparisons")
    if not rows:
        raise ValueError(f"{name}: {path.name} has no comparisons")
    for row in rows:
        missing = {"name", "ratio", "goal", "met"} - set(row)
        if missing:
            raise ValueError(f"{name}: comparison {row.get('name', '?')!r} lacks {sorted(missing)}")
    return rows


def table(rows_by_benchmark):
    """The printed table: one line per comparison, grouped by benchmark."""
    lines = [f"{'benchmark':<16} {'comparison':<42} {'ratio':>8}  {'goal':<8} met",
             "-" * 82]
    for name, rows in rows_by_benchmark.items():
        for row in rows:
            ratio = "n/a" if row["ratio"] is None else f"{row['ratio']:.2f}"
            lines.append(f"{name:<16} {row['name']:<42} {ratio:>8}  {row['goal']:<8} "
                         f"{'yes' if row['met'] else 'NO'}")
    met = sum(row["met"] for rows in rows_by_benchmark.values() for row in rows)
    total = sum(len(rows) for rows in rows_by_benchmark.values())
    lines.append(f"{met} of {total} goals met")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default: all of {benchmark_names()})")
    parser.add_argument("--full", action="store_true", help="full runs instead of --quick")
    args = parser.parse_args(argv)
    names = args.names or benchmark_names()
    unknown = sorted(set(names) - set(benchmark_names()))
    if unknown:
        parser.error(f"no benchmark named {unknown}; there are {benchmark_names()}")

    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3")}
    failed = []
    for name in names:
        print(f"== benchmarks/{name}.py{'' if args.full else ' --quick'}", flush=True)
        start = time.perf_counter()
        command = [sys.executable, str(BENCHMARKS / f"{name}.py")] + ([] if args.full else ["--quick"])
        if subprocess.run(command, cwd=ROOT, env=environment).returncode:
            failed.append(name)
        print(f"== {name}: {time.perf_counter() - start:.0f} s", flush=True)

    rows_by_benchmark = {}
    for name in names:
        if name in failed:
            continue
        try:
            rows_by_benchmark[name] = comparisons(name)
        except ValueError as error:
            print(error, file=sys.stderr)
            failed.append(name)
    print()
    print(table(rows_by_benchmark))
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
