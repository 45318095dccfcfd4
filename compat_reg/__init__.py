"""compat_reg: move TF1 regularization code to TF2 without changing what models learn.

``import compat_reg`` is cheap: TensorFlow is imported on first use of a name
below, so ``compat-reg migrate`` and ``--help`` start fast.

    import compat_reg
    reg = compat_reg.l2_regularizer(0.01)      # == tf.contrib.layers.l2_regularizer
    total = loss + compat_reg.get_regularization_loss(model)
"""

from __future__ import absolute_import, division, print_function

import importlib
import sys
import types

__version__ = "0.1.0"

from compat_reg import convention

# public name -> module that defines it (imported on first access, PEP 562);
# contrib's names come from the one table of them
_LAZY = dict.fromkeys(convention.NAMES, "regularizers")
_LAZY.update({
    "ContribL1L2": "regularizers",
    "SumRegularizer": "regularizers",
    "get_regularization_loss": "losses",
    "get_regularization_losses": "losses",
    "get_total_loss": "losses",
    "tf1_variables": "naming",
    "scale_regularization_loss": "losses",
    "set_seed": "seed",
    "seeded_graph": "seed",
    "install": "contrib",
    "contrib": None,
    "naming": None,
    "optimizers": None,
    "parity": None,
})

__all__ = sorted(_LAZY)


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError("module 'compat_reg' has no attribute %r" % name)
    module_name = _LAZY[name]
    if module_name is None:
        value = importlib.import_module("compat_reg." + name)
    else:
        value = getattr(importlib.import_module("compat_reg." + module_name),
                        name)
    globals()[name] = value
    return value


if "tensorflow" in sys.modules:
    # TensorFlow is loaded already, so this costs nothing: register our Keras
    # classes now, so that a model saved with them (.h5 and SavedModel files
    # of tf_keras look them up by registered name) loads after
    # ``import compat_reg`` alone.
    importlib.import_module("compat_reg.regularizers")


def __dir__():
    return sorted(list(globals()) + list(_LAZY))


class _Python36Module(types.ModuleType):
    """Python 3.6 calls no module ``__getattr__`` (PEP 562 came in 3.7): a
    module of this class calls its own (a module's ``__class__`` can be set
    since Python 3.5), so lazy names work there too."""

    def __getattr__(self, name):
        return self.__dict__["__getattr__"](name)

    def __dir__(self):
        own = self.__dict__.get("__dir__")
        return own() if own else super(_Python36Module, self).__dir__()


def _pep562(module_name):
    """Make ``module_name``'s PEP 562 ``__getattr__`` work on Python 3.6."""
    if sys.version_info < (3, 7):
        sys.modules[module_name].__class__ = _Python36Module


_pep562(__name__)
