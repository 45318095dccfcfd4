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

Golden files are read as traces as they are (``from_golden``). Every file
is read through ``compat_reg.golden_files``' validating reader: a file that
is not a usable trace or golden file raises ``InputError`` naming the file
and the field.
"""

from __future__ import absolute_import, division, print_function

import base64
import collections
import hashlib
import json
import os
import platform

import numpy as np

from compat_reg import convention, golden_files
from compat_reg.golden_files import CURVES, EPOCH_METRICS, InputError
from compat_reg.parity import finite

FORMAT = "compat-reg-trace/1"
# parity --json; collect skips every version of it ("/1" named the stated
# differences release_differences)
REPORT_FORMAT = "compat-reg-report/2"


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
    import tensorflow as tf  # deferred: a worker imports it before TF setup
    from compat_reg import _compat  # deferred: a worker imports it before TF setup
    env = collections.OrderedDict([
        ("python", platform.python_version()),
        ("numpy", np.__version__),
        ("tensorflow", tf.__version__),
        ("keras_flavour", _compat.KERAS_FLAVOUR),
        ("keras_version", _compat.KERAS_VERSION),
        ("backend", backend),
        ("optimizers", optimizers),
    ])
    if not _compat.TF_BACKEND:  # Keras 3 on JAX or torch
        env["keras_backend"] = _compat.KERAS_BACKEND
    if os.environ.get("TOX_ENV_NAME"):
        env["tox_env"] = os.environ["TOX_ENV_NAME"]
    return env


def write_atomic(path, text):
    """Write ``text`` to ``path`` whole or not at all: a temporary file in
    the same folder, flushed to disk, then renamed over ``path``, so a
    reader (or a process killed while writing) never leaves half a file.
    Returns the SHA-256 of the bytes written."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        os.makedirs(folder)
    data = text.encode("utf-8")
    temporary = "%s.tmp-%d" % (path, os.getpid())
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
    return hashlib.sha256(data).hexdigest()


def env_name(env):
    """A short name for an env record: the tox env, or tf/keras/python."""
    if env.get("tox_env"):
        return env["tox_env"]
    if env.get("golden"):
        return "golden-tf%s" % env.get("tensorflow")
    return "tf%s-%s%s-py%s" % (
        env.get("tensorflow"), env.get("keras_flavour"),
        "-" + env["keras_backend"] if env.get("keras_backend") else "",
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
        """Write the trace to ``path`` whole or not at all
        (``write_atomic``); returns the SHA-256 of the file."""
        return write_atomic(path, self.dumps() + "\n")

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


def _decode_weights(record, path):
    weights = collections.OrderedDict()
    for key in record:
        value = golden_files.field(record, path, key, dict, "final_weights")
        where = "final_weights.%s" % key
        shape = golden_files.field(value, path, "shape", list, where)
        name = golden_files.field(value, path, "dtype", str, where)
        try:
            dtype = np.dtype(name)
        except (TypeError, ValueError):
            dtype = None
        if dtype is None or dtype.kind not in "fiu":
            raise InputError(path, where + ".dtype",
                             "%r is not a numeric dtype" % name)
        if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0
                   for n in shape):
            raise InputError(path, where + ".shape", "is %r" % (shape,))
        text = golden_files.field(value, path, "base64", str, where)
        try:
            raw = base64.b64decode(text.encode("ascii"), validate=True)
        except (ValueError, UnicodeEncodeError) as err:
            raise InputError(path, where + ".base64",
                             "not base64: %s" % err) from None
        if len(raw) != int(np.prod(shape)) * dtype.itemsize:
            raise InputError(path, where + ".base64", "%d bytes, shape %s of "
                             "%s needs %d" % (len(raw), shape, name, int(
                                 np.prod(shape)) * dtype.itemsize))
        little = dtype.newbyteorder("<")
        array = np.frombuffer(raw, dtype=little)
        weights[key] = array.astype(little.newbyteorder("=")).reshape(shape)
    return weights


