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



# A TF 1.15 record made again on another CPU: TF's float32 kernels can sum
# in an order that depends on the CPU, so the last bits of a float move.
# Measured on an AMD EPYC with AVX-512 against records made on an earlier
# machine: curves 3.3e-7 relative, weights 4.9e-7 of their tensor's largest
# magnitude (a near-zero element moves by that, not by its own size). One
# cause found: MKL-DNN's sgemm, which TF 1.14/1.15 multiply with, picks AVX2
# or AVX-512 code at run time; with Eigen's own kernel instead
# (TENSORFLOW_USE_CUSTOM_CONTRACTION_KERNEL=false) the idioms' record came out
# bit for bit here, the Estimator's and the conv net's still did not. A float
# of a re-made record must be within RERECORD_RTOL of the larger of itself
# and the largest magnitude of its list or tensor; all else must be equal.
RERECORD_RTOL = 1e-6


def rerecord_mismatch(got, want):
    """Where the floats ``got`` are not ``want`` made again: a message, or
    '' (finite, same shape, each within RERECORD_RTOL as above)."""
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    if got.shape != want.shape:
        return "shape %s != %s" % (got.shape, want.shape)
    if not (np.all(np.isfinite(got)) and np.all(np.isfinite(want))):
        return "not finite"
    if not want.size:
        return ""
    scale = np.maximum(np.abs(want), np.max(np.abs(want)))
    off = np.abs(got - want) > RERECORD_RTOL * scale
    if not np.any(off):
        return ""
    i = np.unravel_index(np.argmax(np.abs(got - want) / np.where(scale > 0, scale, 1)),
                         want.shape)
    return "%d of %d off, worst at %s: %r != %r" % (
        int(np.sum(off)), want.size, list(i), float(got[i]), float(want[i]))


def _floats(value):
    return (isinstance(value, list) and value
            and all(isinstance(v, float) or (isinstance(v, list) and _floats(v))
                    for v in value))


def assert_rerecorded(got, want, path=""):
    """``got`` (JSON) is ``want`` made again: dicts, lists, strings, ints
    and bools equal; lists of floats per ``rerecord_mismatch``."""
    if isinstance(want, dict):
        assert isinstance(got, dict) and sorted(got) == sorted(want), (
            "%s: keys %s != %s" % (path, sorted(got) if isinstance(got, dict) else got,
                                   sorted(want)))
        for key in want:
            assert_rerecorded(got[key], want[key], "%s/%s" % (path, key))
    elif _floats(want) and _floats(got):
        problem = rerecord_mismatch(got, want)
        assert not problem, "%s: %s" % (path, problem)
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), (
            "%s: %r != %r" % (path, got, want))
        for i, (g, w) in enumerate(zip(got, want)):
            assert_rerecorded(g, w, "%s[%d]" % (path, i))
    elif isinstance(want, float) and isinstance(got, float):
        problem = rerecord_mismatch([got], [want])
        assert not problem, "%s: %s" % (path, problem)
    else:
        assert type(got) is type(want) and got == want, "%s: %r != %r" % (path, got, want)
