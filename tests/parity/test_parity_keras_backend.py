"""The parity harness on Keras 3's JAX and PyTorch backends (issue 29).

Everywhere: ``--keras-backend`` / ``KERAS_BACKEND`` resolution (a mismatch,
an unknown backend or one not installed is one line, exit 2, before any
import of Keras), and the bounds a JAX or torch trace is measured under,
never looser than TF's. On a JAX or torch backend (tox -e keras3-jax,
keras3-torch): every golden workload x tf2 backend trained from the golden
initial weights and batches, its total-loss curve over ALL steps and final
weights against the real TF 1.15 trace within ``tolerances.BACKEND_*``.
"""

import copy
import importlib.util
import itertools
import os

import numpy as np

import pytest

from compat_reg import _compat, golden_files
from compat_reg.parity import cli, keras_backends, models, registry, workloads
from compat_reg.parity import tolerances as tol
from compat_reg.parity import trace as trace_mod

BACKEND_NAMES = tuple(registry.KERAS_BACKENDS)
ENV_VALUES = (None, "tensorflow") + BACKEND_NAMES + ("numpy",)


class _Args(object):
    def __init__(self, keras_backend):
        self.keras_backend = keras_backend


def _installed(name):
    return importlib.util.find_spec(registry.KERAS_BACKENDS[name].package) is not None


@pytest.mark.parametrize("flag,named", list(itertools.product(
    (None,) + BACKEND_NAMES, ENV_VALUES)))
def test_keras_backend_resolution(flag, named):
    environ = {} if named is None else {"KERAS_BACKEND": named}
    problem = cli.keras_backend(_Args(flag), environ, modules={})
    chosen = flag or named
    if flag and named and flag != named:
        assert "--keras-backend %s but KERAS_BACKEND=%s" % (flag, named) in problem
    elif chosen in (None, "tensorflow"):
        assert problem is None and environ.get("KERAS_BACKEND") == named
    elif chosen not in registry.KERAS_BACKENDS:
        assert "KERAS_BACKEND=%s" % chosen in problem
    elif not _installed(chosen):
        assert "is not installed" in problem
    else:
        assert problem is None
        assert environ["KERAS_BACKEND"] == chosen
        variable, value = registry.KERAS_BACKENDS[chosen].env
        assert value in environ[variable].split()
    if problem:
        assert "\n" not in problem


@pytest.mark.parametrize("name", BACKEND_NAMES)
def test_xla_flags_kept(name):
    variable, value = registry.KERAS_BACKENDS[name].env
    environ = {variable: "--other_flag=1" if value.startswith("--") else "4"}
    problem = cli.keras_backend(_Args(name), environ, modules={})
    if not _installed(name):
        assert "is not installed" in problem
        return
    expected = ["--other_flag=1", value] if value.startswith("--") else [value]
    assert environ[variable].split() == expected


@pytest.mark.parametrize("command,name", list(itertools.product(
    ("run", "record", "replay"), BACKEND_NAMES)))
def test_cli_mismatch_is_one_line_exit_2(command, name, monkeypatch, capsys):
    other = [n for n in BACKEND_NAMES + ("tensorflow",) if n != name][0]
    monkeypatch.setenv("KERAS_BACKEND", other)
    argv = {"run": ["run"], "record": ["record", "--all", "--out-dir", "x"],
            "replay": ["replay", "sgd_none"]}[command]
    assert cli.main(argv + ["--keras-backend", name]) == 2
    assert os.environ["KERAS_BACKEND"] == other
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == ["compat-reg parity %s: error: --keras-backend %s but "
                     "KERAS_BACKEND=%s: give one, or the same in both" % (
                         command, name, other)]


def _trace(keras_backend, workload, keras_version="3.15.1", tf="2.21.0",
           backend="tf2-keras"):
    env = {"tensorflow": tf, "keras_version": keras_version,
           "backend": backend, "optimizers": "exact"}
    if keras_backend != "tensorflow":
        env["keras_backend"] = keras_backend
    w = workloads.builtin(workload)
    curves = dict((k, [1.0]) for k in golden_files.CURVES)
    return trace_mod.Trace(env, {"name": w.name, "config": w.config}, {},
                           curves, {}, {})


KINDS = ("tensorflow",) + BACKEND_NAMES
MLP = [n for n in registry.WORKLOADS
       if models.kind(workloads.builtin(n).config) == "mlp"]


# TF1 graph runs: the golden release, and the first and last before it
TF1_RUNS = {"tf1": "1.15.5", "tf14": "1.4.1", "tf114": "1.14.0"}


@pytest.mark.parametrize("candidate,reference,workload", list(
    itertools.product(KINDS, KINDS + tuple(TF1_RUNS), MLP)))
