"""Group traces from many envs by workload and compare them."""

from __future__ import absolute_import, division, print_function

import collections
import itertools
import json

from compat_reg.parity import compare


def _key(t):
    config = dict(t.workload["config"])
    config.pop("epochs", None)
    return t.workload.get("name"), json.dumps(config, sort_keys=True)


def _reference(group):
    for wanted in ("golden", "tf1-graph"):
        for t in group:
            if t.backend == wanted:
                return t
    return group[0]


def compare_traces(traces):
    """(rows, failing pairs): each trace vs its workload's reference (golden,
    else a tf1-graph trace), then every pair of traces of a workload."""
    groups = collections.OrderedDict()
    for t in traces:
        groups.setdefault(_key(t), []).append(t)
    rows, pair_failures = [], []
    for group in groups.values():
        reference = _reference(group)
        others = [t for t in group if t is not reference]
        rows.extend(compare.compare(t, reference) for t in others)
        for first, second in itertools.combinations(others, 2):
            result = compare.compare(second, first)
            if not result.ok:
                pair_failures.append(result)
    return rows, pair_failures
