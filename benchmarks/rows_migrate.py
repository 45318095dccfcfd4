"""The migrate rows: ``compat-reg migrate --write`` (A) against
``tf_upgrade_v2 --intree`` (B) on two generated trees of realistic TF1 code
(``trees.py``), and the 5 MB one-regularizer module alone (time, peak RSS).
A dry run of the big file is measured too (it prints the diff)."""
import os
import pathlib
import random
import shutil
import sys

from benchmarks import Row, row, trees

PY = sys.executable
UPGRADE = shutil.which("tf_upgrade_v2") or os.path.join(os.path.dirname(PY), "tf_upgrade_v2")


def _versus(make_tree, note):
    def make(scratch):
        scratch = pathlib.Path(scratch)
        tree = scratch / "tree"
        lines = make_tree(tree)
        work, out = scratch / "work", scratch / "upgraded"

        def reset(which):
            for path in (work, out):
                shutil.rmtree(str(path), ignore_errors=True)
            if which == "a":
                shutil.copytree(str(tree), str(work))

        files = sum(1 for _ in tree.rglob("*.py"))
        b = [UPGRADE, "--intree", str(tree), "--outtree", str(out), "--reportfile",
             str(scratch / "report.txt")] if os.path.exists(UPGRADE) else None
        return Row([PY, "-m", "compat_reg.migrate", str(work), "--write"], b, reset,
                   "%s: %d files, %d lines" % (note, files, lines))
    return make


row("migrate vs tf_upgrade_v2: every file regularized")(
    _versus(trees.every_file_tree, "every file has regularizers, up to 5k lines"))
row("migrate vs tf_upgrade_v2: mixed tree")(
    _versus(lambda root: trees.mixed_tree(root, files=300), "a third regularized"))


def _big(regularizers):
    def make(scratch):
        scratch = pathlib.Path(scratch)
        text = trees.big_file(random.Random(0), 5.0, regularizers)
        path = scratch / "big.py"

        def reset(which):
            path.write_text(text)

        return Row([PY, "-m", "compat_reg.migrate", str(path), "--write"], None, reset,
                   "%.1f MB, %d lines, %d regularizers" % (
                       len(text) / 1e6, text.count("\n"), text.count("_regularizer(")))
    return make


row("migrate --write: 5 MB module, one regularizer")(_big(1))
row("migrate --write: 5 MB module, regularizers throughout")(_big(None))


@row("migrate dry run: 5 MB vs 10 MB module (linear: 0.5x)")
def linear(scratch):
    scratch = pathlib.Path(scratch)
    for mb in (5, 10):
        (scratch / ("m%d.py" % mb)).write_text(trees.big_file(random.Random(0), mb))
    return Row([PY, "-m", "compat_reg.migrate", str(scratch / "m10.py")],
               [PY, "-m", "compat_reg.migrate", str(scratch / "m5.py")], None,
               "the same module at twice the size: B/A is 0.5 when time is linear")
