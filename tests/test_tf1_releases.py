"""What differs between the TF 1.x releases, 1.4 to 1.15 (issue 27).

Each difference is pinned to the releases that show it, and each test runs
in every TF1 env of the matrix (tf14 ... tf114, tf1), so a release that
behaves otherwise fails here.

* **The float32 sums.** contrib's ``l1_l2`` on the golden ``l1_l2`` input
  gives 383.347229 on TF 1.4, 383.347168 on TF 1.6 and 383.347137 on TF 1.15
  (the golden value): contrib's arithmetic is the same, the kernels that
  sum (``reduce_sum`` of the L1 term, ``l2_loss``) add in a different order.
  TF 1.4 adds 4 floats at a time (SSE), TF 1.5 - 1.12 8 (AVX; measured:
  TF 1.5's wheel too, though the release notes date AVX wheels from 1.6),
  TF 1.13 - 1.15 8 in Eigen's tree (halves of more than 8 x 1024 values
  summed apart). ``summed`` below reproduces each in
  numpy; the golden values are the tree's, and every release stays within
  the golden tolerance.
* **Names that came later**, which ``compat_reg._compat`` answers (table
  ``LATER``), and what compat_reg does where a release lacks them: TF1's
  schedules through ``get(spec)`` need callable rates (TF 1.10), contrib's
  ``AdamWOptimizer`` came in TF 1.10 (``tf1(spec)`` is compat_reg's port
  before), Keras' TF2 optimizers and schedules in TF 1.14 (``keras_native``
  raises before). TF 1.10's contrib AdamW/MomentumW raise on a sparse
  gradient (fixed in TF 1.11: ``_compat.CONTRIB_WEIGHT_DECAY_SPARSE``).
* **The seed's own program** (``tf.layers.dense`` and contrib's
  ``l2_regularizer(0.01)`` on a 784x10 ones kernel, migration_guide.md
  section 15) prints 39.2 on every release, and so does it with compat_reg's
  ``l2_regularizer`` in contrib's place.
"""

import io
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

import compat_reg
from compat_reg import _compat, golden_files, optimizers
from compat_reg.parity import cli, determinism, measure, trace, workloads
from compat_reg.parity import tolerances as tol
from golden_support import TOLERANCE, graph_penalty, make_regularizer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MINOR = _compat.TF_VERSION[1] if _compat.TF1 else None
tf1_only = pytest.mark.skipif(not _compat.HAS_CONTRIB,
                              reason="TF 1.x with its contrib (the tf14 ... tf1 envs)")


# -- the summation kernels ---------------------------------------------------

F32 = np.float32


def _packets(values, lanes):
    """One accumulator of ``lanes`` floats over the whole packets, and the
    values left over."""
    whole = len(values) // lanes * lanes
    accumulator = np.zeros(lanes, F32)
    for start in range(0, whole, lanes):
        accumulator = (accumulator + values[start:start + lanes]).astype(F32)
    return accumulator, values[whole:]


def _lanes_summed(accumulator):
    """A packet's lanes added as SSE/AVX do: halves, then halves of that."""
    while len(accumulator) > 1:
        half = len(accumulator) // 2
        accumulator = (accumulator[:half] + accumulator[half:]).astype(F32)
    return accumulator[0]


def _flat(values, lanes):
    accumulator, rest = _packets(values, lanes)
    total = _lanes_summed(accumulator)
    for value in rest:
        total = F32(total + value)
    return total


def _tree(values, lanes, leaf=1024):
    """Eigen's tree: more than ``lanes * leaf`` values are split at a packet
    boundary near the middle and the halves summed apart."""
    if len(values) > lanes * leaf:
        half = (len(values) + 1) // 2
        split = (half + lanes - 1) // lanes * lanes
        return F32(_tree(values[:split], lanes, leaf) + _tree(values[split:], lanes, leaf))
    accumulator, rest = _packets(values, lanes)
    total = F32(0)
    for value in rest:
        total = F32(total + value)
    return F32(total + _lanes_summed(accumulator))


KERNELS = {"sse": lambda v: _flat(v, 4), "avx": lambda v: _flat(v, 8),
           "avx-tree": lambda v: _tree(v, 8)}


