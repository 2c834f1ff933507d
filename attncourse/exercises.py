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
        known = ", ".join(_ordered_ids())
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


def _ordered_ids():
    return sorted(EXERCISES, key=lambda k: [int(p) if p.isdigit() else p for p in k.split(".")])


def index_table(chapters):
    """The exercises index of the book, in Markdown: one table per chapter.

    ``book/exercises.md`` holds this text; a test regenerates it and fails when the page
    is out of date, so the page always lists every registered exercise and its cases.

    Args:
        chapters: maps a chapter number (``"3"``) to its notebook's toc path, e.g.
            ``{"3": "notebooks/03_bahdanau"}``.

    Returns:
        Markdown: for each chapter a heading that links to it, then a row per exercise
        with its id (the first argument of :func:`check`), its title and its cases.
    """
    parts, current = [], None
    for exercise_id in _ordered_ids():
        exercise = EXERCISES[exercise_id]
        chapter = exercise_id.split(".")[0]
        if chapter not in chapters:
            raise KeyError(f"exercise {exercise_id} belongs to chapter {chapter}, which has no notebook")
        if chapter != current:
            current = chapter
            parts += [f"\n## Chapter {chapter}\n", f"In {{doc}}`../{chapters[chapter]}`:\n",
                      "| Check | Exercise | Cases the check runs |", "|---|---|---|"]
        cases = "; ".join(case.description for case in exercise.make_cases()).replace("|", r"\|")
        title = exercise.title.replace("|", r"\|")
        parts.append(f'| `check("{exercise_id}", fn)` | {title} | {cases} |')
    return "\n".join(parts).lstrip("\n") + "\n"


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


@register("1.2", "softmax with a temperature: sharper or flatter attention")
def _temperature_cases():
    from attncourse import reference

    rng = np.random.default_rng(12)
    scores = _random(rng, 2, 6)
    return [
        Case("temperature 1 (the plain softmax)", (scores, 1.0), reference.masked_softmax(scores)),
        Case("temperature 0.25 (divide the scores by it: sharper)", (scores, 0.25),
             reference.masked_softmax(scores / 0.25)),
        Case("temperature 20 (flatter, close to uniform)", (scores, 20.0), reference.masked_softmax(scores / 20.0)),
        Case("temperature 1e-4 (scores / τ reach 1e4: subtract the max)", (scores, 1e-4),
             reference.masked_softmax(scores / 1e-4)),
    ]


def _mass_ratio_by_counting(weights, box, cell_size):
    """The answer to exercise 1.3, one cell at a time (plain NumPy, no helper)."""
    top, left, height, width = box
    mass = cells = 0
    for r in range(weights.shape[0]):
        for c in range(weights.shape[1]):
            rows_overlap = r * cell_size < top + height and top < (r + 1) * cell_size
            cols_overlap = c * cell_size < left + width and left < (c + 1) * cell_size
            if rows_overlap and cols_overlap:
                mass += weights[r, c]
                cells += 1
    return np.float64(mass / (cells / weights.size))


@register("1.3", "attention mass inside a box, relative to the box's share of the grid")
def _mass_in_box_cases():
    rng = np.random.default_rng(13)
    grid = rng.dirichlet(np.full(64, 0.3)).reshape(8, 8)
    uniform = np.full((8, 8), 1 / 64)
    peaked = np.zeros((4, 4))
    peaked[1, 2] = 1.0
    cases = [
        ("uniform weights (the ratio must be 1)", uniform, (9, 5, 8, 8), 4),
        ("a box aligned with the cells (2 x 2 cells)", grid, (8, 12, 8, 8), 4),
        ("a box straddling cell borders (every touched cell counts: 3 x 3)", grid, (9, 5, 8, 8), 4),
        ("a box in the bottom-right corner", grid, (24, 24, 8, 8), 4),
        ("all the mass on one cell of a 4 x 4 grid of 8-pixel cells", peaked, (10, 17, 5, 3), 8),
    ]
    return [Case(text, (weights, box, cell), _mass_ratio_by_counting(weights, box, cell))
            for text, weights, box, cell in cases]


def _inverse_cdf_by_hand(weights, seed):
    """The answer to exercise 1.4: one uniform number per row, then the first place past it."""
    weights = np.asarray(weights, dtype=float)
    u = np.random.default_rng(seed).random(weights.shape[0])
    chosen = []
    for row, threshold in zip(weights, u):
        cumulative = np.cumsum(row) / row.sum()
        chosen.append(int(np.flatnonzero(cumulative > threshold)[0]))
    return np.array(chosen)


