"""The collection bridge: get_regularization_loss(es) against TF 1.15's numbers."""

import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

import compat_reg
from compat_reg import _compat, golden_files
from golden_support import rel_diff

SCOPES = ("encoder", "decoder", "encoder_head")
ARRAYS = golden_files.arrays("penalty_inputs.npz")
eager_only = pytest.mark.skipif(
    _compat.TF1, reason="eager execution (TF2): Keras models hold their penalties eagerly")


def _query_items(golden):
    return [(None if q == "None" else q, v) for q, v in golden["scope_filter"]["queries"].items()]


def _dense(name, i):
    """Dense layer ``name`` with the golden arrays, l2_regularizer(0.1 * (i + 1))."""
    reg = compat_reg.l2_regularizer(0.1 * (i + 1))
    layer = _compat.keras.layers.Dense(4, name=name, kernel_regularizer=reg,
                                       bias_regularizer=reg)
    return layer


def _set_golden(layer, name):
    layer.kernel.assign(ARRAYS["scope_%s_kernel" % name])
    layer.bias.assign(ARRAYS["scope_%s_bias" % name])


class Blocks(_compat.Module):
    """Keras layers built outside any parent: weights named encoder/kernel."""

    def __init__(self):
        super(Blocks, self).__init__()
        self.blocks = []
        for i, name in enumerate(SCOPES):
            layer = _dense(name, i)
            layer.build((None, 8))
            _set_golden(layer, name)
            self.blocks.append(layer)


def _model():
    """A functional model: weights named with the model's prefix on Keras 3."""
    keras = _compat.keras
    inputs = keras.Input((8,))
    outputs = [_dense(name, i)(inputs) for i, name in enumerate(SCOPES)]
    model = keras.Model(inputs, outputs, name="net")
    for name in SCOPES:
        _set_golden(model.get_layer(name), name)
    return model


def _check_queries(golden, total, count):
    """Each golden scope query: TF 1.15's value and count; where TF1 matched
    nothing of a non-empty collection (a silent 0.0), a ValueError that
    lists the scopes there are."""
    for scope, want in _query_items(golden):
        if want["count"] == 0:
            assert want["value"] == 0.0
            with pytest.raises(ValueError, match="matches none.*closest first: "):
                total(scope)
            with pytest.raises(ValueError, match="matches none"):
                count(scope)
            continue
        assert count(scope) == want["count"], scope
        assert rel_diff(total(scope), want["value"]) <= 1e-6, scope


@eager_only
def test_scope_filter_on_module(golden_penalties):
    blocks = Blocks()
    _check_queries(golden_penalties,
                   lambda s: compat_reg.get_regularization_loss(blocks, s),
                   lambda s: len(compat_reg.get_regularization_losses(blocks, s)))


@eager_only
def test_scope_filter_on_model_names_as_tf1(golden_penalties):
    """A functional model's weights keep TF1's names (no model prefix,
    although Keras 3 names them net/encoder/kernel)."""
    model = _model()
    _check_queries(golden_penalties,
                   lambda s: compat_reg.get_regularization_loss(model, s),
                   lambda s: len(compat_reg.get_regularization_losses(model, s)))
    with pytest.raises(ValueError, match="closest first: encoder"):
        compat_reg.get_regularization_loss(model, "net/encoder")
    # a list of sources works, and counts each layer once
    both = compat_reg.get_regularization_loss([model, model.get_layer("decoder")])
    assert rel_diff(both, golden_penalties["scope_filter"]["queries"]["None"]["value"]) <= 1e-6


def test_scope_filter_in_graph_mode(golden_penalties):
    """TF1 code in a tf.compat.v1 graph: source=None reads the collection."""
    v1 = _compat.v1
    with tf.Graph().as_default():
        for i, name in enumerate(SCOPES):
            reg = compat_reg.l2_regularizer(0.1 * (i + 1))
            with v1.variable_scope(name):
                for part in ("kernel", "bias"):
                    v1.get_variable(part, initializer=ARRAYS["scope_%s_%s" % (name, part)],
                                    regularizer=reg)
        queries = [(q, want) for q, want in _query_items(golden_penalties)
                   if want["count"]]
        ours = [compat_reg.get_regularization_loss(scope=q) for q, _ in queries]
        theirs = [v1.losses.get_regularization_loss(scope=q) for q, _ in queries]
        counts = [len(compat_reg.get_regularization_losses(scope=q)) for q, _ in queries]
        # where TF1 gave a silent 0.0 (golden count 0), compat_reg raises
        for q, want in _query_items(golden_penalties):
            if not want["count"]:
                with pytest.raises(ValueError, match="matches none"):
                    compat_reg.get_regularization_loss(scope=q)
        with v1.Session() as sess:
            sess.run(v1.global_variables_initializer())
            ours, theirs = sess.run([ours, theirs])
    for (_, want), got, tf_value, count in zip(queries, ours, theirs, counts):
        assert got == tf_value  # exactly TF's own TF1 path
        assert rel_diff(got, want["value"]) <= 1e-6
        assert count == want["count"]


