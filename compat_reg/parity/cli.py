"""``compat-reg parity``: check that TF1 and TF2 training agree.

Subcommands:

``run``      train the built-in workloads on every backend this TensorFlow
             offers, compare them with each other and with the real TF 1.15
             traces shipped in the package; exit 0 only if all agree (rows
             that read ``unsupported here``, an upstream limit of this Keras
             named by ``_compat``, are listed apart; ``--strict`` fails them).
``record``   train one workload on one backend and write its trace (JSON).
``compare``  compare traces made by other interpreters / TF versions.
``replay``   replay a file in the golden format and compare with it.
"""

from __future__ import absolute_import, division, print_function

import argparse
import importlib.util
import os
import sys
import time

from compat_reg.parity import determinism, registry

# What the commands run on, loaded by _load_commands once arguments parse:
# they import numpy (and TensorFlow behind it), which --help and a usage
# error must not need (tests/test_cli_no_tf.py).
_compat = golden_files = backends = distributed = keras_backends = None
measure = pairing = plot = recorder = report = runner = trace = None
workloads = None


def _load_commands():
    global _compat, golden_files, backends, distributed, keras_backends
    global measure, pairing, plot, recorder, report, runner, trace, workloads
    from compat_reg import _compat, golden_files  # deferred: numpy and TF, not for --help
    from compat_reg.parity import (  # deferred: numpy and TF, not for --help
        backends, distributed, keras_backends, measure, pairing, plot,
        recorder, report, runner, trace, workloads)

DESCRIPTION = "compat-reg parity: check that TF1 and TF2 training agree."

EPILOG = """\
examples:
  compat-reg parity run --all --plot parity.png
  compat-reg parity run --workload adam_l2 --optimizers keras
  compat-reg parity run --workload sgd_l2 --port l2-unhalved   # see a wrong port fail
  compat-reg parity run --strategy all --epochs 1   # one device, mirrored, 2 workers
  compat-reg parity run --strategy mirrored --workload sgd_l2 --port penalty-unscaled
  compat-reg parity record --all --out-dir traces/mine
  compat-reg parity compare traces/ --golden --plot envs.png
  compat-reg parity replay sgd_l2 --backend tf2-keras

exit status: 0 everything agrees (rows that read "unsupported here", an
upstream limit of this Keras named by compat_reg._compat, are listed apart;
run --strict fails them); 1 a difference beyond tolerance was found, or a NaN
or inf anywhere in a run or a reference; 2 an error (unreadable, invalid or
inconsistent input, found before any training; nothing to compare) or a
usage error. Errors go to stderr, one line.
Tolerances and their justifications: the module compat_reg.parity.tolerances.
"""


def positive_int(text):
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("%r is not an integer" % text) from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more, not %d" % value)
    return value

# every name from the registry (``registry.TABLES``)
STRATEGY_CHOICES = registry.DISTRIBUTED + ("all",)


def _training_options(parser):
    parser.add_argument(
        "--optimizers", choices=("exact", "keras"), default="exact",
        help="exact (default): compat_reg.optimizers, TF1's updates exactly, "
             "curves within 1e-3; keras: native Keras optimizers, under the "
             "looser documented bound (5e-2; Adam drifts)")
    parser.add_argument(
        "--port", choices=tuple(registry.PORTS), default="correct",
        help="train the tf2-* backends with a deliberately wrong port to see "
             "how the harness diagnoses it (default: correct): %s" % (
                 registry.listing("port").replace("%", "%%")))
    parser.add_argument(
        "--epochs", type=positive_int, default=None, metavar="N",
        help="train only the first N epochs (references are cut to match)")
    parser.add_argument(
        "--keras-backend", choices=tuple(registry.KERAS_BACKENDS),
        help="train the tf2 backends with Keras 3 on this backend (or set "
             "KERAS_BACKEND; if both, they must agree): %s; MLP workloads "
             "only, one device" % "; ".join(
                 "%s (%s)" % (n, e.help)
                 for n, e in registry.KERAS_BACKENDS.items()))