@register("1.4", "hard attention: sample one place per row with a given rng")
def _sample_place_cases():
    from attncourse import reference

    rng = np.random.default_rng(14)
    soft = reference.masked_softmax(_random(rng, 6, 10) * 2.0)
    one_hot = np.eye(5)[[3, 0, 4]]
    with_zeros = np.array([[0.0, 0.5, 0.0, 0.5], [0.25, 0.0, 0.0, 0.75]] * 4)
    cases = [
        ("six rows of ten softmax weights, rng seed 0", soft, 0),
        ("one-hot rows (the only place with weight must be chosen)", one_hot, 1),
        ("places of weight zero (they must never be chosen)", with_zeros, 2),
        ("the same weights with rng seed 7 (a different seed, different choices)", soft, 7),
    ]
    # A fresh Generator per case: the same seed must give the same choices.
    return [Case(text, (weights, np.random.default_rng(seed)), _inverse_cdf_by_hand(weights, seed))
            for text, weights, seed in cases]


# Chapter 2: the encoder–decoder. Padded id arrays, PAD = 0 at the end of each row.
def _random_padded(rng, lengths, width):
    """Rows of random word ids (3 and up: 0, 1, 2 are PAD, START, END), padded with 0."""
    rows = np.zeros((len(lengths), width), dtype=np.int32)
    for row, length in zip(rows, lengths):
        row[:length] = rng.integers(3, 30, size=length)
    return rows


def _reverse_each_sentence(padded):
    reversed_rows = np.zeros_like(padded)
    for row, out in zip(padded, reversed_rows):
        words = row[row != 0]
        out[: len(words)] = words[::-1]
    return reversed_rows


@register("2.1", "reverse each source sentence, keeping the padding at the end")
def _reverse_source_cases():
    rng = np.random.default_rng(21)
    mixed = _random_padded(rng, [5, 2, 7], 7)
    full = _random_padded(rng, [6], 6)
    single = _random_padded(rng, [1, 3], 4)
    return [
        Case("three sentences of 5, 2 and 7 words in rows of 7", (mixed,), _reverse_each_sentence(mixed)),
        Case("a sentence that fills its row (no padding)", (full,), _reverse_each_sentence(full)),
        Case("a one-word sentence (nothing moves) beside a three-word one", (single,), _reverse_each_sentence(single)),
    ]


def _teacher_forcing_by_loop(targets, length):
    from attncourse.data import END, START

    decoder_input = np.zeros((len(targets), length), dtype=np.int32)
    decoder_target = np.zeros((len(targets), length), dtype=np.int32)
    for k, target in enumerate(targets):
        decoder_input[k, : len(target) + 1] = [START, *target]
        decoder_target[k, : len(target) + 1] = [*target, END]
    return np.stack([decoder_input, decoder_target])


@register("2.2", "teacher forcing: the decoder reads START y_1..y_n and predicts y_1..y_n END")
def _teacher_forcing_cases():
    rng = np.random.default_rng(22)
    targets = [rng.integers(3, 30, size=n) for n in (4, 1, 6)]
    tight = [rng.integers(3, 30, size=5)]
    return [
        Case("targets of 4, 1 and 6 words, rows of 8", (targets, 8), _teacher_forcing_by_loop(targets, 8)),
        Case("a 5-word target in rows of 6 (START or END fills the last slot)", (tight, 6),
             _teacher_forcing_by_loop(tight, 6)),
    ]


def _accuracy_on_real_tokens(predicted, target):
    real = target != 0
    return np.float64((predicted == target)[real].mean())


