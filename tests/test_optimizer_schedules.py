"""Learning-rate schedules in an optimizer spec, against TF1 itself.

The reference is TF1 code run on this TensorFlow: ``tf.compat.v1.train``'s
schedule function on ``global_step`` and ``minimize(loss,
global_step=global_step)`` in a ``tf.Graph`` / ``tf.compat.v1.Session``
(on the tf1 env: real TF 1.15). Step-by-step learning rates are checked
against plain arithmetic on the schedule's definition.

Measured (TF 2.21 CPU, Keras 3 and tf_keras alike; Keras 2.15; TF 2.10):
compat_reg's optimizers under each schedule gave per-step losses and final
weights equal to the TF1 Session's (difference 0.0), in a ``tf.function``
loop, eagerly and in ``fit``. The straight port of momentum under
``piecewise_constant([10], [0.1, 0.001])`` (Keras
``SGD(PiecewiseConstantDecay(...), momentum=0.9)``) ends 20 steps 0.43
relative away on the per-step loss and 0.65 on a variable's weights
(relative L2 norm), against 1.0e-7 / 1.8e-7 at a constant rate.
"""

import inspect

import numpy as np
import pytest
import tensorflow as tf

from compat_reg import _compat, convention, optimizers
from compat_reg.parity import trace
from optimizer_support import Problem, max_abs, max_rel

keras = _compat.keras
v1 = _compat.v1

needs_eager = pytest.mark.skipif(_compat.TF1, reason="TF 1.15: graph mode only")
needs_keras_optimizer_api = pytest.mark.skipif(
    not _compat.KERAS_OPTIMIZER_API,
    reason="compat_reg's Keras optimizers (Keras >= 2.11); here get() returns "
           "tf.compat.v1.train's classes")
legacy_only = pytest.mark.skipif(
    _compat.KERAS_OPTIMIZER_API or _compat.TF1,
    reason="TF 2.0-2.10: get() returns tf.compat.v1.train's classes")
needs_callable_rate = pytest.mark.skipif(
    not _compat.OPTIMIZER_CALLABLE_RATE,
    reason="TF 1.4 - 1.9: optimizers take no callable rate (get() with a "
           "schedule raises; test_tf1_releases.py)")

SCHEDULES = {
    "exponential_decay": {"kind": "exponential_decay", "decay_steps": 7,
                          "decay_rate": 0.93},
    "exponential_staircase": {"kind": "exponential_decay", "decay_steps": 7,
                              "decay_rate": 0.5, "staircase": True},
    "piecewise_constant": {"kind": "piecewise_constant", "boundaries": [10, 25],
                           "values": [0.1, 0.01, 0.001]},
    "polynomial_decay": {"kind": "polynomial_decay", "decay_steps": 13,
                         "end_learning_rate": 0.001, "power": 0.7},
    "polynomial_cycle": {"kind": "polynomial_decay", "decay_steps": 13,
                         "end_learning_rate": 0.001, "power": 2.3,
                         "cycle": True},
}
SPECS = {
    "momentum": {"optimizer": "momentum", "lr": 0.1, "momentum": 0.9},
    "adam": {"optimizer": "adam", "lr": 0.01},
}

# The shared MLP on random data (tests/optimizer_support.py), 40 batches.
STEPS = 40
PROBLEM = Problem(seed=0, bias_scale=0.1, steps=STEPS)


def _spec(optimizer, schedule):
    spec = dict(SPECS[optimizer], schedule=SCHEDULES[schedule])
    if SCHEDULES[schedule]["kind"] == "piecewise_constant":
        del spec["lr"]  # the schedule's values[0]
    return spec


def train_tf1(spec, steps=STEPS, exact=False):
    """TF1: get_variable, minimize(global_step=...), Session.

    ``exact=True`` trains ``optimizers.get(spec)`` in the graph instead,
    ``minimize`` given no global_step (its own step counter)."""
    def minimize(loss, _):
        if exact:
            return optimizers.get(spec).minimize(loss)
        global_step = v1.train.get_or_create_global_step()
        return optimizers.tf1(spec, global_step=global_step).minimize(
            loss, global_step=global_step)

    return PROBLEM.train_graph(minimize, steps)


_REFERENCES = {}


def reference(spec_key, steps=STEPS):
    if spec_key not in _REFERENCES:
        _REFERENCES[spec_key] = train_tf1(_spec(*spec_key), steps)
    return _REFERENCES[spec_key]


