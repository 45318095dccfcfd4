"""The Estimator path (issue 17): a ``model_fn`` that reads
``tf.losses.get_regularization_loss()`` and runs ``UPDATE_OPS``, its network
ported to Keras, proved with ``compare_models``; and, where ``tf.estimator``
still exists, the real Estimator trained on the same batches lands on the
weights of the harness's TF1 run."""

import numpy as np
import pytest

import compat_reg
from compat_reg.parity import compare_models, workloads
from compat_reg.parity.user_model import batch_order
from parity_helpers import require

SPEC = {"optimizer": "momentum", "lr": 0.05, "momentum": 0.9}
DECAY, EPSILON = 0.99, 1e-3


def network(x, training, init=None):
    """The model_fn's network, TF1 graph code (tf.layers' names and its
    non-fused batch norm for a 2-D input: tf.nn.moments, updates in
    UPDATE_OPS). The hidden layer has no bias, as slim's normalizer_fn and
    ``use_bias=False`` models did: before batch norm a bias's gradient is
    zero up to float noise, so its final value is noise on both sides."""
    import tensorflow as tf
    v1 = tf.compat.v1

    def variable(name, shape, initializer, **kwargs):
        if init is not None:
            full = v1.get_variable_scope().name + "/" + name
            initializer = v1.constant_initializer(init[full])
        return v1.get_variable(name, shape, initializer=initializer, **kwargs)

    zeros, ones = v1.zeros_initializer(), v1.ones_initializer()
    with v1.variable_scope("hidden"):
        kernel = variable("kernel", [64, 32], v1.glorot_uniform_initializer(),
                          regularizer=compat_reg.l2_regularizer(0.01))
        h = tf.matmul(x, kernel)  # no bias: batch norm's beta is the bias
    with v1.variable_scope("batch_normalization"):
        gamma = variable("gamma", [32], ones)
        beta = variable("beta", [32], zeros)
        mean_ = variable("moving_mean", [32], zeros, trainable=False)
        var_ = variable("moving_variance", [32], ones, trainable=False)
        if training:
            mean, variance = tf.nn.moments(h, [0])
            for moving, value in ((mean_, mean), (var_, variance)):
                v1.add_to_collection(v1.GraphKeys.UPDATE_OPS, v1.assign_sub(
                    moving, (moving - value) * (1.0 - DECAY)))
        else:
            mean, variance = mean_, var_
        h = tf.nn.relu(tf.nn.batch_normalization(h, mean, variance, beta, gamma,
                                                 EPSILON))
    with v1.variable_scope("logits"):
        kernel = variable("kernel", [32, 10], v1.glorot_uniform_initializer(),
                          regularizer=compat_reg.l2_regularizer(0.01))
        return tf.matmul(h, kernel) + variable("bias", [10], zeros)


def model_fn(features, labels, mode, params):
    """The TF1 Estimator model_fn this test ports."""
    import tensorflow as tf
    v1 = tf.compat.v1
    logits = network(features["x"], mode == tf.estimator.ModeKeys.TRAIN,
                     params.get("init"))
    loss = (v1.losses.sparse_softmax_cross_entropy(labels, logits)
            + v1.losses.get_regularization_loss())
    with tf.control_dependencies(v1.get_collection(v1.GraphKeys.UPDATE_OPS)):
        train_op = v1.train.MomentumOptimizer(SPEC["lr"], SPEC["momentum"]).minimize(
            loss, global_step=v1.train.get_or_create_global_step())
    return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op)


def keras_port():
    from compat_reg import _compat
    keras = _compat.keras
    return keras.Sequential([
        keras.Input((64,)),
        keras.layers.Dense(32, name="hidden", use_bias=False,
                           kernel_regularizer=compat_reg.l2_regularizer(0.01)),
        keras.layers.BatchNormalization(momentum=DECAY, epsilon=EPSILON,
                                        name="batch_normalization"),
        keras.layers.ReLU(),
        keras.layers.Dense(10, name="logits",
                           kernel_regularizer=compat_reg.l2_regularizer(0.01)),
    ])


def _digits():
    return workloads.builtin("sgd_l2").data


@pytest.fixture(scope="module")
def report():
    require("tf2-keras")
    from compat_reg import _compat
    # Keras >= 2.7 seeds its own initializers; before, TF's global seed
    getattr(_compat.keras.utils, "set_random_seed", _compat.set_global_seed)(3)
    return compare_models(network, keras_port(), _digits(), SPEC, epochs=1)


def test_ported_model_fn_matches(report):
    assert report.ok, report.table() + "\n" + "\n".join(report.diagnoses)
    names = list(report.traces["tf1-graph"].final_weights)
    # batch norm's moving statistics are compared too, and they moved
    assert "batch_normalization/moving_variance" in names
    reference = report.traces["tf1-graph"]
    assert not np.allclose(reference.final_weights[
        "batch_normalization/moving_mean"], 0.0)
    for comparison in report.comparisons:
        assert comparison.weights <= comparison.weights_bound


def test_the_real_estimator_lands_on_the_harness_tf1_weights(report):
    """tf.estimator (TF <= 2.15) trains model_fn on the same batches from
    the same start: its weights are the harness's TF1 run's."""
    import tensorflow as tf
    if not hasattr(tf, "estimator") or not hasattr(tf.estimator, "Estimator"):
        pytest.skip("tf.estimator is gone from this TensorFlow (TF >= 2.16)")
    import tempfile
    data = _digits()
    reference = report.traces["tf1-graph"]
    order = batch_order(len(data.x_train), 32, 1, 0)
    rows = order[0].reshape(-1)
    init = report.initial

    def input_fn():
        return tf.data.Dataset.from_tensor_slices(
            ({"x": data.x_train[rows]}, data.y_train[rows])).batch(32)

    with tempfile.TemporaryDirectory() as folder:
        estimator = tf.estimator.Estimator(
            model_fn, model_dir=folder, params={"init": init},
            config=tf.estimator.RunConfig(tf_random_seed=0))
        estimator.train(input_fn)
        for name, want in reference.final_weights.items():
            got = estimator.get_variable_value(name)
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6,
                                       err_msg=name)