@eager_only
def test_frozen_layer_still_counts_like_tf1(golden_penalties):
    blocks = Blocks()
    blocks.blocks[0].trainable = False  # freeze encoder
    tf1_total = golden_penalties["scope_filter"]["queries"]["None"]["value"]
    encoder_part = golden_penalties["scope_filter"]["queries"]["encoder/"]["value"]
    assert rel_diff(compat_reg.get_regularization_loss(blocks), tf1_total) <= 1e-6
    keras_total = float(tf.add_n([loss for b in blocks.blocks for loss in b.losses]))
    if _compat.KERAS3:  # Keras 3's model.losses drops the frozen penalty
        assert rel_diff(keras_total, tf1_total - encoder_part) <= 1e-6
        assert rel_diff(keras_total, tf1_total) > 0.1
    else:  # tf_keras keeps it, as TF1's collection did
        assert rel_diff(keras_total, tf1_total) <= 1e-6


@eager_only
def test_activity_penalty_included_and_scoped():
    keras = _compat.keras
    inputs = keras.Input((3,))
    hidden = keras.layers.Dense(2, name="act", kernel_initializer="ones",
                                activity_regularizer=compat_reg.l1_regularizer(0.5))(inputs)
    model = keras.Model(inputs, hidden)
    x = np.array([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]], np.float32)
    model(x)
    # l1 0.5 of the outputs [6, 6] and [3, 3]: 0.5 * 18 = 9, which TF1 (and
    # Keras 2) divided by the batch size 2; Keras 3 before 2026 did not.
    want = float(tf.add_n(model.losses))
    assert want == pytest.approx(9.0 / 2) or (_compat.KERAS3 and want == pytest.approx(9.0))
    # the probe the guide and the harness rely on reports what Keras did
    assert _compat.activity_penalty_is_batch_mean() == (want == pytest.approx(4.5))
    assert float(compat_reg.get_regularization_loss(model)) == pytest.approx(want)
    activity = compat_reg.get_regularization_loss(model, "act/Activity")
    assert float(activity) == pytest.approx(want)
    with pytest.raises(ValueError, match="closest first: act"):
        compat_reg.get_regularization_loss(model, "act/kernel")


@eager_only
def test_eager_source_none_raises_instead_of_silent_zero():
    assert float(tf.compat.v1.losses.get_regularization_loss()) == 0.0  # the trap
    with pytest.raises(RuntimeError, match="Pass the model"):
        compat_reg.get_regularization_loss()
    with pytest.raises(RuntimeError, match="Pass the model"):
        compat_reg.get_regularization_losses()


def test_graph_source_none_equals_tf_compat_v1():
    v1 = _compat.v1
    with tf.Graph().as_default():
        empty_ours = compat_reg.get_regularization_loss()
        empty_theirs = v1.losses.get_regularization_loss()
        v1.get_variable("w", initializer=np.full((3, 3), 2.0, np.float32),
                        regularizer=compat_reg.l2_regularizer(0.5))
        ours = compat_reg.get_regularization_loss()
        theirs = v1.losses.get_regularization_loss()
        with v1.Session() as sess:
            sess.run(v1.global_variables_initializer())
            values = sess.run([empty_ours, empty_theirs, ours, theirs])
    assert values[0] == values[1] == 0.0
    assert values[2] == values[3] == pytest.approx(0.5 * 9 * 4 / 2)


@eager_only
def test_bad_source_type():
    with pytest.raises(TypeError, match="source must be"):
        compat_reg.get_regularization_loss(object())


def _mlp(seed):
    keras = _compat.keras
    rng = np.random.RandomState(seed)
    model = keras.Sequential([
        keras.Input((6,)),
        keras.layers.Dense(5, activation="tanh", kernel_regularizer=compat_reg.l2_regularizer(0.1)),
        keras.layers.Dense(3, kernel_regularizer=compat_reg.l1_l2_regularizer(0.01, 0.05),
                           bias_regularizer=compat_reg.l2_regularizer(0.2)),
    ])
    model.set_weights([rng.normal(size=w.shape).astype(np.float32) for w in model.get_weights()])
    return model


