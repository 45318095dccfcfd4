"""Traces: what one training run did, in a file any interpreter can compare.

A trace is JSON (format ``compat-reg-trace/1``):

* ``env``: python, numpy, tensorflow, keras flavour and version, backend,
  optimizers (``exact``/``keras``/``tf1``), and the tox env name if any;
* ``workload``: its name and the golden ``config``;
* ``port``: what the run really used: the optimizer's hyper-parameters read
  back from the optimizer object, SHA-256 of each initial weight and of
  each epoch's batch order;
* ``curves``: per-step ``data_loss``, ``reg_loss`` (the model's own
  penalty) and ``total_loss`` (what the optimizer minimised);
* ``per_epoch``: ``test_loss``, ``test_accuracy``, ``train_accuracy``;
* ``final_weights``: name -> shape, dtype and little-endian base64 bytes,
  so that traces compare bit for bit across machines.

Golden files are read as traces as they are (``from_golden``).
"""

from __future__ import absolute_import, division, print_function

import base64
import collections
import hashlib
import json
import os
import platform

import numpy as np

FORMAT = "compat-reg-trace/1"
CURVES = ("data_loss", "reg_loss", "total_loss")
EPOCH_METRICS = ("test_loss", "test_accuracy", "train_accuracy")


def sha256(array):
    """SHA-256 of an array's little-endian bytes (shape and dtype included)."""
    array = np.ascontiguousarray(array)
    little = array.astype(array.dtype.newbyteorder("<"), copy=False)
    digest = hashlib.sha256(("%s%s" % (little.dtype.str, little.shape)
                             ).encode("ascii"))
    digest.update(little.tobytes())
    return digest.hexdigest()


def env_record(backend, optimizers):
    """The env part of a trace for this interpreter."""
    import tensorflow as tf
    from compat_reg import _compat
    env = collections.OrderedDict([
        ("python", platform.python_version()),
        ("numpy", np.__version__),
        ("tensorflow", tf.__version__),
        ("keras_flavour", _compat.KERAS_FLAVOUR),
        ("keras_version", _compat.KERAS_VERSION),
        ("backend", backend),
        ("optimizers", optimizers),
    ])
    if os.environ.get("TOX_ENV_NAME"):
        env["tox_env"] = os.environ["TOX_ENV_NAME"]
    return env


def env_name(env):
    """A short name for an env record: the tox env, or tf/keras/python."""
    if env.get("tox_env"):
        return env["tox_env"]
    if env.get("golden"):
        return "golden-tf%s" % env.get("tensorflow")
    return "tf%s-%s-py%s" % (env.get("tensorflow"), env.get("keras_flavour"),
                             ".".join(str(env.get("python")).split(".")[:2]))


class Trace(object):
    """One training run: env, workload, port facts, curves, final weights."""

    def __init__(self, env, workload, port, curves, per_epoch, final_weights,
                 path=None):
        self.env = env
        self.workload = workload
        self.port = port
        self.curves = dict((k, [float(v) for v in curves[k]]) for k in CURVES)
        self.per_epoch = dict((k, [float(v) for v in per_epoch.get(k, [])])
                              for k in EPOCH_METRICS)
        self.final_weights = final_weights
        self.path = path

    @property
    def backend(self):
        return self.env.get("backend")

    @property
    def name(self):
        """``env / backend`` for tables."""
        return "%s/%s" % (env_name(self.env), self.backend)

    def to_json(self):
        """The trace as a JSON-serialisable dict (deterministic order)."""
        weights = collections.OrderedDict()
        for key, value in self.final_weights.items():
            value = np.ascontiguousarray(value)
            weights[key] = collections.OrderedDict([
                ("shape", list(value.shape)),
                ("dtype", value.dtype.name),
                ("base64", base64.b64encode(
                    value.astype(value.dtype.newbyteorder("<")).tobytes()
                ).decode("ascii")),
            ])
        return collections.OrderedDict([
            ("format", FORMAT),
            ("env", self.env),
            ("workload", self.workload),
            ("port", self.port),
            ("curves", collections.OrderedDict(
                (k, self.curves[k]) for k in CURVES)),
            ("per_epoch", collections.OrderedDict(
                (k, self.per_epoch[k]) for k in EPOCH_METRICS)),
            ("final_weights", weights),
        ])

    def dumps(self):
        return json.dumps(self.to_json(), indent=1, sort_keys=False)

    def save(self, path):
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            os.makedirs(folder)
        with open(path, "w") as handle:
            handle.write(self.dumps())
            handle.write("\n")

    def truncated(self, epochs, steps):
        """The first ``epochs`` epochs (``steps`` per epoch); final weights
        are dropped when that cuts anything off."""
        n = epochs * steps
        if n >= len(self.curves["total_loss"]):
            return self
        return Trace(self.env, dict(self.workload, truncated_to=epochs),
                     self.port,
                     dict((k, v[:n]) for k, v in self.curves.items()),
                     dict((k, v[:epochs]) for k, v in self.per_epoch.items()),
                     collections.OrderedDict(), self.path)


