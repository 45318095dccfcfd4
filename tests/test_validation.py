"""contrib's validation rules, and where compat_reg is stricter than TF1.

The golden ``errors`` entries record what TF 1.15 did with each bad scale.
The inputs are not in the file; each id names its call, and the messages
pin the values (e.g. ``-0.1.`` with contrib's trailing period for l2).
"""

import numpy as np
import pytest
import tensorflow as tf

import compat_reg
from compat_reg import _compat
from golden_support import evaluate

# golden error id -> the call it names
CALLS = {
    "l1_int_scale": lambda: compat_reg.l1_regularizer(2),
    "l2_int_scale": lambda: compat_reg.l2_regularizer(1),
    "l1_negative": lambda: compat_reg.l1_regularizer(-1.0),
    "l2_negative": lambda: compat_reg.l2_regularizer(-0.1),
    "l1_l2_negative": lambda: compat_reg.l1_l2_regularizer(-0.1, 0.1),
    "l1_scale_above_one": lambda: compat_reg.l1_regularizer(2.5),
    "l2_scale_above_one": lambda: compat_reg.l2_regularizer(2.5),
    "l2_nan": lambda: compat_reg.l2_regularizer(float("nan")),
    "l2_string": lambda: compat_reg.l2_regularizer("0.01"),
    "sum_empty": lambda: compat_reg.sum_regularizer([]),
}
# where TF1 accepted nonsense silently, we raise (documented in regularizers.py)
STRICTER = {"l2_nan": (ValueError, "NaN"), "l2_string": (TypeError, "must be a float")}


def test_every_golden_error_is_covered(golden_penalties):
    assert set(golden_penalties["errors"]) == set(CALLS)


@pytest.mark.parametrize("error_id", sorted(CALLS))
def test_golden_error(golden_penalties, error_id):
    golden = golden_penalties["errors"][error_id]
    if error_id in STRICTER:
        exc, match = STRICTER[error_id]
        with pytest.raises(exc, match=match):
            CALLS[error_id]()
        return
    if golden["raises"]:
        with pytest.raises(ValueError) as info:
            CALLS[error_id]()
        assert golden["raises"] == "ValueError"
        assert str(info.value) == golden["message"]
        return
    result = CALLS[error_id]()
    if golden["returns"] == "NoneType":
        assert result is None
    else:  # TF1 returned a function: ours is callable and gives a penalty
        assert callable(result)
        assert float(evaluate(result(np.ones((2, 2), np.float32)))) > 0


@pytest.mark.parametrize("scale", [np.int64(3), np.int32(1), True])
def test_numpy_and_bool_integers_rejected_like_contrib(scale):
    with pytest.raises(ValueError, match="scale cannot be an integer"):
        compat_reg.l2_regularizer(scale)


def test_l1_l2_integer_messages_name_the_argument():
    with pytest.raises(ValueError, match="scale_l1 cannot be an integer: 1"):
        compat_reg.l1_l2_regularizer(1, 0.1)
    with pytest.raises(ValueError, match="scale_l2 cannot be an integer: 2"):
        compat_reg.l1_l2_regularizer(0.1, 2)


@pytest.mark.parametrize("bad", [float("inf"), float("nan")])
@pytest.mark.parametrize("factory", [compat_reg.l1_regularizer, compat_reg.l2_regularizer])
def test_non_finite_rejected(factory, bad):
    with pytest.raises(ValueError, match="NaN|infinite"):
        factory(bad)


def test_negative_infinity_is_negative_like_contrib():
    with pytest.raises(ValueError, match="less than 0"):
        compat_reg.l2_regularizer(float("-inf"))


@pytest.mark.parametrize("bad", ["0.1", None, [0.1], object()])
def test_non_numbers_rejected(bad):
    with pytest.raises(TypeError, match="must be a float"):
        compat_reg.l1_regularizer(bad)


@pytest.mark.parametrize("scale", [np.float32(0.01), np.float64(0.01), np.float16(0.5)])
def test_numpy_floats_accepted(scale):
    reg = compat_reg.l2_regularizer(scale)
    w = np.array([3.0, 4.0], np.float32)
    # float(scale) * (9 + 16) / 2, in float32 as contrib computed it
    expected = np.float32(scale) * np.float32(12.5)
    assert float(evaluate(reg(w))) == pytest.approx(float(expected), rel=1e-6)


def test_zero_scale_disables():
    """contrib's ``lambda _: None``: a callable that gives no penalty."""
    for reg in (compat_reg.l2_regularizer(0.0), compat_reg.l1_regularizer(np.float32(0.0)),
                compat_reg.l1_l2_regularizer(0.0, 0.0)):
        assert reg(None) is None
        assert reg(np.ones((2, 2), np.float32)) is None
    keras = _compat.keras
    layer = keras.layers.Dense(2, kernel_regularizer=compat_reg.l2_regularizer(0.0))
    layer.build((None, 3))
    # tf_keras drops the None; Keras 3 sums every entry, so it gets a zero
    assert [float(evaluate(t)) for t in layer.losses] == ([0.0] if _compat.KERAS3 else [])


@pytest.mark.parametrize("weights", [
    np.array([[1, 2], [3, 4]], np.int32), np.array([True, False]),
    np.array([1 + 1j], np.complex64), np.array([1, 2], np.int8), np.array(["a"])],
    ids=["int32", "bool", "complex64", "int8", "string"])
@pytest.mark.parametrize("factory", [
    lambda: compat_reg.l2_regularizer(0.1), lambda: compat_reg.l1_regularizer(0.1),
    lambda: compat_reg.l1_l2_regularizer(0.1, 0.1)], ids=["l2", "l1", "l1_l2"])
def test_non_float_weights_raise_as_tf1_did(factory, weights):
    """TF1 converted the scale to the weights' dtype and failed; Keras alone
    returns 0 for int32, True for bool, a complex number for complex."""
    with pytest.raises(TypeError, match="floating-point weights"):
        factory()(tf.constant(weights))


def test_sparse_weights_raise():
    sparse = tf.SparseTensor(indices=[[0, 0]], values=[1.0], dense_shape=[2, 2])
    with pytest.raises(TypeError, match="dense weights"):
        compat_reg.l2_regularizer(0.1)(sparse)


def test_a_list_of_floats_is_weights():
    # contrib's l2_loss of [3, 4]: (9 + 16) / 2
    assert float(evaluate(compat_reg.l2_regularizer(0.5)([3.0, 4.0]))) == pytest.approx(
        0.5 * 12.5)


def test_overflowing_scale_refused_when_made():
    with pytest.raises(ValueError, match="overflows float32"):
        compat_reg.l2_regularizer(1e39)


@pytest.mark.parametrize("scale,error,match", [
    (lambda: tf.Variable(-0.1), ValueError, "less than 0"),
    (lambda: tf.Variable(float("nan")), ValueError, "NaN"),
    (lambda: tf.Variable(1), TypeError, "floating-point scalar"),
    (lambda: tf.constant([0.1, 0.2]), ValueError, "must be a scalar"),
    (lambda: tf.constant("0.1"), TypeError, "floating-point scalar"),
], ids=["negative", "nan", "int", "vector", "string"])
def test_tensor_scales_checked(scale, error, match):
    if not _compat.executing_eagerly() and match in ("less than 0", "NaN"):
        pytest.skip("eager execution (TF2): a graph tensor's value is not known "
                    "when the regularizer is made")
    with pytest.raises(error, match=match):
        compat_reg.l2_regularizer(scale())
