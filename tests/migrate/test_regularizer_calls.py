import pytest

from ._util import migrated

TF = "import tensorflow as tf\n"


@pytest.mark.parametrize(("src", "expected"), (
    pytest.param(
        TF + "r = tf.contrib.layers.l2_regularizer(scale=0.01)\n",
        TF + "import compat_reg\n\n"
        "r = compat_reg.l2_regularizer(scale=0.01)\n",
        id="tf.contrib.layers, keyword scale untouched"),
    pytest.param(
        TF + "r = tf.contrib.slim.l1_regularizer(0.1, scope='x')\n",
        TF + "import compat_reg\n\n"
        "r = compat_reg.l1_regularizer(0.1, scope='x')\n",
        id="tf.contrib.slim, scope kept"),
    pytest.param(
        TF + "slim = tf.contrib.slim\nr = slim.l1_l2_regularizer(  # c\n"
        "    0.01, 0.02)\n",
        TF + "import compat_reg\n\nr = compat_reg.l1_l2_regularizer(  # c\n"
        "    0.01, 0.02)\n",
        id="slim = tf.contrib.slim alias removed, comment kept"),
    pytest.param(
        "import tensorflow.contrib.slim as slim\n"
        "net = slim.conv2d(x, 3, weights_regularizer=slim.l2_regularizer(wd))\n",
        "import tensorflow.contrib.slim as slim\nimport compat_reg\n\n"
        "net = slim.conv2d(x, 3, weights_regularizer="
        "compat_reg.l2_regularizer(wd))\n",
        id="import ... as slim, still used"),
    pytest.param(
        "from tensorflow.contrib import slim\nr = slim.l2_regularizer(0.1)\n",
        "import compat_reg\n\nr = compat_reg.l2_regularizer(0.1)\n",
        id="from tensorflow.contrib import slim"),
    pytest.param(
        "import tf_slim as slim\nr = slim.l2_regularizer(0.1)\n",
        "import compat_reg\n\nr = compat_reg.l2_regularizer(0.1)\n",
        id="tf_slim"),
    pytest.param(
        "from tensorflow.contrib.layers import l2_regularizer as l2, "
        "xavier_initializer\nr = l2(0.1)\n",
        "from tensorflow.contrib.layers import xavier_initializer\n"
        "import compat_reg\n\nr = compat_reg.l2_regularizer(0.1)\n",
        id="from-import as, other name kept"),
    pytest.param(
        "from tensorflow.contrib import layers as contrib_layers\n"
        "r = contrib_layers.l1_regularizer(0.1)\n",
        "import compat_reg\n\nr = compat_reg.l1_regularizer(0.1)\n",
        id="from tensorflow.contrib import layers as"),
    pytest.param(
        "import tensorflow.contrib as tc\nr = tc.layers.l2_regularizer(0.1)\n",
        "import compat_reg\n\nr = compat_reg.l2_regularizer(0.1)\n",
        id="import tensorflow.contrib as tc"),
    pytest.param(
        TF + "tf_contrib = tf.contrib\nr = tf_contrib.layers.l2_regularizer(0.1)\n",
        TF + "import compat_reg\n\nr = compat_reg.l2_regularizer(0.1)\n",
        id="tf_contrib = tf.contrib"),
    pytest.param(
        "import tensorflow.compat.v1 as tf\n"
        "r = tf.contrib.layers.l2_regularizer(0.1)\n",
        "import tensorflow.compat.v1 as tf\nimport compat_reg\n\n"
        "r = compat_reg.l2_regularizer(0.1)\n",
        id="tensorflow.compat.v1"),
    pytest.param(
        "try:\n    import tensorflow.contrib.slim as slim\n"
        "except ImportError:\n    import tf_slim as slim\n"
        "r = slim.l2_regularizer(0.1)\n",
        "import compat_reg\n\nr = compat_reg.l2_regularizer(0.1)\n",
        id="try/except import both removed"),
    pytest.param(
        TF + "l2 = tf.contrib.layers.l2_regularizer\nr = l2(0.1)\n",
        TF + "import compat_reg\n\nr = compat_reg.l2_regularizer(0.1)\n",
        id="function alias"),
    pytest.param(
        TF + "f = functools.partial(tf.contrib.layers.l2_regularizer, 0.1)\n",
        TF + "import compat_reg\n\n"
        "f = functools.partial(compat_reg.l2_regularizer, 0.1)\n",
        id="uncalled reference"),
))
def test_compat_reg_target(src, expected):
    assert migrated(src) == expected