def _decode_weights(record):
    weights = collections.OrderedDict()
    for key, value in record.items():
        dtype = np.dtype(value["dtype"]).newbyteorder("<")
        array = np.frombuffer(base64.b64decode(value["base64"]), dtype=dtype)
        weights[key] = array.astype(dtype.newbyteorder("=")).reshape(
            value["shape"])
    return weights


def from_golden(path):
    """A golden training file read as a trace."""
    from compat_reg.parity import workloads
    record, arrays, _ = workloads.read_golden(path)
    config = record["config"]
    layers = len(config["sizes"]) - 1
    weights = collections.OrderedDict()
    init = collections.OrderedDict()
    for i in range(layers):
        for part, short in (("kernel", "w"), ("bias", "b")):
            weights["dense_%d/%s" % (i, part)] = arrays[
                "final_dense_%d_%s" % (i, part)]
            init["dense_%d/%s" % (i, part)] = sha256(
                arrays["init_%s%d" % (short, i)])
    genv = record.get("env", {})
    env = collections.OrderedDict([
        ("python", genv.get("python")), ("numpy", genv.get("numpy")),
        ("tensorflow", genv.get("tensorflow")),
        ("keras_flavour", genv.get("flavor")), ("keras_version", None),
        ("backend", "golden"), ("optimizers", "tf1"), ("golden", True)])
    port = collections.OrderedDict([
        ("optimizer", _golden_hparams(config)),
        ("initial_weights", init),
        ("batch_order", [sha256(e) for e in arrays["batch_order"]])])
    return Trace(env, {"name": record.get("id"), "config": config}, port,
                 record["curves"], record["per_epoch"], weights, path)


def _golden_hparams(config):
    kind = config["optimizer"]
    hparams = collections.OrderedDict([("kind", kind), ("lr", config["lr"])])
    if kind == "momentum":
        hparams["momentum"] = config["momentum"]
    if kind == "adam":
        hparams.update([("beta1", 0.9), ("beta2", 0.999),
                        ("epsilon", config.get("epsilon", 1e-8))])
    return hparams


def load(path):
    """A trace file, or a golden training file read as a trace."""
    with open(path) as handle:
        record = json.load(handle)
    if record.get("format") == FORMAT:
        return Trace(record["env"], record["workload"], record["port"],
                     record["curves"], record["per_epoch"],
                     _decode_weights(record["final_weights"]), path)
    from compat_reg.parity import workloads
    if record.get("format") == workloads.GOLDEN_FORMAT:
        return from_golden(path)
    raise ValueError("%s is neither a trace (%s) nor a golden file (%s)" % (
        path, FORMAT, workloads.GOLDEN_FORMAT))


def collect(paths):
    """Traces from files and directories (``*.json`` inside, recursively);
    golden files that are not training runs (penalties.json) are skipped."""
    found = []
    for path in paths:
        if os.path.isdir(path):
            for root, _, files in sorted(os.walk(path)):
                for name in sorted(files):
                    if name.endswith(".json"):
                        found.append(os.path.join(root, name))
        else:
            found.append(path)
    traces = []
    for path in found:
        with open(path) as handle:
            try:
                record = json.load(handle)
            except ValueError:
                continue
        if not isinstance(record, dict):
            continue
        if record.get("format") == FORMAT or "curves" in record:
            traces.append(load(path))
    return traces
