"""compat_reg.checkpoints: TF1 checkpoints written by real TF 1.15 into Keras.

The truth is independent of the loader: the checkpoint's own arrays (read
with ``tf.train.load_checkpoint``), the arrays and inference-mode logits the
writing script recorded in ``expected.npz`` (``compat_reg/parity/data/``).
Every Keras weight is scrambled before a load, so a weight the loader missed
cannot pass by keeping its initial value.
"""

import os

import numpy as np
import pytest
import tensorflow as tf

from compat_reg import _compat, checkpoints

SLIM = os.path.join(checkpoints.DATA_DIR, "slim")
LAYERS = os.path.join(checkpoints.DATA_DIR, "layers")
SLIM_SCOPES = {"conv1/BatchNorm": "conv1_bn", "conv2/BatchNorm": "conv2_bn"}

# Forward pass against TF1's logits (|values| < 2): float32 through two
# convs, two batch norms and a 256-term dot product. TF 1.15's own Keras
# gives TF1's logits exactly (0.0, same kernels); later Keras compute batch
# norm their own way and round differently: measured at most 1.2e-6 (5 ulps
# at 2; tf_keras 2.21, the tf.layers net), 7.2e-7 on Keras 2.10/2.15/3.x.
# 1e-5 leaves 8x room; a weight unloaded or swapped moves them by > 1e-2.
ATOL = 1e-5


# The ports below are TF2-style Keras (Sequential([Input, ...]), layers.ReLU)
OLD_KERAS = ("the tf.keras of TF 1.4 - 1.13 predates the Keras API of the ports "
             "(_compat.KERAS_TF2_API)")


def keras():
    if not _compat.KERAS_TF2_API:
        pytest.skip(OLD_KERAS)
    _compat.keras.backend.clear_session()
    return _compat.keras


def slim_port(scale=False, use_bias=False, units=3):
    """The Keras port of ``make_tf1_checkpoint.slim_net``."""
    k = keras()
    layers = [k.Input((8, 8, 1))]
    for name in ("conv1", "conv2"):
        layers += [
            k.layers.Conv2D(4, 3, padding="same", use_bias=use_bias, name=name),
            # slim.batch_norm: scale=False, epsilon=0.001 (decay -> momentum)
            k.layers.BatchNormalization(scale=scale, epsilon=0.001,
                                        momentum=0.5, name=name + "_bn"),
            k.layers.ReLU()]
    layers += [k.layers.Flatten(), k.layers.Dense(units, name="logits")]
    return k.Sequential(layers)


def layers_port(dense_dtype="float32", scale=True):
    """The Keras port of ``make_tf1_checkpoint.layers_net``: tf.layers'
    default scope names are the Keras layers' names."""
    k = keras()
    layers = [k.Input((8, 8, 1))]
    for suffix in ("", "_1"):
        layers += [
            k.layers.Conv2D(4, 3, padding="same", activation="relu",
                            name="conv2d" + suffix),
            k.layers.BatchNormalization(momentum=0.5, scale=scale,
                                        name="batch_normalization" + suffix)]
    layers += [k.layers.Flatten(),
               k.layers.Dense(3, name="dense", dtype=dense_dtype)]
    return k.Sequential(layers)


def values(weights):
    """The numpy values of Keras weights (TF 1.15: through Keras' session)."""
    if _compat.KERAS3:
        return [np.array(w.numpy()) for w in weights]
    return _compat.keras.backend.batch_get_value(list(weights))


def scramble(model, seed=0):
    """Every weight to values no checkpoint holds (positive: variances)."""
    rng = np.random.RandomState(seed)
    model.set_weights([rng.uniform(2.0, 3.0, size=np.shape(v)).astype(np.float32)
                       for v in values(model.weights)])
    return values(model.weights)


def predict(model, x):
    return np.asarray(model.predict(x, batch_size=len(x), verbose=0))


def truth(path):
    return (tf.train.load_checkpoint(path),
            np.load(os.path.join(path, "expected.npz")))


