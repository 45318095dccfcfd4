"""contrib.opt's decoupled weight decay (AdamW, MomentumW) against TF1 itself.

The references: on the tf1 env, ``tf.contrib.opt.AdamWOptimizer`` and
``MomentumWOptimizer`` themselves (TF 1.15); on TF2, TF1 code run on this
TensorFlow in a ``tf.Graph`` / ``tf.compat.v1.Session`` with
``compat_reg.optimizers.tf1(spec)`` (the port of contrib's extension onto
``tf.compat.v1.train``'s optimizers, equal to contrib bit for bit on TF 1.15:
``test_port_equals_real_contrib``), and plain numpy for single updates.

Measured on this file's MLP (40 steps, weight_decay 0.005; TF 2.21 with
Keras 3 and tf_keras, Keras 2.15, the same digits): compat_reg's
``AdamW``/``MomentumW`` equal the TF1 Session bit for bit (0.0) in a
``tf.function`` loop, eagerly and in ``fit``, with ``decay_biases`` True or
False, under a schedule too. Distances below are relative L2 over all final
weights. Native Keras, mapped (``weight_decay / lr``, biases excluded as the
spec says): ``AdamW`` 1.6e-6 (Keras' Adam arithmetic), ``SGD(momentum,
weight_decay)`` 2.5e-7. The wrong ports: contrib's ``weight_decay`` given to
Keras unmapped decays ``lr`` times too little a step (AdamW, lr 0.01: 1.1% of
the decay's effect is left) and ends 0.22 off, about as far as no decay at
all (0.23); biases decayed against contrib's kernels-only list: 0.088
(AdamW) / 0.16 (momentum) off, ``exclude_from_weight_decay(var_names=
["bias"])`` bringing that back to 1.6e-6 / 2.3e-7. Under
``exponential_decay(10, 0.5)`` Keras scales its decay by the scheduled rate
(1/16 of it by step 40) while contrib's stays constant: the mapped native
AdamW ends 0.12-0.14 off (1.6e-6 at a constant rate), native momentum
0.41-0.56 (its momentum-schedule gap included). That is the bound of a native
port under a schedule: none worth having; use ``compat_reg.optimizers.get``.
"""

import inspect

import numpy as np
import pytest
import tensorflow as tf

from compat_reg import _compat, convention, optimizers
from compat_reg.parity import tolerances, trace
from optimizer_support import BATCH, NO_XLA, Problem, ce, max_abs

keras = _compat.keras
v1 = _compat.v1

needs_eager = pytest.mark.skipif(_compat.TF1, reason="TF 1.15: graph mode only")
needs_contrib = pytest.mark.skipif(
    _compat.contrib_opt_class("AdamWOptimizer") is None,
    reason="needs real tf.contrib.opt.AdamWOptimizer (TF 1.10 - 1.15)")
needs_keras_optimizer_api = pytest.mark.skipif(
    not _compat.KERAS_OPTIMIZER_API,
    reason="compat_reg's Keras optimizers (Keras >= 2.11); here get() returns "
           "the TF1 port")
needs_keras_weight_decay = pytest.mark.skipif(
    not _compat.KERAS_WEIGHT_DECAY, reason="this Keras has no weight_decay")

WD = 0.005
SPECS = {
    "adamw": {"optimizer": "adamw", "lr": 0.01, "weight_decay": WD},
    "adamw-kernels": {"optimizer": "adamw", "lr": 0.01, "weight_decay": WD,
                      "decay_biases": False},
    "momentumw": {"optimizer": "momentumw", "lr": 0.1, "momentum": 0.9,
                  "weight_decay": WD},
    "momentumw-kernels": {"optimizer": "momentumw", "lr": 0.1, "momentum": 0.9,
                          "weight_decay": WD, "decay_biases": False,
                          "use_nesterov": True},
}
SCHEDULE = {"kind": "exponential_decay", "decay_steps": 10, "decay_rate": 0.5}