def kernel_of(minor):
    """The summation of TF 1.<minor>'s CPU wheels."""
    return "sse" if minor <= 4 else "avx" if minor <= 12 else "avx-tree"


def summed(kind, scales, weights, kernel):
    """contrib's penalty computed in numpy with ``kernel``'s sums: ``scale *
    reduce_sum(abs(w))``, ``scale * l2_loss(w)`` (whose kernel halves each
    square before the sum), their ``add_n`` for l1_l2 and sum."""
    w = np.asarray(weights, F32).ravel()
    l1 = KERNELS[kernel](np.abs(w))
    l2 = KERNELS[kernel]((w * w * F32(0.5)).astype(F32))
    terms = {"l1": (l1,), "l2": (l2,), "l1_l2": (l1, l2), "sum": (l1, l2)}[kind]
    total = None
    for scale, term in zip(scales, terms):
        if scale:  # contrib drops a zero scale's term
            value = F32(F32(scale) * term)
            total = value if total is None else F32(total + value)
    return total


FLOAT32 = [(case, array) for case, array in golden_files.penalty_cases()
           if case["dtype"] == "float32" and case["collection_values"]]
IDS = [case["id"] for case, _ in FLOAT32]


@pytest.mark.parametrize("case,array", FLOAT32, ids=IDS)
def test_golden_penalties_are_the_tree_sums(case, array):
    """TF 1.15 recorded the golden values: its kernel, the tree, in numpy
    gives each of them bit for bit (no TensorFlow needed)."""
    kind, scales = case["regularizer"][0], case["regularizer"][1:]
    assert summed(kind, scales, array, "avx-tree") == F32(case["total_regularization_loss"])


def test_the_kernels_differ_on_the_golden_l1_l2_input():
    """What the issue saw: three different float32 sums of one input, each
    within the golden tolerance of TF 1.15's."""
    case, array = next(c for c in FLOAT32 if c[0]["id"] == "l1_l2")
    values = {k: summed("l1_l2", case["regularizer"][1:], array, k) for k in KERNELS}
    assert len(set(values.values())) == 3, values
    want = case["total_regularization_loss"]
    for value in values.values():
        assert abs(float(value) - want) / want <= TOLERANCE["float32"]


@tf1_only
@pytest.mark.parametrize("case,array", FLOAT32, ids=IDS)
def test_contrib_and_compat_reg_sum_as_this_release(case, array):
    """On this release contrib and compat_reg give the same penalty (value
    and op names), this release's kernel in numpy gives it too, and it holds
    the golden tolerance."""
    spec = case["regularizer"]
    contrib = graph_penalty(lambda: make_regularizer(tf.contrib.layers, spec), array)
    ours = graph_penalty(lambda: make_regularizer(compat_reg, spec), array)
    assert ours[0] == contrib[0] == case["collection_names"]
    assert np.array_equal(ours[1], contrib[1]) and ours[2] == contrib[2]
    assert ours[2] == summed(spec[0], spec[1:], array, kernel_of(MINOR))
    want = case["total_regularization_loss"]
    assert abs(float(ours[2]) - want) <= TOLERANCE["float32"] * abs(want)


# -- the sums in the parity workloads, and what compare makes of them -------

SUMS = next(d for d in _compat.RELEASE_DIFFERENCES if d.quantity == "step-0 penalty")
MLPS = [workloads.builtin(n) for n in workloads.BUILTIN]
MLPS = [w for w in MLPS if "sizes" in w.config and w.config.get("reg")]


def _workload_penalty(workload, kernel):
    """A workload's step-0 penalty in numpy with ``kernel``'s sums: each
    layer's kernel penalised (biases are not), the layers' terms added in
    order, as ``get_regularization_loss``'s ``add_n`` does."""
    reg = workload.config["reg"]
    total = F32(0)
    for array in workload.init[0::2]:
        total = F32(total + summed(reg[0], reg[1:], array, kernel))
    return total


