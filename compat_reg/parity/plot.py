"""``--plot``: one PNG that a reviewer reads at a glance.

Left, a matrix of every comparison: rows are envs (``compare``) or backends
(``run``), columns workload/backend (``compare``) or workload (``run``);
each cell is coloured by the max relative difference of the curves divided
by its bound (log scale; above 1 fails), exact zeros are written ``0`` and
failures ``FAIL`` on red. Right, one workload (the worst one) in detail: its
reference curve, every other run summarised as a min-max band with failing
runs drawn on their own, and below it the relative difference per step with
the bound. matplotlib is an optional extra (``pip install compat_reg[plot]``)
and is imported only here.
"""

from __future__ import absolute_import, division, print_function

import collections
import re

import numpy as np

from compat_reg.parity import measure
from compat_reg.parity import tolerances as tol
from compat_reg.parity.trace import env_name

# The colour scale spans ratio (difference / bound) 1e-6 .. 1e1.
LOG_LOW, LOG_HIGH = -6.0, 1.0


def _pyplot():
    try:
        import matplotlib  # deferred: matplotlib is optional (_pyplot)
    except ImportError:
        raise SystemExit(
            "--plot needs matplotlib, which is not installed: pip install "
            "'compat_reg[plot]' (or pip install matplotlib)") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # deferred: matplotlib is optional (_pyplot)
    return plt


def _env_key(name):
    """Sort envs by TF version: tf14 ... tf114, tf1 (TF 1.15), tf20, tf29,
    tf210 ... tf221, tf221-legacy."""
    match = re.match(r"tf(\d)(\d*)(.*)$", name)
    if not match:
        return (9, 0, name)
    minor = int(match.group(2)) if match.group(2) else 15
    return (int(match.group(1)), minor, match.group(3))


def _ratio(result):
    """Max curve difference / bound, or None when nothing was measured."""
    worst = result.max_curve
    return None if worst is None else worst / result.curve_bound


def layout(results):
    """``(rows, columns, cells)``: labels and ``{(row, column): result}``."""
    many = len(set(env_name(r.candidate.env) for r in results)) > 1
    cells = collections.OrderedDict()
    for r in results:
        workload = str(r.candidate.workload.get("name"))
        if many:
            key = (env_name(r.candidate.env),
                   "%s\n%s" % (workload, r.candidate.backend))
        else:
            key = ("%s vs %s" % (r.candidate.backend, r.reference.backend),
                   workload)
        cells[key] = r
    if not many:
        rows = list(collections.OrderedDict((k[0], None) for k in cells))
        columns = list(collections.OrderedDict((k[1], None) for k in cells))
        return rows, columns, cells
    # the references' own envs and backends get a row and a column too (not
    # golden: its row would hold nothing but "ref")
    keys = list(cells) + [_reference_key(r) for r in results
                          if r.reference.backend != "golden"]
    rows = sorted(set(k[0] for k in keys), key=_env_key)
    columns = list(collections.OrderedDict((k[1], None) for k in keys))
    return rows, columns, cells


def _reference_key(result):
    ref = result.reference
    return (env_name(ref.env), "%s\n%s" % (ref.workload.get("name"),
                                           ref.backend))


ZERO = "#4575b4"  # bit-identical to the reference


