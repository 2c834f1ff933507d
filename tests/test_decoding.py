"""Greedy decoding and accuracy by source length (``attncourse.decoding``), on the Translator
with each attention and on the Transformer; corpus BLEU against hand-computed cases; and
appendix A's gpu branch (real pairs, the Transformer, BLEU) on a small file.
"""

import ast
import json
from pathlib import Path

import numpy as np
import pytest

import keras

from attncourse import data, decoding
from attncourse.layers import MonotonicAttention
from attncourse.translator import Translator
from tests.conftest import SOURCE_LENGTH, toy_transformer, toy_translator as make


@pytest.mark.parametrize("kind", ["none", "bahdanau"])
def test_greedy_decode_stops_at_end(toy, kind):
    pairs, arrays = toy
    model = make(pairs, kind)
    tokens, weights = decoding.greedy_decode(model, arrays["source"], max_length=6, batch_size=5)
    assert tokens.shape == (len(pairs), 6)
    for row in tokens:
        ends = np.flatnonzero(row == data.END)
        if len(ends):
            assert np.all(row[ends[0] + 1 :] == data.PAD)
    assert (weights is None) == (kind == "none")
    if weights is not None:
        assert weights.shape == (len(pairs), 6, SOURCE_LENGTH)


def test_accuracy_by_length_reports_each_bucket(toy):
    pairs, _ = toy
    model = make(pairs, "luong")
    result = decoding.accuracy_by_length(model, pairs, edges=[3, 6, SOURCE_LENGTH])
    assert result["labels"] == data.bucket_labels([3, 6, SOURCE_LENGTH])
    assert sum(result["count"]) == len(pairs)
    for values in (result["token_accuracy"], result["sequence_accuracy"]):
        assert all(0.0 <= v <= 1.0 for v, n in zip(values, result["count"]) if n)


def test_hard_monotonic_decoding_reads_one_word_and_never_moves_left(toy):
    pairs, arrays = toy
    keras.utils.set_random_seed(0)
    # With the offset r = 0 the untrained walk stops about every other word, so it moves
    # right step after step and reaches the end of the short sentences.
    model = Translator(len(pairs.source_vocab), len(pairs.target_vocab), source_length=SOURCE_LENGTH,
                       embedding_dim=6, units=10, attention=MonotonicAttention(8, init_bias=0.0))
    tokens, weights = decoding.greedy_decode(model, arrays["source"], max_length=12)
    assert weights.shape == (len(pairs), 12, SOURCE_LENGTH)
    np.testing.assert_array_equal(np.sort(weights, axis=-1)[..., :-1], 0.0)
    np.testing.assert_allclose(weights.max(axis=-1), 1.0)
    positions = weights.argmax(axis=-1)
    assert np.all(np.diff(positions, axis=1) >= 0)
    assert np.all(positions < (arrays["source"] != data.PAD).sum(axis=1, keepdims=True))
    assert positions.max() > 0  # the walk did move


def test_soft_monotonic_decoding_gives_the_expected_alignment(toy):
    pairs, arrays = toy
    model = make(pairs, "monotonic")
    _, soft = decoding.greedy_decode(model, arrays["source"], max_length=5, monotonic_mode="soft")
    assert np.any((soft > 0.01) & (soft < 0.99))  # spread over several words, not one-hot
    np.testing.assert_allclose(soft.sum(-1), 1.0, atol=1e-5)
    with pytest.raises(ValueError, match="monotonic_mode"):
        decoding.greedy_decode(model, arrays["source"], max_length=5, monotonic_mode="expected")


@pytest.mark.parametrize("kind", ["luong", "monotonic"])
def test_attention_after_the_decoder_reads_sources_longer_than_built_for(toy, kind):
    pairs, _ = toy
    model = make(pairs, kind)
    longer = data.toy_translation(6, vocab_size=20, min_length=2 * SOURCE_LENGTH,
                                  max_length=2 * SOURCE_LENGTH, seed=4)
    result = decoding.accuracy_by_length(model, longer, edges=[SOURCE_LENGTH, 2 * SOURCE_LENGTH + 1],
                                         source_length=2 * SOURCE_LENGTH)
    assert result["count"] == [len(longer)]
    assert result["weights"].shape[-1] == 2 * SOURCE_LENGTH