def check_loaded(model, report, path, ema=False):
    """Each Keras weight equals the checkpoint's array, the forward pass TF1's."""
    reader, expected = truth(path)
    by_checkpoint = report.variable_map()
    assert len(report) == len(model.weights)  # strict: every weight, once
    assert len(set(id(w) for w in by_checkpoint.values())) == len(report)
    loaded = dict(zip(by_checkpoint, values(by_checkpoint.values())))
    for row in report:
        layer = model.get_layer(row.keras.split("/")[0])
        assert any(w is by_checkpoint[row.checkpoint] for w in layer.weights)
        source = row.checkpoint
        if ema and row.checkpoint + "/ExponentialMovingAverage" in expected:
            source = row.checkpoint + "/ExponentialMovingAverage"
        assert row.source == source
        np.testing.assert_array_equal(loaded[row.checkpoint],
                                      reader.get_tensor(source))
        np.testing.assert_array_equal(loaded[row.checkpoint], expected[source])
    names = set(reader.get_variable_to_shape_map())
    skipped = dict(report.skipped)
    assert names == set(by_checkpoint) | set(skipped)
    for name, why in skipped.items():
        assert name == "global_step" or why.endswith(
            "of " + name.rsplit("/", 1)[0]), (name, why)
    return predict(model, expected["x"]), expected["logits"]


def test_slim_checkpoint_loads_into_keras():
    model = slim_port()
    scramble(model)
    report = checkpoints.load_tf1_checkpoint(model, SLIM, scopes=SLIM_SCOPES)
    got, want = check_loaded(model, report, SLIM)
    np.testing.assert_allclose(got, want, rtol=0, atol=ATOL)
    assert [r.keras for r in report if r.checkpoint.startswith("conv1/")] == [
        "conv1_bn/beta", "conv1_bn/moving_mean", "conv1_bn/moving_variance",
        "conv1/kernel"]
    text = str(report)
    assert "conv1/BatchNorm/moving_variance  conv1_bn/moving_variance" in text
    assert "conv1/weights/Momentum" in text and "global_step" in text


def test_layers_checkpoint_loads_by_default_names_from_a_prefix():
    model = layers_port()
    scramble(model)
    report = checkpoints.load_tf1_checkpoint(
        model, os.path.join(LAYERS, "model.ckpt"))
    got, want = check_loaded(model, report, LAYERS)
    np.testing.assert_allclose(got, want, rtol=0, atol=ATOL)
    assert "batch_normalization_1/gamma" in [r.checkpoint for r in report]
    assert ("dense/kernel/ExponentialMovingAverage", "EMA shadow of dense/kernel"
            ) in report.skipped


def test_ema_shadows_load_instead_where_they_exist():
    model = layers_port()
    scramble(model)
    report = checkpoints.load_tf1_checkpoint(model, LAYERS, ema=True)
    check_loaded(model, report, LAYERS, ema=True)
    sources = dict((r.checkpoint, r.source) for r in report)
    assert sources["dense/kernel"] == "dense/kernel/ExponentialMovingAverage"
    assert sources["batch_normalization/moving_mean"] == (
        "batch_normalization/moving_mean")  # not trainable: no shadow
    assert "dense/kernel (ExponentialMovingAverage)" in str(report)


def test_map_only_assigns_nothing():
    model = slim_port()
    before = scramble(model)
    report = checkpoints.map_tf1_checkpoint(model, SLIM, scopes=SLIM_SCOPES)
    assert len(report) == len(model.weights)
    for a, b in zip(before, values(model.weights)):
        np.testing.assert_array_equal(a, b)


def problems(excinfo):
    return str(excinfo.value).split("\n")[1:]


def test_unmapped_scope_names_the_variables_and_the_fix():
    model = slim_port()
    before = scramble(model)
    with pytest.raises(ValueError) as excinfo:
        checkpoints.load_tf1_checkpoint(model, SLIM)  # no scopes for BatchNorm
    message = str(excinfo.value)
    for name in ("conv1/BatchNorm/beta", "conv1/BatchNorm/moving_mean",
                 "conv2/BatchNorm/moving_variance"):
        assert any(line.strip().startswith(name + ": no Keras layer is named "
                                           "'%s'" % name.rsplit("/", 1)[0])
                   for line in problems(excinfo)), message
    assert "scopes={'conv1/BatchNorm': <layer name>}" in message
    assert "closest: conv1_bn" in message
    # the Keras side of the same fault, in the same error
    assert "Keras conv1_bn/moving_mean (4,) has no value" in message
    assert "12 problems" in message  # 6 variables, 6 weights
    for a, b in zip(before, values(model.weights)):  # nothing assigned
        np.testing.assert_array_equal(a, b)