@register("2.3", "token accuracy that ignores padding")
def _token_accuracy_cases():
    rng = np.random.default_rng(23)
    target = _random_padded(rng, [6, 2, 4], 7)
    predicted = np.where(rng.random(target.shape) < 0.6, target, rng.integers(3, 30, size=target.shape))
    right_but_padding = np.where(target == 0, 5, target)  # wrong only where the target is padding
    all_wrong = np.where(target == 0, 0, target + 1)  # wrong on every word, "right" on every pad
    return [
        Case("random predictions, padded targets", (predicted, target), _accuracy_on_real_tokens(predicted, target)),
        Case("every word right, junk in the padding (must give 1.0)", (right_but_padding, target),
             _accuracy_on_real_tokens(right_but_padding, target)),
        Case("every word wrong, padding predicted as padding (must give 0.0)", (all_wrong, target),
             _accuracy_on_real_tokens(all_wrong, target)),
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


def _entropy_in_bits(weights):
    weights = np.asarray(weights, dtype=float)
    safe = np.where(weights > 0, weights, 1.0)  # 0 log 0 = 0
    return -(weights * np.log2(safe)).sum(axis=-1)


@register("3.4", "the entropy of each attention row, in bits (0 log 0 = 0)")
def _entropy_cases():
    from attncourse import reference

    rng = np.random.default_rng(34)
    mask = np.array([[1, 1, 1, 1, 0, 0], [1, 1, 1, 0, 0, 0]], dtype=bool)
    uniform = reference.masked_softmax(np.zeros((2, 6)), mask)
    one_hot = np.eye(5)[[0, 3]]
    learned = reference.masked_softmax(3 * _random(rng, 3, 6), np.array([[1, 1, 1, 1, 1, 0]], dtype=bool))
    return [
        Case("uniform weights over 4 and 3 real words, the rest padding", (uniform,), _entropy_in_bits(uniform)),
        Case("one-hot rows (hard attention: 0 bits, not NaN)", (one_hot,), _entropy_in_bits(one_hot)),
        Case("peaked random weights with a padded last column", (learned,), _entropy_in_bits(learned)),
    ]


@register("3.5", "alignment error rate (AER) of predicted against gold source positions")
def _aer_cases():
    from attncourse.data import alignment_error

    rng = np.random.default_rng(35)
    gold = [rng.integers(0, n, size=n) for n in (4, 7, 3)]
    perfect = [row.copy() for row in gold]
    shifted = [(row + 1) % 9 + 10 for row in gold]  # never a gold position
    partly = [np.where(rng.random(len(row)) < 0.5, row, (row + 1) % len(row)) for row in gold]
    with_unaligned = [np.where(np.arange(len(row)) == 0, -1, row) for row in gold]
    return [
        Case("every link right (AER 0)", (perfect, gold), np.float64(alignment_error(perfect, gold))),
        Case("every link wrong (AER 1)", (shifted, gold), np.float64(alignment_error(shifted, gold))),
        Case("about half the links right", (partly, gold), np.float64(alignment_error(partly, gold))),
        Case("gold with an unaligned first word (-1 is no link)", (perfect, with_unaligned),
             np.float64(alignment_error(perfect, with_unaligned))),
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


@register("4.2", "Luong's general score q W_a k^T")
def _general_score_cases():
    from attncourse import reference

    rng = np.random.default_rng(42)
    query, keys, W = _random(rng, 2, 3), _random(rng, 5, 3), _random(rng, 3, 3)
    # Different depths: W_a maps a d_q = 4 query onto d_k = 2 keys, which "dot" cannot do.
    query2, keys2, W2 = _random(rng, 3, 4), _random(rng, 6, 2), _random(rng, 4, 2)
    batch_query, batch_keys = _random(rng, 2, 1, 3), _random(rng, 2, 4, 3)
    return [
        Case("two queries, five keys, d_q = d_k = 3", (query, keys, W), reference.general_score(query, keys, W)),
        Case("d_q = 4 but d_k = 2 (W_a has shape (d_q, d_k))", (query2, keys2, W2),
             reference.general_score(query2, keys2, W2)),
        Case("the identity W_a (must equal the dot score)", (query, keys, np.eye(3)), reference.dot_score(query, keys)),
        Case("a batch of two examples", (batch_query, batch_keys, W), reference.general_score(batch_query, batch_keys, W)),
    ]


@register("4.3", "local-p's aligned positions p_i = S · sigmoid(w_p · tanh(q_i W_p))")
def _predictive_centers_cases():
    from attncourse import reference

    rng = np.random.default_rng(43)
    query, W_p, w_p = _random(rng, 4, 3), _random(rng, 3, 5), _random(rng, 5)
    batch_query = _random(rng, 2, 4, 3)
    lengths = np.array([7.0, 12.0])
    return [
        Case("four queries, a source of S = 9 words", (query, W_p, w_p, 9.0),
             reference.predictive_centers(query, W_p, w_p, 9.0)),
        Case("two sentences of S = 7 and 12 words (one S per sentence)", (batch_query, W_p, w_p, lengths),
             reference.predictive_centers(batch_query, W_p, w_p, lengths)),
        Case("a zero w_p (every centre must be the middle, S / 2)", (query, W_p, np.zeros(5), 10.0),
             reference.predictive_centers(query, W_p, np.zeros(5), 10.0)),
    ]


@register("4.4", "local-p weights: a softmax inside the window, times the Gaussian")
def _local_weights_cases():
    from attncourse import reference

    rng = np.random.default_rng(44)
    scores = _random(rng, 3, 8)
    centers = np.array([1.0, 3.6, 7.0])  # a fractional centre, and windows cut by both ends
    padding = np.array([[True] * 6 + [False] * 2])  # the last two source positions are padding
    return [
        Case("three queries, window D = 2, centres 1, 3.6 and 7", (scores, centers, 2),
             reference.local_attention_weights(scores, centers, 2)),
        Case("the same with padding at positions 6 and 7", (scores, centers, 2),
             reference.local_attention_weights(scores, centers, 2, mask=padding), {"mask": padding}),
        Case("equal scores (the Gaussian alone decides), D = 3", (np.zeros((3, 8)), centers, 3),
             reference.local_attention_weights(np.zeros((3, 8)), centers, 3)),
    ]


@register("4.5", "the softmax Jacobian diag(α) − α αᵀ: how much the weights can still move")
def _softmax_jacobian_cases():
    from attncourse import reference

    def jacobian(scores):
        # ∂α_j / ∂e_k = α_j ([j = k] − α_k), written out in NumPy from the reference softmax.
        weights = reference.masked_softmax(scores)
        return weights[..., :, None] * (np.eye(weights.shape[-1]) - weights[..., None, :])

    rng = np.random.default_rng(45)
    scores = _random(rng, 5)
    saturated = np.array([30.0, 0.0, -5.0, 2.0])
    batch = 3.0 * _random(rng, 3, 4)
    return [
        Case("five random scores", (scores,), jacobian(scores)),
        Case("equal scores", (np.zeros(4),), jacobian(np.zeros(4))),
        Case("one score far above the rest (saturated: almost all zeros)", (saturated,), jacobian(saturated),
             atol=1e-8),
        Case("a batch of three rows (one (4, 4) Jacobian per row)", (batch,), jacobian(batch)),
    ]


# Chapter 5: hard and monotonic (forced-forward) attention.
@register("5.1", "REINFORCE: the gradient of (r − b) log π(j) with respect to the scores")
def _reinforce_gradient_cases():
    from attncourse import reference

    def expected(scores, chosen, reward, baseline):
        # d/de log softmax(e)_j = onehot(j) − softmax(e), scaled by the advantage r − b.
        picked = np.eye(scores.shape[-1])[chosen]
        advantage = (np.asarray(reward, dtype=float) - baseline)[:, None]
        return advantage * (picked - reference.masked_softmax(scores))

    rng = np.random.default_rng(51)
    scores = _random(rng, 4, 6)
    chosen = rng.integers(0, 6, size=4)
    reward = _random(rng, 4)
    huge = np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 1e4 - 2.0]])
    cases = [
        ("four rows of six scores, baseline 0.3", scores, chosen, reward, 0.3),
        ("every reward equal to the baseline (no signal: the gradient is zero)", scores, chosen,
         np.full(4, -0.7), -0.7),
        ("a reward below the baseline (a negative advantage)", scores[:1], np.array([2]),
         np.array([-2.0]), 1.0),
        ("huge scores of 1e4 (a softmax that subtracts the max)", huge, np.array([1, 2]), np.array([1.0, 0.5]), 0.0),
    ]
    return [Case(text, (s, c, r, b), expected(s, c, r, b)) for text, s, c, r, b in cases]


