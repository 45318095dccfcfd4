"""Helpers shared by the parity tests."""

import pytest

from compat_reg.parity import backends


def require(backend):
    """Skip when this TensorFlow does not offer ``backend`` (TF1)."""
    if backend not in backends.available():
        pytest.skip("%s is not offered on this TensorFlow" % backend)
