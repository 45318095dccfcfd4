"""The bridge's cross product: regularizer kinds x entry points x model shapes.

Every axis was tested alone while their crossings failed (a zero scale x the
bridge x tf_keras crashed; Keras 3's Sequential x ``scope`` gave 0.0), so the
cases here are generated, not picked. Expected values are contrib's
arithmetic in numpy (``l1``: ``s * sum|w|``, ``l2``: ``s * sum(w**2) / 2``),
never compat_reg's. The flavour axis is the tox env (Keras 3, tf_keras,
Keras 2, TF 1.15 for the graph entry points).

Two layers as in TF1's ``tf.layers.dense(..., name="encoder")`` (3 -> 4) and
``name="decoder"`` (4 -> 2), each kernel and bias regularized, the decoder at
twice the encoder's scale.
"""

import itertools

import numpy as np
import pytest
import tensorflow as tf

import compat_reg
from compat_reg import _compat

SCALE = {"encoder": 0.01, "decoder": 0.02}
SHAPES = {"encoder": (3, 4), "decoder": (4, 2)}
RNG = np.random.RandomState(23)
ARRAYS = dict(("%s/%s" % (layer, part), RNG.normal(size=shape if part == "kernel"
                                                    else shape[-1:]).astype(np.float32))
              for layer, shape in SHAPES.items() for part in ("kernel", "bias"))


def _l1(s, w):
    return s * np.abs(w).sum(dtype=np.float64)


def _l2(s, w):
    return s * np.square(w, dtype=np.float64).sum() / 2


# kind -> (make(scale) -> regularizer, numpy(scale, weight, name) -> value or None)
KINDS = {
    "l1": (compat_reg.l1_regularizer, lambda s, w, n: _l1(s, w)),
    "l2": (compat_reg.l2_regularizer, lambda s, w, n: _l2(s, w)),
    "l1_l2": (lambda s: compat_reg.l1_l2_regularizer(s, 3 * s),
              lambda s, w, n: _l1(s, w) + _l2(3 * s, w)),
    "l1_zero": (lambda s: compat_reg.l1_regularizer(0.0), lambda s, w, n: None),
    "l2_zero": (lambda s: compat_reg.l2_regularizer(0.0), lambda s, w, n: None),
    "l1_l2_zero": (lambda s: compat_reg.l1_l2_regularizer(0.0, 0.0),
                   lambda s, w, n: None),
    "l1_l2_one_zero": (lambda s: compat_reg.l1_l2_regularizer(0.0, s),
                       lambda s, w, n: _l2(s, w)),
    "tensor_scale": (lambda s: compat_reg.l2_regularizer(tf.constant(s)),
                     lambda s, w, n: _l2(s, w)),
    "variable_scale": (lambda s: compat_reg.l1_regularizer(tf.Variable(s)),
                       lambda s, w, n: _l1(s, w)),
    "sum_with_plain_callable": (
        lambda s: compat_reg.sum_regularizer(
            [compat_reg.l1_regularizer(s), lambda w: s * tf.reduce_sum(w * w)]),
        lambda s, w, n: _l1(s, w) + 2 * _l2(s, w)),
    "lambda": (lambda s: (lambda w: s * tf.reduce_sum(tf.abs(w))),
               lambda s, w, n: _l1(s, w)),
    "lambda_none_for_bias": (
        lambda s: (lambda w: None if "bias" in w.name else s * tf.reduce_sum(w * w)),
        lambda s, w, n: None if n.endswith("bias") else 2 * _l2(s, w)),
    "none": (lambda s: None, lambda s, w, n: None),
}
# TF1's plain-function regularizers: Keras 3.1 - 3.14 refuse them on a layer
# (_compat.KERAS_CALLABLE_REGULARIZERS); there the cases wrap them as the
# guide says, in compat_reg.sum_regularizer([fn]), and expect the same sums.
PLAIN_FUNCTIONS = ("lambda", "lambda_none_for_bias")
MODEL_SHAPES = ("sequential", "functional", "nested", "subclassed", "custom_layer")
SCOPES = ("", "encoder", "decoder", "encoder/", "decoder/kernel", "inner", "nope")


def _expected(kind, names):
    """numpy: the sum over ``names`` (TF1 names, ``encoder/kernel``...), or
    None where no weight there has a penalty."""
    values = [KINDS[kind][1](SCALE[n.split("/")[0]], ARRAYS[n], n) for n in names]
    present = [v for v in values if v is not None]
    return sum(present) if present else None


def _prefix(shape):
    return "inner/" if shape == "nested" else ""


def _matching(shape, scope):
    """The weights (``encoder/kernel``...) that ``scope`` selects in
    ``shape``'s model, whose TF1 names carry ``_prefix(shape)``."""
    return [n for n in sorted(ARRAYS) if (_prefix(shape) + n).startswith(scope)]


def _regularized(kind):
    return kind != "none"


