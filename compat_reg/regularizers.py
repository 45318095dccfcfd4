"""The ``tf.contrib.layers`` regularizer API, exact on TF 1.15 and TF 2.x.

TF1's ``l2_regularizer(scale)`` computes ``scale * tf.nn.l2_loss(w)``, that
is ``scale * sum(w ** 2) / 2``; Keras' ``L2(l)`` computes ``l * sum(w ** 2)``.
On TF2 the factories below therefore return the native Keras regularizer with
the scale converted (``_NATIVE``), so configs, ``isinstance`` checks and saved
models are what the Keras in use expects and need nothing from compat_reg to
load:

>>> import numpy as np
>>> w = np.ones((784, 10), np.float32)
>>> round(float(l2_regularizer(0.01)(w)), 4)   # TF1 printed 39.2
39.2

On TF 1.15 they are contrib's own functions (same values, same collection
names such as ``dense/kernel/Regularizer/l2_regularizer:0``).

Validation follows contrib, and is stricter where TF1 accepted nonsense:

* an integer scale (``1``, ``np.int64(1)``, ``True``) raises
  ``ValueError('scale cannot be an integer: 1')``, as in TF1;
* a negative scale raises ``ValueError('Setting a scale less than 0 on a
  regularizer: ...')``, as in TF1;
* ``0.0`` disables the regularizer, as in TF1 (see ``l2_regularizer``);
* NaN and +infinity raise ``ValueError`` and a string or other non-number
  raises ``TypeError``. TF1 returned a regularizer for these and failed, or
  produced NaN penalties, only when it was applied.

Scales held in a ``tf.Variable`` or a tensor (contrib accepted them, for
schedules) cannot be expressed by the native classes; they give a
``ContribL1L2``, a small Keras-serializable class of ours.
"""

from __future__ import absolute_import, division, print_function

import math
import numbers

import tensorflow as tf

from compat_reg import _compat

__all__ = [
    "l1_regularizer", "l2_regularizer", "l1_l2_regularizer",
    "sum_regularizer", "apply_regularization", "ContribL1L2",
    "SumRegularizer",
]

# contrib convention -> Keras convention: the factor applied to each scale.
# l1: sum|w| in both. l2: contrib's l2_loss carries a 1/2 that Keras lacks.
L1_FACTOR = 1.0
L2_FACTOR = 0.5


def _is_tensor_like(value):
    return isinstance(value, (tf.Tensor, tf.Variable)) or (
        hasattr(value, "dtype") and hasattr(value, "shape") and
        not hasattr(value, "item"))


def _check_scale(scale, arg, negative_suffix):
    """contrib's checks on one scale; returns a float, None (0.0) or a tensor.

    ``negative_suffix`` reproduces contrib's message exactly: l2 ends its
    message with a period, l1 does not.
    """
    if isinstance(scale, numbers.Integral):
        raise ValueError("%s cannot be an integer: %s" % (arg, scale))
    if isinstance(scale, numbers.Real):
        value = float(scale)
        if math.isnan(value):
            raise ValueError(
                "%s is NaN: every penalty would be NaN (TF1's contrib accepted "
                "it silently; compat_reg refuses it)" % arg)
        if value < 0.:
            raise ValueError(
                "Setting a scale less than 0 on a regularizer: %g%s" %
                (value, negative_suffix))
        if math.isinf(value):
            raise ValueError(
                "%s is infinite: every penalty would be inf (TF1's contrib "
                "accepted it silently; compat_reg refuses it)" % arg)
        return value or None
    if _is_tensor_like(scale):
        return scale
    raise TypeError(
        "%s must be a float, a tf.Variable or a scalar tensor, got %r of type "
        "%s (TF1's contrib accepted this and failed only when the regularizer "
        "was applied)" % (arg, scale, type(scale).__name__))


def _contrib():
    return tf.contrib.layers  # only reached on TF 1.x, where it is real


