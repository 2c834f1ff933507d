"""Claims: each chapter measures a paper's finding, against a null, and says so with a number.

A claim is one number with a threshold (``at_least`` or ``at_most``), measured twice: on the
trained model, and on the *null*, the strongest simple explanation a sceptic would propose
(an unlearned map, uniform weights, the same model without the mechanism). ``record``
prints one line, appends a JSON line to ``_build/claims.jsonl``, and raises

- :class:`ClaimCannotFail` when the null passes the threshold: such a claim would hold
  whatever the model learned, so it is an error, not a result;
- :class:`ClaimNotReproduced` when a claim expected to hold does not;
- :class:`ClaimChangedState` (the parent of the former) when a finding kept as *not
  reproduced* (``expected=False``) starts to hold.

Running the notebooks (nbval in ``make test``, or ``make book``) therefore fails whenever a
claim leaves its expected state, in either direction, and the prose around it cannot
contradict the run. The book's claims ledger is built from the same file.
"""

import json
import math
import numbers
import os
import time
from pathlib import Path

from attncourse.profiles import current_seed, profile

try:  # POSIX: an advisory lock keeps concurrent writers apart.
    import fcntl
except ImportError:  # pragma: no cover - Windows: O_APPEND single writes only.
    fcntl = None

#: The ``paper`` of a finding that no paper states: the course measures it on its own tasks.
COURSE = "course"


class ClaimChangedState(AssertionError):
    """A claim's measured outcome is not the one the chapter expects of it."""


class ClaimNotReproduced(ClaimChangedState):
    """A chapter's measured value no longer supports its paper's claim."""


class ClaimCannotFail(AssertionError):
    """The null passes the claim's threshold: the claim would hold whatever was learned."""


def claims_path():
    """Where claims are appended: ``<book root>/_build/claims.jsonl``.

    The book root is the nearest folder, from the working directory upwards, that holds
    ``_toc.yml`` (notebooks run inside ``notebooks/``); elsewhere, as on Colab, it is the
    working directory. ``ATTNCOURSE_CLAIMS`` names another file.
    """
    explicit = os.environ.get("ATTNCOURSE_CLAIMS")
    if explicit:
        return Path(explicit)
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "_toc.yml").is_file():
            return folder / "_build" / "claims.jsonl"
    return here / "_build" / "claims.jsonl"


