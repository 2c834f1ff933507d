"""tools/bench.py: runs the benchmarks and tabulates what each compared."""

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("bench", ROOT / "tools" / "bench.py")
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)

FAKE = '''
import json, sys
from pathlib import Path
quick = "--quick" in sys.argv
out = Path(__file__).resolve().parent / "results" / (Path(__file__).stem + ".json")
out.parent.mkdir(exist_ok=True)
out.write_text(json.dumps({"comparisons": [
    {"name": "speedup", "ratio": 4.0 if quick else 5.0, "goal": ">= 3", "met": True},
    {"name": "memory", "ratio": 2.0, "goal": ">= 10", "met": False}]}))
'''


@pytest.fixture
def fake_benchmarks(tmp_path, monkeypatch):
    (tmp_path / "fast.py").write_text(FAKE)
    (tmp_path / "broken.py").write_text("raise SystemExit(3)\n")
    (tmp_path / "silent.py").write_text("print('measured nothing')\n")
    monkeypatch.setattr(bench, "BENCHMARKS", tmp_path)
    monkeypatch.setattr(bench, "RESULTS", tmp_path / "results")
    return tmp_path


def test_every_benchmark_script_is_found():
    assert {"layers", "teacher_forcing"} <= set(bench.benchmark_names())


def test_the_table_says_each_ratio_its_goal_and_whether_it_was_met(fake_benchmarks, capsys):
    assert bench.main(["fast"]) == 0
    printed = capsys.readouterr().out
    assert "== benchmarks/fast.py --quick" in printed
    assert "fast             speedup" in printed and "4.00  >= 3     yes" in printed
    assert "2.00  >= 10    NO" in printed
    assert printed.rstrip().endswith("1 of 2 goals met")


def test_full_runs_without_quick(fake_benchmarks, capsys):
    assert bench.main(["--full", "fast"]) == 0
    assert "5.00" in capsys.readouterr().out


def test_a_failing_or_silent_benchmark_fails_the_run_after_the_others(fake_benchmarks, capsys):
    assert bench.main([]) == 1
    captured = capsys.readouterr()
    assert "failed: broken, silent" in captured.err
    assert "silent: no" in captured.err
    assert "1 of 2 goals met" in captured.out  # the good benchmark still reported


def test_an_unknown_benchmark_is_refused_with_the_known_ones(fake_benchmarks, capsys):
    with pytest.raises(SystemExit):
        bench.main(["nonesuch"])
    assert "['broken', 'fast', 'silent']" in capsys.readouterr().err


def test_a_comparison_without_its_goal_is_an_error(tmp_path):
    (tmp_path / "x.json").write_text(json.dumps({"comparisons": [{"name": "a", "ratio": 1.0, "met": True}]}))
    with pytest.raises(ValueError, match="lacks \\['goal'\\]"):
        bench.comparisons("x", results=tmp_path)


def test_a_comparison_that_could_not_run_shows_no_ratio():
    text = bench.table({"key_value": [{"name": "dense_T2048", "ratio": None, "goal": ">= 10", "met": False}]})
    assert "n/a" in text and "0 of 1 goals met" in text


def test_the_readme_lists_every_benchmark():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert [name for name in bench.benchmark_names() if f"`benchmarks/{name}.py`" not in readme] == []