def from_golden(path):
    """A golden training file read as a trace."""
    record, arrays, _, optimizer = golden_files.read_training(path)
    config = record["config"]
    weights = collections.OrderedDict()
    init = collections.OrderedDict()
    for name, init_key, final_key in golden_files.layer_names(config):
        weights[name] = arrays[final_key]
        init[name] = sha256(arrays[init_key])
    genv = record.get("env") if isinstance(record.get("env"), dict) else {}
    env = collections.OrderedDict([
        ("python", genv.get("python")), ("numpy", genv.get("numpy")),
        ("tensorflow", genv.get("tensorflow")),
        ("keras_flavour", genv.get("flavor")), ("keras_version", None),
        ("backend", "golden"), ("optimizers", "tf1"), ("golden", True)])
    port = collections.OrderedDict([
        ("optimizer", spec_hparams(optimizer)),
        ("initial_weights", init),
        ("batch_order", [sha256(e) for e in arrays["batch_order"]])])
    finite.note_initial(port, collections.OrderedDict(
        (name, arrays[key]) for name, key, _ in golden_files.layer_names(config)))
    return Trace(env, {"name": record.get("id"), "config": config}, port,
                 record["curves"], record["per_epoch"], weights, path)


def hparam_keys(kind):
    """The hyper-parameters a trace records for optimizer ``kind``: its spec
    keys whose values are numbers (``convention.VALUE_RULES``), required
    ones first, in ``convention.OPTIMIZER``'s order."""
    entry = convention.OPTIMIZER[kind]
    return [key for key in list(entry.required) + sorted(entry.defaults)
            if convention.VALUE_RULES[key].kind == "number"]


# Every hyper-parameter a trace may record, by its spec key (``weight_decay``:
# contrib's absolute decay, for ``adamw``/``momentumw`` only).
HPARAM_KEYS = tuple(collections.OrderedDict.fromkeys(
    key for kind in convention.OPTIMIZER for key in hparam_keys(kind)))


def spec_hparams(spec):
    """``{"kind", "lr", ...}``: what TF1 ran for a spec (a dict such as a
    golden ``config``, or one parsed by ``convention.parse_optimizer``),
    defaults filled in from ``compat_reg.convention`` (a golden file records
    only the spec).

    >>> dict(spec_hparams({"optimizer": "adam", "lr": 0.001}))
    {'kind': 'adam', 'lr': 0.001, 'beta1': 0.9, 'beta2': 0.999, 'epsilon': 1e-08}
    """
    parsed = convention.parse_optimizer(spec)
    return collections.OrderedDict([("kind", parsed.kind)] + [
        (key, parsed.args[convention.SPEC_KEYS.get(key, key)])
        for key in hparam_keys(parsed.kind)])


def _strings(record, path, label, kind=dict):
    """``record`` checked to be a dict of (or list of) strings."""
    items = (record.items() if isinstance(record, dict) else
             enumerate(record) if isinstance(record, list) else None)
    if not isinstance(record, kind) or items is None:
        raise InputError(path, label, "is %s, expected a %s of strings" % (
            golden_files._short(record), kind.__name__))
    for key, value in items:
        if not isinstance(value, str):
            raise InputError(path, "%s.%s" % (label, key), "is %s, expected a "
                             "string" % golden_files._short(value))
    return record


def _check_port(port, path, epochs):
    """What ``measure`` reads of a trace's ``port``: the digests of the
    initial weights and of each epoch's batch order, the optimizer's kind
    and settings (numbers, strings, bools or null; a schedule a dict)."""
    _strings(golden_files.field(port, path, "initial_weights", dict, "port"),
             path, "port.initial_weights")
    order = _strings(golden_files.field(port, path, "batch_order", list,
                                        "port"), path, "port.batch_order", list)
    if len(order) != epochs:
        raise InputError(path, "port.batch_order", "%d hashes, expected one "
                         "per epoch (%d)" % (len(order), epochs))
    optimizer = golden_files.field(port, path, "optimizer", dict, "port")
    golden_files.field(optimizer, path, "kind", str, "port.optimizer")
    for key, value in optimizer.items():
        if not (value is None or isinstance(value, (str, bool, int, float)) or (
                key == "schedule" and isinstance(value, dict))):
            raise InputError(path, "port.optimizer." + key, "is %s, expected "
                             "a number, string, bool or null" %
                             golden_files._short(value))
    if finite.INITIAL in port:
        _strings(port[finite.INITIAL], path, "port." + finite.INITIAL)


