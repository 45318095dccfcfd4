"""The seed experiment, run for real on TF 2 after ``migrate --write``."""
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

from compat_reg.migrate.cli import main

ROOT = pathlib.Path(__file__).resolve().parents[2]
SEED = '''\
"""Seed: 784x10 all-ones kernel, l2 scale 0.01; TF1 printed 39.2."""
import tensorflow as tf

tf.compat.v1.disable_eager_execution()

x = tf.compat.v1.placeholder(tf.float32, [None, 784])
with tf.compat.v1.variable_scope("dense"):
    kernel = tf.compat.v1.get_variable(
        "kernel", [784, 10],
        initializer=tf.compat.v1.ones_initializer(),
        regularizer=tf.contrib.layers.l2_regularizer(scale=0.01),
    )
logits = tf.matmul(x, kernel)
reg_loss = tf.compat.v1.losses.get_regularization_loss()
with tf.compat.v1.Session() as sess:
    sess.run(tf.compat.v1.global_variables_initializer())
    print(sess.run(reg_loss))
'''


def _start(path):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3",
               PYTHONPATH=os.pathsep.join(
                   [str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")]
                                  if p]))
    return subprocess.Popen([sys.executable, str(path)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=str(path.parent))


def test_seed_prints_39_2_after_migrate_and_tf_upgrade_v2_does_not(tmp_path):
    pytest.importorskip("tensorflow")
    runs = {}
    for target in ("compat_reg", "keras"):
        (tmp_path / target).mkdir()
        path = tmp_path / target / "seed.py"
        path.write_text(SEED)
        assert main([str(path), "--write", "--target", target]) == 0
        assert "contrib" not in path.read_text()
        runs[target] = _start(path)

    upgrade = shutil.which("tf_upgrade_v2") or os.path.join(
        os.path.dirname(sys.executable), "tf_upgrade_v2")
    anchor = None
    if os.path.exists(upgrade):
        (tmp_path / "upgraded").mkdir()
        source = tmp_path / "upgraded" / "orig.py"
        source.write_text(SEED)
        out = tmp_path / "upgraded" / "seed.py"
        subprocess.run([upgrade, "--infile", str(source), "--outfile",
                        str(out)], check=True, capture_output=True,
                       cwd=str(tmp_path / "upgraded"))
        assert "regularizers.l2(l=" in out.read_text()
        anchor = _start(out)

    for target, proc in runs.items():
        stdout, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 0, (target, stderr[-2000:])
        assert stdout.split()[-1] == "39.2", (target, stdout)
    if anchor is None:
        pytest.skip("tf_upgrade_v2 is not installed: anchor not recorded")
    stdout, stderr = anchor.communicate(timeout=120)
    from compat_reg import _compat
    if _compat.KERAS3:
        # the anchor: what teams get today from tf_upgrade_v2 on Keras 3
        assert anchor.returncode != 0
        assert "TypeError" in stderr and "'l'" in stderr, stderr[-2000:]
    else:
        # Keras 2 still accepts l=, and tf_upgrade_v2 halved the scale
        assert anchor.returncode == 0, stderr[-2000:]
        assert stdout.split()[-1] == "39.2", stdout
