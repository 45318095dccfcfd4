"""Record a team's own TF1 model on its real TF 1.x: the reference a Keras
port is compared with (``compat_reg.parity.user_model.compare_trace``).

``record_model(build_graph, inputs, targets, loss, spec, out)`` builds the
graph (``build_graph(inputs) -> outputs``, TF1 code: ``tf.layers``,
``get_variable(..., regularizer=...)``), minimises ``loss(targets, outputs)
+ tf.losses.get_regularization_loss()`` with TF1's own optimizer for
``spec`` (``compat_reg.optimizers.tf1(spec, global_step)``, schedules on
the graph's ``global_step``, ``UPDATE_OPS`` run with each step) on
``seed``-shuffled batches, and writes into the folder ``out``:

* ``trace.json`` (``FORMAT``): the config (the spec, ``batch``,
  ``epochs``, ``seed``), the TF/Python/numpy versions, the input and target
  names, the model variables (``[name, shape, dtype]``, in creation order:
  batch norm's moving statistics too) and the per-step ``curves``
  (``data_loss``, ``reg_loss``, ``total_loss``, each on the step's batch
  before its update), as the golden files have them;
* ``trace.npz``: ``data/<name>`` (the inputs and targets), ``batch_order``
  (epochs, steps, batch) row indices, ``init/<name>`` (the weights before
  the first step) and ``after/<name>`` (steps, ...) (the weights after each
  step; the last row is the final weights);
* ``checkpoint/model.ckpt``: ``tf.train.Saver``'s checkpoint after the last
  step (weights, the optimizer's slots, ``global_step``), which
  ``compat_reg.checkpoints.load_tf1_checkpoint(model, path, optimizer=...)``
  resumes from.

It runs on TF 1.x in graph mode (and on TF 2 inside ``tf.Graph()``); the
folder is written whole or not at all. Bad input (data that is not finite
numbers of one row count, a spec ``optimizers.tf1`` refuses, a
``build_graph`` or ``loss`` that raises, a non-finite loss) is one
``ValueError`` and nothing is written. ``read_trace`` reads a trace back,
every field checked (``golden_files``' reader).

``compat-reg parity record-model SCRIPT.py --out DIR`` does the same for a
script that defines ``build_graph``, ``loss``, ``inputs``, ``targets`` and
``SPEC`` (optionally ``BATCH``, ``EPOCHS``, ``SEED``; the options win).
"""

from __future__ import absolute_import, division, print_function

import collections
import importlib.util
import json
import os
import platform
import shutil
import tempfile

import numpy as np
import tensorflow as tf

from compat_reg import _compat, convention, golden_files, optimizers
from compat_reg.parity import registry

FORMAT = "compat-reg-model-trace/1"
TRACE = "trace.json"
ARRAYS = "trace.npz"
CHECKPOINT = os.path.join("checkpoint", "model.ckpt")


def batch_order(n_rows, batch, epochs, seed=0):
    """(epochs, steps, batch) shuffled row indices, remainder dropped."""
    rng = np.random.RandomState(seed)
    steps = n_rows // batch
    return np.stack([rng.permutation(n_rows)[:steps * batch].reshape(
        steps, batch) for _ in range(epochs)])


def _check_arrays(arrays, what):
    """``{name: finite numeric array}`` with one row count; returns it."""
    if not isinstance(arrays, dict) or not arrays:
        raise ValueError("%s must be a non-empty dict {name: array}, got %s"
                         % (what, type(arrays).__name__))
    out, rows = collections.OrderedDict(), set()
    for name in sorted(arrays):
        if not isinstance(name, str) or not name or "/" in name:
            raise ValueError("%s: %r is not a name (a string without '/')"
                             % (what, name))
        value = np.asarray(arrays[name])
        if value.dtype.kind not in "fiu" or value.ndim < 1:
            raise ValueError("%s[%r] is %s %s, expected numbers with one row "
                             "per example" % (what, name, value.dtype,
                                              value.shape))
        if value.dtype.kind == "f" and not np.all(np.isfinite(value)):
            raise ValueError("%s[%r] holds %d non-finite values" % (
                what, name, value.size - np.count_nonzero(np.isfinite(value))))
        out[name] = value
        rows.add(len(value))
    if len(rows) != 1:
        raise ValueError("%s: the arrays have different row counts %s" % (
            what, sorted(rows)))
    return out


