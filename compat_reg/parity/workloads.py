"""Workloads: the golden ``config`` plus the arrays and data it names.

A workload is exactly a golden file's ``config`` (sizes, activation,
optimizer and its settings, reg, bias_reg, batch, epochs, seeds), with the
initial weights and batch order from the npz next to it and the digits data
set. The built-in workloads are the golden training cases plus ``adam_l2``
(no Adam golden exists: the ``sgd_l2`` case with TF1's ``AdamOptimizer(0.001,
epsilon=1e-8)``, whose reference is the ``tf1-graph`` backend).
"""

from __future__ import absolute_import, division, print_function

import collections
import copy
import os

import numpy as np

from compat_reg import convention, golden_files
from compat_reg.parity import finite, models, registry


def golden_dir():
    """The ``golden`` folder shipped inside the package."""
    return golden_files.GOLDEN_DIR


def _labels(values):
    """Integer labels as int64; anything else as given, for ``check_data``
    to refuse (a cast would turn 2.5 into 2 and NaN into a number)."""
    values = np.asarray(values)
    return values.astype(np.int64) if values.dtype.kind in "iu" else values


class Data(object):
    """Train and test arrays of a classification data set."""

    def __init__(self, x_train, y_train, x_test, y_test):
        self.x_train = np.asarray(x_train)
        self.y_train = _labels(y_train)
        self.x_test = np.asarray(x_test)
        self.y_test = _labels(y_test)

    @classmethod
    def load(cls, path):
        """Read ``x_train, y_train, x_test, y_test`` from an npz file."""
        arrays = golden_files.read_npz(path, golden_files.DATA_KEYS)
        return cls(*[arrays[key] for key in golden_files.DATA_KEYS])


class Workload(object):
    """One training run to reproduce.

    Attributes:
      name: short id (``sgd_l2``).
      config: the golden ``config`` dict, unchanged.
      init: list of initial arrays, ``[w0, b0, w1, b1, ...]``.
      batch_order: int array (epochs, steps, batch) of row indices.
      data: a ``Data``.
      golden_path: the golden JSON this came from, or None.
      reference: ``"golden"`` or the backend that serves as reference.
    """

    def __init__(self, name, config, init, batch_order, data,
                 golden_path=None, reference="golden"):
        self.name = name
        self.config = config
        self.init = init
        self.batch_order = np.asarray(batch_order)
        self.data = data
        self.golden_path = golden_path
        self.reference = reference
        self._optimizer_spec = None

    @property
    def optimizer_spec(self):
        """The config's optimizer spec, parsed once
        (``convention.OptimizerSpec``; after ``validate``): what every
        backend builds its optimizer from."""
        if self._optimizer_spec is None:
            self._optimizer_spec = convention.parse_optimizer(self.config)
        return self._optimizer_spec

    def variable_names(self):
        """Canonical (TF1) names of the model's variables, in order
        (``dense_<i>/kernel``, ``dense_<i>/bias`` for an MLP)."""
        return models.variable_names(self.config)

    def truncated(self, epochs):
        """The same workload cut to its first ``epochs`` epochs."""
        if epochs is not None and (isinstance(epochs, bool) or not isinstance(
                epochs, int) or epochs < 1):
            raise ValueError("epochs must be a positive integer, not %r" % (
                epochs,))
        if epochs is None or epochs >= self.config["epochs"]:
            return self
        config = copy.deepcopy(self.config)
        config["epochs"] = int(epochs)
        return Workload(self.name, config, self.init,
                        self.batch_order[:epochs], self.data,
                        self.golden_path, self.reference)

    def with_config(self, **changes):
        """A copy with some config entries changed (the arrays are shared)."""
        config = copy.deepcopy(self.config)
        config.update(changes)
        return Workload(self.name, config, self.init, self.batch_order,
                        self.data, self.golden_path, self.reference)


# Where a workload's parts come from, for the validator's messages:
# ``init_keys`` are the initial arrays' keys in ``arrays`` (None: the weight
# names).
Sources = collections.namedtuple("Sources", "config arrays data init_keys")
Sources.__new__.__defaults__ = (None,)


def from_golden(path):
    """The workload of a golden training file (any file in that format),
    validated (``validate``)."""
    record, arrays, data, _ = golden_files.read_training(path)
    config = record["config"]
    keys = [key for _, key, _ in golden_files.layer_names(config)]
    folder = os.path.dirname(os.path.abspath(path))
    work = Workload(record.get("id") or os.path.basename(path)[:-5], config,
                    [arrays[key] for key in keys], arrays["batch_order"],
                    Data(*[data[key] for key in golden_files.DATA_KEYS]),
                    golden_path=path)
    return validate(work, Sources(
        path, os.path.join(folder, record["arrays"]),
        os.path.join(folder, record.get("data") or "digits.npz"), keys))


