"""Every golden TF 1.15 penalty, reached three ways on this TF/Keras."""

import numpy as np
import pytest
import tensorflow as tf

import compat_reg
from compat_reg import _compat, golden_files
from golden_support import (TOLERANCE, contrib_reference, evaluate, graph_penalty,
                            make_regularizer, rel_diff)

CASES = golden_files.penalty_cases()
IDS = [case["id"] for case, _ in CASES]


@pytest.mark.parametrize("case,array", CASES, ids=IDS)
def test_called_on_array(case, array):
    reg = make_regularizer(compat_reg, case["regularizer"])
    want = case["total_regularization_loss"]
    if not case["collection_values"]:  # disabled: contrib's gives nothing
        assert reg(array) is None and reg(None) is None
        return
    got = reg(tf.constant(array))
    assert got.dtype.name == case["collection_dtypes"][0]  # weight's dtype
    assert rel_diff(got, want) <= TOLERANCE[case["dtype"]]


@pytest.mark.parametrize("case,array", CASES, ids=IDS)
def test_through_get_variable_in_graph_mode(case, array):
    """contrib's values and op names, exactly, on every TF (a fresh graph,
    as the golden recipe; TF2 graph mode gives the same names)."""
    names, values, total, total_name = graph_penalty(
        lambda: make_regularizer(compat_reg, case["regularizer"]), array)
    assert len(values) == len(case["collection_values"])
    for got, want in zip(values, case["collection_values"]):
        assert rel_diff(got, want) <= TOLERANCE[case["dtype"]]
    assert rel_diff(total, case["total_regularization_loss"]) <= TOLERANCE[case["dtype"]]
    assert names == case["collection_names"]
    assert total_name == case["total_name"]


@pytest.mark.parametrize("case,array", [c for c in CASES if c[0]["shape"]
                                        and c[0]["shape"][0]], ids=lambda c: c)
def test_through_keras_layer_losses(case, array):
    """A Keras layer whose kernel is the golden array: ``layer.losses``."""
    reg = make_regularizer(compat_reg, case["regularizer"])
    keras = _compat.keras
    layer = keras.layers.Dense(1, kernel_regularizer=reg, dtype=case["dtype"])
    # a Dense kernel is 2-D; give other shapes as a raw weight of the layer
    layer.add_weight(name="kernel_like", shape=array.shape, dtype=case["dtype"],
                     regularizer=reg, initializer=_compat.keras.initializers.Constant(array))
    losses = layer.losses
    if not case["collection_values"]:
        # no penalty: tf_keras drops the None, Keras 3 (which sums whatever a
        # regularizer returns) gets a zero of the weight's dtype
        assert all(float(evaluate(t)) == 0.0 for t in losses)
        assert len(losses) == (1 if _compat.KERAS3 else 0)
        return
    assert len(losses) == 1
    assert rel_diff(losses[0], case["total_regularization_loss"]) <= TOLERANCE[case["dtype"]]


REFERENCE = contrib_reference()


@pytest.mark.skipif(REFERENCE is None, reason="needs tf_slim, the TF2 port of contrib")
@pytest.mark.parametrize("case,array", CASES, ids=IDS)
def test_agrees_with_contrib_or_tf_slim(case, array):
    ours = make_regularizer(compat_reg, case["regularizer"])
    theirs = make_regularizer(REFERENCE, case["regularizer"])
    x = tf.constant(array)
    expected = theirs(x)
    if expected is None:
        assert ours(x) is None
        return
    assert rel_diff(ours(x), evaluate(expected)) <= TOLERANCE[case["dtype"]]


def test_apply_regularization_graph_mode(golden_penalties):
    golden = golden_penalties["apply_regularization"]
    arrays = golden_files.arrays("penalty_inputs.npz")
    v1 = _compat.v1
    with tf.Graph().as_default():
        ws = [v1.get_variable("w%d" % i, initializer=tf.constant(arrays["apply_w%d" % i]))
              for i in range(3)]
        total = compat_reg.apply_regularization(compat_reg.l2_regularizer(0.05), ws)
        entries = v1.get_collection(v1.GraphKeys.REGULARIZATION_LOSSES)
        with v1.Session() as sess:
            sess.run(v1.global_variables_initializer())
            value, entry_values = sess.run([total, entries])
    assert total.name == golden["name"]
    assert [e.name for e in entries] == golden["collection_names"]
    assert rel_diff(value, golden["value"]) <= 1e-6
    assert np.allclose(entry_values, golden["collection_values"], rtol=1e-6)


