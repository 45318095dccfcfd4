"""The workloads that resume mid-schedule (issue 26 item 5): every backend,
started from the checkpoint TF 1.15 saved between the boundaries of a
``piecewise_constant`` schedule, continues TF 1.15's uninterrupted run.

The truth: ``compat_reg/parity/tf1_checkpoints/<init_checkpoint>/``, written
by ``make_resume_workload.py`` on TF 1.15.5: the checkpoint (model,
optimizer slots, beta powers, ``global_step``) and the uninterrupted run's
per-step losses after it and final weights. The bounds are the exact
optimizers' (``tolerances.CURVE_EXACT``, ``WEIGHTS_EXACT``).
"""

import io
import json
import os

import numpy as np
import pytest

from compat_reg import _compat
from compat_reg.parity import backends, cli, registry, resume, workloads
from compat_reg.parity import tolerances as tol
from parity_helpers import require

NAMES = registry.RESUMING
CASES = [(n, b) for n in NAMES for b in registry.BACKENDS]
CURVES = ("data_loss", "reg_loss", "total_loss")


def skip_unless_offered(backend):
    """``require``, and the Keras ports' own limits: the tf.keras of TF 1.4
    - 1.13 has no Keras port of these models; on Keras' JAX and torch
    backends the optimizer's state is restored through TF variables."""
    require(backend)
    if registry.BACKENDS[backend].tf2 and not _compat.KERAS_TF2_API:
        pytest.skip("no Keras port on this tf.keras (_compat.KERAS_TF2_API)")
    if registry.BACKENDS[backend].tf2 and _compat.KERAS_BACKEND != "tensorflow":
        pytest.skip("the resumed Keras run needs Keras' TensorFlow backend")


def reference(name):
    """``(json record, npz arrays)`` of TF 1.15's uninterrupted run."""
    folder = os.path.dirname(resume.checkpoint(workloads.builtin(name).config))
    with open(os.path.join(folder, "reference.json")) as stream:
        record = json.load(stream)
    with np.load(os.path.join(folder, "reference.npz")) as arrays:
        return record, dict(arrays.items())


def relative(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return np.abs(a - b) / np.maximum(np.abs(b), tol.FLOOR)


def test_the_resumed_workloads_are_registered():
    assert NAMES == ("resume_momentum", "resume_adam")
    kinds = set(workloads.builtin(n).optimizer_spec.kind for n in NAMES)
    assert kinds == {"momentum", "adam"}


@pytest.mark.parametrize("name", NAMES)
def test_the_checkpoint_is_mid_schedule(name):
    """TF 1.15 saved at a step strictly between the schedule's first and
    last boundary, and the rate changes again within the resumed steps; the
    workload trains the batches TF 1.15 trained after the save."""
    import tensorflow as tf
    work = workloads.builtin(name)
    record, arrays = reference(name)
    reader = tf.train.load_checkpoint(resume.checkpoint(work.config))
    step = int(reader.get_tensor("global_step"))
    boundaries = work.config["schedule"]["boundaries"]
    steps = int(np.prod(work.batch_order.shape[:2]))
    assert step == record["before"]
    assert boundaries[0] < step < boundaries[-1] < step + steps
    assert np.array_equal(arrays["batch_order"], work.batch_order)
    assert record["versions"]["tensorflow"].startswith("1.15")
    assert [len(record["curves"][k]) for k in CURVES] == [steps] * 3
    # batch norm's moving statistics are among the final weights compared
    # below, and TF1 moved them after the save: the check is not vacuous
    moving = [k for k in work.variable_names() if "/moving_" in k]
    assert len(moving) == 2
    for key in moving:
        assert not np.allclose(arrays["final/" + key], reader.get_tensor(key))


@pytest.mark.parametrize("name,backend", CASES,
                         ids=["%s-%s" % c for c in CASES])
def test_the_resumed_run_continues_tf1s(runs, name, backend):
    skip_unless_offered(backend)
    record, arrays = reference(name)
    trace = runs.get(name, backend)
    for key in CURVES:
        worst = relative(trace.curves[key], record["curves"][key]).max()
        assert worst <= tol.CURVE_EXACT, (key, worst)
    for key, value in trace.final_weights.items():
        want = arrays["final/" + key]
        worst = np.linalg.norm(np.asarray(value, np.float64) - want) / (
            np.linalg.norm(want))
        assert worst <= tol.WEIGHTS_EXACT, (key, worst)
    assert sorted(trace.final_weights) == sorted(
        k[len("final/"):] for k in arrays if k.startswith("final/"))


@pytest.mark.parametrize("name", NAMES)
def test_without_the_optimizers_state_it_parts_from_tf1(name):
    """The same start without the slots and global_step (the model's
    weights only, what load_tf1_checkpoint without optimizer= restores):
    past the bound, so the test above can fail."""
    backend = "tf2-keras" if "tf2-keras" in backends.available() else (
        "tf1-graph")
    skip_unless_offered(backend)
    record, _ = reference(name)
    work = workloads.builtin(name).with_config(resume=False)
    trace = backends.run(work, backend)
    worst = relative(trace.curves["data_loss"], record["curves"]["data_loss"])
    assert worst.max() > 10 * tol.CURVE_EXACT


@pytest.mark.parametrize("value", ["false", 1, None])
def test_resume_must_be_a_bool(value):
    config = dict(workloads.builtin(NAMES[0]).config, resume=value)
    with pytest.raises(ValueError) as caught:
        resume.checkpoint(config)
    assert "config.resume is %r, expected true or false" % (value,) == str(
        caught.value)


def test_resume_needs_a_checkpoint():
    config = dict(workloads.builtin(NAMES[0]).config, init_checkpoint=None)
    with pytest.raises(ValueError) as caught:
        resume.checkpoint(config)
    assert "needs config.init_checkpoint" in str(caught.value)
    assert resume.checkpoint(dict(config, resume=False)) is None
    assert resume.checkpoint({}) is None


def test_parity_run_record_and_compare(tmp_path):
    """``parity run --workload``, ``record`` and ``compare`` take them as
    any workload: the tf1-graph reference restores TF 1.15's checkpoint."""
    skip_unless_offered("tf2-keras")
    out = io.StringIO()
    assert cli.main(["run"] + sum([["--workload", n] for n in NAMES], []),
                    out=out) == 0, out.getvalue()
    rows = [line.split() for line in out.getvalue().splitlines()
            if line.split()[:1] and line.split()[0] in NAMES]
    assert len(rows) == 3 * len(NAMES)  # two rows and one pair each
    assert all(row[-1] == "ok" for row in rows)
    folder = str(tmp_path)
    for backend in ("tf1-graph", "tf2-fit"):
        assert cli.main(["record", "--workload", NAMES[-1], "--backend",
                         backend, "--out-dir", folder], out=out) == 0
    out = io.StringIO()
    assert cli.main(["compare", folder], out=out) == 0, out.getvalue()
    rows = [line.split() for line in out.getvalue().splitlines()
            if line.split()[1:3] == [NAMES[-1], "tf2-fit"]]
    assert len(rows) == 1 and rows[0][-1] == "ok", out.getvalue()
    assert os.path.exists(os.path.join(folder, "%s__tf1-graph.json" % (
        NAMES[-1])))

