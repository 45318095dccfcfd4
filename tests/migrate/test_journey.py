"""Issue 12: raw TF1 programs, notebooks and tf_upgrade_v2's output (the
TF-free part; ``test_routes.py`` runs the programs)."""
import json
import os
import shutil
import subprocess
import sys

import pytest

from compat_reg.migrate.cli import main

from ._util import codes, migrated

SEED = '''\
import numpy as np
import tensorflow as tf
x = tf.placeholder(tf.float32, shape=[None, 784])
y = tf.layers.dense(inputs=x, units=10, kernel_initializer=tf.ones_initializer(),
                    kernel_regularizer=tf.contrib.layers.l2_regularizer(scale=0.01))
reg = tf.losses.get_regularization_loss()
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    print(sess.run(reg, {x: np.zeros((1, 784), np.float32)}))   # TF 1.15: 39.2
'''


def test_seed_notes_name_what_blocks_a_tf2_run():
    notes = dict((code, line) for line, code in codes(SEED, kind="note"))
    assert notes["graph-mode"] == 3       # tf.placeholder
    assert notes["tf-layers"] == 4        # tf.layers.dense
    assert codes(SEED) == []              # notes, not hazards


def test_notes_say_the_fix(tmp_path, capsys):
    path = tmp_path / "seed.py"
    path.write_text(SEED)
    assert main([str(path)]) == 1  # the change, not the notes
    err = capsys.readouterr().err
    assert "disable_v2_behavior()" in err
    assert "TF_USE_LEGACY_KERAS=1" in err and "tf_keras" in err


def test_disable_v2_behavior_anywhere_in_the_run_silences_graph_mode(tmp_path, capsys):
    (tmp_path / "model.py").write_text(SEED)
    (tmp_path / "main.py").write_text(
        "import tensorflow.compat.v1 as tf\ntf.disable_v2_behavior()\nimport model\n")
    main([str(tmp_path)])
    assert "graph-mode" not in capsys.readouterr().err


@pytest.mark.parametrize(("src", "code"), (
    ("import tensorflow as tf\nx = tf.contrib.layers.xavier_initializer()\n",
     "other-contrib"),
    ("import tensorflow as tf\nops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)\n",
     "update-ops"),
    ("import tensorflow as tf\nopt = tf.contrib.opt.AdamWOptimizer(1e-4, 1e-3)\n", "adamw"),
    ("import tensorflow as tf\nd = tf.keras.layers.Dense(3)\n"
     "l = tf.losses.get_regularization_loss()\n", "keras-layers-collection"),
))
def test_pitfall_notes(src, code):
    assert code in [c for _, c in codes(src, kind="note")]


@pytest.mark.parametrize(("slim", "noted"), (
    ("import tf_slim as slim", False),                  # TF2 has tf_slim
    ("from tensorflow.contrib import slim", True),
    ("import tensorflow as tf\nslim = tf.contrib.slim", True),
))
def test_slim_layers_are_other_contrib_only_when_reached_through_contrib(slim, noted):
    src = "%s\nnet = slim.conv2d(x, 3, [3, 3])\n" % slim
    assert ("other-contrib" in [c for _, c in codes(src, kind="note")]) == noted


@pytest.mark.parametrize("target", ("compat_reg", "keras"))
@pytest.mark.parametrize(("call", "fixed"), (
    ("tf.keras.regularizers.l2(l=0.5 * (0.01))", "tf.keras.regularizers.l2(l2=0.5 * (0.01))"),
    ("tf.keras.regularizers.l1(l=0.01)", "tf.keras.regularizers.l1(l1=0.01)"),
    ("tf.keras.regularizers.l2(0.01)", "tf.keras.regularizers.l2(0.01)"),
))
def test_tf_upgrade_v2_l_keyword_is_repaired_not_halved_again(call, fixed, target):
    src = "import tensorflow as tf\nr = %s\nl = m.losses\n" % call
    assert migrated(src, target) == src.replace(call, fixed)


@pytest.mark.parametrize(("target", "expected"), (
    ("compat_reg", "from compat_reg import l2_regularizer as l2\n"),
    ("keras", "from compat_reg import l2_regularizer as l2\n"),
))
def test_re_export_module_is_rewritten(target, expected):
    src = "from tensorflow.contrib.layers import l2_regularizer as l2\n"
    out = migrated(src, target)
    assert out == expected
    # what the module exports still takes contrib's scale: l2(0.01)'s penalty
    # is 0.01 * sum(w ** 2) / 2, which compat_reg.l2_regularizer computes
    assert "tensorflow.contrib" not in out