def test_transformer_greedy_decoding_and_accuracy_by_length(toy):
    pairs, arrays = toy
    model = toy_transformer(pairs)
    tokens, weights = decoding.greedy_decode(model, arrays["source"], max_length=6, batch_size=5)
    assert tokens.shape == (len(pairs), 6) and weights.shape == (len(pairs), 6, SOURCE_LENGTH)
    for row in tokens:
        ends = np.flatnonzero(row == data.END)
        if len(ends):
            assert np.all(row[ends[0] + 1 :] == data.PAD)
    result = decoding.accuracy_by_length(model, pairs, edges=[3, 6, SOURCE_LENGTH])
    assert sum(result["count"]) == len(pairs)


# ----------------------------------------------------------------------------- corpus BLEU


def test_corpus_bleu_by_hand():
    # Two sentences, counted by hand (matches / n-grams written, per order):
    #   "the the the cat" against "the cat is on the mat": unigrams the x3 (clipped to the 2
    #   of the reference) + cat = 3/4; bigrams "the the" x2 (0) + "the cat" (1) = 1/3;
    #   trigrams 0/2; 4-grams 0/1.
    #   "a dog runs in the park", written exactly: 6/6, 5/5, 4/4, 3/3.
    # Summed over the corpus: p = 9/10, 6/8, 4/6, 3/4; c = 10 words written, r = 12.
    references = ["the cat is on the mat".split(), "a dog runs in the park".split()]
    hypotheses = ["the the the cat".split(), "a dog runs in the park".split()]
    parts = decoding.corpus_bleu(references, hypotheses, return_parts=True)
    assert parts["matches"] == [9, 6, 4, 3] and parts["totals"] == [10, 8, 6, 4]
    np.testing.assert_allclose(parts["precisions"], [9 / 10, 6 / 8, 4 / 6, 3 / 4])
    assert (parts["hypothesis_length"], parts["reference_length"]) == (10, 12)
    np.testing.assert_allclose(parts["brevity_penalty"], np.exp(1 - 12 / 10))
    expected = np.exp(1 - 12 / 10) * (9 / 10 * 6 / 8 * 4 / 6 * 3 / 4) ** (1 / 4)
    np.testing.assert_allclose(parts["bleu"], expected)
    np.testing.assert_allclose(decoding.corpus_bleu(references, hypotheses), expected)
    # A corpus score, not the mean of sentence scores: the first sentence alone scores 0.
    assert decoding.corpus_bleu(references[:1], hypotheses[:1]) == 0.0


def test_corpus_bleu_clips_repeated_words():
    # Papineni et al.'s example of a degenerate output: seven "the" against a reference with
    # two; the modified unigram precision is 2/7, where plain precision would be 7/7.
    reference = "the cat is on the mat".split()
    parts = decoding.corpus_bleu([reference], [["the"] * 7], max_order=1, return_parts=True)
    assert parts["matches"] == [2] and parts["totals"] == [7]
    assert parts["brevity_penalty"] == 1.0  # 7 words written, 6 in the reference
    np.testing.assert_allclose(parts["bleu"], 2 / 7)


def test_corpus_bleu_edge_cases():
    sentence = ["el", "gato", "duerme", "en", "la", "cama", "."]
    assert decoding.corpus_bleu([sentence], [sentence]) == 1.0
    # Ids work as well as words.
    assert decoding.corpus_bleu([[5, 6, 7, 8]], [np.array([5, 6, 7, 8])]) == 1.0
    # Longer than the reference: no brevity penalty; shorter: exp(1 - r / c).
    longer = decoding.corpus_bleu([sentence], [sentence + ["."]], return_parts=True)
    assert longer["brevity_penalty"] == 1.0 and longer["precisions"][0] == 7 / 8
    shorter = decoding.corpus_bleu([sentence], [sentence[:4]], return_parts=True)
    assert shorter["precisions"] == [1.0, 1.0, 1.0, 1.0]
    np.testing.assert_allclose(shorter["bleu"], np.exp(1 - 7 / 4))
    # No 4-gram in common, or nothing written: 0, with no smoothing.
    assert decoding.corpus_bleu([sentence], [["el", "gato", "en", "la", "cama"]]) == 0.0
    empty = decoding.corpus_bleu([sentence], [[]], return_parts=True)
    assert empty["bleu"] == 0.0 and empty["brevity_penalty"] == 0.0 and empty["totals"] == [0, 0, 0, 0]
    # Order 2 only needs bigrams.
    np.testing.assert_allclose(decoding.corpus_bleu([["a", "b", "c"]], [["a", "b", "d"]], max_order=2),
                               np.sqrt(2 / 3 * 1 / 2))


