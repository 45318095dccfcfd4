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

def golden_dir():
    """The ``golden`` folder shipped inside the package."""
    return golden_files.GOLDEN_DIR


class Data(object):
    """Train and test arrays of a classification data set."""

    def __init__(self, x_train, y_train, x_test, y_test):
        self.x_train = np.asarray(x_train)
        self.y_train = np.asarray(y_train).astype(np.int64)
        self.x_test = np.asarray(x_test)
        self.y_test = np.asarray(y_test).astype(np.int64)

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

    def variable_names(self):
        """Canonical (TF1) names of the model's variables, in order
        (``dense_<i>/kernel``, ``dense_<i>/bias`` for an MLP)."""
        from compat_reg.parity import models
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


def from_golden(path):
    """The workload of a golden training file (any file in that format)."""
    record, arrays, data = golden_files.read_training(path)
    config = record["config"]
    init = [arrays[key] for _, key, _ in golden_files.layer_names(config)]
    return Workload(record.get("id") or os.path.basename(path)[:-5], config,
                    init, arrays["batch_order"],
                    Data(*[data[key] for key in golden_files.DATA_KEYS]),
                    golden_path=path)


# adam_l2 states TF1's epsilon explicitly, as its TF1 code did.
ADAM_EPSILON = convention.OPTIMIZER["adam"].defaults["epsilon"]

GOLDEN_CASES = ("sgd_none", "sgd_l2", "momentum_l1_l2")

# What real models add (no golden file: their reference is the tf1-graph
# backend, whose run on real TF 1.15 the tf1 env records). Each uses the
# digits data and sgd_l2's batch order; ``init`` None keeps sgd_l2's initial
# weights, else ``models.numpy_init(config, init)``.
DERIVED = collections.OrderedDict([
    # the sgd_l2 MLP with TF1's AdamOptimizer(0.001, epsilon=1e-8)
    ("adam_l2", (None, dict(optimizer="adam", lr=0.001, epsilon=ADAM_EPSILON))),
    # ... and its learning rate on exponential_decay(global_step)
    ("adam_exp_decay", (None, dict(
        optimizer="adam", lr=0.002, epsilon=ADAM_EPSILON, schedule=dict(
            kind="exponential_decay", decay_steps=44, decay_rate=0.5,
            staircase=False)))),
    # contrib's AdamWOptimizer(weight_decay=1e-4) decaying kernels only, no
    # L2 penalty: decoupled weight decay in place of it
    ("adamw", (None, dict(
        optimizer="adamw", lr=0.001, epsilon=ADAM_EPSILON, weight_decay=1e-4,
        decay_biases=False, reg=None))),
    # a conv net with batch norm and dropout, momentum with a rate drop after
    # the first epoch (piecewise_constant on global_step)
    ("convnet_bn", (4, dict(
        model="convnet", image=[8, 8, 1], filters=4, kernel_size=3, classes=10,
        batch_norm=dict(decay=0.9, epsilon=0.001), dropout=0.25,
        dropout_seed=5, reg=["l2", 0.001], bias_reg=False, sizes=None,
        activation="relu", optimizer="momentum", lr=0.05, momentum=0.9,
        epochs=2, schedule=dict(kind="piecewise_constant", boundaries=[44],
                                values=[0.05, 0.005])))),
    # the same model fine-tuned from a checkpoint written by TF 1.15 (one
    # epoch of it, tf1_checkpoints/make_convnet_bn.py): every variable, the
    # moving statistics included, starts from the checkpoint
    ("convnet_from_checkpoint", ("checkpoint", dict(
        init_checkpoint="convnet_bn", epochs=1, schedule=None))),
])
BUILTIN = GOLDEN_CASES + tuple(DERIVED)


def checkpoint_path(name):
    """The prefix of a packaged TF1 checkpoint (``tf1_checkpoints/<name>``)."""
    return os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        "tf1_checkpoints", name, "model.ckpt")


def _checkpoint_init(config):
    """The initial arrays of ``config``'s model: the checkpoint's values of
    its TF1 variable names (what ``tf.train.Saver.restore`` gives TF1)."""
    import tensorflow as tf
    from compat_reg.parity import models
    reader = tf.train.load_checkpoint(checkpoint_path(config["init_checkpoint"]))
    return [reader.get_tensor(name) for name in models.variable_names(config)]


def builtin(name):
    """A built-in workload by name (see ``BUILTIN``)."""
    if name in GOLDEN_CASES:
        return from_golden(os.path.join(golden_dir(), "train_%s.json" % name))
    if name in DERIVED:
        from compat_reg.parity import models
        seed, changes = DERIVED[name]
        if seed == "checkpoint":
            work = builtin("convnet_bn").with_config(**changes)
            work.batch_order = work.batch_order[:changes["epochs"]]
            work.init = _checkpoint_init(work.config)
            work.name = name
            return work
        base = builtin("sgd_l2")
        work = base.with_config(**changes)
        if "epochs" in changes:
            work.batch_order = work.batch_order[:changes["epochs"]]
        if seed is not None:
            work.config["init_seed"] = seed
            work.init = models.numpy_init(work.config, seed)
        work.name = name
        work.golden_path = None
        work.reference = "tf1-graph"
        return work
    raise KeyError("unknown workload %r; built-in: %s" % (
        name, ", ".join(BUILTIN)))
