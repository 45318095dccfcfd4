"""Fuzzing the harness's inputs: generated mutations of a valid workload
(its JSON config, its arrays npz, its data npz) and of a valid trace.

Every mutation must end in exit 2 with one line on stderr that names the
file and the key, nothing on stdout (a workload is refused before any
training), and never a traceback. The mutations are generated: every key
dropped, every key given a value of every other JSON type, numbers made
NaN / inf / out of range, arrays of the wrong dtype, shape or length,
files truncated. What is valid comes from the golden format
(``compat_reg/golden/README.md``) and the trace format (``trace.py``'s
docstring), restated here as the predicates below.
"""

import json
import os

import numpy as np
import pytest

from compat_reg import golden_files
from parity_helpers import golden_copy, good_trace, main, relabelled

NAN, INF = float("nan"), float("inf")
# A value of each JSON type (and a negative number, and NaN)
POOL = [None, True, "x", [], {}, 1.5, -3, NAN]


def _json_type(value):
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__


def _one_error_line(code, out, err, names, stdout_empty=True):
    assert code == 2, (code, out, err)
    assert "Traceback" not in err, err
    assert err.count("\n") == 1 and err.endswith("\n"), err
    for name in names:
        assert name in err, (name, err)
    if stdout_empty:
        assert out == "", out


# -- the workload: replay of a golden-format copy ----------------------------

CONFIG = golden_files.read_json(golden_files.path("train_sgd_l2.json"))["config"]
# the keys training reads (golden README: "config")
REQUIRED = ("activation", "batch", "epochs", "lr", "optimizer", "reg", "sizes")
# which values of POOL a key may hold (the golden format); others are wrong
VALID = {
    "lr": lambda v: _json_type(v) == "number" and v == v and v > 0,
    "reg": lambda v: v is None,
    "bias_reg": lambda v: isinstance(v, bool),
    "init_seed": lambda v: True,   # a record of how the arrays were made
    "order_seed": lambda v: True,
}


def _config_mutations():
    out = [("drop-%s" % key, key, lambda c, k=key: c.pop(k))
           for key in REQUIRED]
    for key in sorted(CONFIG):
        for value in POOL:
            if _json_type(value) == _json_type(CONFIG[key]) and not (
                    _json_type(value) == "number"):
                continue
            if VALID.get(key, lambda v: False)(value):
                continue
            out.append(("%s=%r" % (key, value), key,
                        lambda c, k=key, v=value: c.update({k: v})))
    # numbers out of range, NaN/inf, specs that cannot build
    for key, value in [
            ("lr", INF), ("lr", -0.1), ("lr", 0.0), ("batch", 0),
            ("epochs", 0), ("sizes", [64, 0, 256, 10]),
            ("sizes", [64, 256, 256, 10.5]), ("activation", "zz"),
            ("optimizer", "zz"), ("bias_reg", "false"), ("bias_reg", 0),
            ("reg", ["l2"]), ("reg", ["l2", -0.01]), ("reg", ["l2", NAN]),
            ("reg", ["l2", INF]), ("reg", ["zz", 0.01]),
            ("reg", ["l2", 0.01, 0.02]), ("reg", ["l2", "0.01"]),
            ("reg", ["l1_l2", 0.01]), ("reg", [0.01, "l2"])]:
        out.append(("%s=%r" % (key, value), key,
                    lambda c, k=key, v=value: c.update({k: v})))
    return out


CONFIG_MUTATIONS = _config_mutations()


@pytest.mark.parametrize("name,key,mutate", CONFIG_MUTATIONS,
                         ids=[m[0] for m in CONFIG_MUTATIONS])
def test_workload_config(tmp_path, capsys, name, key, mutate):
    golden, _ = golden_copy(tmp_path)
    with open(golden) as handle:
        record = json.load(handle)
    mutate(record["config"])
    with open(golden, "w") as handle:
        json.dump(record, handle)
    code, out, err = main(["replay", golden, "--backend", "tf1-graph"], capsys)
    _one_error_line(code, out, err, [golden, key])


def _npz(path, change):
    arrays = golden_files.read_npz(path)
    change(arrays)
    np.savez(path, **arrays)


def _set(key, value_fn):
    def change(arrays):
        arrays[key] = value_fn(arrays[key])
    return change


def _put(key, index, value):
    def fn(array):
        array = array.copy()
        array[index] = value
        return array
    return _set(key, fn)


