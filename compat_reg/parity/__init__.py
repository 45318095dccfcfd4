"""Parity harness: does the TF2 port learn what the TF1 code learned?

Backends (``tf1-graph``, ``tf2-keras``, ``tf2-fit``) train the same workload
from the same initial weights on the same batches; traces record every
step's data loss, penalty and total loss, per-epoch metrics and final
weights; comparisons name the likely cause of a disagreement. The command
line is ``compat-reg parity`` (``compat_reg.parity.cli``).

Public API:

* ``compare_models(build_graph, keras_model, data, optimizer, ...)``: parity
  of a team's own TF1 graph function and its Keras port.
* ``run_backend(workload, backend, optimizers="exact")``: one training run
  -> Trace.
* ``compare_traces(candidate, reference)``: a Comparison of two traces.
* ``load_trace(path)``: a trace file or a golden file read as a trace.
* ``builtin_workload(name)`` / ``workload_from_golden(path)``.

Importing this package does not import TensorFlow.
"""

from __future__ import absolute_import, division, print_function

import importlib

from compat_reg import _pep562

_LAZY = {
    "compare_models": ("user_model", "compare_models"),
    "ParityReport": ("user_model", "ParityReport"),
    "run_backend": ("backends", "run"),
    "compare_traces": ("measure", "measure"),
    "load_trace": ("trace", "load"),
    "builtin_workload": ("workloads", "builtin"),
    "workload_from_golden": ("workloads", "from_golden"),
    "configure_determinism": ("determinism", "configure"),
}

__all__ = sorted(_LAZY)


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(
            "module 'compat_reg.parity' has no attribute %r" % name)
    module, attr = _LAZY[name]
    value = getattr(importlib.import_module("compat_reg.parity." + module), attr)
    globals()[name] = value
    return value


_pep562(__name__)  # Python 3.6 has no PEP 562