# The shared MLP on random data (tests/optimizer_support.py), 40 batches.
STEPS = 40
PROBLEM = Problem(seed=1, bias_scale=0.5, steps=STEPS)
INIT, X, Y = PROBLEM.init, PROBLEM.x, PROBLEM.y


def train_tf1(make, steps=STEPS, minimize=False, decay_var_list=None):
    """TF1 style: ``make(global_step)`` is the optimizer; compute_gradients +
    apply_gradients(global_step=...) (or ``minimize``) in a Session."""
    def update(loss, w):
        global_step = v1.train.get_or_create_global_step()
        opt = make(global_step)
        kwargs = {} if decay_var_list is None else {
            "decay_var_list": [w[i] for i in decay_var_list]}
        if minimize:
            return opt.minimize(loss, global_step=global_step, **kwargs)
        return opt.apply_gradients(opt.compute_gradients(loss),
                                   global_step=global_step, **kwargs)

    return PROBLEM.train_graph(update, steps)


_REFERENCES = {}


def reference(name, schedule=False):
    key = (name, schedule)
    if key not in _REFERENCES:
        spec = _spec(name, schedule)
        _REFERENCES[key] = train_tf1(lambda step: optimizers.tf1(spec, step))
    return _REFERENCES[key]


def _spec(name, schedule=False):
    return dict(SPECS[name], schedule=SCHEDULE) if schedule else SPECS[name]


def _flat(weights):
    return np.concatenate([np.ravel(w) for w in weights])


def _rel(got, want):
    """Relative L2 distance over all weights."""
    return float(np.linalg.norm(_flat(got) - _flat(want)) /
                 np.linalg.norm(_flat(want)))


# -- the table and the classes' signatures -----------------------------------

def _params(cls):
    return [(name, p.default) for name, p in
            inspect.signature(cls.__init__).parameters.items()][1:]


def test_table_and_classes_are_contribs():
    """Arguments and defaults of contrib's classes (TF 1.15's, spelled out
    here where contrib is gone, and read from contrib itself on tf1), plus
    compat_reg's ``decay_biases``."""
    empty = inspect.Parameter.empty
    contrib = {
        "adamw": [("weight_decay", empty), ("learning_rate", 0.001),
                  ("beta1", 0.9), ("beta2", 0.999), ("epsilon", 1e-08),
                  ("use_locking", False), ("name", "AdamW")],
        "momentumw": [("weight_decay", empty), ("learning_rate", empty),
                      ("momentum", empty), ("use_locking", False),
                      ("name", "MomentumW"), ("use_nesterov", False)],
    }
    if _compat.contrib_opt_class("AdamWOptimizer") is not None:
        for kind in contrib:
            assert _params(_compat.contrib_opt_class(convention.OPTIMIZER[
                kind].tf1_class)) == contrib[kind]
    classes = {"adamw": [optimizers.AdamWOptimizer, optimizers.AdamW],
               "momentumw": [optimizers.MomentumWOptimizer, optimizers.MomentumW]}
    for kind, want in contrib.items():
        entry = convention.OPTIMIZER[kind]
        for name, default in want:
            key = "lr" if name == "learning_rate" else name
            if key in entry.defaults:
                assert entry.defaults[key] == default, key
        for cls in classes[kind]:
            assert _params(cls) == want + [("decay_biases", True)], cls
        assert convention.WEIGHT_DECAY[kind].base in convention.OPTIMIZER


