import numpy as np
import pytest

from attncourse import exercises, reference

SOLUTIONS = {
    "1.1": lambda scores: reference.masked_softmax(scores),
    "3.1": reference.additive_score,
    "3.2": reference.context,
    "3.3": reference.masked_softmax,
    "4.1": reference.scaled_dot_score,
}


def test_every_registered_exercise_has_a_solution_here():
    assert set(exercises.EXERCISES) == set(SOLUTIONS)


@pytest.mark.parametrize("exercise_id", sorted(SOLUTIONS))
def test_a_right_solution_gets_a_tick(exercise_id, capsys):
    assert exercises.check(exercise_id, SOLUTIONS[exercise_id], strict=True) is True
    assert capsys.readouterr().out.startswith("✓")


def ellipsis_stub(*args):
    ...


def raising_stub(*args):
    raise NotImplementedError


@pytest.mark.parametrize("stub", [ellipsis_stub, raising_stub])
def test_a_stub_gets_a_hint_and_never_raises(stub, capsys):
    assert exercises.check("3.1", stub) is False
    out = capsys.readouterr().out
    assert out.startswith("✗") and "case 1/" in out
    assert "not filled in" in out or "not implemented" in out


@pytest.mark.parametrize("stub", [ellipsis_stub, raising_stub])
def test_strict_mode_raises_on_a_stub(stub):
    with pytest.raises(exercises.ExerciseFailed):
        exercises.check("3.1", stub, strict=True)


def test_wrong_shape_names_both_shapes(capsys):
    exercises.check("3.2", lambda weights, values: (weights @ values).T)
    out = capsys.readouterr().out
    assert "expected shape (3, 4)" in out and "got shape" in out


def test_wrong_value_names_the_index_and_both_values(capsys):
    exercises.check("4.1", lambda q, k: q @ np.swapaxes(k, -1, -2))  # forgot the 1/sqrt(d)
    out = capsys.readouterr().out
    assert "at index" in out and "expected" in out and "got" in out
    assert "two queries, three keys" in out  # says which case


def naive_masked_softmax(scores, mask):
    weights = np.exp(scores) * mask
    return weights / weights.sum(axis=-1, keepdims=True)


def test_the_hint_points_at_the_fully_masked_row(capsys):
    exercises.check("3.3", naive_masked_softmax)
    out = capsys.readouterr().out
    assert "fully masked row" in out and "nan" in out.lower()


def test_an_overflowing_softmax_is_caught(capsys):
    exercises.check("1.1", lambda s: np.exp(s) / np.exp(s).sum(axis=-1, keepdims=True))
    assert "1e4" in capsys.readouterr().out


def test_an_exception_in_the_readers_code_becomes_a_hint(capsys):
    def broken(weights, values):
        return weights @ values[:2]

    assert exercises.check("3.2", broken) is False
    assert "raised ValueError" in capsys.readouterr().out


def test_unknown_exercise_lists_the_known_ones():
    with pytest.raises(KeyError, match="3.1"):
        exercises.check("99.9", reference.context)


def test_registering_an_id_twice_is_refused():
    with pytest.raises(ValueError, match="twice"):
        exercises.register("3.1", "again")(lambda: [])
