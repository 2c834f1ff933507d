"""Self-checking exercises: the reader fills in a stub, ``check`` says ✓ or gives a hint.

Every exercise of the course is registered here, by id (``"3.1"`` is chapter 3's first),
with the cases it is checked on. The expected answers come from
:mod:`attncourse.reference`, never from hard-coded numbers.

In a notebook::

    def additive_score(query, keys, W_q, W_k, w):
        ...                                   # the reader's stub

    exercises.check("3.1", additive_score)    # prints a hint, never raises on a stub

The solution cell calls ``check(..., strict=True)``, which raises when the solution
fails, so running the notebooks proves every solution right.
"""

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np


class ExerciseFailed(AssertionError):
    """Raised by ``check(..., strict=True)`` when a solution does not pass."""


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
    return f"expected {_describe_array(expected)}, got {_describe_array(got)}"


def check(exercise_id, fn, *, strict=False):
    """Run ``fn`` on every case of an exercise and print ✓ or a specific hint.

    Args:
        exercise_id: the exercise's id, e.g. ``"3.1"``.
        fn: the reader's function.
        strict: raise :class:`ExerciseFailed` instead of only printing when ``fn`` does
            not pass (solution cells use this, so running the notebook proves them).

    Returns:
        True when every case passes, else False.

    Raises:
        KeyError: no exercise has this id (the message lists the ids there are).
        ExerciseFailed: with ``strict=True``, when a case fails or ``fn`` is a stub.
    """
    if exercise_id not in EXERCISES:
        known = ", ".join(sorted(EXERCISES, key=lambda k: [int(p) if p.isdigit() else p for p in k.split(".")]))
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
            return False
    print(f"✓ {header}: all {len(cases)} cases pass")
    return True


def _random(rng, *shape):
    return rng.normal(size=shape).astype("float64")


# Chapter 1: the painting — interest scores become a distribution over places.
@register("1.1", "softmax: turn scores into attention weights")
def _softmax_cases():
    from attncourse import reference

    rng = np.random.default_rng(11)
    scores = _random(rng, 2, 5)
    huge = np.array([[1e4, 1e4 - 1.0, 0.0]])
    return [
        Case("a small batch of random scores", (scores,), reference.masked_softmax(scores)),
        Case("equal scores (the weights must be uniform)", (np.zeros((1, 4)),), reference.masked_softmax(np.zeros((1, 4)))),
        Case("huge scores of 1e4 (subtract the max before exp)", (huge,), reference.masked_softmax(huge)),
    ]


# Chapter 3: Bahdanau attention.
@register("3.1", "the additive score w·tanh(q W_q + k W_k)")
def _additive_cases():
    from attncourse import reference

    rng = np.random.default_rng(31)
    query, keys = _random(rng, 1, 3), _random(rng, 4, 3)
    W_q, W_k, w = _random(rng, 3, 5), _random(rng, 3, 5), _random(rng, 5)
    query2, keys2 = _random(rng, 2, 3), _random(rng, 6, 4)
    W_q2, W_k2 = _random(rng, 3, 2), _random(rng, 4, 2)
    w2 = _random(rng, 2)
    return [
        Case("one query, four keys", (query, keys, W_q, W_k, w),
             reference.additive_score(query, keys, W_q, W_k, w)),
        Case("two queries, six keys of another depth", (query2, keys2, W_q2, W_k2, w2),
             reference.additive_score(query2, keys2, W_q2, W_k2, w2)),
    ]


@register("3.2", "the context vector: weights times values")
def _context_cases():
    from attncourse import reference

    rng = np.random.default_rng(32)
    weights = reference.masked_softmax(_random(rng, 3, 5))
    values = _random(rng, 5, 4)
    one_hot = np.eye(5)[[1, 4]]
    return [
        Case("three queries over five values", (weights, values), reference.context(weights, values)),
        Case("one-hot weights (the context must copy one value)", (one_hot, values), reference.context(one_hot, values)),
    ]


@register("3.3", "masked softmax: padding gets exactly zero")
def _masked_softmax_cases():
    from attncourse import reference

    rng = np.random.default_rng(33)
    scores = _random(rng, 3, 5)
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]], dtype=bool)
    empty = np.zeros((1, 5), dtype=bool)
    return [
        Case("rows with padding at the end", (scores, mask), reference.masked_softmax(scores, mask)),
        Case("a fully masked row (must give zeros, not NaN)", (scores[:1], empty), reference.masked_softmax(scores[:1], empty)),
        Case("huge scores of 1e4 beside padding", (scores * 1e4, mask), reference.masked_softmax(scores * 1e4, mask)),
    ]


# Chapter 4: multiplicative scores.
@register("4.1", "the scaled dot-product score q·k / sqrt(d)")
def _scaled_dot_cases():
    from attncourse import reference

    rng = np.random.default_rng(41)
    query, keys = _random(rng, 2, 16), _random(rng, 3, 16)
    batch_query, batch_keys = _random(rng, 2, 1, 4), _random(rng, 2, 5, 4)
    return [
        Case("two queries, three keys, d = 16", (query, keys), reference.scaled_dot_score(query, keys)),
        Case("a batch of two examples (use the last axis for d)", (batch_query, batch_keys),
             reference.scaled_dot_score(batch_query, batch_keys)),
    ]