@pytest.mark.parametrize("spec,error,message", [
    ({"optimizer": "adamw", "lr": 0.01}, ValueError, "missing 'weight_decay'"),
    ({"optimizer": "adamw", "lr": 0.01, "weight_decay": -1e-4}, ValueError,
     "weight_decay must be a finite number >= 0"),
    ({"optimizer": "adamw", "lr": 0.01, "weight_decay": float("nan")},
     ValueError, "weight_decay must be a finite number"),
    ({"optimizer": "adamw", "lr": 0.01, "weight_decay": "1e-4"}, ValueError,
     "weight_decay must be a finite number"),
    ({"optimizer": "momentumw", "lr": 0.01, "weight_decay": 1e-4}, ValueError,
     "missing 'momentum'"),
    ({"optimizer": "adamw", "lr": 0.01, "weight_decay": 1e-4,
      "decay_biases": "no"}, ValueError, "decay_biases must be True or False"),
    ({"optimizer": "adam", "lr": 0.01, "weight_decay": 1e-4}, ValueError,
     "'adam' has no weight decay: use 'adamw' for contrib's AdamWOptimizer"),
    ({"optimizer": "momentum", "lr": 0.01, "momentum": 0.9,
      "decay_biases": False}, ValueError,
     "'momentum' has no weight decay: use 'momentumw'"),
    ({"optimizer": "sgd", "lr": 0.01, "weight_decay": 1e-4}, ValueError,
     "'sgd' has no weight decay: contrib had none for it"),
])
def test_bad_specs(spec, error, message):
    for build in (optimizers.get, optimizers.tf1, optimizers.keras_native):
        with pytest.raises(error, match=message):
            build(spec)


# -- TF 1.15: the port is contrib ----------------------------------------------

@needs_contrib
@pytest.mark.parametrize("name", sorted(SPECS))
def test_port_equals_real_contrib(name):
    """compat_reg's AdamWOptimizer/MomentumWOptimizer (what tf1() gives on
    TF2) against tf.contrib.opt's (what tf1() gives here), both with the
    gradients-first ordering: 0.0 apart, losses and weights."""
    spec = SPECS[name]
    contrib_run = train_tf1(lambda step: optimizers.tf1(spec, step))
    assert type(optimizers.tf1(spec)).__mro__[2].__module__.startswith(
        "tensorflow.contrib.opt")
    parsed = convention.parse_optimizer(spec)
    port_class = {"adamw": optimizers.AdamWOptimizer,
                  "momentumw": optimizers.MomentumWOptimizer}[spec["optimizer"]]
    port_run = train_tf1(lambda step: port_class(
        decay_biases=parsed.decay_biases, **parsed.args))
    np.testing.assert_array_equal(port_run[0], contrib_run[0])
    assert max_abs(port_run[1], contrib_run[1]) == 0.0
    assert max_abs(contrib_run[1], INIT) > 0.1  # it trained
    # get() on TF 1.15 is the port; minimize() keeps its decay_biases too
    assert type(optimizers.get(spec)) is port_class
    get_run = train_tf1(lambda step: optimizers.get(spec), minimize=True)
    np.testing.assert_array_equal(get_run[0], contrib_run[0])
    assert max_abs(get_run[1], contrib_run[1]) == 0.0


def _sparse_run(make):
    table0 = np.random.RandomState(3).randn(6, 3).astype(np.float32)
    ids = np.array([[0, 2, 2], [5, 0, 1], [2, 2, 3]], np.int32)
    with tf.Graph().as_default():
        rows = v1.placeholder(tf.int32, [None])
        table = v1.get_variable("table", initializer=tf.constant(table0))
        loss = tf.reduce_sum(tf.square(tf.gather(table, rows) - 1.0))
        opt = make()
        train = opt.apply_gradients(opt.compute_gradients(loss, [table]))
        with v1.Session() as sess:
            sess.run(v1.global_variables_initializer())
            for row in ids:
                sess.run(train, {rows: row})
            return sess.run(table), table0, ids


@needs_contrib
@pytest.mark.skipif(not _compat.CONTRIB_WEIGHT_DECAY_SPARSE,
                    reason="TF 1.10's contrib weight-decay optimizers raise on "
                    "sparse gradients (fixed in TF 1.11; test_tf1_releases pins it)")
