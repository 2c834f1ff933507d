"""Claims: each chapter reproduces a paper's result and says so with a number.

``record`` prints one line, appends a JSON line to ``_build/claims.jsonl`` and raises
:class:`ClaimNotReproduced` when the claim does not hold, so that running the notebooks
(nbval in ``make test``) fails the day a chapter stops reproducing its paper.
"""

import json
import math
import os
import time
from pathlib import Path

from attncourse.profiles import current_seed, profile

try:  # POSIX: an advisory lock keeps concurrent writers apart.
    import fcntl
except ImportError:  # pragma: no cover - Windows: O_APPEND single writes only.
    fcntl = None


class ClaimNotReproduced(AssertionError):
    """A chapter's measured value no longer supports its paper's claim."""


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


def record(claim_id, value, *, paper, holds, detail=None):
    """Record a measured claim, and raise if it does not hold.

    Args:
        claim_id: a short stable name, e.g. ``"3.long_sentences"``.
        value: the measured number (or a small dict/list of numbers).
        paper: the citation key of the paper whose claim this is (``book/references.bib``).
        holds: whether the measurement supports the claim (a bool computed by the
            notebook from ``value``, never a constant).
        detail: optional words saying what was compared with what.

    Returns:
        The dict that was written to ``_build/claims.jsonl``.

    Raises:
        ClaimNotReproduced: ``holds`` is false.
        ValueError: an empty id or paper, a non-boolean ``holds``, or a value that is
            NaN or infinite.
    """
    if not isinstance(claim_id, str) or not claim_id.strip():
        raise ValueError(f"claim_id must be a non-empty string, got {claim_id!r}")
    if not isinstance(paper, str) or not paper.strip():
        raise ValueError(f"paper must be a citation key such as 'bahdanau2015', got {paper!r}")
    if hasattr(holds, "item"):  # a NumPy or tensor boolean
        holds = holds.item()
    if not isinstance(holds, bool):
        raise ValueError(f"holds must be True or False, got {holds!r} ({type(holds).__name__})")
    value = _plain(value)
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"claim {claim_id!r}: the measured value is {value}; a claim needs a finite number")

    entry = {
        "id": claim_id,
        "value": value,
        "paper": paper,
        "holds": holds,
        "profile": profile(),
        "seed": current_seed(),
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    if detail is not None:
        entry["detail"] = detail
    _append_line(claims_path(), json.dumps(entry, ensure_ascii=False))

    mark = "✓ holds" if holds else "✗ does NOT hold"
    suffix = f" ({detail})" if detail else ""
    print(f"[claim {claim_id}] {_format(value)} {mark} [{paper}]{suffix}")
    if not holds:
        raise ClaimNotReproduced(
            f"claim {claim_id!r} of {paper} is not reproduced: measured {_format(value)}"
            f"{suffix} (profile {entry['profile']}, seed {entry['seed']})"
        )
    return entry