def _nonfinite_numbers(value, label):
    """``(label, value)`` of the first NaN/inf number inside a config."""
    if isinstance(value, dict):
        items = sorted(value.items())
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        bad = isinstance(value, float) and finite.first([value])
        return (label, value) if bad else None
    for key, item in items:
        found = _nonfinite_numbers(item, "%s[%d]" % (label, key) if isinstance(
            value, list) else "%s.%s" % (label, key) if label else key)
        if found:
            return found
    return None


def _check_reg(config, where):
    """``reg``: present, and null (no penalty) or a spec ``[kind, scale,
    ...]`` that ``regularizers.from_spec`` accepts."""
    from compat_reg import regularizers  # deferred: a worker imports it before TF setup
    spec = golden_files.field(config, where, "reg", (list, type(None)),
                              "config")
    try:
        regularizers.from_spec(spec)
    except (TypeError, ValueError) as err:
        raise golden_files.InputError(where, "config.reg", str(err)) from None


def _io_sizes(config):
    """``(input width, classes)`` of a workload's model."""
    if config.get("model", "mlp") == "mlp":
        return config["sizes"][0], config["sizes"][-1]
    return int(np.prod(config["image"])), config["classes"]


def check_config(config, where):
    """A workload ``config`` as training reads it: the model, batch, epochs
    and optimizer (``golden_files.check_config``), every number finite,
    ``reg``, ``bias_reg`` a bool, an activation both TF1 and Keras know."""
    golden_files.check_config(config, where)
    found = _nonfinite_numbers(config, "")
    if found:
        raise golden_files.InputError(where, "config." + found[0], "is %r, "
                                      "expected a finite number" % found[1])
    _check_reg(config, where)
    if not isinstance(config.get("bias_reg", False), bool):
        raise golden_files.InputError(where, "config.bias_reg", "is %s, "
                                      "expected true or false" %
                                      golden_files._short(config["bias_reg"]))
    if config.get("model", "mlp") == "mlp":
        _check_activation(config["activation"], where)
    return config


def _check_activation(name, where):
    import tensorflow as tf  # deferred: a worker imports it before TF setup
    from compat_reg import _compat  # deferred: a worker imports it before TF setup
    try:
        _compat.keras.activations.get(name)
        known = callable(getattr(tf.nn, name, None))
    except (ValueError, TypeError):
        known = False
    if not known:
        raise golden_files.InputError(where, "config.activation", "%r is not "
                                      "an activation of both tf.nn and Keras "
                                      "(e.g. 'relu', 'tanh')" % (name,))


def _array(array, where, key, kinds, what, ndim=None):
    """``array`` as numpy, checked to be ``ndim``-d (at least 2 if None) of
    a dtype kind in ``kinds``."""
    array = np.asarray(array)
    if array.dtype.kind not in kinds or (
            array.ndim != ndim if ndim else array.ndim < 2):
        raise golden_files.InputError(where, key, "is %s of shape %s, expected"
                                      " %s" % (array.dtype, array.shape, what))
    return array


def check_data(data, where, sample_shape=None, classes=None):
    """A ``Data`` as training reads it: finite float inputs (each row of
    ``sample_shape`` if given), one integer label per row, labels >= 0 (and
    < ``classes``, ``check_labels``). ``where`` names the data file."""
    for split in ("train", "test"):
        x = _array(getattr(data, "x_" + split), where, "x_" + split, "f",
                   "floats, one row per example")
        y = _array(getattr(data, "y_" + split), where, "y_" + split, "iu",
                   "integer class indices (1-d)", 1)
        if len(y) != len(x):
            raise golden_files.InputError(where, "y_" + split, "%d labels for "
                                          "%d rows of x_%s" % (len(y), len(x),
                                                               split))
        if sample_shape is not None and x.shape[1:] != tuple(sample_shape):
            raise golden_files.InputError(where, "x_" + split, "rows of shape "
                                          "%s, the model's input is %s" % (
                                              x.shape[1:], tuple(sample_shape)))
        bad = finite.first(x, "index")
        if bad:
            raise golden_files.InputError(where, "x_" + split, bad)
        if len(y) and y.min() < 0:
            raise golden_files.InputError(where, "y_" + split, "label %d at "
                                          "row %d; labels are class indices >= 0"
                                          % (y.min(), int(np.argmin(y))))
    if classes is not None:
        check_labels(data, where, classes)


