"""Appendix A's real sentence pairs: the Tatoeba pairs read into token ids.

The Tatoeba sentence pairs as ManyThings.org packs them, and as TensorFlow's translation
tutorials download them: one pair a line, "English<TAB>translation", and in the
ManyThings files a third column with the attribution. :func:`download_sentence_pairs`
fetches a file, :func:`read_sentence_pairs` reads it (words split by
:func:`tokenize_sentence`, vocabularies built by :func:`sentence_vocabulary`) into
:class:`SentencePairs`, which work like the toy task's pairs. Read with every word kept,
then split, the training pairs give the vocabularies (:meth:`SentencePairs.vocabularies`)
that every split is encoded with (:meth:`SentencePairs.with_vocabularies`), so that no test
sentence shapes them. A real corpus has no gold word alignment, so the alignment error of
chapters 3 and 4 cannot be measured on it.
"""

from __future__ import annotations

import dataclasses
import itertools
import numbers
import os
import re
import shutil
import unicodedata
import zipfile

from attncourse.data.arguments import _check_integer
from attncourse.data.pairs import _PairLists
from attncourse.data.vocabulary import UNKNOWN, Vocabulary, encode_words, word_vocabulary

__all__ = [
    "SENTENCE_PAIRS_URL",
    "SentencePairs",
    "download_sentence_pairs",
    "read_sentence_pairs",
    "sentence_vocabulary",
    "tokenize_sentence",
]

SENTENCE_PAIRS_URL = "http://storage.googleapis.com/download.tensorflow.org/data/spa-eng.zip"
# A word is a run of letters or digits (accents kept), with apostrophes inside it allowed;
# any other character that is not a space is a token of its own ("¿", "?", ",").
_PAIR_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)*|\S")


def tokenize_sentence(text):
    """Split one sentence into lower-case words and punctuation marks.

    The text is put in Unicode NFC form first, so that an accented letter is one character
    however it was typed, and a typographic apostrophe (’) becomes a plain one. Words keep
    their accents and inner apostrophes (``"don't"``, ``"l'homme"``); every other character
    that is not a space, punctuation included, is a token by itself.

    Args:
        text: the sentence, a str.

    Returns:
        A list of str, possibly empty.

    Raises:
        ValueError: ``text`` is not a str.

    Example:
        >>> tokenize_sentence("¿Dónde está el niño? Don’t ask.")
        ['¿', 'dónde', 'está', 'el', 'niño', '?', "don't", 'ask', '.']
    """
    if not isinstance(text, str):
        raise ValueError(f"a sentence must be a str, got {type(text).__name__}")
    text = unicodedata.normalize("NFC", text).replace("\u2019", "'").lower()
    return _PAIR_TOKEN.findall(text)


