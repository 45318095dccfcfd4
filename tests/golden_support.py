"""Helpers shared by the test modules (import them; conftest is for fixtures)."""

import tensorflow as tf

from compat_reg import golden_files


def rel_diff(got, want):
    got, want = float(got), float(want)
    return abs(got - want) / abs(want) if want else abs(got)


# the product's own bound, one place for both (see golden_files)
TOLERANCE = golden_files.PENALTY_TOLERANCE


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

