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
    entry = claims.record("3.long", np.float32(0.125), paper="bahdanau2015", holds=np.bool_(True),
                          detail="long minus short bucket")
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "3.long" in out and "0.125" in out and "bahdanau2015" in out
    [saved] = read(claims_file)
    assert saved == entry
    assert saved["value"] == 0.125 and saved["holds"] is True and saved["profile"] == "ci"
    assert set(saved) >= {"id", "value", "paper", "holds", "profile", "seed", "time"}


def test_a_failing_claim_raises_with_value_and_paper(claims_file):
    with pytest.raises(claims.ClaimNotReproduced, match=r"0\.42.*|bahdanau2015") as info:
        claims.record("3.align", 0.42, paper="bahdanau2015", holds=False)
    assert "0.42" in str(info.value) and "bahdanau2015" in str(info.value)
    assert read(claims_file)[0]["holds"] is False  # recorded before raising


def test_seed_is_recorded(claims_file):
    import attncourse

    attncourse.seed(5)
    assert claims.record("x", 1, paper="p", holds=True)["seed"] == 5


@pytest.mark.parametrize("kwargs,match", [
    (dict(claim_id="", value=1.0, paper="p", holds=True), "claim_id"),
    (dict(claim_id="a", value=1.0, paper="", holds=True), "paper"),
    (dict(claim_id="a", value=1.0, paper="p", holds="yes"), "holds"),
    (dict(claim_id="a", value=float("nan"), paper="p", holds=True), "finite"),
])
def test_bad_arguments_are_clear_errors(claims_file, kwargs, match):
    with pytest.raises(ValueError, match=match):
        claims.record(kwargs.pop("claim_id"), kwargs.pop("value"), **kwargs)
    assert not claims_file.exists()


def test_structured_values_are_stored(claims_file):
    claims.record("table", {"global": np.float64(0.3), "local": [0.2, 0.1]}, paper="luong2015", holds=True)
    assert read(claims_file)[0]["value"] == {"global": 0.3, "local": [0.2, 0.1]}


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
        claims.record(f"w{worker}.{i}", i, paper="concurrency", holds=True, detail=detail)


def test_concurrent_appends_neither_interleave_nor_lose_lines(claims_file):
    workers, count = 4, 60
    context = multiprocessing.get_context("spawn")
    with context.Pool(workers) as pool:
        pool.map(_writer, [(str(claims_file), w, count) for w in range(workers)])
    lines = claims_file.read_text().splitlines()
    assert len(lines) == workers * count
    ids = {json.loads(line)["id"] for line in lines}  # every line parses: nothing interleaved
    assert ids == {f"w{w}.{i}" for w in range(workers) for i in range(count)}
