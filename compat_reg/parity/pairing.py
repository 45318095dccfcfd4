"""Which trace is measured against which: the one place that decides.

Traces are grouped by workload name. In each group one trace is the
reference, chosen in this order:

1. ``tf1``: a run of this project's own code on real TF 1.x (a trace whose
   env says TensorFlow 1.x, e.g. the ``tf1`` tox env's ``traces/tf1/``),
   the one on the golden traces' own TF (1.15) where there is one. Every
   other run is measured against it, and it is measured against the golden
   trace (same TF, so they agree to float noise); so is every other TF 1.x
   run (``tf14`` ... ``tf114``: each TF1 minor against the real thing too).
2. ``golden``: the golden trace (real TF 1.15, shipped in the package).
3. ``tf1-graph``: the first ``tf1-graph`` trace (``adam_l2`` has no golden).
4. ``first``: else the first trace read (the report says so).

Every trace but the golden one is measured against the reference ("rows"),
then every pair of those that are not the reference ("pairs": two runs can
disagree with each other while each stays within the bound of the
reference). ``parity run`` and ``parity compare`` both plan through here.
"""

from __future__ import absolute_import, division, print_function

import collections
import itertools

from compat_reg.parity import measure

Plan = collections.namedtuple("Plan", "workload reference kind rows pairs")


def is_tf1_run(trace):
    """Whether ``trace`` is this project's code run on real TF 1.x."""
    return trace.backend != "golden" and str(
        trace.env.get("tensorflow") or "").startswith("1.")


def _unique(traces):
    seen, out = set(), []
    for t in traces:
        key = t.path or id(t)
        if key not in seen:
            seen.add(key)
            out.append(t)
    return out


def plan(name, group, golden_tf=None):
    """The ``Plan`` of one workload's traces: its reference, the
    (candidate, reference) rows and the (candidate, reference) pairs.
    ``golden_tf``: the TF of the golden traces, for a workload without one."""
    group = _unique(group)
    golden = [t for t in group if t.backend == "golden"]
    runs = [t for t in group if t.backend != "golden"]
    tf1_runs = [t for t in runs if is_tf1_run(t)]
    graphs = [t for t in runs if t.backend == "tf1-graph"]
    if tf1_runs:
        if golden:
            golden_tf = golden[0].env.get("tensorflow")
        same_tf = [t for t in tf1_runs if t.env.get("tensorflow") == golden_tf]
        reference, kind = (same_tf or tf1_runs)[0], "tf1"
    elif golden:
        reference, kind = golden[0], "golden"
    elif graphs:
        reference, kind = graphs[0], "tf1-graph"
    else:
        reference, kind = runs[0], "first"
    rows = []
    if kind == "tf1" and golden:
        rows.extend((t, golden[0]) for t in [reference] + [
            t for t in tf1_runs if t is not reference])
    others = [t for t in runs if t is not reference]
    rows.extend((t, reference) for t in others)
    pairs = [(second, first)
             for first, second in itertools.combinations(others, 2)]
    return Plan(name, reference, kind, rows, pairs)


def group(traces):
    """``{workload name: [traces]}`` in first-seen order."""
    groups = collections.OrderedDict()
    for t in traces:
        groups.setdefault(t.workload.get("name"), []).append(t)
    return groups


def plans(traces):
    """One ``Plan`` per workload of ``traces``."""
    golden_tf = [t.env.get("tensorflow") for t in traces if t.backend == "golden"]
    return [plan(name, members, golden_tf[0] if golden_tf else None)
            for name, members in group(traces).items()]


def run(plan_list):
    """``(rows, pairs)``: the Comparisons of every plan's rows and pairs."""
    rows, pairs = [], []
    for p in plan_list:
        rows.extend(measure.measure(c, r) for c, r in p.rows)
        pairs.extend(measure.measure(c, r) for c, r in p.pairs)
    return rows, pairs


def describe(plan_list):
    """One line per kind of reference used, for the report."""
    lines = []
    by_kind = collections.OrderedDict()
    for p in plan_list:
        by_kind.setdefault(p.kind, []).append(p)
    for kind, members in by_kind.items():
        names = ", ".join(p.workload for p in members)
        example = members[0].reference
        if kind == "tf1":
            lines.append("reference for %s: %s, this project on TF %s (itself"
                         " measured against the golden trace where there is "
                         "one)" % (names, example.name,
                                   example.env.get("tensorflow")))
        elif kind == "golden":
            lines.append("reference for %s: the golden traces (real TF %s)" % (
                names, example.env.get("tensorflow")))
        elif kind == "tf1-graph":
            lines.append("reference for %s: %s (no golden trace and no TF 1.x"
                         " run of this project)" % (names, example.name))
        else:
            lines.append("reference for %s: %s, the first trace read (no "
                         "golden, TF 1.x or tf1-graph trace)" % (
                             names, example.path or example.name))
    if plan_list and "tf1" not in by_kind:
        lines.append("no TF 1.x run of this project among the traces (e.g. "
                     "traces/tf1/ from `tox -e tf1`): fell back to the "
                     "references above")
    return lines