def l1_regularizer(scale, scope=None):
    """Returns a regularizer applying ``scale * sum(abs(w))``.

    Same as ``tf.contrib.layers.l1_regularizer``; on TF2 it is
    ``keras.regularizers.L1(scale)``.

    >>> import numpy as np
    >>> float(l1_regularizer(0.5)(np.array([1., -2.], np.float32)))
    1.5

    Args:
      scale: a non-negative float, or a scalar ``tf.Variable``/tensor. ``0.0``
        disables the regularizer (see ``l2_regularizer``).
      scope: an optional name scope. TF1 named the penalty op with it; on TF2
        op names carry no meaning in eager mode and it is ignored.

    Raises:
      ValueError: integer, negative, NaN or infinite scale.
      TypeError: a scale that is not a number or a tensor.
    """
    value = _check_scale(scale, "scale", "")
    if _compat.TF1:
        return _contrib().l1_regularizer(scale, scope)
    return None if value is None else _build(scale_l1=value)


def l2_regularizer(scale, scope=None):
    """Returns a regularizer applying ``scale * tf.nn.l2_loss(w)``.

    That is ``scale * sum(w ** 2) / 2``, as ``tf.contrib.layers.l2_regularizer``;
    on TF2 it is ``keras.regularizers.L2(scale / 2)``.

    >>> import numpy as np
    >>> float(l2_regularizer(0.5)(np.array([1., -2.], np.float32)))
    1.25
    >>> {k: round(v, 6) for k, v in l2_regularizer(0.02).get_config().items()}
    {'l2': 0.01}

    A zero scale disables the regularizer, as in TF1: nothing lands in
    ``model.losses`` or in the ``REGULARIZATION_LOSSES`` collection. On TF 1.15
    the result is contrib's ``lambda _: None``; on TF2 it is ``None`` itself,
    which every Keras layer and ``get_variable`` read as "no regularizer", so
    calling it directly raises ``TypeError`` (a callable returning ``None``
    would put ``None`` into Keras 3's ``model.losses`` and break its sum).

    >>> l2_regularizer(0.0) is None
    True

    Args:
      scale: a non-negative float, or a scalar ``tf.Variable``/tensor.
      scope: an optional name scope (ignored on TF2, see ``l1_regularizer``).

    Raises:
      ValueError: integer, negative, NaN or infinite scale.
      TypeError: a scale that is not a number or a tensor.
    """
    value = _check_scale(scale, "scale", ".")
    if _compat.TF1:
        return _contrib().l2_regularizer(scale, scope)
    return None if value is None else _build(scale_l2=value)


def l1_l2_regularizer(scale_l1=1.0, scale_l2=1.0, scope=None):
    """Returns a regularizer applying L1 with ``scale_l1`` plus L2 with ``scale_l2``.

    Same as ``tf.contrib.layers.l1_l2_regularizer``; on TF2 it is
    ``keras.regularizers.L1L2(scale_l1, scale_l2 / 2)``, or ``L1``/``L2`` alone
    when the other scale is zero (contrib did the same), or ``None`` when
    both are.

    >>> {k: round(v, 6) for k, v in l1_l2_regularizer(0.01, 0.02).get_config().items()}
    {'l1': 0.01, 'l2': 0.01}

    Raises:
      ValueError: integer, negative, NaN or infinite scale.
      TypeError: a scale that is not a number or a tensor.
    """
    if isinstance(scale_l1, numbers.Integral):
        raise ValueError("scale_l1 cannot be an integer: %s" % (scale_l1,))
    if isinstance(scale_l2, numbers.Integral):
        raise ValueError("scale_l2 cannot be an integer: %s" % (scale_l2,))
    if _compat.TF1:
        _check_scale(scale_l1, "scale_l1", "")
        _check_scale(scale_l2, "scale_l2", ".")
        return _contrib().l1_l2_regularizer(scale_l1, scale_l2, scope)
    l1 = _check_scale(scale_l1, "scale_l1", "")
    l2 = _check_scale(scale_l2, "scale_l2", ".")
    if l1 is None and l2 is None:
        return None
    return _build(scale_l1=l1, scale_l2=l2)


