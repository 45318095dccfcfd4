"""compat_reg's public API on every Keras 3 backend (issue 29).

Generated over the public entry points (``compat_reg.__all__``, and the
``__all__`` of ``compat_reg.contrib`` and ``compat_reg.naming``) x the ways
each is called x backends; each env runs its backend's column. A call
either works, and its value is checked against numpy (contrib's formulas)
or the arguments given, or, where it needs TensorFlow (a TF1 graph, a
collection, tf.distribute), raises ``BackendError`` naming the backend off
TensorFlow: never another exception, never a silently wrong value.
``test_every_public_callable_has_a_row`` fails when an entry point is added
without a row here.
"""

import inspect

import numpy as np
import pytest
import tensorflow as tf

import compat_reg
from compat_reg import _compat, contrib, naming

if not _compat.KERAS3:
    pytest.skip("Keras' backends are Keras 3's (this is %s)" % _compat.KERAS_FLAVOUR,
                allow_module_level=True)

keras = _compat.keras
BACKENDS = ("tensorflow", "jax", "torch")
W = np.linspace(-2.0, 2.0, 15, dtype=np.float32).reshape(3, 5)
S1, S2 = 0.01, 0.02
# contrib's penalties of W: scale * sum|w|, scale * sum(w ** 2) / 2
L1 = S1 * np.sum(np.abs(W), dtype=np.float64)
L2 = S2 * np.sum(W.astype(np.float64) ** 2) / 2


def _numpy(value):
    return np.asarray(keras.ops.convert_to_numpy(value))


def _model():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(
        5, kernel_regularizer=compat_reg.l2_regularizer(S2), name="dense")])
    model.layers[0].kernel.assign(W)
    return model


def _in_graph(make):
    """``make(variable)`` in a TF1 graph (``tf.compat.v1.get_variable``),
    evaluated in a Session; its REGULARIZATION_LOSSES collection holds L2."""
    with tf.Graph().as_default():
        tf.compat.v1.add_to_collection(
            tf.compat.v1.GraphKeys.REGULARIZATION_LOSSES,
            tf.constant(L2, tf.float32))
        value = make(tf.compat.v1.get_variable("w", initializer=tf.constant(W)))
        return [_compat.evaluate(v) for v in value] if isinstance(
            value, list) else _compat.evaluate(value)


def _close(want):
    def check(got):
        assert float(_numpy(got)) == pytest.approx(want, rel=1e-6)
    return check


def _one(items):
    assert len(items) == 1, items
    return items[0]


def _is(want):
    def check(got):
        assert got == want
    return check


def _kernel_draws():
    """Two Dense kernels drawn after ``set_seed(3)`` each: equal if seeded."""
    draws = []
    for _ in range(2):
        compat_reg.set_seed(3)
        layer = keras.layers.Dense(4)
        layer.build((None, 3))
        draws.append(_numpy(layer.kernel))
    return draws


def _seeded_graph_seed():
    graph = compat_reg.seeded_graph(7)
    with graph.as_default():
        return graph.seed, tf.compat.v1.get_default_graph() is graph


