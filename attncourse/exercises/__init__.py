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

Modules:

- ``registry``: :class:`Case`, :class:`Exercise`, :func:`register`, :func:`check` and the
  comparison that writes the hints;
- one module per chapter, which registers that chapter's exercises and builds their cases:
  ``ch01_painting``, ``ch02_encoder_decoder``, ``ch03_bahdanau``, ``ch04_luong``,
  ``ch05_hard_and_monotonic``, ``ch06_static_and_self``, ``ch07_key_value``, ``ch08_han``,
  ``ch09_transformers`` (the names of the chapters' notebooks).

Importing this package imports every chapter module, so every exercise is registered.
"""

from attncourse.exercises import (  # importing a chapter module registers its exercises
    ch01_painting,
    ch02_encoder_decoder,
    ch03_bahdanau,
    ch04_luong,
    ch05_hard_and_monotonic,
    ch06_static_and_self,
    ch07_key_value,
    ch08_han,
    ch09_transformers,
)
from attncourse.exercises.registry import (
    EXERCISES,
    Case,
    CheckResult,
    Exercise,
    ExerciseFailed,
    check,
    register,
    registered,
)

__all__ = ["EXERCISES", "Case", "CheckResult", "Exercise", "ExerciseFailed", "check", "register", "registered"]
