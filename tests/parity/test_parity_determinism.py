"""Running the same backend twice gives bit-identical traces."""

import pytest

from compat_reg.parity import backends, workloads
from parity_helpers import require


@pytest.mark.parametrize("backend", ["tf1-graph", "tf2-keras", "tf2-fit"])
def test_rerun_is_bit_identical(backend):
    require(backend)
    work = workloads.builtin("momentum_l1_l2").truncated(1)
    first = backends.run(work, backend)
    second = backends.run(work, backend)
    assert first.dumps() == second.dumps()