def test_workload_penalties_differ_by_release():
    """The step-0 penalties of the parity workloads with each release's
    sums: TF 1.4's (SSE) against any other's is off by more than the step-0
    bound, by no more than the figure ``_compat`` states for it (and the
    figure is that worst case, rounded up by less than 1%); no other pair
    of releases is off by more than the bound; and the releases ``_compat``
    names are the SSE ones of the matrix."""
    worst = {True: 0.0, False: 0.0}  # whether one side sums as TF 1.4
    for workload in MLPS:
        values = dict((k, _workload_penalty(workload, k)) for k in KERNELS)
        for a in KERNELS:
            for b in KERNELS:
                deviation = abs(float(values[a]) / float(values[b]) - 1.0)
                key = (a == "sse") != (b == "sse")
                worst[key] = max(worst[key], deviation)
    assert worst[False] <= tol.PENALTY_STEP0 < worst[True] <= SUMS.figure
    assert SUMS.figure < 1.01 * worst[True]
    assert set(SUMS.releases) == set((1, m) for m in range(4, 16)
                                     if kernel_of(m) == "sse")


def graph_penalties():
    """``{workload: [contrib's, compat_reg's]}``: each workload's step-0
    penalty from a graph of its kernels in a one-thread Session, as the
    tf1-graph backend runs them. TF1's CPU thread pool is the process's,
    sized by its first Session, and more threads split the sums: run this in
    a fresh process (``python -c``)."""
    v1 = _compat.v1
    out = {}
    for workload in MLPS:
        out[workload.name] = []
        for module in (tf.contrib.layers, compat_reg):
            with tf.Graph().as_default():
                for i, array in enumerate(workload.init[0::2]):
                    v1.get_variable("dense_%d/kernel" % i,
                                    initializer=tf.constant(array),
                                    regularizer=make_regularizer(
                                        module, workload.config["reg"]))
                total = v1.losses.get_regularization_loss()
                with v1.Session(config=determinism.session_config()) as sess:
                    sess.run(v1.global_variables_initializer())
                    out[workload.name].append(float(sess.run(total)))
    return out


@tf1_only
def test_workload_penalties_sum_as_this_release():
    """On this release each workload's step-0 penalty through compat_reg and
    through contrib is this release's numpy sum."""
    printed = _run("import json, test_tf1_releases as t\n"
                   "print(json.dumps(t.graph_penalties()))")
    totals = json.loads(printed)
    assert sorted(totals) == sorted(w.name for w in MLPS)
    for workload in MLPS:
        want = _workload_penalty(workload, kernel_of(MINOR))
        assert [F32(v) for v in totals[workload.name]] == [want, want], workload.name


RELEASES = ["1.4.1", "1.5.1", "1.15.5", "2.21.0"]
# |1 - step-0 penalty ratio|: within the bound, past it but within TF 1.4's
# stated figure, past the figure
DEVIATIONS = [tol.PENALTY_STEP0 / 2, (tol.PENALTY_STEP0 + SUMS.figure) / 2,
              SUMS.figure * 1.01]


def _relabelled(tensorflow, factor=1.0):
    """The golden sgd_l2 run as if recorded on TF ``tensorflow`` with its
    step-0 penalty times ``factor`` (what it minimised too)."""
    run = trace.load(golden_files.path("train_sgd_l2.json"))
    run.env = dict(run.env, backend="tf1-graph", golden=False,
                   tensorflow=tensorflow, tox_env="tf" + tensorflow)
    extra = run.curves["reg_loss"][0] * (factor - 1.0)
    run.curves["reg_loss"][0] += extra
    run.curves["total_loss"][0] += extra
    return run


@pytest.mark.parametrize("sign", [1, -1])
@pytest.mark.parametrize("deviation", DEVIATIONS)
@pytest.mark.parametrize("reference", RELEASES)
@pytest.mark.parametrize("candidate", RELEASES)
def test_compare_states_tf_1_4s_sums_and_fails_the_rest(candidate, reference,
                                                        deviation, sign):
    """A step-0 penalty off by ``deviation`` between traces recorded on
    ``candidate``'s and ``reference``'s TF: within the bound ok; past it a
    failure, unless exactly one of them is TF 1.4 and it is within the figure
    ``_compat`` states, where the row reads ``stated difference`` with the
    figure and the reason (and passes)."""
    result = measure.measure(_relabelled(candidate, 1.0 + sign * deviation),
                             _relabelled(reference))
    one_is_1_4 = (candidate == "1.4.1") != (reference == "1.4.1")
    if deviation <= tol.PENALTY_STEP0:
        assert result.state == "ok" and not result.stated_differences
    elif one_is_1_4 and deviation <= SUMS.figure:
        assert result.state == "stated difference" and result.ok
        assert not result.failures
        note, = result.stated_differences
        assert "%g" % SUMS.figure in note and SUMS.reason in note
        assert SUMS.test in note
    else:
        assert result.state == "FAIL" and not result.stated_differences
        assert any("step-0 penalty ratio" in f for f in result.failures)


