"""Chapter 8's documents: sentences of words as one padded 3-D array, planted or real reviews.

Chapter 8 classifies documents with a hierarchical attention network (Yang et al., 2016):
words are pooled into sentence vectors, sentences into a document vector. A document is
stored as a 3-D array of word ids, documents x sentences x words, padded with 0 at the end
of every sentence and with all-zero sentences at the end of every document, so that
``Embedding(mask_zero=True)`` masks padded words and a sentence without any word is
padding (:class:`Documents`).

Two sources fill that array: :func:`planted_documents` generates reviews in which exactly
one sentence, the verdict, decides the label (nothing to download, and the deciding
sentence is known, so sentence attention can be scored); :func:`review_documents` turns
real review texts (e.g. the IMDB reviews fetched by :func:`download_imdb_reviews` and read
by :func:`read_review_folder`) into the same layout.
"""

from __future__ import annotations

import dataclasses
import numbers
import os
import re
import shutil
import tarfile

import numpy as np

from attncourse.data.arguments import _check_integer
from attncourse.data.rows import _ArrayRows
from attncourse.data.vocabulary import PAD, UNKNOWN, Vocabulary, encode_words, word_vocabulary

__all__ = [
    "Documents",
    "IMDB_URL",
    "NEGATIVE_WORDS",
    "NEUTRAL_WORDS",
    "POSITIVE_WORDS",
    "VERDICT_MARKERS",
    "download_imdb_reviews",
    "planted_documents",
    "read_review_folder",
    "review_documents",
    "review_vocabulary",
    "split_review",
]


# The planted reviews' words. A verdict marker names the sentence that decides the label;
# opinion words (positive or negative) also appear in other sentences, where they decide
# nothing; the rest is neutral filler.
VERDICT_MARKERS = ("overall", "verdict", "ultimately", "altogether")
POSITIVE_WORDS = ("great", "superb", "moving", "brilliant", "charming", "gripping", "delightful", "stunning")
NEGATIVE_WORDS = ("awful", "dull", "boring", "clumsy", "tedious", "weak", "bland", "messy")
NEUTRAL_WORDS = tuple(
    (
        "the a this its film plot actor actress scene music camera story ending script cast director "
        "dialogue sound pace set lighting score was is seems feels and with of in at very rather quite "
        "times first second half some every"
    ).split()
)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Documents(_ArrayRows):
    """Documents as padded word ids, documents x sentences x words, with their labels.

    Attributes:
        ids: int32 array ``(n, max_sentences, max_words)``; 0 is padding, both after the
            last word of a sentence and for whole sentences after the last one.
        labels: int64 array ``(n,)``, 1 for a positive and 0 for a negative review.
        key_sentence: int64 array ``(n,)``, the index of the sentence that decides the
            label, or -1 where it is not known (real reviews).
        vocabulary: the :class:`Vocabulary` of the ids.

    ``len(docs)`` is the number of documents, ``docs.subset(indices)`` (or
    ``docs[indices]``) keeps some of them, so :func:`split` works on documents too.
    """

    ids: np.ndarray
    labels: np.ndarray
    key_sentence: np.ndarray
    vocabulary: Vocabulary
    _row_fields = ("ids", "labels", "key_sentence")

    @property
    def word_mask(self):
        """Booleans ``(n, max_sentences, max_words)``, True on real words."""
        return self.ids != PAD

    @property
    def sentence_mask(self):
        """Booleans ``(n, max_sentences)``, True on sentences with at least one word."""
        return self.word_mask.any(axis=-1)

    def sentences(self, index):
        """Document ``index`` as a list of sentences, each a list of words (no padding)."""
        return [
            [self.vocabulary.token(int(token)) for token in row if token != PAD]
            for row in self.ids[index]
            if np.any(row != PAD)
        ]

    def __repr__(self):
        n, max_sentences, max_words = self.ids.shape
        return (
            f"Documents({n} documents of up to {max_sentences} sentences x {max_words} words, "
            f"{len(self.vocabulary)} tokens, {float(np.mean(self.labels)):.0%} positive)"
        )


