"""The attention layers of the course, Keras 3 layers written with ``keras.ops`` only.

One module per idea; each layer follows the calling convention of Keras's own attention
layers (see DESIGN A.5 and ``book/notation.md``).
"""