def test_bounds_never_looser_than_tf(candidate, reference, workload):
    c = _trace(candidate, workload)
    r = (_trace("tensorflow", workload, keras_version="2.2.4-tf",
                tf=TF1_RUNS[reference], backend="tf1-graph")
         if reference in TF1_RUNS
         else _trace(reference, workload, backend="tf2-fit"))
    got = keras_backends.bounds(c, r, "exact")
    if candidate == "tensorflow" and reference in ("tensorflow", "tf1") or (
            reference in TF1_RUNS and reference != "tf1"):
        # TF's own, or against a TF1 before 1.15: TF's bounds
        assert got is None
        return
    curve, weights = got
    assert curve <= tol.CURVE_EXACT and weights <= tol.WEIGHTS_EXACT
    config = workloads.builtin(workload).config
    if workload in keras_backends.CHAOTIC:
        assert (curve, weights) == (tol.CURVE_EXACT, tol.WEIGHTS_EXACT)
    elif config["optimizer"] in ("adam", "adamw"):
        assert weights == tol.BACKEND_ADAM_WEIGHTS
        assert curve <= tol.BACKEND_ADAM_CURVE
    else:
        assert weights == tol.BACKEND_WEIGHTS
        assert curve <= tol.BACKEND_CURVE
    if reference not in ("tf1", candidate) and workload not in (
            keras_backends.CHAOTIC):
        assert curve == tol.BACKEND_VS_BACKEND
    assert keras_backends.bounds(c, r, "keras") is None


# -- which workloads are chaotic: measured on TF's own backend ---------------
def _nudged(workload, seed):
    """``workload`` whose every other initial weight (a seeded half) is one
    float32 ulp larger: what another summation order does to a run."""
    rng = np.random.RandomState(seed)
    init = []
    for array in workload.init:
        array = np.array(array, copy=True)
        half = rng.rand(*array.shape) < 0.5
        array[half] = np.nextafter(array[half], np.float32(np.inf))
        init.append(array)
    nudged = copy.copy(workload)
    nudged.init = init
    return nudged


NUDGES = 8


@pytest.mark.skipif(not (_compat.KERAS3 and _compat.TF_BACKEND), reason=(
    "measured on Keras 3's TensorFlow backend, the reference the JAX and "
    "torch runs are held to"))
@pytest.mark.parametrize("name", MLP)
def test_chaotic_means_one_ulp_moves_the_weights(runs, name):
    """``keras_backends.CHAOTIC`` is exactly the MLP workloads where one ulp
    on half the initial weights moves TF's own run past the backend weight
    bound (a ReLU unit near its threshold trains or not: sgd_l2 1.1e-3,
    adam_exp_decay 5.85e-4 on dense_1's unit 224, with 1e-5 / 1e-4 bounds):
    no port can be held to the backend bounds there, on any backend."""
    from compat_reg.parity import backends, measure
    workload = workloads.builtin(name)
    base = runs.get(name, "tf2-keras")
    adam = workload.config["optimizer"] in keras_backends.ADAM_KINDS
    bound = tol.BACKEND_ADAM_WEIGHTS if adam else tol.BACKEND_WEIGHTS
    moved = []
    for seed in range(NUDGES):
        result = measure.measure(
            backends.run(_nudged(workload, seed), "tf2-keras"), base)
        moved.append(result.weights)
        if result.weights > bound:
            break
    assert (max(moved) > bound) == (name in keras_backends.CHAOTIC), (
        name, moved, bound)


# -- what another summation order does to TF's own run ------------------------
PERMUTATIONS = 8


@pytest.mark.skipif(not (_compat.KERAS3 and _compat.TF_BACKEND), reason=(
    "measured on Keras 3's TensorFlow backend, the reference the JAX and "
    "torch runs are held to"))
@pytest.mark.parametrize("name", [n for n in MLP
                                  if n not in keras_backends.CHAOTIC])
def test_summation_order_moves_tf_itself(name):
    """``keras_backends.SUMMATION_ORDER`` is exactly the non-chaotic MLP
    workloads whose total-loss curve TF's own run moves past
    ``BACKEND_VS_BACKEND`` when only its first matmul sums in another order
    (TF 2.21: sgd_none 5.6e-7..8.1e-7 over 8 permutations): there two
    backends, whose matmuls sum differently, cannot be held to it either.
    Measured as the traces are recorded (the CLI's determinism, in a process
    of its own: ``summation_order.py``). The permuted run's first kernel, put
    back in order, is the same variable: its final weights stay within the
    backend bound."""
    import json
    import subprocess
    import sys
    script = os.path.join(os.path.dirname(__file__), "summation_order.py")
    done = subprocess.run(
        [sys.executable, script, name, str(PERMUTATIONS),
         repr(tol.BACKEND_VS_BACKEND)], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, universal_newlines=True, timeout=900)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout.strip().splitlines()[-1])
    adam = workloads.builtin(name).config["optimizer"] in ("adam", "adamw")
    weights = tol.BACKEND_ADAM_WEIGHTS if adam else tol.BACKEND_WEIGHTS
    assert max(got["weights"]) <= weights, got
    assert (max(got["moved"]) > tol.BACKEND_VS_BACKEND) == (
        name in keras_backends.SUMMATION_ORDER), (name, got)


