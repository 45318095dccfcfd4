"""Measure one trace against another and name the likely cause of a difference.

``measure(candidate, reference)`` returns a ``Comparison``: the numbers of
one table row (step-0 penalty ratio, max relative difference of each curve,
first step past the bound, final-weight difference, test accuracy) and
``diagnoses``, human sentences naming what a port most likely got wrong.
``explain(result, probes)`` adds what only a run under a ``tf.distribute``
strategy can get wrong (replicas out of sync, the penalty applied once per
replica, Keras' own fit under a strategy), and names the upstream limits of
this Keras (``upstream_limit``); ``failed_comparison`` is the row of a
``fit`` that raised under a strategy.
"""

from __future__ import absolute_import, division, print_function

import collections

import numpy as np

from compat_reg import _compat, convention
from compat_reg.parity import finite, keras_backends, registry
from compat_reg.parity import tolerances as tol
from compat_reg.parity import trace as trace_mod
from compat_reg.parity.trace import CURVES, HPARAM_KEYS, sha256


def rel_curve(a, b):
    """Per-step ``|a - b| / max(|b|, FLOOR)`` as an array."""
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    return np.abs(a - b) / np.maximum(np.abs(b), tol.FLOOR)


def _rel(a, b):
    return abs(a - b) / max(abs(b), tol.FLOOR)


def _close(value, target):
    return abs(value - target) <= tol.RATIO * max(1.0, abs(target))


# Keras' l2(scale) over contrib's l2_regularizer(scale): the inverse of
# convention's l2 factor (contrib's l2_loss carries a 1/2 Keras lacks).
UNHALVED_L2 = 1.0 / convention.FACTORY["l2_regularizer"].scales[0].factor


class Comparison(object):
    """One candidate trace measured against one reference trace."""

    def __init__(self, candidate, reference):
        self.candidate = candidate
        self.reference = reference
        self.diagnoses = []
        self.failures = []
        self.optimizers = ("keras" if "keras" in (
            candidate.env.get("optimizers"), reference.env.get("optimizers"))
            else "exact")
        self.curve_bound = tol.curve_bound(self.optimizers)
        # the total-loss curve's; Keras 3 on JAX/torch: keras_backends.bounds
        self.total_bound, self.weights_bound = keras_backends.bounds(
            candidate, reference, self.optimizers) or (
                self.curve_bound, tol.weights_bound(self.optimizers))
        self.penalty_ratio = None
        self.effective_ratio = None
        self.data0 = None
        self.curve_max = {}
        self.first_bad = None
        self.steps = 0
        self.weights = None
        self.accuracy = None
        self.reference_accuracy = None
        self.accuracy_diff = None
        self.nonfinite = False  # a NaN/inf failed it (never unsupported)
        self.limit = None  # the _compat fact of an upstream limit
        # what passed only as a difference the project states (a TF
        # release's, two Keras backends' summation order): _stated_difference
        self.stated_differences = []

    @property
    def ok(self):
        """Whether the two agree (False for an ``unsupported here`` row)."""
        return not self.failures

    @property
    def state(self):
        """``ok``, ``FAIL``, or ``unsupported here``: the failures are what
        ``_compat`` says this TensorFlow/Keras cannot do (an upstream bug,
        not the port); a run counts those apart and exits 0 on them unless
        ``--strict``."""
        if not self.failures:
            return "stated difference" if self.stated_differences else "ok"
        return "unsupported here" if self.limit else "FAIL"

    def mark_unsupported(self, fact, cause):
        """Explain the failures by an upstream limit: ``fact`` is the
        ``_compat`` flag that predicts it, ``cause`` the diagnosis naming the
        upstream issue. A non-finite value still fails."""
        if self.failures and not self.nonfinite:
            self.limit = fact
            self.diagnoses[:] = [cause] + [d for d in self.diagnoses
                                           if d != cause]

    @property
    def max_curve(self):
        return max(self.curve_max.values()) if self.curve_max else None

    def fail(self, what, diagnosis=None):
        self.failures.append(what)
        if diagnosis and diagnosis not in self.diagnoses:
            self.diagnoses.append(diagnosis)

    def message(self):
        """All failures and diagnoses as one text (empty when ok)."""
        lines = ["%s vs %s, workload %s:" % (
            self.candidate.name, self.reference.name,
            self.candidate.workload.get("name", "?"))]
        if self.limit:
            lines.append("  UNSUPPORTED HERE (an upstream limit, %s; --strict "
                         "fails it):" % self.limit)
        lines.extend("  %s %s" % ("upstream:" if self.limit else "FAIL", f)
                     for f in self.failures)
        lines.extend("  likely cause: " + d for d in self.diagnoses)
        lines.extend("  stated difference: " + d
                     for d in self.stated_differences)
        return "\n".join(lines) if not self.ok else ""