def _build(scale_l1=None, scale_l2=None):
    """The TF2 regularizer for contrib-convention scales (None: absent):
    native Keras classes where they can express it, else ``ContribL1L2``."""
    if _is_tensor_like(scale_l1) or _is_tensor_like(scale_l2):
        return ContribL1L2(scale_l1=scale_l1, scale_l2=scale_l2)
    moves = _compat.moves
    if scale_l2 is None:
        native = moves.L1(scale_l1 * L1_FACTOR)
        # Keras 3 keeps l1 as an eager float32 tensor, which a tf.compat.v1
        # graph cannot capture (get_variable(regularizer=...) would fail);
        # the Python float it was made from is what L2 and L1L2 keep.
        native.l1 = scale_l1 * L1_FACTOR
        return native
    if scale_l1 is None:
        return moves.L2(scale_l2 * L2_FACTOR)
    return moves.L1L2(l1=scale_l1 * L1_FACTOR, l2=scale_l2 * L2_FACTOR)


def _native_factors(regularizer):
    """(l1, l2) in Keras convention if ``regularizer`` is a plain native one."""
    moves = _compat.moves
    kind = type(regularizer)
    if kind is moves.L1:
        return float(regularizer.l1), 0.0
    if kind is moves.L2:
        return 0.0, float(regularizer.l2)
    if kind is moves.L1L2:
        return float(regularizer.l1), float(regularizer.l2)
    return None


def sum_regularizer(regularizer_list, scope=None):
    """Returns a regularizer applying the sum of ``regularizer_list``.

    Same as ``tf.contrib.layers.sum_regularizer``: ``None`` entries are
    dropped and an empty list gives ``None``. On TF2, native L1/L2/L1L2 terms
    fold into one ``keras.regularizers.L1L2``; anything else gives a
    ``SumRegularizer``.

    >>> reg = sum_regularizer([l1_regularizer(0.01), l2_regularizer(0.02)])
    >>> {k: round(v, 6) for k, v in reg.get_config().items()}
    {'l1': 0.01, 'l2': 0.01}
    >>> sum_regularizer([]) is None
    True
    """
    if _compat.TF1:
        return _contrib().sum_regularizer(regularizer_list, scope)
    regularizers = [r for r in regularizer_list if r is not None]
    if not regularizers:
        return None
    factors = [_native_factors(r) for r in regularizers]
    if all(f is not None for f in factors):
        return _compat.moves.L1L2(l1=sum(f[0] for f in factors),
                                  l2=sum(f[1] for f in factors))
    return SumRegularizer(regularizers)


def apply_regularization(regularizer, weights_list=None):
    """Returns the summed penalty of ``regularizer`` over ``weights_list``.

    Same as ``tf.contrib.layers.apply_regularization``. In graph mode the sum
    is named ``get_regularization_penalty`` and added to the
    ``REGULARIZATION_LOSSES`` collection, and ``weights_list=None`` reads the
    ``WEIGHTS`` collection, as in TF1. In eager mode there are no
    collections: pass ``weights_list`` (e.g. ``model.trainable_weights``).

    A disabled regularizer (zero scale) contributes 0.0 per weight, as in TF1.

    Raises:
      ValueError: no weights, or a regularizer that does not return a scalar.
    """
    if _compat.TF1:
        return _contrib().apply_regularization(regularizer, weights_list)
    v1 = tf.compat.v1
    eager = _compat.executing_eagerly()
    if not weights_list and not eager:
        weights_list = v1.get_collection(v1.GraphKeys.WEIGHTS)
    if not weights_list:
        raise ValueError(
            "No weights to regularize." + (
                " In eager mode there is no WEIGHTS collection: pass "
                "weights_list, e.g. model.trainable_weights." if eager else ""))
    with tf.name_scope("get_regularization_penalty") as scope:
        penalties = [
            tf.constant(0.0) if regularizer is None else regularizer(w)
            for w in weights_list]
        penalties = [tf.constant(0.0) if p is None else p for p in penalties]
        for p in penalties:
            if p.shape.ndims != 0:
                raise ValueError(
                    "regularizer must return a scalar Tensor instead of a "
                    "Tensor with rank %d." % p.shape.ndims)
        summed = tf.add_n(penalties, name=scope)
    if not eager:
        v1.add_to_collection(v1.GraphKeys.REGULARIZATION_LOSSES, summed)
    return summed


