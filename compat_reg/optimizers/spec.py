"""An optimizer spec, parsed once, and the check of a constructor's argument.

``parse(spec)`` reads a spec dict (``{"optimizer": "adam", "lr": 0.001,
...}``, or a whole golden ``config``) into a
``compat_reg.convention.OptimizerSpec``, the one parsed form: immutable,
every value checked by ``convention.spec_value``, the same error messages
whoever reads it. The parser itself is ``convention.parse_optimizer``, which
imports no TensorFlow (golden files and traces read specs without it); this
tells it which values TF1's optimizers took as they were (tensors,
variables, schedules). A parsed spec passes through unchanged, so it is
parsed once and handed down: ``get``, ``tf1`` and ``keras_native`` take
either.

>>> parsed = parse({"optimizer": "momentum", "lr": 0.1, "momentum": 0.9})
>>> parsed.kind, dict(parsed.args), parse(parsed) is parsed
('momentum', {'learning_rate': 0.1, 'momentum': 0.9, 'use_nesterov': False}, True)
"""

from __future__ import absolute_import, division, print_function

import tensorflow as tf

from compat_reg import _compat, convention

__all__ = ["argument", "is_tf_value", "parse"]


def is_tf_value(value):
    """A tensor, a variable or a callable (a schedule): what TF1's optimizers
    took as a hyper-parameter as it was."""
    return (callable(value) or _compat.is_tensor(value)
            or isinstance(value, tf.Variable) or _compat.is_keras3_variable(value))


def parse(spec):
    """The ``convention.OptimizerSpec`` of ``spec`` (a dict, or one already
    parsed, returned as it is); a ValueError names the key and the value."""
    return convention.parse_optimizer(spec, is_tf_value)


def argument(owner, key, value):
    """A constructor's (or a config's) ``key``, parsed as a spec's is
    (``convention.spec_value``: ``use_nesterov="false"`` is an error, not
    True), unless ``is_tf_value``."""
    if is_tf_value(value):
        return value
    return convention.spec_value(key, value, "%s: %s" % (owner, key))