def planted_documents(
    n_documents,
    *,
    min_sentences=4,
    max_sentences=8,
    min_words=4,
    max_words=12,
    opinion_rate=1.0,
    decoy_opinions=2,
    decoy_agreement=0.5,
    seed=0,
):
    """Synthetic reviews in which one planted verdict sentence decides the label.

    Every document has between ``min_sentences`` and ``max_sentences`` sentences, each of
    ``min_words`` to ``max_words`` words. Exactly one sentence, at a random place, is the
    verdict: it holds a verdict marker (``overall``, ``verdict``, ...) and one opinion
    word whose polarity is the label (``great`` for 1, ``dull`` for 0), at two random
    places. Each other sentence holds, with probability ``opinion_rate``, one to
    ``decoy_opinions`` opinion words, each of the label's polarity with probability
    ``decoy_agreement``: opinions about some detail, which do not decide the verdict (with
    ``decoy_agreement`` below 0.5 they lean against it, as in "the plot drags, the music is
    dull, but overall a superb film"). Every other word is neutral filler.

    Counting good and bad words therefore guesses the label only roughly. To be right
    every time, a model has to find the sentence with the marker and read the opinion in
    it: a marker word must decide how much the words beside it count.

    Args:
        n_documents: the number of documents.
        min_sentences, max_sentences: the range of sentences per document, inclusive;
            ``max_sentences`` is also the padded size of the sentence axis.
        min_words, max_words: the range of words per sentence, inclusive; at least 2 (a
            marker and an opinion) and at least ``decoy_opinions``. ``max_words`` is also
            the padded size of the word axis.
        opinion_rate: the probability, in [0, 1], that a sentence other than the verdict
            holds opinion words.
        decoy_opinions: the most opinion words such a sentence holds, at least 1.
        decoy_agreement: the probability, in [0, 1], that the polarity of such an opinion
            word is the label's; 0.5 makes decoys independent of the label.
        seed: seeds everything; the same arguments give the same documents.

    Returns:
        :class:`Documents`, with ``key_sentence`` the index of each verdict sentence.

    Raises:
        ValueError: a count or range out of bounds, or a probability outside [0, 1].

    Example:
        >>> docs = planted_documents(100, seed=1)
        >>> docs.ids.shape
        (100, 8, 12)
        >>> verdict = docs.sentences(0)[docs.key_sentence[0]]
        >>> any(word in VERDICT_MARKERS for word in verdict)
        True
    """
    n_documents = _check_integer("n_documents", n_documents, 1)
    min_sentences = _check_integer("min_sentences", min_sentences, 1)
    max_sentences = _check_integer("max_sentences", max_sentences, min_sentences)
    decoy_opinions = _check_integer("decoy_opinions", decoy_opinions, 1)
    min_words = _check_integer("min_words", min_words, max(2, decoy_opinions))
    max_words = _check_integer("max_words", max_words, min_words)
    for name, probability in (("opinion_rate", opinion_rate), ("decoy_agreement", decoy_agreement)):
        if isinstance(probability, bool) or not isinstance(probability, numbers.Real) or not 0.0 <= probability <= 1.0:
            raise ValueError(f"{name} must be a number in [0, 1], got {probability!r}")
    seed = _check_integer("seed", seed, 0)

    vocabulary = Vocabulary(VERDICT_MARKERS + POSITIVE_WORDS + NEGATIVE_WORDS + NEUTRAL_WORDS)
    marker_ids = vocabulary.encode(VERDICT_MARKERS)
    opinion_ids = np.stack([vocabulary.encode(NEGATIVE_WORDS), vocabulary.encode(POSITIVE_WORDS)])  # [polarity, k]
    neutral_ids = vocabulary.encode(NEUTRAL_WORDS)

    rng = np.random.default_rng(seed)
    shape = (n_documents, max_sentences, max_words)
    documents = np.arange(n_documents)
    labels = rng.integers(0, 2, size=n_documents)
    n_sentences = rng.integers(min_sentences, max_sentences + 1, size=n_documents)
    key_sentence = (rng.random(n_documents) * n_sentences).astype(np.int64)
    lengths = rng.integers(min_words, max_words + 1, size=shape[:2])
    lengths[np.arange(max_sentences)[None, :] >= n_sentences[:, None]] = 0  # padded sentences
    is_word = np.arange(max_words)[None, None, :] < lengths[..., None]

    # Neutral filler everywhere, then opinions and the marker at random places on top of it.
    ids = np.where(is_word, neutral_ids[rng.integers(0, len(neutral_ids), size=shape)], PAD)
    # A random order of the real places of each sentence (padding sorts last): the first
    # places take the opinion words, the next one the verdict marker.
    places = np.argsort(np.where(is_word, rng.random(shape), 2.0), axis=-1)

    # Decoy opinions, in sentences that are not the verdict: the label's polarity with
    # probability decoy_agreement, the other one otherwise.
    n_opinions = rng.integers(1, decoy_opinions + 1, size=shape[:2])
    n_opinions[(rng.random(shape[:2]) >= opinion_rate) | (lengths == 0)] = 0
    agrees = rng.random(shape[:2] + (decoy_opinions,)) < decoy_agreement
    polarity = np.where(agrees, labels[:, None, None], 1 - labels[:, None, None])
    # The verdict: one opinion, whose polarity is the label.
    n_opinions[documents, key_sentence] = 1
    polarity[documents, key_sentence, 0] = labels
    opinion_words = opinion_ids[polarity, rng.integers(0, opinion_ids.shape[1], size=polarity.shape)]
    for slot in range(decoy_opinions):
        doc, sentence = np.nonzero(n_opinions > slot)
        ids[doc, sentence, places[doc, sentence, slot]] = opinion_words[doc, sentence, slot]
    ids[documents, key_sentence, places[documents, key_sentence, 1]] = marker_ids[
        rng.integers(0, len(marker_ids), size=n_documents)
    ]
    return Documents(ids.astype(np.int32), labels.astype(np.int64), key_sentence, vocabulary)


