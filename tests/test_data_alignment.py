"""Tests of attncourse.data.alignment: alignment links and the alignment error rate (AER)."""

import numpy as np
import pytest

from attncourse.data import (alignment_error, alignment_links, diagonal_links, gold_links, seq2seq_arrays,
                             toy_translation)


@pytest.fixture(scope="module")
def corpus():
    return toy_translation(1500, seed=3)


def test_alignment_links_argmax_per_row_ignores_padding():
    weights = np.array(
        [
            [0.7, 0.2, 0.1, 0.0],
            [0.1, 0.1, 0.3, 0.5],  # column 3 is padding when source_length = 3
            [0.2, 0.6, 0.2, 0.0],
            [0.0, 0.0, 0.0, 1.0],  # the END step or a padded row
        ]
    )
    assert alignment_links(weights) == {(0, 0), (1, 3), (2, 1), (3, 3)}
    assert alignment_links(weights, source_length=3, target_length=3) == {(0, 0), (1, 2), (2, 1)}
    assert alignment_links(weights, target_length=0) == set()
    links = alignment_links(weights[:, :3], source_length=3)
    assert all(type(i) is int and type(j) is int for i, j in links)


def test_alignment_links_bad_inputs():
    weights = np.ones((3, 4)) / 4
    with pytest.raises(ValueError, match=r"shape \(T_q, T_v\), got shape \(1, 3, 4\)"):
        alignment_links(weights[None])
    with pytest.raises(ValueError, match="source_length=5 exceeds the 4 columns"):
        alignment_links(weights, source_length=5)
    with pytest.raises(ValueError, match="target_length=4 exceeds the 3 rows"):
        alignment_links(weights, target_length=4)
    with pytest.raises(ValueError, match="source_length must be at least 1"):
        alignment_links(weights, source_length=0)


def test_gold_links():
    assert gold_links(np.array([2, 0, 1])) == {(0, 2), (1, 0), (2, 1)}
    assert gold_links([1, -1, 1]) == {(0, 1), (2, 1)}
    assert gold_links([]) == set()
    with pytest.raises(ValueError, match="1-D"):
        gold_links([[0, 1]])


def test_alignment_error_perfect_and_disjoint():
    gold = [np.array([0, 2, 1]), np.array([1, 0])]
    assert alignment_error(gold, gold) == 0.0
    assert alignment_error([gold_links(g) for g in gold], gold) == 0.0
    disjoint = [np.array([1, 0, 0]), np.array([0, 1])]
    assert alignment_error(disjoint, gold) == 1.0


def test_alignment_error_partial_case_by_hand():
    # Sentence 1: A = {(0,0), (1,2)}, S = {(0,0), (1,1)}: 1 common link.
    # Sentence 2: A = {(0,1)},        S = {(0,1), (1,0)}: 1 common link.
    # Corpus: |A∩S| = 2, |A| = 3, |S| = 4, AER = 1 - 2*2 / (3 + 4) = 3/7.
    predicted = [{(0, 0), (1, 2)}, np.array([1, -1])]
    gold = [np.array([0, 1]), {(0, 1), (1, 0)}]
    assert alignment_error(predicted, gold) == pytest.approx(3 / 7)
    # Corpus-level, not a mean of per-sentence rates (which would be 1/2 and 1/3).
    assert alignment_error(predicted, gold) != pytest.approx((0.5 + 1 / 3) / 2)


def test_alignment_error_of_gold_attention_is_zero(corpus):
    # One-hot attention on the gold source word, padded as a batch would be, scores 0.
    data = corpus[:20]
    arrays = seq2seq_arrays(data)
    steps, source_steps = arrays["decoder_target"].shape[1], arrays["source"].shape[1]
    predicted = []
    for source, target, alignment in data:
        weights = np.full((steps, source_steps), 0.01)
        weights[np.arange(len(target)), alignment] = 1.0
        weights[len(target):, source_steps - 1] = 5.0  # END and padded rows point at padding
        predicted.append(alignment_links(weights, len(source), len(target)))
    assert alignment_error(predicted, data.alignment) == 0.0
    # A monotone diagonal guess is wrong wherever the word order differs.
    diagonal = [np.arange(len(t)) for t in data.target]
    aer = alignment_error(diagonal, data.alignment)
    assert 0.2 < aer < 1.0


def test_alignment_error_bad_inputs():
    with pytest.raises(ValueError, match="predicted has 1 sentences but gold has 2"):
        alignment_error([{(0, 0)}], [{(0, 0)}, {(0, 1)}])
    with pytest.raises(ValueError, match="not single sets"):
        alignment_error({(0, 0)}, {(0, 0)})
    with pytest.raises(ValueError, match="undefined"):
        alignment_error([set()], [np.array([-1])])
    with pytest.raises(ValueError, match=r"predicted\[0\] must hold"):
        alignment_error([{(0, 0, 1)}], [{(0, 0)}])


def test_diagonal_links_link_word_i_to_word_i_and_clip_at_the_source_end():
    links = diagonal_links([["a", "b", "c"], ["a"]], [["x", "y"], ["x", "y", "z"]])
    assert [row.tolist() for row in links] == [[0, 1], [0, 0, 0]]
    # A monotone gold alignment is the diagonal, so its AER is 0; a reversed one shares only the middle word.
    assert alignment_error(diagonal_links([["a", "b", "c"]], [["x", "y", "z"]]), [np.array([0, 1, 2])]) == 0.0
    assert alignment_error(diagonal_links([["a", "b", "c"]], [["x", "y", "z"]]), [np.array([2, 1, 0])]) == pytest.approx(2 / 3)


@pytest.mark.parametrize("sources,targets,match", [
    ([["a"]], [["x"], ["y"]], "1 sentences but targets has 2"),
    ([[]], [["x"]], "at least one word"),
])
def test_diagonal_links_reject_bad_input(sources, targets, match):
    with pytest.raises(ValueError, match=match):
        diagonal_links(sources, targets)
