"""Tests of attncourse.data.lengths: sentence-length buckets and their labels."""

import numpy as np
import pytest

from attncourse.data import bucket_labels, length_buckets


def test_length_buckets_edge_rule():
    edges = (3, 10, 20, 40)
    lengths = [3, 4, 10, 11, 20, 21, 39, 40]
    assert length_buckets(lengths, edges).tolist() == [0, 0, 0, 1, 1, 2, 2, 2]
    assert bucket_labels(edges) == ["3–10", "11–20", "21–40"]
    assert bucket_labels([3, 4, 10]) == ["3–4", "5–10"]
    assert bucket_labels([3, 5, 6]) == ["3–5", "6"]
    assert length_buckets(np.array([5, 6]), [3, 5, 6]).tolist() == [0, 1]
    assert length_buckets([], edges).shape == (0,)


def test_every_length_falls_in_the_bucket_its_label_names():
    edges = [3, 7, 12, 25, 40]
    labels = bucket_labels(edges)
    for length, bucket in zip(range(3, 41), length_buckets(np.arange(3, 41), edges)):
        low, _, high = labels[bucket].partition("–")
        assert int(low) <= length <= int(high or low)


@pytest.mark.parametrize(
    "lengths, edges, message",
    [
        ([2, 5], (3, 10), "length 2 is outside the buckets 3..10"),
        ([11], (3, 10), "length 11 is outside"),
        ([5], (3,), "at least two"),
        ([5], (3, 3, 10), "strictly increasing"),
        ([5], (10, 3), "strictly increasing"),
        ([5], (3.0, 10.5), "integers"),
        ([[5]], (3, 10), "1-D"),
    ],
)
def test_length_buckets_bad_inputs(lengths, edges, message):
    with pytest.raises(ValueError, match=message):
        length_buckets(lengths, edges)


def test_bucket_labels_bad_edges():
    with pytest.raises(ValueError, match="strictly increasing"):
        bucket_labels([10, 5])
