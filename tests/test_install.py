"""compat_reg.install() and compat_reg.contrib."""

import importlib
import sys
import threading

import numpy as np
import pytest
import tensorflow as tf

import compat_reg
from compat_reg import _compat, contrib

pytestmark = pytest.mark.skipif(_compat.HAS_CONTRIB, reason="contrib is real on TF1")


def test_contrib_module_mirrors_names():
    for name in ("l1_regularizer", "l2_regularizer", "l1_l2_regularizer",
                 "sum_regularizer", "apply_regularization"):
        assert getattr(contrib, name) is getattr(compat_reg, name)


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


def test_unmodified_tf1_code_runs():
    compat_reg.install()
    w = np.ones((784, 10), np.float32)
    assert float(tf.contrib.layers.l2_regularizer(scale=0.01)(w)) == pytest.approx(39.2, rel=1e-6)
    assert float(tf.compat.v1.contrib.slim.l1_regularizer(0.5)(w)) == pytest.approx(3920.0)
    layers = importlib.import_module("tensorflow.contrib.layers")
    assert layers.l1_l2_regularizer is compat_reg.l1_l2_regularizer
    exec("from tensorflow.contrib.layers import l2_regularizer as r", {})
    slim = importlib.import_module("tensorflow.contrib.slim")
    assert slim.l2_regularizer is compat_reg.l2_regularizer
    assert "tensorflow.contrib" in sys.modules


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