@pytest.mark.parametrize("kind", ["adamw", "momentumw"])
@pytest.mark.parametrize("resource", [False, True])
def test_port_equals_real_contrib_on_sparse_gradients(kind, resource):
    """tf.gather's IndexedSlices: contrib decays only the rows touched
    (scatter_add of -weight_decay * gather), ref and resource variables."""
    spec = dict(SPECS[kind], weight_decay=0.1)
    parsed = convention.parse_optimizer(spec)
    port_class = {"adamw": optimizers.AdamWOptimizer,
                  "momentumw": optimizers.MomentumWOptimizer}[kind]
    scope = v1.variable_scope("", use_resource=resource)
    with scope:
        contrib_table, table0, ids = _sparse_run(lambda: optimizers.tf1(spec))
    with scope:
        port_table, _, _ = _sparse_run(lambda: port_class(**parsed.args))
    np.testing.assert_array_equal(port_table, contrib_table)
    untouched = sorted(set(range(6)) - set(ids.ravel()))
    np.testing.assert_array_equal(contrib_table[untouched], table0[untouched])


def _ancestors(op):
    seen, stack = set(), [op]
    while stack:
        current = stack.pop()
        for parent in [t.op for t in current.inputs] + list(current.control_inputs):
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    return seen


def _decay_ops(graph):
    """The decay ops: assign_sub of a variable inside an ``update_*`` scope."""
    return [op for op in graph.get_operations()
            if op.type in ("AssignSub", "AssignSubVariableOp")
            and "/update_" in op.name]


@pytest.mark.parametrize("ordered", [False, True])
def test_the_decay_waits_on_the_gradients(ordered):
    """contrib's decay depends on nothing in the graph, so the Session may
    run it before the forward pass reads the variable (measured on TF 1.15
    with TF's default threads, a 5 -> 3 softmax layer, AdamW weight_decay
    0.05, 5 steps: 6 Sessions of the same graph ended up to 1.5e-3 apart on
    the kernel; with the order, 0.0). Which op runs first is not something
    a test can force, so this checks the graph: compat_reg's
    tf1() (contrib's classes on TF 1.15, the port elsewhere) runs the decay
    after every gradient."""
    spec = dict(SPECS["adamw"])
    with tf.Graph().as_default() as graph:
        _, _, w, loss = PROBLEM.graph_mlp()
        if ordered:
            opt = optimizers.tf1(spec)
        elif _compat.contrib_opt_class("AdamWOptimizer") is not None:
            opt = _compat.contrib_opt_class("AdamWOptimizer")(WD, 0.01)
        else:  # the extension as contrib had it, without compat_reg's order
            opt = type("RawAdamW", (optimizers.DecoupledWeightDecayExtension,
                                    v1.train.AdamOptimizer), {})(WD, learning_rate=0.01)
        grads = opt.compute_gradients(loss)
        opt.apply_gradients(grads)
        decays = _decay_ops(graph)
        assert len(decays) == len(w)
        gradient_ops = set(g.op for g, _ in grads)
        for op in decays:
            assert bool(gradient_ops & _ancestors(op)) is ordered, op.name


@needs_contrib
def test_contribs_minimize_drops_decay_var_list():
    """A contrib bug kept by the port and fixed by tf1()'s classes: TF1's
    ``Optimizer.minimize`` calls ``apply_gradients`` without
    ``decay_var_list``, which contrib then resets to "every variable"."""
    contrib_adamw = _compat.contrib_opt_class("AdamWOptimizer")
    raw_port = type("RawAdamW", (optimizers.DecoupledWeightDecayExtension,
                                 v1.train.AdamOptimizer), {})
    for make, decays_bias in [
            (lambda: contrib_adamw(WD, 0.01), True),
            (lambda: raw_port(WD, learning_rate=0.01), True),
            (lambda: optimizers.tf1(SPECS["adamw"]), False),
            (lambda: optimizers.AdamWOptimizer(WD, 0.01), False)]:
        with tf.Graph().as_default() as graph:
            _, _, w, loss = PROBLEM.graph_mlp()
            make().minimize(loss, decay_var_list=[w[0], w[2]])
            decayed = [op.name for op in _decay_ops(graph)]
            assert any("bias" in n for n in decayed) is decays_bias, decayed
            assert sum("kernel" in n for n in decayed) == 2


# -- the Keras optimizers against the TF1 Session ----------------------------

