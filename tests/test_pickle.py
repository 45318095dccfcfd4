"""Every regularizer compat_reg returns pickles, copies and deep-copies.

The drop-ins report Keras' class as ``__class__`` (so configs name Keras'
class), which ``pickle`` refuses by default ("args[0] from __newobj__ args
has the wrong class"); Keras' own classes pickle. The copy must be a
drop-in again (contrib's arithmetic: integer weights raise, as in TF1), not
Keras' plain class, and give the penalty numpy computes with contrib's
formulas. On every flavour (Keras 3, tf_keras, TF 1.15's Keras).
"""

import copy
import pickle

import numpy as np
import pytest
import tensorflow as tf

import compat_reg
from compat_reg import _compat
from golden_support import evaluate

W = np.linspace(-2.0, 2.0, 15, dtype=np.float32).reshape(3, 5)
L1, L2 = float(np.sum(np.abs(W))), float(np.sum(W.astype(np.float64) ** 2) / 2)

# kind -> (how it is made, its penalty on W in numpy: contrib's arithmetic)
KINDS = {
    "l1": (lambda: compat_reg.l1_regularizer(0.01), 0.01 * L1),
    "l2": (lambda: compat_reg.l2_regularizer(0.02), 0.02 * L2),
    "l1_l2": (lambda: compat_reg.l1_l2_regularizer(0.01, 0.02),
              0.01 * L1 + 0.02 * L2),
    "l1_l2_one_zero": (lambda: compat_reg.l1_l2_regularizer(0.0, 0.02),
                       0.02 * L2),
    "sum": (lambda: compat_reg.sum_regularizer(
        [compat_reg.l1_regularizer(0.01), compat_reg.l2_regularizer(0.02)]),
        0.01 * L1 + 0.02 * L2),
    "zero_scale": (lambda: compat_reg.l2_regularizer(0.0), None),
    "variable_scale": (lambda: compat_reg.l2_regularizer(tf.Variable(0.02)),
                       0.02 * L2),
    "tensor_scale": (lambda: compat_reg.l1_regularizer(tf.constant(0.01)),
                     0.01 * L1),
    "sum_custom": (lambda: compat_reg.sum_regularizer(
        [compat_reg.l2_regularizer(0.02),
         compat_reg.l1_regularizer(tf.Variable(0.01))]),
        0.01 * L1 + 0.02 * L2),
    "contrib_class": (lambda: compat_reg.ContribL1L2(0.01, 0.02, "s"),
                      0.01 * L1 + 0.02 * L2),
    "sum_class": (lambda: compat_reg.SumRegularizer(
        [compat_reg.l1_regularizer(0.01), compat_reg.l2_regularizer(0.02)]),
        0.01 * L1 + 0.02 * L2),
}
# graph-mode tensors and variables belong to their graph: they do not pickle
# (TF 1.15), and neither does a regularizer holding one
GRAPH_BOUND = ("variable_scale", "tensor_scale", "sum_custom")

COPIES = dict(
    [("pickle-%d" % p, lambda r, p=p: pickle.loads(pickle.dumps(r, p)))
     for p in range(pickle.HIGHEST_PROTOCOL + 1)],
    deepcopy=copy.deepcopy, copy=copy.copy)


def _penalty(regularizer):
    value = regularizer(tf.constant(W))
    return None if value is None else float(evaluate(value))


@pytest.mark.parametrize("how", sorted(COPIES))
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_copies_are_the_same_regularizer(kind, how):
    if kind in GRAPH_BOUND and not _compat.executing_eagerly():
        pytest.skip("a graph's tensor or variable does not pickle")
    make, want = KINDS[kind]
    original = make()
    clone = COPIES[how](original)
    assert type(clone) is type(original)
    assert clone.__class__ is original.__class__  # Keras' own for drop-ins
    if hasattr(original, "get_config"):
        assert clone.get_config() == original.get_config()
    got = _penalty(clone)
    if want is None:
        assert got is None
    else:
        assert got == pytest.approx(want, rel=1e-6)
        with pytest.raises(TypeError, match="floating-point weights"):
            clone(tf.constant([[1, 2]]))  # contrib's rule, not Keras' 0


def test_keras_own_class_pickles_too():
    """The control: Keras' L2 (L1L2 on old Keras) pickles on this Keras."""
    native = _compat.moves.L2(l2=0.25)
    clone = pickle.loads(pickle.dumps(native))
    assert float(evaluate(clone(tf.constant(W)))) == pytest.approx(
        0.25 * 2 * L2, rel=1e-6)


@pytest.mark.parametrize("kind", ["l2", "sum", "contrib_class"])
def test_a_model_layer_regularizer_deepcopies(kind):
    """Keras clones layers' configs, users deep-copy models' parts: a layer
    built with the regularizer keeps contrib's penalty after a deepcopy."""
    if not _compat.executing_eagerly():
        pytest.skip("Keras layers in a TF1 graph hold graph variables")
    make, want = KINDS[kind]
    layer = _compat.keras.layers.Dense(5, kernel_regularizer=make())
    layer.build((None, 3))
    layer.kernel.assign(W)
    clone = copy.deepcopy(layer.kernel_regularizer)
    assert float(evaluate(clone(layer.kernel))) == pytest.approx(want, rel=1e-6)
