"""Run backends on workloads and compare them: what ``parity run`` does.

For each workload every requested backend trains it; each backend is
compared with the reference (the real TF 1.15 golden trace when there is
one, else the ``tf1-graph`` backend) and every pair of backends is compared
with each other.
"""

from __future__ import absolute_import, division, print_function

import itertools

from compat_reg.parity import backends, compare, ports, progress
from compat_reg.parity import trace as trace_mod


def reference_trace(workload, traces):
    """The golden trace of ``workload``, or its ``tf1-graph`` trace."""
    if workload.golden_path:
        return trace_mod.from_golden(workload.golden_path)
    if "tf1-graph" not in traces:
        raise ValueError("workload %s has no golden trace; its reference is the"
                         " tf1-graph backend, which was not run" % workload.name)
    return traces["tf1-graph"]


def run_workloads(workloads, backend_names=None, optimizers="exact",
                  port=None, stream=None):
    """Train and compare; returns (traces, comparisons).

    ``traces`` maps workload name -> {backend: Trace} (plus ``golden``).
    """
    backend_names = list(backend_names or backends.available())
    for name in backend_names:
        backends.check_backend(name)
    port = port or ports.Port()
    all_traces = {}
    results = []
    with progress.Progress(len(workloads) * len(backend_names),
                           stream) as bar:
        for workload in workloads:
            traces = {}
            for name in backend_names:
                bar.start("%s %s" % (workload.name, name))
                traces[name] = backends.run(workload, name, optimizers, port)
                bar.step("%s %s" % (workload.name, name))
            results.extend(compare_all(workload, traces))
            if workload.golden_path:
                traces["golden"] = reference_trace(workload, traces)
            all_traces[workload.name] = traces
    return all_traces, results


def compare_all(workload, traces):
    """Every backend against the reference, then every pair of backends."""
    reference = reference_trace(workload, traces)
    results = []
    names = [n for n in backends.BACKENDS if n in traces]
    for name in names:
        if traces[name] is not reference:
            results.append(compare.compare(traces[name], reference))
    for first, second in itertools.combinations(names, 2):
        if reference in (traces[first], traces[second]):
            continue  # already compared against the reference above
        results.append(compare.compare(traces[second], traces[first]))
    return results
