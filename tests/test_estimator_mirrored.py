"""TF 1.15's Estimator under MirroredStrategy, measured on the real thing,
and the TF2 ports that reproduce it.

``tests/data/tf1_estimator_mirrored/reference.json`` is written by
``record.py`` next to it, run in the tf1 env (real TF 1.15.5): a
``tf.estimator.Estimator`` training the harness's MLP for 3 SGD steps under
``MirroredStrategy`` on 2 logical CPUs and on one device, the kernels
penalised by ``tf.contrib.layers.l2_regularizer``, the penalty read from the
``REGULARIZATION_LOSSES`` collection or computed in ``model_fn`` as
``reg(kernel)``. What the tests assert:

* on TF 1.15 with contrib, rerunning ``record.py`` rewrites the reference
  exactly (the record is real and deterministic);
* in every env, the facts the file records, against arithmetic on its own
  inputs: under the strategy the collection penalty trains as one device
  with half the scale, the explicit penalty as one device with the whole
  scale, the penalty's step alone is 0.5 / 1.0 of one device's, the loss
  the Estimator reports still counts the whole penalty, and a loss of the
  collection penalty alone raises;
* where eager ``tf.distribute`` works (``_compat.DISTRIBUTED_PARITY_MISSING
  is None``), the harness's TF2 ports (``compat_reg.parity.backends.run``
  under a strategy: the custom loop with ``tf.nn.compute_average_loss`` and the
  penalty scaled per replica, and ``fit``) under ``MirroredStrategy`` on 2
  logical CPUs, from the record's data, initial weights and per-replica
  batches: the regularizer at scale / replicas reproduces the collection
  case, the regularizer at the whole scale the explicit case, each within
  1e-6 relative, and each misses the other case by more than 1e-3.

Run as a script (``python test_estimator_mirrored.py OUT_DIR``) this module
is the TF2 worker: it splits the CPU before TensorFlow starts and writes one
trace per port and backend into OUT_DIR.
"""

import collections
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from compat_reg import _compat, golden_files
from compat_reg.parity import backends, distributed, registry, workloads
from compat_reg.parity import trace as trace_mod
from golden_support import assert_rerecorded

HERE = os.path.dirname(os.path.abspath(__file__))
FOLDER = os.path.join(HERE, "data", "tf1_estimator_mirrored")
RECORD_SCRIPT = os.path.join(FOLDER, "record.py")
REFERENCE_PATH = os.path.join(FOLDER, "reference.json")
FORMAT = "compat_reg-tf1-estimator-mirrored-1"

# the TF2 ports: the Keras regularizer's scale as a fraction of TF1's
PORT_SCALES = collections.OrderedDict([
    ("scale_over_replicas", "1 / replicas"), ("whole_scale", "1")])
# which port reproduces which TF1 case
REPRODUCES = {"mirrored__collection": "scale_over_replicas",
              "mirrored__explicit": "whole_scale"}
MATCH, MISS = 1e-6, 1e-3      # relative bounds: a port reproduces / misses
# record.py's cases
CASE_NAMES = (
    "mirrored__collection", "mirrored__explicit",
    "mirrored__collection__zero_data_loss", "mirrored__explicit__zero_data_loss",
    "mirrored__collection__penalty_alone", "one_device", "one_device__half_scale",
    "one_device__zero_data_loss", "one_device__half_scale__zero_data_loss")


def _reject_constant(name):
    raise ValueError("reference.json holds %s; every number must be finite"
                     % name)


def load_reference(path=REFERENCE_PATH):
    """The record, checked: its format, every number finite (JSON's NaN and
    Infinity refused), the cases this module reads present."""
    with open(path) as handle:
        record = json.load(handle, parse_constant=_reject_constant,
                           object_pairs_hook=collections.OrderedDict)
    if record.get("format") != FORMAT:
        raise ValueError("%s: format %r, expected %r" % (
            path, record.get("format"), FORMAT))
    missing = [n for n in CASE_NAMES if n not in record["cases"]]
    if missing:
        raise ValueError("%s: cases %s missing" % (path, ", ".join(missing)))
    return record


