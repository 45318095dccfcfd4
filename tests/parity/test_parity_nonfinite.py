"""A NaN or inf never passes: every comparison entry point x {reference,
run} x {a curve NaN / +inf / -inf at step k, a final weight NaN, an initial
weight NaN}.

Entry points: ``parity replay``, ``parity run``, ``parity compare`` (files
only, no training), ``compare_models`` (a small MLP) and ``compat-reg
check`` (a penalty, not a curve: its reference value and its input array).
The reference is a golden file (or penalties.json) copied and edited; the
run is made non-finite by fault injection: the real training runs, then its
result is poisoned where the fault says, before the comparison. What must
happen, from the fault alone: exit 1 (a failed row, not "ok") naming the
side, the file where there is one, the field and the first step or index.
A NaN in what training reads (the initial weights) stops the command
before any training instead: exit 2, one line naming file and weight.
"""

import json
import os
import shutil

import numpy as np
import pytest

from compat_reg import cli as top_cli
from compat_reg import golden_files
from compat_reg.parity import backends, tf1_graph, tf2_keras, trace
from compat_reg.parity import workloads
from parity_helpers import golden_copy, good_trace, main, require

NAN, INF = float("nan"), float("inf")

# (id, kind, field, where, value): where is the step of a curve or the index
# of a weight; the step 5 / 17 / 0 and the fields vary across the faults.
FAULTS = [
    ("curve-nan", "curve", "total_loss", 5, NAN),
    ("curve-plus-inf", "curve", "data_loss", 17, INF),
    ("curve-minus-inf", "curve", "reg_loss", 0, -INF),
    ("final-nan", "final", "dense_0/kernel", (3, 4), NAN),
    ("initial-nan", "initial", "dense_0/kernel", (2, 7), NAN),
]
SIDES = ("reference", "run")
NPZ_KEY = {"dense_0/kernel": ("init_w0", "final_dense_0_kernel")}


def _expected(kind, field, where, value):
    """What the report must say about the fault, from the fault alone."""
    name = "NaN" if value != value else ("+inf" if value > 0 else "-inf")
    if kind == "curve":
        return "curves.%s: %s at step %d" % (field, name, where)
    group = "final_weights" if kind == "final" else "initial_weights"
    return "%s.%s: %s at index %s" % (group, field, name, where)


def _poison_golden(path, kind, field, where, value):
    """Edit a golden-format file (JSON curves or npz arrays) in place."""
    if kind == "curve":
        with open(path) as handle:
            record = json.load(handle)
        record["curves"][field][where] = value
        with open(path, "w") as handle:
            json.dump(record, handle)
        return path
    npz = path[:-len(".json")] + ".npz"
    arrays = golden_files.read_npz(npz)
    key = NPZ_KEY[field][0 if kind == "initial" else 1]
    arrays[key] = arrays[key].copy()
    arrays[key][where] = value
    np.savez(npz, **arrays)
    return npz


def _poison_trace(t, kind, field, where, value):
    """A run's trace made non-finite where the fault says (in place)."""
    if kind == "curve":
        t.curves[field][where] = value
    else:
        assert kind == "final"
        t.final_weights[field] = np.array(t.final_weights[field])
        t.final_weights[field][where] = value
    return t


def _poisoned_runs(monkeypatch, fault):
    """Every ``backends.run`` trains for real, then is poisoned."""
    real = backends.run

    def run(*args, **kwargs):
        return _poison_trace(real(*args, **kwargs), *fault)
    monkeypatch.setattr(backends, "run", run)


def _assert_failed(code, out, err, side, fault, path=None):
    assert code == 1, out + err
    assert "Traceback" not in err
    rows = [line for line in out.splitlines()
            if "sgd_none" in line.split()[:2]]  # compare starts with the env
    assert rows and all(r.split()[-1] == "FAIL" for r in rows), out
    lines = [line for line in out.splitlines()
             if line.strip().startswith("FAIL %s " % side)]
    assert any(_expected(*fault) in line for line in lines), out
    if path is not None:
        assert any(path in line for line in lines), out


