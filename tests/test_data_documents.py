"""Tests of attncourse.data.documents: chapter 8's planted reviews, and the loader of real reviews."""

import io
import tarfile

import numpy as np
import pytest

from attncourse import data as D
from attncourse.data import (
    NEGATIVE_WORDS,
    NEUTRAL_WORDS,
    PAD,
    POSITIVE_WORDS,
    UNKNOWN,
    VERDICT_MARKERS,
    Documents,
    Vocabulary,
    planted_documents,
    read_review_folder,
    review_documents,
    review_vocabulary,
    split_review,
)


@pytest.fixture(scope="module")
def docs():
    return planted_documents(400, seed=5)


def is_in(docs, words):
    return np.isin(docs.ids, docs.vocabulary.encode(words))


# ----------------------------------------------------------------------------- planted documents


def test_shapes_dtypes_and_labels(docs):
    assert docs.ids.shape == (400, 8, 12) and docs.ids.dtype == np.int32
    assert docs.labels.shape == (400,) and set(np.unique(docs.labels)) == {0, 1}
    assert 0.4 < docs.labels.mean() < 0.6
    assert docs.key_sentence.shape == (400,)
    assert len(docs) == 400
    assert "400 documents" in repr(docs)


def test_padding_sits_at_the_end_of_sentences_and_documents(docs):
    words = docs.word_mask
    # A real word never follows padding, in a sentence or across sentences.
    assert not np.any(~words[..., :-1] & words[..., 1:])
    sentences = docs.sentence_mask
    assert not np.any(~sentences[:, :-1] & sentences[:, 1:])
    assert np.array_equal(sentences, words.any(axis=-1))


def test_sentence_and_word_counts_stay_in_their_ranges():
    docs = planted_documents(300, min_sentences=3, max_sentences=6, min_words=5, max_words=9, seed=2)
    counts = docs.sentence_mask.sum(axis=1)
    assert counts.min() == 3 and counts.max() == 6
    lengths = docs.word_mask.sum(axis=-1)[docs.sentence_mask]
    assert lengths.min() == 5 and lengths.max() == 9


def test_exactly_one_marker_and_it_is_in_the_key_sentence(docs):
    markers = is_in(docs, VERDICT_MARKERS)
    assert np.all(markers.sum(axis=(1, 2)) == 1)
    document, sentence, _ = np.nonzero(markers)
    assert np.array_equal(sentence[np.argsort(document)], docs.key_sentence)
    assert np.all(docs.sentence_mask[np.arange(len(docs)), docs.key_sentence])


def test_the_key_sentence_holds_one_opinion_of_the_labels_polarity(docs):
    rows = np.arange(len(docs))
    positive = is_in(docs, POSITIVE_WORDS)[rows, docs.key_sentence].sum(axis=-1)
    negative = is_in(docs, NEGATIVE_WORDS)[rows, docs.key_sentence].sum(axis=-1)
    assert np.array_equal(positive, docs.labels)
    assert np.array_equal(negative, 1 - docs.labels)


def test_other_sentences_hold_at_most_decoy_opinions_and_no_marker():
    docs = planted_documents(300, decoy_opinions=3, opinion_rate=1.0, seed=4)
    opinions = (is_in(docs, POSITIVE_WORDS) | is_in(docs, NEGATIVE_WORDS)).sum(axis=-1)
    decoys = docs.sentence_mask.copy()
    decoys[np.arange(len(docs)), docs.key_sentence] = False
    assert opinions[decoys].min() == 1 and opinions[decoys].max() == 3
    assert not np.any(is_in(docs, VERDICT_MARKERS).any(axis=-1) & decoys)


def test_decoys_make_counting_opinions_a_rough_guess_and_no_decoys_a_perfect_one():
    def counting_accuracy(docs):
        balance = is_in(docs, POSITIVE_WORDS).sum(axis=(1, 2)) - is_in(docs, NEGATIVE_WORDS).sum(axis=(1, 2))
        return np.mean(np.where(balance == 0, 0.5, (balance > 0) == docs.labels))

    assert counting_accuracy(planted_documents(300, opinion_rate=0.0, seed=1)) == 1.0
    assert 0.55 < counting_accuracy(planted_documents(2000, seed=1)) < 0.85