def load(path):
    """A trace file, or a golden training file read as a trace (validated)."""
    record = golden_files.read_json(path, (FORMAT, golden_files.FORMAT))
    if record["format"] == golden_files.FORMAT:
        return from_golden(path)
    for key in ("env", "workload", "port", "final_weights"):
        golden_files.field(record, path, key, dict)
    golden_files.field(record["workload"], path, "name", str, "workload")
    golden_files.field(record["env"], path, "backend", str, "env")
    _, epochs, _ = golden_files.check_run(record, path)
    _check_port(record["port"], path, epochs)
    weights = _decode_weights(record["final_weights"], path)
    if not weights and "truncated_to" not in record["workload"]:
        raise InputError(path, "final_weights", "empty, and the trace is not "
                         "cut to fewer epochs (workload.truncated_to)")
    return Trace(record["env"], record["workload"], record["port"],
                 record["curves"], record["per_epoch"], weights, path)


def is_training_record(path):
    """Whether a ``*.json`` file is meant as a training run (trace or golden
    training file) rather than other package data (``penalties.json``).

    Decided from what the file claims to be, so that a broken trace is still
    read (and reported): anything but a golden-format object with ``cases``
    or a ``compat-reg parity --json`` report counts as a training record.
    """
    try:
        with open(path, "rb") as handle:
            record = json.loads(handle.read().decode("utf-8"))
    except (IOError, OSError, UnicodeDecodeError, ValueError):
        return True
    if not isinstance(record, dict):
        return True
    return not ((record.get("format") == golden_files.FORMAT and "cases" in record)
                or str(record.get("format")).startswith(
                    REPORT_FORMAT.rsplit("/", 1)[0] + "/"))


def collect(paths):
    """Traces from files and directories (``*.json`` inside, recursively).

    Golden files that are not training runs (``penalties.json``) are
    skipped; every other file must load, or ``InputError`` names it. A path
    that does not exist, or a folder with no trace, is an error too.
    """
    found = []
    for path in paths:
        if os.path.isdir(path):
            inside = []
            for root, dirs, files in os.walk(path):
                dirs.sort()
                inside.extend(os.path.join(root, name) for name in sorted(files)
                              if name.endswith(".json"))
            inside = [p for p in inside if is_training_record(p)]
            if not inside:
                raise InputError(path, None, "no traces (*.json) in this "
                                 "folder")
            found.extend(inside)
        elif os.path.exists(path):
            found.append(path)
        else:
            raise InputError(path, None, "no such file or directory")
    return [load(path) for path in found]


