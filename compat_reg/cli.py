"""The ``compat-reg`` command line: doctor, check, parity, migrate."""

from __future__ import absolute_import, division, print_function

import argparse
import importlib
import importlib.util
import logging
import os
import re
import sys

from compat_reg.parity.cli import main as parity_main

DESCRIPTION = ("compat-reg: move TF1 regularization code to TF2 without "
               "changing what models learn.")

EPILOG = """\
exit status (every command): 0 ok; 1 differences found (a penalty or a
training run off its TF 1.15 value; code migrate would change); 2 an error
(unreadable input; no TensorFlow it can import, for every command but
migrate) or a usage error. Errors go to stderr.

TensorFlow's own start-up log lines are hidden unless you pass --verbose or
set TF_CPP_MIN_LOG_LEVEL yourself.
"""


INSTALL = "pip install tensorflow (or pip install 'compat_reg[tf]')"


def tensorflow_problem():
    """Why TensorFlow cannot be imported here, in one line; "" if it can.

    A broken install raises anything at import (an ``ImportError`` whose
    message is a whole traceback, when TF's native runtime does not load):
    the last ``...Error: ...`` line of the message names it."""
    if "tensorflow" in sys.modules:
        return ""
    try:
        spec = importlib.util.find_spec("tensorflow")
    except (ImportError, ValueError) as err:
        spec, problem = None, err
    else:
        if spec is None:
            return "TensorFlow is not installed; install it: " + INSTALL
        problem = None
    if spec is not None and spec.origin in (None, "namespace"):
        # a directory left by an uninstall imports as a namespace package
        problem = ImportError("%s is not a TensorFlow install" % ", ".join(
            spec.submodule_search_locations or ["the 'tensorflow' found"]))
    elif spec is not None:
        try:
            importlib.import_module("tensorflow")
            return ""
        except Exception as err:  # noqa: BLE001 - a broken install raises anything
            problem = err
    lines = [line.strip() for line in str(problem).splitlines() if line.strip()]
    named = [line for line in lines if re.match(r"\w+(Error|Exception): ", line)]
    why = named[-1] if named else "%s: %s" % (
        type(problem).__name__, lines[0] if lines else "(no message)")
    return "TensorFlow cannot be imported (%s); reinstall it: %s" % (why[:300], INSTALL)


def _needs_tensorflow(command):
    """Print why TensorFlow cannot be imported and return 2, or None."""
    problem = tensorflow_problem()
    if not problem:
        return None
    print("compat-reg %s: error: %s" % (command, problem), file=sys.stderr)
    return 2


def _doctor(args):
    from compat_reg import _compat, regularizers  # deferred: TF, after main checks it
    for key, value in _compat.describe():
        print("%-20s %s" % (key, value))
    print()
    if _compat.TF1:
        print("mapping: compat_reg.* compute what tf.contrib.layers.* compute, op "
              "for op (contrib is real here)")
        return 0
    print("mapping (contrib convention -> %s):" % _compat.KERAS_FLAVOUR)
    examples = [("l1_regularizer(0.01)", regularizers.l1_regularizer(0.01)),
                ("l2_regularizer(0.01)", regularizers.l2_regularizer(0.01)),
                ("l1_l2_regularizer(0.01, 0.02)",
                 regularizers.l1_l2_regularizer(0.01, 0.02)),
                ("l2_regularizer(0.0)", regularizers.l2_regularizer(0.0))]
    for call, reg in examples:
        print("  %-30s -> %s" % (call, _shown(reg)))
    return 0


def _shown(reg):
    """``keras.L2(l2=0.005)``: the class Keras saves it as, and its factors."""
    if getattr(reg, "disabled", False):
        return "disabled (returns None, as contrib's lambda _: None)"
    cls = reg.__class__  # Keras' own class for the drop-ins
    return "%s.%s(%s)" % (
        cls.__module__.split(".")[0], cls.__name__,
        ", ".join("%s=%.7g" % kv for kv in sorted(reg.get_config().items())))