def _check_workload(candidate, reference):
    a = dict(candidate.workload["config"])
    b = dict(reference.workload["config"])
    a.pop("epochs", None)
    b.pop("epochs", None)
    if a != b:
        keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
        raise ValueError("%s and %s ran different configs of workload %s "
                         "(%s): %s" % (
                             _where(candidate), _where(reference),
                             candidate.workload.get("name"), ", ".join(keys),
                             "; ".join("%s %r vs %r" % (k, a.get(k), b.get(k))
                                       for k in keys)))
    steps = [len(t.curves["total_loss"]) // len(t.per_epoch["test_loss"])
             for t in (candidate, reference)]
    if steps[0] != steps[1]:
        raise ValueError("%s has %d steps per epoch, %s %d: not the same "
                         "batches" % (_where(candidate), steps[0],
                                      _where(reference), steps[1]))


def _where(trace):
    return trace.path or trace.name


def _align(candidate, reference):
    """Cut the longer trace to the other's epochs (same workload, --epochs)."""
    steps = len(candidate.curves["total_loss"])
    ref_steps = len(reference.curves["total_loss"])
    epochs = len(candidate.per_epoch["test_loss"])
    ref_epochs = len(reference.per_epoch["test_loss"])
    if steps < ref_steps and epochs:
        reference = reference.truncated(epochs, steps // epochs)
    elif ref_steps < steps and ref_epochs:
        candidate = candidate.truncated(ref_epochs, ref_steps // ref_epochs)
    return candidate, reference


def _same_names(result, what, a, b):
    """Both traces name the same weights in ``a`` and ``b`` (dicts), or a
    ValueError naming the files and the weights only one of them has."""
    if a and b and set(a) != set(b):
        raise ValueError("%s and %s hold different %s (only in the first: %s;"
                         " only in the second: %s): not the same model" % (
                             _where(result.candidate), _where(result.reference),
                             what, ", ".join(sorted(set(a) - set(b))) or "-",
                             ", ".join(sorted(set(b) - set(a))) or "-"))


def _check_start(result):
    """Initial weights, batches: were the two runs fed the same things?"""
    cand, ref = result.candidate.port, result.reference.port
    same_start = True
    a, b = cand.get("initial_weights") or {}, ref.get("initial_weights") or {}
    _same_names(result, "initial weights", a, b)
    differ = sorted(k for k in a if k in b and a[k] != b[k])
    if differ:
        same_start = False
        owner = dict((digest, name) for name, digest in b.items())
        swapped = ["%s holds the reference's %s" % (k, owner[a[k]])
                   for k in differ if owner.get(a[k], k) != k]
        if swapped:
            cause = ("the initial values went to the wrong weights (%s): the "
                     "TF1 checkpoint's name mapping is wrong; check the scope "
                     "to layer mapping (compat_reg.checkpoints prints it)" %
                     "; ".join(swapped))
        else:
            cause = ("the runs did not start from the same weights (different "
                     "seeds or initializers, or the TF1 initial values were not"
                     " copied into the Keras model): copy them, e.g. with "
                     "compat_reg.parity.compare_models, or set the same seeds "
                     "and initializers")
        result.fail("initial weights differ (%s)" % ", ".join(differ), cause)
    a, b = cand.get("batch_order") or [], ref.get("batch_order") or []
    n = min(len(a), len(b))  # per epoch; a truncated run compares its epochs
    if a[:n] != b[:n]:
        same_start = False
        result.fail("batch order differs",
                    "the runs saw different batches: use the same shuffling "
                    "seed / batch order")
    return same_start


def _check_hparams(result):
    a = result.candidate.port.get("optimizer") or {}
    b = result.reference.port.get("optimizer") or {}
    for key in HPARAM_KEYS:
        if not isinstance(a.get(key), float) or not isinstance(
                b.get(key), float):
            continue
        if _rel(a[key], b[key]) <= tol.HPARAM:
            continue
        entry = convention.OPTIMIZER.get(a.get("kind"))
        keras_default = entry and entry.keras_defaults.get(key)
        keras_decay = a.get("keras_weight_decay")
        if key == "weight_decay" and isinstance(keras_decay, float) and _rel(
                keras_decay, b[key]) <= tol.HPARAM:
            cause = ("Keras' weight_decay was given TF1's %g as is, but Keras "
                     "multiplies it by the learning rate (var -= lr * wd * var)"
                     " where contrib's decoupled decay did not (var -= wd * "
                     "var): pass weight_decay=%g / lr (compat_reg.optimizers "
                     "keeps contrib's)" % (b[key], b[key]))
        elif keras_default is not None and _rel(
                a[key], keras_default) <= tol.HPARAM and _rel(
                    b[key], entry.defaults[key]) <= tol.HPARAM:
            cause = ("%s %s is %g, Keras' default, but TF1's %s used %s=%g: "
                     "pass %s=%g (compat_reg.optimizers does)" % (
                         entry.keras_class, key, a[key], entry.tf1_class, key,
                         b[key], key, b[key]))
        else:
            cause = ("the optimizer's %s is %g where the reference used %g: "
                     "pass the TF1 value explicitly (Keras defaults differ from"
                     " TF1's)" % (key, a[key], b[key]))
        result.fail("optimizer %s %g != %g" % (key, a[key], b[key]), cause)


def _frozen_statistics(result):
    """Moving statistics the reference updated and the candidate never did."""
    start = result.candidate.port.get("initial_weights") or {}
    ref_start = result.reference.port.get("initial_weights") or {}
    cand, ref = result.candidate.final_weights, result.reference.final_weights
    return sorted(
        name for name in cand if name.rsplit("/", 1)[-1] in MOVING_STATISTICS
        and name in ref and name in start and name in ref_start
        and sha256(cand[name]) == start[name]
        and sha256(ref[name]) != ref_start[name])


MOVING_STATISTICS = ("moving_mean", "moving_variance")


def _check_batch_norm(result):
    """Batch norm run in inference mode while training: moving statistics
    never updated (and a different step-0 forward pass)."""
    frozen = _frozen_statistics(result)
    if not frozen:
        return False
    result.fail(
        "batch-norm moving statistics never updated (%s)" % ", ".join(frozen),
        "batch norm ran in inference mode during training: the model was "
        "called with training=False (or the BatchNormalization layer was "
        "frozen with trainable=False, which Keras runs in inference mode), so "
        "it normalised with its moving statistics and never updated them; TF1 "
        "trained with is_training=True and ran UPDATE_OPS: call the model "
        "with training=True in the training step")
    return True


def _check_decay_biases(result):
    a = (result.candidate.port.get("optimizer") or {}).get("decay_biases")
    b = (result.reference.port.get("optimizer") or {}).get("decay_biases")
    if isinstance(a, bool) and isinstance(b, bool) and a != b:
        result.fail(
            "the optimizer %s biases, the reference %s" % (
                "decays" if a else "does not decay",
                "did" if b else "did not"),
            "weight decay on biases: Keras' weight_decay decays every "
            "trainable variable (biases, batch-norm scales) where the TF1 code "
            "decayed kernels only (decay_var_list): call "
            "optimizer.exclude_from_weight_decay(var_names=['bias']) before "
            "training" if a else
            "the port decays only kernels where TF1 decayed every variable")


def _schedule_cause(result):
    """Keras SGD(momentum) under a schedule: the rescaled accumulator."""
    hparams = result.candidate.port.get("optimizer") or {}
    schedule = hparams.get("schedule")
    if not isinstance(schedule, dict) or not hparams.get("momentum"):
        return None
    if str(hparams.get("class", "")).rsplit(".", 1)[-1] != "SGD":
        return None
    return ("Keras SGD(momentum=...) under a %s schedule: the curves agree "
            "until the learning rate changes and drift from step %d, because "
            "Keras folds the learning rate into its momentum accumulator "
            "(accum = m * accum - lr * grad), so a new rate rescales the "
            "momentum carried over, where TF1's MomentumOptimizer applies lr "
            "* accum: use compat_reg.optimizers.get(spec) "
            "(compat_reg.optimizers.Momentum)" % (
                schedule.get("kind"), result.first_bad))


def _stated_difference(result, quantity, measured, deviation, bound):
    """Whether ``quantity``, off by ``deviation`` (past ``bound``), is a
    difference the project states and pins by a test, within its figure: a
    TF release's (``_compat.RELEASE_DIFFERENCES``, for the TFs that recorded
    the two traces) or two Keras backends' float32 summation order
    (``keras_backends.summation_order``); if so it is noted on ``result``
    with the figure and the reason, and the row reads ``stated
    difference``."""
    c, r = result.candidate, result.reference
    tfs = [t.env.get("tensorflow") for t in (c, r)]
    known = _compat.release_difference(quantity, tfs[0], tfs[1], deviation)
    if known is not None:
        whose = "TF %s's stated difference (TF %s vs %s)" % (
            ", ".join("%d.%d" % v for v in known.releases), tfs[0], tfs[1])
    else:
        known = keras_backends.summation_order(c, r, result.optimizers,
                                               quantity, deviation)
        if known is None:
            return False
        whose = "the Keras backends' stated difference (%s vs %s)" % (
            keras_backends.keras_backend(c), keras_backends.keras_backend(r))
    result.stated_differences.append(
        "%s %s (bound %g): %s, at most %g: %s (pinned by %s)" % (
            quantity, measured, bound, whose, known.figure, known.reason,
            known.test))
    return True


def _check_penalty(result):
    """Step-0 penalty and what the optimizer minimised on top of the data."""
    c, r = result.candidate.curves, result.reference.curves
    ref_reg, reg = r["reg_loss"][0], c["reg_loss"][0]
    ref_eff = r["total_loss"][0] - r["data_loss"][0]
    eff = c["total_loss"][0] - c["data_loss"][0]
    result.data0 = _rel(c["data_loss"][0], r["data_loss"][0])
    if ref_reg <= tol.FLOOR:
        if reg > tol.FLOOR:
            result.fail("step-0 penalty %.6g where the reference has none" % reg,
                        "the port regularises weights that TF1 did not")
        return
    ratio = reg / ref_reg
    result.penalty_ratio = ratio
    result.effective_ratio = eff / ref_eff if abs(ref_eff) > tol.FLOOR else None
    if abs(ratio - 1.0) > tol.PENALTY_STEP0 and not _stated_difference(
            result, "step-0 penalty", "ratio %.7f (|1 - r| = %.4g)" % (
                ratio, abs(ratio - 1.0)), abs(ratio - 1.0), tol.PENALTY_STEP0):
        if _close(ratio, UNHALVED_L2):
            cause = ("penalty %.2fx TF1's at step 0: a Keras l2(scale) given "
                     "TF1's scale without halving (TF1's l2_regularizer is "
                     "scale * sum(w**2) / 2): use compat_reg.l2_regularizer(scale)"
                     " or keras L2(scale / 2)" % UNHALVED_L2)
        elif ratio < tol.RATIO:
            cause = ("the model has no penalty: the regularizers were not "
                     "attached to the layers (kernel_regularizer=...)")
        elif 1.0 < ratio < UNHALVED_L2:
            cause = ("penalty %.4gx TF1's at step 0, between 1x and %.4gx: the"
                     " L2 part was likely not halved (Keras L1L2/l2 with TF1's"
                     " scale); use compat_reg's regularizers" % (
                         ratio, UNHALVED_L2))
        else:
            cause = ("penalty %.4gx TF1's at step 0: the regularizer scale or "
                     "kind differs" % ratio)
        result.fail("step-0 penalty ratio %.6f (bound 1 +- %g)" % (
            ratio, tol.PENALTY_STEP0), cause)
    if result.effective_ratio is None:
        return
    minimised = result.effective_ratio / ratio if ratio > tol.FLOOR else 0.0
    if _close(minimised, 1.0):
        return
    if minimised < tol.RATIO:
        cause = ("the penalty is computed but never added to the loss the "
                 "optimizer minimises: add compat_reg.get_regularization_loss"
                 "(model) to the loss in the custom training loop")
    elif _close(minimised, 2.0):
        cause = ("the penalty is counted twice: model.fit already adds "
                 "model.losses (the layers' regularizers) to the compiled "
                 "loss; remove the manual add")
    else:
        cause = ("the loss minimised carries %.4gx the model's penalty" %
                 minimised)
    result.fail("step-0 minimised penalty %.4gx the model's own" % minimised,
                cause)


def _check_curves(result, explained):
    c, r = result.candidate.curves, result.reference.curves
    steps = min(len(c["total_loss"]), len(r["total_loss"]))
    result.steps = steps
    bad = []
    for key in CURVES:
        bound = result.total_bound if key == "total_loss" else (
            result.curve_bound)
        diff = rel_curve(c[key][:steps], r[key][:steps])
        result.curve_max[key] = float(diff.max()) if steps else 0.0
        over = np.nonzero(diff > bound)[0]
        if len(over) and not (key == "total_loss" and _stated_difference(
                result, "total-loss curve", "max relative difference %.4g" %
                result.curve_max[key], result.curve_max[key], bound)):
            bad.append((int(over[0]), result.curve_max[key], bound))
    if not bad:
        return
    result.first_bad = min(bad)[0]
    worst, bound = max(b[1:] for b in bad)
    cause = None
    if not explained:
        cause = _schedule_cause(result)
    if not explained and cause is None:
        if result.candidate.env.get("optimizers") == "keras" or (
                result.reference.env.get("optimizers") == "keras"):
            cause = ("the curves agree at step 0 and drift from step %d: "
                     "native Keras optimizers evaluate the update in another "
                     "float32 order than TF1; use compat_reg.optimizers "
                     "(TF1-exact)" % result.first_bad)
        else:
            cause = ("the curves agree at step 0 and drift from step %d: the "
                     "optimizer update or the forward pass differs (check the "
                     "optimizer and its settings, activations, loss)" %
                     result.first_bad)
    result.fail("curves differ by %.3g (bound %g) from step %d" % (
        worst, bound, result.first_bad), cause)


def _check_weights(result):
    a, b = result.candidate.final_weights, result.reference.final_weights
    if not a or not b:  # a trace cut to fewer epochs has none
        return
    where = (_where(result.candidate), _where(result.reference))
    _same_names(result, "final weights", a, b)
    worst = 0.0
    for key in b:
        if np.shape(a[key]) != np.shape(b[key]):
            raise ValueError("%s and %s: final weight %s has shape %s vs %s: "
                             "not the same model" % (where + (
                                 key, np.shape(a[key]), np.shape(b[key]))))
        ref = np.asarray(b[key], np.float64)
        diff = np.linalg.norm(np.asarray(a[key], np.float64) - ref)
        worst = max(worst, diff / max(np.linalg.norm(ref), tol.FLOOR))
    result.weights = worst
    if worst > result.weights_bound:
        result.fail("final weights differ by %.3g (bound %g)" % (
            worst, result.weights_bound))


def _check_accuracy(result):
    a = result.candidate.per_epoch["test_accuracy"]
    b = result.reference.per_epoch["test_accuracy"]
    n = min(len(a), len(b))
    if not n:
        return
    result.accuracy, result.reference_accuracy = a[n - 1], b[n - 1]
    result.accuracy_diff = max(abs(x - y) for x, y in zip(a[:n], b[:n]))
    if result.accuracy_diff > tol.ACCURACY:
        result.fail("test accuracy differs by %.4f (bound one of 360 images)"
                    % result.accuracy_diff)


def _check_finite(result):
    """NaN or inf anywhere in either trace (``finite.problems``) fails the
    row, each named with its trace, file, field and first step or index;
    returns whether there was any (nothing else is measured then)."""
    causes = {
        "run": "the run produced NaN/inf: it diverged (learning rate, "
               "penalty scale or inputs) or its trace is corrupt; a "
               "non-finite value agrees with nothing",
        "reference": "the reference holds NaN/inf: a diverged or corrupt "
                     "reference proves nothing; record it again"}
    steps = []
    for role, trace in (("run", result.candidate),
                        ("reference", result.reference)):
        for problem in finite.problems(trace):
            result.fail("%s %s%s: %s" % (
                role, trace.name, " (%s)" % trace.path if trace.path else "",
                problem), causes[role])
            if problem.step is not None:
                steps.append(problem.step)
    result.first_bad = min(steps) if steps else None
    result.nonfinite = bool(result.failures)
    return result.nonfinite


def measure(candidate, reference):
    """Measure ``candidate`` against ``reference``; returns a Comparison."""
    _check_workload(candidate, reference)
    nonfinite = Comparison(candidate, reference)
    if _check_finite(nonfinite):
        return nonfinite
    candidate, reference = _align(candidate, reference)
    result = Comparison(candidate, reference)
    same_start = _check_start(result)
    _check_hparams(result)
    _check_decay_biases(result)
    if same_start:
        _check_penalty(result)
    else:
        c, r = candidate.curves, reference.curves
        result.data0 = _rel(c["data_loss"][0], r["data_loss"][0])
        if r["reg_loss"][0] > tol.FLOOR:
            result.penalty_ratio = c["reg_loss"][0] / r["reg_loss"][0]
    explained = bool(result.diagnoses)
    batch_norm = _check_batch_norm(result)
    if same_start and result.data0 is not None and (
            result.data0 > tol.DATA_STEP0):
        result.fail("step-0 data loss differs by %.3g" % result.data0,
                    None if batch_norm else
                    "same weights and batch but a different forward pass or "
                    "loss (activation, logits vs probabilities, loss "
                    "reduction)")
        explained = True
    explained = explained or batch_norm
    _check_curves(result, explained)
    _check_weights(result)
    _check_accuracy(result)
    return result


# ---------------------------------------------------------------------------
# Under a strategy
# ---------------------------------------------------------------------------

# Where fit under MirroredStrategy is off on some Keras 3 releases.
FIT_CAUSES = {
    "data-loss-drift": (
        "Keras %s's optimizer does not sum the replicas' gradients (keras-"
        "team/keras#19308, fixed in 3.5 by keras-team/keras#19969): each "
        "replica's copy takes its own half-batch step, so the data loss's "
        "part is off even without a penalty, and the copies drift apart; the"
        " penalty's part (whole on each replica) looks right (Keras 3.3-3.4)"),
    "step-times-replicas": (
        "Keras %s's fit under a strategy sums the replicas' gradients of "
        "losses it never divided by the number of replicas, so every step, "
        "penalty included, is applied num_replicas times (keras-team/keras"
        "#19891, Keras 3.5-3.7, fixed in 3.8 by keras-team/keras#20609; "
        "on Keras 3.3-3.4 too once the gradients are summed, as "
        "compat_reg.optimizers do)"),
}


def _is_loop(trace):
    return bool(trace.env.get("strategy")) and trace.backend.endswith(
        ":tf2-keras")


def _is_fit(trace):
    return bool(trace.env.get("strategy")) and trace.backend.endswith(
        ":tf2-fit")


def _strategy_of(trace):
    return trace.backend.split(":", 1)[0]


def replica_cause(trace, replicas):
    """The diagnosis of a custom loop that applies the penalty ``replicas``
    times: it added the unscaled penalty on every replica."""
    return ("%s adds the whole penalty on each of its %d replicas and the "
            "replicas' gradients are summed, so the penalty is applied %dx "
            "(the replica factor): scale it per replica with "
            "compat_reg.scale_regularization_loss(penalty) or "
            "compat_reg.get_regularization_loss(model, per_replica=True) "
            "(TF2's tf.nn.scale_regularization_loss)" % (
                trace.name, replicas, replicas))


def explain(result, probes=None):
    """Check what only a distributed run can get wrong, and name the
    distributed cause of a failed Comparison, in place; returns it.

    * a trace whose replicas' copies of the weights differ after training
      fails (``replica_spread``: the replicas fell out of sync);
    * a custom loop whose penalty reaches the optimizer ``replicas`` times
      (or 1/``replicas`` times, seen from the other side) did not scale it
      per replica (the generic "counted twice" cause is replaced);
    * ``fit`` under a strategy whose one-step ``fit_probe`` is off: Keras'
      fit under that strategy, not the port (replaces the generic drift).
    """
    probes = probes or {}
    cand, ref = result.candidate, result.reference
    for trace in (cand, ref):
        for key, what in (("replica_spread", "the replicas' copies of the "
                           "weights in one process"),
                          ("worker_spread", "the workers' curves or weights")):
            spread = trace.env.get(key) or 0.0
            if spread > 0.0:
                cause = sync_cause()
                result.fail("%s: %s differ by %.3g after training" % (
                    trace.name, what, spread))
                result.diagnoses[:] = [cause] + [
                    d for d in result.diagnoses
                    if d != cause and "drift from step" not in d]
                limit = upstream_limit(_strategy_of(trace), "sync")
                if limit and _correct_ports(result):
                    result.mark_unsupported(limit, cause)
    if result.ok or result.limit:
        return result
    if result.effective_ratio is not None and result.penalty_ratio:
        minimised = result.effective_ratio / result.penalty_ratio
        for trace, factor in ((cand, minimised),
                              (ref, 1.0 / minimised if minimised else 0.0)):
            replicas = trace.env.get("replicas") or 1
            if _is_loop(trace) and replicas > 1 and _close(factor, replicas):
                result.diagnoses[:] = [d for d in result.diagnoses if not (
                    "counted twice" in d or "carries" in d)]
                result.diagnoses.insert(0, replica_cause(trace, replicas))
                return result
    for trace in (cand, ref):
        if not _is_fit(trace):
            continue
        cause = fit_cause(probes.get(_strategy_of(trace)),
                          trace.env.get("strategy"))
        if cause:
            result.diagnoses[:] = [d for d in result.diagnoses
                                   if "drift from step" not in d]
            result.diagnoses.insert(0, cause)
            limit = upstream_limit(_strategy_of(trace), "fit")
            if limit and _correct_ports(result):
                result.mark_unsupported(limit, cause)
            return result
    return result


def _correct_ports(result):
    """Both traces of a row come from the correct port (a wrong port's row
    fails even where an upstream limit would explain it too)."""
    return all(t.port.get("name") in ("correct", None)
               for t in (result.candidate, result.reference))


def upstream_limit(strategy, what):
    """The ``_compat`` fact saying that this Keras cannot do ``what`` under
    ``strategy`` for an upstream bug (not the port), or None. ``what``:
    ``fit-raises`` (Keras 3's fit under MultiWorkerMirroredStrategy,
    ``MULTIWORKER_FIT``), ``fit`` (one fit step under MirroredStrategy on
    Keras 3.3-3.7, ``MIRRORED_FIT`` and ``FIT_CAUSES``) or ``sync`` (a Keras
    optimizer that does not sum the replicas' gradients, Keras 3.0-3.4,
    ``OPTIMIZER_SUMS_REPLICA_GRADIENTS``). Rows they explain read
    ``unsupported here``."""
    if what == "fit-raises" and strategy == "multiworker" and (
            _compat.MULTIWORKER_FIT == "raises"):
        return "compat_reg._compat.MULTIWORKER_FIT = 'raises'"
    if what == "fit" and strategy == "mirrored" and (
            _compat.MIRRORED_FIT_EXACT_OPTIMIZERS in FIT_CAUSES):
        return "compat_reg._compat.MIRRORED_FIT = %r" % (
            _compat.MIRRORED_FIT_EXACT_OPTIMIZERS,)
    if what == "sync" and not _compat.OPTIMIZER_SUMS_REPLICA_GRADIENTS:
        return "compat_reg._compat.OPTIMIZER_SUMS_REPLICA_GRADIENTS = False"
    return None


def sync_cause():
    """Why the replicas of a strategy end with different weights."""
    if not _compat.OPTIMIZER_SUMS_REPLICA_GRADIENTS:
        return ("Keras %s's optimizer does not sum the replicas' gradients "
                "under tf.distribute: each replica applies only its own "
                "gradient to its own copy of the weights, which drift apart "
                "(compat_reg._compat.OPTIMIZER_SUMS_REPLICA_GRADIENTS = False;"
                " keras-team/keras#19308, fixed in Keras 3.5 by keras-team/"
                "keras#19969; compat_reg.optimizers inherit it). Not the port:"
                " use Keras >= 3.5, tf_keras, or sum the gradients with "
                "tf.distribute.get_replica_context().all_reduce('sum', grads) "
                "before apply_gradients on Keras 3.0-3.4 only" %
                _compat.KERAS_VERSION)
    return ("the replicas fell out of sync: they applied different updates "
            "to their copies of the weights")


def fit_cause(probe, strategy_class="MirroredStrategy"):
    """The diagnosis a ``fit_probe`` result supports, or None if one fit
    step under the strategy equals one device's (to ``tolerances.RATIO``)."""
    if not probe or probe.get("error"):
        return None
    data, penalty = probe["data"], probe.get("penalty")
    if all(p["difference"] <= tol.RATIO for p in (data, penalty) if p):
        return None
    measured = ("one SGD step of fit under %s on the first batch, against one"
                " device: the data loss's part %.3gx (differs by %.3g), the "
                "penalty's part %s" % (
                    strategy_class, data["ratio"], data["difference"],
                    "%.3gx (differs by %.3g)" % (
                        penalty["ratio"], penalty["difference"])
                    if penalty else "- (no penalty)"))
    # the probe and the harness's fit train with compat_reg.optimizers
    behaviour = _compat.MIRRORED_FIT_EXACT_OPTIMIZERS
    known = FIT_CAUSES.get(behaviour)
    if known:
        return ("%s: %s (compat_reg._compat.MIRRORED_FIT = %r). Not the port:"
                " train with a custom loop, or a Keras without it" % (
                    measured, known % _compat.KERAS_VERSION, behaviour))
    return "%s: Keras %s's fit under the strategy, not the port" % (
        measured, _compat.KERAS_VERSION)


def fit_error_cause(strategy):
    """Why ``fit`` could not train under ``strategy`` on this Keras."""
    if strategy == "multiworker" and _compat.MULTIWORKER_FIT == "raises":
        return ("Keras %s's fit does not run under MultiWorkerMirroredStrategy"
                " (compat_reg._compat.MULTIWORKER_FIT = 'raises'; "
                "keras-team/keras#20585, tensorflow/tensorflow#72388): not the"
                " port. Train multi-worker with a custom loop (scale the "
                "penalty per replica), or with tf_keras (TF_USE_LEGACY_KERAS=1)"
                % _compat.KERAS_VERSION)
    return "fit raised under %s on Keras %s (see the error)" % (
        registry.STRATEGIES[strategy].cls, _compat.KERAS_VERSION)


def failed_comparison(workload, backend, error, reference, optimizers="exact"):
    """A failed row for a ``fit`` job that raised: no curves, the error and
    its cause (``fit_error_cause``)."""
    strategy = backend.split(":", 1)[0]
    env = trace_mod.env_record(backend, optimizers)
    env["strategy"] = registry.STRATEGIES[strategy].cls
    stub = trace_mod.Trace(
        env, collections.OrderedDict([("name", workload.name),
                                      ("config", workload.config)]),
        collections.OrderedDict(), dict((k, []) for k in CURVES), {},
        collections.OrderedDict())
    result = Comparison(stub, reference)
    cause = fit_error_cause(strategy)
    result.fail("%s could not train: %s" % (backend, error), cause)
    limit = upstream_limit(strategy, "fit-raises")
    if limit:
        result.mark_unsupported(limit, cause)
    return result


def describe_probe(strategy, probe):
    """One line about a ``fit_probe`` result."""
    if not probe:
        return "%s: fit probe not run" % strategy
    if probe.get("error"):
        return "%s fit probe: fit raised %s" % (strategy, probe["error"])
    penalty = probe.get("penalty")
    return ("%s fit probe (one SGD step, first batch, vs one device): data "
            "loss's part %.4fx, penalty's part %s; MIRRORED_FIT=%s, "
            "MULTIWORKER_FIT=%s" % (
                strategy, probe["data"]["ratio"],
                "%.4fx" % penalty["ratio"] if penalty else "-",
                _compat.MIRRORED_FIT_EXACT_OPTIMIZERS, _compat.MULTIWORKER_FIT))
