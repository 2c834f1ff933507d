"""Tests of attncourse.data.running_text: chapter 7's language-modelling corpus of Python's documentation."""

import numpy as np
import pytest

from attncourse.data import (
    UNKNOWN,
    TextCorpus,
    language_model_windows,
    python_docs_corpus,
    python_docs_text,
    word_tokens,
)


def test_word_tokens_lowercases_keeps_identifiers_and_splits_punctuation():
    tokens = word_tokens('The "assert_stmt" of __debug__, 42 times.\n*****')
    assert tokens == ["the", '"', "assert_stmt", '"', "of", "__debug__", ",", "42", "times", ".", "*****"]


def test_word_tokens_rejects_what_is_not_text():
    with pytest.raises(ValueError, match="must be a str"):
        word_tokens(["not", "a", "str"])


def test_python_docs_text_is_the_documentation_that_ships_with_python():
    text = python_docs_text()
    assert len(text) > 100_000
    assert "assert" in text and "AssertionError" in text
    assert python_docs_text() == text  # the same text every time: nothing random


def test_language_model_windows_targets_are_the_next_ids():
    ids = np.arange(20, 31)  # 11 ids: 3 windows of 3, and the last ids left over
    inputs, targets = language_model_windows(ids, 3)
    assert inputs.shape == targets.shape == (3, 3) and inputs.dtype == np.int32
    np.testing.assert_array_equal(inputs.ravel(), ids[:9])
    np.testing.assert_array_equal(targets, inputs + 1)


def test_language_model_windows_bad_inputs():
    with pytest.raises(ValueError, match="at least 4 ids"):
        language_model_windows(np.arange(3), 3)
    with pytest.raises(ValueError, match="1-D"):
        language_model_windows(np.zeros((2, 5), dtype=int), 2)
    with pytest.raises(ValueError, match="length"):
        language_model_windows(np.arange(10), 0)


def test_python_docs_corpus_holds_out_every_tenth_window():
    corpus = python_docs_corpus(max_words=300, length=25)
    assert isinstance(corpus, TextCorpus)
    assert len(corpus.vocabulary) == 3 + 1 + 300  # reserved, <unk>, words
    n_train, n_test = len(corpus.train_inputs), len(corpus.test_inputs)
    assert corpus.train_inputs.shape[1] == corpus.test_targets.shape[1] == 25
    assert 8 * n_test <= n_train <= 10 * n_test
    # Next-word targets: within a window, the target of step t is the input of step t + 1.
    np.testing.assert_array_equal(corpus.train_targets[:, :-1], corpus.train_inputs[:, 1:])
    # The reserved ids never appear in running text; <unk> does, with a small vocabulary.
    assert corpus.train_inputs.min() >= 3
    assert np.any(corpus.train_inputs == corpus.vocabulary.id(UNKNOWN))
    # Nothing random: the same corpus twice.
    again = python_docs_corpus(max_words=300, length=25)
    np.testing.assert_array_equal(again.test_inputs, corpus.test_inputs)
    with pytest.raises(ValueError, match="test_every"):
        python_docs_corpus(test_every=1)


def test_language_model_windows_with_context_overlap_and_predict_each_word_once():
    ids = np.arange(100, 120)  # 20 ids
    inputs, targets = language_model_windows(ids, 4, context=3)
    assert inputs.shape == targets.shape == (4, 7)  # (20 - 1 - 3) // 4 windows of 3 + 4 steps
    np.testing.assert_array_equal(inputs[1], ids[4:11])
    np.testing.assert_array_equal(targets, inputs + 1)
    # The scored steps (the last 4 of each window) predict every word once, in order.
    np.testing.assert_array_equal(targets[:, 3:].ravel(), ids[4:20])
    plain, _ = language_model_windows(ids, 4)
    np.testing.assert_array_equal(language_model_windows(ids, 4, context=0)[0], plain)
    with pytest.raises(ValueError, match="context"):
        language_model_windows(ids, 4, context=-1)
    with pytest.raises(ValueError, match="at least 9 ids"):
        language_model_windows(np.arange(8), 4, context=4)


def test_python_docs_corpus_with_context_scores_only_the_last_steps():
    corpus = python_docs_corpus(max_words=300, length=20, context=10)
    assert corpus.context == 10 and corpus.train_inputs.shape[1] == 30
    weights = corpus.scored(corpus.test_targets)
    assert weights.shape == corpus.test_targets.shape
    assert weights[:, :10].sum() == 0 and np.all(weights[:, 10:] == 1)
    # Each window's context is the end of the window before it in the text.
    plain = python_docs_corpus(max_words=300, length=20)
    assert plain.context == 0 and np.all(plain.scored(plain.train_targets) == 1)