def test_compare_reports_the_stated_difference(tmp_path):
    """``parity compare`` over a TF 1.4 run 1.0069e-6 off TF 1.15's (the
    SSE sums of sgd_l2) exits 0, its table reads ``stated difference``,
    and its summary counts the row and gives the figure and the reason; the
    JSON report counts it too."""
    sums = [float(_workload_penalty(workloads.builtin("sgd_l2"), k))
            for k in ("sse", "avx-tree")]
    _relabelled("1.4.1", sums[0] / sums[1]).save(
        str(tmp_path / "tf14" / "sgd_l2__tf1-graph.json"))
    report = str(tmp_path / "report.json")
    out = io.StringIO()
    assert cli.main(["compare", str(tmp_path), "--golden", "--json", report],
                    out=out) == 0, out.getvalue()
    text = out.getvalue()
    assert "1 comparisons, 0 failed, 1 within a stated difference" in text
    row = next(line for line in text.splitlines() if line.startswith("tf1.4.1 "))
    assert row.endswith("stated difference")
    assert "%g" % SUMS.figure in text and SUMS.reason in text
    with open(report) as handle:
        record = json.load(handle)
    assert (record["ok"], record["failed"], record["stated_differences"]) == (
        True, 0, 1)


# -- names that came later ---------------------------------------------------

def _has(path):
    found = tf
    for part in path.split("."):
        found = getattr(found, part, None)
        if found is None:
            return False
    return True


def _init_scope_answered(has):
    if has:
        return _compat.init_scope is tf.init_scope
    with _compat.init_scope():  # a context where variables can be made
        return tf.Variable(1.0) is not None


def _do_not_convert_answered(has):
    if has:
        return _compat.do_not_convert is tf.autograph.experimental.do_not_convert
    return _compat.do_not_convert(len) is len


# tf.<name> -> (the first TF 1.x minor that has it, whether compat_reg's
# answer is right, given whether this TF has it)
LATER = {
    "executing_eagerly": (7, lambda has: _compat.executing_eagerly() is False),
    "init_scope": (11, _init_scope_answered),
    # by its members: on TF 1.13 / 1.14 ``import tensorflow.compat.v1`` (the
    # guide's TF1 blocks, contrib's own tests) loads the same file again as a
    # second module object and rebinds tf.compat.v1 to it
    "compat.v1": (13, lambda has: _compat.v1.Session is tf.Session and (
        (_compat.v1 is not tf and _compat.v1.__file__ == tf.compat.v1.__file__)
        if has else _compat.v1 is tf)),
    "is_tensor": (14, lambda has: _compat.is_tensor(tf.constant(1.0))
                  and not _compat.is_tensor(1.0)),
    "Module": (14, lambda has: (_compat.Module is getattr(tf, "Module", None)) == has),
    "config.threading": (14, lambda has: has or _compat.set_thread_counts(1) is False),
    "keras.optimizers.schedules": (14, lambda has: _compat.KERAS_TF2_API == has),
    "autograph.experimental.do_not_convert": (15, _do_not_convert_answered),
}


@tf1_only
@pytest.mark.parametrize("name", sorted(LATER))
def test_later_names_came_in_their_release(name):
    first, answered = LATER[name]
    has = _has(name)
    assert has == (MINOR >= first), "tf.%s on TF 1.%d" % (name, MINOR)
    with tf.Graph().as_default():
        assert answered(has)


