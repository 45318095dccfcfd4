import pytest

from ._util import codes, migrated

TF = "import tensorflow as tf\n"
OUT = TF + "import compat_reg\n\n"


@pytest.mark.parametrize("target", ("compat_reg", "keras"))
@pytest.mark.parametrize(("src", "expected"), (
    pytest.param(
        TF + "l = tf.add_n(tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES))\n",
        OUT + "l = tf.add_n(compat_reg.get_regularization_losses())\n",
        id="get_collection"),
    pytest.param(
        TF + "l = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES, 'enc')\n",
        OUT + "l = compat_reg.get_regularization_losses(scope='enc')\n",
        id="get_collection with scope"),
    pytest.param(
        TF + "l = tf.compat.v1.get_collection("
        "tf.compat.v1.GraphKeys.REGULARIZATION_LOSSES, scope=s)\n",
        OUT + "l = compat_reg.get_regularization_losses(scope=s)\n",
        id="tf.compat.v1 spellings"),
    pytest.param(
        TF + "l = tf.get_collection('regularization_losses')\n",
        OUT + "l = compat_reg.get_regularization_losses()\n",
        id="string key"),
    pytest.param(
        TF + "loss = ce + tf.losses.get_regularization_loss()\n",
        OUT + "loss = ce + compat_reg.get_regularization_loss()\n",
        id="tf.losses.get_regularization_loss"),
    pytest.param(
        TF + "loss = tf.compat.v1.losses.get_regularization_loss('enc', 'r')\n",
        OUT + "loss = compat_reg.get_regularization_loss(scope='enc', name='r')\n",
        id="positional scope and name become keywords"),
    pytest.param(
        "import tensorflow.contrib.slim as slim\n"
        "l = slim.losses.get_regularization_losses()\n",
        "import compat_reg\n\nl = compat_reg.get_regularization_losses()\n",
        id="slim.losses"),
    pytest.param(
        TF + "class Net(tf.keras.Model):\n    def call(self, x):\n"
        "        self.add_loss(tf.losses.get_regularization_loss())\n",
        OUT + "class Net(tf.keras.Model):\n    def call(self, x):\n"
        "        self.add_loss(compat_reg.get_regularization_loss(source=self))\n",
        id="method of a Keras model: source=self"),
    pytest.param(
        TF + "def train():\n    model = tf.keras.Sequential()\n"
        "    return tf.losses.get_regularization_losses()\n",
        OUT + "def train():\n    model = tf.keras.Sequential()\n"
        "    return compat_reg.get_regularization_losses(source=model)\n",
        id="the one model in the function"),
))
def test_rewrite(src, expected, target):
    assert migrated(src, target) == expected


@pytest.mark.parametrize("src", (
    pytest.param(TF + "l = tf.get_collection(tf.GraphKeys.UPDATE_OPS)\n",
                 id="other collection"),
    pytest.param(TF + "l = graph.get_collection('regularization_losses')\n",
                 id="some graph's method"),
    pytest.param("from mylosses import get_regularization_loss\n"
                 "l = get_regularization_loss()\n", id="look-alike"),
))
def test_left_alone(src):
    assert migrated(src) == src


def test_says_what_to_pass_when_no_model_is_in_reach():
    src = TF + "def f():\n    m1 = tf.keras.Model()\n    m2 = tf.keras.Model()\n" \
        "    return tf.losses.get_regularization_loss()\n"
    assert "source=" not in migrated(src).splitlines()[-1]
    assert codes(src, kind="note") == [(5, "pass-source")]
