"""The ``tf.contrib.layers`` regularizer API, exact on TF 1.15 and TF 2.x.

TF1's ``l2_regularizer(scale)`` computes ``scale * tf.nn.l2_loss(w)``, that
is ``scale * sum(w ** 2) / 2``; Keras' ``L2(l)`` computes ``l * sum(w ** 2)``.
The factors that convert one convention into the other are in
``compat_reg.convention``.

What the factories return depends on where TF1's rules apply:

* **eager mode** (TF2's default), float scales: the native Keras regularizer
  with the scale converted (``L2(scale / 2)``), so configs, ``isinstance``
  checks and saved models are what the Keras in use expects and load without
  compat_reg:

  >>> import numpy as np
  >>> w = np.ones((784, 10), np.float32)
  >>> round(float(l2_regularizer(0.01)(w)), 4)   # TF1 printed 39.2
  39.2

* **graph mode** (TF 1.15; ``tf.compat.v1.disable_eager_execution()`` or
  ``disable_v2_behavior()``; ``with tf.Graph().as_default()``), tensor or
  variable scales, and zero scales: ``ContribL1L2`` / ``SumRegularizer``,
  which compute contrib's arithmetic op for op: the penalty op is named by
  ``scope`` (``dense/kernel/Regularizer/l2_regularizer``), the scale is
  converted to the weights' dtype, and reference variables
  (``float32_ref``, under ``disable_v2_behavior``) work on Keras 3 too.
  On TF 1.15 they are checked against ``tf.contrib.layers`` itself: the same
  values and the same op names. They also accept numpy arrays and have
  ``get_config``, as on TF2, so the same code runs on both.

On Keras 3's other backends (``KERAS_BACKEND=jax`` or ``torch``) every one
of them computes contrib's arithmetic with ``keras.ops`` and returns that
backend's tensor, so the penalty's gradient reaches the weights (``fit``,
``jax.grad``, torch autograd): ``scale * sum(abs(w))``, ``scale *
sum(square(w)) / 2`` with the scale in the weights' dtype. There are no op
names there, and no collections (``apply_regularization`` needs
``weights_list``).

Validation follows contrib, and is stricter where TF1 accepted nonsense:

* an integer scale (``1``, ``np.int64(1)``, ``True``) raises
  ``ValueError('scale cannot be an integer: 1')``, as in TF1;
* a negative scale raises ``ValueError('Setting a scale less than 0 on a
  regularizer: ...')``, as in TF1;
* ``0.0`` disables the regularizer, as in TF1 (see ``l2_regularizer``);
* NaN, infinity and scales that overflow float32 raise ``ValueError``; a
  string or other non-number raises ``TypeError``. TF1 returned a
  regularizer for these and failed, or produced NaN penalties, only when it
  was applied;
* a 0-d numpy array is its number, as in TF1 (so ``np.array(1)`` is an
  integer and ``np.array(-0.5)`` negative: refused, though TF1 let them
  through); numpy bools are refused as Python's are; a list or 1-d array
  raises ``ValueError`` (TF1 made a vector penalty of it);
* a tensor or ``tf.Variable`` scale must be a floating-point scalar (and,
  when it can be read, i.e. eagerly, finite and not negative); it is cast to
  the weights' dtype (TF1 refused another dtype when applied);
* ``ContribL1L2``, ``SumRegularizer``, their ``from_config`` and the saved
  files that hold them are checked by the same validator as the factories.

Every form of scale against TF 1.15: docs/migration_details.md, section 16.
* applied to weights that are not floating point (integers, bools, complex,
  strings) or sparse, compat_reg's classes raise ``TypeError``, as TF1 did.
"""

from __future__ import absolute_import, division, print_function

import functools
import math
import numbers

import numpy as np
import tensorflow as tf

from compat_reg import _compat, convention

__all__ = list(convention.NAMES) + ["ContribL1L2", "SumRegularizer"]

# contrib convention -> Keras convention, per scale (convention.FACTORY)
L1_FACTOR = convention.FACTORY["l1_regularizer"].scales[0].factor
L2_FACTOR = convention.FACTORY["l2_regularizer"].scales[0].factor

_FLOAT32_MAX = float(np.finfo(np.float32).max)


