"""``--optimizers keras``: native Keras optimizers under their own bound."""

import pytest

from compat_reg import optimizers
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
    # it really ran the native optimizer, and the exact run compat_reg's
    # (TF 2.0-2.10: tf.compat.v1.train's, which compat_reg.optimizers are)
    config = result.candidate.workload["config"]
    native = result.candidate.port["optimizer"]["class"]
    exact = runs.get(workload, "tf2-keras").port["optimizer"]["class"]
    assert native == _qualname(optimizers.keras_native(config))
    assert exact == _qualname(optimizers.get(config))
    assert native != exact and not native.startswith("compat_reg.")


def _qualname(optimizer):
    return "%s.%s" % (type(optimizer).__module__, type(optimizer).__name__)