def _positive_int(value, what):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError("%s must be a positive integer, got %r" % (what, value))
    return value


def _run_graph(build_graph, inputs, targets, loss, spec, order, seed, prefix):
    """Build and train on TF1; returns the record's parts."""
    v1 = _compat.v1
    with tf.Graph().as_default() as graph:
        v1.set_random_seed(seed)
        feeds = collections.OrderedDict(
            (name, v1.placeholder(tf.as_dtype(value.dtype),
                                  (None,) + value.shape[1:], name=name))
            for name, value in list(inputs.items()) + list(targets.items()))
        try:
            outputs = build_graph(dict((n, feeds[n]) for n in inputs))
            data_loss = tf.convert_to_tensor(
                loss(dict((n, feeds[n]) for n in targets), outputs))
        except Exception as error:  # the user's code, on this TF
            raise ValueError("build_graph or loss raised on TF %s: %s: %s" % (
                tf.__version__, type(error).__name__, error)) from error
        if data_loss.shape.ndims != 0 or not data_loss.dtype.is_floating:
            raise ValueError("loss must return a float scalar, got %s %s" % (
                data_loss.dtype.name, data_loss.shape))
        model_vars = list(v1.global_variables())
        if not model_vars:
            raise ValueError("build_graph created no variables")
        reg_loss = v1.losses.get_regularization_loss()
        total = data_loss + tf.cast(reg_loss, data_loss.dtype)
        step = v1.train.get_or_create_global_step()
        optimizer = optimizers.tf1(spec, step)
        with tf.control_dependencies(v1.get_collection(v1.GraphKeys.UPDATE_OPS)):
            train = optimizer.minimize(total, global_step=step)
        saver = v1.train.Saver(save_relative_paths=True)
        curves = collections.OrderedDict((k, []) for k in golden_files.CURVES)
        after = []
        with v1.Session(graph=graph) as session:
            session.run(v1.global_variables_initializer())
            init = session.run(model_vars)
            for epoch in order:
                for rows in epoch:
                    fed = dict((feeds[n], v[rows]) for n, v in
                               list(inputs.items()) + list(targets.items()))
                    values = session.run([data_loss, reg_loss, total, train],
                                         fed)[:3]
                    if not np.all(np.isfinite(values)):
                        raise ValueError("step %d: the loss is not finite "
                                         "(%s)" % (len(after), values))
                    for key, value in zip(golden_files.CURVES, values):
                        curves[key].append(float(value))
                    after.append(session.run(model_vars))
            saver.save(session, prefix, write_meta_graph=False)
    names = [v.op.name for v in model_vars]
    variables = [[n, list(a.shape), a.dtype.name] for n, a in zip(names, init)]
    return names, variables, init, after, curves, tf.__version__