@tf1_only
def test_contrib_weight_decay_and_callable_rates_came_in_1_10():
    """Before TF 1.10 tf1(spec) trains with compat_reg's port of contrib's
    AdamW (contrib has none), and get(spec) refuses a schedule: TF1's
    optimizers there convert their rate to a tensor when made."""
    has_adamw = hasattr(tf.contrib.opt, "AdamWOptimizer")
    assert has_adamw == (MINOR >= 10) == _compat.OPTIMIZER_CALLABLE_RATE
    spec = {"optimizer": "adamw", "lr": 0.1, "weight_decay": 1e-4}
    with tf.Graph().as_default():
        made = type(optimizers.tf1(spec))
    assert issubclass(made, tf.contrib.opt.AdamWOptimizer if has_adamw
                      else optimizers.AdamWOptimizer)
    scheduled = {"optimizer": "sgd", "lr": 0.1, "schedule": {
        "kind": "exponential_decay", "decay_steps": 7, "decay_rate": 0.5}}
    with tf.Graph().as_default():
        if has_adamw:
            optimizers.get(scheduled)
        else:
            with pytest.raises(NotImplementedError, match="callable rates came in TF 1.10"):
                optimizers.get(scheduled)


@tf1_only
@pytest.mark.parametrize("name,args", [("AdamWOptimizer", (0.03, 0.01)),
                                       ("MomentumWOptimizer", (0.03, 0.01, 0.9))])
def test_contrib_weight_decay_takes_sparse_gradients_from_1_11(name, args):
    """contrib's AdamW/MomentumW on ``tf.gather``'s sparse gradient: TF 1.10
    scatter-adds the whole variable at the rows' indices and raises; TF 1.11
    on decay and update the rows touched only."""
    assert _compat.CONTRIB_WEIGHT_DECAY_SPARSE == (MINOR >= 11)
    made = _compat.contrib_opt_class(name)
    if made is None:
        pytest.skip("contrib's %s came in TF 1.10" % name)
    # no touched value where one step's decay and update cancel (Adam's
    # first step moves each by lr: x = 1/3; momentum's: x = 0.4)
    table0 = (np.arange(18, dtype=np.float32).reshape(6, 3) / 10 + 0.05).astype(np.float32)
    with tf.Graph().as_default():
        table = _compat.v1.get_variable("table", initializer=tf.constant(table0))
        loss = tf.reduce_sum(tf.square(tf.gather(table, [0, 2]) - 1.0))
        train = made(*args).minimize(loss, var_list=[table])
        with _compat.v1.Session() as sess:
            sess.run(_compat.v1.global_variables_initializer())
            if not _compat.CONTRIB_WEIGHT_DECAY_SPARSE:
                with pytest.raises(tf.errors.InvalidArgumentError, match="updates.shape"):
                    sess.run(train)
                return
            sess.run(train)
            after = sess.run(table)
    assert np.array_equal(after[[1, 3, 4, 5]], table0[[1, 3, 4, 5]])
    assert not np.any(after[[0, 2]] == table0[[0, 2]])


@tf1_only
def test_keras_tf2_optimizers_came_in_1_14():
    spec = {"optimizer": "sgd", "lr": 0.1}
    if _compat.KERAS_TF2_API:
        assert isinstance(optimizers.keras_native(spec), _compat.keras.optimizers.SGD)
    else:
        with pytest.raises(NotImplementedError, match="optimizers of Keras <= 2.2"):
            optimizers.keras_native(spec)


# -- the seed's program ------------------------------------------------------

def _seed_program():
    """The seed program as the guide shows it (section 15)."""
    with open(os.path.join(ROOT, "migration_guide.md")) as f:
        guide = f.read()
    section = guide[guide.index("## 15. From raw TF1 to TF2"):]
    return re.search(r"```text\n(.*?)```", section, re.S).group(1)


def _run(program):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3",
               PYTHONPATH=os.pathsep.join([ROOT] + sys.path))
    done = subprocess.run([sys.executable, "-c", program], env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()[-1]


@tf1_only
def test_the_seed_program_prints_39_2():
    """Unmodified, as the seed note ran it on TF 1.6; and with compat_reg's
    drop-in in contrib's place: the same float32."""
    program = _seed_program()
    assert "tf.contrib.layers.l2_regularizer(scale=0.01)" in program
    seed = next(c for c, _ in FLOAT32 if c["id"] == "seed_dense_ones")
    printed = _run(program)
    assert printed == "39.2"  # 0.01 * 784 * 10 / 2
    assert F32(printed) == F32(seed["total_regularization_loss"])
    ported = "import compat_reg\n" + program.replace(
        "tf.contrib.layers.l2_regularizer(", "compat_reg.l2_regularizer(")
    assert _run(ported) == printed
