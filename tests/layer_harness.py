"""The protocol of the layer invariant tests: each layer module's tests declare cases.

`tests/layer_cases_cross.py` and `tests/layer_cases_pooling.py` each define ``CASES``, a
list of :class:`LayerCase`; `tests/test_layer_invariants.py` checks DESIGN A.5's promises
on every one of them.
"""

from dataclasses import dataclass
from typing import Callable, Optional

import keras


@dataclass(frozen=True)
class LayerCase:
    id: str  # e.g. "luong-general-scaled"
    kind: str  # "cross" | "pooling" | "causal"
    make: Callable[..., keras.layers.Layer]  # make(**kwargs) -> a fresh layer
    depth: int = 8  # feature depth of the inputs the harness builds
    values: Optional[Callable] = None  # causal only: h -> the values the weights average
    bad_options: tuple = ()  # constructor kwargs dicts that must raise ValueError

    def __post_init__(self):
        if self.kind not in ("cross", "pooling", "causal"):
            raise ValueError(f"LayerCase {self.id!r}: unknown kind {self.kind!r}")
