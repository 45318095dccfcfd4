"""No NaN or inf passes: the one finiteness check of the parity harness.

``first(values)`` finds the first NaN, +inf or -inf in numbers of any
shape. Every comparison (``measure.measure``: ``parity run``, ``replay``,
``compare``, ``run --strategy``, ``compare_models``) calls ``problems`` on
both of its traces, so a non-finite value anywhere in a reference or a run
fails the row and says where it is; the workload validator
(``workloads.validate``) calls ``first`` on what training would read, so a
non-finite input stops the command before any training.

>>> first([1.0, 2.0, float("nan"), float("inf")])
'NaN at step 2 (2 non-finite values)'
>>> first([[0.0, float("-inf")]])
'-inf at index (0, 1)'
>>> first([0.5, 1.5]) is None
True
"""

from __future__ import absolute_import, division, print_function

import collections
import numbers

import numpy as np

# What a trace records for the initial weights it holds only as digests:
# ``port[INITIAL] = {weight name: first(array)}`` when any was non-finite.
INITIAL = "nonfinite_initial_weights"


def _locate(values):
    """``(array, flat index of the first non-finite value, how many)``, or
    None when every value is finite (or not a float at all)."""
    array = np.asarray(values)
    if array.dtype.kind != "f" or array.size == 0:
        return None
    bad = ~np.isfinite(array)
    count = int(bad.sum())
    if not count:
        return None
    return array, int(np.argmax(bad.ravel())), count


def _kind(value):
    """``NaN``, ``+inf`` or ``-inf`` for a non-finite number."""
    return "NaN" if np.isnan(value) else ("+inf" if value > 0 else "-inf")


def first(values, unit="step"):
    """``'NaN at step 5'`` for the first non-finite number of ``values``, or
    None if all are finite. A 1-d sequence names the position as ``unit``
    (``step``, ``epoch``, ``row``), anything else as an index tuple
    (``'+inf at index (0, 3)'``)."""
    found = _locate(values)
    if found is None:
        return None
    array, flat, count = found
    if array.ndim == 1:
        where = "%s %d" % (unit, flat)
    else:
        where = "index %s" % (tuple(int(i) for i in np.unravel_index(
            flat, array.shape)),)
    return "%s at %s%s" % (_kind(array.ravel()[flat]), where, "" if count == 1
                           else " (%d non-finite values)" % count)


def note_initial(port, initial):
    """Record in ``port`` (a trace's) the non-finite arrays of ``initial``
    (``{name: array}``) as ``port[INITIAL] = {name: first(array)}``; a trace
    keeps only digests of them. Nothing is added when all are finite."""
    found = [(name, first(value, "index")) for name, value in initial.items()]
    found = collections.OrderedDict((n, where) for n, where in found if where)
    if found:
        port[INITIAL] = found
    return port


class Problem(collections.namedtuple("Problem", "field what step")):
    """One non-finite value: ``field`` (``curves.total_loss``), ``what``
    (``NaN at step 5``) and, in a curve, the first such ``step`` (else
    None)."""

    def __str__(self):
        return "%s: %s" % (self.field, self.what)


def problems(trace):
    """Every non-finite value of a trace, as ``Problem``s: its curves,
    per-epoch metrics, final weights, initial weights (as recorded in
    ``port``) and optimizer settings."""
    found = []
    for key, values in sorted(trace.curves.items()):
        where = first(values)
        if where:
            found.append(Problem("curves." + key, where, _locate(values)[1]))
    for key, values in sorted(trace.per_epoch.items()):
        where = first(values, "epoch")
        if where:
            found.append(Problem("per_epoch." + key, where, None))
    for key, value in trace.final_weights.items():
        where = first(value, "index")
        if where:
            found.append(Problem("final_weights." + key, where, None))
    for key, where in sorted((trace.port.get(INITIAL) or {}).items()):
        found.append(Problem("initial_weights." + key, where, None))
    for key, value in sorted((trace.port.get("optimizer") or {}).items()):
        if isinstance(value, numbers.Real) and not isinstance(
                value, bool) and not np.isfinite(value):
            found.append(Problem("port.optimizer." + key, _kind(value), None))
    return found
