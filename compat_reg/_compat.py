"""Every TensorFlow / Keras version question, answered once.

This is the only module of compat_reg that looks at versions. Like ``six``,
the facts are computed once at import time, and what lives where is one
declarative table (``_MOVES``); everything else in the package asks this
module instead of branching on ``tf.__version__``.

Keras flavours that ``tf.keras`` can resolve to:

=================  ===================================================
``keras2-builtin``  Keras 2 inside TensorFlow (TF 1.15, TF <= 2.5)
``keras2``          the ``keras`` 2.x package (TF 2.6 to 2.15)
``tf_keras``        ``tf_keras`` under ``TF_USE_LEGACY_KERAS=1`` (TF >= 2.16)
``keras3``          Keras 3 (TF >= 2.16 by default)
=================  ===================================================
"""

from __future__ import absolute_import, division, print_function

import collections
import importlib
import importlib.util
import os
import re

import tensorflow as tf

TF_VERSION = tuple(
    int(part) for part in re.match(r"(\d+)\.(\d+)", tf.__version__).groups())
TF1 = TF_VERSION[0] == 1
TF2 = not TF1

# tf.contrib is real only on TF 1.x; asking importlib does not import it.
HAS_CONTRIB = TF1 and importlib.util.find_spec("tensorflow.contrib") is not None

LEGACY_KERAS_REQUESTED = os.environ.get("TF_USE_LEGACY_KERAS", "").lower() in (
    "1", "true", "yes")


def _resolve_keras():
    """Return (module, flavour, version) of the Keras that tf.keras is."""
    dense = tf.keras.layers.Dense
    root = dense.__module__.split(".")[0]
    if root == "tensorflow":
        return tf.keras, "keras2-builtin", tf.keras.__version__
    module = importlib.import_module(root)
    version = module.__version__
    if root == "tf_keras":
        return module, "tf_keras", version
    if int(version.split(".")[0]) >= 3:
        return module, "keras3", version
    return module, "keras2", version


keras, KERAS_FLAVOUR, KERAS_VERSION = _resolve_keras()
KERAS3 = KERAS_FLAVOUR == "keras3"
KERAS2 = not KERAS3


# What lives where: (name, keras 2 path, keras 3 path), both relative to the
# Keras package that tf.keras resolves to. None means "does not exist there".
Moved = collections.namedtuple("Moved", "name keras2 keras3")


def _no_registration(package="Custom", name=None):
    """TF 1.15's built-in Keras has no registry; classes still work there."""
    del package, name
    return lambda cls: cls


# Used where a path is missing from an old built-in Keras (TF 1.15).
_FALLBACKS = {"register_serializable": _no_registration}
_MOVES = [
    Moved("L1", "regularizers.L1", "regularizers.L1"),
    Moved("L2", "regularizers.L2", "regularizers.L2"),
    Moved("L1L2", "regularizers.L1L2", "regularizers.L1L2"),
    Moved("Regularizer", "regularizers.Regularizer", "regularizers.Regularizer"),
    Moved("register_serializable", "utils.register_keras_serializable",
          "saving.register_keras_serializable"),
    Moved("serialize_regularizer", "regularizers.serialize",
          "regularizers.serialize"),
    Moved("deserialize_regularizer", "regularizers.deserialize",
          "regularizers.deserialize"),
    Moved("Optimizer", "optimizers.Optimizer", "optimizers.Optimizer"),
]


def _lookup(path):
    obj = keras
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


class _Moves(object):
    """Attribute access to the table above, resolved for this Keras."""

    def __getattr__(self, name):
        for move in _MOVES:
            if move.name == name:
                path = move.keras3 if KERAS3 else move.keras2
                if path is None:
                    raise AttributeError(
                        "%s does not exist in %s %s" % (name, KERAS_FLAVOUR,
                                                        KERAS_VERSION))
                try:
                    value = _lookup(path)
                except AttributeError:
                    if name not in _FALLBACKS:
                        raise
                    value = _FALLBACKS[name]
                setattr(self, name, value)
                return value
        raise AttributeError(name)


moves = _Moves()


def executing_eagerly():
    """True in eager mode (TF2 default), False while building a graph."""
    return tf.executing_eagerly()


def tf1_name(variable):
    """The TF1-style name of a Keras weight: ``model/dense/kernel``.

    Keras 3 names weights by ``variable.path``; Keras 2 by ``variable.name``
    with the ``:0`` output suffix, which TF1's collection names dropped when
    ``scope`` was matched against the op name.
    """
    if KERAS3 and hasattr(variable, "path"):
        return variable.path
    name = variable.name
    return name[:-2] if name.endswith(":0") else name


def regularizer_of(variable):
    """The regularizer Keras attached to ``variable`` (Keras 3 only), or None."""
    return getattr(variable, "regularizer", None) if KERAS3 else None


def describe():
    """The facts above as an ordered list of (name, value) pairs."""
    import numpy
    import platform
    return [
        ("python", platform.python_version()),
        ("numpy", numpy.__version__),
        ("tensorflow", tf.__version__),
        ("tf.keras flavour", KERAS_FLAVOUR),
        ("keras package", "%s %s" % (keras.__name__, KERAS_VERSION)),
        ("TF_USE_LEGACY_KERAS", os.environ.get("TF_USE_LEGACY_KERAS", "")),
        ("eager", executing_eagerly()),
        ("tf.contrib", "real" if HAS_CONTRIB else "absent"),
    ]
