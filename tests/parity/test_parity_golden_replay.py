"""Every golden case replays within the tolerances on every backend."""

import numpy as np
import pytest

from compat_reg.parity import measure, tolerances, trace, workloads
from parity_helpers import require

CASES = [(w, b) for w in workloads.GOLDEN_CASES
         for b in ("tf1-graph", "tf2-keras", "tf2-fit")]


@pytest.mark.parametrize("workload,backend", CASES)
def test_replays_golden_within_tolerances(runs, workload, backend):
    require(backend)
    work = workloads.builtin(workload)
    golden = trace.from_golden(work.golden_path)
    result = measure.measure(runs.get(workload, backend), golden)
    assert result.ok, result.message()
    assert result.max_curve <= tolerances.CURVE_EXACT
    assert result.weights is not None
    assert result.weights <= tolerances.WEIGHTS_EXACT
    if golden.curves["reg_loss"][0] > 0:
        assert abs(result.penalty_ratio - 1) <= tolerances.PENALTY_STEP0
    assert result.steps == work.config["epochs"] * work.batch_order.shape[1]


@pytest.mark.parametrize("backend", ["tf2-keras", "tf2-fit"])
def test_adam_matches_tf1_graph(runs, backend):
    require(backend)
    result = measure.measure(runs.get("adam_l2", backend),
                             runs.get("adam_l2", "tf1-graph"))
    assert result.ok, result.message()
    assert result.max_curve <= tolerances.CURVE_EXACT
    assert result.weights <= tolerances.WEIGHTS_EXACT


def test_golden_trace_reads_arrays_as_they_are():
    work = workloads.builtin("sgd_l2")
    golden = trace.from_golden(work.golden_path)
    with np.load(work.golden_path[:-5] + ".npz") as arrays:
        np.testing.assert_array_equal(golden.final_weights["dense_1/kernel"],
                                      arrays["final_dense_1_kernel"])
    # the recorded total is the sum of its parts, as the README defines it:
    # TF1 added two float32 scalars, so float32 addition gives it bit for bit
    c = golden.curves
    np.testing.assert_array_equal(
        np.float32(c["data_loss"]) + np.float32(c["reg_loss"]),
        np.float32(c["total_loss"]))