def _is_tensor_like(value):
    return isinstance(value, (tf.Tensor, tf.Variable)) or (
        hasattr(value, "dtype") and hasattr(value, "shape") and
        not hasattr(value, "item"))


def _check_scale(scale, arg, negative_suffix):
    """contrib's checks on one scale; returns a float, None (0.0) or a tensor.

    The one validator of a scale, for the factories and for every other door
    (``ContribL1L2``/``SumRegularizer`` and their ``from_config``, so loaded
    files too). ``negative_suffix`` reproduces contrib's message exactly: l2
    ends its message with a period, l1 does not. What TF 1.15 did with each
    form of scale is recorded in tests/data/tf1_scale_forms/.
    """
    if isinstance(scale, np.ndarray) and scale.ndim == 0:
        scale = scale[()]  # TF1 took a 0-d array as its number
    if isinstance(scale, np.bool_):
        raise ValueError(
            "%s cannot be a bool: %s (contrib refused Python's True and False "
            "as integers; numpy's it read as 1.0 and 0.0)" % (arg, scale))
    if isinstance(scale, numbers.Integral):
        raise ValueError("%s cannot be an integer: %s" % (arg, scale))
    if isinstance(scale, numbers.Real):
        value = float(scale)
        if math.isnan(value):
            raise ValueError(
                "%s is NaN: every penalty would be NaN (TF1's contrib accepted "
                "it silently; compat_reg refuses it)" % arg)
        _check_value(value, arg, negative_suffix)
        return value or None
    if _is_tensor_like(scale):
        return _check_tensor_scale(scale, arg, negative_suffix)
    if isinstance(scale, (list, tuple, np.ndarray)):
        raise _not_scalar(arg, scale, np.shape(scale))
    raise TypeError(
        "%s must be a float, a tf.Variable or a scalar tensor, got %r of type "
        "%s (TF1's contrib accepted this and failed only when the regularizer "
        "was applied)" % (arg, scale, type(scale).__name__))


def _not_scalar(arg, scale, shape):
    return ValueError(
        "%s must be a scalar, got %r of shape %s: TF1's contrib made a penalty "
        "of that shape from it, a vector that Keras sums without a word (and "
        "that contrib's own l1_l2_regularizer failed to add)" % (
            arg, scale, tf.TensorShape(shape)))


def _check_scales(scale_l1, scale_l2, absent=False):
    """``(scale_l1, scale_l2)`` checked as ``l1_l2_regularizer`` checks them
    (both for integers first, as contrib did); with ``absent``, None stays
    None (``ContribL1L2``'s scale that is not there)."""
    for arg, scale in (("scale_l1", scale_l1), ("scale_l2", scale_l2)):
        if isinstance(scale, numbers.Integral):
            raise ValueError("%s cannot be an integer: %s" % (arg, scale))
    return tuple(None if absent and scale is None else
                 _check_scale(scale, arg, suffix)
                 for arg, scale, suffix in (("scale_l1", scale_l1, ""),
                                            ("scale_l2", scale_l2, ".")))


def _check_scope(scope):
    if scope is not None and not isinstance(scope, str):
        raise TypeError("scope must be a string or None, got %r of type %s" % (
            scope, type(scope).__name__))
    return scope


def _check_value(value, arg, negative_suffix):
    if value < 0.:
        raise ValueError(
            "Setting a scale less than 0 on a regularizer: %g%s" %
            (value, negative_suffix))
    if math.isinf(value):
        raise ValueError(
            "%s is infinite: every penalty would be inf (TF1's contrib "
            "accepted it silently; compat_reg refuses it)" % arg)
    if value > _FLOAT32_MAX:
        raise ValueError(
            "%s=%g overflows float32 (largest %g), the dtype weights and Keras "
            "regularizers compute in: every float32 penalty would be inf" %
            (arg, value, _FLOAT32_MAX))


def _check_tensor_scale(scale, arg, negative_suffix):
    """A tensor/variable scale: a floating scalar; its value, when readable."""
    dtype = tf.as_dtype(scale.dtype).base_dtype
    if not dtype.is_floating:
        raise TypeError(
            "%s must be a floating-point scalar, got a %s %s (contrib would "
            "fail when the regularizer is applied)" %
            (arg, dtype.name, type(scale).__name__))
    if tf.TensorShape(scale.shape).ndims != 0:
        raise _not_scalar(arg, scale, scale.shape)
    if _compat.executing_eagerly():
        value = float(scale.numpy() if hasattr(scale, "numpy") else scale)
        if math.isnan(value):
            raise ValueError("%s is NaN: every penalty would be NaN" % arg)
        _check_value(value, arg, negative_suffix)
    return scale