# --- the models, on this env's Keras ---------------------------------------

def _custom_dense_class():
    keras = _compat.keras

    class CustomDense(keras.layers.Layer):
        def __init__(self, units, reg, **kwargs):
            super(CustomDense, self).__init__(**kwargs)
            self.units, self.reg = units, reg

        def build(self, input_shape):
            self.kernel = self.add_weight(name="kernel", shape=(int(input_shape[-1]), self.units),
                                          regularizer=self.reg)
            self.bias = self.add_weight(name="bias", shape=(self.units,), regularizer=self.reg)
            self.built = True

        def call(self, x):
            return tf.matmul(x, self.kernel) + self.bias

    return CustomDense


def _layers(kind, custom=False):
    keras = _compat.keras
    make = KINDS[kind][0]
    layers = []
    for name in ("encoder", "decoder"):
        reg = make(SCALE[name])
        if kind in PLAIN_FUNCTIONS and not _compat.KERAS_CALLABLE_REGULARIZERS:
            reg = compat_reg.sum_regularizer([reg])
        units = SHAPES[name][1]
        if custom:
            layers.append(_custom_dense_class()(units, reg, name=name))
        else:
            layers.append(keras.layers.Dense(units, name=name, kernel_regularizer=reg,
                                             bias_regularizer=reg))
    return layers


def _model(shape, kind):
    keras = _compat.keras
    enc, dec = _layers(kind, custom=shape == "custom_layer")
    if shape in ("sequential", "custom_layer"):
        model = keras.Sequential([enc, dec])
    elif shape == "functional":
        inputs = keras.Input((3,))
        model = keras.Model(inputs, dec(enc(inputs)))
    elif shape == "nested":
        # the inner model built by its Input: Keras 3.5 cannot nest an
        # unbuilt Sequential first (_compat.KERAS_NESTS_UNBUILT_SEQUENTIAL)
        model = keras.Sequential([keras.Sequential([keras.Input((3,)), enc, dec],
                                                   name="inner")])
    else:
        class Net(keras.Model):
            def __init__(self):
                super(Net, self).__init__()
                self.enc, self.dec = enc, dec

            def call(self, x):
                return self.dec(self.enc(x))
        model = Net()
    model(tf.zeros((1, 3)))
    for layer in (enc, dec):
        layer.kernel.assign(ARRAYS[layer.name + "/kernel"])
        layer.bias.assign(ARRAYS[layer.name + "/bias"])
    return model, (enc, dec)


eager_only = pytest.mark.skipif(
    _compat.TF1, reason="eager execution (TF2): Keras models hold penalties eagerly")
CASES = list(itertools.product(sorted(KINDS), MODEL_SHAPES))


def _close(got, want):
    assert np.isfinite(float(got))
    np.testing.assert_allclose(float(got), want, rtol=1e-6, atol=1e-9)


@eager_only
@pytest.mark.parametrize("kind,shape", CASES)
def test_bridge_scopes(kind, shape):
    """``get_regularization_loss(model, scope)`` for every scope: TF1's sum
    over the TF1 names it matches; a scope matching none of the penalties
    raises, listing the scopes there are; no penalties at all gives 0.0."""
    model, _ = _model(shape, kind)
    for scope in SCOPES:
        matched = _matching(shape, scope)
        if _regularized(kind) and not matched:
            with pytest.raises(ValueError, match="matches none.*closest first"):
                compat_reg.get_regularization_loss(model, scope=scope)
            continue
        _close(compat_reg.get_regularization_loss(model, scope=scope or None),
               _expected(kind, matched) or 0.0)
        listed = compat_reg.get_regularization_losses(model, scope=scope or None)
        assert all(tf.is_tensor(t) for t in listed)


def _keras_raises_on_none(kind):
    """Keras 3 keeps a plain regularizer's None in ``losses`` (and ``fit``
    raises on it): an upstream limit, loud, not a silent zero. Wrapped in
    ``sum_regularizer`` (where Keras refuses the plain function) the None is
    contrib's sum of nothing, which compat_reg gives a Keras 3 variable as
    a zero."""
    return (kind == "lambda_none_for_bias" and _compat.KERAS_CALLABLE_REGULARIZERS
            and not _compat.KERAS_DROPS_NONE_PENALTIES)