# Real reviews: text -> sentences -> words -> ids.

_LINE_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)  # IMDB reviews keep HTML line breaks
_SENTENCE_END = re.compile(r"[.!?]+|\n")
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")  # "didn't", "film's" stay whole words


def split_review(text):
    """Split a review into sentences of lower-case words.

    A sentence ends at ``.``, ``!``, ``?``, a new line or an HTML ``<br />``; a word is a
    run of letters and digits, with an apostrophe inside it allowed (``didn't``). Empty
    sentences are dropped.

    Args:
        text: the review, a str.

    Returns:
        A list of sentences, each a non-empty list of str.

    Raises:
        ValueError: ``text`` is not a str.

    Example:
        >>> split_review("A fine cast. But the plot?<br />I didn't care!")
        [['a', 'fine', 'cast'], ['but', 'the', 'plot'], ['i', "didn't", 'care']]
    """
    if not isinstance(text, str):
        raise ValueError(f"a review must be a str, got {type(text).__name__}")
    text = _LINE_BREAK.sub("\n", text).lower()
    sentences = (_WORD.findall(piece) for piece in _SENTENCE_END.split(text))
    return [words for words in sentences if words]


def review_vocabulary(tokenised_reviews, max_size=20000):
    """The most frequent words of some reviews, as a :class:`Vocabulary`.

    Args:
        tokenised_reviews: reviews as lists of sentences of words (see :func:`split_review`).
        max_size: the most words to keep, besides :data:`UNKNOWN` (the first word, id 3).

    Returns:
        A :class:`Vocabulary` of ``<unk>`` followed by the words, most frequent first (ties
        in alphabetical order, so the vocabulary does not depend on the order of the reviews).

    Raises:
        ValueError: ``max_size`` is not a positive integer.
    """
    max_size = _check_integer("max_size", max_size, 1)
    return word_vocabulary((word for review in tokenised_reviews for sentence in review for word in sentence), max_size)


def review_documents(texts, labels, *, vocabulary=None, max_vocabulary=20000, max_sentences=15, max_words=30):
    """Turn review texts into :class:`Documents` (sentences x words of word ids).

    Each review is split with :func:`split_review`; its first ``max_sentences`` sentences
    and the first ``max_words`` words of each are kept (real reviews are long, and the
    array must be rectangular); words outside the vocabulary become :data:`UNKNOWN`.

    Args:
        texts: the reviews, a sequence of str.
        labels: one label per review (e.g. 1 positive, 0 negative).
        vocabulary: the :class:`Vocabulary` to use; ``None`` builds one from these reviews
            with :func:`review_vocabulary` (do that on the training reviews, and pass it on
            to the test reviews).
        max_vocabulary: the size of a vocabulary built here.
        max_sentences, max_words: the padded shape of a document.

    Returns:
        :class:`Documents` with ``key_sentence`` all -1 (nobody marked a deciding sentence).

    Raises:
        ValueError: as many labels as texts are needed, the sizes must be positive, and a
            given vocabulary must hold :data:`UNKNOWN`.
    """
    texts = list(texts)
    labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    if len(labels) != len(texts):
        raise ValueError(f"expected one label per review, got {len(labels)} labels for {len(texts)} reviews")
    max_sentences = _check_integer("max_sentences", max_sentences, 1)
    max_words = _check_integer("max_words", max_words, 1)
    tokenised = [split_review(text) for text in texts]
    if vocabulary is None:
        vocabulary = review_vocabulary(tokenised, max_vocabulary)
    elif UNKNOWN not in vocabulary:
        raise ValueError(f"the vocabulary must contain {UNKNOWN!r} for words it does not know")

    ids = np.zeros((len(texts), max_sentences, max_words), dtype=np.int32)
    for k, review in enumerate(tokenised):
        for s, sentence in enumerate(review[:max_sentences]):
            words = sentence[:max_words]
            ids[k, s, : len(words)] = encode_words(vocabulary, words)
    return Documents(ids, labels, np.full(len(texts), -1, dtype=np.int64), vocabulary)