def _session_rates(kind, arguments, steps):
    """TF1's schedule function on global_step = 0 .. steps-1, in a Session."""
    with tf.Graph().as_default():
        step = v1.placeholder(tf.int64, [])
        function = getattr(v1.train, convention.SCHEDULE[kind].tf1_function)
        args = dict(arguments)
        args[convention.SCHEDULE[kind].step_arg] = step
        rate = function(**args)
        with v1.Session() as sess:
            return np.array([sess.run(rate, {step: i}) for i in range(steps)])


def _tf1_arguments(name, lr=0.1):
    spec = {"lr": lr, "schedule": SCHEDULES[name]}
    return convention.schedule_arguments(spec)[1]


# -- the table -----------------------------------------------------------------

def _signature(function):
    return inspect.signature(function).parameters


@pytest.mark.parametrize("entry", convention.SCHEDULES, ids=lambda e: e.kind)
def test_table_is_tf1s_functions_and_keras_classes(entry):
    tf1 = _signature(getattr(v1.train, entry.tf1_function))
    assert entry.step_arg in tf1
    wanted = set(entry.required) | set(entry.defaults)
    if entry.takes_lr:
        wanted.add("learning_rate")
    assert set(tf1) - {entry.step_arg, "name"} == wanted
    for key in entry.required:
        assert tf1[key].default is inspect.Parameter.empty, key
    for key, default in entry.defaults.items():
        assert tf1[key].default == default, key
    # Keras' class: the same arguments under the table's names, TF1's defaults
    if not _compat.KERAS_TF2_API:
        pytest.skip("TF1's half checked; this tf.keras has no schedules (TF >= 1.14)")
    ours = _signature(getattr(keras.optimizers.schedules, entry.keras_class).__init__)
    assert set(entry.keras_args) == wanted
    for key, keras_key in entry.keras_args.items():
        assert keras_key in ours, keras_key
        if key in entry.defaults:
            assert ours[keras_key].default == entry.defaults[key], key


# -- spec validation -------------------------------------------------------

@pytest.mark.parametrize("schedule,message", [
    ("exponential", "'schedule' must be a dict"),
    ({"decay_steps": 10}, "unknown schedule kind None"),
    ({"kind": "cosine_decay"}, "unknown schedule kind 'cosine_decay'"),
    ({"kind": "exponential_decay", "decay_steps": 10}, "is missing 'decay_rate'"),
    ({"kind": "exponential_decay", "decay_steps": 10, "decay_rate": 0.5,
      "decay": 0.1}, "has no 'decay'"),
    ({"kind": "exponential_decay", "decay_steps": 0, "decay_rate": 0.5},
     "'decay_steps' must be a positive integer, got 0"),
    ({"kind": "exponential_decay", "decay_steps": 2.5, "decay_rate": 0.5},
     "'decay_steps' must be a positive integer"),
    ({"kind": "exponential_decay", "decay_steps": 10, "decay_rate": -0.5},
     "'decay_rate' must be positive"),
    ({"kind": "exponential_decay", "decay_steps": 10, "decay_rate": 0.5,
      "staircase": "yes"}, "'staircase' must be True or False"),
    ({"kind": "polynomial_decay", "decay_steps": 10, "power": float("nan")},
     "'power' must be a finite number"),
    ({"kind": "polynomial_decay", "decay_steps": 10, "cycle": 1},
     "'cycle' must be True or False"),
    ({"kind": "piecewise_constant", "boundaries": [10], "values": [0.1]},
     "needs one value more than boundaries"),
    ({"kind": "piecewise_constant", "boundaries": [10, 5],
      "values": [0.1, 0.01, 0.001]}, "must increase strictly"),
    ({"kind": "piecewise_constant", "boundaries": [10.0], "values": [0.1, 0.01]},
     "list of integer steps"),
    ({"kind": "piecewise_constant", "boundaries": [10], "values": [0.1, "x"]},
     "list of finite learning rates"),
])
def test_bad_schedules_are_value_errors(schedule, message):
    spec = {"optimizer": "momentum", "lr": 0.1, "momentum": 0.9,
            "schedule": schedule}
    for build in (optimizers.get, optimizers.tf1, optimizers.keras_native):
        with pytest.raises(ValueError, match=message):
            build(spec)


