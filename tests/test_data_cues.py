"""Tests of attncourse.data.cues: chapter 6's sentences with planted cue words."""

import numpy as np
import pytest

from attncourse import data as D
from attncourse.data import PAD, split


def test_planted_cues_labels_name_exactly_the_cues_present():
    cues = D.planted_cues(400, seed=5)
    assert cues.ids.shape == (400, 16) and cues.ids.dtype == np.int32
    assert cues.n_classes == 8
    cue_ids = [cues.vocabulary.id(word) for word in cues.cue_words]
    for k in range(len(cues)):
        row = cues.ids[k]
        present = [cue_id in row for cue_id in cue_ids]
        assert cues.labels[k] == sum(2**b for b, p in enumerate(present) if p)
        for b, (cue_id, position) in enumerate(zip(cue_ids, cues.cue_positions[k])):
            # The position says where the cue is, and a cue appears at most once.
            assert np.count_nonzero(row == cue_id) == (position >= 0)
            if position >= 0:
                assert row[position] == cue_id
    assert np.array_equal(cues.present, cues.cue_positions >= 0)


def test_planted_cues_lengths_padding_and_fillers():
    cues = D.planted_cues(300, min_length=5, max_length=9, seed=2)
    lengths = cues.lengths
    assert lengths.min() >= 5 and lengths.max() <= 9 and cues.ids.shape[1] == 9
    real = np.arange(9)[None, :] < lengths[:, None]
    assert np.all(cues.ids[~real] == PAD) and np.all(cues.ids[real] != PAD)  # padding only at the end
    assert np.all(cues.cue_positions < lengths[:, None])  # a cue is never planted in the padding
    words = {word for k in range(len(cues)) for word in cues.words(k)}
    assert words <= set(D.CHATTER_WORDS) | set(D.WEATHER_CUES)


def test_planted_cues_are_spread_over_places_and_subsets():
    cues = D.planted_cues(4000, cue_rate=0.5, seed=0)
    # Each of the 8 subsets of 3 cues has probability 1/8.
    shares = np.bincount(cues.labels, minlength=8) / len(cues)
    assert np.all(np.abs(shares - 1 / 8) < 0.03)
    # A cue is as likely at the first word as at the last real word.
    relative = cues.cue_positions[cues.present] / (np.repeat(cues.lengths, 3).reshape(-1, 3)[cues.present] - 1)
    assert 0.45 < relative.mean() < 0.55 and relative.min() == 0.0 and relative.max() == 1.0


def test_planted_cues_rate_extremes_and_seed():
    assert np.all(D.planted_cues(50, cue_rate=1.0).labels == 7)
    assert np.all(D.planted_cues(50, cue_rate=0.0).labels == 0)
    first, again, other = (D.planted_cues(50, seed=s) for s in (3, 3, 4))
    assert np.array_equal(first.ids, again.ids) and not np.array_equal(first.ids, other.ids)


def test_planted_cues_custom_words_names_and_split():
    cues = D.planted_cues(60, cue_words=("alpha", "beta"), filler_words=("x", "y", "z"), min_length=2, max_length=4)
    assert cues.n_classes == 4 and cues.label_name(0) == "no cue" and cues.label_name(3) == "alpha + beta"
    train, test = split(cues, test_fraction=0.25, seed=1)
    assert len(train) == 45 and len(test) == 15
    assert sorted(np.concatenate([train.labels, test.labels]).tolist()) == sorted(cues.labels.tolist())
    assert len(cues[2:5]) == 3 and cues[0].ids.shape == (1, 4)
    with pytest.raises(ValueError, match="below 4"):
        cues.label_name(4)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(n_sentences=0), "n_sentences must be at least 1"),
        (dict(cue_words=()), "1 to 8 words"),
        (dict(cue_words="rain"), "not a single string"),
        (dict(filler_words=()), "at least one word"),
        (dict(cue_words=("rain", "the")), "cannot also be a filler"),
        (dict(cue_words=("rain", "rain")), "distinct"),
        (dict(min_length=2), "min_length must be at least 3"),
        (dict(min_length=8, max_length=6), "max_length must be at least 8"),
        (dict(cue_rate=1.5), r"cue_rate must be a probability"),
    ],
)
def test_planted_cues_bad_arguments(kwargs, message):
    kwargs = {"n_sentences": 10, **kwargs}
    with pytest.raises(ValueError, match=message):
        D.planted_cues(**kwargs)