def _arrays_mutations():
    """(id, file: 'arrays' or 'data', key named, change)."""
    with np.load(golden_files.path("train_sgd_l2.npz")) as data:
        array_keys = sorted(data.files)
    out = [("drop-%s" % k, "arrays", k, lambda a, k=k: a.pop(k))
           for k in array_keys]
    out += [("drop-%s" % k, "data", k, lambda a, k=k: a.pop(k))
            for k in golden_files.DATA_KEYS]
    for value in (NAN, INF, -INF):
        out += [("init_w1[%r]" % value, "arrays", "init_w1",
                 _put("init_w1", (0, 5), value)),
                ("x_train[%r]" % value, "data", "x_train",
                 _put("x_train", (7, 1), value)),
                ("x_test[%r]" % value, "data", "x_test",
                 _put("x_test", (3, 63), value))]
    out += [
        ("init_b0-float64", "arrays", "init_b0",
         _set("init_b0", lambda a: a.astype(np.float64))),
        ("init_w0-int", "arrays", "init_w0",
         _set("init_w0", lambda a: a.astype(np.int32))),
        ("init_w0-transposed", "arrays", "init_w0", _set("init_w0", np.transpose)),
        ("batch_order-float", "arrays", "batch_order",
         _set("batch_order", lambda a: a.astype(np.float32))),
        ("batch_order-2d", "arrays", "batch_order",
         _set("batch_order", lambda a: a.reshape(5, -1))),
        ("batch_order-batch-16", "arrays", "batch_order",
         _set("batch_order", lambda a: a[:, :, :16])),
        ("batch_order-negative", "arrays", "batch_order",
         _put("batch_order", (1, 2, 3), -1)),
        ("batch_order-past-end", "arrays", "batch_order",
         _put("batch_order", (4, 43, 31), 1437)),
        ("y_train-short", "data", "y_train",
         _set("y_train", lambda a: a[:1000])),
        ("y_test-long", "data", "y_test",
         _set("y_test", lambda a: np.concatenate([a, a[:3]]))),
        ("y_train-float", "data", "y_train",
         _set("y_train", lambda a: a.astype(np.float32))),
        ("y_train-2d", "data", "y_train", _set("y_train", lambda a: a[:, None])),
        ("y_train-10", "data", "y_train", _put("y_train", 17, 10)),
        ("y_train-negative", "data", "y_train", _put("y_train", 0, -1)),
        ("y_test-10", "data", "y_test", _put("y_test", 359, 10)),
        ("x_train-int", "data", "x_train",
         _set("x_train", lambda a: a.astype(np.int64))),
        ("x_test-63-columns", "data", "x_test", _set("x_test", lambda a: a[:, :63])),
        ("x_train-1d", "data", "x_train", _set("x_train", lambda a: a[:, 0])),
    ]
    return out


ARRAY_MUTATIONS = _arrays_mutations()


@pytest.mark.parametrize("name,which,key,change", ARRAY_MUTATIONS,
                         ids=[m[0] for m in ARRAY_MUTATIONS])
def test_workload_arrays(tmp_path, capsys, name, which, key, change):
    golden, arrays = golden_copy(tmp_path)
    path = arrays if which == "arrays" else str(tmp_path / "digits.npz")
    _npz(path, change)
    code, out, err = main(["replay", golden, "--backend", "tf1-graph"], capsys)
    _one_error_line(code, out, err, [path, key])


@pytest.mark.parametrize("which", ["json", "arrays", "data"])
@pytest.mark.parametrize("fraction", [0.0, 0.5, 0.99])
def test_workload_truncated(tmp_path, capsys, which, fraction):
    golden, arrays = golden_copy(tmp_path)
    path = {"json": golden, "arrays": arrays,
            "data": str(tmp_path / "digits.npz")}[which]
    with open(path, "rb") as handle:
        data = handle.read()
    with open(path, "wb") as handle:
        handle.write(data[:int(len(data) * fraction)])
    code, out, err = main(["replay", golden, "--backend", "tf1-graph"], capsys)
    _one_error_line(code, out, err, [path])


# -- traces: compare of a folder holding a good and a mutated trace -----------

