"""The golden files, and the one validating reader of every parity input.

The golden files are what real TensorFlow 1.15 computed (package data; see
``golden/README.md`` for the format). Every file compat_reg reads as
evidence (a golden JSON, its ``.npz`` arrays, a parity trace) goes through
``read_json`` / ``read_npz`` here, and a file that cannot be used raises
``InputError`` naming the file and the field, never a traceback from deep
inside and never a silent skip. Nothing here imports TensorFlow.
"""

from __future__ import absolute_import, division, print_function

import io
import json
import numbers
import os
import zipfile

import numpy as np

from compat_reg import convention

# Relative bound on a penalty against its golden value, by the weight's
# dtype. float32: the 1e-6. float16: 1e-3, about two float16 ulps near
# 1 (2**-10), room for a different reduction order (measured: 0). float64:
# Keras casts the scale through float32 (measured 2.2e-8), so 1e-7.
PENALTY_TOLERANCE = {"float32": 1e-6, "float16": 1e-3, "float64": 1e-7}

GOLDEN_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden")
FORMAT = "compat-reg-golden/1"

# What a training run records, per step and per epoch (golden files and
# parity traces alike).
CURVES = ("data_loss", "reg_loss", "total_loss")
EPOCH_METRICS = ("test_loss", "test_accuracy", "train_accuracy")


class InputError(ValueError):
    """A file that cannot be used as evidence; the message names the file
    and, where one is at fault, the field."""

    def __init__(self, path, field, problem):
        where = path if not field else "%s: field %r" % (path, field)
        super(InputError, self).__init__("%s: %s" % (where, problem))
        self.path = path
        self.field = field


def path(name):
    """The path of a golden file, e.g. ``path('penalties.json')``."""
    return os.path.join(GOLDEN_DIR, name)


def read_json(filename, formats=(FORMAT,)):
    """The JSON object of ``filename``, whose ``format`` is one of ``formats``.

    >>> read_json(path("README.md"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    compat_reg.golden_files.InputError: .../README.md: not JSON (truncated, empty or binary?): ...
    """
    try:
        with open(filename, "rb") as handle:
            raw = handle.read()
    except (IOError, OSError) as err:
        raise InputError(filename, None, "cannot read: %s" % (
            err.strerror or err)) from None
    try:
        record = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise InputError(filename, None, "not JSON (truncated, empty or "
                         "binary?): %s" % err) from None
    if not isinstance(record, dict):
        raise InputError(filename, None, "the top level is a JSON %s, "
                         "expected an object" % type(record).__name__)
    if record.get("format") not in formats:
        raise InputError(filename, "format", "is %r, expected %s" % (
            record.get("format"), " or ".join(repr(f) for f in formats)))
    return record


def read_npz(filename, keys=()):
    """All arrays of an ``.npz`` file as a dict; ``keys`` must be present."""
    try:
        with open(filename, "rb") as handle:
            raw = io.BytesIO(handle.read())
    except (IOError, OSError) as err:
        raise InputError(filename, None, "cannot read: %s" % (
            err.strerror or err)) from None
    try:
        # every member's CRC first, so numpy never holds a broken archive
        # (numpy 1.18's NpzFile then complains again when collected)
        with zipfile.ZipFile(raw) as archive:
            bad = archive.testzip()
        if bad is not None:
            raise ValueError("bad CRC-32 for %s" % bad)
        raw.seek(0)
        with np.load(raw, allow_pickle=False) as data:
            arrays = dict((key, data[key]) for key in data.files)
    except (zipfile.BadZipFile, ValueError, EOFError, KeyError, OSError) as err:
        raise InputError(filename, None, "not a readable .npz (truncated, "
                         "empty or corrupt?): %s" % err) from None
    for key in keys:
        if key not in arrays:
            raise InputError(filename, key, "missing")
    return arrays


def field(record, filename, name, kind, where=None):
    """``record[name]``, checked to be of ``kind`` (a type or tuple)."""
    label = name if where is None else "%s.%s" % (where, name)
    if not isinstance(record, dict) or name not in record:
        raise InputError(filename, label, "missing")
    value = record[name]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise InputError(filename, label, "is %s, expected %s" % (
            _short(value), _kind_name(kind)))
    return value