def _assert_refused(code, out, err, path, fault):
    """exit 2 before any training: one line naming the file and weight."""
    assert code == 2, out + err
    assert out == ""
    assert err.count("\n") == 1 and "Traceback" not in err, err
    name = "NaN" if fault[4] != fault[4] else "inf"
    assert path in err and fault[2] in err and name in err, err
    assert "index %s" % (fault[3],) in err, err


# -- replay ------------------------------------------------------------------

@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("fault", FAULTS, ids=[f[0] for f in FAULTS])
def test_replay(tmp_path, capsys, monkeypatch, side, fault):
    golden = golden_copy(tmp_path, "sgd_none")[0]
    argv = ["replay", golden, "--backend", "tf1-graph", "--epochs", "1"]
    if fault[1] == "initial":  # the run starts from the file's arrays
        npz = _poison_golden(golden, *fault[1:])
        _assert_refused(*main(argv, capsys), path=npz, fault=fault)
        return
    if side == "reference":
        path = _poison_golden(golden, *fault[1:])
        _assert_failed(*main(argv, capsys), side=side, fault=fault[1:],
                       path=golden if fault[1] == "curve" else None)
        assert fault[1] == "curve" or path.endswith(".npz")
        return
    _poisoned_runs(monkeypatch, fault[1:])
    _assert_failed(*main(argv, capsys), side=side, fault=fault[1:])


# -- run -----------------------------------------------------------------------

@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("fault", FAULTS, ids=[f[0] for f in FAULTS])
def test_run(tmp_path, capsys, monkeypatch, side, fault):
    golden = golden_copy(tmp_path, "sgd_none")[0]
    monkeypatch.setattr(golden_files, "GOLDEN_DIR", str(tmp_path))
    argv = ["run", "--workload", "sgd_none", "--epochs", "1", "--backend",
            "tf1-graph"]
    if fault[1] == "initial":
        npz = _poison_golden(golden, *fault[1:])
        _assert_refused(*main(argv, capsys), path=npz, fault=fault)
        return
    if side == "reference":
        _poison_golden(golden, *fault[1:])
    else:
        _poisoned_runs(monkeypatch, fault[1:])
    _assert_failed(*main(argv, capsys), side=side, fault=fault[1:],
                   path=golden if side == "reference" and fault[1] == "curve"
                   else None)


# -- compare (files only) ------------------------------------------------------

@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("fault", FAULTS, ids=[f[0] for f in FAULTS])
def test_compare(tmp_path, capsys, side, fault):
    (tmp_path / "ref").mkdir()
    golden = golden_copy(tmp_path / "ref", "sgd_none")[0]
    path = good_trace(tmp_path, name="sgd_none", golden=golden)
    t = trace.load(path)
    if side == "reference":
        _poison_golden(golden, *fault[1:])
        where = golden
    elif fault[1] == "initial":
        # a producer that started from a NaN weight: make_trace records it
        arrays = golden_files.read_npz(golden[:-len(".json")] + ".npz")
        initial = dict((name, arrays[init].copy()) for name, init, _ in
                       golden_files.layer_names(t.workload["config"]))
        initial[fault[2]][fault[3]] = fault[4]
        made = backends.make_trace(
            "tf2-keras", "exact", t.workload, "correct", t.port["optimizer"],
            initial, t.final_weights, t.curves, t.per_epoch,
            arrays["batch_order"])
        made.env = t.env
        made.save(path)
        where = path
    else:
        _poison_trace(t, *fault[1:]).save(path)
        where = path
    code, out, err = main(["compare", str(tmp_path)], capsys)
    _assert_failed(code, out, err, side, fault[1:], where)


# -- compare_models --------------------------------------------------------------

def _mlp_graph(x):
    import tensorflow as tf
    v1 = tf.compat.v1
    with v1.variable_scope("dense_0"):
        kernel = v1.get_variable("kernel", [64, 10])
        bias = v1.get_variable("bias", [10], initializer=v1.zeros_initializer())
    return tf.nn.bias_add(tf.matmul(x, kernel), bias)


def _mlp_keras():
    from compat_reg import _compat
    keras = _compat.keras
    keras.backend.clear_session()
    return keras.Sequential([keras.Input(shape=(64,)), keras.layers.Dense(
        10, kernel_initializer=keras.initializers.GlorotUniform(seed=1))])