@needs_eager
@pytest.mark.parametrize("name", sorted(SPECS))
def test_custom_loop_equals_tf1_session(name):
    want_losses, want_weights = reference(name)
    losses, weights = PROBLEM.train_loop(optimizers.get(SPECS[name]))
    np.testing.assert_array_equal(losses, want_losses)
    assert max_abs(weights, want_weights) == 0.0
    # the decay matters: without it the run ends far from the reference
    plain = dict(SPECS[name], optimizer=SPECS[name]["optimizer"][:-1])
    del plain["weight_decay"]
    plain.pop("decay_biases", None)
    _, undecayed = PROBLEM.train_loop(optimizers.get(plain))
    assert _rel(undecayed, want_weights) > 0.1


@needs_eager
@pytest.mark.parametrize("name", ["adamw-kernels", "momentumw"])
def test_eager_fit_and_schedule_equal_tf1_session(name):
    want_losses, want_weights = reference(name)
    losses, weights = PROBLEM.train_loop(optimizers.get(SPECS[name]), function=False)
    np.testing.assert_array_equal(losses, want_losses)
    assert max_abs(weights, want_weights) == 0.0
    assert max_abs(PROBLEM.train_fit(optimizers.get(SPECS[name])), want_weights) == 0.0
    # under a schedule: contrib's decay stays constant, the rate decays
    want_losses, want_weights = reference(name, schedule=True)
    losses, weights = PROBLEM.train_loop(optimizers.get(_spec(name, schedule=True)))
    np.testing.assert_array_equal(losses, want_losses)
    assert max_abs(weights, want_weights) == 0.0


@needs_eager
@pytest.mark.parametrize("kind", ["adamw", "momentumw"])
def test_sparse_gradients_equal_tf1(kind):
    spec = dict(SPECS[kind], weight_decay=0.1)
    want, table0, ids = _sparse_run(lambda: optimizers.tf1(spec))
    opt = optimizers.get(spec)
    table = tf.Variable(table0)

    @tf.function
    def step(rows):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.square(tf.gather(table, rows) - 1.0))
        grad = tape.gradient(loss, table)
        assert isinstance(grad, tf.IndexedSlices)
        opt.apply_gradients([(grad, table)])

    for row in ids:
        step(tf.constant(row))
    if _compat.KERAS_OPTIMIZER_API:
        np.testing.assert_array_equal(table.numpy(), want)
    else:
        # TF 2.0-2.10: get() is the tf.compat.v1 port itself, here run in a
        # tf.function against the Session's graph, whose grappler rewrites
        # sparse Adam's arithmetic: 1 ulp in 1 of 18 values on tf25
        # (1.5e-7 relative), within the float32 update bound
        np.testing.assert_allclose(table.numpy(), want,
                                   rtol=tolerances.FLOAT32_UPDATE, atol=0)


@needs_eager
def test_one_step_against_numpy():
    """var -= wd * var, then TF1's momentum update with the gradient taken
    before the decay; biases kept out with decay_biases=False."""
    kernel = tf.Variable([[1.0, -2.0]], name="layer/kernel")
    bias = tf.Variable([0.5], name="layer/bias")
    grads = [np.array([[0.25, 0.5]], np.float32), np.array([1.0], np.float32)]
    opt = optimizers.get({"optimizer": "momentumw", "lr": 0.5, "momentum": 0.9,
                          "weight_decay": 0.1, "decay_biases": False})
    for _ in range(2):
        opt.apply_gradients([(tf.constant(grads[0]), kernel),
                             (tf.constant(grads[1]), bias)])
    k, b = np.array([[1.0, -2.0]]), np.array([0.5])
    acc_k, acc_b = 0.0, 0.0
    for _ in range(2):
        k = k - 0.1 * k
        acc_k, acc_b = 0.9 * acc_k + grads[0], 0.9 * acc_b + grads[1]
        k, b = k - 0.5 * acc_k, b - 0.5 * acc_b
    np.testing.assert_allclose(kernel.numpy(), k, rtol=0, atol=1e-6)
    np.testing.assert_allclose(bias.numpy(), b, rtol=0, atol=1e-6)