def _weights_dtype(weights):
    """The base dtype of ``weights``, which must be floating and dense.

    contrib converted the scale to this dtype, so TF1 raised for integer,
    bool and string weights; Keras would instead return a silent 0 or True.
    """
    if isinstance(weights, (tf.SparseTensor, tf.IndexedSlices)):
        raise TypeError(
            "a regularizer needs dense weights, got a %s: regularize the "
            "variable it comes from" % type(weights).__name__)
    dtype = getattr(weights, "dtype", None)
    try:
        if not _compat.TF_BACKEND:  # a dtype name, as keras.ops take it
            if _compat.building_tf1_graph():  # a TF1 graph's symbolic tensor
                _compat.require_tf("A regularizer called in a TF1 graph")
            dtype = _compat.keras.backend.standardize_dtype(
                np.asarray(weights).dtype if dtype is None else dtype)
            name, floating = dtype, _compat.keras.backend.is_float_dtype(dtype)
        else:
            if dtype is None:
                dtype = tf.convert_to_tensor(weights).dtype
            dtype = tf.as_dtype(dtype).base_dtype
            name, floating = dtype.name, dtype.is_floating
    except (TypeError, ValueError) as error:
        raise TypeError("a regularizer needs floating-point weights, got %r "
                        "(%s)" % (weights, error)) from error
    if not floating:
        raise TypeError(
            "a regularizer needs floating-point weights, got %s weights "
            "(TF1's contrib raised too: it converts the scale to the weights' "
            "dtype)" % name)
    return dtype


# The few tensor operations that are not contrib's arithmetic (sums, casts,
# zeros, ranks): TF's own ops on the TF backend, as TF1 built them, else
# ``keras.ops`` on Keras 3's backend. losses.py sums penalties with them too.

def _add_n(terms, name=None):
    """``tf.add_n`` (one op, named), or the left-to-right sum."""
    if _compat.TF_BACKEND:
        return tf.add_n(terms, name=name)
    return functools.reduce(_compat.keras.ops.add, terms)


def _zeros(dtype):
    """A scalar zero of ``dtype``."""
    if _compat.TF_BACKEND:
        return tf.zeros([], dtype)
    return _compat.keras.ops.zeros((), dtype)


def _dtype_name(tensor):
    if _compat.TF_BACKEND:
        return tensor.dtype.base_dtype.name
    return _compat.keras.backend.standardize_dtype(tensor.dtype)


def _cast(tensor, dtype):
    if _compat.TF_BACKEND:
        return tf.cast(tensor, dtype)
    return _compat.keras.ops.cast(tensor, dtype)


def _to_tensor(value):
    if _compat.TF_BACKEND:
        return value if _compat.is_tensor(value) else tf.convert_to_tensor(value)
    return _compat.keras.ops.convert_to_tensor(value)


def _rank(tensor):
    return tensor.shape.ndims if _compat.TF_BACKEND else len(tensor.shape)


def l1_regularizer(scale, scope=None):
    """Returns a regularizer applying ``scale * sum(abs(w))``.

    Same as ``tf.contrib.layers.l1_regularizer``; eagerly on TF2 it is
    ``keras.regularizers.L1(scale)``.

    >>> import numpy as np
    >>> float(l1_regularizer(0.5)(np.array([1., -2.], np.float32)))
    1.5

    Args:
      scale: a non-negative float, or a scalar ``tf.Variable``/tensor. ``0.0``
        disables the regularizer (see ``l2_regularizer``).
      scope: the name of the penalty op in graph mode, as contrib named it
        (default ``l1_regularizer``). Eagerly op names carry no meaning.

    Raises:
      ValueError: integer, negative, NaN or infinite scale.
      TypeError: a scale that is not a number or a tensor.
    """
    return _build(scope, scale_l1=_check_scale(scale, "scale", ""))


