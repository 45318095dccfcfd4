import pytest

from ._util import codes, migrated

TF = "import tensorflow as tf\n"


@pytest.mark.parametrize(("target", "expected"), (
    ("compat_reg", TF + "import compat_reg\n\n"
     "p = compat_reg.apply_regularization(compat_reg.l2_regularizer(0.05), ws)\n"),
    ("keras", TF + "import compat_reg\nfrom tensorflow import keras\n\n"
     "p = compat_reg.apply_regularization(keras.regularizers.L2(0.025), ws)\n"),
))
def test_rewrite(target, expected):
    src = TF + "p = tf.contrib.layers.apply_regularization(" \
        "tf.contrib.layers.l2_regularizer(0.05), ws)\n"
    assert migrated(src, target) == expected


@pytest.mark.parametrize("call", (
    "apply_regularization(r)",
    "apply_regularization(r, None)",
    "apply_regularization(r, weights_list=tf.get_collection(tf.GraphKeys.WEIGHTS))",
    "apply_regularization(r, tf.compat.v1.get_collection('weights'))",
))
def test_weights_collection_is_a_hazard(call):
    src = TF + "r = None\np = tf.contrib.layers." + call + "\n"
    assert codes(src) == [(3, "weights-collection")]
    # still reported once rewritten: the hazard is in the code, not the spelling
    assert codes(migrated(src)) == [(5, "weights-collection")]


def test_weights_from_a_name_bound_to_the_collection():
    src = TF + "ws = tf.get_collection(tf.GraphKeys.WEIGHTS)\n" \
        "p = tf.contrib.layers.apply_regularization(r, ws)\n"
    assert codes(src) == [(3, "weights-collection")]


def test_explicit_weights_are_fine():
    src = TF + "p = tf.contrib.layers.apply_regularization(r, [w0, w1])\n"
    assert codes(src) == []