def sentence_vocabulary(sentences, max_size=None):
    """The most frequent tokens of some sentences, as a :class:`Vocabulary` with ``<unk>``.

    Args:
        sentences: tokenised sentences, each a list of str (see :func:`tokenize_sentence`).
        max_size: the most tokens to keep besides :data:`UNKNOWN`; ``None`` keeps all.

    Returns:
        A :class:`Vocabulary` of :data:`UNKNOWN` (id 3) followed by the tokens, most frequent
        first, ties in alphabetical order (so it does not depend on the order of the sentences).

    Raises:
        ValueError: ``max_size`` is given and is not a positive integer.
    """
    return word_vocabulary(itertools.chain.from_iterable(sentences), max_size)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class SentencePairs(_PairLists):
    """Real sentence pairs as token ids (see :func:`read_sentence_pairs`).

    It has what :func:`seq2seq_arrays`, :func:`split` and
    :func:`attncourse.decoding.accuracy_by_length` need, like :class:`ToyTranslation`, but no
    gold alignment: :attr:`alignment` is ``None``, and the alignment error cannot be
    computed (passing it to :func:`alignment_error` raises instead of returning a number).

    Attributes:
        source: list of 1-D int32 arrays, source token ids (no padding, no START/END).
        target: list of 1-D int32 arrays, target token ids.
        source_vocab, target_vocab: the two :class:`Vocabulary` objects; both hold
            :data:`UNKNOWN`, the id of every token outside the vocabulary.

    ``len(pairs)``, ``pairs[k]`` (a :class:`Pair` whose ``alignment`` is ``None``),
    ``pairs[a:b]``, ``pairs[[k1, k2]]`` and ``pairs.subset(indices)`` work as for
    :class:`ToyTranslation`.
    """

    source: list
    target: list
    source_vocab: Vocabulary
    target_vocab: Vocabulary

    @property
    def alignment(self):
        """``None``: nobody marked which word translates which in a real corpus."""
        return None

    def vocabularies(self, max_size=None):
        """The source and target vocabularies of these pairs' own words.

        Call it on the training pairs to build vocabularies that no test sentence has
        shaped, then :meth:`with_vocabularies` to encode every split with them. The pairs
        should have been read with every word kept (``max_vocabulary=None``): words that
        are already :data:`UNKNOWN` here cannot come back.

        Args:
            max_size: the most tokens of each vocabulary besides :data:`UNKNOWN`
                (``None``: keep all), as for :func:`sentence_vocabulary`.

        Returns:
            ``(source_vocab, target_vocab)``, two :class:`Vocabulary` objects with
            :data:`UNKNOWN`, most frequent tokens first.

        Raises:
            ValueError: ``max_size`` is given and is not a positive integer.
        """
        sentences = [self.words(k) for k in range(len(self))]
        return (sentence_vocabulary((source for source, _ in sentences), max_size),
                sentence_vocabulary((target for _, target in sentences), max_size))

    def with_vocabularies(self, source_vocab, target_vocab):
        """The same pairs encoded with other vocabularies; a word they lack becomes :data:`UNKNOWN`.

        Args:
            source_vocab, target_vocab: :class:`Vocabulary` objects that hold
                :data:`UNKNOWN`, e.g. from :meth:`vocabularies` of the training pairs.

        Returns:
            A new :class:`SentencePairs` of the same sentences in the same order.

        Raises:
            ValueError: a vocabulary without :data:`UNKNOWN`.

        Example:
            >>> train, test = data.split(pairs, test_fraction=0.1, seed=0)  # doctest: +SKIP
            >>> vocabularies = train.vocabularies(max_size=1000)  # doctest: +SKIP
            >>> train, test = (p.with_vocabularies(*vocabularies) for p in (train, test))  # doctest: +SKIP
        """
        for name, vocabulary in (("source_vocab", source_vocab), ("target_vocab", target_vocab)):
            if not isinstance(vocabulary, Vocabulary) or UNKNOWN not in vocabulary:
                raise ValueError(f"{name} must be a Vocabulary containing {UNKNOWN!r}")
        sentences = [self.words(k) for k in range(len(self))]
        return SentencePairs(
            [encode_words(source_vocab, source) for source, _ in sentences],
            [encode_words(target_vocab, target) for _, target in sentences],
            source_vocab,
            target_vocab,
        )

    def __repr__(self):
        lengths = f", source lengths {self.source_lengths.min()}-{self.source_lengths.max()}" if len(self) else ""
        return (
            f"SentencePairs({len(self)} pairs{lengths}, "
            f"{len(self.source_vocab)} source / {len(self.target_vocab)} target tokens, no gold alignment)"
        )