@pytest.mark.skipif(_compat.TF1, reason="eager execution (TF2): no collection, weights_list given")
def test_apply_regularization_eager(golden_penalties):
    golden = golden_penalties["apply_regularization"]
    arrays = golden_files.arrays("penalty_inputs.npz")
    ws = [tf.Variable(arrays["apply_w%d" % i]) for i in range(3)]
    value = compat_reg.apply_regularization(compat_reg.l2_regularizer(0.05), ws)
    assert rel_diff(value, golden["value"]) <= 1e-6
    # a disabled regularizer contributes 0.0 per weight, as contrib did
    assert float(compat_reg.apply_regularization(compat_reg.l2_regularizer(0.0), ws)) == 0.0
    with pytest.raises(ValueError, match="pass weights_list"):
        compat_reg.apply_regularization(compat_reg.l2_regularizer(0.05))


@pytest.mark.skipif(_compat.TF1, reason="eager execution (TF2) maps to native Keras classes")
def test_native_classes_and_arithmetic():
    """l2(s) is L2(s / 2), l1(s) is L1(s), l1_l2(a, b) is L1L2(a, b / 2)."""
    moves = _compat.moves
    reg = compat_reg.l2_regularizer(0.01)
    assert reg.__class__ is moves.L2 and reg.l2 == pytest.approx(0.005)
    assert compat_reg.l1_regularizer(0.01).__class__ is moves.L1
    both = compat_reg.l1_l2_regularizer(0.01, 0.02)
    assert both.__class__ is moves.L1L2
    assert (both.l1, both.l2) == (pytest.approx(0.01), pytest.approx(0.01))
    # the 784x10 all-ones kernel of the golden seed experiment
    seed = next(c for c, _ in CASES if c["id"] == "seed_dense_ones")["total_regularization_loss"]
    ones = np.ones((784, 10), np.float32)
    assert float(reg(ones)) == pytest.approx(seed, rel=1e-6)
    # a straight port, Keras' L2(scale), doubles it: 0.01 * 7840 against 0.01 * 7840 / 2
    assert float(moves.L2(0.01)(ones)) == pytest.approx(2 * seed, rel=1e-6)
    # numpy float scales work (Keras 3's own L2 rejects np.float32)
    assert float(compat_reg.l2_regularizer(np.float32(0.01))(ones)) == pytest.approx(seed, rel=1e-6)
    # zero scales follow contrib: l1_l2(0, b) is l2(b), l1_l2(0, 0) disabled
    assert compat_reg.l1_l2_regularizer(0.0, 0.02).__class__ is moves.L2
    assert compat_reg.l1_l2_regularizer(0.01, 0.0).__class__ is moves.L1
    assert compat_reg.l1_l2_regularizer(0.0, 0.0)(ones) is None


@pytest.mark.skipif(_compat.TF1, reason="eager execution (TF2) folds into native Keras L1L2")
def test_sum_regularizer_folds_and_falls_back():
    moves = _compat.moves
    folded = compat_reg.sum_regularizer(
        [compat_reg.l1_regularizer(0.01), None, compat_reg.l2_regularizer(0.02),
         compat_reg.l1_l2_regularizer(0.03, 0.04)])
    assert folded.__class__ is moves.L1L2
    assert folded.l1 == pytest.approx(0.04) and folded.l2 == pytest.approx(0.03)
    assert compat_reg.sum_regularizer([None]) is None
    x = np.linspace(-1, 1, 12).astype(np.float32)
    custom = compat_reg.sum_regularizer([compat_reg.l2_regularizer(0.5),
                                         lambda w: tf.reduce_sum(w)])
    assert isinstance(custom, compat_reg.SumRegularizer)
    expected = 0.5 * np.sum(x ** 2) / 2 + np.sum(x)
    assert float(custom(x)) == pytest.approx(expected, rel=1e-6)
