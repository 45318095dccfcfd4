"""Run every registered row (see ``benchmarks/__init__.py``) and print one
table; ``--json`` says where the record goes, ``--rounds`` how many rounds,
``--only`` a substring of the rows to run.

    python -m benchmarks [--rounds 3] [--json benchmarks/results.json]
"""
import argparse
import importlib
import json
import os
import pkgutil
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import benchmarks


# Functions a row module may define instead of ``@row`` process rows: each
# takes the number of rounds and returns a record (or a list of them) with
# the keys ``run_row`` writes (``row``, ``a_seconds``, ``b_seconds``,
# ``ratio_median``, ``ratio_spread``, ``note``; no ``a_peak_mb``: a process's
# peak RSS says nothing of one in-process call).
IN_PROCESS = ("rows", "tf1_vs_tf2")


def measure(cmd, cwd):
    """(wall seconds, peak RSS in MB, exit code) of one fresh process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return seconds, usage.ru_maxrss / 1024.0, proc.returncode


def _spread(values):
    return [round(min(values), 3), round(max(values), 3)]


def run_row(name, make, rounds, scratch):
    spec = make(scratch)
    a_runs, b_runs = [], []
    for _ in range(rounds):
        for which, cmd, runs in (("a", spec.a, a_runs), ("b", spec.b, b_runs)):
            if cmd is None:
                continue
            if spec.reset:
                spec.reset(which)
            seconds, peak, code = measure(cmd, scratch)
            if code not in (0, 1):
                raise RuntimeError("%s: %s exited %d" % (name, " ".join(cmd), code))
            runs.append((seconds, peak))
    record = dict(row=name, a=" ".join(spec.a), note=spec.note,
                  a_seconds=[round(s, 3) for s, _ in a_runs],
                  a_peak_mb=[round(p, 1) for _, p in a_runs])
    if b_runs:
        ratios = [b[0] / a[0] for a, b in zip(a_runs, b_runs)]
        record.update(b=" ".join(spec.b), b_seconds=[round(s, 3) for s, _ in b_runs],
                      ratio_median=round(statistics.median(ratios), 2),
                      ratio_spread=_spread(ratios))
    return record


def table(records):
    lines = ["%-44s %18s %18s %16s %10s" % ("row", "ratio B/A [spread]", "A s [spread]",
                                            "B s", "A peak MB")]
    for r in records:
        a = statistics.median(r["a_seconds"])
        ratio = "%.1fx [%.1f-%.1f]" % (r["ratio_median"], *r["ratio_spread"]) \
            if "ratio_median" in r else "-"
        b = "%.3g" % statistics.median(r["b_seconds"]) if "b_seconds" in r else "-"
        low, high = min(r["a_seconds"]), max(r["a_seconds"])
        peak = "%.0f" % statistics.median(r["a_peak_mb"]) if "a_peak_mb" in r else "-"
        lines.append("%-44s %18s %18s %16s %10s" % (
            r["row"], ratio, "%.3g [%.3g-%.3g]" % (a, low, high), b, peak))
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", default=os.path.join(os.path.dirname(__file__),
                                                       "results.json"))
    parser.add_argument("--only", default="")
    args = parser.parse_args(argv)
    modules = []
    for info in pkgutil.iter_modules(benchmarks.__path__):
        if info.name not in ("trees", "__main__"):
            modules.append(importlib.import_module("benchmarks." + info.name))
    records = []
    started = time.time()
    for name, make in benchmarks.ROWS.items():  # process rows, TF not imported here
        if args.only not in name:
            continue
        with tempfile.TemporaryDirectory() as scratch:
            records.append(run_row(name, make, args.rounds, scratch))
        print("done: %s (%.0f s so far)" % (name, time.time() - started), file=sys.stderr)
    for module in modules:  # in-process rows: records from ``rows(rounds)`` etc.
        for function in IN_PROCESS:
            if not callable(getattr(module, function, None)) or (
                    args.only and args.only not in module.__name__):
                continue
            try:
                found = getattr(module, function)(args.rounds)
            except ImportError as e:
                print("skipped %s.%s: %s" % (module.__name__, function, e), file=sys.stderr)
                continue
            records.extend(r for r in (found if isinstance(found, list) else [found]) if r)
            print("done: %s.%s (%.0f s so far)" % (module.__name__, function,
                                                   time.time() - started), file=sys.stderr)
    machine = dict(python=platform.python_version(), machine=platform.machine(),
                   cpus=os.cpu_count(), system=platform.platform())
    print(table(records))
    print("(%d rounds, interleaved A B; ratio = B's seconds / A's, median [min-max]; "
          "%s, %d cpus; %.0f s)" % (args.rounds, machine["system"], machine["cpus"],
                                    time.time() - started))
    with open(args.json, "w") as f:
        json.dump(dict(format="compat-reg-bench/1", machine=machine, rounds=args.rounds,
                       rows=records), f, indent=2)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
