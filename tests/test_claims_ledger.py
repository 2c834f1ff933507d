"""The claims ledger: the book's extension and the sweep summary read the same claims file."""

import sys
from pathlib import Path

import pytest
import yaml

from attncourse import claims

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))
sys.path.insert(0, str(ROOT / "tools"))

import claims_ledger  # noqa: E402
import claims_table  # noqa: E402


@pytest.fixture
def claims_file(tmp_path, monkeypatch):
    path = tmp_path / "claims.jsonl"
    monkeypatch.setenv("ATTNCOURSE_CLAIMS", str(path))
    return path


def run(monkeypatch, profile_name, seed, *args, **kwargs):
    monkeypatch.setenv("ATTNCOURSE_PROFILE", profile_name)
    monkeypatch.setenv("ATTNCOURSE_SEED", str(seed))
    import attncourse

    attncourse.seed()
    try:
        claims.record(*args, **kwargs)
    except AssertionError:
        pass


def test_ledger_rows_give_paper_where_value_null_threshold_margin_and_run(claims_file, monkeypatch):
    run(monkeypatch, "cpu", 3, "3.aer", 0.1, null=0.6, paper="bahdanau2015", where="Figure 3", at_most=0.25)
    run(monkeypatch, "cpu", 3, "5.length", 0.9, null={"uniform": 0.2, "soft": 0.5}, paper=claims.COURSE,
        where="§5.4", at_least=0.8)
    rows = claims_ledger.ledger_rows(claims.latest(claims.read_claims(claims_file), "cpu"))
    assert rows == [
        ("3.aer", ["bahdanau2015", "Figure 3", "0.1", "0.6", "≤ 0.25", "+0.15", "cpu, 3"]),
        ("5.length", ["the course's own finding", "§5.4", "0.9", "uniform 0.2; soft 0.5", "≥ 0.8", "+0.1", "cpu, 3"]),
    ]


def test_the_ledger_page_is_in_the_toc_and_its_extension_is_loaded():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["sphinx"]["local_extensions"]["claims_ledger"] == "book/_ext"
    assert "book/claims_ledger" in (ROOT / "_toc.yml").read_text()
    assert "{claims-ledger}" in (ROOT / "book" / "claims_ledger.md").read_text()


def test_the_sweep_table_summarises_each_claim_over_seeds(claims_file, monkeypatch, capsys):
    for seed, value in enumerate((0.8, 0.9, 0.7)):
        run(monkeypatch, "ci", seed, "1.finds", value, null={"ink": 0.5, "uniform": 0.1}, paper="mnih2014",
            where="§4", at_least=0.75)
    run(monkeypatch, "ci", 0, "7.window", 0.2, null=0.0, paper="daniluk2017", where="Fig. 2", at_least=0.5,
        expected=False)
    [finds, window] = claims_table.rows(claims.read_claims(claims_file))
    assert finds["seeds"] == [0, 1, 2] and finds["value"] == (0.7, 0.9) and finds["null"] == (0.5, 0.5)
    assert finds["margin"] == pytest.approx(-0.05) and (finds["as_expected"], finds["runs"]) == (2, 3)
    assert window["expected"] is False and window["as_expected"] == 1
    assert claims_table.main([str(claims_file), "--markdown"]) == 2  # one run left its expected state
    out = capsys.readouterr().out
    assert "| 1.finds | ci | 0–2 | holds | 0.7 – 0.9 | 0.5 | ≥ 0.75 | -0.05 | 2/3 |" in out
    assert "not reproduced" in out
