"""The attention layers of the course, Keras 3 layers written with ``keras.ops`` only.

One module per idea; each layer follows the calling convention of Keras's own attention
layers (see README.md and ``book/notation.md``). The cross attentions (Bahdanau, Luong,
local, monotonic) share their base, :class:`~attncourse.layers.cross.CrossAttention`,
in the module ``cross``.
"""
from attncourse.layers.context import ContextAttention
from attncourse.layers.key_value import KeyValueAttention
from attncourse.layers.self_attentive import SelfAttentivePooling, hop_penalty
from attncourse.layers.bahdanau import BahdanauAttention
from attncourse.layers.luong import LuongAttention
from attncourse.layers.local import LocalAttention
from attncourse.layers.monotonic import MonotonicAttention
