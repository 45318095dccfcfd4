"""The tox matrix in one table: one row per env that ran its tests.

Reads the records that each env's pytest run wrote (``COMPAT_REG_RUN_RECORD``,
see conftest.py) and prints env, TF, Keras, Python, passed/failed/skipped and
minutes. An env of the matrix with no record did not run its tests: the
table says so, and why when it can tell (no Python 3.7 for tf1 to tf211).
Exit status 1 when any env that ran failed; a tf1 that did not run is
reported in a banner (tox already failed the run if it errored).
"""

import glob
import json
import os
import shutil
import sys

PY37_ENVS = ["tf1"] + ["tf2%d" % i for i in range(10)] + ["tf210", "tf211"]
HOW_TO_GET_37 = (
    "no python3.7 on PATH. TF 1.15 to 2.11 need Python 3.7: "
    "`pyenv install 3.7.16` (or your OS's python3.7), then put its bin/ on "
    "PATH, e.g. PATH=\"$(echo $(pyenv root)/versions/3.7.*/bin):$PATH\"")


def main(folder):
    records = {}
    for path in sorted(glob.glob(os.path.join(folder, "*.json"))):
        with open(path) as f:
            record = json.load(f)
        records[record["env"]] = record
    header = "%-14s %-10s %-18s %-8s %7s %7s %8s %8s" % (
        "env", "TF", "tf.keras", "Python", "passed", "failed", "skipped", "minutes")
    print(header)
    print("-" * len(header))
    bad = []
    for env in sorted(records, key=_order):
        r = records[env]
        failed = r.get("failed", 0) + r.get("error", 0)
        print("%-14s %-10s %-18s %-8s %7d %7d %8d %8.1f%s" % (
            env, r.get("tensorflow", "?"), r.get("tf.keras flavour", "?"), r["python"],
            r.get("passed", 0), failed, r.get("skipped", 0), r["seconds"] / 60.0,
            "  FAILED" if failed or r.get("exitstatus") else ""))
        if failed or r.get("exitstatus"):
            bad.append(env)
    missing_37 = shutil.which("python3.7") is None
    for env in [e for e in PY37_ENVS if e not in records]:
        if env == "tf1" or missing_37:
            print("%-14s skipped: %s" % (env, HOW_TO_GET_37 if missing_37 else
                                         "no record: its tests did not run"))
    if "tf1" not in records:
        print("\n" + "*" * 78)
        print("*** tf1 (real TF 1.15) did not run: the TF1 half of the proof is "
              "missing. ***")
        print("*" * 78)
    print("\n%d envs ran their tests, %d failed%s" % (
        len(records), len(bad), (": " + ", ".join(bad)) if bad else ""))
    return 1 if bad else 0


def _order(env):
    """tf1, tf20, tf21, ..., tf29, tf210, ..., tf221, tf221-legacy."""
    name, _, flavour = env.partition("-")
    digits = name[2:]
    minor = int(digits[1:]) if len(digits) > 1 else -1
    return (int(digits[:1] or 0), minor, flavour)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
