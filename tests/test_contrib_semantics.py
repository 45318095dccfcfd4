"""contrib's semantics in graph mode, on every TF: what a TF1 program sees.

In a graph (TF 1.15, ``disable_eager_execution``/``disable_v2_behavior``, or
``with tf.Graph().as_default()``) contrib named each penalty op by its
``scope``, returned a callable giving ``None`` for a zero scale, and computed
in the weights' dtype. The values below are arithmetic on the inputs; the
names are the ones TF 1.15 recorded in the golden files.
"""

import numpy as np
import pytest
import tensorflow as tf

import compat_reg
from compat_reg import _compat, golden_files
from golden_support import evaluate

v1 = _compat.v1
W = np.array([[1.0, -2.0], [3.0, -4.0]], np.float32)
L1 = float(np.sum(np.abs(W)))       # 10
L2_LOSS = float(np.sum(W ** 2) / 2)  # tf.nn.l2_loss: 15


def _run(tensor):
    return float(evaluate(tensor))


@pytest.fixture
def graph():
    with tf.Graph().as_default() as g:
        yield g


def test_ops_are_named_as_contrib_named_them(graph):
    w = tf.constant(W)
    cases = [
        (compat_reg.l1_regularizer(0.5), "l1_regularizer", 0.5 * L1),
        (compat_reg.l2_regularizer(0.5), "l2_regularizer", 0.5 * L2_LOSS),
        (compat_reg.l1_l2_regularizer(1.0, 1.0), "l1_l2_regularizer", L1 + L2_LOSS),
        # one scale zero: still named after l1_l2, as contrib did
        (compat_reg.l1_l2_regularizer(0.0, 1.0), "l1_l2_regularizer_1", L2_LOSS),
        (compat_reg.l1_l2_regularizer(1.0, 0.0), "l1_l2_regularizer_2", L1),
        (compat_reg.l2_regularizer(0.5, scope="wd"), "wd", 0.5 * L2_LOSS),
    ]
    for reg, name, value in cases:
        penalty = reg(w)
        assert penalty.op.name == name
        assert _run(penalty) == pytest.approx(value, rel=1e-6)


def test_scope_under_an_outer_name_scope(graph):
    with tf.name_scope("foo"):
        penalty = compat_reg.l1_l2_regularizer(1.0, 1.0, scope="l1_l2")(tf.constant(W))
    assert penalty.op.name == "foo/l1_l2"
    # the two terms, nested as contrib nested them
    inputs = sorted(t.op.name for t in penalty.op.inputs)
    assert inputs == ["foo/l1_l2/l1_regularizer", "foo/l1_l2/l2_regularizer"]
    assert _run(penalty) == pytest.approx(L1 + L2_LOSS, rel=1e-6)


def test_sum_regularizer_names_and_disabled_terms(graph):
    w = tf.constant(W)
    summed = compat_reg.sum_regularizer(
        [compat_reg.l1_regularizer(0.1), None, compat_reg.l2_regularizer(0.0),
         compat_reg.l2_regularizer(0.2)])
    penalty = summed(w)
    assert penalty.op.name == "sum_regularizer"
    assert _run(penalty) == pytest.approx(0.1 * L1 + 0.2 * L2_LOSS, rel=1e-6)
    # every term disabled: the sum gives None, as contrib's did
    assert compat_reg.sum_regularizer([compat_reg.l1_regularizer(0.0)])(w) is None


@pytest.mark.parametrize("make", [
    lambda: compat_reg.l1_regularizer(0.0),
    lambda: compat_reg.l2_regularizer(0.0),
    lambda: compat_reg.l1_l2_regularizer(0.0, 0.0),
], ids=["l1", "l2", "l1_l2"])
def test_zero_scale_is_a_callable_giving_none(graph, make):
    reg = make()
    assert callable(reg)
    assert reg(None) is None and reg(tf.constant(W)) is None


def test_zero_scale_adds_nothing_to_the_collection(graph):
    """``reg = l2_regularizer(FLAGS.wd)`` with the decay switched off."""
    v1.get_variable("dense/kernel", initializer=W, regularizer=compat_reg.l2_regularizer(0.0))
    assert v1.get_collection(v1.GraphKeys.REGULARIZATION_LOSSES) == []


def test_scale_takes_the_weights_dtype(graph):
    """contrib converted the scale to the weights' dtype: float16 weights get a
    float16 scale (0.01 rounds to 0.010002136), float64 weights a float64 one."""
    for dtype in (np.float16, np.float64):
        penalty = compat_reg.l2_regularizer(0.01)(tf.constant(W.astype(dtype)))
        assert penalty.dtype == tf.as_dtype(dtype)
        scale = penalty.op.inputs[0]
        assert scale.op.name == "l2_regularizer/scale" or scale.op.name.endswith("/scale")
        assert _run(scale) == float(dtype(0.01))


def test_seed_program_in_graph_mode(graph):
    """The golden seed case through ``tf.layers``' path (get_variable)."""
    case = next(c for c, _ in golden_files.penalty_cases() if c["id"] == "seed_dense_ones")
    with v1.variable_scope("dense"):
        v1.get_variable("kernel", shape=[784, 10], initializer=v1.ones_initializer(),
                        regularizer=compat_reg.l2_regularizer(0.01))
    total = v1.losses.get_regularization_loss()
    names = [t.name for t in v1.get_collection(v1.GraphKeys.REGULARIZATION_LOSSES)]
    assert names == case["collection_names"]
    with v1.Session() as sess:
        sess.run(v1.global_variables_initializer())
        value = float(sess.run(total))
    assert value == pytest.approx(case["total_regularization_loss"], rel=1e-6)


@pytest.mark.parametrize("weights,kind", [
    (np.array([[1, 2], [3, 4]], np.int32), "int32"),
    (np.array([True, False]), "bool"),
    (np.array([1 + 1j], np.complex64), "complex64"),
    (np.array(["a"]), "string"),
])
def test_non_float_weights_raise_as_tf1_did(graph, weights, kind):
    """contrib converted the scale to the weights' dtype, which fails for these
    (Keras would return a silent 0, or True)."""
    with pytest.raises(TypeError, match="floating-point weights"):
        compat_reg.l2_regularizer(0.1)(tf.constant(weights))
