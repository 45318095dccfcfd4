"""Evaluate a regularizer expression before and after the rewrite.

Before: the TF1 expression with contrib's arithmetic done in numpy
(``NumpyContrib``) or by ``tf_slim`` (an independent port of contrib).
After: the rewritten module, run for real (compat_reg.* or keras.*).
"""
import types

import numpy as np

from compat_reg.migrate._core import migrate_source


class NumpyContrib:
    """tf.contrib.layers' regularizer arithmetic, in the weight's dtype."""

    @staticmethod
    def l1_regularizer(scale, scope=None):
        if scale == 0.0:
            return lambda w: None
        return lambda w: w.dtype.type(scale) * np.sum(np.abs(w))

    @staticmethod
    def l2_regularizer(scale, scope=None):
        if scale == 0.0:
            return lambda w: None
        return lambda w: w.dtype.type(scale) * (np.sum(w * w) / w.dtype.type(2))

    @classmethod
    def l1_l2_regularizer(cls, scale_l1=1.0, scale_l2=1.0, scope=None):
        return cls.sum_regularizer([cls.l1_regularizer(scale_l1),
                                    cls.l2_regularizer(scale_l2)])

    @staticmethod
    def sum_regularizer(regularizer_list, scope=None):
        def penalty(w):
            values = [r(w) for r in regularizer_list]
            values = [v for v in values if v is not None]
            return sum(values) if values else None
        return penalty


def _tf_namespace(contrib):
    contrib_ns = types.SimpleNamespace(layers=contrib, slim=contrib)
    return {"tf": types.SimpleNamespace(contrib=contrib_ns), "slim": contrib}


def before(expression, w, contrib=NumpyContrib):
    """TF1's penalty of ``expression`` (spelled with ``tf.contrib.layers``,
    ``tf.contrib.slim`` or ``slim``) on ``w``."""
    regularizer = eval(expression, _tf_namespace(contrib))
    value = regularizer(w)
    return 0.0 if value is None else float(value)


def after(expression, w, target, header="import tensorflow as tf\n"):
    """Rewrite ``r = expression`` and evaluate the result on ``w``."""
    import pytest
    tf = pytest.importorskip("tensorflow")
    source = migrate_source(header + "r = %s\n" % expression, target).source
    assert "contrib" not in source, source
    namespace = {}
    exec(compile(source, "<migrated>", "exec"), namespace)
    regularizer = namespace["r"]
    if regularizer is None:
        return 0.0
    value = regularizer(tf.constant(w))  # contrib's zero scale: None
    return 0.0 if value is None else float(value)
