import json
import multiprocessing

import numpy as np
import pytest

from attncourse import claims


@pytest.fixture
def claims_file(tmp_path, monkeypatch):
    path = tmp_path / "out" / "claims.jsonl"
    monkeypatch.setenv("ATTNCOURSE_CLAIMS", str(path))
    monkeypatch.setenv("ATTNCOURSE_PROFILE", "ci")
    return path


def read(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_holding_claim_prints_one_line_and_appends_json(claims_file, capsys):
    entry = claims.record("3.long", np.float32(0.125), null=np.float64(0.01), paper="bahdanau2015",
                          where="§5.2, Figure 2", at_least=0.05, detail="long minus short bucket")
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    for text in ("3.long", "0.125", "bahdanau2015", "§5.2, Figure 2", "0.01", "≥ 0.05", "margin +0.075"):
        assert text in out
    [saved] = read(claims_file)
    assert saved == entry
    assert saved["value"] == 0.125 and saved["holds"] is True and saved["expected"] is True
    assert saved["null"] == 0.01 and saved["threshold"] == {"at_least": 0.05}
    assert saved["margin"] == pytest.approx(0.075) and saved["null_margin"] == pytest.approx(-0.04)
    assert set(saved) >= {"id", "paper", "where", "value", "null", "holds", "expected", "profile", "seed", "time"}


def test_at_most_claims_measure_the_margin_downwards(claims_file):
    entry = claims.record("3.aer", 0.1, null=0.6, paper="bahdanau2015", where="Figure 3", at_most=0.25)
    assert entry["holds"] is True and entry["margin"] == pytest.approx(0.15)
    assert entry["null_margin"] == pytest.approx(-0.35)


def test_a_failing_claim_raises_with_value_and_paper(claims_file):
    with pytest.raises(claims.ClaimNotReproduced) as info:
        claims.record("3.align", 0.42, null=0.6, paper="bahdanau2015", where="§5", at_most=0.25)
    assert "0.42" in str(info.value) and "bahdanau2015" in str(info.value)
    assert read(claims_file)[0]["holds"] is False  # recorded before raising


@pytest.mark.parametrize("null", [0.3, {"uniform": 0.1, "ink": 0.31}])
def test_a_claim_whose_null_passes_cannot_fail_and_raises(claims_file, null):
    # The trained value passes, but so does the null: the claim would hold whatever was learned.
    with pytest.raises(claims.ClaimCannotFail, match="null passes"):
        claims.record("1.finds", 0.5, null=null, paper="mnih2014", where="§4", at_least=0.3)
    assert read(claims_file)[0]["null_margin"] >= 0


def test_the_null_is_checked_even_when_the_claim_fails(claims_file):
    with pytest.raises(claims.ClaimCannotFail):
        claims.record("1.finds", 0.1, null=0.9, paper="mnih2014", where="§4", at_least=0.3)


def test_a_kept_non_reproduction_passes_while_it_fails_and_raises_when_it_holds(claims_file, capsys):
    entry = claims.record("7.window", 0.2, null=0.0, paper="daniluk2017", where="Figure 2", at_least=0.5,
                          expected=False)
    assert entry["holds"] is False and entry["expected"] is False
    assert "not reproduced, as expected" in capsys.readouterr().out
    with pytest.raises(claims.ClaimChangedState, match="now holds") as info:
        claims.record("7.window", 0.7, null=0.0, paper="daniluk2017", where="Figure 2", at_least=0.5,
                      expected=False)
    assert not isinstance(info.value, claims.ClaimNotReproduced)


def test_several_nulls_are_stored_and_the_strongest_gives_the_null_margin(claims_file):
    entry = claims.record("1.finds", 2.0, null={"uniform": 1.0, "ink": 1.5}, paper="mnih2014", where="§4",
                          at_least=1.8, measured={"per_seed": np.array([2.0, 2.1])})
    assert entry["null"] == {"uniform": 1.0, "ink": 1.5}
    assert entry["null_margin"] == pytest.approx(-0.3)
    assert entry["measured"] == {"per_seed": [2.0, 2.1]}


def test_the_course_can_claim_a_finding_of_its_own(claims_file):
    assert claims.record("5.length", 0.9, null=0.5, paper=claims.COURSE, where="§5.4", at_least=0.8)["paper"] == "course"


def test_seed_is_recorded(claims_file):
    import attncourse

    attncourse.seed(5)
    assert claims.record("x", 1, null=0, paper="p", where="§1", at_least=0.5)["seed"] == 5


GOOD = dict(claim_id="a", value=1.0, null=0.0, paper="p", where="§1", at_least=0.5)


@pytest.mark.parametrize("change,match", [
    (dict(claim_id=""), "claim_id"),
    (dict(paper=""), "paper"),
    (dict(where=" "), "where"),
    (dict(at_most=0.5), "exactly one threshold"),
    (dict(at_least=None), "exactly one threshold"),
    (dict(expected="yes"), "expected"),
    (dict(value=float("nan")), "finite"),
    (dict(value=[1.0, 2.0]), "one real number"),
    (dict(value=True), "one real number"),
    (dict(null=float("inf")), "finite"),
    (dict(null={}), "at least one null"),
    (dict(at_least="0.5"), "one real number"),
])
def test_bad_arguments_are_clear_errors(claims_file, change, match):
    kwargs = {**GOOD, **change}
    with pytest.raises(ValueError, match=match):
        claims.record(kwargs.pop("claim_id"), kwargs.pop("value"), **kwargs)
    assert not claims_file.exists()


def test_read_claims_and_latest_keep_the_last_entry_of_each_claim_in_chapter_order(claims_file):
    claims_file.parent.mkdir(parents=True)
    claims_file.write_text('{"id": "old", "value": 1, "paper": "p", "holds": true}\n')  # an old-format line
    for claim_id, value in (("10.a", 1.0), ("2.b", 1.0), ("2.b", 2.0), ("1.c", 3.0)):
        claims.record(claim_id, value, null=0.0, paper="p", where="§1", at_least=0.5)
    entries = claims.read_claims(claims_file)
    assert len(entries) == 4
    assert [(e["id"], e["value"]) for e in claims.latest(entries)] == [("1.c", 3.0), ("2.b", 2.0), ("10.a", 1.0)]
    assert claims.latest(entries, "cpu") == []
    assert claims.read_claims(claims_file.parent / "missing.jsonl") == []


def test_default_path_is_under_the_book_root(tmp_path, monkeypatch):
    monkeypatch.delenv("ATTNCOURSE_CLAIMS", raising=False)
    (tmp_path / "_toc.yml").write_text("root: intro\n")
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")
    assert claims.claims_path() == tmp_path.resolve() / "_build" / "claims.jsonl"


def _writer(args):
    path, worker, count = args
    import os

    os.environ["ATTNCOURSE_CLAIMS"] = path
    os.environ["ATTNCOURSE_PROFILE"] = "ci"
    detail = "x" * 3000  # long lines make interleaving likely if writes were not atomic
    for i in range(count):
        claims.record(f"w{worker}.{i}", i, null=-1, paper="concurrency", where="§1", at_least=0, detail=detail)


def test_concurrent_appends_neither_interleave_nor_lose_lines(claims_file):
    workers, count = 4, 60
    context = multiprocessing.get_context("spawn")
    with context.Pool(workers) as pool:
        pool.map(_writer, [(str(claims_file), w, count) for w in range(workers)])
    lines = claims_file.read_text().splitlines()
    assert len(lines) == workers * count
    ids = {json.loads(line)["id"] for line in lines}  # every line parses: nothing interleaved
    assert ids == {f"w{w}.{i}" for w in range(workers) for i in range(count)}
