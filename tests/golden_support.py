"""Helpers shared by the test modules (import them; conftest is for fixtures)."""

import tensorflow as tf


def rel_diff(got, want):
    got, want = float(got), float(want)
    return abs(got - want) / abs(want) if want else abs(got)


# float32: issue bound; float16: half an ulp of float16 near 1 (2**-11) times
# a few for the different reduction order; float64: Keras casts the scale
# through float32 (measured 2.2e-8), so 1e-7.
TOLERANCE = {"float32": 1e-6, "float16": 2.0 ** -9, "float64": 1e-7}


def make_regularizer(module, spec):
    """Build a golden ``regularizer`` spec with ``module``'s factories
    (compat_reg, compat_reg.contrib or tf_slim)."""
    from compat_reg import regularizers
    return regularizers.from_spec(spec, module)


def graph_penalty(regularizer, array, name="dense/kernel"):
    """Run ``get_variable(regularizer=...)`` in a tf.compat.v1 graph; return
    (collection names, collection values, total, total name)."""
    v1 = tf.compat.v1
    with tf.Graph().as_default():
        v1.get_variable(name, initializer=array, dtype=tf.as_dtype(array.dtype),
                        regularizer=regularizer)
        entries = v1.get_collection(v1.GraphKeys.REGULARIZATION_LOSSES)
        total = v1.losses.get_regularization_loss()
        with v1.Session() as sess:
            sess.run(v1.global_variables_initializer())
            values, total_value = sess.run([entries, total])
    return [e.name for e in entries], values, total_value, total.name