@pytest.mark.parametrize(("src", "expected"), (
    pytest.param(
        TF + "r = tf.contrib.layers.l2_regularizer(scale=0.01)\n",
        TF + "from tensorflow import keras\n\nr = keras.regularizers.L2(0.005)\n",
        id="literal halved exactly"),
    pytest.param(
        TF + "r = tf.contrib.layers.l2_regularizer(1e-4)\n",
        TF + "from tensorflow import keras\n\nr = keras.regularizers.L2(5e-05)\n",
        id="exponent literal"),
    pytest.param(
        TF + "r = tf.contrib.layers.l2_regularizer(FLAGS.wd)\n",
        TF + "from tensorflow import keras\n\nr = keras.regularizers.L2(0.5 * FLAGS.wd)\n",
        id="attribute"),
    pytest.param(
        TF + "r = tf.contrib.layers.l2_regularizer(a + b)\n",
        TF + "from tensorflow import keras\n\nr = keras.regularizers.L2(0.5 * (a + b))\n",
        id="expression parenthesized"),
    pytest.param(
        TF + "r = tf.contrib.layers.l1_regularizer(scale=0.1)\n",
        TF + "from tensorflow import keras\n\nr = keras.regularizers.L1(0.1)\n",
        id="l1 unchanged arithmetic"),
    pytest.param(
        TF + "r = tf.contrib.layers.l1_l2_regularizer(0.01, scale_l2=wd)\n",
        TF + "from tensorflow import keras\n\n"
        "r = keras.regularizers.L1L2(l1=0.01, l2=0.5 * wd)\n",
        id="l1_l2"),
    pytest.param(
        TF + "r = tf.contrib.layers.l1_l2_regularizer()\n",
        TF + "from tensorflow import keras\n\nr = keras.regularizers.L1L2(l1=1.0, l2=0.5)\n",
        id="l1_l2 defaults"),
    pytest.param(
        TF + "r = tf.contrib.layers.l1_l2_regularizer(0.0, 0.02)\n",
        TF + "from tensorflow import keras\n\nr = keras.regularizers.L2(0.01)\n",
        id="l1_l2 zero l1 drops out as in contrib"),
    pytest.param(
        TF + "r = tf.contrib.layers.l2_regularizer(0.0)\n",
        TF + "r = None\n",
        id="zero scale: no regularizer"),
    pytest.param(
        TF + "def f(x):\n    return tf.layers.dense(x, 3, "
        "kernel_regularizer=tf.contrib.layers.l2_regularizer(0.1, scope='d'))\n",
        TF + "from tensorflow import keras\n\ndef f(x):\n"
        "    # compat-reg: l2_regularizer(scope='d') named its TF1 penalty op; "
        "Keras regularizers have no scope, so that name is gone (the penalty "
        "is unchanged)\n"
        "    return tf.layers.dense(x, 3, "
        "kernel_regularizer=keras.regularizers.L2(0.05))\n",
        id="scope becomes a comment"),
    pytest.param(
        "from tensorflow import keras\nimport tensorflow.contrib.slim as slim\n"
        "r = slim.l2_regularizer(0.1)\n",
        "from tensorflow import keras\nr = keras.regularizers.L2(0.05)\n",
        id="tf.keras already imported as keras"),
    pytest.param(
        "import tensorflow.keras as keras\nimport tensorflow.contrib.slim as "
        "slim\nr = slim.l2_regularizer(0.1)\n",
        "import tensorflow.keras as keras\nr = keras.regularizers.L2(0.05)\n",
        id="import tensorflow.keras as keras"),
    pytest.param(
        "import tensorflow as tf\nfrom tensorflow.compat.v1 import keras\n"
        "r = tf.contrib.layers.l2_regularizer(0.1)\n",
        "import tensorflow as tf\nfrom tensorflow.compat.v1 import keras\n"
        "r = keras.regularizers.L2(0.05)\n",
        id="tf.compat.v1's keras is tf.keras"),
    pytest.param(
        "import keras\nimport tensorflow as tf\n"
        "r = tf.contrib.layers.l2_regularizer(0.1)\nm = keras.Sequential()\n",
        "import keras\nimport tensorflow as tf\n"
        "r = tf.keras.regularizers.L2(0.05)\nm = keras.Sequential()\n",
        id="standalone keras imported: through tf, no conflicting import"),
    pytest.param(
        "import keras\nimport tensorflow.compat.v1 as tf1\n"
        "r = tf1.contrib.layers.l2_regularizer(0.1)\n",
        "import keras\nimport tensorflow.compat.v1 as tf1\n"
        "r = tf1.keras.regularizers.L2(0.05)\n",
        id="standalone keras, tf under another name"),
    pytest.param(
        "import keras\nimport tensorflow.contrib.slim as slim\n"
        "r = slim.l2_regularizer(0.1)\n",
        "import keras\nfrom tensorflow import keras as tf_keras_api\n\n"
        "r = tf_keras_api.regularizers.L2(0.05)\n",
        id="standalone keras, no tf: tf.keras under its own name"),
    pytest.param(
        "import tf_keras as keras\nimport tensorflow.contrib.slim as slim\n"
        "tf_keras_api = 1\nr = slim.l2_regularizer(0.1)\n",
        "import tf_keras as keras\nfrom tensorflow import keras as "
        "tf_keras_api_2\n\ntf_keras_api = 1\n"
        "r = tf_keras_api_2.regularizers.L2(0.05)\n",
        id="tf_keras as keras, alias taken: a fresh one"),
    pytest.param(
        "import keras\nimport tensorflow.contrib.slim as slim\n"
        "from tensorflow import keras as tfk\nr = slim.l2_regularizer(0.1)\n",
        "import keras\nfrom tensorflow import keras as tfk\n"
        "r = tfk.regularizers.L2(0.05)\n",
        id="standalone keras and tf.keras under another name"),
    pytest.param(
        "import tensorflow as tf\ndef f(keras):\n"
        "    return tf.contrib.layers.l1_regularizer(0.1)\n",
        "import tensorflow as tf\ndef f(keras):\n"
        "    return tf.keras.regularizers.L1(0.1)\n",
        id="keras bound to something else: not rebound"),
    pytest.param(
        TF + "r = tf.contrib.layers.l2_regularizer(*args)\n",
        TF + "import compat_reg\n\nr = compat_reg.l2_regularizer(*args)\n",
        id="unreadable arguments: exact drop-in"),
))
def test_keras_target(src, expected):
    assert migrated(src, "keras") == expected


