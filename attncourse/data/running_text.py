"""Chapter 7's running text: Python's own documentation as a language-modelling corpus.

Chapter 7 trains word-level language models (Daniluk et al., 2017) on text that ships
with Python itself: the reference documentation kept in ``pydoc_data.topics`` (what
``help("assert")`` prints), about a hundred thousand words, nothing to download. A
language model reads one long stream of word ids, cut into windows; the target of each
step is the next word.

- :func:`word_tokens` splits text into words; :func:`python_docs_text` is the text;
- :func:`language_model_windows` cuts a stream of ids into input and target windows;
- :func:`python_docs_corpus` does it all and returns a :class:`TextCorpus`.
"""

from __future__ import annotations

import pydoc_data.topics
import re
from typing import NamedTuple

import numpy as np

from attncourse.data.arguments import _check_integer
from attncourse.data.vocabulary import Vocabulary, encode_words, word_vocabulary

__all__ = ["TextCorpus", "language_model_windows", "python_docs_corpus", "python_docs_text", "word_tokens"]

# A word is a lower-case identifier (`__debug__` and `assert_stmt` stay whole), a number, or
# a punctuation mark; a run of one repeated mark, such as the `*****` under a heading, is
# one token, so that underlines do not flood the text with easy predictions.
_TEXT_TOKEN = re.compile(r"[a-z_][a-z0-9_]*|[0-9]+|([^\w\s])\1*")


class TextCorpus(NamedTuple):
    """A language-modelling corpus made by :func:`python_docs_corpus`.

    Attributes:
        vocabulary: the :class:`Vocabulary`; its first word is :data:`UNKNOWN`.
        train_inputs, train_targets: int32 arrays ``(n_train, length)``; the targets are
            the inputs shifted by one word (``targets[:, t]`` is the word after
            ``inputs[:, t]``).
        test_inputs, test_targets: the same for the held-out windows.
        context: the number of leading steps of every window that only give context: the
            model reads them but is not scored on them (see :func:`language_model_windows`).
    """

    vocabulary: Vocabulary
    train_inputs: np.ndarray
    train_targets: np.ndarray
    test_inputs: np.ndarray
    test_targets: np.ndarray
    context: int = 0

    def scored(self, targets):
        """Sample weights for ``targets``: 0 on the context steps, 1 on the scored ones."""
        weights = (np.arange(targets.shape[1]) >= self.context).astype("float32")
        return np.broadcast_to(weights, targets.shape)


def word_tokens(text):
    """Split text into lower-case words, numbers and punctuation marks.

    Args:
        text: a str.

    Returns:
        A list of str tokens, e.g. ``word_tokens('The "assert" statement.')`` is
        ``['the', '"', 'assert', '"', 'statement', '.']``.

    Raises:
        ValueError: ``text`` is not a str.
    """
    if not isinstance(text, str):
        raise ValueError(f"text must be a str, got {type(text).__name__}")
    return [match.group(0) for match in _TEXT_TOKEN.finditer(text.lower())]


def python_docs_text():
    """The reference documentation that ships with Python, as one str.

    The pages of ``pydoc_data.topics`` (what ``help("topic")`` prints), in alphabetical
    order of their topic names, separated by blank lines. The text differs a little from one
    Python version to the next.
    """
    pages = pydoc_data.topics.topics
    return "\n\n".join(pages[name] for name in sorted(pages))


def language_model_windows(ids, length, context=0):
    """Cut a stream of word ids into windows of inputs and next-word targets.

    With ``context = 0``, window ``i`` reads ``ids[i*length : (i+1)*length]`` and must
    predict ``ids[i*length + 1 : (i+1)*length + 1]``; windows do not overlap, and the words
    left over at the end are dropped.

    With ``context = c > 0`` every window also reads the ``c`` words before its own
    ``length`` words: window ``i`` reads ``ids[i*length : i*length + c + length]``. The
    windows then overlap by ``c`` steps, and a model should be scored only on the last
    ``length`` steps of each (the first ``c`` give its state and its memory something to
    remember, as if the text had been read from its start); every word is then predicted
    exactly once, as with ``context = 0``.

    Args:
        ids: 1-D integer array of word ids.
        length: the number of scored steps in a window, at least 1.
        context: the number of context steps in front of them, at least 0.

    Returns:
        ``(inputs, targets)``, two int32 arrays of shape ``(n_windows, context + length)``.

    Raises:
        ValueError: ``ids`` is not 1-D, ``length`` is not a positive integer, ``context``
            is negative, or the stream is too short for one window (it needs
            ``context + length + 1`` ids).
    """
    ids = np.asarray(ids)
    if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"ids must be a 1-D array of integer word ids, got shape {ids.shape} and dtype {ids.dtype}")
    length = _check_integer("length", length, 1)
    context = _check_integer("context", context, 0)
    n_windows = (len(ids) - 1 - context) // length
    if n_windows < 1:
        raise ValueError(
            f"a window of {context} + {length} steps needs at least {context + length + 1} ids, got {len(ids)}"
        )
    starts = np.arange(n_windows) * length
    positions = starts[:, None] + np.arange(context + length)[None, :]
    return ids[positions].astype(np.int32), ids[positions + 1].astype(np.int32)


def python_docs_corpus(max_words=1000, length=30, test_every=10, context=0):
    """Python's own documentation as a word-level language-modelling corpus.

    The text of :func:`python_docs_text` is split by :func:`word_tokens`, the vocabulary is
    its ``max_words`` most frequent tokens plus :data:`UNKNOWN` (built from the whole text:
    the held-out windows have no word the model could not name), and the stream is cut
    into windows by :func:`language_model_windows`. Every ``test_every``-th window is held
    out, so the test text comes from all over the documentation rather than from the last
    pages only. Nothing here is random: the corpus is the same for every seed.

    With ``context > 0`` each window starts with that many words of context, read but not
    scored (``corpus.scored(targets)`` gives the sample weights); the scored words of the
    held-out windows are still never a training target, though the first training window
    after a held-out one reads its last words as context.

    Args:
        max_words: the vocabulary size, besides :data:`UNKNOWN` and the reserved tokens.
        length: the number of scored steps in a window.
        test_every: hold out one window in this many (at least 2).
        context: the number of context steps in front of every window (at least 0).

    Returns:
        A :class:`TextCorpus`.

    Raises:
        ValueError: a size that is not a positive integer, a negative ``context``, or
            ``test_every`` below 2.
    """
    test_every = _check_integer("test_every", test_every, 2)
    context = _check_integer("context", context, 0)
    tokens = word_tokens(python_docs_text())
    vocabulary = word_vocabulary(tokens, max_words)
    inputs, targets = language_model_windows(encode_words(vocabulary, tokens), length, context)
    held_out = np.arange(len(inputs)) % test_every == test_every - 1
    return TextCorpus(
        vocabulary, inputs[~held_out], targets[~held_out], inputs[held_out], targets[held_out], context
    )
