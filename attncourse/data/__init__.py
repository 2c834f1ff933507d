"""The course's data: toy translation with gold alignments, each chapter's own task, real text.

Chapters 2, 3, 4, 5 and 9 translate between two small synthetic languages. The data
needs no download, every pair is generated from a seed in milliseconds, and, unlike a
real corpus, every pair comes with its exact word alignment, so an attention matrix can
be scored against the truth the way Luong et al. (2015) scored theirs with the
alignment error rate (AER). The other chapters get tasks of their own, generated the same
way, each with the truth about where a model should look (a digit's box, a cue's place,
the sentence that decides a review); only the loaders of real text download anything.

One module per idea; every public name is also here, so ``from attncourse import data``
then ``data.toy_translation(...)`` is all a notebook needs:

- ``vocabulary``: :class:`Vocabulary`, the reserved ids :data:`PAD`, :data:`START` and
  :data:`END`, :data:`UNKNOWN` with :func:`word_vocabulary` and :func:`encode_words` for
  real text, and :func:`pad` (every chapter);
- ``rows``: indexing a data set by rows, and :func:`split` into training and test sets
  (every chapter that trains);
- ``pairs``: sentence pairs as lists of token ids (:class:`Pair`) and
  :func:`seq2seq_arrays`, the arrays a teacher-forced encoder-decoder fits on (chapters 2
  to 5, 9 and appendices A and B);
- ``toy_language``: the toy translation task, its grammar and :func:`toy_translation`,
  which generates a :class:`ToyTranslation` (chapters 2 to 5, 9, appendix B);
- ``lengths``: :func:`length_buckets` and :func:`bucket_labels`, accuracy against
  sentence length (Bahdanau et al. 2015, Fig. 2), through
  ``accuracy_by_length`` (chapters 2, 3, 5, 9, appendix A);
- ``alignment``: :func:`alignment_links`, :func:`gold_links`, :func:`diagonal_links` and :func:`alignment_error`,
  attention scored against gold alignments with the AER (chapters 3, 4, 9, appendix A);
- ``digits``: :func:`cluttered_digits`, a digit on a cluttered canvas, and
  :func:`box_cells` (chapter 1);
- ``cues``: :func:`planted_cues`, chatter with cue words planted in it (chapter 6);
- ``running_text``: :func:`python_docs_corpus`, Python's documentation as a language
  modelling corpus (chapter 7);
- ``documents``: :class:`Documents`, reviews as sentences of words, planted
  (:func:`planted_documents`) or real (:func:`review_documents`, the IMDB reviews of
  :func:`download_imdb_reviews`) (chapter 8, appendix A);
- ``sentence_pairs``: real translation pairs, :func:`read_sentence_pairs` and
  :func:`download_sentence_pairs` (appendix A);
- ``arguments``: the integer check every module shares.

Links are pairs ``(target_position, source_position)``, positions counted from 0.
"""

from __future__ import annotations

from attncourse.data import (
    alignment,
    cues,
    digits,
    documents,
    lengths,
    pairs,
    rows,
    running_text,
    sentence_pairs,
    toy_language,
    vocabulary,
)
from attncourse.data.alignment import alignment_error, alignment_links, diagonal_links, gold_links
from attncourse.data.cues import CHATTER_WORDS, WEATHER_CUES, PlantedCues, planted_cues
from attncourse.data.digits import DIGIT_SIZE, ClutteredDigits, box_cells, cluttered_digits
from attncourse.data.documents import (
    IMDB_URL,
    NEGATIVE_WORDS,
    NEUTRAL_WORDS,
    POSITIVE_WORDS,
    VERDICT_MARKERS,
    Documents,
    download_imdb_reviews,
    planted_documents,
    read_review_folder,
    review_documents,
    review_vocabulary,
    split_review,
)
from attncourse.data.lengths import bucket_labels, length_buckets
from attncourse.data.pairs import Pair, seq2seq_arrays
from attncourse.data.rows import split
from attncourse.data.running_text import (
    TextCorpus,
    language_model_windows,
    python_docs_corpus,
    python_docs_text,
    word_tokens,
)
from attncourse.data.sentence_pairs import (
    SENTENCE_PAIRS_URL,
    SentencePairs,
    download_sentence_pairs,
    read_sentence_pairs,
    sentence_vocabulary,
    tokenize_sentence,
)
from attncourse.data.toy_language import (
    ADJ,
    ADV,
    CONJ,
    DET,
    MIN_LENGTH,
    MIN_VOCAB_SIZE,
    NOUN,
    PREP,
    REORDERINGS,
    VERB,
    ToyTranslation,
    toy_translation,
)
from attncourse.data.vocabulary import (
    END,
    PAD,
    START,
    UNKNOWN,
    Vocabulary,
    encode_words,
    pad,
    word_vocabulary,
)

# Every module's public names, in the order of the docstring's list.
__all__ = []
__all__ += vocabulary.__all__
__all__ += rows.__all__
__all__ += pairs.__all__
__all__ += toy_language.__all__
__all__ += lengths.__all__
__all__ += alignment.__all__
__all__ += digits.__all__
__all__ += cues.__all__
__all__ += running_text.__all__
__all__ += documents.__all__
__all__ += sentence_pairs.__all__