@register("5.2", "the expected monotonic alignment of Raffel et al.")
def _expected_alignment_cases():
    from attncourse import reference

    rng = np.random.default_rng(52)
    p_random = rng.uniform(0.05, 0.95, size=(4, 6))
    p_sure = np.ones((3, 5))
    p_never = np.zeros((3, 5))
    p_mixed = np.array([[0.0, 0.9, 0.1, 0.5], [0.2, 0.2, 0.2, 0.2], [1.0, 0.0, 1.0, 0.0]])
    cases = [
        ("random choose probabilities, 4 output steps, 6 source words", p_random),
        ("p = 1 everywhere (the walk stops at once and never leaves the first word)", p_sure),
        ("p = 0 everywhere (all the mass walks past the end: it goes to the last word)", p_never),
        ("probabilities of exactly 0 and 1 mixed with others", p_mixed),
    ]
    return [Case(text, (p,), reference.monotonic_expected_alignment(p)) for text, p in cases]


@register("5.3", "hard monotonic decoding: stop at the first p ≥ threshold, never move left")
def _hard_monotonic_cases():
    from attncourse import reference

    rng = np.random.default_rng(53)
    p_random = rng.uniform(size=(5, 7))
    # Row 1 only wants the word left of where row 0 stopped: the walk must not go back.
    p_backwards = np.array([[0.1, 0.2, 0.9, 0.1], [0.9, 0.1, 0.2, 0.3], [0.1, 0.1, 0.1, 0.8]])
    p_low = np.full((2, 4), 0.3)
    cases = [
        ("random probabilities, threshold 0.5", p_random, 0.5),
        ("a row whose only high p is left of the previous stop (stay at or right of it)", p_backwards, 0.5),
        ("no p reaches the threshold (attend the last word)", p_low, 0.5),
        ("the same random probabilities with threshold 0.8", p_random, 0.8),
    ]
    return [Case(text, (p, t), reference.hard_monotonic_alignment(p, threshold=t)) for text, p, t in cases]


