"""compat_reg.optimizers against TF's own TF1 path and against plain numpy.

The reference for whole training runs is TF1 code run on this TensorFlow:
``tf.compat.v1.get_variable`` + ``tf.compat.v1.train.*Optimizer.minimize`` in
a ``tf.Graph`` / ``tf.compat.v1.Session``. The single-step checks use TF1's
update formulas written out in float64 numpy.
"""

import inspect

import numpy as np
import pytest
import tensorflow as tf

from compat_reg import _compat, optimizers
from compat_reg.parity import tolerances, trace
from optimizer_support import BATCH, NO_XLA, Problem, ce, max_abs, max_rel

pytestmark = pytest.mark.skipif(_compat.TF1, reason="TF1's optimizers are the real ones there")

keras = _compat.keras
v1 = _compat.v1

# TF 2.0-2.10: compat_reg.optimizers are tf.compat.v1.train's classes; the
# tests of compat_reg's own Keras-API classes skip there.
needs_keras_optimizer_api = pytest.mark.skipif(
    not _compat.KERAS_OPTIMIZER_API,
    reason="the Keras optimizer API of TF >= 2.11 (build/update_step, "
           "get_config, Keras schedules): here the optimizers are "
           "tf.compat.v1.train's own classes")

# The shared MLP on random data (tests/optimizer_support.py), 60 batches.
STEPS = 60
PROBLEM = Problem(seed=0, bias_scale=0.1, steps=STEPS)
INIT, X, Y = PROBLEM.init, PROBLEM.x, PROBLEM.y

SPECS = {
    "sgd": {"optimizer": "sgd", "lr": 0.1},
    "momentum": {"optimizer": "momentum", "lr": 0.05, "momentum": 0.9},
    "adam": {"optimizer": "adam", "lr": 0.01, "epsilon": 1e-8},
}

# Measured on TF 2.21 / CPU / one thread, Keras 3 and tf_keras alike: the
# custom loop and model.fit gave per-step losses and final weights identical
# to the TF1 session (max difference 0.0, weights moved by 0.3 to 0.9), and
# fit's logged running-mean loss (a float32 Keras Mean) was within 2e-7
# relative. Native Keras Adam with its default epsilon (1e-7) was off by
# 1.8e-5 relative on losses and 1.8e-4 absolute on weights (with epsilon 1e-8:
# 1.9e-6 and 2.0e-6), so the bounds below separate the two by 10x or more.
LOSS_RTOL = tolerances.FLOAT32_UPDATE     # per-step losses of the custom loop
RUNNING_RTOL = 10 * tolerances.FLOAT32_UPDATE  # fit's running mean (float32 Mean)
WEIGHT_ATOL = tolerances.FLOAT32_UPDATE   # final weights
ATOL = tolerances.FLOAT32_UPDATE          # one or two updates against numpy


def train_tf1(spec, decay=None):
    """TF1 style: get_variable, minimize, Session. Returns (losses, weights).

    ``decay=(decay_steps, decay_rate)``: the learning rate is
    ``tf.compat.v1.train.exponential_decay(lr, global_step, ...)``.
    """
    def minimize(loss, _):
        global_step, tf1_spec = None, spec
        if decay:
            global_step = v1.train.get_or_create_global_step()
            tf1_spec = dict(spec, lr=v1.train.exponential_decay(
                spec["lr"], global_step, decay[0], decay[1]))
        return optimizers.tf1(tf1_spec).minimize(loss, global_step=global_step)

    return PROBLEM.train_graph(minimize)


