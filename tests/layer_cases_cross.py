"""Cases of the cross-attention layers for tests/test_layer_invariants.py.

One case per configuration that changes what the layer computes: Bahdanau's additive
score; each Luong score, dot and general with and without scaling; local-m and local-p;
monotonic attention in its soft (expected) and hard modes. Two configurations are
checked on their own in tests/test_layers_cross.py: local-p with ``normalize=False``
(Luong's weights, which sum to less than one, are not a distribution) and Luong's
location score (it needs the number of source positions at build time, and the harness's
functional model has sources of unknown length).
"""

from attncourse.layers.bahdanau import BahdanauAttention
from attncourse.layers.local import LocalAttention
from attncourse.layers.luong import LuongAttention
from attncourse.layers.monotonic import MonotonicAttention
from tests.layer_harness import LayerCase


def maker(layer_class, **defaults):
    """make(**kwargs): a fresh layer; kwargs (dtype, or a bad option) override the defaults."""

    def make(**kwargs):
        return layer_class(**{**defaults, **kwargs})

    return make


UNITS_BAD = ({"units": 0}, {"units": -3}, {"units": 2.5})
LUONG_BAD = (
    {"score": "cosine"},
    {"score": "concat", "units": None},
    {"score": "concat", "units": 4, "scale": True},
    {"units": 0},
    {"scale": "yes"},
    {"score": "location", "scale": True},
)
LOCAL_BAD = (
    {"window": 0},
    {"window": -1},
    {"window": 1.5},
    {"mode": "global"},
    {"score": "cosine"},
    {"score": "concat", "units": None},
    {"score": "location"},
    {"normalize": "no"},
)
MONOTONIC_BAD = (
    {"mode": "medium"},
    {"threshold": 1.5},
    {"threshold": -0.1},
    {"init_bias": "low"},
    {"online": "yes"},
    *UNITS_BAD,
)

CASES = [
    LayerCase("bahdanau", "cross", maker(BahdanauAttention, units=5), bad_options=UNITS_BAD),
    LayerCase("luong-dot", "cross", maker(LuongAttention, score="dot"), bad_options=LUONG_BAD),
    LayerCase(
        "luong-dot-scaled",
        "cross",
        maker(LuongAttention, score="dot", scale=True),
        bad_options=LUONG_BAD,
    ),
    LayerCase(
        "luong-general", "cross", maker(LuongAttention, score="general"), bad_options=LUONG_BAD
    ),
    LayerCase(
        "luong-general-scaled",
        "cross",
        maker(LuongAttention, score="general", scale=True),
        bad_options=LUONG_BAD,
    ),
    LayerCase(
        "luong-concat",
        "cross",
        maker(LuongAttention, score="concat", units=5),
        bad_options=LUONG_BAD,
    ),
    LayerCase(
        "local-m", "cross", maker(LocalAttention, window=1, mode="monotonic"), bad_options=LOCAL_BAD
    ),
    LayerCase(
        "local-p",
        "cross",
        maker(LocalAttention, window=2, mode="predictive"),
        bad_options=LOCAL_BAD,
    ),
    LayerCase(
        "monotonic-soft",
        "cross",
        maker(MonotonicAttention, units=5, mode="soft"),
        bad_options=MONOTONIC_BAD,
    ),
    LayerCase(
        "monotonic-hard",
        "cross",
        maker(MonotonicAttention, units=5, mode="hard", online=True),
        bad_options=MONOTONIC_BAD,
    ),
]
