"""Parity for a team's own model: TF1 graph code vs its Keras port.

``compare_trace(path, keras_model, loss)`` compares a Keras port with a
trace that ``compat_reg.parity.recorder`` wrote on the team's real TF 1.x
(several inputs and outputs, a custom loss, regression or classification)
and names the first step and the variables where they part.

``compare_models(build_graph, keras_model, data, optimizer)`` builds the
TF1 graph (variables from ``get_variable`` with contrib-style regularizers),
maps its variables to the Keras model's weights (by order and shape unless
``variable_map`` says otherwise), copies the same initial weights into both,
trains both on the same batches and returns the same report as
``compat-reg parity run``.
"""

from __future__ import absolute_import, division, print_function

import collections
import difflib
import inspect

import numpy as np
import tensorflow as tf

from compat_reg import _compat, checkpoints, golden_files, naming
from compat_reg import optimizers as optimizers_mod
from compat_reg.parity import backends, measure, recorder, report, tf1_graph
from compat_reg.parity import tolerances
from compat_reg.parity.recorder import batch_order
from compat_reg.parity import trace as trace_mod
from compat_reg.parity import tf2_keras, workloads


class ParityReport(object):
    """Comparisons of each Keras backend against the TF1 graph."""

    def __init__(self, comparisons, traces, initial=None):
        self.comparisons = comparisons
        self.traces = traces
        self.initial = initial  # {TF1 name: the array both runs started from}

    @property
    def ok(self):
        return all(c.ok for c in self.comparisons)

    @property
    def diagnoses(self):
        return [d for c in self.comparisons for d in c.diagnoses]

    def table(self):
        return report.table(self.comparisons)

    def __str__(self):
        return self.table()


