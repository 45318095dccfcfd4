"""Issue 12: the raw TF1 seed program through both routes to TF2, run for
real in a subprocess. TF 1.15 printed 39.2: a 784x10 all-ones kernel with
contrib's l2 of scale 0.01 is 0.01 * 7840 / 2 = 39.2.

* route 1: ``tf_upgrade_v2``, then ``compat-reg migrate``, then the fixes
  its notes name (``disable_v2_behavior``, ``tf.compat.v1.layers``);
* route 2: TF's own first step (``import tensorflow.compat.v1 as tf;
  tf.disable_v2_behavior()``), then ``compat-reg migrate``.

Where ``tf.layers`` cannot run (Keras 3 without tf_keras), migrate's report
must name that blocker and its fix instead; with tf_keras installed the
program is also run under ``TF_USE_LEGACY_KERAS=1``.
"""
import importlib.util
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

from compat_reg.migrate.cli import main

from .test_journey import SEED

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXPECTED = 0.01 * 784 * 10 / 2   # = 39.2, contrib's l2 of an all-ones kernel


def _flavour():
    pytest.importorskip("tensorflow")
    from compat_reg import _compat
    return _compat.KERAS_FLAVOUR


def _run(path, legacy=None):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=os.pathsep.join(
        [str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    if legacy is not None:
        env["TF_USE_LEGACY_KERAS"] = legacy
    proc = subprocess.run([sys.executable, str(path)], env=env, capture_output=True,
                          text=True, timeout=300, cwd=str(path.parent))
    return proc


def _route1(tmp_path):
    exe = shutil.which("tf_upgrade_v2") or os.path.join(
        os.path.dirname(sys.executable), "tf_upgrade_v2")
    if not os.path.exists(exe):
        pytest.skip("tf_upgrade_v2 is not installed (it comes with TensorFlow)")
    (tmp_path / "seed_tf1.py").write_text(SEED)
    path = tmp_path / "seed.py"
    subprocess.run([exe, "--infile", str(tmp_path / "seed_tf1.py"), "--outfile",
                    str(path)], check=True, capture_output=True, timeout=300,
                   env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"),
                   cwd=str(tmp_path))  # its report.txt goes there
    return path


def _route2(tmp_path):
    path = tmp_path / "seed.py"
    path.write_text(SEED.replace("import tensorflow as tf\n",
                                 "import tensorflow.compat.v1 as tf\ntf.disable_v2_behavior()\n"))
    return path


def _advised_fixes(path, err):
    """What route 1's notes say to do, done as a reader would."""
    text = path.read_text()
    if "note[graph-mode]" in err:
        text = text.replace("import compat_reg\n", "import compat_reg\n\n"
                            "tf.compat.v1.disable_v2_behavior()\n", 1)
    if "note[tf-layers]" in err:
        text = text.replace("tf.layers.", "tf.compat.v1.layers.")
    path.write_text(text)


@pytest.mark.parametrize("route", ("route1", "route2"))
def test_seed_prints_39_2(tmp_path, capsys, route):
    flavour = _flavour()
    path = {"route1": _route1, "route2": _route2}[route](tmp_path)
    assert main([str(path), "--write"]) == 0
    err = capsys.readouterr().err
    text = path.read_text()
    assert "contrib" not in text and "l=" not in text
    if route == "route1":
        _advised_fixes(path, err)
    if flavour == "keras3":
        # the blocker, and its fix, are named
        assert "note[tf-layers]" in err
        assert "TF_USE_LEGACY_KERAS=1" in err and "tf_keras" in err
        proc = _run(path)
        assert proc.returncode != 0 and "Keras 3" in proc.stderr, proc.stderr[-2000:]
        if importlib.util.find_spec("tf_keras") is None:
            pytest.skip("Keras 3 without tf_keras: tf.layers cannot run (the report "
                        "names the blocker); the legacy run needs tf_keras")
        proc = _run(path, legacy="1")
    else:
        proc = _run(path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert float(proc.stdout.split()[-1]) == pytest.approx(EXPECTED, rel=1e-6)
    assert main([str(path)]) == 0  # nothing more to change


PORTED = '''\
import numpy as np
import tensorflow.compat.v1 as tf
tf.disable_v2_behavior()
x = tf.placeholder(tf.float32, shape=[None, 784])
kernel = tf.get_variable("kernel", [784, 10], initializer=tf.ones_initializer(),
                         regularizer=tf.contrib.layers.l2_regularizer(scale=0.01))
y = tf.matmul(x, kernel)
reg = tf.losses.get_regularization_loss()
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    print(sess.run(reg, {x: np.zeros((1, 784), np.float32)}))
'''


def test_route2_without_tf_layers_runs_on_every_keras(tmp_path):
    """The guide's way on Keras 3 without tf_keras: route 2 with the dense
    layer as get_variable + matmul (no tf.layers). compat_reg's regularizer
    then sees TF1 reference variables (float32_ref) under
    disable_v2_behavior."""
    _flavour()
    path = tmp_path / "seed.py"
    path.write_text(PORTED)
    assert main([str(path), "--write"]) == 0
    proc = _run(path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert float(proc.stdout.split()[-1]) == pytest.approx(EXPECTED, rel=1e-6)
