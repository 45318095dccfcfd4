"""``parity run``: train the workloads on the backends, then measure them.

For each workload every requested backend trains it on one device; each
requested strategy (``registry.DISTRIBUTED``) then trains it on the
backends that run under a strategy, in that strategy's worker processes
(``distributed``). The traces (plus the golden trace where there is one)
are planned by ``pairing`` (the reference: golden, else ``tf1-graph``; then
every pair of backends; a conv net's traces under a strategy apart, against
TF1's own run under one: ``distributed.reference``) and measured;
``measure.explain`` names what only a strategy can get wrong, and a ``fit``
that raised under a strategy is a failed row of its own.
"""

from __future__ import absolute_import, division, print_function

import collections

from compat_reg.parity import (backends, distributed, measure, pairing,
                               progress, registry)
from compat_reg.parity import trace as trace_mod


def run_workloads(workloads, backend_names=None, optimizers="exact",
                  port_name="correct", strategies=(), stream=None,
                  timeout=distributed.DEFAULT_TIMEOUT, op_determinism=False):
    """Train and measure; returns ``(traces, results, runs)``.

    ``traces`` maps workload name -> {backend: Trace} (plus ``golden``);
    ``results`` are the Comparisons; ``runs`` the ``distributed.StrategyRun``
    of each of ``strategies`` (names of ``registry.DISTRIBUTED``). Raises
    ``distributed.WorkerFailed`` if a worker fails.
    """
    for name in strategies:
        registry.check("strategy", name)
    strategies = [s for s in registry.DISTRIBUTED if s in strategies]
    if strategies:
        distributed.require()
    names = list(backend_names or backends.available())
    for name in names:
        backends.check_backend(name)
    registry.check("port", port_name)
    under = [b for b in registry.STRATEGY_BACKENDS if b in names]
    if strategies and not under:
        raise ValueError("--strategy trains %s; none of them was chosen" % (
            " and ".join(registry.STRATEGY_BACKENDS)))
    one_device = registry.port(port_name)
    all_traces = collections.OrderedDict(
        (w.name, collections.OrderedDict()) for w in workloads)
    runs = collections.OrderedDict()
    with progress.Progress(len(workloads) * len(names) + len(strategies),
                           stream) as bar:
        for workload in workloads:
            for name in [n for n in registry.BACKENDS if n in names]:
                bar.start("%s %s" % (workload.name, name))
                all_traces[workload.name][name] = backends.run(
                    workload, name, optimizers, one_device)
                bar.step("%s %s" % (workload.name, name))
        for strategy in strategies:
            bar.start("%s workers" % strategy)
            runs[strategy] = distributed.run_strategy(
                strategy, workloads, under, optimizers, port_name, timeout,
                op_determinism, probe="tf2-fit" in under)
            for wname, found in runs[strategy].traces.items():
                all_traces[wname].update(found)
            bar.step()
    probes = dict((s, r.probe) for s, r in runs.items())
    results = []
    for workload in workloads:
        traces = all_traces[workload.name]
        if workload.golden_path:
            traces["golden"] = trace_mod.from_golden(workload.golden_path)
        groups = [list(traces.values())]
        under = distributed.reference(workload) if runs else None
        if under is not None:  # TF1's run under a strategy: their reference
            traces[under.backend] = under
            groups = [[t for t in groups[0] if not t.env.get("strategy")],
                      [under] + [t for t in groups[0] if t.env.get("strategy")]]
        plans = [pairing.plan(workload.name, g) for g in groups]
        plan = plans[-1]
        rows, pairs = pairing.run(plans)
        results.extend(measure.explain(r, probes) for r in rows + pairs)
        for run in runs.values():
            for (wname, backend), failure in run.failed.items():
                if wname == workload.name:
                    results.append(measure.failed_comparison(
                        workload, backend, failure["error"], plan.reference,
                        optimizers))
    return all_traces, results, runs
