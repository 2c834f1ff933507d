"""Fixtures shared by the tests of the translation models and their decoding.

``toy`` is a dozen pairs of the toy language of chapters 2–5, padded to ``SOURCE_LENGTH``
source words, with the arrays of teacher forcing; ``toy_translator`` and
``toy_transformer`` build small models for them from a fixed seed.
"""

import keras
import pytest

from attncourse import data, transformer
from attncourse.layers import BahdanauAttention, LuongAttention, MonotonicAttention
from attncourse.translator import Translator

SOURCE_LENGTH = 9
# The attention of each kind of toy translator; "none" is the fixed-vector encoder–decoder.
KINDS = ["none", "bahdanau", "luong", "monotonic"]


@pytest.fixture(scope="module")
def toy():
    """``(pairs, arrays)``: 12 toy pairs of 3 to 9 words, and ``data.seq2seq_arrays`` of them."""
    pairs = data.toy_translation(12, vocab_size=20, min_length=3, max_length=SOURCE_LENGTH, seed=3)
    return pairs, data.seq2seq_arrays(pairs, source_length=SOURCE_LENGTH)


def toy_translator(pairs, kind, bidirectional=False):
    """A small :class:`Translator` for ``pairs`` with the attention of ``kind`` (see KINDS), seed 0."""
    attention = {"none": None, "bahdanau": BahdanauAttention(8), "luong": LuongAttention("general"),
                 "monotonic": MonotonicAttention(8)}[kind]
    keras.utils.set_random_seed(0)
    return Translator(len(pairs.source_vocab), len(pairs.target_vocab), source_length=SOURCE_LENGTH,
                      embedding_dim=6, units=10, attention=attention, bidirectional=bidirectional)


def toy_transformer(pairs, num_layers=1):
    """A small :class:`~attncourse.transformer.Transformer` for ``pairs``, seed 0."""
    keras.utils.set_random_seed(0)
    return transformer.Transformer(len(pairs.source_vocab), len(pairs.target_vocab), source_length=SOURCE_LENGTH,
                                   depth=8, heads=2, num_layers=num_layers, max_length=32)