def _number(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


def _qualname(optimizer):
    kind = type(optimizer)
    return "%s.%s" % (kind.__module__, kind.__name__)


def _config_names(key):
    """Where spec key ``key`` is in an optimizer's ``get_config()``: Keras'
    keywords for it (``convention.OPTIMIZER``'s ``keras_args``), TF1's
    (compat_reg's classes), the spec's (old Keras' ``lr``). A TF1 optimizer
    has no config: ``_tf1_attribute``."""
    tf1_name = convention.SPEC_KEYS.get(key, key)
    keras = [entry.keras_args[tf1_name] for entry in convention.TF1_OPTIMIZERS
             if tf1_name in entry.keras_args]
    return tuple(collections.OrderedDict.fromkeys(keras + [tf1_name, key]))


def _tf1_attribute(optimizer, key):
    """A TF1 optimizer's setting: ``_learning_rate`` (``_lr`` in Adam),
    ``_momentum``, ``_beta1``..., or None."""
    names = ("_learning_rate", "_lr") if key == "lr" else ("_" + key,)
    for name in names:
        if name in vars(optimizer):
            return vars(optimizer)[name]
    return None


def _plain(value):
    """A schedule argument as JSON keeps it (ints, bools, lists stay)."""
    if isinstance(value, (bool, int)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return _number(value)


def _schedule_record(kind, arguments):
    """``(initial rate, {"kind", TF1 keyword: value})`` of a schedule."""
    record = collections.OrderedDict([("kind", kind)])
    for key in sorted(arguments):
        if key != "learning_rate":
            record[key] = _plain(arguments[key])
    if "learning_rate" in arguments:
        initial = arguments["learning_rate"]
    else:  # piecewise_constant starts at its first value
        initial = (arguments.get("values") or [None])[0]
    return initial, record


def _keras_schedule(value):
    """``(initial rate, record)`` of a serialized Keras schedule (Keras' own
    classes or compat_reg's ``TF1Schedule``), or None if ``value`` is none."""
    if not isinstance(value, dict) or not isinstance(value.get("config"), dict):
        return None
    name = str(value.get("class_name", "")).split(">")[-1]
    config = value["config"]
    if name == "TF1Schedule":
        return _schedule_record(config.get("kind"), dict(
            (k, v) for k, v in config.items() if k != "kind"))
    for entry in convention.SCHEDULES:
        if entry.keras_class == name:
            tf1_name = dict((v, k) for k, v in entry.keras_args.items())
            return _schedule_record(entry.kind, dict(
                (tf1_name[k], v) for k, v in config.items() if k in tf1_name))
    return None, collections.OrderedDict([("kind", name)])


def _optimizer_schedule(optimizer, config):
    """The schedule an optimizer runs, read back from it, or None: a Keras
    optimizer's serialized learning rate; for a TF1 optimizer (whose rate is
    a tensor or a callable) what compat_reg.optimizers recorded on it."""
    if config is not None:
        return _keras_schedule(config.get("learning_rate"))
    record = getattr(optimizer, "compat_reg_schedule", None)
    if record is None:
        return None
    arguments = dict(record)
    kind = arguments.pop("kind")
    lr = getattr(optimizer, "compat_reg_schedule_lr", None)
    if lr is not None:
        arguments["learning_rate"] = lr
    return _schedule_record(kind, arguments)


def optimizer_hparams(optimizer, kind):
    """``{"kind", "class", "lr", ...}`` read back from the optimizer object,
    so that a trace records what ran, not what was asked for.

    Under a schedule ``lr`` is the initial rate and ``"schedule"`` is
    ``{"kind", TF1 keyword: value}``. For ``adamw``/``momentumw``,
    ``weight_decay`` is contrib's absolute decay per step (a native Keras
    optimizer's ``weight_decay`` times its initial rate; its own value is
    ``keras_weight_decay``) and ``decay_biases`` whether biases decay (None
    when unknown: contrib's class used directly). Old kinds without a
    schedule record exactly the keys they always did.
    """
    from compat_reg import _compat  # deferred: a worker imports it before TF setup
    out = collections.OrderedDict([("kind", kind),
                                   ("class", _qualname(optimizer))])
    config = optimizer.get_config() if hasattr(optimizer, "get_config") else None
    schedule = _optimizer_schedule(optimizer, config)
    for key in hparam_keys(kind):
        if key == "lr" and schedule is not None:
            out[key] = _number(schedule[0])
        elif config is not None:
            value = [config[n] for n in _config_names(key) if n in config]
            out[key] = _number(value[0]) if value else None
        else:
            out[key] = _number(_tf1_attribute(optimizer, key))
    if kind in convention.WEIGHT_DECAY:
        if config is None:
            out["decay_biases"] = getattr(optimizer, "_decay_biases", None)
        elif "decay_biases" in config:  # compat_reg's: contrib's convention
            out["decay_biases"] = bool(config["decay_biases"])
        else:  # native Keras: weight_decay * learning rate per step
            native = out.get("weight_decay")
            out["keras_weight_decay"] = native
            out["weight_decay"] = (native * out["lr"] if isinstance(
                native, float) and isinstance(out["lr"], float) else native)
            out["decay_biases"] = not _compat.keras_excludes_from_weight_decay(
                optimizer, convention.BIAS_NAME)
    if schedule is not None:
        out["schedule"] = schedule[1]
    return out
