"""``parity run``: train the workloads on the backends, then measure them.

For each workload every requested backend trains it; the traces (plus the
golden trace where there is one) are planned by ``pairing`` (the reference:
golden, else ``tf1-graph``; then every pair of backends) and measured.
"""

from __future__ import absolute_import, division, print_function

import collections

from compat_reg.parity import backends, pairing, ports, progress
from compat_reg.parity import trace as trace_mod


def run_workloads(workloads, backend_names=None, optimizers="exact",
                  port=None, stream=None):
    """Train and measure; returns (traces, comparisons).

    ``traces`` maps workload name -> {backend: Trace} (plus ``golden``).
    """
    backend_names = list(backend_names or backends.available())
    for name in backend_names:
        backends.check_backend(name)
    port = port or ports.Port()
    all_traces = collections.OrderedDict()
    results = []
    with progress.Progress(len(workloads) * len(backend_names),
                           stream) as bar:
        for workload in workloads:
            traces = collections.OrderedDict()
            for name in [n for n in backends.BACKENDS if n in backend_names]:
                bar.start("%s %s" % (workload.name, name))
                traces[name] = backends.run(workload, name, optimizers, port)
                bar.step("%s %s" % (workload.name, name))
            if workload.golden_path:
                traces["golden"] = trace_mod.from_golden(workload.golden_path)
            rows, pairs = pairing.run(
                [pairing.plan(workload.name, list(traces.values()))])
            results.extend(rows + pairs)
            all_traces[workload.name] = traces
    return all_traces, results
