"""compare_models on a small conv model (not an MLP)."""

import numpy as np
import pytest

import compat_reg
from compat_reg.parity import compare_models, tolerances, workloads
from parity_helpers import require

L2 = 0.01  # TF1 scale, kernels and biases
SGD = {"optimizer": "momentum", "lr": 0.05, "momentum": 0.9}


def _data():
    """The digits as 8x8x1 images, a slice to keep the test fast."""
    digits = workloads.Data.load(workloads.golden_dir() + "/digits.npz")
    return (digits.x_train[:640].reshape(-1, 8, 8, 1), digits.y_train[:640],
            digits.x_test.reshape(-1, 8, 8, 1), digits.y_test)


def build_graph(x):
    """TF1: conv 3x3x8 (kernel and bias L2) -> relu -> flatten -> dense."""
    import tensorflow as tf
    v1 = tf.compat.v1
    with v1.variable_scope("conv"):
        kernel = v1.get_variable("kernel", [3, 3, 1, 8],
                                 regularizer=compat_reg.l2_regularizer(L2))
        bias = v1.get_variable("bias", [8], initializer=v1.zeros_initializer(),
                               regularizer=compat_reg.l2_regularizer(L2))
    h = tf.nn.relu(tf.nn.bias_add(
        tf.nn.conv2d(x, kernel, strides=[1, 1, 1, 1], padding="SAME"), bias))
    h = tf.reshape(h, [-1, 8 * 8 * 8])
    with v1.variable_scope("logits"):
        w = v1.get_variable("kernel", [8 * 8 * 8, 10],
                            regularizer=compat_reg.l2_regularizer(L2))
        b = v1.get_variable("bias", [10], initializer=v1.zeros_initializer())
    return tf.nn.bias_add(tf.matmul(h, w), b)


def keras_model(regularizer):
    from compat_reg import _compat
    keras = _compat.keras
    keras.backend.clear_session()
    return keras.Sequential([
        keras.Input(shape=(8, 8, 1)),
        keras.layers.Conv2D(8, 3, padding="same", activation="relu",
                            kernel_regularizer=regularizer(L2),
                            bias_regularizer=regularizer(L2),
                            kernel_initializer=keras.initializers.GlorotUniform(
                                seed=3)),
        keras.layers.Flatten(),
        keras.layers.Dense(10, kernel_regularizer=regularizer(L2),
                           kernel_initializer=keras.initializers.GlorotUniform(
                               seed=4)),
    ])


def test_conv_port_agrees():
    require("tf2-keras")
    report = compare_models(build_graph, keras_model(compat_reg.l2_regularizer),
                            _data(), SGD, batch=32, epochs=2)
    assert report.ok, str(report)
    assert len(report.comparisons) == 2
    for result in report.comparisons:
        assert abs(result.penalty_ratio - 1.0) <= tolerances.PENALTY_STEP0
        assert result.steps == 2 * (640 // 32)
        assert result.weights is not None
    assert "conv/kernel" in report.traces["tf2-keras"].final_weights


def test_conv_port_without_halving_fails():
    require("tf2-keras")
    from compat_reg import _compat
    def unhalved(scale):  # Keras' L2 (L1L2's l2 before TF 2.3), scale as is
        return _compat.moves.L2(l2=scale)
    report = compare_models(build_graph, keras_model(unhalved), _data(), SGD,
                            batch=32, epochs=1, backend_names=("tf2-keras",))
    assert not report.ok
    (result,) = report.comparisons
    # Keras L2(s) = 2 x contrib's s * sum(w**2) / 2, the rest as exact as above
    assert abs(result.penalty_ratio - 2.0) <= 2 * tolerances.PENALTY_STEP0
    assert any("without halving" in d for d in report.diagnoses)


def test_shape_mismatch_is_reported():
    require("tf2-keras")
    from compat_reg import _compat
    keras = _compat.keras
    model = keras.Sequential([keras.Input(shape=(8, 8, 1)),
                              keras.layers.Flatten(), keras.layers.Dense(10)])
    with pytest.raises(ValueError, match="trainable"):
        compare_models(build_graph, model, _data(), SGD)


def test_batch_order_drops_remainder_and_is_seeded():
    from compat_reg.parity.user_model import batch_order
    order = batch_order(100, 32, 2, seed=5)
    assert order.shape == (2, 3, 32)
    np.testing.assert_array_equal(order, batch_order(100, 32, 2, seed=5))
    assert len(set(order[0].ravel())) == 96
