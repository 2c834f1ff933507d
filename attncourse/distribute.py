"""Scaling out with ``tf.distribute`` (appendix B): pick a strategy for the machine at hand.

Data parallelism keeps one copy of the model on every device (a *replica*); each
replica takes a slice of the global batch, computes its gradients, and the gradients are
summed across replicas (an all-reduce) before every replica applies the same update, so
the copies never drift apart. ``tf.distribute`` does this for a Keras model that is built
and compiled inside ``strategy.scope()``:

- ``tf.distribute.TPUStrategy`` on the eight cores of a Colab TPU;
- ``tf.distribute.MirroredStrategy`` on several GPUs of one machine;
- the same ``MirroredStrategy`` over two *logical* CPU devices, which this module can
  configure, to show (and test) the mechanics on any laptop. It is not faster: both
  replicas share the same cores.

Only the TensorFlow backend of Keras uses ``tf.distribute``.
"""

import os

__all__ = ["choose_strategy", "connect_tpu", "split_cpu"]


def split_cpu(count=2):
    """Split the physical CPU into ``count`` logical devices, for a demonstration of data parallelism.

    TensorFlow fixes its devices the first time it needs one (the first tensor, the first
    model), so this must run before that, right after importing TensorFlow. Calling it
    again with the same ``count`` is harmless.

    Args:
        count: the number of logical CPU devices, at least 2.

    Returns:
        The names of the logical CPU devices, e.g. ``["/job:localhost/replica:0/task:0/device:CPU:0", ...]``.

    Raises:
        ValueError: ``count`` is not an integer of at least 2.
        RuntimeError: TensorFlow has already initialised its devices with another
            configuration; restart the process (or the notebook's kernel) and call this first.
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 2:
        raise ValueError(f"count must be an integer of at least 2, got {count!r}")
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    configured = tf.config.get_logical_device_configuration(cpu)
    if configured is None or len(configured) != count:
        try:
            tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * count)
        except RuntimeError as error:
            raise RuntimeError(
                f"cannot split the CPU into {count} logical devices: TensorFlow has already initialised "
                f"its devices ({error}). Restart the process (in a notebook, the kernel) and call "
                "split_cpu before anything else creates a tensor or a model."
            ) from None
    return [device.name for device in tf.config.list_logical_devices("CPU")]


def connect_tpu():
    """Connect to a TPU if this machine has one, and initialise it.

    A Colab TPU runtime today is a TPU VM, whose cores TensorFlow sees as local ``TPU``
    devices (``TPUClusterResolver(tpu="local")``); older runtimes reached a TPU over the
    network and announced it with the variable ``COLAB_TPU_ADDR`` (or ``TPU_NAME``).

    Returns:
        A ``tf.distribute.cluster_resolver.TPUClusterResolver``, or ``None`` when there is
        no TPU (nothing is contacted then, so this returns at once on other machines).
    """
    import tensorflow as tf

    if tf.config.list_physical_devices("TPU"):
        tpu = "local"
    elif os.environ.get("COLAB_TPU_ADDR") or os.environ.get("TPU_NAME"):
        tpu = None  # the resolver reads the address from the environment
    else:
        return None
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu)
        if tpu != "local":
            tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, RuntimeError, tf.errors.OpError) as error:
        print(f"a TPU was announced but could not be initialised ({error}); going on without it")
        return None
    return resolver


def choose_strategy():
    """The data-parallel strategy for this machine, and a sentence that says what it is.

    In order of preference: ``TPUStrategy`` when there is a TPU; ``MirroredStrategy`` over
    the GPUs when there are two or more; ``MirroredStrategy`` over the logical CPU devices
    when :func:`split_cpu` made several (a demonstration: one GPU, or a laptop); else
    TensorFlow's default strategy, a single device.

    Returns:
        ``(strategy, description)``: a ``tf.distribute.Strategy`` and a str.
    """
    import tensorflow as tf

    resolver = connect_tpu()
    if resolver is not None:
        strategy = tf.distribute.TPUStrategy(resolver)
        return strategy, f"TPUStrategy over {strategy.num_replicas_in_sync} TPU cores"
    gpus = tf.config.list_logical_devices("GPU")
    if len(gpus) > 1:
        return tf.distribute.MirroredStrategy([gpu.name for gpu in gpus]), f"MirroredStrategy over {len(gpus)} GPUs"
    cpus = tf.config.list_logical_devices("CPU")
    if len(cpus) > 1:
        strategy = tf.distribute.MirroredStrategy([cpu.name for cpu in cpus])
        return strategy, (f"MirroredStrategy over {len(cpus)} logical CPU devices "
                          "(a demonstration: they share the same cores, so it is not faster)")
    return tf.distribute.get_strategy(), "the default strategy: one device, no replicas"