def check_labels(data, where, classes):
    """Every label of ``data`` a class of a model with ``classes`` logits."""
    for split in ("train", "test"):
        y = getattr(data, "y_" + split)
        if len(y) and y.max() >= classes:
            raise golden_files.InputError(
                where, "y_" + split, "label %d at row %d; the model has %d "
                "classes (labels 0..%d)" % (y.max(), int(np.argmax(y)), classes,
                                            classes - 1))


def check_start(names, init, batch_order, rows, sources, batch=None,
                epochs=None, dtype=None):
    """The initial arrays (one per weight of ``names``, float, ``dtype`` if
    given, finite) and the batch order (integer ``(epochs, steps, batch)``,
    every index one of ``rows`` rows) that training starts from."""
    if len(init) != len(names):
        raise golden_files.InputError(sources.arrays, "initial weights", "%d "
                                      "arrays for %d weights (%s)" % (
                                          len(init), len(names),
                                          ", ".join(names)))
    for key, name, value in zip(sources.init_keys or names, names, init):
        value = np.asarray(value)
        key = key if key == name else "%s (%s)" % (key, name)
        if value.dtype.kind != "f" or (dtype and value.dtype != dtype):
            raise golden_files.InputError(sources.arrays, key, "dtype %s, "
                                          "expected %s" % (value.dtype, np.dtype(
                                              dtype).name if dtype else "float"))
        bad = finite.first(value, "index")
        if bad:
            raise golden_files.InputError(sources.arrays, key, "the initial "
                                          "value holds " + bad)
    order = _array(batch_order, sources.arrays, "batch_order", "iu",
                   "integer row indices of shape (epochs, steps, batch)", 3)
    for size, want, what in ((order.shape[0], epochs, "epochs"),
                             (order.shape[2], batch, "batch")):
        if want is not None and size != want:
            raise golden_files.InputError(sources.arrays, "batch_order", "has "
                                          "shape %s: %d %s, the config says %d"
                                          % (order.shape, size, what, want))
    if order.size and (order.min() < 0 or order.max() >= rows):
        raise golden_files.InputError(sources.arrays, "batch_order", "indices "
                                      "%d..%d, x_train and y_train have rows "
                                      "0..%d" % (order.min(), order.max(),
                                                 rows - 1))


def validate(workload, sources=None):
    """The one validator of a workload, run before any training: its config
    (``check_config``), data (``check_data``), initial weights and batch
    order (``check_start``). A problem raises ``golden_files.InputError``
    naming the file (``sources``) and the key. Returns ``workload``."""
    sources = sources or Sources("%s: config" % workload.name,
                                 "%s: arrays" % workload.name,
                                 "%s: data" % workload.name)
    config = check_config(workload.config, sources.config)
    width, classes = _io_sizes(config)
    check_data(workload.data, sources.data, (width,), classes)
    check_start(workload.variable_names(), workload.init, workload.batch_order,
                len(workload.data.x_train), sources, config["batch"],
                config["epochs"], np.float32)
    return workload


# The built-in workloads' names (their entries: ``registry.WORKLOADS``).
BUILTIN = tuple(registry.WORKLOADS)
GOLDEN_CASES = registry.GOLDEN_CASES


def _checkpoint_init(config):
    """The initial arrays of ``config``'s model: the checkpoint's values of
    its TF1 variable names (what ``tf.train.Saver.restore`` gives TF1)."""
    import tensorflow as tf  # deferred: a worker imports it before TF setup
    reader = tf.train.load_checkpoint(models.checkpoint_path(
        config["init_checkpoint"]))
    return [reader.get_tensor(name) for name in models.variable_names(config)]


def builtin(name):
    """A built-in workload by name (an entry of ``registry.WORKLOADS``)."""
    entry = registry.WORKLOADS.get(name)
    if entry is None:
        raise KeyError("unknown workload %r; built-in: %s" % (
            name, ", ".join(BUILTIN)))
    if entry.base is None:
        return from_golden(os.path.join(golden_dir(), "train_%s.json" % name))
    work = builtin(entry.base).with_config(**entry.changes)
    if "epochs" in entry.changes:
        work.batch_order = work.batch_order[:entry.changes["epochs"]]
    if entry.init == "checkpoint":
        work.init = _checkpoint_init(work.config)
    elif entry.init is not None:
        work.config["init_seed"] = entry.init
        work.init = models.numpy_init(work.config, entry.init)
    work.name = name
    work.golden_path = None
    work.reference = "tf1-graph"
    return validate(work)