def _matrix(ax, fig, results, pairs):
    rows, columns, cells = layout(results)
    values = np.full((len(rows), len(columns)), np.nan)
    for (row, column), r in cells.items():
        ratio = _ratio(r)
        if ratio is not None:
            values[rows.index(row), columns.index(column)] = np.clip(
                np.log10(max(ratio, 10 ** LOG_LOW)), LOG_LOW, LOG_HIGH)
    import matplotlib.colors as mcolors  # deferred: matplotlib is optional (_pyplot)
    cmap = mcolors.LinearSegmentedColormap.from_list(
        "parity", [(0.0, "#1a9850"), (0.55, "#d9ef8b"), (0.80, "#fee08b"),
                   (0.857, "#fc8d59"), (1.0, "#a50026")])
    cmap = (cmap.with_extremes(bad="#f0f0f0") if hasattr(cmap, "with_extremes")
            else _set_bad(cmap, "#f0f0f0"))  # matplotlib < 3.4
    image = ax.imshow(values, cmap=cmap, vmin=LOG_LOW, vmax=LOG_HIGH,
                      aspect="auto", interpolation="nearest")
    small = 7 if len(rows) > 12 else 9
    for (row, column), r in cells.items():
        i, j = rows.index(row), columns.index(column)
        ratio = _ratio(r)
        if not r.ok:
            ax.add_patch(_box(i, j, "#a50026"))
            text, colour = "FAIL", "white"
        elif ratio == 0.0:
            ax.add_patch(_box(i, j, ZERO, edge="white"))
            text, colour = "0", "white"
        elif ratio is None:
            text, colour = "-", "black"
        else:
            text, colour = "%.0e" % r.max_curve, "black"
        ax.text(j, i, text, ha="center", va="center", fontsize=small,
                color=colour, fontweight="bold" if not r.ok else "normal")
    ax.set_xticks(range(len(columns)))
    ax.set_xticklabels(columns, fontsize=small)
    ax.xaxis.tick_top()
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels(rows, fontsize=small + 1)
    ax.set_xticks(np.arange(-0.5, len(columns)), minor=True)
    ax.set_yticks(np.arange(-0.5, len(rows)), minor=True)
    ax.grid(which="minor", color="white", linewidth=1.5)
    ax.tick_params(which="minor", length=0)
    bar = fig.colorbar(image, ax=ax, fraction=0.04, pad=0.02,
                       ticks=range(int(LOG_LOW), int(LOG_HIGH) + 1))
    bar.ax.set_yticklabels(["%g" % 10 ** t for t in range(
        int(LOG_LOW), int(LOG_HIGH) + 1)], fontsize=8)
    bar.set_label("max relative curve difference / its bound\n(> 1 fails; "
                  "cells: the difference itself, 0 = bit-identical)",
                  fontsize=8)
    bar.ax.axhline(0.0, color="black", lw=1.5)
    many = len(set(env_name(r.candidate.env) for r in results)) > 1
    if many:  # the reference's own cell
        for r in results:
            key = _reference_key(r)
            if key in cells or key[0] not in rows or key[1] not in columns:
                continue
            ax.text(columns.index(key[1]), rows.index(key[0]), "ref",
                        ha="center", va="center", fontsize=small,
                        style="italic")
    failed = sum(1 for r in results if not r.ok)
    pair_failed = sum(1 for r in pairs if not r.ok)
    ax.set_xlabel(
        "%d comparisons with the reference, %d failed%s. Blue 0: bit-identical"
        "; grey: not run or the reference itself (ref)." % (
            len(results), failed, "" if not pairs else
            "; %d of %d pairs of runs disagree (see the text report)" % (
                pair_failed, len(pairs))),
        fontsize=9, color="#a50026" if failed or pair_failed else "black")


def _set_bad(cmap, colour):
    cmap.set_bad(colour)
    return cmap


def _box(i, j, colour, edge="black"):
    import matplotlib.patches as patches  # deferred: matplotlib is optional (_pyplot)
    return patches.Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor=colour,
                             edgecolor=edge, lw=1.2, zorder=2)


def _worst_workload(results):
    def badness(r):
        return (not r.ok, _ratio(r) or 0.0)
    return str(max(results, key=badness).candidate.workload.get("name"))


