"""Cases of the pooling and causal layers for tests/test_layer_invariants.py.

One case per configuration that changes what the layer computes: context attention with
the default and an explicit size, self-attentive pooling with one and three hops with and
without the penalty, and key-value attention in each of its three modes.
"""

from functools import partial

from attncourse.layers.context import ContextAttention
from attncourse.layers.key_value import KeyValueAttention
from attncourse.layers.self_attentive import SelfAttentivePooling
from tests.layer_harness import LayerCase

# Divisible by 2 and 3, so every key-value mode can split it.
KEY_VALUE_DEPTH = 12


def maker(layer_class, **defaults):
    """make(**kwargs): a fresh layer; kwargs (dtype, or a bad option) override the defaults."""

    def make(**kwargs):
        return layer_class(**{**defaults, **kwargs})

    return make


def key_value_values(h, window, mode):
    """The values a key-value layer averages, taken with the layer's own split."""
    return KeyValueAttention(window=window, mode=mode).split(h)[1]


CONTEXT_BAD = ({"units": 0}, {"units": -3}, {"units": 2.5})
SELF_ATTENTIVE_BAD = ({"hops": 0}, {"units": 0}, {"penalty": -0.1})
KEY_VALUE_BAD = ({"mode": "query"}, {"window": 0}, {"window": -1}, {"units": 0})

CASES = [
    LayerCase("context-units-default", "pooling", maker(ContextAttention), bad_options=CONTEXT_BAD),
    LayerCase("context-units-5", "pooling", maker(ContextAttention, units=5), bad_options=CONTEXT_BAD),
    LayerCase(
        "self-attentive-1-hop",
        "pooling",
        maker(SelfAttentivePooling, units=5),
        bad_options=SELF_ATTENTIVE_BAD,
    ),
    LayerCase(
        "self-attentive-1-hop-penalty",
        "pooling",
        maker(SelfAttentivePooling, units=5, penalty=0.3),
        bad_options=SELF_ATTENTIVE_BAD,
    ),
    LayerCase(
        "self-attentive-3-hops",
        "pooling",
        maker(SelfAttentivePooling, units=5, hops=3),
        bad_options=SELF_ATTENTIVE_BAD,
    ),
    LayerCase(
        "self-attentive-3-hops-penalty",
        "pooling",
        maker(SelfAttentivePooling, units=5, hops=3, penalty=0.5),
        bad_options=SELF_ATTENTIVE_BAD,
    ),
]

for _mode, _window in (("attention", 2), ("key_value", 3), ("key_value_predict", 4)):
    CASES.append(
        LayerCase(
            f"key-value-{_mode.replace('_', '-')}",
            "causal",
            maker(KeyValueAttention, window=_window, mode=_mode),
            depth=KEY_VALUE_DEPTH,
            values=partial(key_value_values, window=_window, mode=_mode),
            # A depth the mode cannot split is a build-time error, tested in test_layers_pooling.py.
            bad_options=KEY_VALUE_BAD,
        )
    )
