"""Each deliberately wrong port fails, with a message naming the cause."""

import pytest

from compat_reg import convention
from compat_reg.parity import backends, measure, registry, tolerances, workloads
from parity_helpers import require


@pytest.fixture(scope="module")
def reference(runs):
    def get(workload):
        return runs.get(workload, "tf1-graph", epochs=1)
    return get


def _run_wrong(workload, backend, port_name):
    require(backend)
    work = workloads.builtin(workload).truncated(1)
    return backends.run(work, backend, port=registry.port(port_name))


def test_l2_without_halving(reference):
    result = measure.measure(_run_wrong("sgd_l2", "tf2-keras", "l2-unhalved"),
                             reference("sgd_l2"))
    assert not result.ok
    # contrib: s * sum(w**2) / 2; Keras L2(s): s * sum(w**2), so exactly 2x
    assert abs(result.penalty_ratio - 2.0) <= 2 * tolerances.PENALTY_STEP0
    assert "2.00x" in result.message()
    assert "without halving" in result.message()


def test_custom_loop_never_adds_penalty(reference):
    result = measure.measure(_run_wrong("sgd_l2", "tf2-keras", "no-penalty"),
                             reference("sgd_l2"))
    assert not result.ok
    assert abs(result.penalty_ratio - 1.0) <= tolerances.PENALTY_STEP0  # the model has it...
    assert result.effective_ratio == 0.0  # ...the loss does not
    assert "never added to the loss" in result.message()


def test_fit_plus_manual_add_counts_twice(reference):
    result = measure.measure(_run_wrong("sgd_l2", "tf2-fit", "fit-double"),
                             reference("sgd_l2"))
    assert not result.ok
    assert abs(result.effective_ratio - 2.0) <= tolerances.RATIO
    assert "counted twice" in result.message()


def test_adam_keras_default_epsilon(reference):
    result = measure.measure(
        _run_wrong("adam_l2", "tf2-keras", "adam-eps-default"),
        reference("adam_l2"))
    assert not result.ok
    keras_default = convention.OPTIMIZER["adam"].keras_defaults["epsilon"]
    assert result.candidate.port["optimizer"]["epsilon"] == pytest.approx(keras_default)
    assert "epsilon is 1e-07, Keras' default" in result.message()
    assert "epsilon=1e-08" in result.message()


def test_different_initial_weights(reference):
    result = measure.measure(_run_wrong("sgd_l2", "tf2-keras", "fresh-init"),
                             reference("sgd_l2"))
    assert not result.ok
    assert "initial weights differ" in result.message()
    assert "did not start from the same weights" in result.message()
    assert "dense_0/kernel" in result.message()


def test_correct_port_of_same_runs_passes(reference, runs):
    require("tf2-fit")
    result = measure.measure(runs.get("sgd_l2", "tf2-fit", epochs=1),
                             reference("sgd_l2"))
    assert result.ok, result.message()
    assert result.diagnoses == []
