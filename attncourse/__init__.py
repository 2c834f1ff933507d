"""attncourse: the helper package of the course *Attention, from the painting to HAN*.

Modules (each one idea):

- ``profile``: run profiles (``profile``, ``pick``) and ``seed``;
- ``data``: toy translation data with gold alignments, padding and batching, alignment error,
  and loaders for real text;
- ``reference``: NumPy versions of every score and weighting function;
- ``layers``: the Keras 3 attention layers;
- ``models``: encoder–decoders and the other models the chapters train;
- ``transformer``: the tiny Transformer of chapter 9;
- ``plot``: attention heatmaps and metric curves;
- ``exercises``: self-checking exercises;
- ``claims``: recording a paper's claim as measured, and failing when it stops holding;
- ``distribute``: ``tf.distribute`` strategies for appendix B.
"""

from attncourse.profile import PROFILES, pick, profile, seed

__version__ = "0.2.0"

__all__ = ["PROFILES", "pick", "profile", "seed", "__version__"]
