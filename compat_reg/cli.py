"""The ``compat-reg`` command line: doctor, check, parity, migrate."""

from __future__ import absolute_import, division, print_function

import argparse
import os
import sys

DESCRIPTION = """\
compat-reg: move TF1 regularization code to TF2 without changing what models learn.

commands:
  doctor    what TensorFlow/Keras this is and how contrib maps onto it
  check     every golden TF 1.15 penalty, recomputed here (exit 1 on mismatch)
  parity    train the TF1 way and the TF2 way and prove they agree
            (compat-reg parity --help)
  migrate   rewrite TF1 regularization code (compat-reg migrate --help)
"""


def _doctor(args):
    from compat_reg import _compat, regularizers
    for key, value in _compat.describe():
        print("%-20s %s" % (key, value))
    print()
    if _compat.TF1:
        print("mapping: compat_reg.* are tf.contrib.layers.* (contrib is real here)")
        return 0
    print("mapping (contrib convention -> %s):" % _compat.KERAS_FLAVOUR)
    examples = [("l1_regularizer(0.01)", regularizers.l1_regularizer(0.01)),
                ("l2_regularizer(0.01)", regularizers.l2_regularizer(0.01)),
                ("l1_l2_regularizer(0.01, 0.02)",
                 regularizers.l1_l2_regularizer(0.01, 0.02)),
                ("l2_regularizer(0.0)", regularizers.l2_regularizer(0.0))]
    for call, reg in examples:
        shown = "None (disabled)" if reg is None else "%s.%s(%s)" % (
            type(reg).__module__.split(".")[0], type(reg).__name__,
            ", ".join("%s=%.7g" % kv for kv in sorted(reg.get_config().items())))
        print("  %-30s -> %s" % (call, shown))
    return 0


def _check(args):
    from compat_reg import golden_files, regularizers
    import tensorflow as tf
    failed = 0
    print("%-18s %-8s %16s %16s %10s  %s" % (
        "case", "dtype", "TF 1.15", "here", "rel diff", "ok"))
    for case, array in golden_files.penalty_cases():
        reg = regularizers.from_spec(case["regularizer"])
        want = case["total_regularization_loss"]
        got = 0.0 if reg is None else float(reg(tf.constant(array)))
        rel = abs(got - want) / abs(want) if want else abs(got)
        ok = rel <= golden_files.PENALTY_TOLERANCE[case["dtype"]]
        failed += not ok
        print("%-18s %-8s %16.9g %16.9g %10.2e  %s" % (
            case["id"], case["dtype"], want, got, rel, "ok" if ok else "FAIL"))
    print("%d passed, %d failed" % (len(golden_files.penalties()["cases"]) - failed,
                                    failed))
    return 1 if failed else 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    # TensorFlow's C++ start-up chatter (CUDA probes, oneDNN notes) would
    # bury the tables; a user's own setting wins.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if argv and argv[0] == "parity":
        from compat_reg.parity.cli import main as parity_main
        return parity_main(argv[1:])
    if argv and argv[0] == "migrate":
        from compat_reg.migrate.cli import main as migrate_main
        return migrate_main(argv[1:])
    parser = argparse.ArgumentParser(
        prog="compat-reg", description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version",
                        version=__import__("compat_reg").__version__)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("doctor", help="show versions and the mapping in use")
    sub.add_parser("check", help="recompute the golden TF 1.15 penalties")
    sub.add_parser("parity", help="training parity (see: compat-reg parity --help)")
    sub.add_parser("migrate", help="rewrite code (see: compat-reg migrate --help)")
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    return {"doctor": _doctor, "check": _check}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