def test_decoy_agreement_sets_how_often_decoys_share_the_verdicts_polarity():
    def decoy_agreement(docs):
        decoys = docs.sentence_mask.copy()
        decoys[np.arange(len(docs)), docs.key_sentence] = False
        positive = is_in(docs, POSITIVE_WORDS).sum(axis=-1)[decoys]
        negative = is_in(docs, NEGATIVE_WORDS).sum(axis=-1)[decoys]
        label = np.broadcast_to(docs.labels[:, None], decoys.shape)[decoys]
        agreeing = np.where(label == 1, positive, negative).sum()
        return agreeing / (positive.sum() + negative.sum())

    assert decoy_agreement(planted_documents(200, decoy_agreement=1.0, seed=3)) == 1.0
    assert decoy_agreement(planted_documents(200, decoy_agreement=0.0, seed=3)) == 0.0
    assert abs(decoy_agreement(planted_documents(1000, seed=3)) - 0.5) < 0.03
    assert abs(decoy_agreement(planted_documents(1000, decoy_agreement=0.8, seed=3)) - 0.8) < 0.03


def test_the_vocabulary_keeps_the_word_groups_apart(docs):
    vocabulary = docs.vocabulary
    groups = [VERDICT_MARKERS, POSITIVE_WORDS, NEGATIVE_WORDS, NEUTRAL_WORDS]
    assert sum(len(g) for g in groups) + 3 == len(vocabulary)
    assert vocabulary.id(VERDICT_MARKERS[0]) == 3  # after <pad>, <start>, <end>
    assert docs.ids.max() < len(vocabulary)


def test_same_seed_same_documents_other_seed_other_documents():
    first, again, other = (planted_documents(50, seed=s) for s in (3, 3, 4))
    assert np.array_equal(first.ids, again.ids) and np.array_equal(first.labels, again.labels)
    assert not np.array_equal(first.ids, other.ids)


def test_generation_uses_no_global_random_state():
    np.random.seed(0)
    first = planted_documents(20, seed=1)
    np.random.seed(99)
    assert np.array_equal(first.ids, planted_documents(20, seed=1).ids)


def test_sentences_reads_a_document_back_as_words(docs):
    sentences = docs.sentences(0)
    assert len(sentences) == docs.sentence_mask[0].sum()
    for sentence, row in zip(sentences, docs.ids[0]):
        assert list(docs.vocabulary.encode(sentence)) == [t for t in row.tolist() if t != PAD]
    assert any(word in VERDICT_MARKERS for word in sentences[docs.key_sentence[0]])


def test_subset_indexing_and_split(docs):
    picked = docs.subset([3, 1])
    assert np.array_equal(picked.ids, docs.ids[[3, 1]])
    assert np.array_equal(picked.key_sentence, docs.key_sentence[[3, 1]])
    assert len(docs[:10]) == 10 and len(docs[2]) == 1
    assert len(docs.subset(docs.labels == 1)) == docs.labels.sum()
    with pytest.raises(ValueError, match="boolean mask"):
        docs.subset(np.ones(3, dtype=bool))
    train, test = D.split(docs, test_fraction=0.25, seed=0)
    assert (len(train), len(test)) == (300, 100)
    together = np.concatenate([train.ids, test.ids])
    assert sorted(map(bytes, together)) == sorted(map(bytes, docs.ids))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n_documents": 0}, "n_documents"),
        ({"min_sentences": 5, "max_sentences": 4}, "max_sentences"),
        ({"min_words": 1}, "min_words"),
        ({"min_words": 2, "decoy_opinions": 3}, "min_words"),
        ({"min_words": 6, "max_words": 5}, "max_words"),
        ({"opinion_rate": 1.5}, "opinion_rate"),
        ({"opinion_rate": True}, "opinion_rate"),
        ({"decoy_agreement": -0.1}, "decoy_agreement"),
        ({"decoy_opinions": 0}, "decoy_opinions"),
        ({"seed": -1}, "seed"),
    ],
)
def test_impossible_parameters_raise(kwargs, message):
    arguments = {"n_documents": 10, **kwargs}
    with pytest.raises(ValueError, match=message):
        planted_documents(**arguments)


# ----------------------------------------------------------------------------- real reviews


def test_split_review_sentences_words_and_line_breaks():
    text = "A FINE cast... But the plot?<br /><br />I didn't care! 10/10\nThe end"
    assert split_review(text) == [
        ["a", "fine", "cast"],
        ["but", "the", "plot"],
        ["i", "didn't", "care"],
        ["10", "10"],
        ["the", "end"],
    ]
    assert split_review("") == [] and split_review("?!. <br/>") == []
    with pytest.raises(ValueError, match="str"):
        split_review(b"bytes")


def test_review_vocabulary_orders_by_frequency_then_alphabet():
    reviews = [[["b", "a", "c"], ["a"]], [["c", "a", "d"]]]
    vocabulary = review_vocabulary(reviews)
    assert vocabulary.words == (UNKNOWN, "a", "c", "b", "d")
    assert review_vocabulary(reviews, max_size=2).words == (UNKNOWN, "a", "c")
    with pytest.raises(ValueError, match="max_size"):
        review_vocabulary(reviews, max_size=0)