def _takes_training(build_graph):
    """Does ``build_graph`` take ``(x, training)`` (a model with batch norm
    or dropout, built as a training and an inference tower)?"""
    try:
        params = inspect.signature(build_graph).parameters.values()
    except (TypeError, ValueError):
        return False
    positional = [p for p in params if p.kind in (
        p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 2


def _towers(build_graph):
    """``build(x, training=True, mask=None)`` for ``tf1_graph.train``."""
    def build(x, training=True, mask=None):
        return build_graph(x, training)
    return build


def graph_variables(build_graph, input_shape, dtype=np.float32):
    """``[(name, shape)]`` of the variables ``build_graph`` creates: the
    trainable ones, and with ``build_graph(x, training)`` every model
    variable (batch norm's moving statistics too), in creation order."""
    v1 = _compat.v1
    with tf.Graph().as_default():
        v1.set_random_seed(0)
        x = v1.placeholder(dtype, (None,) + tuple(input_shape))
        if _takes_training(build_graph):
            build_graph(x, True)
            with v1.variable_scope(v1.get_variable_scope(), reuse=True):
                build_graph(x, False)
            found = v1.global_variables()
        else:
            build_graph(x)
            found = v1.trainable_variables()
        return [(tf1_graph.variable_name(v), tuple(v.shape.as_list()))
                for v in found]


def map_variables(tf1_vars, keras_weights, variable_map=None):
    """The Keras weight for each TF1 variable, in TF1 order.

    ``variable_map``: None (match by order, check shapes), or a dict from TF1
    name to a Keras weight, its TF1-style name (``_compat.tf1_name``) or its
    index in ``keras_weights``.
    """
    if variable_map is None:
        if len(tf1_vars) != len(keras_weights):
            raise ValueError(
                "the TF1 graph has %d variables, the Keras model %d weights "
                "(trainable ones only, unless build_graph takes (x, training)):"
                " pass variable_map (compat_reg.checkpoints' report has one: "
                ".variable_map())" % (len(tf1_vars), len(keras_weights)))
        mapped = _by_role(tf1_vars, keras_weights)
    else:
        by_name = dict((_compat.tf1_name(w), w) for w in keras_weights)
        mapped = []
        for name, _ in tf1_vars:
            target = variable_map[name]
            if isinstance(target, int):
                target = keras_weights[target]
            elif not hasattr(target, "assign"):
                target = by_name[target]
            mapped.append(target)
    for (name, shape), weight in zip(tf1_vars, mapped):
        if tuple(weight.shape) != tuple(shape):
            raise ValueError("TF1 %s has shape %s but its Keras weight %s has "
                             "%s" % (name, shape, weight.name,
                                     tuple(weight.shape)))
    return mapped


def layer_weights(model):
    """Every weight of ``model`` layer by layer, in layer order (tf_keras'
    ``model.weights`` lists all trainable weights before the others)."""
    seen, out = set(), []
    for layer in _compat.flatten_layers(model)[1:]:
        for weight in layer.weights:
            if id(weight) not in seen:
                seen.add(id(weight))
                out.append(weight)
    return out


def _role(name):
    last = name.rsplit("/", 1)[-1]
    return dict((c.tf1, c.role) for c in checkpoints.TF1_CONVENTIONS).get(
        last, last)


def _by_role(tf1_vars, keras_weights):
    """Pair in order, except that within one TF1 scope the variables go to
    the Keras weights of the same role (slim creates a batch norm's ``beta``
    before ``gamma``, Keras ``gamma`` first: same shapes, so order alone
    would swap them silently)."""
    keras_roles = [_compat.tf1_name(w).rsplit("/", 1)[-1] for w in keras_weights]
    mapped = list(keras_weights)
    start = 0
    while start < len(tf1_vars):
        scope = tf1_vars[start][0].rsplit("/", 1)[0]
        end = start
        while end < len(tf1_vars) and tf1_vars[end][0].rsplit("/", 1)[0] == scope:
            end += 1
        want = [_role(name) for name, _ in tf1_vars[start:end]]
        have = keras_roles[start:end]
        if sorted(want) == sorted(have) and len(set(want)) == len(want):
            for i, role in enumerate(want):
                mapped[start + i] = keras_weights[start + have.index(role)]
        start = end
    return mapped


def compare_models(build_graph, keras_model, data, optimizer, batch=32,
                   epochs=1, seed=0, variable_map=None, initial_weights=None,
                   backend_names=("tf2-keras", "tf2-fit"), optimizers="exact",
                   name="user_model"):
    """Train a TF1 graph and its Keras port identically; return a report.

    Args:
      build_graph: ``x -> logits`` building the TF1 model in the default
        graph with ``tf.compat.v1.get_variable(..., regularizer=...)``; or
        ``(x, training) -> logits`` for a model with batch norm (an
        Estimator ``model_fn``'s network with ``training = mode == TRAIN``):
        it is built as a training tower, whose ``UPDATE_OPS`` run with each
        step, and an inference tower that evaluates; every model variable
        (moving statistics too) is copied and compared.
      keras_model: the Keras port, built (its weights exist), returning
        logits.
      data: a ``workloads.Data`` or ``(x_train, y_train, x_test, y_test)``;
        labels are class indices, the loss is mean sparse softmax
        cross-entropy.
      optimizer: a spec as in the golden configs: ``{"optimizer": "sgd" |
        "momentum" | "adam", "lr": ..., "momentum": ..., "epsilon": ...}``.
      batch, epochs, seed: the batches are ``seed``-shuffled each epoch.
      variable_map: see ``map_variables``.
      initial_weights: ``{tf1 name: array}``; default: the Keras model's
        current weights, copied into the TF1 graph.
      backend_names: which Keras trainings to run (custom loop, fit).
      optimizers: ``exact`` or ``keras`` (native; looser bound).

    Returns:
      a ``ParityReport`` (``.ok``, ``.comparisons``, ``.diagnoses``,
      ``str(report)`` is the table).

    Raises:
      ValueError (``golden_files.InputError``), before any training: data
      that is not finite floats with one integer label per row in ``[0,
      logits)``, an initial weight that is not a finite float. A NaN or inf
      in either training's losses or final weights fails its comparison.
    """
    if not isinstance(data, workloads.Data):
        data = workloads.Data(*data)
    sources = workloads.Sources("compare_models(optimizer=...)",
                                "compare_models: initial weights",
                                "compare_models(data=...)")
    workloads.check_data(data, sources.data)
    towers = _takes_training(build_graph)
    tf1_vars = graph_variables(build_graph, data.x_train.shape[1:],
                               data.x_train.dtype)
    weights = map_variables(tf1_vars, layer_weights(keras_model) if towers
                            else keras_model.trainable_weights, variable_map)
    names = [n for n, _ in tf1_vars]
    if initial_weights is None:
        init = [np.array(w.numpy()) for w in weights]
    else:
        init = [np.asarray(initial_weights[n]) for n in names]
    order = batch_order(len(data.x_train), batch, epochs, seed)
    workloads.check_start(names, init, order, len(data.x_train), sources)
    workloads.check_labels(data, sources.data, int(keras_model(
        data.x_train[:1], training=False).shape[-1]))
    config = collections.OrderedDict([
        ("model", name), ("batch", batch), ("epochs", epochs), ("seed", seed)])
    config.update(optimizer)
    record = collections.OrderedDict([("name", name), ("config", config)])
    out = tf1_graph.train(_towers(build_graph) if towers else build_graph,
                          init, data, order, optimizer, names, towers=towers)
    reference = backends.make_trace(
        "tf1-graph", "tf1", record, "user", out["hparams"], out["initial"],
        out["final"], out["curves"], out["per_epoch"], order)
    traces = {"tf1-graph": reference}
    comparisons = []
    for backend in backend_names:
        backends.check_backend(backend)
        tf2_keras.copy_weights(weights, init)
        opt = backends.optimizer_for(optimizer, optimizers)
        train = (tf2_keras.train_loop if backend == "tf2-keras"
                 else tf2_keras.train_fit)
        curves, per_epoch, start, final = train(
            keras_model, keras_model.trainable_weights, data, order, opt,
            tracked=weights)
        traces[backend] = backends.make_trace(
            backend, optimizers, record, "user",
            trace_mod.optimizer_hparams(opt, optimizer["optimizer"]),
            collections.OrderedDict(zip(names, start)),
            collections.OrderedDict(zip(names, final)), curves, per_epoch,
            order)
        comparisons.append(measure.measure(traces[backend], reference))
    return ParityReport(comparisons, traces,
                        collections.OrderedDict(zip(names, init)))


# ---------------------------------------------------------------------------
# A port against a trace recorded on real TF 1.x (compat_reg.parity.recorder).
# ---------------------------------------------------------------------------

Step = collections.namedtuple("Step", "step curves weights")


class TraceComparison(object):
    """A Keras port's training against a recorded TF1 trace, step by step.

    ``steps``: ``[Step(step, {curve: relative gap}, {variable: relative L2
    gap after the step})]``; ``first_bad``: the first ``Step`` over a bound
    (``curve_bound`` relative per step, ``weights_bound`` relative L2 norm
    per variable: ``tolerances``' exact bounds), or None; ``curves``: the
    port's ``{curve: [per step]}``; ``trace``: the ``recorder.Trace``."""

    def __init__(self, trace, steps, curves, curve_bound, weights_bound):
        self.trace, self.steps, self.curves = trace, steps, curves
        self.curve_bound, self.weights_bound = curve_bound, weights_bound
        self.first_bad = next((s for s in steps if self.parted(s)), None)

    def parted(self, step):
        """``[(name, gap, bound)]`` of ``step``'s curves and variables over
        their bounds."""
        return ([(k, g, self.curve_bound) for k, g in step.curves.items()
                 if g > self.curve_bound]
                + [(n, g, self.weights_bound) for n, g in step.weights.items()
                   if g > self.weights_bound])

    @property
    def ok(self):
        return self.first_bad is None

    @property
    def curve_gap(self):
        return max(max(s.curves.values()) for s in self.steps)

    @property
    def weight_gap(self):
        return max(max(s.weights.values()) for s in self.steps)

    def __str__(self):
        head = "%s: %d steps; worst curve gap %.3g (bound %g), worst weight " \
            "gap %.3g (bound %g)" % (self.trace.path, len(self.steps),
                                     self.curve_gap, self.curve_bound,
                                     self.weight_gap, self.weights_bound)
        if self.ok:
            return head + ": OK"
        return head + "\nFAIL: first parted at step %d: %s" % (
            self.first_bad.step, ", ".join(
                "%s %.3g" % (name, gap) for name, gap, _ in
                self.parted(self.first_bad)))


def _trace_weights(trace, keras_model, variable_map):
    """The Keras weight of each traced variable (``compat_reg.naming``'s TF1
    names, or ``variable_map``: {trace name: weight or its TF1 name}), all
    problems in one ``ValueError``."""
    by_name = dict((name, w) for name, _, w in naming.tf1_weights(keras_model))
    chosen = dict((n, n) for n in trace.names)
    chosen.update(variable_map or {})
    problems, out = [], []
    for name, shape, _ in trace.record["variables"]:
        target = chosen[name]
        weight = by_name.get(target) if isinstance(target, str) else target
        if weight is None:
            problems.append("the trace's %s has no Keras weight named %r; "
                            "closest: %s" % (name, target, ", ".join(
                                difflib.get_close_matches(
                                    str(target), sorted(by_name), 3, 0.0))))
        elif tuple(weight.shape) != tuple(shape):
            problems.append("the trace's %s has shape %s but Keras %s has %s"
                            % (name, tuple(shape), target,
                               tuple(weight.shape)))
        out.append(weight)
    extra = set(map(id, (w for _, _, w in naming.tf1_weights(keras_model)
                         if w.trainable))) - set(map(id, out))
    if extra:
        problems.append("Keras weights the trace lacks: %s" % ", ".join(
            n for n, _, w in naming.tf1_weights(keras_model) if id(w) in extra))
    if problems:
        raise ValueError("%s does not fit Keras model %r, %d problem%s:\n  %s"
                         % (trace.path, keras_model.name, len(problems),
                            "s" if len(problems) > 1 else "",
                            "\n  ".join(problems)))
    return out


def compare_trace(path, keras_model, loss, optimizer=None, variable_map=None,
                  spec=None):
    """Train ``keras_model`` as the recorded TF1 run trained and compare
    step by step (eager TF 2).

    Args:
      path: a trace folder written by ``recorder.record_model``.
      keras_model: the Keras port, built; called with ``{input name:
        batch}`` (name its ``Input`` layers as the trace's inputs).
      loss: ``(targets, outputs) -> scalar``, the data loss (the TF1 one
        often works as it is); the model's ``losses`` are added.
      optimizer: default ``compat_reg.optimizers.get(the trace's spec)``;
        another optimizer to test a port of the optimizer.
      variable_map: ``{trace variable: Keras weight or its TF1 name}``;
        default: ``compat_reg.naming``'s TF1 names.
      spec: if given, the spec the port believes TF1 trained with: a trace
        recorded with another is refused.

    Returns a ``TraceComparison`` (``.ok``, ``.first_bad``, ``str()``);
    raises ``ValueError`` (a bad trace: ``golden_files.InputError``) before
    any weight is set.
    """
    trace = recorder.read_trace(path)
    if spec is not None and dict(spec) != trace.spec:
        raise golden_files.InputError(trace.path, "config", "recorded with "
                                      "spec %r, the port's is %r" % (
                                          trace.spec, dict(spec)))
    weights = _trace_weights(trace, keras_model, variable_map)
    if optimizer is None:
        optimizer = optimizers_mod.get(trace.spec)
    trainable = list(keras_model.trainable_weights)
    _compat.assign_values([(w, trace.init[n])
                           for n, w in zip(trace.names, weights)])
    curves = collections.OrderedDict((k, []) for k in golden_files.CURVES)
    steps = []
    for rows in trace.order.reshape(-1, trace.order.shape[-1]):
        batch = dict((n, v[rows]) for n, v in trace.inputs.items())
        targets = dict((n, v[rows]) for n, v in trace.targets.items())
        with tf.GradientTape() as tape:
            data_loss = loss(targets, keras_model(batch, training=True))
            penalties = list(keras_model.losses)
            reg_loss = tf.add_n(penalties) if penalties else tf.zeros(())
            total = data_loss + reg_loss
        optimizer.apply_gradients(zip(tape.gradient(total, trainable),
                                      trainable))
        for key, value in zip(golden_files.CURVES,
                              (data_loss, reg_loss, total)):
            curves[key].append(float(value))
        k = len(steps)
        after = [np.asarray(w.numpy(), np.float64) for w in weights]
        steps.append(Step(k, collections.OrderedDict(
            (key, float(measure.rel_curve([curves[key][k]],
                                          [trace.curves[key][k]])[0]))
            for key in golden_files.CURVES), collections.OrderedDict(
                (n, float(np.linalg.norm(a - trace.after[n][k]) / max(
                    np.linalg.norm(trace.after[n][k]), tolerances.FLOOR)))
                for n, a in zip(trace.names, after))))
    return TraceComparison(trace, steps, curves, tolerances.CURVE_EXACT,
                           tolerances.WEIGHTS_EXACT)