def _run(keras_backend, workload, backend, deviation=0.0):
    """A whole trace, as ``_trace``'s labels say, of ``workload``: the golden
    sgd_none run (a complete trace) relabelled, its total-loss curve ``1 +
    deviation`` times over."""
    t = trace_mod.from_golden(golden_files.path("train_sgd_none.json"))
    label = _trace(keras_backend, workload, backend=backend)
    t.env, t.workload, t.port = label.env, label.workload, {}
    t.curves["total_loss"] = [v * (1.0 + deviation)
                              for v in t.curves["total_loss"]]
    return t


DEVIATIONS = (3e-7, 5e-7, 9e-7, 1.5e-6, 2.5e-6, 5e-6, 8e-6)


@pytest.mark.parametrize("candidate,reference,workload,deviation", list(
    itertools.product(KINDS, KINDS, MLP, DEVIATIONS)))
def test_pairs_past_the_bound_are_stated_not_passed(candidate, reference,
                                                    workload, deviation):
    """Two traces off by ``deviation`` on the total-loss curve: within the
    pair's bound ``ok``; past it, between two backends on a
    ``SUMMATION_ORDER`` workload and within twice its bound against TF 1.15
    (two runs each within B of TF 1.15 are within 2B of each other), a
    ``stated difference`` that names the figure and the test; else a
    failure. Never silently ok past ``BACKEND_VS_BACKEND``."""
    from compat_reg.parity import measure
    c = _run(candidate, workload, "tf2-keras", deviation)
    r = _run(reference, workload, "tf2-fit")
    result = measure.measure(c, r)
    curve = (keras_backends.bounds(c, r, "exact") or (tol.CURVE_EXACT,))[0]
    adam = workloads.builtin(workload).config["optimizer"] in ("adam", "adamw")
    against = 2 * (tol.BACKEND_ADAM_CURVE if adam else tol.BACKEND_CURVE)
    if deviation <= curve:
        assert result.state == "ok", result.message()
        return
    if candidate != reference and workload in (
            keras_backends.SUMMATION_ORDER) and deviation <= against:
        assert curve == tol.BACKEND_VS_BACKEND
        assert result.state == "stated difference" and result.ok
        note, = result.stated_differences
        assert "at most %g" % against in note
        assert keras_backends.SUMMATION_ORDER_TEST in note
        assert "%s vs %s" % (candidate, reference) in note
    else:
        assert result.state == "FAIL" and not result.stated_differences


# -- training, on a JAX or torch backend only ---------------------------------
GOLDEN = list(registry.GOLDEN_CASES)
TF2 = [n for n, b in registry.BACKENDS.items() if b.tf2]
needs_backend = pytest.mark.skipif(
    _compat.TF_BACKEND, reason="trains on Keras 3's JAX or torch backend "
    "(tox -e keras3-jax, keras3-torch); this Keras runs on %s" %
    _compat.KERAS_BACKEND)


# momentum_l1_l2 sits at the float32 noise floor of the 1e-6 bound, and
# which run lands where depends on the CPU's matmul kernels, not on the
# backend (single thread, bit-reproducible on one machine): on the recording
# CPU torch (both loops) and JAX's custom loop ended 1.0003e-6 off the golden
# trace at step 218 and TF 2.21's backend 9.17e-7; on an AVX-512 EPYC torch
# and JAX end 8.34e-7 and TF 2.21's backend 1.0003e-6 (its bound there is
# CURVE_EXACT), the same value with the roles swapped. The bound is asserted
# as the issue set it, not loosened (README, "Keras 3 on JAX and PyTorch").


@needs_backend
@pytest.mark.parametrize("workload,backend", list(itertools.product(GOLDEN, TF2)))
def test_golden_workload_against_tf115(runs, workload, backend):
    from compat_reg.parity import measure
    got = runs.get(workload, backend)
    assert got.env["keras_backend"] == _compat.KERAS_BACKEND
    golden = trace_mod.from_golden(workloads.builtin(workload).golden_path)
    steps = len(golden.curves["total_loss"])
    assert len(got.curves["total_loss"]) == steps  # every step, not step 0
    result = measure.measure(got, golden)
    assert result.ok, result.message()
    chaotic = workload in keras_backends.CHAOTIC
    assert result.curve_max["total_loss"] <= (
        tol.CURVE_EXACT if chaotic else tol.BACKEND_CURVE)
    assert result.weights <= (tol.WEIGHTS_EXACT if chaotic
                              else tol.BACKEND_WEIGHTS)


@needs_backend
@pytest.mark.parametrize("name", [n for n in registry.WORKLOADS
                                  if n not in MLP])
def test_unsupported_workload_is_named(name):
    reason = keras_backends.unsupported(workloads.builtin(name))
    assert reason.startswith(name + ": on Keras' %s backend" %
                             _compat.KERAS_BACKEND)
