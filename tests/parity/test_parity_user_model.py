"""compare_models on a small conv model (not an MLP); a team's model
recorded on TF 1.15 (recorder, ``compat-reg parity record-model``) and
compared on TF 2 (compare_trace)."""

import json
import os
import shutil

import numpy as np
import pytest

import compat_reg
from compat_reg import _compat
from compat_reg.parity import (compare_models, recorder, tolerances,
                               user_model, workloads)
from golden_support import assert_rerecorded, rerecord_mismatch
from parity_helpers import main, require

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


# ---------------------------------------------------------------------------
# A team's model recorded on real TF 1.15 (compat_reg.parity.recorder) and
# compared on TF 2 (compare_trace): tests/data/tf1_two_input_regression.
# ---------------------------------------------------------------------------

TEAM = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))), "data", "tf1_two_input_regression")
TRACE = os.path.join(TEAM, "trace")
team = recorder.load_script(os.path.join(TEAM, "record.py"))

needs_eager = pytest.mark.skipif(
    _compat.TF1 or not _compat.KERAS_TF2_API,
    reason="compare_trace trains eagerly (TF 2); TF 1.x records")


def team_port(l2=None, activation="tanh"):
    """The Keras port of ``record.build_graph`` (its TF1 names)."""
    k = _compat.keras
    k.backend.clear_session()
    reg = (l2 or compat_reg.l2_regularizer)(team.L2)
    image = k.Input((6, 6, 1), name="image")
    extra = k.Input((3,), name="extra")
    h = k.layers.Flatten()(k.layers.Conv2D(
        4, 3, padding="same", activation="relu", kernel_regularizer=reg,
        name="conv")(image))
    a = k.layers.Dense(4, activation=activation, kernel_regularizer=reg,
                       name="aux")(extra)
    out = k.layers.Dense(1, name="head")(k.layers.Concatenate()([h, a]))
    return k.Model({"image": image, "extra": extra}, out)