def _forward_attention_by_loop(weights, move):
    """The answer to exercise 5.4, one output step and one source word at a time."""
    steps_q, steps_v = weights.shape
    previous = np.zeros(steps_v)
    previous[0] = 1.0  # before the first output step, all the mass is on the first word
    rows = []
    for i in range(steps_q):
        row = np.zeros(steps_v)
        for j in range(steps_v):
            stay = (1.0 - move[i]) * previous[j]
            arrive = move[i] * previous[j - 1] if j > 0 else 0.0
            row[j] = (stay + arrive) * weights[i, j]
        previous = row / row.sum()
        rows.append(previous)
    return np.array(rows)


@register("5.4", "forward attention with a transition agent (Zhang et al.)")
def _forward_attention_cases():
    from attncourse import reference

    rng = np.random.default_rng(54)
    weights = reference.masked_softmax(_random(rng, 5, 6))
    move = rng.uniform(0.1, 0.9, size=5)
    cases = [
        ("five steps over six words, random transition probabilities", weights, move),
        ("u = 0.5 at every step (plain forward attention)", weights, np.full(5, 0.5)),
        ("u = 0 (the attention never leaves the first word)", weights, np.zeros(5)),
        ("u = 1 (exactly one word forward per step)", weights, np.ones(5)),
    ]
    return [Case(text, (w, u), _forward_attention_by_loop(w, u)) for text, w, u in cases]


# Chapter 9: towards the Transformer. The answers are written here in plain NumPy.
def _causal_mask_by_hand(token_mask):
    """m_ij = [j <= i] and m_j, one entry at a time."""
    token_mask = np.asarray(token_mask, dtype=bool)
    batch, steps = token_mask.shape
    mask = np.zeros((batch, steps, steps), dtype=bool)
    for b in range(batch):
        for i in range(steps):
            for j in range(i + 1):
                mask[b, i, j] = token_mask[b, j]
    return mask


@register("9.1", "the decoder's mask: causal and padding, m_ij = [j ≤ i] m_j")
def _causal_mask_cases():
    no_padding = np.ones((1, 4), dtype=bool)
    padded = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 1, 0, 0, 0]], dtype=bool)
    single = np.ones((2, 1), dtype=bool)
    cases = [
        ("one sentence of 4 tokens, no padding (a lower triangle)", no_padding),
        ("three sentences padded to 5 (padding columns are False in every row)", padded),
        ("sentences of one token", single),
    ]
    # Compared as 0/1 floats, so that a wrong entry is named by its index in the hint.
    return [Case(text, (mask,), _causal_mask_by_hand(mask).astype(float)) for text, mask in cases]


def _positions_by_hand(length, depth):
    """PE[t, 2i] = sin(t / 10000^(2i/d)), PE[t, 2i+1] = cos(t / 10000^(2i/d)), entry by entry."""
    encoding = np.zeros((length, depth))
    for t in range(length):
        for column in range(depth):
            pair = column - column % 2  # 2i: both columns of a pair share one frequency
            angle = t / 10000.0 ** (pair / depth)
            encoding[t, column] = np.sin(angle) if column % 2 == 0 else np.cos(angle)
    return encoding


@register("9.2", "sinusoidal positional encoding")
def _positional_encoding_cases():
    cases = [
        ("4 positions, depth 6", 4, 6),
        ("one position, depth 2 (position 0: sin 0 = 0, cos 0 = 1)", 1, 2),
        ("50 positions, depth 16 (slow columns: 10000 ** (2i / d), not (2i / d) alone)", 50, 16),
    ]
    return [Case(text, (length, depth), _positions_by_hand(length, depth)) for text, length, depth in cases]


def _heads_by_hand(x, heads):
    """Head n of position t: the n-th block of d/heads columns of x[b, t], copied one by one."""
    batch, steps, depth = x.shape
    size = depth // heads
    split = np.zeros((batch, heads, steps, size))
    for n in range(heads):
        for t in range(steps):
            split[:, n, t, :] = x[:, t, n * size:(n + 1) * size]
    return split


@register("9.3", "split the last axis into heads: (batch, T, d) -> (batch, heads, T, d / heads)")
def _split_heads_cases():
    rng = np.random.default_rng(93)
    # Distinct, readable numbers: entry (b, t, c) is 100 b + 10 t + c, so a scrambled
    # reshape shows up at once in the hint.
    counted = (100 * np.arange(2)[:, None, None] + 10 * np.arange(3)[None, :, None]
               + np.arange(4)[None, None, :]).astype(float)
    random = _random(rng, 1, 5, 12)
    cases = [
        ("2 sentences of 3 positions, d = 4, 2 heads (entry = 100 b + 10 t + c)", counted, 2),
        ("one sentence of 5 positions, d = 12, 3 heads", random, 3),
        ("one head (only a new axis)", random, 1),
    ]
    return [Case(text, (x, heads), _heads_by_hand(x, heads)) for text, x, heads in cases]