def _plain(value):
    """A JSON-friendly copy of ``value`` (NumPy scalars and arrays become Python)."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _format(value):
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _append_line(path, line):
    path.parent.mkdir(parents=True, exist_ok=True)
    data = (line + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        # One write of the whole line: with O_APPEND and the lock, lines never mix.
        written = 0
        while written < len(data):
            written += os.write(fd, data[written:])
    finally:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _number(name, value):
    """``value`` as a finite Python float, or a ValueError naming ``name``."""
    if hasattr(value, "item") and getattr(value, "ndim", 0) == 0:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be one real number, got {value!r} ({type(value).__name__})")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} is {value}; a claim needs finite numbers")
    return value


def _text(name, value, example):
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be a non-empty string such as {example!r}, got {value!r}")
    return value


def record(claim_id, value, *, null, paper, where, at_least=None, at_most=None, expected=True,
           measured=None, detail=None):
    """Record a measured claim next to its null, and raise unless it is in its expected state.

    Args:
        claim_id: a short stable name, e.g. ``"3.long_sentences"`` (chapter, then a name).
        value: the claim's one measured number (a float; NumPy scalars are accepted).
        null: the same number measured on the null, or a dict ``{name: number}`` of several
            nulls. Every null must fail the threshold, or the claim cannot fail.
        paper: the citation key of the paper that makes the claim (``book/references.bib``),
            or :data:`COURSE` for a finding of the course's own.
        where: where the paper says it: section, figure or table (``"§5.2, Table 6"``); for
            :data:`COURSE`, the chapter's section.
        at_least: the claim holds when ``value >= at_least``.
        at_most: the claim holds when ``value <= at_most``. Give exactly one of the two.
        expected: ``True`` for a claim the chapter reproduces, ``False`` for a finding it
            keeps as *not reproduced*.
        measured: optional dict of the numbers behind ``value`` (stored, and shown in the
            ledger), e.g. each model's accuracy when ``value`` is their difference.
        detail: optional words saying what was compared with what.

    Returns:
        The dict that was written to ``_build/claims.jsonl``: ``id``, ``paper``, ``where``,
        ``value``, ``null``, ``threshold``, ``margin`` (how far the value is on the holding
        side of the threshold; negative when it does not hold), ``null_margin``, ``holds``,
        ``expected``, ``profile``, ``seed``, ``time`` and the optional fields.

    Raises:
        ClaimCannotFail: a null passes the threshold.
        ClaimNotReproduced: ``expected`` is true and the claim does not hold.
        ClaimChangedState: ``expected`` is false and the claim holds.
        ValueError: an empty id, paper or ``where``; not exactly one threshold; a value,
            null or threshold that is not one finite number; ``expected`` not a bool.
    """
    _text("claim_id", claim_id, "3.long_sentences")
    _text("paper", paper, "bahdanau2015")
    _text("where", where, "§5.2, Figure 2")
    if (at_least is None) == (at_most is None):
        raise ValueError(f"claim {claim_id!r}: give exactly one threshold, at_least or at_most")
    if not isinstance(expected, bool):
        raise ValueError(f"expected must be True or False, got {expected!r}")
    value = _number(f"claim {claim_id!r}: the value", value)
    nulls = null if isinstance(null, dict) else {"null": null}
    if not nulls:
        raise ValueError(f"claim {claim_id!r}: give at least one null")
    nulls = {str(name): _number(f"claim {claim_id!r}: null {name!r}", v) for name, v in nulls.items()}
    if at_least is not None:
        threshold, sign, relation = _number("at_least", at_least), 1.0, "≥"
    else:
        threshold, sign, relation = _number("at_most", at_most), -1.0, "≤"
    margin = sign * (value - threshold)
    null_margins = {name: sign * (v - threshold) for name, v in nulls.items()}
    holds = margin >= 0.0

    entry = {
        "id": claim_id,
        "paper": paper,
        "where": where,
        "value": value,
        "null": nulls if isinstance(null, dict) else nulls["null"],
        "threshold": {"at_least" if sign > 0 else "at_most": threshold},
        "margin": margin,
        "null_margin": max(null_margins.values()),
        "holds": holds,
        "expected": expected,
        "profile": profile(),
        "seed": current_seed(),
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    if measured is not None:
        entry["measured"] = _plain(measured)
    if detail is not None:
        entry["detail"] = detail
    _append_line(claims_path(), json.dumps(entry, ensure_ascii=False))

    null_text = ", ".join(f"{name} {_format(v)}" for name, v in nulls.items())
    if holds:
        mark = "✓ holds" if expected else "✗ holds, though the course reports it as not reproduced"
    else:
        mark = "✗ does NOT hold" if expected else "✓ not reproduced, as expected"
    suffix = f" ({detail})" if detail else ""
    print(f"[claim {claim_id}] {_format(value)} {relation} {_format(threshold)}, margin {margin:+.4g} "
          f"(null: {null_text}) {mark} [{paper}, {where}]{suffix}")
    state = f"(profile {entry['profile']}, seed {entry['seed']})"
    failing_nulls = {name: v for name, v in nulls.items() if null_margins[name] >= 0.0}
    if failing_nulls:
        raise ClaimCannotFail(
            f"claim {claim_id!r}: the null passes the threshold {relation} {_format(threshold)} "
            f"({', '.join(f'{n} = {_format(v)}' for n, v in failing_nulls.items())}), so the claim could not "
            f"fail; measure against a null it can lose to, or raise the threshold {state}"
        )
    if holds != expected:
        if expected:
            raise ClaimNotReproduced(
                f"claim {claim_id!r} of {paper} ({where}) is not reproduced: measured {_format(value)}, "
                f"needs {relation} {_format(threshold)}{suffix} {state}"
            )
        raise ClaimChangedState(
            f"claim {claim_id!r} of {paper} ({where}) now holds ({_format(value)} {relation} "
            f"{_format(threshold)}), but the chapter reports it as not reproduced: update its text "
            f"and its expected state {state}"
        )
    return entry


def read_claims(path=None):
    """Every entry of a claims file (default :func:`claims_path`), oldest first; ``[]`` if none.

    Lines written by older versions of :func:`record` (without a null) are skipped.
    """
    path = Path(path) if path is not None else claims_path()
    if not path.is_file():
        return []
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            entry = json.loads(line)
            if "null" in entry and "where" in entry:
                entries.append(entry)
    return entries


def latest(entries, profile_name=None):
    """The last entry of each claim id (of one profile, when given), in chapter order."""
    last = {}
    for entry in entries:
        if profile_name is None or entry.get("profile") == profile_name:
            last[entry["id"]] = entry
    return [last[key] for key in sorted(last, key=chapter_order)]


def chapter_order(claim_id):
    """A sort key for claim ids: by chapter number (``"10.x"`` after ``"9.x"``), then by name."""
    head, _, rest = claim_id.partition(".")
    return (int(head), rest) if head.isdigit() else (10**6, claim_id)
