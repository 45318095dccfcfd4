import pytest

from ._util import codes, migrated

TF = "import tensorflow as tf\n"
L2 = "r = tf.contrib.layers.l2_regularizer(0.1)\n"


@pytest.mark.parametrize(("src", "expected"), (
    pytest.param(TF + L2, [(2, "penalty-never-added")], id="never added"),
    pytest.param(TF + L2 + "loss = ce + tf.losses.get_regularization_loss()\n",
                 [], id="added by hand"),
    pytest.param(TF + L2 + "loss = tf.losses.get_total_loss()\n", [],
                 id="get_total_loss includes it"),
    pytest.param(TF + L2 + "model.compile('sgd')\nmodel.fit(x, y)\n", [],
                 id="fit adds it"),
    pytest.param(TF + L2 + "loss = ce + sum(model.losses)\nmodel.fit(x, y)\n",
                 [(3, "fit-double-count")], id="fit next to sum(model.losses)"),
    pytest.param(TF + L2 + "model.add_loss(tf.losses.get_regularization_loss())\n"
                 "model.fit(x, y)\n", [(3, "fit-double-count")],
                 id="fit next to a collection read"),
    pytest.param(TF + "r = tf.contrib.layers.l1_regularizer(2)\n"
                 "loss = tf.losses.get_regularization_loss()\n",
                 [(2, "integer-scale")], id="integer scale"),
    pytest.param(TF + "r = tf.contrib.layers.l1_l2_regularizer(0.1, scale_l2=-1)\n"
                 "loss = tf.losses.get_regularization_loss()\n",
                 [(2, "integer-scale")], id="integer scale_l2"),
    pytest.param(TF + "loss = tf.losses.get_regularization_loss()\n", [],
                 id="nothing created"),
))
def test_hazards(src, expected):
    assert codes(src) == expected
    assert codes(src, "keras") == expected


def test_integer_scale_is_left_alone_on_both_targets():
    src = TF + "r = tf.contrib.layers.l2_regularizer(1)\nl = r.losses\n"
    assert migrated(src) == migrated(src, "keras") == src


@pytest.mark.parametrize("target", ("compat_reg", "keras"))
def test_hazards_survive_the_rewrite(target):
    src = TF + L2
    assert codes(migrated(src, target)) == [(4, "penalty-never-added")]