def _digits():
    d = workloads.Data.load(os.path.join(workloads.golden_dir(), "digits.npz"))
    return d.x_train[:640], d.y_train[:640], d.x_test, d.y_test  # 20 steps


@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("fault", FAULTS, ids=[f[0] for f in FAULTS])
def test_compare_models(monkeypatch, side, fault):
    require("tf2-keras")
    from compat_reg.parity import compare_models
    spec = {"optimizer": "sgd", "lr": 0.1}
    model = _mlp_keras()
    kind, field, where, value = fault[1:]
    if kind == "initial":  # both sides start from these weights
        initial = dict(zip(("dense_0/kernel", "dense_0/bias"), [
            np.array(w.numpy()) for w in model.trainable_weights]))
        initial[field][where] = value
        with pytest.raises(ValueError) as caught:
            compare_models(_mlp_graph, model, _digits(), spec,
                           initial_weights=initial,
                           backend_names=("tf2-keras",))
        message = str(caught.value)
        assert field in message and "NaN at index %s" % (where,) in message
        return
    real = tf1_graph.train if side == "reference" else tf2_keras.train_loop

    def poisoned(*args, **kwargs):
        out = real(*args, **kwargs)
        if side == "reference":
            holder = _poison_trace(_Holder(out["curves"], out["final"]),
                                   kind, field, where, value)
            out["final"] = holder.final_weights
            return out
        curves, per_epoch, start, final = out
        names = ["dense_0/kernel", "dense_0/bias"]
        holder = _poison_trace(_Holder(curves, dict(zip(names, final))),
                               kind, field, where, value)
        return curves, per_epoch, start, [holder.final_weights[n]
                                          for n in names]
    target = tf1_graph if side == "reference" else tf2_keras
    monkeypatch.setattr(target, "train" if side == "reference"
                        else "train_loop", poisoned)
    report = compare_models(_mlp_graph, model, _digits(), spec,
                            backend_names=("tf2-keras",))
    (result,) = report.comparisons
    assert not report.ok and result.state == "FAIL"
    assert any(f.startswith(side + " ") and _expected(*fault[1:]) in f
               for f in result.failures), result.failures
    assert "FAIL" in report.table() and "0 failed" not in report.table()


class _Holder(object):
    """Curves and final weights in a trace's shape, for ``_poison_trace``."""

    def __init__(self, curves, final):
        self.curves = curves
        self.final_weights = final


# -- compat-reg check (a penalty: its reference value, its input) ---------------

# read from penalty_inputs.npz: scale 0.01, and scale 0 (whose penalty is 0
# whatever the weights: a NaN there would pass unnoticed by the arithmetic)
CHECK_CASES = ("l2_784x10", "l2_zero_scale")


def _check_copy(folder):
    for name in ("penalties.json", "penalty_inputs.npz"):
        shutil.copy(golden_files.path(name), str(folder))


@pytest.mark.parametrize("case_id", CHECK_CASES)
@pytest.mark.parametrize("value", [NAN, INF, -INF], ids=["nan", "inf", "-inf"])
@pytest.mark.parametrize("side", SIDES)
def test_check(tmp_path, monkeypatch, capsys, side, value, case_id):
    _check_copy(tmp_path)
    if side == "reference":
        path = str(tmp_path / "penalties.json")
        with open(path) as handle:
            record = json.load(handle)
        case = [c for c in record["cases"] if c["id"] == case_id][0]
        case["total_regularization_loss"] = value
        with open(path, "w") as handle:
            json.dump(record, handle)
    else:
        path = str(tmp_path / "penalty_inputs.npz")
        arrays = golden_files.read_npz(path)
        arrays[case_id] = arrays[case_id].copy()
        arrays[case_id][1, 2] = value
        np.savez(path, **arrays)
    monkeypatch.setattr(golden_files, "GOLDEN_DIR", str(tmp_path))
    assert top_cli.main(["check"]) == 1
    out = capsys.readouterr().out
    row = [line for line in out.splitlines() if line.split()[:1] == [case_id]]
    assert len(row) == 1 and row[0].split()[-1] == "FAIL", out
    assert "1 failed" in out
    if side == "run":
        name = "NaN" if value != value else ("+inf" if value > 0 else "-inf")
        assert "penalty_inputs.npz:%s holds %s at index (1, 2)" % (
            case_id, name) in out, out
