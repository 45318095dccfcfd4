"""Shared fixtures: deterministic TF, and traces computed once per session."""

from compat_reg.parity import determinism

determinism.configure()  # before TensorFlow initialises its runtime

import pytest  # noqa: E402

from compat_reg.parity import backends, workloads  # noqa: E402


class _Runs(object):
    """Memoised ``backends.run`` results, shared across test modules."""

    def __init__(self):
        self._cache = {}

    def get(self, workload_name, backend, optimizers="exact", epochs=None):
        key = (workload_name, backend, optimizers, epochs)
        if key not in self._cache:
            work = workloads.builtin(workload_name).truncated(epochs)
            self._cache[key] = backends.run(work, backend, optimizers)
        return self._cache[key]


@pytest.fixture(scope="session")
def runs():
    return _Runs()
