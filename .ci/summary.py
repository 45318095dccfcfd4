"""The tox matrix in one table: one row per env that ran its tests.

Reads the records that each env's pytest run wrote (``COMPAT_REG_RUN_RECORD``,
see conftest.py) and prints env, TF, Keras, Python, passed/failed/skipped and
minutes. An env of the matrix with no record did not run its tests: the
table says so, and why when it can tell (no Python 3.6 for tf14 to tf112,
no Python 3.7 for tf113 to tf211).
Exit status 1 when any env that ran failed; a tf1 that did not run is
reported in a banner (tox already failed the run if it errored).
"""

import glob
import json
import os
import shutil
import sys

TF1_MINORS = list(range(4, 15))  # tf14 ... tf114; tf1 is TF 1.15
# the envs of each old Python (tox.ini's basepython), and how to get it
NEEDS = [
    ("3.6", ["tf1%d" % i for i in TF1_MINORS if i <= 12], "TF 1.4 to 1.12"),
    ("3.7", ["tf1%d" % i for i in TF1_MINORS if i > 12] + ["tf1"] +
     ["tf2%d" % i for i in range(10)] + ["tf210", "tf211"], "TF 1.13 to 2.11"),
]
HOW_TO_GET = (
    "no python{v} on PATH. {tfs} need Python {v}: "
    "`pyenv install {v}` (or your OS's python{v}), then put its bin/ on "
    "PATH, e.g. PATH=\"$(echo $(pyenv root)/versions/{v}.*/bin):$PATH\"")


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
    for version, envs, tfs in NEEDS:
        missing = shutil.which("python" + version) is None
        for env in [e for e in envs if e not in records]:
            if env == "tf1" or missing:
                print("%-14s skipped: %s" % (env, HOW_TO_GET.format(
                    v=version, tfs=tfs) if missing else
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
    """tf14, ..., tf19, tf110, ..., tf114, tf1 (TF 1.15), tf20, ..., tf29,
    tf210, ..., tf221, tf221-legacy, then the envs not named by their TF
    (keras3-jax, keras3-torch: TF 2.21) by name."""
    name, _, flavour = env.partition("-")
    digits = name[2:]
    if not (name.startswith("tf") and digits.isdigit()):
        return (10, 0, env)
    minor = int(digits[1:]) if len(digits) > 1 else 15
    return (int(digits[:1]), minor, flavour)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