@pytest.mark.skipif(_compat.KERAS_OPTIMIZER_API or _compat.TF1,
                    reason="TF 2.0-2.10: get() is the TF1 port")
def test_without_the_keras_optimizer_api_get_is_the_tf1_port():
    assert optimizers.AdamW is optimizers.AdamWOptimizer
    opt = optimizers.get(SPECS["adamw-kernels"])
    assert isinstance(opt, v1.train.AdamOptimizer) and not opt.decay_biases
    with pytest.raises(NotImplementedError, match="no decoupled weight decay"):
        optimizers.keras_native(SPECS["adamw"])


# -- config ------------------------------------------------------------------

@needs_keras_optimizer_api
@pytest.mark.parametrize("cls,kwargs", [
    (optimizers.AdamW, {"weight_decay": 1e-4, "learning_rate": 0.25,
                        "beta1": 0.8, "beta2": 0.99, "epsilon": 1e-3,
                        "use_locking": False, "name": "adamw",
                        "decay_biases": False}),
    (optimizers.MomentumW, {"weight_decay": 1e-4, "learning_rate": 0.25,
                            "momentum": 0.5, "use_locking": False,
                            "name": "momw", "use_nesterov": True,
                            "decay_biases": True}),
])
def test_config_round_trip(cls, kwargs):
    opt = cls(**kwargs)
    assert opt.get_config() == kwargs
    restored = keras.optimizers.deserialize(keras.optimizers.serialize(opt))
    assert type(restored) is cls and restored.get_config() == kwargs


# -- native Keras: the mapped port and the wrong ones -------------------------

@needs_eager
@needs_keras_weight_decay
@pytest.mark.parametrize("name,bound", [("adamw", 1e-5), ("adamw-kernels", 1e-5),
                                        ("momentumw", 1e-6),
                                        ("momentumw-kernels", 1e-6)])
def test_native_mapped_port_is_close_and_wrong_ports_are_caught(name, bound):
    """Mapped (``weight_decay / lr``, biases excluded as the spec says):
    measured 1.6e-6 (AdamW: Keras' Adam arithmetic) and 2.5e-7 (momentum)
    relative; the bounds are ~6x and ~4x that. The wrong ports are 0.088 to
    0.22 off (module docstring)."""
    spec = SPECS[name]
    _, want = reference(name)
    native = optimizers.keras_native(spec)
    wanted_class = (_compat.keras_adamw() if spec["optimizer"] == "adamw"
                    else keras.optimizers.SGD)
    assert type(native) is wanted_class
    assert native.weight_decay == pytest.approx(WD / spec["lr"], rel=1e-7)
    _, weights = PROBLEM.train_loop(native)
    assert _rel(weights, want) <= bound
    # contrib's weight_decay given unmapped: Keras decays by wd * lr a step
    _, unmapped = PROBLEM.train_loop(optimizers.keras_native(spec, wrong="wd-no-lr-mapping"))
    assert _rel(unmapped, want) > 0.1
    if spec.get("decay_biases") is False:
        # biases decayed too: measured 0.088 (AdamW), 0.16 (momentum)
        _, on_biases = PROBLEM.train_loop(optimizers.keras_native(spec, wrong="wd-on-biases"))
        assert _rel(on_biases, want) > 100 * bound
    else:
        with pytest.raises(ValueError, match="needs decay_biases=False"):
            optimizers.keras_native(spec, wrong="wd-on-biases")


@needs_eager
@needs_keras_weight_decay
def test_native_decay_follows_the_schedule_contribs_does_not():
    """Keras' decay is ``weight_decay * lr_t`` with the scheduled rate; the
    spec's (contrib's) is constant. Mapped at the initial rate, the native
    AdamW under exponential_decay(10, 0.5) decays 1/16 as much by step 40:
    measured 0.12 relative off (1.6e-6 at a constant rate)."""
    name = "adamw-kernels"
    _, want = reference(name, schedule=True)
    _, weights = PROBLEM.train_loop(optimizers.keras_native(_spec(name, schedule=True)))
    assert _rel(weights, want) > 0.05
    # Keras' decay fades with the rate: its weights end larger than contrib's
    _, exact = PROBLEM.train_loop(optimizers.get(_spec(name, schedule=True)))
    assert max_abs(exact, want) == 0.0
    assert np.linalg.norm(_flat(weights)) > np.linalg.norm(_flat(exact))


