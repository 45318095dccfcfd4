"""The golden workloads on Keras 3's backends, against real TF 1.15 (issue 29).

The parity harness's own runs (``compat_reg.parity.backends.run``: its model,
its loops, the workload's initial weights and batch order) on the Keras
backend of this process, one JSON line per workload and tf2 backend: the
total-loss curve's max relative difference over ALL steps and the final
weights' from the golden trace (real TF 1.15) where there is one, whether
the row passes the harness's bounds (``tolerances.BACKEND_*`` on JAX and
torch), and with ``--against DIR`` the same against another env's traces
(``compat-reg parity record --out-dir DIR``, e.g. TF's backend)::

    KERAS_BACKEND=torch OMP_NUM_THREADS=1 \\
        .tox/keras3-torch/bin/python -m benchmarks.keras3_backends

``compat-reg parity run --keras-backend torch`` (or ``record`` then
``compare``) gives the same figures as a table.
"""

from __future__ import absolute_import, division, print_function

import argparse
import json
import os
import sys

from compat_reg.parity import (backends, determinism, keras_backends, measure,
                               registry, workloads)
from compat_reg.parity import trace as trace_mod


def row(trace, reference):
    """The figures of ``trace`` measured against ``reference``."""
    result = measure.measure(trace, reference)
    return {"total_loss": result.curve_max["total_loss"],
            "total_bound": result.total_bound, "weights": result.weights,
            "weights_bound": result.weights_bound, "ok": result.ok}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", action="append",
                        choices=tuple(registry.WORKLOADS),
                        help="default: every workload this backend trains")
    parser.add_argument("--backend", action="append",
                        choices=[n for n, b in registry.BACKENDS.items()
                                 if b.tf2], help="default: both")
    parser.add_argument("--against", metavar="DIR",
                        help="traces of another env, <workload>__<backend>"
                             ".json")
    args = parser.parse_args(argv)
    determinism.configure(op_determinism=True)
    chosen = [workloads.builtin(n) for n in args.workload or registry.WORKLOADS]
    results = {}
    for workload in [w for w in chosen if not keras_backends.unsupported(w)]:
        for name in args.backend or ("tf2-keras", "tf2-fit"):
            trace = backends.run(workload, name)
            out = {"steps": len(trace.curves["total_loss"])}
            if workload.golden_path:
                out["vs_tf115"] = row(trace, trace_mod.from_golden(
                    workload.golden_path))
            if args.against:
                out["vs_other"] = row(trace, trace_mod.load(os.path.join(
                    args.against, "%s__%s.json" % (workload.name, name))))
            results[workload.name, name] = out
            print(trace.name, workload.name, json.dumps(out), flush=True)
    return results


if __name__ == "__main__":
    main()
    sys.exit(0)