@pytest.mark.parametrize(
    "references, hypotheses, kwargs, message",
    [
        ([["a"]], [["a"], ["b"]], {}, "one reference per hypothesis"),
        ([], [], {}, "one reference per hypothesis"),
        (["a cat"], [["a", "cat"]], {}, "tokenise them first"),
        ([["a"]], [["a"]], {"max_order": 0}, "max_order"),
        ([["a"]], [["a"]], {"max_order": True}, "max_order"),
    ],
)
def test_corpus_bleu_rejects_bad_input(references, hypotheses, kwargs, message):
    with pytest.raises(ValueError, match=message):
        decoding.corpus_bleu(references, hypotheses, **kwargs)


def random_corpus(seed, sentences=40):
    """Sentences over a six-word vocabulary (so n-grams repeat and match), with references
    made by copying each output and changing some of its words."""
    rng = np.random.default_rng(seed)
    words = ["el", "la", "gato", "casa", "ve", "."]
    references, hypotheses = [], []
    for _ in range(sentences):
        reference = [str(w) for w in rng.choice(words, size=rng.integers(4, 12))]
        hypothesis = [w if rng.random() < 0.8 else str(rng.choice(words)) for w in reference]
        hypotheses.append(hypothesis[: len(hypothesis) - int(rng.integers(0, 3))])
        references.append(reference)
    return references, hypotheses


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_corpus_bleu_agrees_with_an_independent_implementation(seed):
    references, hypotheses = random_corpus(seed)
    ours = decoding.corpus_bleu(references, hypotheses)
    assert 0.0 < ours < 1.0
    try:
        from nltk.translate.bleu_score import corpus_bleu as nltk_corpus_bleu
    except ImportError:
        nltk_corpus_bleu = None
    try:
        import sacrebleu
    except ImportError:
        sacrebleu = None
    if nltk_corpus_bleu is None and sacrebleu is None:
        pytest.skip("neither nltk nor sacrebleu is installed in this environment (the course does not "
                    "depend on them); the hand-computed cases above check corpus_bleu without them")
    if nltk_corpus_bleu is not None:
        # One reference per sentence; NLTK's default is the same unsmoothed BLEU-4.
        np.testing.assert_allclose(ours, nltk_corpus_bleu([[r] for r in references], hypotheses), rtol=1e-9)
    if sacrebleu is not None:
        # Already tokenised: join with spaces and tell sacrebleu not to tokenise again.
        score = sacrebleu.corpus_bleu([" ".join(h) for h in hypotheses], [[" ".join(r) for r in references]],
                                      tokenize="none", smooth_method="none", force=True)
        np.testing.assert_allclose(100 * ours, score.score, rtol=1e-9)


# ----------------------------------------------------------------------------- appendix A, gpu profile

NOTEBOOK_10 = Path(__file__).resolve().parents[1] / "notebooks" / "10_real_data.ipynb"


def gpu_values(notebook):
    """``{NAME: gpu value}`` of every ``NAME = ...pick(ci=..., cpu=..., gpu=...)`` in a notebook."""
    values = {}
    for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] != "code":
            continue
        lines = [line for line in "".join(cell["source"]).splitlines() if not line.lstrip().startswith(("%", "!"))]
        for node in ast.walk(ast.parse("\n".join(lines))):
            if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                    and isinstance(node.value, ast.Call) and ast.unparse(node.value.func).endswith("pick")):
                keywords = {k.arg: k.value for k in node.value.keywords}
                values[node.targets[0].id] = ast.literal_eval(keywords["gpu"])
    return values


