"""The command line without a TensorFlow it can import (issue 30).

Every command that needs TensorFlow says so in one line on stderr, names
the install command, and exits 2 (no traceback); `--help`, `--version` and
`migrate` need none. Run in subprocesses, as a user runs `compat-reg`:

* ``python -S``: no site-packages at all, so no TensorFlow (and no numpy):
  the standard library and this checkout only;
* a fake `tensorflow` first on PYTHONPATH, broken as installs break: its
  `__init__` raises a RuntimeError; raises ImportError with a whole
  traceback in its message (TF's "Failed to load the native TensorFlow
  runtime"); imports a dependency that is missing; a directory without
  `__init__.py` (what an interrupted uninstall leaves: a namespace package;
  with ``-S``, as a real package elsewhere on the path would win).
"""
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]

BROKEN = {  # name -> the fake tensorflow/__init__.py (None: no such file)
    "raises": "raise RuntimeError('boom in a broken install')\n",
    "native": "raise ImportError('''Traceback (most recent call last):\n"
              "  File \"pywrap_tensorflow.py\", line 64, in <module>\n"
              "ImportError: libtensorflow_framework.so.2: cannot open shared object file\n\n"
              "Failed to load the native TensorFlow runtime.\n"
              "See https://www.tensorflow.org/install/errors''')\n",
    "dependency": "import compat_reg_no_such_dependency_of_tf\n",
    "leftover": None,
}
WHY = {  # what the line must say is wrong
    "no-site": "TensorFlow is not installed",
    "raises": "RuntimeError: boom in a broken install",
    "native": "ImportError: libtensorflow_framework.so.2: cannot open shared object file",
    "dependency": "No module named 'compat_reg_no_such_dependency_of_tf'",
    "leftover": "is not a TensorFlow install",
}
NEEDS_TF = {  # the command's arguments -> the name its error line starts with
    "doctor": "doctor", "check": "check", "-v doctor": "doctor",
    "parity run --all": "parity run",
    "parity record --all --out-dir out": "parity record",
    "parity compare traces": "parity compare", "parity replay sgd_l2": "parity replay"}
NO_TF = (["--help"], ["--version"], ["doctor", "--help"], ["parity", "--help"],
         ["parity", "run", "--help"], ["migrate", "--help"])


@pytest.fixture(params=sorted(WHY))
def no_tf(request, tmp_path):
    """(how, the command before its arguments, env): a Python whose
    `import tensorflow` fails that way."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    if request.param == "no-site":
        return request.param, [sys.executable, "-S", "-m", "compat_reg"], env
    fake = tmp_path / "fake"
    (fake / "tensorflow").mkdir(parents=True)
    if BROKEN[request.param] is not None:
        (fake / "tensorflow" / "__init__.py").write_text(BROKEN[request.param])
    env["PYTHONPATH"] = os.pathsep.join((str(fake), str(ROOT)))
    site = ["-S"] if BROKEN[request.param] is None else []
    return request.param, [sys.executable] + site + ["-m", "compat_reg"], env


def _run(command, env, cwd):
    return subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, env=env, cwd=str(cwd), timeout=300)


@pytest.mark.parametrize("args", sorted(NEEDS_TF))
def test_commands_that_need_tensorflow_say_so_in_one_line(no_tf, args, tmp_path):
    how, command, env = no_tf
    done = _run(command + args.split(), env, tmp_path)
    lines = done.stderr.splitlines()
    assert done.returncode == 2, done.stderr
    assert len(lines) == 1, done.stderr
    line = lines[0]
    assert line.startswith("compat-reg %s: error: " % NEEDS_TF[args]), line
    assert WHY[how] in line, line
    assert "pip install tensorflow" in line and "pip install 'compat_reg[tf]'" in line
    assert done.stdout == ""
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("args", NO_TF, ids=" ".join)
def test_help_and_version_need_no_tensorflow(no_tf, args, tmp_path):
    _, command, env = no_tf
    done = _run(command + args, env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert "usage:" in done.stdout or done.stdout.strip() == __import__(
        "compat_reg").__version__


@pytest.mark.skipif(sys.version_info < (3, 9), reason="migrate needs Python >= 3.9")
def test_migrate_needs_no_tensorflow(no_tf, tmp_path):
    _, command, env = no_tf
    (tmp_path / "model.py").write_text(
        "import tensorflow as tf\nr = tf.contrib.layers.l2_regularizer(0.1)\n"
        "loss = tf.losses.get_regularization_loss()\n")
    done = _run(command + ["migrate", "model.py"], env, tmp_path)
    assert done.returncode == 1, done.stderr  # changes found, dry run
    assert "+r = compat_reg.l2_regularizer(0.1)" in done.stdout
    assert "Traceback" not in done.stderr and "TensorFlow" not in done.stderr
    done = _run(command + ["migrate", "--write", "model.py"], env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "import compat_reg\n" in (tmp_path / "model.py").read_text()