def test_piecewise_lr_is_values0_omitted_or_equal():
    """Chosen: ``lr`` may be left out (it is ``values[0]``); if given it must
    equal ``values[0]``, or the spec says two things."""
    schedule = SCHEDULES["piecewise_constant"]
    for lr in (None, 0.1):
        spec = {"optimizer": "sgd", "lr": lr, "schedule": schedule}
        assert convention.tf1_arguments(spec)[1]["learning_rate"] == 0.1
        assert trace.spec_hparams(spec)["lr"] == 0.1
    with pytest.raises(ValueError, match=r"starts at values\[0\] = 0.1, but "
                                         r"the spec's lr is 0.5"):
        optimizers.get({"optimizer": "sgd", "lr": 0.5, "schedule": schedule})
    # the other kinds decay the spec's lr and need it
    with pytest.raises(ValueError, match="decays the spec's 'lr', which is "
                                         "missing"):
        optimizers.get({"optimizer": "sgd", "schedule": SCHEDULES[
            "exponential_decay"]})


# -- the rates, step by step -------------------------------------------------

@needs_eager
@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_tf1_schedule_is_the_sessions_rate_eagerly_and_in_a_function(name):
    kind = SCHEDULES[name]["kind"]
    arguments = _tf1_arguments(name)
    want = _session_rates(kind, arguments, 60)
    schedule = optimizers.TF1Schedule(kind, **arguments)
    steps = [tf.constant(i, tf.int64) for i in range(60)]
    eager = np.array([schedule(s).numpy() for s in steps])
    function = tf.function(schedule.__call__)
    traced = np.array([function(s).numpy() for s in steps])
    np.testing.assert_array_equal(eager, want)
    np.testing.assert_array_equal(traced, want)
    assert len(set(want.tolist())) > 1  # the rate does change


@needs_eager
@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_keras_schedules_equal_tf1_in_a_graph_not_always_eagerly(name):
    """Why compat_reg has its own schedule class: Keras' (and TF1's own
    function) run eagerly skip grappler, whose constant folding turns
    ``step / decay_steps`` into ``step * (1 / decay_steps)`` in a Session or
    ``tf.function``. Measured (TF 2.21, Keras 3 and tf_keras; Keras 2.15):
    equal in a ``tf.function``; eagerly exponential_decay differs at 10 of 60
    steps (up to 2 float32 ulps, 1.3e-7 relative), polynomial_decay (power
    0.7, decay_steps 13) at 2 (up to 5 ulps, 5.3e-7 relative, near
    decay_steps where ``1 - step / decay_steps`` is small). Same on TF 2.10."""
    entry = convention.SCHEDULE[SCHEDULES[name]["kind"]]
    arguments = _tf1_arguments(name)
    want = _session_rates(entry.kind, arguments, 60)
    schedule = getattr(keras.optimizers.schedules, entry.keras_class)(**dict(
        (entry.keras_args[k], v) for k, v in arguments.items()))
    steps = [tf.constant(i, tf.int64) for i in range(60)]
    function = tf.function(schedule.__call__)
    np.testing.assert_array_equal([function(s).numpy() for s in steps], want)
    eager = np.array([np.asarray(schedule(s)) for s in steps], np.float32)
    assert max_rel(eager, want) <= 1e-6
    if name in ("exponential_decay", "polynomial_decay"):
        assert np.sum(eager != want) >= 1


@pytest.mark.parametrize("backend", ["tf1", "exact", "keras"])
def test_piecewise_boundary_step_keeps_the_first_value(backend):
    """At step == boundary both TF1's piecewise_constant and Keras'
    PiecewiseConstantDecay give values[0] (``step <= boundary``): with
    ``boundaries=[3]`` the first 4 updates use values[0], the 5th on
    values[1]. TF1 reads global_step before ``minimize`` increments it; a
    Keras optimizer reads ``iterations`` before it increments. Gradient 1, so
    the variable is minus the sum of the rates used, exactly: 4 * 0.5 +
    2 * 0.25."""
    if backend != "tf1" and _compat.TF1:
        pytest.skip("TF 1.15: graph mode only")
    spec = {"optimizer": "sgd", "schedule": {
        "kind": "piecewise_constant", "boundaries": [3], "values": [0.5, 0.25]}}
    want = -(4 * 0.5 + 2 * 0.25)
    if backend == "tf1":
        with tf.Graph().as_default():
            var = v1.get_variable("w", initializer=0.0)
            global_step = v1.train.get_or_create_global_step()
            train = optimizers.tf1(spec, global_step).minimize(
                var, global_step=global_step)
            with v1.Session() as sess:
                sess.run(v1.global_variables_initializer())
                after = []
                for _ in range(6):
                    sess.run(train)
                    after.append(sess.run(var))
    else:
        build = optimizers.get if backend == "exact" else optimizers.keras_native
        opt = build(spec)
        var = tf.Variable(0.0)
        after = []
        for _ in range(6):
            opt.apply_gradients([(tf.constant(1.0), var)])
            after.append(float(var.numpy()))
    np.testing.assert_array_equal(after, np.cumsum([0.5] * 4 + [0.25] * 2) * -1)
    assert after[-1] == want