def _paths(record, prefix=(), depth=3):
    """Every key path of a trace down to ``depth`` (list items: the first
    of a curve only), skipping the informational env entries."""
    out = []
    for key, value in record.items():
        path = prefix + (key,)
        if prefix == ("env",) and key != "backend":
            continue  # python, numpy, ...: a label, never read to compare
        if prefix == ("port", "optimizer") and key != "kind":
            continue  # settings compared only when they are numbers
        if prefix == ("workload", "config") and key in ("init_seed",
                                                        "order_seed"):
            continue  # how the arrays were made: a record, never read
        out.append(path)
        if isinstance(value, dict) and len(path) < depth:
            out.extend(_paths(value, path, depth))
        elif isinstance(value, list) and prefix == ("curves",):
            out.append(path + (3,))
    return out


def _get(record, path):
    for key in path:
        record = record[key]
    return record


def _trace_record(folder):
    path = good_trace(folder, "tf299")
    with open(path) as handle:
        return path, json.load(handle)


def _trace_mutations():
    record = json.loads(relabelled().dumps())
    out = []
    for path in _paths(record):
        if not isinstance(path[-1], int):
            out.append(("drop-" + ".".join(map(str, path)), path, "drop"))
        original = _get(record, path)
        for value in POOL:
            if _json_type(value) == _json_type(original):
                continue
            if _json_type(original) == "number" and value == value and (
                    _json_type(value) == "number"):
                continue
            if value != value and _json_type(original) == "number":
                continue  # a NaN curve value fails the comparison (exit 1)
            out.append(("%s=%r" % (".".join(map(str, path)), value), path,
                        value))
    return out


TRACE_MUTATIONS = _trace_mutations()


def _named(path):
    """What the error must name: the key, or for a list item its curve."""
    return path[-1] if not isinstance(path[-1], int) else path[-2]


@pytest.mark.parametrize("name,path,value", TRACE_MUTATIONS,
                         ids=[m[0] for m in TRACE_MUTATIONS])
def test_trace(tmp_path, capsys, name, path, value):
    good_trace(tmp_path, "tf298")
    broken, record = _trace_record(tmp_path)
    parent = _get(record, path[:-1])
    if value == "drop":
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    with open(broken, "w") as handle:
        json.dump(record, handle)
    code, out, err = main(["compare", str(tmp_path), "--golden"], capsys)
    _one_error_line(code, out, err, [broken, str(_named(path))],
                    stdout_empty=False)
    assert "0 failed" not in out


def _curve_short(record):
    record["curves"]["reg_loss"].pop()


def _epoch_short(record):
    record["per_epoch"]["test_loss"].pop()


def _weight_reshaped(record):
    record["final_weights"]["dense_1/kernel"]["shape"] = [128, 512]


def _weight_extra(record):
    record["final_weights"]["dense_9/kernel"] = record["final_weights"][
        "dense_0/bias"]


def _order_short(record):
    record["port"]["batch_order"].pop()


def _initial_digest_number(record):
    record["port"]["initial_weights"]["dense_0/kernel"] = 7


SHAPE_MUTATIONS = [
    ("curve-one-step-short", _curve_short, "curves"),
    ("epoch-metric-short", _epoch_short, "per_epoch"),
    ("weight-same-size-other-shape", _weight_reshaped, "dense_1/kernel"),
    ("weight-not-in-the-reference", _weight_extra, "dense_9/kernel"),
    ("batch-order-one-hash-short", _order_short, "port.batch_order"),
    ("initial-digest-a-number", _initial_digest_number,
     "port.initial_weights.dense_0/kernel"),
]


@pytest.mark.parametrize("name,mutate,names", SHAPE_MUTATIONS,
                         ids=[m[0] for m in SHAPE_MUTATIONS])
def test_trace_shapes(tmp_path, capsys, name, mutate, names):
    good_trace(tmp_path, "tf298")
    broken, record = _trace_record(tmp_path)
    mutate(record)
    with open(broken, "w") as handle:
        json.dump(record, handle)
    code, out, err = main(["compare", str(tmp_path), "--golden"], capsys)
    _one_error_line(code, out, err, [broken, names], stdout_empty=False)


def test_the_good_trace_compares(tmp_path, capsys):
    """The control: the unmutated trace and folder pass."""
    good_trace(tmp_path, "tf298")
    _trace_record(tmp_path)
    code, out, err = main(["compare", str(tmp_path), "--golden"], capsys)
    assert code == 0 and err == "", out + err
    assert os.path.exists(str(tmp_path / "tf299" / "sgd_l2__tf2-keras.json"))