def l2_regularizer(scale, scope=None):
    """Returns a regularizer applying ``scale * tf.nn.l2_loss(w)``.

    That is ``scale * sum(w ** 2) / 2``, as ``tf.contrib.layers.l2_regularizer``;
    eagerly on TF2 it is ``keras.regularizers.L2(scale / 2)``.

    >>> import numpy as np
    >>> float(l2_regularizer(0.5)(np.array([1., -2.], np.float32)))
    1.25
    >>> round(l2_regularizer(0.02).get_config()["l2"], 6)
    0.01

    A zero scale disables the regularizer, as in TF1: the result is a
    callable that returns ``None`` (contrib's ``lambda _: None``), and nothing
    lands in the ``REGULARIZATION_LOSSES`` collection or in tf_keras'
    ``model.losses``. Keras 3 sums whatever a weight's regularizer returns, so
    for a Keras 3 variable it returns a zero of the weight's dtype instead.

    >>> print(l2_regularizer(0.0)(None))
    None

    Args:
      scale: a non-negative float, or a scalar ``tf.Variable``/tensor.
      scope: the name of the penalty op in graph mode (default
        ``l2_regularizer``), see ``l1_regularizer``.

    Raises:
      ValueError: integer, negative, NaN or infinite scale.
      TypeError: a scale that is not a number or a tensor.
    """
    return _build(scope, scale_l2=_check_scale(scale, "scale", "."))


def l1_l2_regularizer(scale_l1=1.0, scale_l2=1.0, scope=None):
    """Returns a regularizer applying L1 with ``scale_l1`` plus L2 with ``scale_l2``.

    Same as ``tf.contrib.layers.l1_l2_regularizer``; eagerly on TF2 it is
    ``keras.regularizers.L1L2(scale_l1, scale_l2 / 2)``, or ``L1``/``L2``
    alone when the other scale is zero (contrib did the same), or a disabled
    regularizer when both are. In graph mode the penalty op is named
    ``scope`` or ``l1_l2_regularizer``, in all three cases, as contrib named it.

    >>> {k: round(v, 6) for k, v in l1_l2_regularizer(0.01, 0.02).get_config().items()}
    {'l1': 0.01, 'l2': 0.01}

    Raises:
      ValueError: integer, negative, NaN or infinite scale.
      TypeError: a scale that is not a number or a tensor.
    """
    l1, l2 = _check_scales(scale_l1, scale_l2)
    return _build(scope or "l1_l2_regularizer", scale_l1=l1, scale_l2=l2)


def _build(scope, scale_l1=None, scale_l2=None):
    """The regularizer for contrib-convention scales (None: absent): Keras'
    own class where it can express them (a drop-in subclass, see ``_DropIn``),
    else ``ContribL1L2``."""
    contrib = ContribL1L2(scale_l1=scale_l1, scale_l2=scale_l2, scope=scope)
    if contrib.disabled or _is_tensor_like(scale_l1) or _is_tensor_like(scale_l2):
        return contrib
    if scale_l2 is None:
        return _drop_in("L1", contrib, l1=scale_l1 * L1_FACTOR)
    if scale_l1 is None:
        return _drop_in("L2", contrib, l2=scale_l2 * L2_FACTOR)
    return _drop_in("L1L2", contrib, l1=scale_l1 * L1_FACTOR,
                    l2=scale_l2 * L2_FACTOR)


_DROP_INS = {}


def _drop_in(kind, contrib, **keras_factors):
    """An instance of Keras' ``kind`` regularizer that computes ``contrib``
    (see ``_DropIn``)."""
    native = getattr(_compat.moves, kind)
    if native not in _DROP_INS:
        _DROP_INS[native] = type(native.__name__, (_DropIn, native), {
            "__module__": __name__, "_native": native,
            "__doc__": _DropIn.__doc__})
    reg = _DROP_INS[native](**keras_factors)
    # Keep the Python floats (Keras 3's L1 stores a float32 tensor, tf_keras a
    # float32 scalar), so get_config reports exactly the converted scale.
    for name, value in keras_factors.items():
        setattr(reg, name, value)
    reg._contrib = contrib
    reg._made = (kind, contrib, keras_factors)
    return reg


def _rebuild_drop_in(kind, contrib, keras_factors):
    """Unpickle (and copy) a drop-in: ``_drop_in`` again."""
    return _drop_in(kind, contrib, **keras_factors)