# Chapter 8: HAN, attention with a learned context vector, at two levels.
@register("8.1", "HAN's word attention over a whole document")
def _han_word_attention_cases():
    from attncourse import reference

    rng = np.random.default_rng(81)
    sentence, W, b, u_w = _random(rng, 5, 4), _random(rng, 4, 3), _random(rng, 3), _random(rng, 3)
    document = _random(rng, 3, 5, 4)  # 3 sentences of 5 words, d = 4
    mask = np.array([[1, 1, 1, 1, 0], [1, 1, 0, 0, 0], [0, 0, 0, 0, 0]], dtype=bool)
    # A large context vector makes scores of several hundred: exp overflows without the max shift.
    sharp_u_w = 200.0 * u_w
    return [
        Case("one sentence of five words, no mask", (sentence, W, b, u_w), reference.context_attention_weights(sentence, W, b, u_w)),
        Case("a document of 3 sentences with padded words and a fully padded third sentence (it must get zeros)",
             (document, W, b, u_w), reference.context_attention_weights(document, W, b, u_w, mask), {"mask": mask}),
        Case("a large context vector: scores of several hundred (subtract the max before exp)",
             (document, W, b, sharp_u_w), reference.context_attention_weights(document, W, b, sharp_u_w, mask),
             {"mask": mask}),
    ]


def _masked_pooling_expected(h, mask, mode):
    """Average or maximum over the real steps of (..., T, d); zeros where no step is real."""
    real = mask[..., None]
    count = real.sum(axis=-2)
    if mode == "average":
        pooled = np.where(real, h, 0.0).sum(axis=-2) / np.maximum(count, 1)
    else:
        pooled = np.where(real, h, -np.inf).max(axis=-2)
    return np.where(count > 0, pooled, 0.0)


@register("8.2", "masked average and max pooling, the baselines of HAN")
def _masked_pooling_cases():
    rng = np.random.default_rng(82)
    h = _random(rng, 3, 4, 2)
    mask = np.array([[1, 1, 1, 0], [1, 0, 0, 0], [0, 0, 0, 0]], dtype=bool)
    negative = -np.abs(_random(rng, 1, 4, 3)) - 1.0  # every value < -1: padding zeros must not win the max
    negative_mask = np.array([[1, 1, 0, 0]], dtype=bool)
    return [
        Case("average over sequences with padding, one of them fully padded (zeros, not NaN)",
             (h, mask), _masked_pooling_expected(h, mask, "average"), {"mode": "average"}),
        Case("max of negative values beside padding (a padded step must never win)",
             (negative, negative_mask), _masked_pooling_expected(negative, negative_mask, "max"), {"mode": "max"}),
        Case("max over sequences with padding, one of them fully padded (zeros, not -inf)",
             (h, mask), _masked_pooling_expected(h, mask, "max"), {"mode": "max"}),
    ]


@register("8.3", "how much each word counts in the document vector")
def _document_word_share_cases():
    rng = np.random.default_rng(83)
    from attncourse import reference

    word_mask = np.array([[1, 1, 1, 0], [1, 1, 0, 0], [0, 0, 0, 0]], dtype=bool)
    word_weights = reference.masked_softmax(_random(rng, 3, 4), word_mask)  # (S=3, T=4)
    sentence_weights = reference.masked_softmax(_random(rng, 3), word_mask.any(axis=-1))  # (S,)
    square_words = reference.masked_softmax(_random(rng, 3, 3))  # S = T = 3: a wrong axis still broadcasts
    square_sentences = reference.masked_softmax(_random(rng, 3))
    batch_words = reference.masked_softmax(_random(rng, 2, 3, 4))
    batch_sentences = reference.masked_softmax(_random(rng, 2, 3))
    return [
        Case("3 sentences of 4 words with padding", (word_weights, sentence_weights),
             sentence_weights[:, None] * word_weights),
        Case("as many sentences as words (3 x 3): multiply each ROW by its sentence weight",
             (square_words, square_sentences), square_sentences[:, None] * square_words),
        Case("a batch of two documents, weights (2, 3, 4) and (2, 3)", (batch_words, batch_sentences),
             batch_sentences[..., None] * batch_words),
    ]


# Chapter 6: static attention, structured self-attention (Lin et al.) and self-attention.
def _static_pooling_by_hand(h, W, b, u_w, mask):
    """s = Σ_t α_t h_t with α from the NumPy reference (zeros for a sentence without words)."""
    from attncourse import reference

    weights = reference.context_attention_weights(h, W, b, u_w, mask)
    return np.sum(weights[..., None] * np.asarray(h, dtype=float), axis=-2)