def from_spec(spec, factories=None):
    """The regularizer of a golden-file spec, or None for ``None``.

    ``["l2", s]``, ``["l1", s]``, ``["l1_l2", a, b]`` or ``["sum", a, b]``
    (``sum_regularizer([l1_regularizer(a), l2_regularizer(b)])``), as the
    golden README defines them. ``factories`` is any module with contrib's
    names (default: this one; ``tf_slim`` is another).

    >>> {k: round(v, 6) for k, v in from_spec(["sum", 0.01, 0.02]).get_config().items()}
    {'l1': 0.01, 'l2': 0.01}
    """
    if spec is None:
        return None
    f = factories or __import__(__name__, fromlist=["l1_regularizer"])
    kind, args = spec[0], list(spec[1:])
    builders = {
        "l1": lambda: f.l1_regularizer(args[0]),
        "l2": lambda: f.l2_regularizer(args[0]),
        "l1_l2": lambda: f.l1_l2_regularizer(args[0], args[1]),
        "sum": lambda: f.sum_regularizer(
            [f.l1_regularizer(args[0]), f.l2_regularizer(args[1])]),
    }
    if kind not in builders:
        raise ValueError("unknown regularizer spec %r; known kinds: %s" % (
            spec, ", ".join(sorted(builders))))
    return builders[kind]()


def _scale_value(scale):
    if scale is None or isinstance(scale, float):
        return scale
    return float(tf.keras.backend.get_value(scale))


@_compat.moves.register_serializable(package="compat_reg")
class ContribL1L2(_compat.moves.Regularizer):
    """L1 + L2 in contrib's convention, with scales that may be variables.

    ``scale_l1 * sum(abs(w)) + scale_l2 * tf.nn.l2_loss(w)``, computed in the
    weight's dtype, as TF1 did. A scale held in a ``tf.Variable`` is read at
    every call, so a schedule that assigns it takes effect. ``get_config``
    stores the scales' current values as floats. The variable is not tracked
    by the layer (so it never becomes a weight the optimizer trains); Keras 2
    (tf_keras) therefore cannot export a SavedModel of a layer that uses it,
    while Keras 3 can. Save such models as ``.keras`` files there.

    >>> import numpy as np
    >>> scale = tf.Variable(0.5)
    >>> reg = ContribL1L2(scale_l2=scale)
    >>> float(reg(np.array([1., -2.], np.float32)))
    1.25
    >>> _ = scale.assign(1.0)
    >>> float(reg(np.array([1., -2.], np.float32)))
    2.5
    >>> reg.get_config()
    {'scale_l1': None, 'scale_l2': 1.0}
    """

    def __init__(self, scale_l1=None, scale_l2=None):
        self.scale_l1 = scale_l1
        self.scale_l2 = scale_l2

    def __call__(self, x):
        x = tf.convert_to_tensor(x)
        terms = []
        if self.scale_l1 is not None:
            terms.append(tf.cast(self.scale_l1, x.dtype) *
                         tf.reduce_sum(tf.abs(x)))
        if self.scale_l2 is not None:
            terms.append(tf.cast(self.scale_l2, x.dtype) * tf.nn.l2_loss(x))
        return tf.add_n(terms) if terms else tf.zeros([], x.dtype)

    def get_config(self):
        return {"scale_l1": _scale_value(self.scale_l1),
                "scale_l2": _scale_value(self.scale_l2)}


@_compat.moves.register_serializable(package="compat_reg")
class SumRegularizer(_compat.moves.Regularizer):
    """The sum of several regularizers (contrib's ``sum_regularizer``).

    Terms that return ``None`` (disabled ones) are skipped; if all do, the sum
    is 0.0 in the weight's dtype. ``get_config`` serializes each term with
    Keras, so every term must itself be serializable to save the model.
    """

    def __init__(self, regularizers):
        self.regularizers = [
            _compat.moves.deserialize_regularizer(r) if isinstance(r, dict)
            else r for r in regularizers]

    def __call__(self, x):
        x = tf.convert_to_tensor(x)
        terms = [t for t in (r(x) for r in self.regularizers) if t is not None]
        return tf.add_n(terms) if terms else tf.zeros([], x.dtype)

    def get_config(self):
        return {"regularizers": [
            _compat.moves.serialize_regularizer(r) for r in self.regularizers]}