REFERENCE = load_reference()
RECIPE = REFERENCE["recipe"]
CONFIG = RECIPE["config"]
STEPS = RECIPE["steps"]
CASES = REFERENCE["cases"]
NAMES = [name for name, _, _ in golden_files.layer_names(CONFIG)]
KERNELS = [name for name in NAMES if name.endswith("/kernel")]
REPLICAS = len(RECIPE["devices"])


def weights(case, step):
    """``{name: float32 array}`` of a case after ``step`` steps."""
    return collections.OrderedDict(
        (n, np.asarray(CASES[case]["weights"][step][n], np.float32))
        for n in NAMES)


def initial():
    return collections.OrderedDict(
        (n, np.asarray(REFERENCE["initial"][n], np.float32)) for n in NAMES)


def flat(arrays):
    return np.concatenate([np.ravel(a) for a in arrays.values()])


def relative(got, want):
    """Largest difference relative to each tensor's largest entry (an
    all-zero tensor must be matched exactly: inf otherwise)."""
    worst = 0.0
    for n in want:
        gap, size = np.max(np.abs(got[n] - want[n])), np.max(np.abs(want[n]))
        worst = max(worst, float(gap / size) if size else
                    (0.0 if gap == 0 else float("inf")))
    return worst


def within_rounding(got, want):
    """Equal to float32 rounding: each entry within 2 ulp of its tensor's
    largest entry (the halves' means differ in the last bit from the whole
    batch's mean)."""
    return all(np.all(np.abs(got[n] - want[n]) <= 2 * np.spacing(
        np.max(np.abs(want[n])))) for n in want)


# ---------------------------------------------------------------------------
# The record is real: rerun on TF 1.15
# ---------------------------------------------------------------------------

@pytest.mark.skipif(_compat.TF_VERSION != (1, 15) or not _compat.HAS_CONTRIB,
                    reason="record.py runs a TF 1.15 Estimator with tf.contrib "
                           "(the tf1 env; the record names its TF); this is TF "
                           "%d.%d, tf.contrib %s" % (
                               _compat.TF_VERSION + ("real" if _compat.HAS_CONTRIB
                                                     else "absent",)))