class _DropIn(object):
    """Keras' own ``L1``/``L2``/``L1L2`` that computes what contrib computed.

    Its factors are Keras' (``L2(scale / 2)``), and it computes contrib's
    arithmetic op for op (``ContribL1L2``/``SumRegularizer``):
    ``scale * tf.nn.l2_loss(w)``, one fused kernel where Keras materializes
    ``square(w)``; the scale in the weights' dtype; in graph mode (TF 1.15,
    ``disable_v2_behavior``, ``tf.Graph().as_default()``) ops named by
    ``scope``, and reference variables. Weights must be floating point and
    dense, as in TF1.

    It reports Keras' class as its ``__class__``, so Keras serializes it as
    that class: configs and saved models name ``keras.regularizers.L2`` and
    load without compat_reg (as Keras' plain class). ``pickle`` (which
    refuses an object whose ``__class__`` is not its type) and ``copy`` make
    it again from what made it: a drop-in again, computing contrib's sum.
    """

    _native = None
    _contrib = None
    _made = None

    @property
    def __class__(self):
        return self._native

    def __reduce_ex__(self, protocol):
        return _rebuild_drop_in, self._made

    def __call__(self, x):
        return self._contrib(x)


def _native_factors(regularizer):
    """(l1, l2) in Keras convention if ``regularizer`` is Keras' own L1, L2 or
    L1L2 (or a drop-in one), (0, 0) for a disabled one, else None."""
    if isinstance(regularizer, ContribL1L2):
        return (0.0, 0.0) if regularizer.disabled else None
    natives = tuple(getattr(_compat.moves, k) for k in convention.KERAS_CLASSES)
    if type(regularizer) in natives or isinstance(regularizer, _DropIn):
        config = regularizer.get_config()
        return float(config.get("l1", 0.0)), float(config.get("l2", 0.0))
    return None


def sum_regularizer(regularizer_list, scope=None):
    """Returns a regularizer applying the sum of ``regularizer_list``.

    Same as ``tf.contrib.layers.sum_regularizer``: ``None`` entries are
    dropped and an empty list gives ``None``. Eagerly on TF2, native
    L1/L2/L1L2 terms fold into one ``keras.regularizers.L1L2``; anything else,
    and graph mode, gives a ``SumRegularizer`` (its op named ``scope`` or
    ``sum_regularizer``).

    >>> reg = sum_regularizer([l1_regularizer(0.01), l2_regularizer(0.02)])
    >>> {k: round(v, 6) for k, v in reg.get_config().items()}
    {'l1': 0.01, 'l2': 0.01}
    >>> sum_regularizer([]) is None
    True
    """
    regularizers = _terms(regularizer_list)
    if not regularizers:
        return None
    contrib = SumRegularizer(regularizers, scope=scope)
    factors = [_native_factors(r) for r in regularizers]
    if any(f is None for f in factors):
        return contrib
    l1, l2 = sum(f[0] for f in factors), sum(f[1] for f in factors)
    if not (l1 or l2):
        return contrib
    return _drop_in("L1L2", contrib, l1=l1, l2=l2)


def _terms(regularizer_list):
    """The terms of a sum, checked: contrib's ``None`` entries dropped, each
    a regularizer (a callable) or, from a config, a Keras config (a dict,
    deserialized and so validated by its class)."""
    if isinstance(regularizer_list, (str, bytes, dict)) or not hasattr(
            regularizer_list, "__iter__"):
        raise TypeError(
            "regularizer_list must be a list of regularizers, got %r of type "
            "%s" % (regularizer_list, type(regularizer_list).__name__))
    terms = []
    for i, term in enumerate(regularizer_list):
        if isinstance(term, dict):
            term = _compat.moves.deserialize_regularizer(term)
        if term is not None and not callable(term):
            raise TypeError(
                "regularizer_list[%d] must be a regularizer (a callable), got "
                "%r of type %s (TF1's contrib accepted it and failed only when "
                "the sum was applied)" % (i, term, type(term).__name__))
        if term is not None:
            terms.append(term)
    return terms


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
    v1 = _compat.v1
    graph = _compat.TF_BACKEND and _compat.building_tf1_graph()
    if not weights_list and graph:
        weights_list = v1.get_collection(v1.GraphKeys.WEIGHTS)
    if not weights_list:
        raise ValueError(
            "No weights to regularize." + ("" if graph else (
                " In eager mode there is no WEIGHTS collection: pass "
                "weights_list, e.g. model.trainable_weights.")))
    with v1.name_scope("get_regularization_penalty",
                       values=weights_list) as scope:
        penalties = [None if regularizer is None else regularizer(w)
                     for w in weights_list]
        zero = tf.constant(0.0) if _compat.TF_BACKEND else _zeros("float32")
        penalties = [zero if p is None else p for p in penalties]
        for p in penalties:
            if _rank(p) != 0:
                raise ValueError(
                    "regularizer must return a scalar Tensor instead of a "
                    "Tensor with rank %d." % _rank(p))
        summed = _add_n(penalties, name=scope)
    if graph:
        v1.add_to_collection(v1.GraphKeys.REGULARIZATION_LOSSES, summed)
    return summed