def _epochs(trace):
    steps = len(trace.curves["total_loss"])
    per_epoch = max(steps // max(len(trace.per_epoch["test_loss"]), 1), 1)
    return np.arange(1, steps + 1) / float(per_epoch)


def _detail(ax_loss, ax_diff, results, workload):
    chosen = [r for r in results
              if str(r.candidate.workload.get("name")) == workload]
    if not chosen:
        raise ValueError("no comparison of workload %r to plot" % workload)
    # the reference most runs were measured against (a truncated run's
    # reference is a truncated copy: same name, another object)
    counts = collections.Counter(r.reference.name for r in chosen)
    name = max(counts, key=lambda n: (counts[n], n == chosen[0].reference.name))
    chosen = [r for r in chosen if r.reference.name == name]
    reference = chosen[0].reference
    ok = [r for r in chosen if r.ok]
    bad = [r for r in chosen if not r.ok]
    x_ref = _epochs(reference)
    ax_loss.plot(x_ref, reference.curves["total_loss"], color="black", lw=1.0,
                 label="reference: %s" % reference.name, zorder=3)
    if ok:
        n = min(len(r.candidate.curves["total_loss"]) for r in ok)
        stack = np.array([r.candidate.curves["total_loss"][:n] for r in ok])
        ax_loss.fill_between(x_ref[:n], stack.min(0), stack.max(0),
                             color="#1a9850", alpha=0.35, lw=0,
                             label="%d runs that agree (min-max band)" % len(ok))
        diffs = np.array([measure.rel_curve(
            r.candidate.curves["total_loss"][:n],
            r.reference.curves["total_loss"][:n]) for r in ok])
        worst = diffs.max(0)
        zero = worst == 0.0
        ax_diff.semilogy(x_ref[:n], np.where(zero, np.nan, worst),
                         color="#1a9850", lw=1.0,
                         label="worst of the %d that agree" % len(ok))
        exact = sum(1 for d in diffs if not d.any())
        if exact:
            ax_diff.text(0.01, 0.04, "%d of %d runs bit-identical to the "
                         "reference (difference exactly 0, not drawable on a "
                         "log axis)" % (exact, len(ok)),
                         transform=ax_diff.transAxes, fontsize=8)
    for r in bad[:5]:
        x = _epochs(r.candidate)
        label = "FAIL %s %s" % (env_name(r.candidate.env), r.candidate.backend)
        ax_loss.plot(x, r.candidate.curves["total_loss"], color="#a50026",
                     lw=1.0, ls="--", label=label, zorder=4)
        n = min(len(x), len(x_ref))
        diff = measure.rel_curve(r.candidate.curves["total_loss"][:n],
                                 r.reference.curves["total_loss"][:n])
        ax_diff.semilogy(x[:n], np.where(diff == 0, np.nan, diff),
                         color="#a50026", lw=1.0, ls="--")
    if len(bad) > 5:
        ax_loss.plot([], [], color="#a50026", ls="--",
                     label="... and %d more failing" % (len(bad) - 5))
    bound = chosen[0].curve_bound
    ax_diff.axhline(bound, color="#a50026", lw=1.2, ls="-.")
    ax_diff.text(x_ref[-1], bound * 1.4, "bound %g" % bound, color="#a50026",
                 fontsize=8, ha="right")
    ax_diff.set_ylim(1e-9, 1.0)
    from matplotlib.ticker import MaxNLocator  # deferred: matplotlib is optional (_pyplot)
    for ax in (ax_loss, ax_diff):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlim(0, x_ref[-1])
        ax.grid(alpha=0.3)
    ax_loss.set_title("%s: total loss per step" % workload, fontsize=10)
    ax_loss.set_ylabel("total loss")
    ax_loss.legend(fontsize=8, loc="upper right")
    ax_diff.set_title("%s: |total - reference| / reference" % workload,
                      fontsize=10)
    ax_diff.set_xlabel("epoch")
    ax_diff.legend(fontsize=8, loc="upper left")


def plot(results, path, workload=None, pairs=()):
    """Write the figure of ``results`` (Comparisons) to ``path`` (PNG).

    ``workload``: the one shown in detail (default: the worst); ``pairs``:
    the comparisons between runs, counted under the matrix.
    """
    plt = _pyplot()
    if not results:
        raise ValueError("nothing to plot")
    rows, columns, _ = layout(results)
    height = max(5.0, 0.32 * len(rows) + 2.6)
    width = max(7.0, 0.95 * len(columns) + 3.0)
    fig = plt.figure(figsize=(width + 7.5, height))
    grid = fig.add_gridspec(2, 2, width_ratios=(width, 7.0))
    _matrix(fig.add_subplot(grid[:, 0]), fig, results, pairs)
    _detail(fig.add_subplot(grid[0, 1]), fig.add_subplot(grid[1, 1]), results,
            workload or _worst_workload(results))
    ok = all(r.ok for r in list(results) + list(pairs))
    fig.suptitle("compat-reg parity: %s (bounds: curves %g with compat_reg's "
                 "optimizers, %g native Keras)" % (
                     "all agree" if ok else "DISAGREEMENT",
                     tol.CURVE_EXACT, tol.CURVE_KERAS),
                 color="black" if ok else "#a50026", fontsize=12)
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