def record_model(build_graph, inputs, targets, loss, spec, out, batch=8,
                 epochs=1, seed=0):
    """Train ``build_graph``'s model on TF 1.x and write its trace to the
    folder ``out`` (module docstring); returns ``out``.

    Args:
      build_graph: ``{input name: placeholder} -> outputs`` (any structure
        ``loss`` takes), TF1 graph code.
      inputs, targets: ``{name: array}``, one row per example, finite.
      loss: ``(targets, outputs) -> scalar``: the data loss (the
        regularization loss is added, as TF1 code did).
      spec: the optimizer spec (``compat_reg.optimizers.tf1``).
      out: a folder to create (refused if it holds a trace).
      batch, epochs, seed: the batches are ``seed``-shuffled each epoch, the
        remainder dropped.
    """
    inputs = _check_arrays(inputs, "inputs")
    targets = _check_arrays(targets, "targets")
    both = set(inputs) & set(targets)
    if both:
        raise ValueError("inputs and targets share names %s" % sorted(both))
    n_rows = len(next(iter(inputs.values())))
    if len(next(iter(targets.values()))) != n_rows:
        raise ValueError("inputs have %d rows, targets %d" % (
            n_rows, len(next(iter(targets.values())))))
    _positive_int(batch, "batch")
    _positive_int(epochs, "epochs")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError("seed must be an integer >= 0, got %r" % (seed,))
    if batch > n_rows:
        raise ValueError("batch=%d but the data has %d rows" % (batch, n_rows))
    convention.parse_optimizer(spec)
    out = os.path.abspath(os.fspath(out))
    if os.path.exists(os.path.join(out, TRACE)):
        raise ValueError("%s already holds a trace" % out)
    order = batch_order(n_rows, batch, epochs, seed)
    parent = os.path.dirname(out)
    if not os.path.isdir(parent):
        os.makedirs(parent)
    work = tempfile.mkdtemp(prefix=".record-", dir=parent)
    try:
        names, variables, init, after, curves, version = _run_graph(
            build_graph, inputs, targets, loss, spec, order, seed,
            os.path.join(work, CHECKPOINT))
        arrays = collections.OrderedDict([("batch_order", order)])
        arrays.update(("data/" + n, v) for n, v in
                      list(inputs.items()) + list(targets.items()))
        arrays.update(("init/" + n, v) for n, v in zip(names, init))
        arrays.update(("after/" + n, np.stack([a[i] for a in after]))
                      for i, n in enumerate(names))
        np.savez_compressed(os.path.join(work, ARRAYS), **arrays)
        config = collections.OrderedDict([("batch", batch), ("epochs", epochs),
                                          ("seed", seed)])
        config.update(sorted(spec.items()))
        record = collections.OrderedDict([
            ("format", FORMAT),
            ("env", collections.OrderedDict([
                ("tensorflow", version), ("python", platform.python_version()),
                ("numpy", np.__version__)])),
            ("config", config), ("inputs", list(inputs)),
            ("targets", list(targets)), ("variables", variables),
            ("curves", curves), ("arrays", ARRAYS),
            ("checkpoint", CHECKPOINT.replace(os.sep, "/"))])
        with open(os.path.join(work, TRACE), "w") as stream:
            json.dump(record, stream, indent=1)
            stream.write("\n")
        if os.path.isdir(out):
            os.rmdir(out)  # an empty folder only: a trace was refused above
        os.rename(work, out)
    finally:
        if os.path.isdir(work):
            shutil.rmtree(work)
    return out


Trace = collections.namedtuple(
    "Trace", "path record spec names inputs targets order init after curves "
             "checkpoint")


