"""The exercise registry: :class:`Case`, :class:`Exercise`, :func:`register` and :func:`check`.

A chapter module registers each of its exercises with :func:`register`; :func:`check` runs
the reader's function on the exercise's cases and compares each answer with the expected
one, printing ✓ or a hint that names the case and what is wrong.
"""

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np


class ExerciseFailed(AssertionError):
    """Raised by ``check(..., strict=True)`` when a solution does not pass."""


class CheckResult:
    """What :func:`check` returns: true when every case passed.

    ``check`` has already printed ✓ or the hint, so in a notebook the result shows nothing
    more (no stray ``True`` under the message); ``bool(result)`` or ``result.passed`` reads it.
    """

    def __init__(self, passed):
        self.passed = bool(passed)

    def __bool__(self):
        return self.passed

    def __repr__(self):
        return f"CheckResult(passed={self.passed})"

    def _ipython_display_(self):
        pass  # the message printed by check is the display


@dataclass(frozen=True)
class Case:
    """One input of an exercise and the answer it must give."""

    description: str  # says which situation this is, e.g. "a fully masked row"
    args: tuple
    expected: Any
    kwargs: dict = field(default_factory=dict)
    atol: float = 1e-5


@dataclass(frozen=True)
class Exercise:
    id: str
    title: str
    make_cases: Callable[[], list]  # built on demand, from attncourse.reference


EXERCISES = {}


def register(exercise_id, title):
    """Decorator: register a function returning the exercise's list of :class:`Case`."""

    def decorate(make_cases):
        if exercise_id in EXERCISES:
            raise ValueError(f"exercise {exercise_id!r} is registered twice")
        EXERCISES[exercise_id] = Exercise(exercise_id, title, make_cases)
        return make_cases

    return decorate


def registered():
    """Every registered :class:`Exercise`, in id order (by number: 9.3 comes before 10.1)."""
    return [EXERCISES[exercise_id] for exercise_id in sorted(EXERCISES, key=_id_key)]


def _id_key(exercise_id):
    return [int(part) if part.isdigit() else part for part in exercise_id.split(".")]


def normal(rng, *shape):
    """Standard normal float64 numbers of ``shape`` from ``rng``: the cases' random inputs."""
    return rng.normal(size=shape).astype("float64")


def _describe_array(x):
    x = np.asarray(x)
    if x.size <= 12:
        return np.array2string(x, precision=4, suppress_small=True, separator=", ")
    return f"array of shape {x.shape}"


def _compare(case, got):
    """None when ``got`` answers ``case``, else a hint that names what is wrong."""
    if got is None or got is Ellipsis:
        return "returned nothing: the stub is not filled in yet"
    expected = np.asarray(case.expected)
    try:
        got = np.asarray(got, dtype=float) if expected.dtype.kind == "f" else np.asarray(got)
    except (TypeError, ValueError):
        return f"returned {type(got).__name__}, expected an array of shape {expected.shape}"
    if got.shape != expected.shape:
        return f"expected shape {expected.shape}, got shape {got.shape}"
    if expected.dtype.kind == "f":
        if not np.all(np.isfinite(got)) and np.all(np.isfinite(expected)):
            where = tuple(int(i) for i in np.argwhere(~np.isfinite(got))[0])
            return f"got {got[where]} at index {where}, where {expected[where]:.4g} was expected"
        if np.allclose(got, expected, atol=case.atol, rtol=1e-4, equal_nan=True):
            return None
        where = np.unravel_index(np.argmax(np.abs(got - expected)), expected.shape)
        where = tuple(int(i) for i in where)
        return (f"at index {where} expected {expected[where]:.5g}, got {got[where]:.5g}"
                f"\n      expected {_describe_array(expected)}\n      got      {_describe_array(got)}")
    if np.array_equal(got, expected):
        return None
    if expected.size > 12:  # too big to print: point at the first difference instead
        where = tuple(int(i) for i in np.argwhere(got != expected)[0])
        return f"at index {where} expected {expected[where]}, got {got[where]}"
    return f"expected {_describe_array(expected)}, got {_describe_array(got)}"


def check(exercise_id, fn, *, strict=False):
    """Run ``fn`` on every case of an exercise and print ✓ or a specific hint.

    Args:
        exercise_id: the exercise's id, e.g. ``"3.1"``.
        fn: the reader's function.
        strict: raise :class:`ExerciseFailed` instead of only printing when ``fn`` does
            not pass (solution cells use this, so running the notebook proves them).

    Returns:
        A :class:`CheckResult`, true when every case passes.

    Raises:
        KeyError: no exercise has this id (the message lists the ids there are).
        ExerciseFailed: with ``strict=True``, when a case fails or ``fn`` is a stub.
    """
    if exercise_id not in EXERCISES:
        known = ", ".join(exercise.id for exercise in registered())
        raise KeyError(f"no exercise {exercise_id!r}; the exercises are: {known}")
    exercise = EXERCISES[exercise_id]
    cases = exercise.make_cases()
    header = f"Exercise {exercise.id} ({exercise.title})"
    for number, case in enumerate(cases, start=1):
        try:
            got = fn(*case.args, **case.kwargs)
        except NotImplementedError:
            problem = "not implemented yet: replace `raise NotImplementedError` with your code"
        except Exception as error:  # the reader's code failed: say where, don't crash the notebook
            problem = f"raised {type(error).__name__}: {error}"
        else:
            problem = _compare(case, got)
        if problem is not None:
            message = f"✗ {header}: case {number}/{len(cases)}, {case.description}: {problem}"
            print(message)
            if strict:
                raise ExerciseFailed(message)
            return CheckResult(False)
    print(f"✓ {header}: all {len(cases)} cases pass")
    return CheckResult(True)