def test_missing_weights_name_slim_defaults():
    model = slim_port(scale=True, use_bias=True)  # Keras' defaults
    with pytest.raises(ValueError) as excinfo:
        checkpoints.load_tf1_checkpoint(model, SLIM, scopes=SLIM_SCOPES)
    lines = problems(excinfo)
    assert len(lines) == 4, lines
    for layer in ("conv1_bn", "conv2_bn"):
        assert any(("Keras %s/gamma (4,) has no value" % layer) in line
                   and "BatchNormalization(scale=False)" in line
                   for line in lines), lines
    for layer in ("conv1", "conv2"):
        assert any(("Keras %s/bias (4,) has no value" % layer) in line
                   and "use_bias=False" in line for line in lines), lines


def test_checkpoint_weight_the_layer_lacks_names_the_fix():
    model = layers_port(scale=False)  # but tf.layers saved gamma
    with pytest.raises(ValueError) as excinfo:
        checkpoints.load_tf1_checkpoint(model, LAYERS)
    assert problems(excinfo) == [
        "  batch_normalization%s/gamma: Keras layer 'batch_normalization%s' has "
        "no weight 'gamma' (it has beta, moving_mean, moving_variance); the "
        "checkpoint has gamma (scale=True): BatchNormalization(scale=True)" % (
            suffix, suffix) for suffix in ("", "_1")]


def test_missing_weights_kept_when_not_strict():
    model = slim_port(scale=True)
    before = scramble(model)
    report = checkpoints.load_tf1_checkpoint(model, SLIM, scopes=SLIM_SCOPES,
                                             strict=False)
    assert report.kept == ["conv1_bn/gamma", "conv2_bn/gamma"]
    assert "kept (strict=False)" in str(report)
    reader, _ = truth(SLIM)
    after = values(model.weights)
    for bn in ("conv1_bn", "conv2_bn"):
        # Keras orders a BatchNormalization's weights gamma, beta, mean, var
        gamma, beta = model.get_layer(bn).weights[:2]
        (i,) = [i for i, w in enumerate(model.weights) if w is gamma]
        np.testing.assert_array_equal(after[i], before[i])  # kept
        np.testing.assert_array_equal(after[i + 1], reader.get_tensor(
            bn[:5] + "/BatchNorm/beta"))


def test_shape_mismatch_says_both_shapes():
    model = slim_port(units=4)
    with pytest.raises(ValueError) as excinfo:
        checkpoints.load_tf1_checkpoint(model, SLIM, scopes=SLIM_SCOPES)
    assert problems(excinfo) == [
        "  logits/biases has shape (3,) but Keras logits/bias has (4,)",
        "  logits/weights has shape (256, 3) but Keras logits/kernel has "
        "(256, 4)"]


def test_swapped_scopes_of_different_shapes_are_caught():
    model = slim_port()
    scopes = dict(SLIM_SCOPES, conv1="conv2", conv2="conv1")
    with pytest.raises(ValueError) as excinfo:
        checkpoints.load_tf1_checkpoint(model, SLIM, scopes=scopes)
    assert problems(excinfo) == [
        "  conv1/weights has shape (3, 3, 1, 4) but Keras conv2/kernel has "
        "(3, 3, 4, 4)",
        "  conv2/weights has shape (3, 3, 4, 4) but Keras conv1/kernel has "
        "(3, 3, 1, 4)"]


