"""``tf.contrib.layers``' regularizer API, and ``install()`` to put it back.

``compat_reg.contrib`` mirrors ``tf.contrib.layers`` for the regularizer
names, so ``from compat_reg import contrib`` then ``contrib.l2_regularizer``
reads as before. ``install()`` goes further: it makes ``tf.contrib.layers``,
``tf.contrib.slim``, ``tensorflow.contrib.layers`` and
``tensorflow.contrib.slim`` resolve on TF2, so unmodified TF1 code runs:

    import compat_reg; compat_reg.install()
    reg = tf.contrib.layers.l2_regularizer(0.01)   # compat_reg's, exact

Every other ``tf.contrib`` attribute raises an ``AttributeError`` that says
what to use instead (``_INSTEAD``). On TF 1.x, where contrib is real,
``install()`` does nothing.
"""

from __future__ import absolute_import, division, print_function

import importlib
import sys
import threading
import types

import tensorflow as tf

from compat_reg import _compat, convention, regularizers

# The names compat_reg provides, in tf.contrib.layers and in tf.contrib.slim.
PROVIDED = {name: getattr(regularizers, name) for name in convention.NAMES}
globals().update(PROVIDED)

__all__ = list(convention.NAMES) + ["install", "installed"]

# What to use instead of the rest of tf.contrib: attribute path -> advice.
# Lookups try the full path first ("layers.dense"), then its head ("layers").
_INSTEAD = {
    "layers": "tf.keras.layers (Dense, Conv2D, BatchNormalization, ...)",
    "layers.dense": "tf.keras.layers.Dense",
    "layers.fully_connected": "tf.keras.layers.Dense",
    "layers.conv2d": "tf.keras.layers.Conv2D",
    "layers.batch_norm": "tf.keras.layers.BatchNormalization",
    "layers.flatten": "tf.keras.layers.Flatten",
    "layers.xavier_initializer": "tf.keras.initializers.GlorotUniform",
    "layers.variance_scaling_initializer": "tf.keras.initializers.VarianceScaling",
    "layers.optimize_loss": "a tf.keras optimizer with model.fit or a custom loop",
    "slim": "the tf_slim package (pip install tf-slim) or tf.keras",
    "framework": "tf.keras / tf.Module (variables) and tf.nest",
    "losses": "tf.keras.losses",
    "metrics": "tf.keras.metrics",
    "opt": "tf.keras.optimizers",
    "rnn": "tf.keras.layers (LSTM, GRU, RNN cells)",
    "cudnn_rnn": "tf.keras.layers.LSTM / GRU",
    "seq2seq": "keras_nlp / tensorflow_addons.seq2seq",
    "data": "tf.data",
    "training": "tf.data and tf.keras",
    "learn": "tf.estimator or tf.keras",
    "summary": "tf.summary",
    "distribute": "tf.distribute",
    "image": "tf.image",
    "lookup": "tf.lookup",
    "quantize": "tensorflow_model_optimization",
    "tpu": "tf.distribute.TPUStrategy",
}


class _Namespace(types.ModuleType):
    """A module that offers ``PROVIDED`` and explains everything else."""

    def __init__(self, path, children=None):
        super(_Namespace, self).__init__("tensorflow." + path)
        self._path = path  # e.g. "contrib.layers"
        self.__dict__.update(children or {})

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        sub = self._path.split(".", 1)[1] + "." if "." in self._path else ""
        advice = _INSTEAD.get(sub + name) or _INSTEAD.get(sub.rstrip(".")) \
            or "tf.keras or the TF2 API"
        raise AttributeError(
            "tf.%s.%s does not exist in TensorFlow 2, and compat_reg provides "
            "only the regularizers (%s). Use %s instead." %
            (self._path, name, ", ".join(sorted(PROVIDED)), advice))


_LOCK = threading.Lock()
_INSTALLED = []  # the root namespace once installed


def installed():
    """True once ``install()`` has put compat_reg's contrib in place."""
    return bool(_INSTALLED)


def install():
    """Make ``tf.contrib.layers.<regularizer>`` resolve on TF2.

    Sets ``tf.contrib`` and ``tf.compat.v1.contrib`` and registers
    ``tensorflow.contrib``, ``tensorflow.contrib.layers`` and
    ``tensorflow.contrib.slim`` in ``sys.modules``, so attribute access and
    ``from tensorflow.contrib.layers import l2_regularizer`` both work.
    Idempotent and thread-safe; a no-op on TF 1.x, where contrib is real.

    Returns:
      True if this call installed it, False if there was nothing to do.
    """
    if _compat.HAS_CONTRIB:
        return False
    with _LOCK:
        if _INSTALLED:
            return False
        layers = _Namespace("contrib.layers", PROVIDED)
        slim = _Namespace("contrib.slim", PROVIDED)
        root = _Namespace("contrib", {"layers": layers, "slim": slim})
        root.__path__ = []  # a package, so submodule imports resolve
        for module in (root, layers, slim):
            sys.modules[module.__name__] = module
        # ``import tensorflow.compat.v1`` later would replace the object that
        # ``tf.compat.v1`` is now (TF >= 2.16 builds it lazily): import it
        # first, so whatever the import order, every spelling has contrib.
        earlier = tf.compat.v1
        v1 = importlib.import_module("tensorflow.compat.v1")
        for module in (tf, earlier, v1, tf.compat.v1):
            module.contrib = root
        _INSTALLED.append(root)
        return True