def _check(args):
    import tensorflow as tf  # deferred: TF, after main checks it
    from compat_reg import _compat, golden_files, regularizers  # deferred: TF, after main checks it
    from compat_reg.parity import finite  # deferred: numpy, not for --help
    cases = golden_files.penalty_cases()  # validated before any row prints
    failed = 0
    print("%-18s %-8s %16s %16s %10s  %s" % (
        "case", "dtype", "TF 1.15", "here", "rel diff", "ok"))
    for case, array in cases:
        reg = regularizers.from_spec(case["regularizer"])
        want = case["total_regularization_loss"]
        penalty = None if reg is None else reg(tf.constant(array))
        got = 0.0 if penalty is None else float(_compat.evaluate(penalty))
        rel = abs(got - want) / abs(want) if want else abs(got)
        # NaN/inf never passes (compat_reg.parity.finite, as parity's rows)
        nonfinite = finite.first(array, "index")
        ok = nonfinite is None and rel <= golden_files.PENALTY_TOLERANCE[
            case["dtype"]]
        failed += not ok
        print("%-18s %-8s %16.9g %16.9g %10.2e  %s" % (
            case["id"], case["dtype"], want, got, rel, "ok" if ok else "FAIL"))
        if nonfinite:
            print("  its input %s holds %s" % (case["init"], nonfinite))
    print("%d passed, %d failed" % (len(cases) - failed, failed))
    return 1 if failed else 0


def silence_native_stderr():
    """Hide what TensorFlow's C++ side writes to file descriptor 2.

    TF's C++ and absl loggers write start-up lines (CUDA probes, oneDNN
    notes) straight to fd 2, where ``TF_CPP_MIN_LOG_LEVEL`` no longer reaches
    all of them (TF >= 2.16). Python's ``sys.stderr`` is moved to a copy of
    the real stderr first, so errors, warnings and tracebacks still show;
    only native writes go to ``os.devnull``. Used by the console command
    only, never when ``main`` is called from Python.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
        devnull = os.open(os.devnull, os.O_WRONLY)
    except (OSError, ValueError, AttributeError):
        return False
    sys.stderr = os.fdopen(saved, "w", 1)
    os.dup2(devnull, 2)
    os.close(devnull)
    return True


def main(argv=None):
    """``compat-reg ARGS``; returns the exit status (0 ok, 1 differences,
    2 errors or usage). Called with no ``argv`` (the console command) it also
    hides TensorFlow's native log lines unless ``--verbose`` is given or the
    user set ``TF_CPP_MIN_LOG_LEVEL``."""
    console = argv is None
    argv = sys.argv[1:] if argv is None else list(argv)
    verbose = "--verbose" in argv[:1] or "-v" in argv[:1]
    if verbose:
        argv = argv[1:]
    if not verbose and "TF_CPP_MIN_LOG_LEVEL" not in os.environ:
        # TensorFlow's C++ start-up chatter would bury the tables.
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
        if console:
            silence_native_stderr()
    if not verbose and console:
        # and so would its Python warnings ("Callback method ... is slow",
        # "Please add keras.layers.InputLayer"): errors still show
        logging.getLogger("tensorflow").setLevel(logging.ERROR)
    if argv and argv[0] == "parity":
        # every parity command trains or reads TF; its --help needs none
        if not {"-h", "--help"} & set(argv[1:]):
            missing = _needs_tensorflow(" ".join(["parity"] + [
                a for a in argv[1:2] if not a.startswith("-")]))
            if missing:
                return missing
        return parity_main(argv[1:])
    if argv and argv[0] == "migrate":
        from compat_reg.migrate.cli import main as migrate_main  # deferred: Python>=3.9
        return migrate_main(argv[1:])
    parser = argparse.ArgumentParser(
        prog="compat-reg", description=DESCRIPTION, epilog=EPILOG,
        usage="compat-reg [-h] [--version] [--verbose] COMMAND ...",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version",
                        version=__import__("compat_reg").__version__)
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="show TensorFlow's own log lines (first argument)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND",
                                title="commands")
    sub.add_parser("doctor", help="what TensorFlow/Keras this is and how "
                                  "contrib maps onto it")
    sub.add_parser("check", help="every golden TF 1.15 penalty, recomputed "
                                 "here (exit 1 on a mismatch)")
    sub.add_parser("parity", help="train the TF1 way and the TF2 way and "
                                  "prove they agree (compat-reg parity --help)")
    sub.add_parser("migrate", help="rewrite TF1 regularization code "
                                   "(compat-reg migrate --help)")
    try:
        args = parser.parse_args(argv)
    except SystemExit as done:  # --help, --version (0) or usage (2)
        return done.code
    if args.command is None:
        parser.print_usage(sys.stderr)
        print("compat-reg: error: a COMMAND is required (compat-reg --help "
              "lists them)", file=sys.stderr)
        return 2
    missing = _needs_tensorflow(args.command)
    if missing:
        return missing
    try:
        return {"doctor": _doctor, "check": _check}[args.command](args)
    except (ValueError, IOError, OSError) as err:
        print("compat-reg %s: error: %s" % (args.command, err), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