@eager_only
def test_custom_loop_equals_fit_per_step():
    """fit adds model.losses itself; the custom loop adds our sum once."""
    rng = np.random.RandomState(0)
    x = rng.normal(size=(8, 32, 6)).astype(np.float32)
    y = rng.randint(0, 3, size=(8, 32))
    keras = _compat.keras
    ce = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    custom = _mlp(1)
    opt = keras.optimizers.SGD(0.1)
    # no variable creation while tracing
    _compat.build_optimizer(opt, custom.trainable_variables)

    traces = []

    @tf.function
    def step(xb, yb):
        traces.append(1)  # Python: runs once per trace
        with tf.GradientTape() as tape:
            data = ce(yb, custom(xb, training=True))
            reg = compat_reg.get_regularization_loss(custom)
            total = data + reg
        grads = tape.gradient(total, custom.trainable_variables)
        opt.apply_gradients(zip(grads, custom.trainable_variables))
        return data, reg, total

    custom_curve = [step(x[i], y[i]) for i in range(len(x))]
    assert len(traces) == 1

    fitted = _mlp(1)
    fitted.compile(optimizer=keras.optimizers.SGD(0.1), loss=ce)
    fit_curve = [fitted.fit(x[i], y[i], batch_size=32, epochs=1, shuffle=False,
                            verbose=0).history["loss"][0] for i in range(len(x))]
    for (data, reg, total), fit_loss in zip(custom_curve, fit_curve):
        assert rel_diff(fit_loss, total) <= 1e-5
        assert rel_diff(fit_loss, float(data) + 2 * float(reg)) > 1e-3  # not twice
    for a, b in zip(custom.get_weights(), fitted.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@eager_only
def test_mirrored_strategy_scaled_gradients_match_single_device():
    script = os.path.join(os.path.dirname(__file__), "mirrored_check.py")
    out = subprocess.run([sys.executable, script], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, universal_newlines=True, timeout=300,
                         env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    assert out.returncode == 0, out.stdout + out.stderr
    lines = dict(line.split("=", 1) for line in out.stdout.split() if "=" in line)
    assert int(lines["replicas"]) == 2
    assert float(lines["scaled_max_rel_diff"]) <= 1e-6
    assert float(lines["unscaled_max_rel_diff"]) > 1e-3  # the trap it avoids


@eager_only
def test_unbuilt_model_raises_instead_of_silent_zero():
    keras = _compat.keras
    model = keras.Sequential([keras.layers.Dense(
        2, name="head", kernel_regularizer=compat_reg.l2_regularizer(0.1))])
    with pytest.raises(ValueError, match="'head'.*not built"):
        compat_reg.get_regularization_loss(model)
    model.build((None, 3))
    model.get_layer("head").kernel.assign(np.ones((3, 2), np.float32))
    # built: 0.1 * l2_loss(ones(3, 2)) = 0.1 * 6 / 2
    assert float(compat_reg.get_regularization_loss(model)) == pytest.approx(0.3)


@pytest.mark.parametrize("scope", ["enc(", "[a-", 3])
def test_bad_scope_is_a_value_error(scope):
    layer = _dense("encoder", 0)
    layer.build((None, 8))
    with pytest.raises(ValueError, match="not a regular expression"):
        compat_reg.get_regularization_losses(layer, scope=scope)


@eager_only
def test_mixed_dtypes_sum_in_the_widest():
    """mixed_float16: a float32 kernel penalty beside a float16 activity
    penalty (TF's add_n refuses the pair); a float64 model beside a float32
    one. The bridge sums in the widest dtype, as Keras' own sum does."""
    keras = _compat.keras
    if not hasattr(getattr(keras, "mixed_precision", None), "set_global_policy"):
        pytest.skip("Keras' mixed_precision.set_global_policy came in TF 2.4")
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        layer = keras.layers.Dense(2, kernel_initializer="ones",
                                   kernel_regularizer=compat_reg.l2_regularizer(1.0),
                                   activity_regularizer=compat_reg.l1_regularizer(1.0))
        layer(tf.ones((1, 1)))
    finally:
        keras.mixed_precision.set_global_policy(previous)
    dtypes = sorted(t.dtype.name for t in layer.losses)
    assert dtypes == ["float16", "float32"]
    # kernel ones (1, 2): l2 1.0 * 2 / 2 = 1; outputs [1, 1]: l1 1.0 * 2 = 2
    total = compat_reg.get_regularization_loss(layer)
    assert total.dtype == tf.float32 and float(total) == 3.0
    wide = keras.layers.Dense(1, kernel_initializer="ones", dtype="float64",
                              kernel_regularizer=compat_reg.l2_regularizer(1.0))
    wide.build((None, 4))  # l2: 1.0 * 4 / 2 = 2
    total = compat_reg.get_regularization_loss([layer, wide])
    assert total.dtype == tf.float64 and float(total) == 5.0


@eager_only
@pytest.mark.parametrize("where", ["regularizer set after build", "activity never called"])
def test_declared_penalty_keras_never_computes_raises(where):
    keras = _compat.keras
    if where == "regularizer set after build":
        layer = keras.layers.Dense(2, name="late")
        layer.build((None, 3))
        layer.kernel_regularizer = compat_reg.l2_regularizer(0.1)
        assert not layer.losses  # Keras' own sum: a silent 0.0
        match = "late.kernel"
    else:
        layer = keras.layers.Dense(2, name="act",
                                   activity_regularizer=compat_reg.l2_regularizer(0.1))
        keras.Sequential([keras.Input((3,)), layer])
        match = "'act' has an activity regularizer"
    with pytest.raises(ValueError, match=match):
        compat_reg.get_regularization_loss(layer)