@eager_only
@pytest.mark.parametrize("kind,shape", CASES)
def test_keras_entry_points(kind, shape):
    """The direct call, each layer's ``losses``, the bridge on a layer, and
    ``model.losses`` give contrib's arithmetic for the same weights."""
    model, layers = _model(shape, kind)
    for layer in layers:
        names = [layer.name + "/kernel", layer.name + "/bias"]
        want = _expected(kind, names) or 0.0
        _close(compat_reg.get_regularization_loss(layer), want)
        if _keras_raises_on_none(kind):
            assert any(t is None for t in layer.losses)
            continue
        _close(sum(float(t) for t in layer.losses), want)
        reg = layer.kernel_regularizer if hasattr(layer, "kernel_regularizer") else layer.reg
        for name, weight in zip(names, (layer.kernel, layer.bias)):
            if reg is None:
                continue
            value = reg(weight)
            want_one = KINDS[kind][1](SCALE[layer.name], ARRAYS[name], name)
            if want_one is None:  # contrib's None; Keras 3 gets a zero of the dtype
                assert value is None or float(value) == 0.0
            else:
                _close(value, want_one)
    if _keras_raises_on_none(kind):
        return
    _close(sum(float(t) for t in model.losses), _expected(kind, sorted(ARRAYS)) or 0.0)


@eager_only
@pytest.mark.parametrize("kind,shape", CASES)
def test_fit_minimises_the_penalty(kind, shape):
    """The loss ``fit`` reports with a zero data loss is the penalty."""
    keras = _compat.keras
    model, _ = _model(shape, kind)
    model.compile(optimizer=keras.optimizers.SGD(0.0),
                  loss=lambda y, p: 0.0 * tf.reduce_sum(p), run_eagerly=True)
    fit = lambda: model.fit(np.zeros((2, 3), np.float32),  # noqa: E731
                            np.zeros((2, 2), np.float32),
                            batch_size=2, epochs=1, verbose=0, shuffle=False)
    if _keras_raises_on_none(kind):
        with pytest.raises(AttributeError):
            fit()
        return
    history = fit()
    _close(history.history["loss"][0], _expected(kind, sorted(ARRAYS)) or 0.0)


def _graph_penalties(kind, route):
    """TF1 code in a graph: ``get_variable(regularizer=)`` or ``tf.layers``
    under ``variable_scope``; the values of compat_reg's and TF's own
    collection reads for every scope."""
    v1 = _compat.v1
    make = KINDS[kind][0]
    results = {}
    with tf.Graph().as_default():
        x = v1.placeholder(tf.float32, (None, 3))
        for name in ("encoder", "decoder"):
            reg = make(SCALE[name])
            kernel = tf.constant_initializer(ARRAYS[name + "/kernel"])
            bias = tf.constant_initializer(ARRAYS[name + "/bias"])
            if route == "tf.layers":
                x = v1.layers.dense(x, SHAPES[name][1], name=name, kernel_initializer=kernel,
                                    bias_initializer=bias, kernel_regularizer=reg,
                                    bias_regularizer=reg)
            else:
                with v1.variable_scope(name):
                    v1.get_variable("kernel", SHAPES[name], initializer=kernel, regularizer=reg)
                    v1.get_variable("bias", SHAPES[name][-1:], initializer=bias, regularizer=reg)
        collection = v1.get_collection(v1.GraphKeys.REGULARIZATION_LOSSES)
        tensors = {}
        for scope in SCOPES:
            try:
                tensors[scope] = (compat_reg.get_regularization_loss(scope=scope or None),
                                  v1.losses.get_regularization_loss(scope=scope or None))
            except ValueError as error:
                results[scope] = error
        with v1.Session() as sess:
            sess.run(v1.global_variables_initializer())
            results.update(sess.run(tensors))
    return results, len(collection)


GRAPH_ROUTES = ("get_variable",) + (("tf.layers",) if _compat.V1_LAYERS else ())


@pytest.mark.parametrize("kind,route", list(itertools.product(sorted(KINDS), GRAPH_ROUTES)))
def test_graph_collection(kind, route):
    """TF1's own route, in a graph on every env (TF 1.15 included): the
    collection holds contrib's numbers; compat_reg reads exactly what TF
    reads, and raises where TF1 gave a silent 0.0 for a scope matching none
    of a non-empty collection."""
    results, size = _graph_penalties(kind, route)
    for scope in SCOPES:
        want = _expected(kind, _matching("graph", scope))
        got = results[scope]
        if size and not _matching("graph", scope):
            assert isinstance(got, ValueError) and "matches none" in str(got)
            continue
        ours, theirs = got
        assert ours == theirs
        _close(ours, want or 0.0)


@eager_only
@pytest.mark.parametrize("kind", PLAIN_FUNCTIONS)
def test_plain_function_regularizer_on_this_keras(kind):
    """A layer given TF1's plain function builds where
    ``KERAS_CALLABLE_REGULARIZERS`` says so and raises Keras' ValueError
    where it does not (Keras 3.1 - 3.14), never a silent loss."""
    keras = _compat.keras
    layer = keras.layers.Dense(2, kernel_regularizer=KINDS[kind][0](0.01))
    if _compat.KERAS_CALLABLE_REGULARIZERS:
        layer(tf.zeros((1, 3)))
        assert len(layer.losses) == 1
    else:
        with pytest.raises(ValueError, match="regularizer"):
            layer(tf.zeros((1, 3)))