@pytest.mark.parametrize("target", ("compat_reg", "keras"))
@pytest.mark.parametrize("src", (
    pytest.param("from mylib import l2_regularizer\nr = l2_regularizer(0.1)\n",
                 id="project's own import"),
    pytest.param("def l2_regularizer(s):\n    return s\nr = l2_regularizer(0.1)\n",
                 id="project's own def"),
    pytest.param("from tensorflow.contrib.layers import l2_regularizer\n"
                 "def l2_regularizer(s):\n    return s\n"
                 "r = l2_regularizer(0.1)\n", id="shadowed: ambiguous"),
    pytest.param(TF + "r = tf.keras.regularizers.l2(0.01)\n",
                 id="already Keras semantics"),
    pytest.param(TF + "r = tf.keras.regularizers.l2(0.5 * (0.01))\n",
                 id="tf_upgrade_v2 output is Keras semantics"),
    pytest.param("r = tf.contrib.layers.l2_regularizer(0.1)\n",
                 id="tf never imported"),
    pytest.param(TF + "r = tf.contrib.layers.l2_regularizer(1)\n",
                 id="integer scale: TF1 raised"),
    pytest.param(TF + "r = tf.contrib.layers.xavier_initializer()\n",
                 id="other contrib"),
))
def test_left_alone(src, target):
    assert migrated(src, target) == src
