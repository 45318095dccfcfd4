"""Tables and JSON reports of comparisons."""

from __future__ import absolute_import, division, print_function

import collections
import json
import re

from compat_reg.parity import tolerances as tol
from compat_reg.parity.trace import REPORT_FORMAT, env_name


def _fmt(value, spec="%.2e"):
    return "-" if value is None else spec % value


def _first(result):
    return "-" if result.first_bad is None else str(result.first_bad)


def row(result, with_env=False):
    """One table row (list of strings) for a Comparison."""
    cand = result.candidate
    cells = []
    if with_env:
        cells.append(env_name(cand.env))
    cells.extend([
        str(cand.workload.get("name")),
        "%s%s" % (cand.backend, "" if cand.env.get("optimizers") in (
            "exact", "tf1") else "[%s]" % cand.env.get("optimizers")),
        result.reference.backend if not with_env else result.reference.name,
        _fmt(result.penalty_ratio, "%.7f"),
        _fmt(result.curve_max.get("data_loss")),
        _fmt(result.curve_max.get("reg_loss")),
        _fmt(result.curve_max.get("total_loss")),
        _first(result),
        _fmt(result.weights),
        _fmt(result.accuracy, "%.4f"),
        result.state,
    ])
    return cells


HEADER = ["workload", "backend", "vs", "pen0 ratio", "data", "reg", "total",
          "1st bad", "weights", "test acc", "result"]


def table(results, with_env=False):
    """The comparison table as text, with diagnoses under it."""
    header = (["env"] if with_env else []) + HEADER
    rows = [header] + [row(r, with_env) for r in results]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = []
    for i, cells in enumerate(rows):
        lines.append("  ".join(c.ljust(w) for c, w in zip(cells, widths)))
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    lines.append("")
    lines.append(
        "pen0 ratio: step-0 penalty / reference (bound 1 +- %g); data/reg/"
        "total: max relative difference of the per-step curves (bound %g "
        "exact optimizers, %g native Keras); weights: max relative L2 "
        "difference of the final weights (bound %g / %g); 1st bad: first step"
        " past the bound." % (tol.PENALTY_STEP0, tol.CURVE_EXACT,
                               tol.CURVE_KERAS, tol.WEIGHTS_EXACT,
                               tol.WEIGHTS_KERAS))
    for result in results:
        if not result.ok:
            lines.append("")
            lines.append(result.message())
    failed, unsupported = counts(results)
    stated = stated_differences(results)
    lines.append("")
    lines.append("%d comparisons, %d failed%s" % (
        len(results), len(failed), ", %d within a stated difference" % len(
            stated) if stated else ""))
    if unsupported:
        lines.append("%d unsupported here (upstream limits of this TensorFlow/"
                     "Keras, not the port; not failures unless --strict):" %
                     len(unsupported))
        for result in unsupported:
            lines.append("  %s %s vs %s: %s" % (
                result.candidate.workload.get("name"), result.candidate.backend,
                result.reference.name, upstream_issues(result)))
    lines.extend(stated_lines(stated))
    return "\n".join(lines)


def stated_lines(stated, what=""):
    """The lines naming each row (or pair, ``what="pairs "``) of ``stated``
    with its stated differences' figures and reasons (none if empty)."""
    if not stated:
        return []
    lines = ["%d %swithin a stated difference (TensorFlow's or a Keras "
             "backend's, not compat_reg's, pinned by the test named; beyond "
             "the figure it fails):" % (len(stated), what)]
    for result in stated:
        lines.extend("  %s vs %s, workload %s: %s" % (
            result.candidate.name, result.reference.name,
            result.candidate.workload.get("name"), note)
            for note in result.stated_differences)
    return lines


def counts(results):
    """``(failed, unsupported)``: the rows that read ``FAIL`` and those that
    read ``unsupported here``."""
    return ([r for r in results if r.state == "FAIL"],
            [r for r in results if r.state == "unsupported here"])


def stated_differences(results):
    """The rows that read ``stated difference``: within the bounds but for
    a difference the project states (``measure._stated_difference``)."""
    return [r for r in results if r.state == "stated difference"]


def upstream_issues(result):
    """The ``_compat`` fact of an unsupported row and the upstream issues
    its diagnosis names (``keras-team/keras#20585``)."""
    issues = []
    for diagnosis in result.diagnoses:
        issues.extend(i for i in re.findall(r"[\w.-]+/[\w.-]+#\d+", diagnosis)
                      if i not in issues)
    return "; ".join([result.limit] + issues)


def to_json(results):
    """A JSON-serialisable summary of the comparisons."""
    out = []
    for r in results:
        out.append(collections.OrderedDict([
            ("env", r.candidate.env),
            ("workload", r.candidate.workload.get("name")),
            ("backend", r.candidate.backend),
            ("reference", r.reference.name),
            ("ok", r.ok),
            ("state", r.state),
            ("upstream_limit", upstream_issues(r) if r.limit else None),
            ("stated_differences", r.stated_differences),
            ("penalty_ratio", r.penalty_ratio),
            ("effective_penalty_ratio", r.effective_ratio),
            ("curve_max", r.curve_max),
            ("first_bad_step", r.first_bad),
            ("weights", r.weights),
            ("test_accuracy", r.accuracy),
            ("reference_test_accuracy", r.reference_accuracy),
            ("curve_bound", r.curve_bound),
            ("weights_bound", r.weights_bound),
            ("failures", r.failures),
            ("diagnoses", r.diagnoses),
        ]))
    failed, unsupported = counts(results)
    return collections.OrderedDict([("format", REPORT_FORMAT),
                                    ("ok", not failed),
                                    ("failed", len(failed)),
                                    ("unsupported", len(unsupported)),
                                    ("stated_differences",
                                     len(stated_differences(results))),
                                    ("comparisons", out)])


def write_json(results, path):
    with open(path, "w") as handle:
        json.dump(to_json(results), handle, indent=1)
        handle.write("\n")