def test_penalty_never_added_is_decided_over_the_run(tmp_path, capsys):
    (tmp_path / "model.py").write_text(
        "import tensorflow as tf\nr = tf.contrib.layers.l2_regularizer(0.1)\n")
    assert main([str(tmp_path / "model.py")]) == 1
    err = capsys.readouterr().err
    assert "penalty-never-added" in err and "looked at the 1 files" in err
    (tmp_path / "train.py").write_text(
        "import tensorflow as tf\nloss = ce + tf.losses.get_regularization_loss()\n")
    main([str(tmp_path)])
    assert "penalty-never-added" not in capsys.readouterr().err


NOTEBOOK = {
    "cells": [
        {"cell_type": "markdown", "metadata": {},
         "source": ["# A notebook \u00fc\n", "tf.contrib.layers.l2_regularizer(0.1)"]},
        {"cell_type": "code", "execution_count": 3, "metadata": {"tags": ["x"]},
         "outputs": [{"name": "stdout", "output_type": "stream", "text": ["39.2\n"]}],
         "source": ["%matplotlib inline\n", "import tensorflow as tf\n", "!pip list"]},
        {"cell_type": "code", "execution_count": 4, "metadata": {}, "outputs": [],
         "source": ["files = !ls\n", "r = tf.contrib.layers.l2_regularizer(0.1)\n",
                    "loss = tf.losses.get_regularization_loss()"]},
    ],
    "metadata": {"kernelspec": {"name": "python3"}}, "nbformat": 4, "nbformat_minor": 5,
}


def test_notebook_code_cells_only(tmp_path, capsys):
    path = tmp_path / "nb.ipynb"
    raw = json.dumps(NOTEBOOK, indent=1, ensure_ascii=False) + "\n"
    path.write_text(raw, encoding="utf-8")
    assert main([str(tmp_path), "--write"]) == 0   # found by the directory walk
    assert "nb.ipynb:cell 3:line 3: note[pass-source]" in capsys.readouterr().err
    after = path.read_text(encoding="utf-8")
    expected = json.loads(raw)
    expected["cells"][1]["source"].insert(2, "import compat_reg\n")
    expected["cells"][2]["source"][1:] = [
        "r = compat_reg.l2_regularizer(0.1)\n", "loss = compat_reg.get_regularization_loss()"]
    assert after == json.dumps(expected, indent=1, ensure_ascii=False) + "\n"
    assert main([str(path)]) == 0  # a second run changes nothing


def test_notebook_with_an_unreproducible_layout_is_left_alone(tmp_path, capsys):
    path = tmp_path / "nb.ipynb"
    raw = json.dumps(NOTEBOOK, indent=3, sort_keys=True).replace(": ", ":   ") + "\n"
    path.write_text(raw)
    assert main([str(path), "--write"]) == 2
    assert path.read_text() == raw
    assert "layout" in capsys.readouterr().err


def _upgrade():
    exe = shutil.which("tf_upgrade_v2") or os.path.join(
        os.path.dirname(sys.executable), "tf_upgrade_v2")
    if not os.path.exists(exe):
        pytest.skip("tf_upgrade_v2 is not installed (it comes with TensorFlow)")
    return exe


@pytest.mark.parametrize("target", ("compat_reg", "keras"))
def test_composes_with_tf_upgrade_v2_in_either_order(tmp_path, target):
    exe = _upgrade()
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")

    def upgrade(path):
        out = path.with_suffix(".up.py")
        subprocess.run([exe, "--infile", str(path), "--outfile", str(out)], check=True,
                       capture_output=True, env=env, timeout=300,
                       cwd=str(tmp_path))  # its report.txt goes there
        return out.read_text()

    first = tmp_path / "first.py"
    first.write_text(SEED)
    upgraded = upgrade(first)
    assert "regularizers.l2(l=0.5 * (0.01))" in upgraded   # what tf_upgrade_v2 writes
    route1 = migrated(upgraded, target)   # migrated() checks a second run is a no-op
    assert "regularizers.l2(l2=0.5 * (0.01))" in route1   # halved once, by tf_upgrade_v2
    again = tmp_path / "again.py"
    again.write_text(route1)
    assert upgrade(again) == route1       # and tf_upgrade_v2 finds nothing more

    route2 = migrated(SEED, target)
    other = tmp_path / "other.py"
    other.write_text(route2)
    assert migrated(upgrade(other), target) == migrated(upgrade(other), target)
    assert "l=" not in migrated(upgrade(other), target)