@needs_eager
@needs_keras_weight_decay
def test_native_keras_decays_every_step_by_wd_times_lr():
    """What the mapping rests on, one variable and zero gradients: native
    Keras multiplies ``var`` by ``1 - weight_decay * lr`` each step (AdamW
    and SGD alike), contrib by ``1 - weight_decay``."""
    for kind in ("adamw", "momentumw"):
        spec = dict(SPECS[kind], weight_decay=0.1, lr=0.5)
        for build, factor in ((optimizers.get, 0.9),
                              (optimizers.keras_native, 0.9),
                              (lambda s: optimizers.keras_native(
                                  s, wrong="wd-no-lr-mapping"), 0.95)):
            var = tf.Variable([2.0, -4.0])
            opt = build(spec)
            for _ in range(3):
                opt.apply_gradients([(tf.zeros([2]), var)])
            np.testing.assert_allclose(var.numpy(), np.array([2.0, -4.0]) *
                                       factor ** 3, rtol=1e-6)


@pytest.mark.skipif(_compat.KERAS_WEIGHT_DECAY, reason="this Keras has it")
def test_keras_without_weight_decay_is_a_clear_error():
    for spec in (SPECS["adamw"], SPECS["momentumw"]):
        with pytest.raises(NotImplementedError,
                           match="has no decoupled weight decay of its own"):
            optimizers.keras_native(spec)


# -- traces --------------------------------------------------------------------

def test_traces_record_weight_decay_and_decay_biases():
    """Read back from each object: contrib's absolute weight_decay (native
    Keras': its own value times the rate), whether biases decay."""
    spec = SPECS["adamw-kernels"]
    with tf.Graph().as_default():
        tf1 = trace.optimizer_hparams(optimizers.tf1(spec), "adamw")
    records = [tf1]
    if not _compat.TF1:
        records.append(trace.optimizer_hparams(optimizers.get(spec), "adamw"))
    if _compat.KERAS_WEIGHT_DECAY:
        native = trace.optimizer_hparams(optimizers.keras_native(spec), "adamw")
        assert native["keras_weight_decay"] == pytest.approx(WD / 0.01, rel=1e-6)
        records.append(native)
        wrong = trace.optimizer_hparams(optimizers.keras_native(
            spec, wrong="wd-no-lr-mapping"), "adamw")
        assert wrong["weight_decay"] == pytest.approx(WD * 0.01, rel=1e-6)
        on_biases = trace.optimizer_hparams(optimizers.keras_native(
            spec, wrong="wd-on-biases"), "adamw")
        assert on_biases["decay_biases"] is True
    for record in records:
        assert record["weight_decay"] == pytest.approx(WD, rel=1e-6), record
        assert record["decay_biases"] is False, record
        assert record["lr"] == pytest.approx(0.01, rel=1e-6)
        assert record["epsilon"] == pytest.approx(1e-8, rel=1e-6)
        assert list(record)[:3] == ["kind", "class", "lr"]
    assert trace.hparam_keys("adamw") == ["lr", "weight_decay", "beta1",
                                          "beta2", "epsilon"]
    assert trace.hparam_keys("adam") == ["lr", "beta1", "beta2", "epsilon"]


@needs_keras_optimizer_api
def test_fit_under_a_distribution_strategy():
    """One-device MirroredStrategy: the decay runs in the per-variable
    update (``decay_biases`` read from the variable's name)."""
    name = "adamw-kernels"
    _, want = reference(name)
    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    with strategy.scope():
        model = PROBLEM.model()
        model.compile(optimizer=optimizers.get(SPECS[name]), loss=ce, **NO_XLA)
    model.fit(X, Y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
    assert max_abs(model.get_weights(), want) == 0.0
