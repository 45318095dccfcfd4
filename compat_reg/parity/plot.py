"""``--plot``: one PNG with the curves of every backend overlaid.

One row per workload: total loss per step, penalty per step, test accuracy
per epoch, and the relative difference of the total loss to the reference
(log scale, with the bound drawn). matplotlib is an optional extra
(``pip install compat_reg[plot]``) and is imported only here.
"""

from __future__ import absolute_import, division, print_function

import collections

import numpy as np

from compat_reg.parity import measure
from compat_reg.parity import tolerances as tol

STYLES = {"golden": dict(color="black", lw=2.4, alpha=0.5),
          "tf1-graph": dict(color="tab:blue", lw=1.2),
          "tf2-keras": dict(color="tab:orange", lw=1.0, ls="--"),
          "tf2-fit": dict(color="tab:green", lw=1.0, ls=":")}


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise SystemExit(
            "--plot needs matplotlib, which is not installed: pip install "
            "'compat_reg[plot]' (or pip install matplotlib)") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _label(trace, many_envs):
    from compat_reg.parity.trace import env_name
    if trace.backend == "golden":
        return "TF %s (golden)" % trace.env.get("tensorflow")
    label = trace.backend
    if trace.env.get("optimizers") == "keras":
        label += " [keras opt]"
    return "%s %s" % (env_name(trace.env), label) if many_envs else label


def plot(results, path):
    """Write a PNG of the traces in ``results`` (Comparisons) to ``path``."""
    plt = _pyplot()
    groups = collections.OrderedDict()
    for result in results:
        group = groups.setdefault(result.candidate.workload.get("name"),
                                  collections.OrderedDict())
        for t in (result.reference, result.candidate):
            group.setdefault(id(t), (t, result.reference))
    from compat_reg.parity.trace import env_name
    envs = set(env_name(r.candidate.env) for r in results)
    many = len(envs) > 1
    fig, axes = plt.subplots(len(groups), 4, figsize=(19, 3.6 * len(groups)),
                             squeeze=False)
    for row, (name, group) in enumerate(groups.items()):
        ax_loss, ax_reg, ax_acc, ax_diff = axes[row]
        references = set()
        for t, reference in group.values():
            style = STYLES.get(t.backend, dict(lw=1.0))
            label = _label(t, many)
            steps = np.arange(len(t.curves["total_loss"]))
            ax_loss.plot(steps, t.curves["total_loss"], label=label, **style)
            ax_reg.plot(steps, t.curves["reg_loss"], label=label, **style)
            acc = t.per_epoch["test_accuracy"]
            ax_acc.plot(np.arange(1, len(acc) + 1), acc, marker="o",
                        label=label, **style)
            if t is not reference:
                n = min(len(t.curves["total_loss"]),
                        len(reference.curves["total_loss"]))
                diff = measure.rel_curve(t.curves["total_loss"][:n],
                                         reference.curves["total_loss"][:n])
                ax_diff.semilogy(np.arange(n), np.maximum(diff, 1e-10),
                                 label="%s vs %s" % (label, reference.backend),
                                 **dict(style, alpha=0.9))
            else:
                references.add(t.backend)
        bounds = sorted(set(r.curve_bound for r in results
                            if r.candidate.workload.get("name") == name))
        for bound in bounds:
            ax_diff.axhline(bound, color="red", lw=1, ls="-.")
            ax_diff.text(0, bound * 1.3, "bound %g" % bound, color="red",
                         fontsize=8)
        ax_loss.set_title("%s: total loss per step" % name)
        ax_reg.set_title("%s: penalty (reg_loss) per step" % name)
        ax_acc.set_title("%s: test accuracy per epoch" % name)
        ax_diff.set_title("%s: |total - ref| / ref per step" % name)
        ax_loss.set_xlabel("step")
        ax_reg.set_xlabel("step")
        ax_acc.set_xlabel("epoch")
        ax_diff.set_xlabel("step")
        ax_diff.set_ylim(1e-10, 10)
        for ax in axes[row]:
            ax.grid(alpha=0.3)
        ax_loss.legend(fontsize=8)
        ax_diff.legend(fontsize=7, loc="lower right")
    ok = all(r.ok for r in results)
    fig.suptitle("compat-reg parity: %s (%d comparisons, tolerance %g exact / "
                 "%g native Keras optimizers)" % (
                     "all agree" if ok else "DISAGREEMENT", len(results),
                     tol.CURVE_EXACT, tol.CURVE_KERAS),
                 color="black" if ok else "red")
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path
