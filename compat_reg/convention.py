"""The contrib convention, as one table: what maps to what.

Everything compat_reg knows about ``tf.contrib.layers``' regularizer API and
TF1's optimizers is written here once, like ``six``'s ``MovedAttribute``
table; the runtime regularizers, ``install()``, the optimizers, the parity
harness and every rewrite of ``compat-reg migrate`` read it. This module
imports neither TensorFlow nor Keras, so the migration tool can use it on a
machine without them.

A contrib factory's scale becomes a Keras factor by one multiplication:

>>> [(s.param, s.keras_arg, s.factor) for s in FACTORY["l1_l2_regularizer"].scales]
[('scale_l1', 'l1', 1.0), ('scale_l2', 'l2', 0.5)]

``l2``'s factor is ``0.5`` because contrib's ``l2_regularizer(scale)`` is
``scale * tf.nn.l2_loss(w)`` = ``scale * sum(w ** 2) / 2``, while Keras'
``L2(l2)`` is ``l2 * sum(w ** 2)``:

>>> import numpy as np
>>> w = np.array([1., -2.])
>>> bool(0.1 * np.sum(w ** 2) / 2 == to_keras("l2_regularizer", 0.1)["l2"] * np.sum(w ** 2))
True
"""

from __future__ import absolute_import, division, print_function

import collections

__all__ = ["Scale", "Factory", "FACTORIES", "FACTORY", "NAMES", "SCALED",
           "KERAS_CLASSES", "KERAS_ALIASES", "to_keras", "TF1Optimizer",
           "TF1_OPTIMIZERS", "OPTIMIZER", "SPEC_KEYS", "tf1_arguments"]

# One scale argument of a contrib factory: its name, the keyword of the Keras
# class that takes it, and the factor from contrib's convention to Keras'.
Scale = collections.namedtuple("Scale", "param keras_arg factor")

# One public name of ``tf.contrib.layers`` (and ``tf.contrib.slim``) that
# compat_reg provides: its parameters with their defaults as TF1 spelled them
# (``REQUIRED`` where there is none), its scales (empty for the names that
# only combine or apply regularizers) and the Keras class it maps to when all
# of its scales are given.
Factory = collections.namedtuple("Factory", "name params scales keras_class")

REQUIRED = object()

_L1 = Scale("scale", "l1", 1.0)   # sum|w| in both conventions
_L2 = Scale("scale", "l2", 0.5)   # contrib's l2_loss carries a 1/2 Keras lacks

FACTORIES = (
    Factory("l1_regularizer", (("scale", REQUIRED), ("scope", None)),
            (_L1,), "L1"),
    Factory("l2_regularizer", (("scale", REQUIRED), ("scope", None)),
            (_L2,), "L2"),
    Factory("l1_l2_regularizer",
            (("scale_l1", 1.0), ("scale_l2", 1.0), ("scope", None)),
            (_L1._replace(param="scale_l1"), _L2._replace(param="scale_l2")),
            "L1L2"),
    Factory("sum_regularizer", (("regularizer_list", REQUIRED),
                                ("scope", None)), (), None),
    Factory("apply_regularization", (("regularizer", REQUIRED),
                                     ("weights_list", None)), (), None),
)

FACTORY = collections.OrderedDict((f.name, f) for f in FACTORIES)
NAMES = tuple(FACTORY)
# the factories that take scales (and so are converted, not just renamed)
SCALED = tuple(f.name for f in FACTORIES if f.scales)

# Keras' regularizer classes and their lower-case aliases, with the keyword
# each takes. Keras 2's aliases also took ``l=`` (``l2(l=0.01)``), which is
# what ``tf_upgrade_v2`` writes and Keras 3 rejects.
KERAS_CLASSES = collections.OrderedDict([
    ("L1", ("l1",)), ("L2", ("l2",)), ("L1L2", ("l1", "l2"))])
KERAS_ALIASES = collections.OrderedDict([
    ("l1", "L1"), ("l2", "L2"), ("l1_l2", "L1L2")])