def _report_options(parser):
    parser.add_argument("--plot", metavar="FILE.png",
                        help="write a figure: the matrix of every comparison "
                             "coloured by difference / bound, and one "
                             "workload's curves (needs matplotlib)")
    parser.add_argument("--plot-workload", metavar="NAME",
                        help="the workload whose curves --plot shows "
                             "(default: the one that differs most)")
    parser.add_argument("--json", metavar="FILE",
                        help="write the comparisons as JSON")


def build_parser():
    """The argparse parser of ``compat-reg parity``."""
    parser = argparse.ArgumentParser(
        prog="compat-reg parity", description=DESCRIPTION,
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    run = sub.add_parser(
        "run", help="run all backends on the built-in workloads and compare",
        description="Train the built-in workloads (%s) on every backend this "
                    "TensorFlow offers (%s; TF1 offers only tf1-graph), from "
                    "the same initial weights on the same batches, and compare"
                    " them with each other and with the real TF 1.15 trace "
                    "(golden cases: %s; the others' reference is tf1-graph)."
                    % (", ".join(registry.WORKLOADS),
                       ", ".join(registry.BACKENDS),
                       ", ".join(registry.GOLDEN_CASES)))
    which = run.add_mutually_exclusive_group()
    which.add_argument("--workload", action="append",
                       choices=tuple(registry.WORKLOADS),
                       help="a built-in workload (repeatable): %s" % (
                           registry.listing("workload")))
    which.add_argument("--all", action="store_true",
                       help="every built-in workload (the default)")
    run.add_argument("--backend", action="append",
                     choices=tuple(registry.BACKENDS),
                     help="restrict to these backends (repeatable): %s" % (
                         registry.listing("backend")))
    run.add_argument("--save-traces", metavar="DIR",
                     help="also write every trace to DIR")
    run.add_argument(
        "--strategy", action="append", choices=STRATEGY_CHOICES,
        help="also train %s (a custom loop in strategy.run, penalty scaled "
             "per replica; model.fit) under tf.distribute, with the same "
             "global batch, and compare with one device and the golden "
             "traces: %s; all = every one (repeatable)" % (
                 " and ".join(registry.STRATEGY_BACKENDS),
                 registry.listing("strategy", registry.DISTRIBUTED)))
    run.add_argument(
        "--strict", action="store_true",
        help="with --strategy: count the rows that read 'unsupported here' "
             "(what compat_reg._compat says this Keras cannot do, e.g. "
             "Keras 3's fit under MultiWorkerMirroredStrategy, keras-team/"
             "keras#20585) as failures (exit 1); by default they are listed "
             "apart and the run exits 0 on them")
    run.add_argument(
        "--worker-timeout", type=positive_int, default=1200, metavar="SECONDS",
        help="with --strategy: stop the workers of a strategy and fail after "
             "this long (default 1200)")
    _training_options(run)
    _report_options(run)

    record = sub.add_parser(
        "record", help="train one workload on one backend, write its trace",
        description="Train one workload on one backend and write the trace "
                    "(JSON, readable by any interpreter). A workload file is "
                    "validated before any training, as by replay.")
    record.add_argument("--backend", action="append",
                        choices=tuple(registry.BACKENDS),
                        help="repeatable; default with --all: every backend "
                             "this TensorFlow offers")
    rec_which = record.add_mutually_exclusive_group(required=True)
    rec_which.add_argument("--workload",
                           help="a built-in name (%s) or a golden-format JSON "
                                "file" % ", ".join(registry.WORKLOADS))
    rec_which.add_argument("--all", action="store_true",
                           help="every built-in workload (use --out-dir)")
    rec_out = record.add_mutually_exclusive_group(required=True)
    rec_out.add_argument("--out", metavar="TRACE.json",
                         help="the trace of one workload on one backend")
    rec_out.add_argument("--out-dir", metavar="DIR",
                         help="write <workload>__<backend>.json for each")
    _training_options(record)

    comp = sub.add_parser(
        "compare", help="compare traces from different envs",
        description="Compare traces (files or folders of *.json, golden files"
                    " included) workload by workload. The reference is this "
                    "project's own run on real TF 1.x when one is among the "
                    "traces (e.g. traces/tf1/ from tox -e tf1): every other "
                    "env x backend is measured against it, and it against the"
                    " golden trace. Without one: the golden trace, else the "
                    "first tf1-graph trace (the output says which). Then "
                    "every pair of the other traces. Prints env x workload x "
                    "backend; exits 1 if any disagrees beyond tolerance or "
                    "holds a NaN or inf (named: file, curve or weight, first "
                    "step or index), 2 if any file cannot be read or is "
                    "inconsistent (one line naming the file and the key).")
    comp.add_argument("paths", nargs="+", metavar="TRACE",
                      help="trace files or directories")
    comp.add_argument("--golden", action="store_true",
                      help="also compare with the real TF 1.15 golden traces "
                           "shipped in the package")
    _report_options(comp)

    replay = sub.add_parser(
        "replay", help="replay a golden-format file and compare with it",
        description="Train the workload of a file in the golden format (its "
                    "config, arrays and data) on the given backends and "
                    "compare with the file's curves and final weights. The "
                    "workload is validated first (config keys and types, "
                    "finite numbers, array shapes and dtypes, labels in [0, "
                    "classes), batch-order indices in range): a problem is "
                    "one line naming the file and the key, exit 2, before "
                    "any training. A NaN or inf in the file's curves or "
                    "weights, or in a run, fails its row (exit 1).")
    replay.add_argument("golden", metavar="GOLDEN",
                        help="a golden-format JSON file, or the name of a "
                             "golden case shipped in the package (%s)" % (
                                 ", ".join(registry.GOLDEN_CASES)))
    replay.add_argument("--backend", action="append",
                        choices=tuple(registry.BACKENDS),
                        help="backends to replay on (default: all offered)")
    _training_options(replay)
    _report_options(replay)
    record_model = sub.add_parser(
        "record-model", help="record a team's own TF1 model (on TF 1.x)",
        description="Train the TF1 model a script defines (%s; optional %s) "
                    "on this TF 1.x and write its trace folder: initial "
                    "weights, batch order, per-step losses, weights after "
                    "each step, a tf.train.Saver checkpoint. Compare a Keras "
                    "port with it on TF 2: compat_reg.parity.user_model."
                    "compare_trace. Bad input: one line, exit 2, nothing "
                    "written." % (", ".join(registry.SCRIPT_NAMES), ", ".join(
                        n for n, _, _ in registry.SCRIPT_OPTIONS)))
    record_model.add_argument("script", metavar="SCRIPT.py")
    record_model.add_argument("--out", required=True, metavar="DIR",
                              help="the trace folder to create")
    for name, option, default in registry.SCRIPT_OPTIONS:
        record_model.add_argument("--" + option, type=int, help="default: the "
                                  "script's %s, else %d" % (name, default))
    return parser


def _port(args):
    """The ``--port`` of a run on one device (``registry.port``)."""
    if registry.PORTS[args.port].strategy:
        raise ValueError("--port %s needs parity run --strategy (on one "
                         "device the replica factor is 1)" % args.port)
    return registry.port(args.port)


def _finish(args, results, out, pairs=(), plot_results=None):
    print(report.table(results, with_env=args.command == "compare"), file=out)
    if args.json:
        report.write_json(results, args.json)
        print("wrote %s" % args.json, file=out)
    if args.plot:
        plot.plot(results if plot_results is None else plot_results,
                  args.plot, args.plot_workload, pairs)
        print("wrote %s" % args.plot, file=out)
    failed, unsupported = report.counts(results)
    return 1 if failed or (unsupported and getattr(args, "strict", False)) else 0


def _header(out):
    print("; ".join("%s %s" % kv for kv in _compat.describe()[:5]), file=out)


def _save_traces(folder, traces):
    for wname, by_backend in traces.items():
        for bname, t in by_backend.items():
            if bname != "golden":
                t.save(os.path.join(folder, "%s__%s.json" % (
                    wname, bname.replace(":", "-"))))


def _trainable(chosen, named, out):
    """The workloads of ``chosen`` this Keras backend trains: on JAX or
    torch the others are skipped with a line, or are an error if ``named``
    (``keras_backends.unsupported``)."""
    left = [keras_backends.unsupported(w) for w in chosen]
    if named and any(left):
        raise ValueError([r for r in left if r][0])
    for reason in left:
        if reason:
            print("skipped %s" % reason, file=out)
    return [w for w, r in zip(chosen, left) if r is None]


def cmd_run(args, out):
    """``run``: every chosen workload on one device, then under each
    ``--strategy`` in its workers (``runner.run_workloads``)."""
    names = args.workload or list(registry.WORKLOADS)
    chosen = [workloads.builtin(n).truncated(args.epochs) for n in names]
    strategies = (list(registry.DISTRIBUTED) if "all" in (args.strategy or ())
                  else args.strategy or [])
    skipped = []
    if strategies:
        reason = keras_backends.strategy_error() or (
            distributed.unavailable_reason())
        if reason:
            print("compat-reg parity run: error: --strategy: %s" % reason,
                  file=sys.stderr)
            return 2
        if not args.workload:  # the default: every workload a strategy takes
            left = [distributed.unsupported(w) for w in chosen]
            skipped = [r for r in left if r]
            chosen = [w for w, r in zip(chosen, left) if r is None]
    else:
        _port(args)  # a port wrong only under a strategy: a usage error
    _header(out)
    for reason in skipped:
        print("skipped %s" % reason, file=out)
    chosen = _trainable(chosen, bool(args.workload), out)
    started = time.time()
    try:
        traces, results, runs = runner.run_workloads(
            chosen, args.backend, args.optimizers, args.port, strategies,
            timeout=args.worker_timeout, op_determinism=bool(strategies))
    except distributed.WorkerFailed as err:
        print("compat-reg parity run: error: --strategy: %s" % err,
              file=sys.stderr)
        return 2
    for run in runs.values():
        print(run.describe(), file=out)
        if run.probe is not None:
            print("  " + measure.describe_probe(run.strategy, run.probe),
                  file=out)
    if runs:
        print("wall time, all setups: %.1f s" % (time.time() - started),
              file=out)
    if args.save_traces:
        _save_traces(args.save_traces, traces)
    return _finish(args, results, out, plot_results=[
        r for r in results if r.candidate.curves["total_loss"]])


def cmd_record(args, out):
    if args.all:
        chosen = [workloads.builtin(n) for n in workloads.BUILTIN]
    elif os.path.isfile(args.workload):
        chosen = [workloads.from_golden(args.workload)]
    else:
        chosen = [workloads.builtin(args.workload)]
    names = args.backend or list(backends.available())
    if args.out and (len(chosen) > 1 or len(names) != 1):
        raise ValueError("--out takes one workload and one --backend; "
                         "use --out-dir for more")
    for name in names:
        backends.check_backend(name)
    _header(out)
    chosen = _trainable(chosen, not args.all, out)
    for workload in chosen:
        workload = workload.truncated(args.epochs)
        for name in names:
            t = backends.run(workload, name, args.optimizers, _port(args))
            path = args.out or os.path.join(
                args.out_dir, "%s__%s.json" % (workload.name, name))
            t.save(path)
            print("wrote %s (%s, %s, %d steps)" % (
                path, t.name, workload.name, len(t.curves["total_loss"])),
                file=out)
    return 0


def cmd_compare(args, out):
    paths = list(args.paths)
    if args.golden:
        paths.append(golden_files.GOLDEN_DIR)
    plans = pairing.plans(trace.collect(paths))
    for line in pairing.describe(plans):
        print(line, file=out)
    results, pairs = pairing.run(plans)
    if not results:
        raise ValueError("nothing to compare: every workload has only its "
                         "reference (%s)" % ", ".join(
                             p.reference.path or p.reference.name for p in plans))
    code = _finish(args, results, out, pairs)
    stated = report.stated_lines(report.stated_differences(pairs), "pairs ")
    if stated:
        print("\n" + "\n".join(stated), file=out)
    pair_failures = [p for p in pairs if p.state == "FAIL"]
    if pair_failures:
        print("\n%d pairs of traces disagree:" % len(pair_failures), file=out)
        for result in pair_failures:
            print(result.message(), file=out)
        code = 1
    return code


def cmd_replay(args, out):
    path = args.golden
    if not os.path.exists(path) and path in workloads.GOLDEN_CASES:
        path = workloads.builtin(path).golden_path
    workload = workloads.from_golden(path).truncated(args.epochs)
    reference = trace.from_golden(path)
    _header(out)
    results = []
    for name in args.backend or backends.available():
        t = backends.run(workload, name, args.optimizers, _port(args))
        results.append(measure.measure(t, reference))
    return _finish(args, results, out)


COMMANDS = {"run": cmd_run, "record": cmd_record, "compare": cmd_compare,
            "replay": cmd_replay,
            "record-model": lambda args, out: recorder.cmd_record_model(args, out)}


def keras_backend(args, environ=os.environ, modules=sys.modules):
    """Apply ``--keras-backend`` (else ``KERAS_BACKEND``) before Keras is
    imported: sets ``KERAS_BACKEND`` and the backend's one-thread setting
    (``registry.KERAS_BACKENDS``). Returns None, or the error line of a
    mismatch, an unknown backend or one that is not installed."""
    flag = getattr(args, "keras_backend", None)
    if not hasattr(args, "keras_backend"):
        return None  # compare reads traces: it trains on no backend
    named = environ.get("KERAS_BACKEND")
    if flag and named and named != flag:
        return ("--keras-backend %s but KERAS_BACKEND=%s: give one, or the "
                "same in both" % (flag, named))
    name = flag or named
    if not name or name == "tensorflow":
        return None
    entry = registry.KERAS_BACKENDS.get(name)
    if entry is None:
        return ("KERAS_BACKEND=%s: the parity harness trains on tensorflow, "
                "%s" % (name, ", ".join(registry.KERAS_BACKENDS)))
    if importlib.util.find_spec(entry.package) is None:
        return ("Keras backend %s: %s is not installed in this Python (tox -e"
                " keras3-%s has it)" % (name, entry.package, name))
    loaded = modules.get("keras")
    if loaded is not None and getattr(loaded, "backend", None) is not None and (
            loaded.backend.backend() != name):
        return ("Keras backend %s: Keras is already imported on %s in this "
                "process" % (name, loaded.backend.backend()))
    environ["KERAS_BACKEND"] = name
    variable, value = entry.env  # a --flag joins the others; a value replaces
    current = environ.get(variable, "").split()
    if value not in current:
        environ[variable] = " ".join(
            current + [value] if value.startswith("--") else [value])
    return None


def main(argv=None, out=None):
    """Entry point: ``compat-reg parity ARGS``; returns the exit status
    (0 ok, 1 differences found, 2 errors or usage; errors on stderr)."""
    out = out if out is not None else sys.stdout
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as done:  # --help (0) or a usage error (2)
        return done.code
    problem = keras_backend(args)
    if problem:
        print("compat-reg parity %s: error: %s" % (args.command, problem),
              file=sys.stderr)
        return 2
    determinism.configure(op_determinism=True)
    _load_commands()
    try:
        return COMMANDS[args.command](args, out)
    except (ValueError, KeyError, IOError, OSError, TypeError) as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print("compat-reg parity %s: error: %s" % (args.command, message),
              file=sys.stderr)
        return 2