def from_spec(spec, factories=None):
    """The regularizer of a golden-file spec, or None for ``None``.

    ``["l2", s]``, ``["l1", s]``, ``["l1_l2", a, b]`` or ``["sum", a, b]``
    (``sum_regularizer([l1_regularizer(a), l2_regularizer(b)])``), as the
    golden README defines them. ``factories`` is any module with contrib's
    names (default: this one; ``tf_slim`` and ``tf.contrib.layers`` are
    others).

    >>> {k: round(v, 6) for k, v in from_spec(["sum", 0.01, 0.02]).get_config().items()}
    {'l1': 0.01, 'l2': 0.01}
    """
    if spec is None:
        return None
    f = factories or __import__(__name__, fromlist=["l1_regularizer"])
    builders = {
        "l1": (1, lambda a: f.l1_regularizer(a[0])),
        "l2": (1, lambda a: f.l2_regularizer(a[0])),
        "l1_l2": (2, lambda a: f.l1_l2_regularizer(a[0], a[1])),
        "sum": (2, lambda a: f.sum_regularizer(
            [f.l1_regularizer(a[0]), f.l2_regularizer(a[1])])),
    }
    kind = spec[0] if isinstance(spec, (list, tuple)) and spec else None
    if not isinstance(kind, str) or kind not in builders or len(
            spec) != builders[kind][0] + 1:
        raise ValueError(
            "regularizer spec %r: expected None, ['l1', scale], ['l2', scale], "
            "['l1_l2', scale_l1, scale_l2] or ['sum', scale_l1, scale_l2]" % (
                spec,))
    return builders[kind][1](list(spec[1:]))


def _scale_value(scale):
    if scale is None or isinstance(scale, float):
        return scale
    return float(tf.keras.backend.get_value(scale))


def _disabled_result(weights):
    """What a disabled regularizer gives: contrib's ``None``, except to Keras 3,
    which sums every weight's penalty and cannot sum ``None``."""
    if _compat.is_keras3_variable(weights):
        return _zeros(_weights_dtype(weights))
    return None


def _scaled(kind, scale, weights, dtype, name=None):
    """contrib's ``multiply(scale, reduce_sum(abs(w)) | l2_loss(w))``, in its
    own name scope (``l1_regularizer`` / ``l2_regularizer``) unless ``name``.
    On another Keras backend the same arithmetic in ``keras.ops``, unnamed."""
    if not _compat.TF_BACKEND:
        ops = _compat.keras.ops
        scale, weights = ops.cast(scale, dtype), ops.convert_to_tensor(weights)
        if kind == "l1":
            return ops.multiply(scale, ops.sum(ops.abs(weights)))
        return ops.multiply(scale, ops.multiply(ops.sum(ops.square(weights)),
                                                ops.cast(0.5, dtype)))
    v1 = _compat.v1
    if name is None:
        with v1.name_scope(None, kind + "_regularizer", [weights]) as scope:
            return _scaled(kind, scale, weights, dtype, scope)
    if _is_tensor_like(scale):
        scale = tf.cast(scale, dtype, name="scale")
    else:
        scale = tf.convert_to_tensor(scale, dtype=dtype, name="scale")
    weights = tf.convert_to_tensor(weights)
    if kind == "l1":
        return tf.multiply(scale, tf.reduce_sum(tf.abs(weights)), name=name)
    return tf.multiply(scale, tf.nn.l2_loss(weights), name=name)


