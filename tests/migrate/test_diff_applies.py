"""The printed diff applies with ``patch -p0`` and ``git apply`` (issue 30:
a file without a final newline gave a diff without ``\\ No newline at end
of file``, which ``patch`` rejects as malformed).

Every file kind is crossed: ``\\n``, ``\\r\\n`` and ``\\r`` endings, with
and without a final newline, UTF-8 and latin-1 (a coding cookie and a
non-ASCII line inside the hunk), notebooks with and without a trailing
newline, at the top, in a directory and under a name with a space. The
diff of one ``compat-reg migrate`` run over them all is applied to a copy
of the tree by each tool; each copy must then equal what ``--write`` made,
and ``patch -R`` must give the tree back.
"""
import itertools
import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
TOOLS = {"patch": ["patch", "-p0", "--batch", "-i"],
         "git": ["git", "apply", "--whitespace=nowarn"]}
PROGRAM = ("import tensorflow as tf\n# caf\u00e9 is kept\n\n"
           "r = tf.contrib.layers.l2_regularizer(0.1)\n"
           "loss = tf.losses.get_regularization_loss()  # \u00e9t\u00e9")
ENDINGS = {"lf": "\n", "crlf": "\r\n", "cr": "\r"}


def _py(newline, final, encoding):
    text = PROGRAM + ("\n" if final else "")
    if encoding == "latin-1":
        text = "# -*- coding: latin-1 -*-\n" + text
    return text.replace("\n", newline).encode(encoding)


def _notebook(trailing, as_list):
    source = "import tensorflow as tf\nr = tf.contrib.layers.l2_regularizer(0.1)"
    cell = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
            "source": source.splitlines(True) if as_list else source}
    notebook = {"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    return (json.dumps(notebook, indent=1, ensure_ascii=False)
            + ("\n" if trailing else "")).encode("utf-8")


def _tree(root):
    files = {}
    for (name, newline), final, encoding in itertools.product(
            ENDINGS.items(), (True, False), ("utf-8", "latin-1")):
        files["%s_%s_%s.py" % (name, "final" if final else "open", encoding)] = \
            _py(newline, final, encoding)
    for trailing, as_list in itertools.product((True, False), (True, False)):
        files["nb_%s_%s.ipynb" % ("final" if trailing else "open",
                                  "lines" if as_list else "text")] = \
            _notebook(trailing, as_list)
    files["pkg/deep/model.py"] = _py("\n", False, "utf-8")
    files["with space/a b.py"] = _py("\r\n", False, "utf-8")
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return files


def _read(root):
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in root.rglob("*") if p.is_file()}


def _migrate(cwd, *args):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    return subprocess.run([sys.executable, "-m", "compat_reg.migrate", *args],
                          cwd=str(cwd), capture_output=True, timeout=300, env=env)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """(the original tree, the --write tree, the printed diff) for
    ``migrate .`` and for ``migrate FILE...`` (paths as given)."""
    base = tmp_path_factory.mktemp("diff")
    original = base / "original"
    original.mkdir()
    files = _tree(original)
    written = base / "written"
    shutil.copytree(str(original), str(written))
    assert _migrate(written, ".", "--write").returncode in (0, 1)
    diffs = {}
    for how, args in (("dot", ["."]), ("files", sorted(files))):
        done = _migrate(original, *args)
        assert done.returncode == 1 and b"Traceback" not in done.stderr, done.stderr
        diffs[how] = done.stdout
    return original, written, diffs


@pytest.mark.parametrize("how", ["dot", "files"])
@pytest.mark.parametrize("tool", sorted(TOOLS))
def test_the_printed_diff_applies(tmp_path, run, tool, how):
    if shutil.which(TOOLS[tool][0]) is None:
        pytest.skip("%s is not installed" % TOOLS[tool][0])
    original, written, diffs = run
    diff = tmp_path / "migrate.diff"
    diff.write_bytes(diffs[how])
    copy = tmp_path / "tree"
    shutil.copytree(str(original), str(copy))
    done = subprocess.run(TOOLS[tool] + [str(diff)], cwd=str(copy), capture_output=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    after = _read(copy)
    assert after == _read(written)
    assert after != _read(original)  # every file had something to change
    assert sum(name.endswith(".py") for name in after) == 14
    if tool == "patch":
        back = subprocess.run(TOOLS[tool][:3] + ["-R", "-i", str(diff)], cwd=str(copy),
                              capture_output=True, timeout=120)
        assert back.returncode == 0, back.stdout + back.stderr
        assert _read(copy) == _read(original)


def test_a_last_line_without_newline_is_marked(run):
    _, _, diffs = run
    marker = b"\n\\ No newline at end of file\n"
    # each changed open-ended file: its old and its new last line
    opens = sum(name.endswith(".py") and "open" in name for name in _read(run[0]))
    assert diffs["dot"].count(marker) >= 2 * opens
    for line in diffs["dot"].split(b"\n"):
        assert line[:1] in (b" ", b"-", b"+", b"@", b"\\", b""), line