@register("6.1", "static attention: pool a sentence into one vector s = Σ_t α_t h_t")
def _static_pooling_cases():
    rng = np.random.default_rng(61)
    h, W, b, u_w = _random(rng, 6, 4), _random(rng, 4, 3), _random(rng, 3), _random(rng, 3)
    batch = _random(rng, 3, 5, 4)
    mask = np.array([[1, 1, 1, 1, 1], [1, 1, 0, 0, 0], [0, 0, 0, 0, 0]], dtype=bool)
    cases = [
        ("one sentence of 6 words, d = 4, u = 3, no mask", (h, W, b, u_w, None)),
        ("3 sentences of 5 words, the second padded after 2 words, the third all padding (zeros)",
         (batch, W, b, u_w, mask)),
        ("huge hidden scores (u_w times 1e4): the softmax must subtract the max", (h, W, b, u_w * 1e4, None)),
    ]
    return [Case(text, args, _static_pooling_by_hand(*args)) for text, args in cases]


@register("6.2", "Lin's hop weights A = softmax(W_s2 tanh(W_s1 Hᵀ)), one row per hop, padding masked")
def _hop_weights_cases():
    from attncourse import reference

    rng = np.random.default_rng(62)
    h, W_s1, W_s2 = _random(rng, 6, 4), _random(rng, 4, 5), _random(rng, 5, 3)
    batch = _random(rng, 3, 5, 4)
    mask = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [0, 0, 0, 0, 0]], dtype=bool)
    one_hop = _random(rng, 5, 1)
    cases = [
        ("one sentence of 6 words, d = 4, d_a = 5, r = 3 hops, no mask", (h, W_s1, W_s2, None)),
        ("3 sentences of 5 words, the second padded after 3, the third all padding (zeros)",
         (batch, W_s1, W_s2, mask)),
        ("a single hop (r = 1: the result still has a hop axis of size 1)", (h, W_s1, one_hop, None)),
        ("huge scores (W_s2 times 1e4): subtract the max", (h, W_s1, W_s2 * 1e4, None)),
    ]
    return [Case(text, args, reference.self_attentive_weights(*args)) for text, args in cases]


def _penalty_parts_by_loops(A):
    """[Σ_a (Σ_t A_at² − 1)², Σ_{a≠b} (Σ_t A_at A_bt)²], one hop and one pair at a time."""
    A = np.asarray(A, dtype=float)
    hops = A.shape[-2]
    sharpness = np.zeros(A.shape[:-2])
    redundancy = np.zeros(A.shape[:-2])
    for a in range(hops):
        sharpness = sharpness + (np.sum(A[..., a, :] ** 2, axis=-1) - 1.0) ** 2
        for b in range(hops):
            if a != b:
                redundancy = redundancy + np.sum(A[..., a, :] * A[..., b, :], axis=-1) ** 2
    return np.stack([sharpness, redundancy], axis=-1)


@register("6.3", "the two parts of Lin's penalty: [diagonal (sharpness), off-diagonal (overlap)]")
def _penalty_parts_cases():
    from attncourse import reference

    rng = np.random.default_rng(63)
    hops = reference.masked_softmax(_random(rng, 2, 3, 7) * 2.0)  # (2 sentences, 3 hops, 7 words)
    same_word = np.tile(np.eye(5)[[2]], (3, 1))  # three one-hot hops on the same word
    different_words = np.eye(5)[[0, 2, 4]]  # three one-hot hops on three different words
    uniform = np.full((2, 5), 1 / 5)
    cases = [
        ("2 sentences, 3 hops over 7 words", hops),
        ("three one-hot hops on the same word (sharp, but every pair overlaps fully)", same_word),
        ("three one-hot hops on different words (both parts are 0)", different_words),
        ("two uniform hops over 5 words (not sharp, and overlapping)", uniform),
    ]
    return [Case(text, (A,), _penalty_parts_by_loops(A)) for text, A in cases]


def _self_attention_by_reference(x, W_q, W_k, W_v, mask):
    from attncourse import reference

    x = np.asarray(x, dtype=float)
    scores = reference.scaled_dot_score(x @ W_q, x @ W_k)  # (..., T, T): every word queries every word
    key_mask = None if mask is None else np.asarray(mask, dtype=bool)[..., None, :]
    return reference.context(reference.masked_softmax(scores, key_mask), x @ W_v)


