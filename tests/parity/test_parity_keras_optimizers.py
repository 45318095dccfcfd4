"""``--optimizers keras``: native Keras optimizers under their own bound."""

import pytest

from compat_reg.parity import measure, tolerances
from parity_helpers import require


@pytest.mark.parametrize("workload", ["adam_l2", "momentum_l1_l2"])
def test_native_keras_optimizers_within_documented_bound(runs, workload):
    require("tf2-keras")
    reference = runs.get(workload, "tf1-graph")
    result = measure.measure(runs.get(workload, "tf2-keras", "keras"),
                             reference)
    assert result.curve_bound == tolerances.CURVE_KERAS
    assert result.ok, result.message()
    assert result.max_curve <= tolerances.CURVE_KERAS
    assert result.weights <= tolerances.WEIGHTS_KERAS
    # it really ran the native optimizer, not compat_reg's
    assert not result.candidate.port["optimizer"]["class"].startswith(
        "compat_reg.")
    assert runs.get(workload, "tf2-keras").port["optimizer"]["class"].startswith(
        "compat_reg.optimizers.")