def to_keras(name, *args, **kwargs):
    """Keras keyword -> factor-converted scale for a contrib call's scales.

    Scales left out take contrib's defaults; zero (or ``None``) scales are
    dropped, as contrib dropped them.

    >>> to_keras("l1_l2_regularizer", 0.01, scale_l2=0.02)
    {'l1': 0.01, 'l2': 0.01}
    >>> to_keras("l1_l2_regularizer", 0.0, 0.02)
    {'l2': 0.01}
    """
    factory = FACTORY[name]
    bound = dict(factory.params)
    bound.update(zip([p for p, _ in factory.params], args))
    bound.update(kwargs)
    out = collections.OrderedDict()
    for scale in factory.scales:
        value = bound[scale.param]
        if value:
            out[scale.keras_arg] = value * scale.factor
    return dict(out)


# TF1's optimizers: the spec name compat_reg uses, the ``tf.compat.v1.train``
# class, the spec keys without a default, TF1's defaults for the rest, and the
# closest native Keras class with its keyword for each TF1 keyword and its own
# defaults where they differ from TF1's (Adam's epsilon is 1e-7 there).
TF1Optimizer = collections.namedtuple(
    "TF1Optimizer", "spec tf1_class required defaults keras_class keras_args "
    "keras_defaults")

TF1_OPTIMIZERS = (
    TF1Optimizer("sgd", "GradientDescentOptimizer", ("lr",), {},
                 "SGD", {"learning_rate": "learning_rate"}, {}),
    TF1Optimizer("momentum", "MomentumOptimizer", ("lr", "momentum"),
                 {"use_nesterov": False},
                 "SGD", {"learning_rate": "learning_rate",
                         "momentum": "momentum", "use_nesterov": "nesterov"},
                 {}),
    TF1Optimizer("adam", "AdamOptimizer", ("lr",),
                 {"beta1": 0.9, "beta2": 0.999, "epsilon": 1e-08},
                 "Adam", {"learning_rate": "learning_rate", "beta1": "beta_1",
                          "beta2": "beta_2", "epsilon": "epsilon"},
                 {"epsilon": 1e-07}),
)
OPTIMIZER = collections.OrderedDict((o.spec, o) for o in TF1_OPTIMIZERS)

# A spec key whose TF1 keyword differs (every other key is TF1's keyword).
SPEC_KEYS = {"lr": "learning_rate"}


def tf1_arguments(spec):
    """``(TF1Optimizer, {TF1 keyword: value})`` of an optimizer spec.

    ``spec`` is a golden ``config`` (or any dict) with ``"optimizer"`` and its
    keys; a key left out or ``None`` takes TF1's default, keys of no use to
    that optimizer are ignored:

    >>> entry, args = tf1_arguments({"optimizer": "adam", "lr": 0.001,
    ...                              "epsilon": None, "momentum": 0.9})
    >>> entry.tf1_class, sorted(args.items())
    ('AdamOptimizer', [('beta1', 0.9), ('beta2', 0.999), ('epsilon', 1e-08), \
('learning_rate', 0.001)])
    >>> tf1_arguments({"optimizer": "rmsprop", "lr": 0.1})
    Traceback (most recent call last):
    ...
    ValueError: unknown optimizer 'rmsprop': expected one of 'adam', 'momentum', 'sgd'
    """
    if not isinstance(spec, dict):
        raise TypeError("optimizer spec must be a dict like "
                        "{'optimizer': 'adam', 'lr': 0.001}, got %r" % (spec,))
    if "optimizer" not in spec:
        raise ValueError("optimizer spec %r has no 'optimizer' key" % (spec,))
    kind = spec["optimizer"]
    if kind not in OPTIMIZER:
        raise ValueError("unknown optimizer %r: expected one of %s" % (
            kind, ", ".join(repr(k) for k in sorted(OPTIMIZER))))
    entry = OPTIMIZER[kind]
    missing = [key for key in entry.required if spec.get(key) is None]
    if missing:
        raise ValueError("optimizer spec %r for %r is missing %s" % (
            spec, kind, ", ".join(repr(k) for k in missing)))
    args = collections.OrderedDict(
        (SPEC_KEYS.get(key, key), spec[key]) for key in entry.required)
    for key, default in sorted(entry.defaults.items()):
        value = spec.get(key)
        args[key] = default if value is None else type(default)(value)
    return entry, args