# -- training runs against the TF1 Session ----------------------------------

CASES = [(o, s) for o in sorted(SPECS) for s in sorted(SCHEDULES)]


@needs_eager
@pytest.mark.parametrize("case", CASES, ids="-".join)
def test_custom_loop_equals_tf1_session(case):
    want_losses, want_weights = reference(case)
    losses, weights = PROBLEM.train_loop(optimizers.get(_spec(*case)))
    np.testing.assert_array_equal(losses, want_losses)
    assert max_abs(weights, want_weights) == 0.0
    # and differs from the constant-rate run by far more than float noise
    constant, _ = PROBLEM.train_loop(optimizers.get(SPECS[case[0]]))
    assert max_rel(constant, want_losses) > 1e-4


@needs_eager
@pytest.mark.parametrize("case", [("momentum", "exponential_decay"),
                                  ("adam", "piecewise_constant"),
                                  ("momentum", "polynomial_cycle")], ids="-".join)
def test_eager_loop_and_fit_equal_tf1_session(case):
    """No tf.function (the schedule still runs as a graph), and ``fit``
    (TF 2.0-2.10: Keras' TFOptimizer passes its iterations as global_step)."""
    want_losses, want_weights = reference(case)
    losses, weights = PROBLEM.train_loop(optimizers.get(_spec(*case)), function=False)
    np.testing.assert_array_equal(losses, want_losses)
    assert max_abs(weights, want_weights) == 0.0
    assert max_abs(PROBLEM.train_fit(optimizers.get(_spec(*case))), want_weights) == 0.0


@pytest.mark.skipif(_compat.KERAS_OPTIMIZER_API,
                    reason="get() is a Keras optimizer here (no minimize)")
@needs_callable_rate
def test_get_in_a_tf1_graph_counts_its_own_steps():
    """``get(spec).minimize(loss)`` with no global_step (TF 1.15, graph mode
    on TF2): the optimizer's own step counter, same rates as TF1's
    ``minimize(global_step=...)``."""
    for case in [("momentum", "piecewise_constant"), ("adam", "polynomial_decay")]:
        want_losses, want_weights = reference(case)
        losses, weights = train_tf1(_spec(*case), exact=True)
        np.testing.assert_array_equal(losses, want_losses)
        assert max_abs(weights, want_weights) == 0.0


@legacy_only
def test_without_the_keras_optimizer_api_get_is_tf1s_class_with_the_schedule():
    opt = optimizers.get(_spec("adam", "exponential_decay"))
    assert isinstance(opt, v1.train.AdamOptimizer)
    # a global_step passed to apply_gradients is the schedule's step
    var, step = tf.Variable([1.0]), tf.Variable(0, dtype=tf.int64)
    sgd = optimizers.get({"optimizer": "sgd", "schedule": {
        "kind": "piecewise_constant", "boundaries": [0], "values": [1.0, 0.5]}})
    sgd.apply_gradients([(tf.constant([1.0]), var)], global_step=step)
    sgd.apply_gradients([(tf.constant([1.0]), var)], global_step=step)
    assert var.numpy().tolist() == [1.0 - 1.0 - 0.5] and int(step.numpy()) == 2


# -- the straight port: native Keras momentum under a schedule -----------------