def test_review_documents_pads_truncates_and_marks_unknown_words():
    texts = ["Great film. Great cast! Dull end.", "Dull. Very dull plot here today."]
    docs = review_documents(texts, [1, 0], max_vocabulary=3, max_sentences=2, max_words=3)
    assert isinstance(docs, Documents)
    assert docs.ids.shape == (2, 2, 3)
    assert np.array_equal(docs.labels, [1, 0]) and np.array_equal(docs.key_sentence, [-1, -1])
    # dull (3 times) and great (2) first, then the ties in alphabetical order: cast.
    assert docs.vocabulary.words == (UNKNOWN, "dull", "great", "cast")
    # The third sentence of review 0 is cut (max_sentences=2), and so are the last words of
    # review 1's second sentence (max_words=3); film, very and plot are unknown.
    assert docs.sentences(0) == [["great", UNKNOWN], ["great", "cast"]]
    assert docs.sentences(1) == [["dull"], [UNKNOWN, "dull", UNKNOWN]]


def test_review_documents_reuses_a_given_vocabulary():
    vocabulary = Vocabulary([UNKNOWN, "good", "bad"])
    docs = review_documents(["Good. Bad bad!", "Unseen words."], [1, 0], vocabulary=vocabulary,
                            max_sentences=3, max_words=4)
    assert docs.vocabulary is vocabulary
    assert docs.sentences(0) == [["good"], ["bad", "bad"]]
    assert docs.sentences(1) == [[UNKNOWN, UNKNOWN]]
    assert not docs.sentence_mask[1, 1:].any()


def test_review_documents_bad_inputs():
    with pytest.raises(ValueError, match="one label per review"):
        review_documents(["a", "b"], [1])
    with pytest.raises(ValueError, match=UNKNOWN):
        review_documents(["a"], [1], vocabulary=Vocabulary(["a"]))
    with pytest.raises(ValueError, match="max_words"):
        review_documents(["a"], [1], max_words=0)


def write_reviews(folder, reviews):
    """Write {class name: [texts]} as one .txt file per review, the IMDB way."""
    for name, texts in reviews.items():
        (folder / name).mkdir(parents=True)
        for k, text in enumerate(texts):
            (folder / name / f"{k}_{7 + k}.txt").write_text(text, encoding="utf-8")


def test_read_review_folder_reads_each_class_in_sorted_order(tmp_path):
    write_reviews(tmp_path, {"neg": ["Awful. Truly.", "Dull!"], "pos": ["Superb film.", "Loved it.", "Fine."]})
    (tmp_path / "pos" / "notes.md").write_text("not a review")
    texts, labels = read_review_folder(tmp_path)
    assert texts == ["Awful. Truly.", "Dull!", "Superb film.", "Loved it.", "Fine."]
    assert labels.tolist() == [0, 0, 1, 1, 1] and labels.dtype == np.int64
    texts, labels = read_review_folder(tmp_path, limit=1)
    assert texts == ["Awful. Truly.", "Superb film."] and labels.tolist() == [0, 1]
    docs = review_documents(texts, labels, max_sentences=2, max_words=4)
    assert docs.sentences(0) == [["awful"], ["truly"]]


def test_read_review_folder_errors(tmp_path):
    with pytest.raises(ValueError, match="neg"):
        read_review_folder(tmp_path)
    write_reviews(tmp_path, {"neg": ["Bad."]})
    (tmp_path / "pos").mkdir()
    with pytest.raises(ValueError, match="no .txt"):
        read_review_folder(tmp_path)
    with pytest.raises(ValueError, match="limit"):
        read_review_folder(tmp_path, limit=0)


def test_download_imdb_reviews_unpacks_a_cached_archive_once(tmp_path):
    # A tiny archive with the IMDB layout, where keras.utils.get_file caches the real one:
    # get_file finds it and downloads nothing.
    archive = tmp_path / "datasets" / "aclImdb_v1.tar.gz"
    archive.parent.mkdir()
    with tarfile.open(archive, "w:gz") as tar:
        for member, text in {"aclImdb/train/pos/0_9.txt": "Superb.", "aclImdb/train/neg/0_2.txt": "Dull."}.items():
            payload = text.encode()
            info = tarfile.TarInfo(member)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))

    folder = D.download_imdb_reviews(cache_dir=str(tmp_path))
    texts, labels = read_review_folder(f"{folder}/train")
    assert texts == ["Dull.", "Superb."] and labels.tolist() == [0, 1]
    # A second call reuses the unpacked folder instead of unpacking again.
    (tmp_path / "datasets" / "aclImdb_v1" / "aclImdb" / "train" / "pos" / "0_9.txt").write_text("Edited.")
    assert D.download_imdb_reviews(cache_dir=str(tmp_path)) == folder
    assert read_review_folder(f"{folder}/train")[0] == ["Dull.", "Edited."]
