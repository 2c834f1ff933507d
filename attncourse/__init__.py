"""attncourse: the helper package of the course *Attention, from the painting to HAN*.

Modules (each one idea; ``data``, ``layers`` and ``exercises`` are packages, one module per
idea, that hand on every public name):

- ``profiles``: run profiles (``attncourse.profile``, ``attncourse.pick``) and
  ``attncourse.seed``;
- ``data``: every chapter's data, generated or shipped with Python: vocabularies and padding,
  the toy translation task with its gold alignments and length buckets, alignment error, and
  the digits, cues, running text, reviews and sentence pairs of the other chapters;
- ``reference``: NumPy versions of every score and weighting function;
- ``layers``: the Keras 3 attention layers;
- ``translator``: the recurrent encoder–decoder (the Translator) and its builder;
- ``decoding``: greedy decoding, accuracy by source length and corpus BLEU, for any translation model;
- ``han``: the hierarchical attention network of chapter 8;
- ``transformer``: the tiny Transformer of chapter 9;
- ``plot``: attention heatmaps and metric curves;
- ``exercises``: self-checking exercises;
- ``claims``: recording a paper's claim as measured, and failing when it stops holding;
- ``distribute``: ``tf.distribute`` strategies for appendix B.
"""

from attncourse.profiles import PROFILES, pick, profile, seed

__version__ = "0.2.0"

__all__ = ["PROFILES", "pick", "profile", "seed", "__version__"]