def _short(value):
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _kind_name(kind):
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(k.__name__ for k in kinds)


def _numbers(values, filename, label):
    if not isinstance(values, list) or not values:
        raise InputError(filename, label, "is %s, expected a non-empty list "
                         "of numbers" % _short(values))
    for i, value in enumerate(values):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise InputError(filename, "%s[%d]" % (label, i),
                             "is %s, expected a number" % _short(value))
    return values


def check_run(record, filename):
    """Validate the ``curves`` and ``per_epoch`` of a training record.

    Every curve has the same number of steps, every metric one value per
    epoch, the config's ``epochs`` of them, and the steps split into whole
    epochs. Returns ``(steps, epochs, optimizer)``, ``optimizer`` the
    config's spec as ``check_config`` parsed it.
    """
    config = (field(record, filename, "config", dict) if "config" in record
              else field(field(record, filename, "workload", dict), filename,
                         "config", dict, "workload"))
    optimizer = check_config(config, filename)
    curves = field(record, filename, "curves", dict)
    per_epoch = field(record, filename, "per_epoch", dict)
    steps = set(len(_numbers(curves.get(k), filename, "curves." + k))
                for k in CURVES)
    if len(steps) != 1:
        raise InputError(filename, "curves", "the curves have different "
                         "lengths %s" % sorted(steps))
    epochs = set(len(_numbers(per_epoch.get(k), filename, "per_epoch." + k))
                 for k in EPOCH_METRICS)
    if len(epochs) != 1:
        raise InputError(filename, "per_epoch", "the metrics have different "
                         "lengths %s" % sorted(epochs))
    steps, epochs = steps.pop(), epochs.pop()
    if epochs != config["epochs"]:
        raise InputError(filename, "per_epoch", "%d epochs recorded, the "
                         "config says epochs=%d" % (epochs, config["epochs"]))
    if steps % epochs:
        raise InputError(filename, "curves", "%d steps do not split into %d "
                         "epochs" % (steps, epochs))
    return steps, epochs, optimizer


def _positive_ints(config, filename, key, count=None):
    values = field(config, filename, key, list if count else int, "config")
    items = values if count else [values]
    if (count and len(items) != count) or not all(
            isinstance(v, int) and not isinstance(v, bool) and v > 0
            for v in items):
        raise InputError(filename, "config." + key, "is %s, expected %s" % (
            _short(values), "%d positive integers" % count if count
            else "a positive integer"))
    return values


def check_config(config, filename):
    """A workload ``config``: its model (``mlp``: sizes, activation;
    ``convnet``: image, filters, kernel_size, classes), batch, epochs and
    optimizer (schedule and weight decay included). Returns the optimizer
    spec parsed (``convention.OptimizerSpec``): the one parse of it, for the
    reader to pass on."""
    model = config.get("model", "mlp")
    if model == "mlp":
        sizes = field(config, filename, "sizes", list, "config")
        if len(sizes) < 2 or not all(isinstance(s, int) and not isinstance(
                s, bool) and s > 0 for s in sizes):
            raise InputError(filename, "config.sizes", "is %s, expected two or "
                             "more positive layer widths" % _short(sizes))
        field(config, filename, "activation", str, "config")
    elif model == "convnet":
        _positive_ints(config, filename, "image", 3)
        for key in ("filters", "kernel_size", "classes"):
            _positive_ints(config, filename, key)
        field(config, filename, "batch_norm", dict, "config")
    else:
        raise InputError(filename, "config.model", "is %r, expected 'mlp' or "
                         "'convnet'" % (model,))
    for key in ("batch", "epochs"):
        if field(config, filename, key, int, "config") < 1:
            raise InputError(filename, "config." + key, "is %r, expected a "
                             "positive integer" % config[key])
    try:
        return convention.parse_optimizer(config)
    except (TypeError, ValueError) as err:
        raise InputError(filename, "config.optimizer", str(err)) from None