@needs_eager
def test_recorded_port_agrees():
    result = user_model.compare_trace(TRACE, team_port(), team.loss,
                                      spec=team.SPEC)
    assert result.ok, str(result)
    # measured 3.3e-7 (curves) and 4.6e-7 (weights) on Keras 3.
    assert result.curve_gap <= tolerances.CURVE_EXACT
    assert len(result.steps) == team.EPOCHS * (64 // team.BATCH)


def test_trace_matches_its_checkpoint_and_spec():
    """The recorder's final weights are what TF1's Saver wrote."""
    import tensorflow as tf
    trace = recorder.read_trace(TRACE)
    assert trace.spec == team.SPEC and trace.record["env"]["tensorflow"] == \
        "1.15.5"
    reader = tf.train.load_checkpoint(trace.checkpoint)
    for name in trace.names:
        np.testing.assert_array_equal(reader.get_tensor(name),
                                      trace.after[name][-1])
    assert reader.get_tensor("global_step") == len(trace.curves["data_loss"])


def keras_sgd_schedule():
    """Keras' SGD under the same schedule: its momentum keeps lr * grad,
    TF1's the gradient, so they part with the first update at the new
    rate: piecewise_constant keeps values[0] while global_step <=
    boundaries[0], step index = global_step before the update."""
    k = _compat.keras
    schedule = team.SPEC["schedule"]
    return k.optimizers.SGD(k.optimizers.schedules.PiecewiseConstantDecay(
        schedule["boundaries"], schedule["values"]), momentum=0.9)


def unhalved(scale):  # Keras' L2: twice contrib's l2_regularizer(scale)
    return _compat.moves.L2(l2=scale)


# wrong port -> (keyword arguments, its first bad step, what parts there)
WRONG = {
    "keras-sgd-schedule": (lambda: dict(optimizer=keras_sgd_schedule()),
                           team.SPEC["schedule"]["boundaries"][0] + 1,
                           ["conv/kernel", "conv/bias", "aux/kernel",
                            "aux/bias", "head/kernel", "head/bias"]),
    # the penalty is twice TF1's at the start: reg_loss 1.0 relative off
    "unhalved-l2": (lambda: dict(model=team_port(l2=unhalved)), 0,
                    ["reg_loss"]),
    # another forward pass: the first loss differs
    "relu-for-tanh": (lambda: dict(model=team_port(activation="relu")), 0,
                      ["data_loss"]),
}


@needs_eager
@pytest.mark.parametrize("wrong", sorted(WRONG))
def test_wrong_port_named_at_its_first_bad_step(wrong):
    make, step, named = WRONG[wrong]
    kwargs = make()
    model = kwargs.pop("model", None) or team_port()
    result = user_model.compare_trace(TRACE, model, team.loss, **kwargs)
    assert not result.ok
    assert result.first_bad.step == step, str(result)
    parted = [name for name, _, _ in result.parted(result.first_bad)]
    assert set(named) <= set(parted), str(result)
    assert "first parted at step %d" % step in str(result)
    if wrong == "unhalved-l2":  # 2 x TF1's value: (2 - 1) / 1
        assert abs(result.first_bad.curves["reg_loss"] - 1.0) <= 1e-5


# ---- bad input: one ValueError, nothing written / no weight set -------------

def raises(inputs):
    raise RuntimeError("the team's bug")


BAD_RECORDINGS = {
    "graph_raises": (dict(build_graph=raises), "build_graph or loss raised "
                     r"on TF [\d.]+: RuntimeError: the team's bug"),
    "nan_input": (dict(inputs=dict(team.inputs, extra=np.full(
        (64, 3), np.nan, np.float32))), r"inputs\['extra'\] holds 192 "
        "non-finite"),
    "rows_differ": (dict(targets={"y": team.targets["y"][:10]}),
                    "inputs have 64 rows, targets 10"),
    "bad_spec": (dict(spec={"optimizer": "momentum", "lr": 0.1}),
                 "missing 'momentum'"),
    "bool_batch": (dict(batch=True), "batch must be a positive integer"),
    "batch_too_big": (dict(batch=65), "batch=65 but the data has 64 rows"),
}


@pytest.mark.parametrize("case", sorted(BAD_RECORDINGS))
def test_bad_recording_writes_nothing(case, tmp_path):
    change, match = BAD_RECORDINGS[case]
    args = dict(build_graph=team.build_graph, inputs=team.inputs,
                targets=team.targets, loss=team.loss, spec=team.SPEC,
                out=str(tmp_path / "trace"), batch=team.BATCH)
    args.update(change)
    with pytest.raises(ValueError, match=match):
        recorder.record_model(**args)
    assert os.listdir(str(tmp_path)) == []


def copy_trace(tmp_path):
    target = str(tmp_path / "trace")
    shutil.copytree(TRACE, target)
    return target


def truncate(path, name):
    target = os.path.join(path, name)
    with open(target, "rb+") as stream:
        stream.truncate(os.path.getsize(target) // 2)


def rewrite_json(path, change):
    target = os.path.join(path, recorder.TRACE)
    with open(target) as stream:
        record = json.load(stream)
    change(record)
    with open(target, "w") as stream:
        json.dump(record, stream)


# damage -> the message
BAD_TRACES = {
    "truncated_npz": (lambda p: truncate(p, recorder.ARRAYS),
                      "not a readable .npz"),
    "truncated_json": (lambda p: truncate(p, recorder.TRACE), "not JSON"),
    "other_format": (lambda p: rewrite_json(p, lambda r: r.update(
        format="compat-reg-golden/1")), "field 'format'"),
    "nan_loss": (lambda p: rewrite_json(p, lambda r: r["curves"][
        "data_loss"].__setitem__(3, float("nan"))), "curves.data_loss"),
    "short_curve": (lambda p: rewrite_json(p, lambda r: r["curves"][
        "reg_loss"].pop()), "different lengths"),
    "bad_spec": (lambda p: rewrite_json(p, lambda r: r["config"].update(
        lr="0.05")), "field 'config'"),
}


@needs_eager
@pytest.mark.parametrize("case", sorted(BAD_TRACES) + ["other_spec",
                                                      "other_model"])
def test_bad_trace_sets_no_weight(case, tmp_path):
    path = copy_trace(tmp_path)
    model = team_port()
    kwargs = {}
    if case in BAD_TRACES:
        damage, match = BAD_TRACES[case]
        damage(path)
    elif case == "other_spec":
        kwargs["spec"] = dict(team.SPEC, momentum=0.5)
        match = "recorded with spec"
    else:
        k = _compat.keras
        model = k.Model(model.inputs, k.layers.Dense(1, name="head2")(
            model.layers[-2].output))
        match = r"head/kernel has no Keras weight named 'head/kernel'"
    before = [np.array(w.numpy()) for w in model.weights]
    with pytest.raises(ValueError, match=match):
        user_model.compare_trace(path, model, team.loss, **kwargs)
    for old, weight in zip(before, model.weights):
        np.testing.assert_array_equal(old, weight.numpy())


@pytest.mark.skipif(not (_compat.TF1 and _compat.HAS_CONTRIB),
                    reason="records on TF 1.x with contrib (the tf1 env; "
                           "TF 1.6 in the matrix)")
def test_recording_again_on_tf1(tmp_path):
    """On any TF 1.x: a trace that reads back, whose checkpoint holds its
    final weights and global_step. On the recording's TF (1.15.5): the
    committed trace again, equal but for float32 summation order on another
    CPU (golden_support.RERECORD_RTOL; other releases draw other initial
    weights from the same graph seed)."""
    import tensorflow as tf
    out = recorder.record_model(team.build_graph, team.inputs, team.targets,
                                team.loss, team.SPEC, str(tmp_path / "t"),
                                batch=team.BATCH, epochs=team.EPOCHS,
                                seed=team.SEED)
    got, want = recorder.read_trace(out), recorder.read_trace(TRACE)
    assert got.names == want.names and got.spec == want.spec
    reader = tf.train.load_checkpoint(got.checkpoint)
    for name in got.names:
        np.testing.assert_array_equal(reader.get_tensor(name),
                                      got.after[name][-1])
    assert reader.get_tensor("global_step") == len(got.curves["data_loss"])
    if tf.__version__ != want.record["env"]["tensorflow"]:
        return
    # the same initial weights and batches; the losses and the weights after
    # each step equal but for float32 summation order on another CPU
    for name in want.names:
        np.testing.assert_array_equal(got.init[name], want.init[name])
    np.testing.assert_array_equal(got.order, want.order)
    assert_rerecorded(got.curves, want.curves)
    for name in want.names:
        problem = rerecord_mismatch(got.after[name], want.after[name])
        assert not problem, "%s: %s" % (name, problem)


# ---- compat-reg parity record-model -----------------------------------------

@pytest.mark.skipif(not (_compat.TF1 and _compat.HAS_CONTRIB),
                    reason="records on TF 1.x with contrib (the tf1 env)")
def test_record_model_command(tmp_path, capsys):
    out = str(tmp_path / "t")
    code, stdout, _ = main(["record-model", os.path.join(TEAM, "record.py"),
                            "--out", out, "--epochs", "1"], capsys)
    assert code == 0 and "(8 steps, 6 variables, TF " in stdout, stdout
    assert recorder.read_trace(out).order.shape == (1, 8, team.BATCH)


def script(tmp_path, text):
    path = tmp_path / "team.py"
    path.write_text(text)
    return str(path)


# a bad command line -> (its script's text or None, extra args, the message)
BAD_COMMANDS = {
    "no_script": (None, [], "no Python script there"),
    "raises_on_import": ("raise ImportError('no tensorflow.contrib')\n", [],
                         "raised on import: ImportError: no tensorflow"),
    "lacks_names": ("build_graph = loss = None\n", [],
                    "defines no inputs, targets, SPEC"),
    "zero_batch": ("", ["--batch", "0"], "batch must be a positive integer"),
}


@pytest.mark.parametrize("case", sorted(BAD_COMMANDS))
def test_record_model_bad_command(case, tmp_path, capsys):
    text, extra, message = BAD_COMMANDS[case]
    if text == "":  # the team's script, given a bad option
        path = os.path.join(TEAM, "record.py")
    else:
        path = script(tmp_path, text) if text else str(tmp_path / "none.py")
    out = str(tmp_path / "t")
    code, _, err = main(["record-model", path, "--out", out] + extra, capsys)
    assert code == 2 and message in err, err
    assert len(err.strip().splitlines()) == 1, err
    assert not os.path.exists(out)
