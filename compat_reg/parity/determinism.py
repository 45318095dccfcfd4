"""Make TensorFlow deterministic before it initialises.

Bit-identical reruns on CPU need one intra-op and one inter-op thread
(float sums in a fixed order). The CLI, which owns its process, also turns
on ``enable_op_determinism``: TF2's deterministic kernels are measurably
closer to TF 1.15 (sgd_l2 final weights 7e-5 instead of 1.1e-3 relative).
Tests do not: it is process-wide and makes every unseeded random op raise,
which would break unrelated tests in the same process. Thread counts can only
be set before TensorFlow creates its runtime, so the CLI calls
``configure()`` first thing, and the tests call it from a conftest. TF1
graph sessions get the same settings through ``session_config()``.
"""

from __future__ import absolute_import, division, print_function

import os
import warnings

_DONE = []


def configure(op_determinism=False):
    """Pin TF2 thread counts to one; safe to call repeatedly.

    ``op_determinism=True`` also enables TF's deterministic kernels
    (``_compat.enable_op_determinism``: the TF 2.9+ call, else
    ``TF_DETERMINISTIC_OPS=1``; process-wide: unseeded random ops then raise).

    Returns a list of strings describing what could not be set (empty when
    everything took effect), so a caller can report it.
    """
    if _DONE:
        return list(_DONE[0])
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import tensorflow as tf  # deferred: the environment above is set first
    from compat_reg import _compat  # deferred: it imports TF
    problems = []
    if _compat.TF2:
        threading = tf.config.threading
        for setter in (threading.set_inter_op_parallelism_threads,
                       threading.set_intra_op_parallelism_threads):
            try:
                setter(1)
            except RuntimeError as err:  # runtime already initialised
                problems.append(str(err))
    if op_determinism:
        _compat.enable_op_determinism()
    if problems:
        warnings.warn("compat_reg.parity: TensorFlow was initialised before "
                      "configure(); reruns may not be bit-identical: %s"
                      % "; ".join(problems), stacklevel=2)
    _DONE.append(problems)
    return list(problems)


def session_config():
    """A ``tf.compat.v1.ConfigProto`` with one intra- and one inter-op thread."""
    from compat_reg import _compat  # deferred: parity --help imports this
    return _compat.v1.ConfigProto(intra_op_parallelism_threads=1,
                                  inter_op_parallelism_threads=1)