def layer_names(config):
    """``[(weight name, golden init key, golden final key)]``, in order.

    The one place that spells a workload MLP's weights: layer ``i`` is
    ``dense_<i>/kernel`` and ``dense_<i>/bias`` (the TF1 variable scopes of
    the golden recipe), ``init_w<i>``/``init_b<i>`` and
    ``final_dense_<i>_kernel``/``_bias`` in the npz.

    >>> [n for n, _, _ in layer_names({"sizes": [4, 3, 2]})]
    ['dense_0/kernel', 'dense_0/bias', 'dense_1/kernel', 'dense_1/bias']
    >>> layer_names({"sizes": [4, 2]})[1]
    ('dense_0/bias', 'init_b0', 'final_dense_0_bias')
    """
    out = []
    for i in range(len(config["sizes"]) - 1):
        for part, short in (("kernel", "w"), ("bias", "b")):
            out.append(("dense_%d/%s" % (i, part), "init_%s%d" % (short, i),
                        "final_dense_%d_%s" % (i, part)))
    return out


DATA_KEYS = ("x_train", "y_train", "x_test", "y_test")


def read_training(filename):
    """``(record, arrays, data, optimizer)`` of a golden-format training
    file, checked.

    ``arrays`` are its npz (initial and final weights, ``batch_order``),
    ``data`` the data set's npz (``x_train, y_train, x_test, y_test``),
    ``optimizer`` its config's spec, parsed (``check_config``); the
    shapes must fit the config, and every ``batch_order`` index must be a row
    of ``x_train``.
    """
    record = read_json(filename)
    steps, epochs, optimizer = check_run(record, filename)
    config = record["config"]
    folder = os.path.dirname(os.path.abspath(filename))
    names = layer_names(config)
    arrays_name = field(record, filename, "arrays", str)
    arrays_path = os.path.join(folder, arrays_name)
    arrays = read_npz(arrays_path, [k for _, i, f in names for k in (i, f)]
                      + ["batch_order"])
    data_path = os.path.join(folder, record.get("data") or "digits.npz")
    data = read_npz(data_path, DATA_KEYS)
    sizes = config["sizes"]
    for i, (name, init, final) in enumerate(names):
        want = ((sizes[i // 2], sizes[i // 2 + 1]) if i % 2 == 0
                else (sizes[i // 2 + 1],))
        for key in (init, final):
            if arrays[key].shape != want:
                raise InputError(arrays_path, key, "has shape %s, %s needs %s"
                                 % (arrays[key].shape, name, want))
    order = arrays["batch_order"]
    n_train = len(data["x_train"])
    if order.ndim != 3 or order.dtype.kind not in "iu" or (
            order.shape[0] != epochs or order.shape[0] * order.shape[1] != steps):
        raise InputError(arrays_path, "batch_order", "has shape %s (%s), "
                         "expected integers of shape (%d epochs, %d steps, "
                         "batch)" % (order.shape, order.dtype, epochs,
                                     steps // epochs))
    if order.size and (order.min() < 0 or order.max() >= n_train):
        raise InputError(arrays_path, "batch_order", "indices %d..%d are out "
                         "of range for %d rows of x_train" % (
                             order.min(), order.max(), n_train))
    if data["x_train"].ndim != 2 or data["x_train"].shape[1] != sizes[0]:
        raise InputError(data_path, "x_train", "has shape %s, the config's "
                         "input width is %d" % (data["x_train"].shape, sizes[0]))
    return record, arrays, data, optimizer


def load_json(name):
    """A golden JSON file by name, checked for the golden format tag."""
    return read_json(path(name))


def penalties():
    """``penalties.json`` as a dict."""
    record = load_json("penalties.json")
    field(record, path("penalties.json"), "cases", list)
    return record


def penalty_input(init, shape=None, dtype=None):
    """The array a case's ``init`` names: ``"ones"`` or ``"penalty_inputs.npz:<id>"``."""
    if init == "ones":
        return np.ones(shape, dtype)
    archive, key = init.split(":", 1)
    return read_npz(path(archive), [key])[key]


def penalty_cases():
    """``[(case, array)]`` for every case of ``penalties.json``."""
    return [(case, penalty_input(case["init"], case["shape"], case["dtype"]))
            for case in penalties()["cases"]]


def arrays(name):
    """All arrays of an npz golden file, as a dict."""
    return read_npz(path(name))


def training_cases():
    """The ids of the golden training runs (``train_<id>.json``)."""
    return sorted(f[len("train_"):-len(".json")] for f in os.listdir(GOLDEN_DIR)
                  if f.startswith("train_") and f.endswith(".json"))
