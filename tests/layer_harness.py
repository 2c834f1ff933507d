"""The protocol of the layer invariant tests: each layer module's tests declare cases.

`tests/layer_cases_cross.py` and `tests/layer_cases_pooling.py` each define ``CASES``, a
list of :class:`LayerCase`; `tests/test_layer_invariants.py` checks on every one of them the promises every layer
makes (``attncourse.layers`` and ``book/notation.md``): the calling convention, masks,
serialisation and the backends.
"""

from dataclasses import dataclass
from typing import Callable, Optional

import keras
import numpy as np


@dataclass(frozen=True)
class LayerCase:
    id: str  # e.g. "luong-general-scaled"
    kind: str  # "cross" | "pooling" | "causal"
    make: Callable[..., keras.layers.Layer]  # make(**kwargs) -> a fresh layer
    depth: int = 8  # feature depth of the inputs the harness builds
    values: Optional[Callable] = None  # causal only: h -> the values the weights average
    bad_options: tuple = ()  # constructor kwargs dicts that must raise ValueError

    def __post_init__(self):
        if self.kind not in ("cross", "pooling", "causal"):
            raise ValueError(f"LayerCase {self.id!r}: unknown kind {self.kind!r}")


def gradients(layer, loss, inputs):
    """Gradients of ``loss(call, inputs)`` on the active backend (TensorFlow, JAX or PyTorch).

    ``loss`` computes a scalar with ``keras.ops`` from ``call``, which calls ``layer``
    (``call(x, **kwargs)`` is ``layer(x, **kwargs)``), and ``inputs``, a list of float
    arrays. The layer must be built. Returns NumPy arrays: the gradients with respect to
    ``layer.trainable_weights``, then to each input; an entry is None where the loss
    does not depend on it.
    """
    backend = keras.backend.backend()
    weights = layer.trainable_weights
    if backend == "tensorflow":
        import tensorflow as tf

        tensors = [tf.constant(x) for x in inputs]
        with tf.GradientTape() as tape:
            tape.watch(tensors)
            value = loss(layer, tensors)
        grads = tape.gradient(value, [*weights, *tensors])
    elif backend == "jax":
        import jax

        non_trainable = [v.value for v in layer.non_trainable_weights]

        def loss_of(trainable, tensors):
            def call(*args, **kwargs):
                return layer.stateless_call(trainable, non_trainable, *args, **kwargs)[0]

            return loss(call, tensors)

        weight_grads, input_grads = jax.grad(loss_of, argnums=(0, 1))(
            [v.value for v in weights], [jax.numpy.asarray(x) for x in inputs]
        )
        grads = [*weight_grads, *input_grads]
    elif backend == "torch":
        import torch

        tensors = [torch.tensor(x, requires_grad=True) for x in inputs]
        value = loss(layer, tensors)
        grads = torch.autograd.grad(
            value, [v.value for v in weights] + tensors, allow_unused=True
        )
    else:
        raise ValueError(f"gradients: no gradient for the Keras backend {backend!r}")
    return [None if g is None else np.asarray(keras.ops.convert_to_numpy(g)) for g in grads]
