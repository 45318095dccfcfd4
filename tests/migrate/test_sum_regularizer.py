import pytest

from ._util import codes, migrated

TF = "import tensorflow as tf\nL = tf.contrib.layers\n"
TF_OUT = "import tensorflow as tf\n"


@pytest.mark.parametrize(("src", "expected"), (
    pytest.param(
        TF + "r = L.sum_regularizer([L.l1_regularizer(0.01), "
        "L.l2_regularizer(0.02)])\n",
        TF_OUT + "from tensorflow import keras\n\nr = keras.regularizers.L1L2(l1=0.01, l2=0.01)\n",
        id="l1 + l2"),
    pytest.param(
        TF + "r = L.sum_regularizer([L.l2_regularizer(a), L.l2_regularizer(b)])\n",
        TF_OUT + "from tensorflow import keras\n\nr = keras.regularizers.L2(0.5 * (a + b))\n",
        id="l2 + l2"),
    pytest.param(
        TF + "r = L.sum_regularizer((L.l1_regularizer(a), L.l1_l2_regularizer"
        "(b, c), L.sum_regularizer([L.l2_regularizer(d)])))\n",
        TF_OUT + "from tensorflow import keras\n\n"
        "r = keras.regularizers.L1L2(l1=a + b, l2=0.5 * (c + d))\n",
        id="nested and l1_l2"),
    pytest.param(
        TF + "r = L.sum_regularizer([])\n",
        TF_OUT + "r = None\n",
        id="empty: None, as contrib"),
    pytest.param(
        TF + "r = L.sum_regularizer(regs)\n",
        TF_OUT + "import compat_reg\n\nr = compat_reg.sum_regularizer(regs)\n",
        id="not a literal list: exact drop-in"),
    pytest.param(
        TF + "r = L.sum_regularizer([L.l1_regularizer(0.1), my_reg])\n",
        TF_OUT + "import compat_reg\nfrom tensorflow import keras\n\n"
        "r = compat_reg.sum_regularizer([keras.regularizers.L1(0.1), my_reg])\n",
        id="custom member: drop-in over converted members"),
))
def test_keras_target(src, expected):
    assert migrated(src, "keras") == expected


def test_compat_reg_target():
    src = TF + "r = L.sum_regularizer([L.l1_regularizer(0.01)], scope='s')\n"
    assert migrated(src) == TF_OUT + "import compat_reg\n\n" \
        "r = compat_reg.sum_regularizer([compat_reg.l1_regularizer(0.01)], " \
        "scope='s')\n"


def test_fallback_is_noted():
    src = TF + "r = L.sum_regularizer(regs)\n"
    assert codes(src, "keras", kind="note") == [(3, "kept-compat-reg")]