def test_slim_weights_biases_swap_is_caught():
    model = slim_port()
    mapping = {"logits/weights": "logits/bias", "logits/biases": "logits/kernel"}
    with pytest.raises(ValueError) as excinfo:
        checkpoints.load_tf1_checkpoint(model, SLIM, scopes=SLIM_SCOPES,
                                        mapping=mapping)
    assert problems(excinfo) == [
        "  logits/biases has shape (3,) but Keras logits/kernel has (256, 3)",
        "  logits/weights has shape (256, 3) but Keras logits/bias has (3,)"]


def test_same_shape_swap_loads_but_the_report_and_outputs_show_it():
    """The documented limit: two batch norms of one shape, swapped."""
    model = slim_port()
    scramble(model)
    report = checkpoints.load_tf1_checkpoint(
        model, SLIM, scopes={"conv1/BatchNorm": "conv2_bn",
                             "conv2/BatchNorm": "conv1_bn"})
    rows = dict((r.checkpoint, r.keras) for r in report)
    assert rows["conv1/BatchNorm/moving_mean"] == "conv2_bn/moving_mean"
    assert "conv1/BatchNorm/moving_mean      conv2_bn/moving_mean" in str(report)
    _, expected = truth(SLIM)
    got = predict(model, expected["x"])
    assert np.max(np.abs(got - expected["logits"])) > 1000 * ATOL


def test_dtype_mismatch_is_named():
    model = layers_port(dense_dtype="float64")
    with pytest.raises(ValueError) as excinfo:
        checkpoints.load_tf1_checkpoint(model, LAYERS)
    assert problems(excinfo) == [
        "  dense/bias is float32 but Keras dense/bias is float64",
        "  dense/kernel is float32 but Keras dense/kernel is float64"]


def test_mapping_and_scopes_that_name_nothing():
    model = slim_port()
    with pytest.raises(ValueError) as excinfo:
        checkpoints.load_tf1_checkpoint(
            model, SLIM, scopes=dict(SLIM_SCOPES, conv3="conv1"),
            mapping={"logits/weight": "logits/kernel",
                     "logits/biases": "logit/bias"})
    lines = problems(excinfo)
    assert any(line.startswith("  scopes: 'conv3' is no scope of the "
                               "checkpoint; closest: conv") for line in lines)
    assert any(line.startswith("  mapping: 'logits/weight' is not in the "
                               "checkpoint; closest: logits/weights")
               for line in lines), lines
    assert any(line.startswith("  mapping: logits/biases -> 'logit/bias', no "
                               "weight of the model; closest: logits/bias")
               for line in lines), lines
    assert any(line.startswith("  Keras logits/bias (3,) has no value")
               for line in lines), lines


def test_mapping_none_skips_and_ema_without_shadows():
    model = slim_port(units=4)
    report = checkpoints.map_tf1_checkpoint(
        model, SLIM, scopes=SLIM_SCOPES, strict=False,
        mapping={"logits/weights": None, "logits/biases": None})
    assert ("logits/weights", "mapping: None") in report.skipped
    assert report.kept == ["logits/kernel", "logits/bias"]
    with pytest.raises(ValueError, match="ema=True but no loaded variable has"):
        checkpoints.load_tf1_checkpoint(slim_port(), SLIM, scopes=SLIM_SCOPES,
                                        ema=True)


def test_bad_paths():
    model = slim_port()
    with pytest.raises(ValueError, match="no TF1 checkpoint at .*nowhere"):
        checkpoints.load_tf1_checkpoint(model, os.path.join(SLIM, "nowhere"))
    with pytest.raises(ValueError, match="no TF1 checkpoint at"):
        checkpoints.load_tf1_checkpoint(model, os.path.dirname(SLIM))


@pytest.mark.skipif(not _compat.KERAS_TF2_API, reason=OLD_KERAS)
def test_tf2_object_checkpoint_is_refused(tmp_path):
    v1 = _compat.v1
    with tf.Graph().as_default(), v1.Session() as session:
        variable = v1.Variable([1.0])
        session.run(variable.initializer)
        prefix = v1.train.Checkpoint(v=variable).write(
            str(tmp_path / "ckpt"), session=session)
    with pytest.raises(ValueError, match="TF2 object-based checkpoint"):
        checkpoints.load_tf1_checkpoint(slim_port(), prefix)
