"""compat_reg.install() and compat_reg.contrib."""

import ast
import importlib
import os
import subprocess
import sys
import threading

import numpy as np
import pytest
import tensorflow as tf

import compat_reg
from compat_reg import _compat, contrib, convention

needs_tf2 = pytest.mark.skipif(_compat.HAS_CONTRIB,
                               reason="TF2 has no tf.contrib for install() to provide")


def _seed_case():
    """The golden seed experiment: l2_regularizer(0.01) on a 784x10 ones kernel."""
    from compat_reg import golden_files
    return next(case for case, _ in golden_files.penalty_cases()
                if case["id"] == "seed_dense_ones")


def test_contrib_module_mirrors_names():
    for name in convention.NAMES:
        assert getattr(contrib, name) is getattr(compat_reg, name)


@pytest.mark.skipif(not _compat.HAS_CONTRIB, reason="tf.contrib is real on TF 1.x only")
def test_install_leaves_real_contrib_alone():
    layers = tf.contrib.layers
    assert compat_reg.install() is False
    assert tf.contrib.layers is layers and not contrib.installed()


@needs_tf2
def test_install_is_idempotent_and_thread_safe():
    results = []
    threads = [threading.Thread(target=lambda: results.append(compat_reg.install()))
               for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(True) <= 1 and contrib.installed()
    assert compat_reg.install() is False
    root = tf.contrib
    compat_reg.install()
    assert tf.contrib is root


@needs_tf2
def test_unmodified_tf1_code_runs():
    compat_reg.install()
    w = np.ones((784, 10), np.float32)
    seed = _seed_case()["total_regularization_loss"]
    assert float(tf.contrib.layers.l2_regularizer(scale=0.01)(w)) == pytest.approx(seed, rel=1e-6)
    # l1: 0.5 * sum(|1|) over 784 * 10 weights
    assert float(tf.compat.v1.contrib.slim.l1_regularizer(0.5)(w)) == pytest.approx(
        0.5 * 784 * 10)
    layers = importlib.import_module("tensorflow.contrib.layers")
    assert layers.l1_l2_regularizer is compat_reg.l1_l2_regularizer
    exec("from tensorflow.contrib.layers import l2_regularizer as r", {})
    slim = importlib.import_module("tensorflow.contrib.slim")
    assert slim.l2_regularizer is compat_reg.l2_regularizer
    assert "tensorflow.contrib" in sys.modules


# TF1 code as it was, compat_reg.install() before TensorFlow is imported
_SEED_PROGRAM = """
import compat_reg; compat_reg.install()
import numpy as np
import tensorflow.compat.v1 as tf
tf.disable_v2_behavior()
tf.get_variable("dense/kernel", shape=[784, 10], initializer=tf.ones_initializer(),
                regularizer=tf.contrib.layers.l2_regularizer(scale=0.01))
reg = tf.losses.get_regularization_loss()
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    print(repr(float(sess.run(reg))))
    print([t.name for t in tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)])
"""


@needs_tf2
def test_install_before_tensorflow_and_disable_v2_behavior():
    """Import order does not matter, and reference variables (float32_ref)
    get contrib's penalty and op name, Keras 3 included."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    out = subprocess.run([sys.executable, "-c", _SEED_PROGRAM], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         universal_newlines=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    value, names = out.stdout.strip().splitlines()[-2:]
    case = _seed_case()
    assert float(value) == pytest.approx(case["total_regularization_loss"], rel=1e-6)
    assert ast.literal_eval(names) == case["collection_names"]


@needs_tf2
@pytest.mark.parametrize("path,advice", [
    ("layers.fully_connected", "tf.keras.layers.Dense"),
    ("layers.unknown_thing", "tf.keras.layers"),
    ("slim.conv2d", "tf_slim"),
    ("rnn", "tf.keras.layers"),
    ("no_such_module", "TF2 API"),
])
def test_other_attributes_say_what_to_use(path, advice):
    compat_reg.install()
    obj = tf.contrib
    parts = path.split(".")
    for part in parts[:-1]:
        obj = getattr(obj, part)
    with pytest.raises(AttributeError) as info:
        getattr(obj, parts[-1])
    assert advice in str(info.value) and "l2_regularizer" in str(info.value)