class _RunningLoss(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.values = []

    def on_train_batch_end(self, batch, logs=None):
        self.values.append(float(logs["loss"]))


_REFERENCES = {}


def reference_cache(spec):
    key = spec["optimizer"]
    if key not in _REFERENCES:
        _REFERENCES[key] = train_tf1(spec)
    return _REFERENCES[key]


@pytest.fixture(params=sorted(SPECS))
def reference(request):
    spec = SPECS[request.param]
    return spec, reference_cache(spec)


def test_custom_loop_matches_tf1_session(reference):
    spec, (want_losses, want_weights) = reference
    losses, weights = PROBLEM.train_loop(optimizers.get(spec))
    assert max_rel(losses, want_losses) <= LOSS_RTOL
    assert max_abs(weights, want_weights) <= WEIGHT_ATOL
    # the run did train: weights moved far more than the tolerance
    assert max_abs(weights, INIT) > 100 * WEIGHT_ATOL


def test_fit_matches_tf1_session(reference):
    spec, (want_losses, want_weights) = reference
    recorder = _RunningLoss()  # the loss fit logs after each batch
    weights = PROBLEM.train_fit(optimizers.get(spec), callbacks=[recorder])
    logged = np.array(recorder.values)
    assert logged.shape == (STEPS,)
    if _compat.FIT_LOGS_RUNNING_MEAN:
        want_running = np.cumsum(want_losses.astype(np.float64)) / np.arange(1, STEPS + 1)
        assert max_rel(logged, want_running) <= RUNNING_RTOL
    else:  # TF 2.0 / 2.1: each batch's own loss
        assert max_rel(logged, want_losses) <= LOSS_RTOL
    assert max_abs(weights, want_weights) <= WEIGHT_ATOL


def test_native_keras_adam_misses_the_bound():
    """The comparison can fail: Keras' own Adam does not reproduce TF1."""
    spec = SPECS["adam"]
    want_losses, want_weights = reference_cache(spec)
    default_eps = keras.optimizers.Adam(learning_rate=spec["lr"])
    losses, weights = PROBLEM.train_loop(default_eps)
    assert max_abs(weights, want_weights) > 10 * WEIGHT_ATOL
    assert max_rel(losses, want_losses) > 10 * LOSS_RTOL


def test_fit_under_a_distribution_strategy():
    """One-device MirroredStrategy: beta powers are updated in a merge_call."""
    spec = SPECS["adam"]
    _, want_weights = reference_cache(spec)
    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    with strategy.scope():
        model = PROBLEM.model()
        opt = optimizers.get(spec)
        model.compile(optimizer=opt, loss=ce, **NO_XLA)
    model.fit(X, Y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
    assert max_abs(model.get_weights(), want_weights) <= WEIGHT_ATOL


@needs_keras_optimizer_api
def test_learning_rate_schedule_matches_tf1_exponential_decay():
    """Keras' ExponentialDecay on iterations == TF1's on global_step."""
    spec = SPECS["momentum"]
    want_losses, want_weights = train_tf1(spec, decay=(10, 0.5))
    schedule = keras.optimizers.schedules.ExponentialDecay(spec["lr"], 10, 0.5)
    losses, weights = PROBLEM.train_loop(optimizers.Momentum(schedule, spec["momentum"]))
    assert max_rel(losses, want_losses) <= LOSS_RTOL
    assert max_abs(weights, want_weights) <= WEIGHT_ATOL
    _, constant_lr_weights = reference_cache(spec)
    assert max_abs(weights, constant_lr_weights) > 100 * WEIGHT_ATOL


@needs_keras_optimizer_api
def test_checkpoint_restores_slots_and_beta_powers(tmp_path):
    """Stop after half the steps, restore into a new optimizer, finish: same
    weights as the uninterrupted TF1 run (fails if beta powers or m/v were
    not saved)."""
    spec = SPECS["adam"]
    _, want_weights = reference_cache(spec)
    half = STEPS // 2
    model, opt = PROBLEM.model(), optimizers.get(spec)
    PROBLEM.train_loop(opt, model=model, steps=range(half))
    path = tf.train.Checkpoint(model=model, optimizer=opt).save(str(tmp_path / "ckpt"))
    model2, opt2 = PROBLEM.model(), optimizers.get(spec)
    opt2.build(model2.trainable_variables)
    tf.train.Checkpoint(model=model2, optimizer=opt2).restore(path).assert_consumed()
    assert float(opt2.beta1_power.numpy()) == float(opt.beta1_power.numpy())
    _, weights = PROBLEM.train_loop(opt2, model=model2, steps=range(half, STEPS))
    assert max_abs(weights, want_weights) <= WEIGHT_ATOL


@needs_keras_optimizer_api
def test_adam_beta_powers_are_optimizer_variables():
    opt = optimizers.Adam(0.01)
    losses, _ = PROBLEM.train_loop(opt)
    assert len(losses) == STEPS
    names = [v.name for v in _compat.optimizer_variables(opt)]
    assert any("beta1_power" in n for n in names), names
    assert any("beta2_power" in n for n in names), names
    power = np.float32(0.9)
    for _ in range(STEPS):  # TF1's float32 accumulation, step by step
        power = np.float32(power * np.float32(0.9))
    assert float(opt.beta1_power.numpy()) == float(power)
    assert int(opt.iterations.numpy()) == STEPS


# -- one update, TF1's formulas in plain numpy ------------------------------

G1 = np.array([[0.5, -1.5], [2.0, 0.25]], np.float32)
G2 = np.array([[-0.3, 0.7], [1.1, -2.0]], np.float32)
W0 = np.array([[1.0, -2.0], [0.5, 3.0]], np.float32)


def _apply(opt, grads):
    var = tf.Variable(W0)
    for g in grads:
        opt.apply_gradients([(tf.constant(g), var)])
    return var.numpy()


def numpy_adam(w, grads, lr=0.01, beta1=0.9, beta2=0.999, epsilon=1e-8):
    w = w.astype(np.float64)
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    for t, g in enumerate(grads, 1):
        lr_t = lr * np.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        w = w - lr_t * m / (np.sqrt(v) + epsilon)
    return w


def numpy_momentum(w, grads, lr=0.1, momentum=0.9, use_nesterov=False):
    w = w.astype(np.float64)
    accum = np.zeros_like(w)
    for g in grads:
        accum = momentum * accum + g
        w = w - lr * (g + momentum * accum if use_nesterov else accum)
    return w


def test_adam_step_matches_numpy():
    got = _apply(optimizers.Adam(0.01), [G1, G2])
    np.testing.assert_allclose(got, numpy_adam(W0, [G1, G2]), rtol=0, atol=ATOL)
    got = _apply(optimizers.Adam(0.1, beta1=0.5, beta2=0.9, epsilon=0.1), [G1])
    want = numpy_adam(W0, [G1], lr=0.1, beta1=0.5, beta2=0.9, epsilon=0.1)
    np.testing.assert_allclose(got, want, rtol=0, atol=ATOL)


@pytest.mark.parametrize("use_nesterov", [False, True])
def test_momentum_step_matches_numpy(use_nesterov):
    got = _apply(optimizers.Momentum(0.1, 0.9, use_nesterov=use_nesterov), [G1, G2])
    want = numpy_momentum(W0, [G1, G2], use_nesterov=use_nesterov)
    np.testing.assert_allclose(got, want, rtol=0, atol=ATOL)


def test_gradient_descent_step_matches_numpy():
    got = _apply(optimizers.GradientDescent(0.1), [G1, G2])
    np.testing.assert_allclose(got, W0 - 0.1 * G1 - 0.1 * G2, rtol=0, atol=ATOL)


# -- sparse gradients (tf.gather) against TF1's sparse paths ----------------

TABLE = np.random.RandomState(3).randn(6, 3).astype(np.float32)
IDS = np.array([[0, 2, 2], [5, 0, 1], [2, 2, 3]], np.int32)  # repeats on purpose


def _gather_loss(table, ids):
    return tf.reduce_sum(tf.square(tf.gather(table, ids) - 1.0))


def _sparse_tf1(spec):
    with tf.Graph().as_default():
        ids = v1.placeholder(tf.int32, [None])
        table = v1.get_variable("table", initializer=tf.constant(TABLE))
        train_op = optimizers.tf1(spec).minimize(_gather_loss(table, ids))
        with v1.Session() as sess:
            sess.run(v1.global_variables_initializer())
            for row in IDS:
                sess.run(train_op, {ids: row})
            return sess.run(table)


@pytest.mark.parametrize("kind", sorted(SPECS))
def test_sparse_gradients_match_tf1(kind):
    spec = SPECS[kind]
    opt = optimizers.get(spec)
    table = tf.Variable(TABLE)

    @tf.function
    def step(ids):
        with tf.GradientTape() as tape:
            loss = _gather_loss(table, ids)
        grad = tape.gradient(loss, table)
        assert isinstance(grad, tf.IndexedSlices)
        opt.apply_gradients([(grad, table)])

    for row in IDS:
        step(tf.constant(row))
    np.testing.assert_allclose(table.numpy(), _sparse_tf1(spec), rtol=0, atol=ATOL)


# -- factory, config --------------------------------------------------------

@needs_keras_optimizer_api
def test_get_returns_the_right_classes():
    assert isinstance(optimizers.get(SPECS["sgd"]), optimizers.GradientDescent)
    momentum = optimizers.get(SPECS["momentum"])
    assert isinstance(momentum, optimizers.Momentum)
    assert momentum.momentum == 0.9 and not momentum.use_nesterov
    adam = optimizers.get({"optimizer": "adam", "lr": 0.002})
    assert isinstance(adam, optimizers.Adam)
    tf1 = _tf1_defaults(v1.train.AdamOptimizer)  # TF's own signature
    assert (adam.beta1, adam.beta2, adam.epsilon) == (
        tf1["beta1"], tf1["beta2"], tf1["epsilon"])
    assert isinstance(adam, _compat.moves.Optimizer)


@pytest.mark.skipif(_compat.KERAS_OPTIMIZER_API,
                    reason="here they are compat_reg's Keras optimizers")
def test_without_the_keras_optimizer_api_they_are_tf1s_classes():
    assert optimizers.GradientDescent is v1.train.GradientDescentOptimizer
    assert optimizers.Momentum is v1.train.MomentumOptimizer
    assert optimizers.Adam is v1.train.AdamOptimizer
    adam = optimizers.get({"optimizer": "adam", "lr": 0.002})
    assert type(adam) is v1.train.AdamOptimizer
    assert trace.optimizer_hparams(adam, "adam")["lr"] == 0.002
    # Keras accepts it: compile wraps it, fit trains with its updates
    model = PROBLEM.model()
    model.compile(optimizer=adam, loss=ce, **NO_XLA)
    assert model.optimizer is adam or model.optimizer.optimizer is adam


def _tf1_defaults(cls):
    return dict((name, p.default) for name, p in
                inspect.signature(cls.__init__).parameters.items())


@pytest.mark.parametrize("spec", list(SPECS.values()) + [
    {"optimizer": "adam", "lr": 0.5},
    {"optimizer": "momentum", "lr": 0.5, "momentum": 0.8, "use_nesterov": True}])
def test_tf1_factory_builds_tf1s_class_with_the_spec_and_tf1s_defaults(spec):
    opt = optimizers.tf1(spec)
    cls = type(opt)
    assert cls.__module__.startswith("tensorflow.") and cls.__name__ == {
        "sgd": "GradientDescentOptimizer", "momentum": "MomentumOptimizer",
        "adam": "AdamOptimizer"}[spec["optimizer"]]
    defaults = _tf1_defaults(cls)
    # what the parity traces record for it, read from the object
    ran = trace.optimizer_hparams(opt, spec["optimizer"])
    assert ran["lr"] == spec["lr"]
    for key in ("momentum", "beta1", "beta2", "epsilon"):
        if key in defaults:
            assert ran[key] == spec.get(key, defaults[key]), key
    if "use_nesterov" in defaults:
        assert opt._use_nesterov == spec.get("use_nesterov", defaults["use_nesterov"])


@pytest.mark.parametrize("spec,message", [
    ({"optimizer": "rmsprop", "lr": 0.1}, "unknown optimizer 'rmsprop'"),
    ({"lr": 0.1}, "no 'optimizer' key"),
    ({"optimizer": "sgd"}, "missing 'lr'"),
    ({"optimizer": "momentum", "lr": 0.1}, "missing 'momentum'"),
])
def test_get_rejects_bad_specs(spec, message):
    with pytest.raises(ValueError, match=message):
        optimizers.get(spec)
    with pytest.raises(ValueError, match=message):
        optimizers.keras_native(spec)


def test_keras_native():
    sgd = optimizers.keras_native(SPECS["sgd"])
    assert type(sgd) is keras.optimizers.SGD
    momentum = optimizers.keras_native(SPECS["momentum"])
    assert type(momentum) is keras.optimizers.SGD and momentum.momentum == 0.9
    adam = optimizers.keras_native({"optimizer": "adam", "lr": 0.01})
    # TF1's epsilon, not the Keras class's own default
    tf1_epsilon = _tf1_defaults(v1.train.AdamOptimizer)["epsilon"]
    keras_epsilon = _tf1_defaults(keras.optimizers.Adam)["epsilon"]
    assert keras_epsilon != tf1_epsilon
    assert type(adam) is keras.optimizers.Adam and adam.epsilon == tf1_epsilon
    assert optimizers.keras_native(dict(SPECS["adam"], epsilon=0.5)).epsilon == 0.5


def _tf1_arg_names(cls):
    names = list(inspect.signature(cls.__init__).parameters)[1:]
    return [n for n in names if n != "use_own_namescope_for_non_slot_vars"]


@needs_keras_optimizer_api
@pytest.mark.parametrize("ours,theirs,kwargs", [
    (optimizers.GradientDescent, v1.train.GradientDescentOptimizer,
     {"learning_rate": 0.25, "use_locking": True, "name": "gd"}),
    (optimizers.Momentum, v1.train.MomentumOptimizer,
     {"learning_rate": 0.25, "momentum": 0.5, "use_locking": False, "name": "mom",
      "use_nesterov": True}),
    (optimizers.Adam, v1.train.AdamOptimizer,
     {"learning_rate": 0.25, "beta1": 0.8, "beta2": 0.99, "epsilon": 1e-3,
      "use_locking": False, "name": "adam"}),
])
def test_config_round_trip_with_tf1_names(ours, theirs, kwargs):
    assert _tf1_arg_names(ours) == _tf1_arg_names(theirs)
    opt = ours(**kwargs)
    config = opt.get_config()
    assert config == kwargs
    assert sorted(config) == sorted(_tf1_arg_names(theirs))
    clone = ours.from_config(dict(config))
    assert type(clone) is ours and clone.get_config() == config
    restored = keras.optimizers.deserialize(keras.optimizers.serialize(opt))
    assert type(restored) is ours and restored.get_config() == config


@needs_keras_optimizer_api
def test_defaults_are_tf1s():
    for ours, theirs in [(optimizers.GradientDescent, v1.train.GradientDescentOptimizer),
                         (optimizers.Momentum, v1.train.MomentumOptimizer),
                         (optimizers.Adam, v1.train.AdamOptimizer)]:
        mine = inspect.signature(ours.__init__).parameters
        tf1 = inspect.signature(theirs.__init__).parameters
        for name in _tf1_arg_names(ours):
            assert mine[name].default == tf1[name].default, (ours, name)
