"""Helpers shared by the test modules (import them; conftest is for fixtures)."""

import numpy as np
import tensorflow as tf

from compat_reg import _compat, golden_files


def evaluate(value):
    """The value of ``value``, eagerly or in a Session (graph mode); on
    Keras 3's JAX or torch a backend tensor (a torch penalty requires grad:
    no ``numpy()``) through ``keras.ops``."""
    if not (_compat.TF_BACKEND or _compat.is_tensor(value)):
        return np.asarray(_compat.keras.ops.convert_to_numpy(value))
    return np.asarray(_compat.evaluate(value))


def rel_diff(got, want):
    got, want = float(evaluate(got)), float(want)
    return abs(got - want) / abs(want) if want else abs(got)


# the product's own bound, one place for both (see golden_files)
TOLERANCE = golden_files.PENALTY_TOLERANCE


def make_regularizer(module, spec):
    """Build a golden ``regularizer`` spec with ``module``'s factories
    (compat_reg, compat_reg.contrib, tf.contrib.layers or tf_slim)."""
    from compat_reg import regularizers
    return regularizers.from_spec(spec, module)


def graph_penalty(make_regularizer, array, name="dense/kernel"):
    """Run ``get_variable(regularizer=make_regularizer())`` in a fresh
    tf.compat.v1 graph, as the golden recipe did (the regularizer is made in
    the graph, as TF1 code makes it); return (collection names, collection
    values, total, total name)."""
    v1 = _compat.v1
    with tf.Graph().as_default():
        regularizer = make_regularizer()
        v1.get_variable(name, shape=array.shape, dtype=tf.as_dtype(array.dtype),
                        initializer=v1.constant_initializer(array),
                        regularizer=regularizer)
        entries = v1.get_collection(v1.GraphKeys.REGULARIZATION_LOSSES)
        total = v1.losses.get_regularization_loss()
        with v1.Session() as sess:
            sess.run(v1.global_variables_initializer())
            values, total_value = sess.run([entries, total])
    return [e.name for e in entries], values, total_value, total.name


def contrib_reference():
    """An independent implementation of contrib's regularizers: contrib itself
    on TF 1.x, its maintained TF2 port tf_slim elsewhere (None without it)."""
    from compat_reg import _compat
    if _compat.HAS_CONTRIB:
        return tf.contrib.layers
    return tf_slim()


def tf_slim():
    """The tf_slim package, or None where it is not installed or does not
    import: tf_slim 1.1 needs TF >= 1.14 (``tf.compat.v1``, and
    ``tensorflow.python.framework.device_spec``, which TF 1.13 lacks)."""
    try:
        import tf_slim as module
    except Exception:  # noqa: BLE001 - ImportError, AttributeError on old TF
        return None
    return module