@_compat.register_keras_class
class ContribL1L2(_compat.moves.Regularizer):
    """L1 + L2 in contrib's convention, computed as contrib computed it.

    ``scale_l1 * sum(abs(w)) + scale_l2 * tf.nn.l2_loss(w)``, in the weight's
    dtype, with contrib's op names in graph mode: ``scope`` or, by default,
    ``l1_regularizer``, ``l2_regularizer`` or ``l1_l2_regularizer`` (whose
    terms are then named ``l1_l2_regularizer/l1_regularizer`` and
    ``.../l2_regularizer``). With neither scale it is contrib's disabled
    regularizer: it returns ``None``.

    A scale held in a ``tf.Variable`` is read at every call, so a schedule
    that assigns it takes effect. ``get_config`` stores the scales' current
    values as floats. The variable is not tracked by the layer (so it never
    becomes a weight the optimizer trains); Keras 2 (tf_keras) therefore
    cannot export a SavedModel of a layer that uses it, while Keras 3 can.
    Save such models as ``.keras`` files there.

    >>> import numpy as np
    >>> scale = tf.Variable(0.5)
    >>> reg = ContribL1L2(scale_l2=scale)
    >>> float(reg(np.array([1., -2.], np.float32)))
    1.25
    >>> _ = scale.assign(1.0)
    >>> float(reg(np.array([1., -2.], np.float32)))
    2.5
    >>> reg.get_config()
    {'scale_l1': None, 'scale_l2': 1.0, 'scope': None}
    """

    def __init__(self, scale_l1=None, scale_l2=None, scope=None):
        # the factories' validator (``from_config`` and loaded files too)
        self.scale_l1, self.scale_l2 = _check_scales(scale_l1, scale_l2,
                                                     absent=True)
        self.scope = _check_scope(scope)

    @property
    def disabled(self):
        return self.scale_l1 is None and self.scale_l2 is None

    def __call__(self, x):
        if self.disabled:
            return _disabled_result(x)
        dtype = _weights_dtype(x)
        if self.scale_l2 is None:
            kind, scale = "l1", self.scale_l1
        elif self.scale_l1 is None:
            kind, scale = "l2", self.scale_l2
        else:
            kind, scale = "l1_l2", None
        if not _compat.TF_BACKEND:  # keras.ops: no op names, no graph
            return _add_n([_scaled(k, s, x, dtype) for k, s in (
                ("l1", self.scale_l1), ("l2", self.scale_l2)) if s is not None])
        with _compat.v1.name_scope(self.scope, kind + "_regularizer",
                                   [x]) as name:
            if scale is not None:
                return _scaled(kind, scale, x, dtype, name)
            return tf.add_n([_scaled("l1", self.scale_l1, x, dtype),
                             _scaled("l2", self.scale_l2, x, dtype)], name=name)

    def get_config(self):
        return {"scale_l1": _scale_value(self.scale_l1),
                "scale_l2": _scale_value(self.scale_l2),
                "scope": self.scope}


@_compat.register_keras_class
class SumRegularizer(_compat.moves.Regularizer):
    """The sum of several regularizers (contrib's ``sum_regularizer``).

    Terms that return ``None`` (disabled ones) are skipped; if all do, the sum
    is ``None``, as contrib's (a zero of the weight's dtype for a Keras 3
    variable). In graph mode the sum op is named ``scope`` or
    ``sum_regularizer``. ``get_config`` serializes each term with Keras, so
    every term must itself be serializable to save the model.
    """

    def __init__(self, regularizers, scope=None):
        self.regularizers = _terms(regularizers)
        self.scope = _check_scope(scope)

    def __call__(self, x):
        with _compat.v1.name_scope(self.scope, "sum_regularizer",
                                   [] if not _compat.TF_BACKEND else [x]
                                   ) as name:
            terms = [t for t in (r(x) for r in self.regularizers)
                     if t is not None]
            if not terms:
                return _disabled_result(x)
            return _add_n(terms, name=name)

    def get_config(self):
        return {"regularizers": [
            _compat.moves.serialize_regularizer(r) for r in self.regularizers],
            "scope": self.scope}