# Written for this test: a dozen short pairs, one of 20 tokens (the gpu profile's longest) and
# one of 21 (dropped). Words such as "river" occur in one pair only.
APPENDIX_A_PAIRS = [
    "Go.\tVe.", "I see the cat.\tVeo el gato.", "The cat sleeps.\tEl gato duerme.",
    "Where is the boy?\t¿Dónde está el niño?", "The boy sees the cat.\tEl niño ve el gato.",
    "I see the house.\tVeo la casa.", "The house is old.\tLa casa es vieja.",
    "The old cat sleeps.\tEl gato viejo duerme.", "We see the river.\tVemos el río.",
    "The boy is here.\tEl niño está aquí.", "The cat is black.\tEl gato es negro.",
    "The house is near the river.\tLa casa está cerca del río.",
    "The old man and the young boy walk to the big house near the river every day in summer.\t"
    "El viejo y el niño caminan a la casa grande cerca del río todos los días en verano.",
    "The old man and the young boy walk slowly to the big house near the river every day in summer.\t"
    "El viejo y el niño caminan despacio a la casa grande cerca del río todos los días.",
]


@pytest.mark.skipif(not NOTEBOOK_10.is_file(), reason="the notebooks are not next to the tests")
def test_appendix_a_gpu_branch_on_a_small_file(tmp_path):
    # 10_real_data in the gpu profile, with the gpu values read from the notebook: every word
    # read, the split, the vocabularies of the training pairs, the Transformer built and
    # trained in mixed precision as the page builds it, greedy decoding by length, and BLEU
    # against the test sentences as written. Only the download and the sizes of the data differ.
    from attncourse import transformer, translator

    gpu = gpu_values(NOTEBOOK_10)
    path = tmp_path / "spa.txt"
    path.write_text("\n".join(APPENDIX_A_PAIRS) + "\n", encoding="utf-8")
    previous = keras.mixed_precision.dtype_policy()
    keras.mixed_precision.set_dtype_policy("mixed_float16")
    try:
        all_pairs = data.read_sentence_pairs(path, max_length=gpu["MAX_LENGTH"])
        assert len(all_pairs) == len(APPENDIX_A_PAIRS) - 1 and all_pairs.source_lengths.max() == gpu["MAX_LENGTH"]
        pairs = all_pairs.subset(np.random.default_rng(0).permutation(len(all_pairs))[: gpu["N_PAIRS"]])
        train_text, test_text = data.split(pairs, test_fraction=0.2, seed=1)
        vocabularies = train_text.vocabularies(max_size=gpu["MAX_VOCABULARY"])
        train, test = (part.with_vocabularies(*vocabularies) for part in (train_text, test_text))
        test_words = {w for k in range(len(test_text)) for w in test_text.words(k)[1]}
        train_words = {w for k in range(len(train_text)) for w in train_text.words(k)[1]}
        assert test_words - train_words, "the split should leave some Spanish word to the test pairs only"
        assert not (test_words - train_words) & set(train.target_vocab.words)

        arrays = data.seq2seq_arrays(train, source_length=gpu["MAX_LENGTH"], target_length=gpu["MAX_LENGTH"] + 1)
        keras.utils.set_random_seed(0)
        model = translator.compile_translator(
            transformer.Transformer(len(train.source_vocab), len(train.target_vocab), source_length=gpu["MAX_LENGTH"],
                                    depth=gpu["DEPTH"], heads=gpu["HEADS"], num_layers=gpu["LAYERS"]),
            learning_rate=2e-3, jit_compile=False)
        model.build(None)
        assert model.output_layer.compute_dtype == "float16"
        assert all(v.dtype == "float32" for v in model.weights)
        history = model.fit([arrays["source"], arrays["decoder_input"]], arrays["decoder_target"],
                            batch_size=gpu["BATCH_SIZE"], epochs=2, verbose=0)
        assert np.all(np.isfinite(history.history["loss"]))

        result = decoding.accuracy_by_length(model, test, gpu["EDGES"])
        assert sum(result["count"]) == len(test)
        written = [train.target_vocab.decode(tokens) for tokens in result["tokens"]]
        references = [test_text.words(k)[1] for k in range(len(test_text))]
        parts = decoding.corpus_bleu(references, written, return_parts=True)
        assert 0.0 <= parts["bleu"] <= 1.0
        assert parts["hypothesis_length"] == sum(len(w) for w in written)
        assert parts["reference_length"] == sum(len(r) for r in references)
    finally:
        keras.mixed_precision.set_dtype_policy(previous)
