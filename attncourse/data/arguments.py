"""Checking the integer arguments (counts, sizes, lengths, seeds) of the data functions.

One check shared by every module of :mod:`attncourse.data`, so that a bad count, size or
seed is refused with the same message wherever it is passed, e.g.
``n_pairs must be at least 1, got 0``.
"""

from __future__ import annotations

import numbers


def _check_integer(name, value, minimum):
    """``value`` as an int, checked: an integer (not a bool) of at least ``minimum``.

    Raises:
        ValueError: ``value`` is not an integer, or is below ``minimum``; the message
            names the argument ``name``.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return int(value)