# (entry point, how it is called) -> (call, check of the value, needs TF);
# "tf1_graph" and "collection" calls run in a TF1 graph (``_in_graph``)
ROWS = {
    ("l1_regularizer", "eager"): (
        lambda: compat_reg.l1_regularizer(S1)(W), _close(L1), False),
    ("l2_regularizer", "eager"): (
        lambda: compat_reg.l2_regularizer(S2)(W), _close(L2), False),
    ("l2_regularizer", "tf1_graph"): (
        lambda: _in_graph(compat_reg.l2_regularizer(S2)), _close(L2), True),
    ("l1_l2_regularizer", "eager"): (
        lambda: compat_reg.l1_l2_regularizer(S1, S2)(W), _close(L1 + L2), False),
    ("sum_regularizer", "eager"): (
        lambda: compat_reg.sum_regularizer([compat_reg.l1_regularizer(S1),
                                            compat_reg.l2_regularizer(S2)])(W),
        _close(L1 + L2), False),
    ("ContribL1L2", "eager"): (
        lambda: compat_reg.ContribL1L2(S1, S2)(W), _close(L1 + L2), False),
    ("SumRegularizer", "eager"): (
        lambda: compat_reg.SumRegularizer([compat_reg.l2_regularizer(S2)])(W),
        _close(L2), False),
    ("apply_regularization", "weights_list"): (
        lambda: compat_reg.apply_regularization(
            compat_reg.l2_regularizer(S2), [_model().layers[0].kernel]),
        _close(L2), False),
    ("apply_regularization", "tf1_graph"): (
        lambda: _in_graph(lambda w: compat_reg.apply_regularization(
            compat_reg.l2_regularizer(S2), [w])), _close(L2), True),
    ("get_regularization_loss", "model"): (
        lambda: compat_reg.get_regularization_loss(_model()), _close(L2), False),
    ("get_regularization_loss", "collection"): (
        lambda: _in_graph(lambda w: compat_reg.get_regularization_loss()),
        _close(L2), True),
    ("get_regularization_losses", "model"): (
        lambda: compat_reg.get_regularization_losses(_model()),
        lambda got: _close(L2)(_one(got)), False),
    ("get_regularization_losses", "collection"): (
        lambda: _in_graph(lambda w: compat_reg.get_regularization_losses()),
        lambda got: _close(L2)(_one(got)), True),
    ("get_total_loss", "model"): (
        lambda: compat_reg.get_total_loss(_model(), [keras.ops.convert_to_tensor(
            1.5)]), _close(1.5 + L2), False),
    ("get_total_loss", "collection"): (
        lambda: _in_graph(lambda w: compat_reg.get_total_loss(None, [1.5])),
        _close(1.5 + L2), True),
    ("scale_regularization_loss", "value"): (
        lambda: compat_reg.scale_regularization_loss(tf.constant(L2, tf.float32)),
        _close(L2), True),
    ("set_seed", "twice"): (
        _kernel_draws, lambda got: np.testing.assert_array_equal(*got), False),
    ("seeded_graph", "seed"): (
        _seeded_graph_seed, _is((7, True)), False),
    ("tf1_variables", "model"): (
        lambda: compat_reg.tf1_variables(_model()),
        lambda got: _is(["dense/kernel:0", "dense/bias:0"])([n for n, _ in got]), False),
    ("install", "twice"): (
        lambda: (compat_reg.install(), compat_reg.install(), contrib.installed()),
        lambda got: _is(True)(got[2]), False),
    ("contrib.installed", "after_install"): (
        lambda: (compat_reg.install(), contrib.installed())[1],
        _is(True), False),
    ("naming.named_layers", "model"): (
        lambda: [(s, layer.name) for s, layer in naming.named_layers(_model())],
        lambda got: _is(True)(("dense", "dense") in got), False),
    ("naming.tf1_weights", "model"): (
        lambda: [(n, layer.name) for n, layer, _ in naming.tf1_weights(_model())],
        _is([("dense/kernel", "dense"), ("dense/bias", "dense")]), False),
    ("naming.scopes", "names"): (
        lambda: list(naming.scopes(["a/b/c", "a/d"])),
        _is(["a", "a/b", "a/b/c", "a/d"]), False),
    ("naming.closest_scopes", "names"): (
        lambda: list(naming.closest_scopes("a/bb", ["a/b/c", "x/y"], most=1)),
        _is(["a/b"]), False),
}

def _resolve(entry):
    owner, _, name = entry.rpartition(".")
    return getattr({"": compat_reg, "contrib": contrib, "naming": naming}[owner],
                   name)


def test_every_public_callable_has_a_row():
    covered = set(id(_resolve(entry)) for entry, _ in ROWS)
    public = [("", name) for name in compat_reg.__all__] + [
        ("contrib", name) for name in contrib.__all__] + [
        ("naming", name) for name in naming.__all__]
    missing = []
    for owner, name in public:
        value = _resolve((owner + "." if owner else "") + name)
        if callable(value) and not inspect.ismodule(value) and (
                id(value) not in covered):
            missing.append((owner + "." if owner else "") + name)
    assert not missing, missing


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("row", sorted(ROWS), ids="-".join)
def test_works_or_raises_backend_error(row, backend):
    if backend != _compat.KERAS_BACKEND:
        pytest.skip("this env runs Keras on %s (KERAS_BACKEND)" % _compat.KERAS_BACKEND)
    call, check, needs_tf = ROWS[row]
    if needs_tf and not _compat.TF_BACKEND:
        with pytest.raises(_compat.BackendError) as info:
            call()
        assert "runs on %s (KERAS_BACKEND=%s)" % (backend, backend) in str(
            info.value)
        return
    check(call())