def read_review_folder(folder, *, classes=("neg", "pos"), limit=None):
    """Read reviews stored one per text file, in one sub-folder per class.

    This is the layout of the IMDB reviews (``aclImdb/train/pos/0_9.txt``...) and of
    ``keras.utils.text_dataset_from_directory``. Files are read in sorted order, so the
    result does not depend on the file system.

    Args:
        folder: the folder holding one sub-folder per class.
        classes: the sub-folder names; the label of a review is the index of its class
            (so by default ``neg`` is 0 and ``pos`` is 1).
        limit: read at most this many files per class (``None``: all).

    Returns:
        ``(texts, labels)``: a list of str and an int64 array.

    Raises:
        ValueError: a class folder is missing, holds no ``.txt`` file, or ``limit`` is
            not a positive integer.
    """
    if limit is not None:
        limit = _check_integer("limit", limit, 1)
    texts, labels = [], []
    for label, name in enumerate(classes):
        class_folder = os.path.join(folder, name)
        if not os.path.isdir(class_folder):
            raise ValueError(f"expected a folder {class_folder!r} of {name!r} reviews, found none")
        files = sorted(f for f in os.listdir(class_folder) if f.endswith(".txt"))
        if not files:
            raise ValueError(f"the folder {class_folder!r} holds no .txt review")
        for file_name in files[:limit]:
            with open(os.path.join(class_folder, file_name), encoding="utf-8") as review:
                texts.append(review.read())
            labels.append(label)
    return texts, np.asarray(labels, dtype=np.int64)


IMDB_URL = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"


def download_imdb_reviews(cache_dir=None):
    """Download the IMDB reviews of Maas et al. (2011) with Keras, unpack them once, return their folder.

    ``keras.utils.get_file`` downloads the archive (about 80 MB) into Keras's cache
    (``~/.keras/datasets``) the first time only. The archive is unpacked next to it once;
    later calls find the unpacked folder and return at once. Reading the reviews is
    :func:`read_review_folder`'s job, on ``<folder>/train`` and ``<folder>/test``.

    Args:
        cache_dir: where Keras caches the download; ``None`` for Keras's default.

    Returns:
        The path of the ``aclImdb`` folder, which holds ``train/`` and ``test/``.

    Raises:
        Exception: the download failed (offline, say); Keras raises a plain ``Exception``
            that names the URL. Catch it and carry on without the real reviews.
        ValueError: the archive does not hold ``aclImdb/train/pos``.
    """
    # Imported here, not at the top: Keras loads TensorFlow (seconds), and only the two
    # downloads need it; the rest of attncourse.data is NumPy only.
    import keras

    archive = keras.utils.get_file("aclImdb_v1.tar.gz", origin=IMDB_URL, cache_dir=cache_dir)
    unpacked = os.path.join(os.path.dirname(archive), "aclImdb_v1")
    folder = os.path.join(unpacked, "aclImdb")
    if not os.path.isdir(os.path.join(folder, "train", "pos")):
        # Unpack beside the final place, then rename: an interrupted unpacking leaves no
        # half-filled folder that a later call would take for the real one.
        partial = unpacked + ".partial"
        shutil.rmtree(partial, ignore_errors=True)
        with tarfile.open(archive) as reviews:
            if hasattr(tarfile, "data_filter"):  # Python >= 3.12 (and recent 3.10, 3.11)
                reviews.extractall(partial, filter="data")
            else:  # pragma: no cover - older Pythons
                reviews.extractall(partial)
        shutil.rmtree(unpacked, ignore_errors=True)
        os.replace(partial, unpacked)
    if not os.path.isdir(os.path.join(folder, "train", "pos")):
        raise ValueError(f"the archive {archive!r} holds no aclImdb/train/pos folder")
    return folder
