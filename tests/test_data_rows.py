"""Tests of attncourse.data.rows: the train/test split (indexing by rows is tested with each data set)."""

import pytest

from attncourse.data import split, toy_translation
from tests.test_data_pairs import same_pairs


@pytest.fixture(scope="module")
def corpus():
    return toy_translation(1500, seed=3)


def test_split_partitions_the_pairs(corpus):
    train, test = split(corpus, test_fraction=0.2, seed=1)
    assert len(test) == 300 and len(train) == 1200

    def key(data):
        return sorted(s.tobytes() + b"|" + t.tobytes() for s, t in zip(data.source, data.target))

    assert sorted(key(train) + key(test)) == key(corpus)
    again_train, again_test = split(corpus, test_fraction=0.2, seed=1)
    assert same_pairs(train, again_train) and same_pairs(test, again_test)
    _, other_test = split(corpus, test_fraction=0.2, seed=2)
    assert not same_pairs(test, other_test)
    assert train.lexicon is corpus.lexicon


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.2, 1.5, "half"])
def test_split_rejects_bad_fractions(corpus, fraction):
    with pytest.raises(ValueError, match="test_fraction"):
        split(corpus, test_fraction=fraction)


def test_split_rejects_an_empty_side():
    with pytest.raises(ValueError, match="both sides need at least one pair"):
        split(toy_translation(3), test_fraction=0.1)