@needs_eager
def test_native_keras_momentum_under_a_rate_drop_is_caught():
    """Keras' SGD(momentum) keeps ``m = momentum * m - lr * g`` (the rate
    folded in), TF1's ``accum = momentum * accum + g`` (``var -= lr *
    accum``): at a constant rate the two agree to float rounding (measured
    1.0e-7 relative on the losses, 1.8e-7 on the weights), but when the rate
    drops from 0.1 to 0.001 TF1's accumulated momentum is applied at the new
    rate at once, Keras' keeps moving at the old one. Measured over 20 steps
    (TF 2.10, 2.15, 2.21 with Keras 3 and tf_keras alike): losses 0.43
    relative apart, weights 0.42 apart (absolute; 0.65 in relative L2 norm
    of a variable); compat_reg's Momentum 0.0. The bounds below sit 4x under
    the gap and 5x over the constant-rate noise."""
    steps = 20
    drop = {"optimizer": "momentum", "momentum": 0.9, "schedule": {
        "kind": "piecewise_constant", "boundaries": [10], "values": [0.1, 0.001]}}
    constant = {"optimizer": "momentum", "lr": 0.1, "momentum": 0.9}
    for spec, native_bound in ((drop, None), (constant, 1e-6)):
        want_losses, want_weights = train_tf1(spec, steps)
        losses, weights = PROBLEM.train_loop(optimizers.get(spec), steps)
        assert max_rel(losses, want_losses) == 0.0
        assert max_abs(weights, want_weights) == 0.0
        native = optimizers.keras_native(
            spec, wrong="momentum-schedule" if "schedule" in spec else None)
        assert type(native) is keras.optimizers.SGD and native.momentum == 0.9
        n_losses, n_weights = PROBLEM.train_loop(native, steps)
        if native_bound is None:
            assert max_rel(n_losses, want_losses) > 0.1
            assert max_abs(n_weights, want_weights) > 0.1
            # identical until the rate drops
            assert max_rel(n_losses[:11], want_losses[:11]) <= 1e-6
        else:
            assert max_rel(n_losses, want_losses) <= native_bound
            assert max_abs(n_weights, want_weights) <= native_bound


def test_wrong_port_names_are_checked():
    plain = {"optimizer": "momentum", "lr": 0.1, "momentum": 0.9}
    with pytest.raises(ValueError, match="needs a 'momentum' or 'momentumw' "
                                         "spec with a 'schedule'"):
        optimizers.keras_native(plain, wrong="momentum-schedule")
    with pytest.raises(ValueError, match="unknown wrong port 'typo'"):
        optimizers.keras_native(plain, wrong="typo")


# -- serialization, traces ----------------------------------------------------

@needs_keras_optimizer_api
def test_schedule_survives_the_optimizers_config():
    opt = optimizers.get(_spec("momentum", "polynomial_cycle"))
    restored = keras.optimizers.deserialize(keras.optimizers.serialize(opt))
    assert type(restored) is optimizers.Momentum
    assert isinstance(restored._learning_rate, optimizers.TF1Schedule)
    assert restored._learning_rate.get_config() == opt._learning_rate.get_config()
    losses, _ = PROBLEM.train_loop(restored)
    np.testing.assert_array_equal(losses, reference(("momentum",
                                                     "polynomial_cycle"))[0])


def test_traces_record_the_schedule_read_back_from_the_optimizer():
    spec = _spec("momentum", "exponential_staircase")
    want = {"kind": "exponential_decay", "decay_steps": 7, "decay_rate": 0.5,
            "staircase": True}
    built = []
    with tf.Graph().as_default():
        built.append(optimizers.tf1(spec))
    if not _compat.TF1:
        built += [optimizers.get(spec), optimizers.keras_native(spec)]
    for opt in built:
        hparams = trace.optimizer_hparams(opt, "momentum")
        assert hparams["schedule"] == want, type(opt)
        assert hparams["lr"] == pytest.approx(0.1, rel=1e-7)
        assert hparams["momentum"] == pytest.approx(0.9, rel=1e-7)
    # without a schedule the record is what it always was
    with tf.Graph().as_default():
        plain = trace.optimizer_hparams(optimizers.tf1(SPECS["momentum"]),
                                        "momentum")
    assert list(plain) == ["kind", "class", "lr", "momentum"]


@needs_callable_rate
@pytest.mark.parametrize("case", CASES, ids="-".join)
def test_get_checks_the_schedule_once(case, monkeypatch):
    """``get`` parses the spec once (its schedule's arguments included) and
    hands the parsed form down: the schedule it makes is not checked again,
    and is the one a user's ``TF1Schedule(kind, **arguments)`` is."""
    calls = []
    check = convention.schedule_arguments
    monkeypatch.setattr(convention, "schedule_arguments",
                        lambda *a, **k: calls.append(a) or check(*a, **k))
    optimizer = optimizers.get(_spec(*case))
    assert len(calls) == 1
    parsed = convention.parse_optimizer(_spec(*case))
    rate = getattr(optimizer, "_learning_rate", None)  # as in the test above
    if isinstance(rate, optimizers.TF1Schedule):
        again = optimizers.TF1Schedule(parsed.schedule.kind, **parsed.schedule_args)
        assert rate.get_config() == again.get_config()
        assert [float(rate(s)) for s in (0, 11, 30)] == [
            float(again(s)) for s in (0, 11, 30)]
