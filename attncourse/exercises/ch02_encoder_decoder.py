"""Chapter 2, the encoder–decoder: padded id arrays, PAD = 0 at the end of each row.

Exercises 2.1 to 2.3 and 2.5 (2.4 is open: no check).
"""

import numpy as np

from attncourse.data import END, START
from attncourse.exercises.registry import Case, register


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


def _first_word_replaced_by_loop(decoder_input, vocab_size):
    """The answer to exercise 2.5: column 1 holds y_1; the next real id replaces it, the last wraps to 3."""
    corrupted = np.array(decoder_input, copy=True)
    for row in corrupted:
        if row[1] >= 3:  # a real word (0, 1, 2 are PAD, START, END)
            row[1] = row[1] + 1 if row[1] + 1 < vocab_size else 3
    return corrupted


@register("2.5", "teacher forcing with a wrong first word: replace y_1 in the decoder input")
def _wrong_first_word_cases():
    rng = np.random.default_rng(25)
    targets = [rng.integers(3, 29, size=n) for n in (4, 1, 6)]
    decoder_input = np.zeros((3, 8), dtype=np.int32)
    for row, target in zip(decoder_input, targets):
        row[: len(target) + 1] = [START, *target]
    last_word = decoder_input.copy()
    last_word[1, 1] = 29  # the last id of a vocabulary of 30: wraps round to 3
    empty = np.array([[START, 0, 0], [START, 7, 9]], dtype=np.int32)
    cases = [
        ("three rows of START y_1 .. y_n, a vocabulary of 30 ids", (decoder_input, 30)),
        ("y_1 is the last id of the vocabulary (29 of 30: wrap round to 3, never PAD, START or END)",
         (last_word, 30)),
        ("an empty target (START then padding: nothing to replace) beside a real one", (empty, 12)),
    ]
    return [Case(text, args, _first_word_replaced_by_loop(*args)) for text, args in cases]