@register("6.4", "scaled dot-product self-attention softmax(Q Kᵀ / sqrt(d_k)) V with Q, K, V from x")
def _self_attention_cases():
    rng = np.random.default_rng(64)
    x, W_q, W_k, W_v = _random(rng, 5, 4), _random(rng, 4, 3), _random(rng, 4, 3), _random(rng, 4, 2)
    batch = _random(rng, 2, 6, 4)
    mask = np.array([[1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0]], dtype=bool)
    wide_q, wide_k = _random(rng, 4, 64), _random(rng, 4, 64)
    cases = [
        ("one sentence of 5 words, d = 4, d_k = 3, d_v = 2, no mask", (x, W_q, W_k, W_v, None)),
        ("2 sentences of 6 words, the second padded after 3 (padded keys get no weight)",
         (batch, W_q, W_k, W_v, mask)),
        ("d_k = 64 (divide by sqrt(d_k) = 8, not by d or 64)", (x, wide_q, wide_k, W_v, None)),
    ]
    return [Case(text, args, _self_attention_by_reference(*args)) for text, args in cases]


# Chapter 7: key-value attention in a language model (Daniluk et al. 2017).
@register("7.1", "the causal window: which earlier steps may step t read?")
def _causal_window_cases():
    def allowed(steps, window):
        # lag[t, j] = t - j: step t may read step j when 1 <= t - j <= L.
        lag = np.arange(steps)[:, None] - np.arange(steps)[None, :]
        return (lag >= 1) & (lag <= window)

    return [
        Case("6 steps, window 2", (6, 2), allowed(6, 2)),
        Case("4 steps, window 1 (only the step just before)", (4, 1), allowed(4, 1)),
        Case("5 steps, a window of 10, longer than the sequence", (5, 10), allowed(5, 10)),
    ]


@register("7.2", "key-value-predict attention: the read vectors r_t")
def _key_value_predict_cases():
    from attncourse import reference

    rng = np.random.default_rng(72)
    h = _random(rng, 6, 9)  # T = 6 steps, d = 9: keys, values and predict parts of 3
    W_k, W_q, w = _random(rng, 3, 3), _random(rng, 3, 3), _random(rng, 3)
    longer = _random(rng, 4, 9)
    return [
        Case("6 steps, d = 9, window 2", (h, W_k, W_q, w, 2),
             reference.key_value_attention(h, W_k, W_q, w, 2, "key_value_predict")[0]),
        Case("window 1: r_t must be the value v_{t-1}, and r_0 zero", (h, W_k, W_q, w, 1),
             reference.key_value_attention(h, W_k, W_q, w, 1, "key_value_predict")[0]),
        Case("4 steps, a window of 10 (longer than the sequence)", (longer, W_k, W_q, w, 10),
             reference.key_value_attention(longer, W_k, W_q, w, 10, "key_value_predict")[0]),
    ]


@register("7.3", "perplexity from the logits and the next words")
def _perplexity_cases():
    def perplexity(logits, targets):
        # exp of the mean negative log-probability of the right next word, with a stable log-softmax.
        shifted = logits - logits.max(axis=-1, keepdims=True)
        log_probabilities = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
        picked = np.take_along_axis(log_probabilities, targets[..., None], axis=-1)
        return np.exp(-picked.mean())

    rng = np.random.default_rng(73)
    logits = _random(rng, 2, 5, 7)  # 2 windows, 5 steps, 7 words
    targets = rng.integers(0, 7, size=(2, 5))
    uniform = np.zeros((1, 4, 10))
    confident = logits.argmax(axis=-1)
    return [
        Case("2 windows of 5 steps over 7 words", (logits, targets), perplexity(logits, targets)),
        Case("equal logits over 10 words (the perplexity must be 10)", (uniform, targets[:1, :4] % 10),
             perplexity(uniform, targets[:1, :4] % 10)),
        Case("logits of 1e4, each target the most likely word (use a stable log-softmax)",
             (logits * 1e4, confident), perplexity(logits * 1e4, confident)),
    ]


@register("7.4", "the N-gram RNN's input [h¹_t; h²_{t-1}; …; h^{N-1}_{t-N+2}]")
def _ngram_input_cases():
    def ngram_input(h, n):
        # Part i (counted from 0) of h_t is read i steps later: shift it right by i, zeros first.
        parts = np.split(h, n - 1, axis=-1)
        shifted = []
        for lag, part in enumerate(parts):
            delayed = np.zeros_like(part)
            delayed[:, lag:] = part[:, : part.shape[1] - lag]
            shifted.append(delayed)
        return np.concatenate(shifted, axis=-1)

    rng = np.random.default_rng(74)
    h = _random(rng, 1, 5, 6)
    batch = _random(rng, 2, 4, 4)
    return [
        Case("a 4-gram RNN: 3 parts of 2, 5 steps", (h, 4), ngram_input(h, 4)),
        Case("a 3-gram RNN on a batch of 2: 2 parts of 2", (batch, 3), ngram_input(batch, 3)),
        Case("a 2-gram RNN: one part, nothing is shifted", (batch, 2), ngram_input(batch, 2)),
    ]