def test_rerunning_the_recording_reproduces_the_reference(tmp_path):
    out = str(tmp_path / "reference.json")
    run = subprocess.run(
        [sys.executable, RECORD_SCRIPT, "--out", out], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, universal_newlines=True, timeout=900,
        env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    fresh = load_reference(out)
    assert fresh["env"] == REFERENCE["env"]
    # equal but for float32 summation order on another CPU (golden_support)
    assert_rerecorded(fresh, REFERENCE)


# ---------------------------------------------------------------------------
# What the record says (every env: the file against arithmetic)
# ---------------------------------------------------------------------------

def test_every_run_started_from_the_initial_weights():
    for name, case in CASES.items():
        if "raises" in case:
            continue
        start = weights(name, 0)
        for n, value in initial().items():
            np.testing.assert_array_equal(start[n], value, err_msg=name)


@pytest.mark.parametrize("name", [n for n in CASE_NAMES if "raises" not in CASES[n]])
def test_each_replica_got_a_whole_input_fn_batch(name):
    # input_fn: Dataset(range(examples)).repeat().batch(b), b = batch/replicas:
    # replica r of step k got the input_fn's batch k * replicas + r
    case = CASES[name]
    examples = len(REFERENCE["data"]["x"])
    size = CONFIG["batch"] // case["replicas"]
    assert case["input_fn_batch"] == size
    for k, replicas in enumerate(case["replica_steps"]):
        assert [r["replica"] for r in replicas] == list(range(case["replicas"]))
        for r, replica in enumerate(replicas):
            first = (k * case["replicas"] + r) * size
            assert replica["examples"] == [(first + i) % examples
                                           for i in range(size)]


def test_the_contrib_penalty_is_the_arithmetic_on_the_weights():
    # l2_regularizer(s)(w) = s * sum(w ** 2) / 2, summed over the kernels
    for name, case in CASES.items():
        for k, replicas in enumerate(case.get("replica_steps", [])):
            w = weights(name, k)
            want = case["scale"] * sum(float(np.sum(w[n].astype(np.float64) ** 2))
                                       for n in KERNELS) / 2
            for replica in replicas:
                assert replica["penalty"] == pytest.approx(want, rel=1e-6), name


# the mirrored cases x one device at each scale: which pairs train alike
PAIRS = [(penalty, fraction, data)
         for penalty in ("collection", "explicit")
         for fraction in ("half_scale", "scale")
         for data in ("", "__zero_data_loss")]


@pytest.mark.parametrize("penalty,fraction,data", PAIRS)
def test_mirrored_estimator_trains_as_one_device_at_which_scale(penalty, fraction, data):
    mirrored = "mirrored__%s%s" % (penalty, data)
    one = "one_device%s%s" % ("__half_scale" if fraction == "half_scale" else "", data)
    alike = (penalty, fraction) in (("collection", "half_scale"), ("explicit", "scale"))
    for step in range(1, STEPS + 1):
        got, want = weights(mirrored, step), weights(one, step)
        if alike and data:  # the penalty's steps alone: bit for bit
            for n in NAMES:
                np.testing.assert_array_equal(got[n], want[n])
        elif alike:         # two halves' mean vs the batch's: last bit
            assert within_rounding(got, want), (step, relative(got, want))
        else:
            assert relative(got, want) > MISS, step


@pytest.mark.parametrize("penalty,ratio", [("collection", 0.5), ("explicit", 1.0)])
def test_the_penalty_step_under_the_strategy_over_one_device(penalty, ratio):
    start = flat(initial())
    mirrored = flat(weights("mirrored__%s__zero_data_loss" % penalty, 1)) - start
    one = flat(weights("one_device__zero_data_loss", 1)) - start
    assert np.linalg.norm(mirrored) / np.linalg.norm(one) == pytest.approx(ratio, rel=1e-6)


@pytest.mark.parametrize("name", ["one_device__zero_data_loss",
                                  "one_device__half_scale__zero_data_loss"])
def test_one_device_penalty_step_is_contribs_gradient(name):
    # SGD on s * sum(w ** 2) / 2 in float32: kernel -= lr * (kernel * s)
    # (the gradient of s * l2_loss is kernel * s); biases stay
    lr, scale = np.float32(CONFIG["lr"]), np.float32(CASES[name]["scale"])
    for step in range(STEPS):
        before, after = weights(name, step), weights(name, step + 1)
        for n in NAMES:
            want = before[n] - lr * (before[n] * scale) if n in KERNELS else before[n]
            assert np.all(np.abs(after[n] - want) <= np.spacing(np.abs(want))), (step, n)


def test_the_reported_loss_counts_the_whole_penalty():
    # the Estimator reports the mean of the replicas' losses, each with the
    # whole collection penalty, while the update applied half of it
    mirrored, one, half = (CASES[n]["reported_loss"] for n in (
        "mirrored__collection", "one_device", "one_device__half_scale"))
    assert [s for s, _ in mirrored] == list(range(1, STEPS + 1))
    replicas = CASES["mirrored__collection"]["replica_steps"][0]
    mean = sum(r["data_loss"] + r["penalty"] for r in replicas) / len(replicas)
    assert mirrored[0][1] == pytest.approx(mean, rel=1e-6)
    assert mirrored[0][1] == pytest.approx(one[0][1], rel=1e-6)
    assert abs(mirrored[0][1] - half[0][1]) > 0.1


def test_the_collection_penalty_alone_raises_under_the_strategy():
    # replica 1's loss does not depend on replica 1's variables: the
    # collection's penalty was computed once, from replica 0's
    case = CASES["mirrored__collection__penalty_alone"]
    assert case["raises"]["type"] == "ValueError"
    assert case["raises"]["message"].startswith("No gradients provided")


# ---------------------------------------------------------------------------
# The TF2 ports that reproduce each case (MirroredStrategy, 2 logical CPUs)
# ---------------------------------------------------------------------------

def port_workload(port, replicas):
    """The harness's workload of a port: the record's config, data, initial
    weights and global batches (replica 0's examples, then replica 1's), the
    contrib scale times the port's fraction."""
    scale = CONFIG["reg"][1] / (replicas if port == "scale_over_replicas" else 1)
    config = dict(CONFIG, reg=[CONFIG["reg"][0], scale])
    x = np.asarray(REFERENCE["data"]["x"], np.float32)
    y = np.asarray(REFERENCE["data"]["y"], np.int64)
    order = np.array([[sum((r["examples"] for r in step), [])
                       for step in CASES["mirrored__collection"]["replica_steps"]]])
    return workloads.validate(workloads.Workload(
        "tf1_estimator_mirrored", config, list(initial().values()), order,
        workloads.Data(x, y, x, y)))


def port_backends():
    """The ports' backends here: ``fit`` only where ``fit`` under
    MirroredStrategy is exact (``_compat.MIRRORED_FIT``)."""
    return [b for b in registry.STRATEGY_BACKENDS
            if b != "tf2-fit" or _compat.MIRRORED_FIT == "exact"]


def run_ports(out_dir):
    """The worker: every port on every backend, one trace file each."""
    distributed.configure_process("mirrored")
    strategy = distributed.make_strategy("mirrored")
    for port in PORT_SCALES:
        work = port_workload(port, strategy.num_replicas_in_sync)
        for backend in port_backends():
            trace = backends.run(work, backend, strategy=strategy,
                                 strategy_name="mirrored")
            trace.save(os.path.join(out_dir, "%s__%s.json" % (port, backend)))


@pytest.fixture(scope="module")
def port_traces(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("ports"))
    run = subprocess.run(
        [sys.executable, os.path.abspath(__file__), out], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, universal_newlines=True, timeout=900,
        env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    return dict((name[:-len(".json")], trace_mod.load(os.path.join(out, name)))
                for name in os.listdir(out))


needs_distribute = pytest.mark.skipif(
    _compat.DISTRIBUTED_PARITY_MISSING is not None,
    reason="the TF2 ports run under eager tf.distribute; missing here: %s"
    % _compat.DISTRIBUTED_PARITY_MISSING)


@needs_distribute
@pytest.mark.parametrize("backend", registry.STRATEGY_BACKENDS)
@pytest.mark.parametrize("port", list(PORT_SCALES))
@pytest.mark.parametrize("case", sorted(REPRODUCES))
def test_tf2_port_reproduces_its_tf1_case(case, port, backend, port_traces):
    if backend not in port_backends():
        pytest.skip("fit under MirroredStrategy is %r here, not exact "
                    "(_compat.MIRRORED_FIT)" % _compat.MIRRORED_FIT)
    trace = port_traces["%s__%s" % (port, backend)]
    assert trace.env["replicas"] == REPLICAS
    got = collections.OrderedDict((n, np.asarray(trace.final_weights[n]))
                                  for n in NAMES)
    gap = relative(got, weights(case, STEPS))
    if REPRODUCES[case] == port:
        assert gap <= MATCH
        # and every step's data loss: the global batch's mean, as the
        # replicas' means averaged in TF1
        tf1 = [sum(r["data_loss"] for r in step) / len(step)
               for step in CASES[case]["replica_steps"]]
        np.testing.assert_allclose(trace.curves["data_loss"], tf1, rtol=MATCH)
    else:
        assert gap > MISS


if __name__ == "__main__":
    run_ports(sys.argv[1])