def read_sentence_pairs(path, *, limit=None, max_length=None, max_vocabulary=None, columns=(0, 1),
                        source_vocab=None, target_vocab=None):
    """Read tab-separated sentence pairs (the Tatoeba / ManyThings format) into token ids.

    Each non-blank line holds at least two tab-separated sentences, ``English<TAB>Spanish``
    in ``spa-eng.zip``; further columns (the attribution in the ManyThings files) are
    ignored. Both sentences are tokenised with :func:`tokenize_sentence`. The files are
    roughly sorted by length, shortest first, so ``limit`` keeps the shortest pairs: to
    sample all lengths, read everything and take a random :meth:`SentencePairs.subset`.

    Args:
        path: the text file, UTF-8.
        limit: keep at most this many pairs, in file order (``None``: all).
        max_length: drop the pairs with more tokens than this on either side, punctuation
            included (``None``: keep all).
        max_vocabulary: the most tokens of each vocabulary built here, besides
            :data:`UNKNOWN`; rarer tokens become :data:`UNKNOWN` (``None``: keep all).
            The vocabulary then counts every pair read, test pairs included; to build
            it on the training pairs alone, keep all here and see
            :meth:`SentencePairs.vocabularies`.
        columns: ``(source column, target column)``; ``(1, 0)`` translates into English.
        source_vocab, target_vocab: vocabularies to reuse (e.g. those of a training file);
            ``None`` builds one from the pairs read, with :func:`sentence_vocabulary`.

    Returns:
        :class:`SentencePairs`, whose ``alignment`` is ``None``.

    Raises:
        ValueError: a line without enough tab-separated columns or with an empty sentence
            (the message names the file and the line), no pair left to return, a bad
            ``limit``, ``max_length``, ``max_vocabulary`` or ``columns``, or a given
            vocabulary without :data:`UNKNOWN`.
        OSError: the file cannot be read.
    """
    if limit is not None:
        limit = _check_integer("limit", limit, 1)
    if max_length is not None:
        max_length = _check_integer("max_length", max_length, 1)
    columns = tuple(columns)
    if (len(columns) != 2 or columns[0] == columns[1]
            or not all(isinstance(c, numbers.Integral) and not isinstance(c, bool) and c >= 0 for c in columns)):
        raise ValueError(f"columns must be two different column indices, e.g. (0, 1), got {columns!r}")
    for name, vocabulary in (("source_vocab", source_vocab), ("target_vocab", target_vocab)):
        if vocabulary is not None and UNKNOWN not in vocabulary:
            raise ValueError(f"{name} must contain {UNKNOWN!r} for the tokens it does not know")

    sources, targets = [], []
    with open(path, encoding="utf-8-sig") as lines:
        for number, line in enumerate(lines, start=1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            fields = line.split("\t")
            if len(fields) <= max(columns):
                raise ValueError(
                    f"{path}, line {number}: expected tab-separated sentences with columns {columns} "
                    f"(source, target), found {len(fields)} column(s): {line[:80]!r}"
                )
            source, target = (tokenize_sentence(fields[c]) for c in columns)
            if not source or not target:
                raise ValueError(f"{path}, line {number}: an empty sentence: {line[:80]!r}")
            if max_length is not None and max(len(source), len(target)) > max_length:
                continue
            sources.append(source)
            targets.append(target)
            if limit is not None and len(sources) == limit:
                break
    if not sources:
        detail = f" of at most {max_length} tokens" if max_length is not None else ""
        raise ValueError(f"{path} holds no sentence pair{detail}")
    if source_vocab is None:
        source_vocab = sentence_vocabulary(sources, max_vocabulary)
    if target_vocab is None:
        target_vocab = sentence_vocabulary(targets, max_vocabulary)
    return SentencePairs(
        [encode_words(source_vocab, s) for s in sources],
        [encode_words(target_vocab, t) for t in targets],
        source_vocab,
        target_vocab,
    )


def download_sentence_pairs(cache_dir=None, *, url=SENTENCE_PAIRS_URL):
    """Download a zipped sentence-pair file with Keras, unpack its text file once, return its path.

    By default this is TensorFlow's copy of the English-Spanish pairs of the Tatoeba
    project (``spa-eng.zip``, about 2.6 MB, some 118,000 pairs). ``keras.utils.get_file``
    downloads the archive into Keras's cache (``~/.keras/datasets``) the first time only;
    the text file is unpacked beside it once. A ManyThings archive (``fra-eng.zip``...)
    works the same, given its ``url``: its ``_about.txt`` is skipped.

    Args:
        cache_dir: where Keras caches the download; ``None`` for Keras's default.
        url: the address of the zip archive.

    Returns:
        The path of the unpacked text file, for :func:`read_sentence_pairs`.

    Raises:
        ConnectionError: the download failed (offline, say); the message names the URL.
            Catch it and carry on without the real pairs.
        ValueError: the archive is not a zip file, or holds no sentence-pair ``.txt``.
    """
    # Imported here, not at the top: Keras loads TensorFlow (seconds), and only the two
    # downloads need it; the rest of attncourse.data is NumPy only.
    import keras

    name = url.rstrip("/").rsplit("/", 1)[-1]
    try:
        archive = keras.utils.get_file(name, origin=url, cache_dir=cache_dir)
    except Exception as error:  # Keras raises a plain Exception for a failed fetch
        raise ConnectionError(
            f"could not download {url} ({error}); without a connection, give read_sentence_pairs "
            "the path of a local copy instead"
        ) from error
    folder = os.path.join(os.path.dirname(archive), name.removesuffix(".zip"))
    try:
        with zipfile.ZipFile(archive) as zipped:
            members = sorted(
                member for member in zipped.namelist()
                if member.endswith(".txt") and not os.path.basename(member).startswith("_")
            )
            if not members:
                raise ValueError(f"the archive {archive!r} holds no sentence-pair .txt file")
            text_file = os.path.join(folder, os.path.basename(members[0]))
            if not os.path.isfile(text_file):
                # Unpack to a side file, then rename: an interrupted unpacking leaves no
                # half-written file that a later call would take for the real one.
                os.makedirs(folder, exist_ok=True)
                partial = text_file + ".partial"
                with zipped.open(members[0]) as packed, open(partial, "wb") as unpacked:
                    shutil.copyfileobj(packed, unpacked)
                os.replace(partial, text_file)
    except zipfile.BadZipFile:
        raise ValueError(f"{archive!r} is not a zip archive; delete it and download again") from None
    return text_file