def read_trace(path):
    """A trace folder (or its ``trace.json``), every field checked: a
    ``Trace`` whose ``init``/``after`` are ``{name: array}``, ``inputs``
    and ``targets`` ``{name: array}``; ``golden_files.InputError`` naming
    the file and field otherwise."""
    path = os.fspath(path)
    filename = path if path.endswith(".json") else os.path.join(path, TRACE)
    record = golden_files.read_json(filename, (FORMAT,))
    field = golden_files.field
    config = field(record, filename, "config", dict)
    try:
        convention.parse_optimizer(config)
    except (TypeError, ValueError) as err:
        raise golden_files.InputError(filename, "config", str(err)) from None
    spec = dict((k, v) for k, v in config.items()
                if k not in ("batch", "epochs", "seed"))
    for key in ("batch", "epochs"):
        value = field(config, filename, key, int, "config")
        if value < 1:
            raise golden_files.InputError(filename, "config." + key,
                                          "is %r, expected >= 1" % value)
    variables = field(record, filename, "variables", list)
    names = []
    for i, item in enumerate(variables):
        if not (isinstance(item, list) and len(item) == 3 and isinstance(
                item[0], str) and isinstance(item[1], list)):
            raise golden_files.InputError(filename, "variables[%d]" % i,
                                          "is %r, expected [name, shape, "
                                          "dtype]" % (item,))
        names.append(item[0])
    curves = field(record, filename, "curves", dict)
    steps = set()
    for key in golden_files.CURVES:
        values = field(curves, filename, key, list, "curves")
        if not values or not all(isinstance(v, float) and np.isfinite(v)
                                 for v in values):
            raise golden_files.InputError(filename, "curves." + key,
                                          "expected a non-empty list of "
                                          "finite numbers")
        steps.add(len(values))
    if len(steps) != 1:
        raise golden_files.InputError(filename, "curves", "different lengths "
                                      "%s" % sorted(steps))
    steps = steps.pop()
    folder = os.path.dirname(os.path.abspath(filename))
    arrays_path = os.path.join(folder, field(record, filename, "arrays", str))
    groups = [("inputs", field(record, filename, "inputs", list)),
              ("targets", field(record, filename, "targets", list))]
    arrays = golden_files.read_npz(
        arrays_path, ["batch_order"] + ["data/" + n for _, g in groups
                                        for n in g]
        + ["%s/%s" % (k, n) for n in names for k in ("init", "after")])
    data = dict((group, collections.OrderedDict(
        (n, arrays["data/" + n]) for n in members)) for group, members in groups)
    order = arrays["batch_order"]
    n_rows = set(len(v) for g in data.values() for v in g.values())
    if order.ndim != 3 or order.dtype.kind not in "iu" or (
            order.shape[0] != config["epochs"] or order.shape[2] !=
            config["batch"] or order.shape[0] * order.shape[1] != steps):
        raise golden_files.InputError(arrays_path, "batch_order", "has shape "
                                      "%s, expected (%d epochs, %d steps / "
                                      "epochs, %d)" % (order.shape,
                                                       config["epochs"], steps,
                                                       config["batch"]))
    if len(n_rows) != 1 or order.min() < 0 or order.max() >= min(n_rows):
        raise golden_files.InputError(arrays_path, "batch_order", "indices "
                                      "out of range for the data's %s rows"
                                      % sorted(n_rows))
    init, after = collections.OrderedDict(), collections.OrderedDict()
    for name, shape, _ in variables:
        for kind, table, want in (("init", init, tuple(shape)),
                                  ("after", after, (steps,) + tuple(shape))):
            value = arrays["%s/%s" % (kind, name)]
            if value.shape != want or value.dtype.kind != "f" or not np.all(
                    np.isfinite(value)):
                raise golden_files.InputError(
                    arrays_path, "%s/%s" % (kind, name), "is %s %s, expected "
                    "finite floats of shape %s" % (value.dtype, value.shape,
                                                   want))
            table[name] = value
    checkpoint = os.path.join(folder, field(record, filename, "checkpoint", str))
    return Trace(filename, record, spec, names, data["inputs"], data["targets"],
                 order, init, after, curves, checkpoint)


# ---------------------------------------------------------------------------
# compat-reg parity record-model SCRIPT.py --out DIR
# ---------------------------------------------------------------------------

SCRIPT_NAMES = registry.SCRIPT_NAMES
SCRIPT_OPTIONS = registry.SCRIPT_OPTIONS


def load_script(path):
    """The module of a team's script (``SCRIPT_NAMES``); ``ValueError`` if
    it cannot be imported or lacks one of them."""
    spec = importlib.util.spec_from_file_location(
        "compat_reg_team_script", os.fspath(path))
    if spec is None or not os.path.isfile(os.fspath(path)):
        raise ValueError("%s: no Python script there" % (path,))
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as error:  # the team's code
        raise ValueError("%s raised on import: %s: %s" % (
            path, type(error).__name__, error)) from error
    missing = [n for n in SCRIPT_NAMES if not hasattr(module, n)]
    if missing:
        raise ValueError("%s defines no %s (it needs %s)" % (
            path, ", ".join(missing), ", ".join(SCRIPT_NAMES)))
    return module


def cmd_record_model(args, out):
    module = load_script(args.script)
    options = dict((option, getattr(args, option) if getattr(
        args, option) is not None else getattr(module, name, default))
        for name, option, default in SCRIPT_OPTIONS)
    path = record_model(module.build_graph, module.inputs, module.targets,
                        module.loss, module.SPEC, args.out, **options)
    trace = read_trace(path)
    print("wrote %s (%d steps, %d variables, TF %s)" % (
        path, len(trace.curves["total_loss"]), len(trace.names),
        trace.record["env"]["tensorflow"]), file=out)
    return 0
