import pytest

from ._util import migrated


@pytest.mark.parametrize(("src", "expected"), (
    pytest.param(
        '"""Doc."""\nfrom __future__ import print_function\nimport os\n'
        "import tensorflow as tf  # keep me\n\nr = tf.contrib.layers.l2_regularizer(0.1)\n",
        '"""Doc."""\nfrom __future__ import print_function\nimport os\n'
        "import tensorflow as tf  # keep me\nimport compat_reg\n\n"
        "r = compat_reg.l2_regularizer(0.1)\n",
        id="added after the imports"),
    pytest.param(
        "import compat_reg\nimport tensorflow as tf\n"
        "r = tf.contrib.layers.l2_regularizer(0.1)\n",
        "import compat_reg\nimport tensorflow as tf\n"
        "r = compat_reg.l2_regularizer(0.1)\n",
        id="already imported"),
    pytest.param(
        "from tensorflow.contrib.layers import (\n    l2_regularizer,\n"
        "    xavier_initializer,\n)\nr = l2_regularizer(0.1)\n",
        "from tensorflow.contrib.layers import xavier_initializer\n"
        "import compat_reg\n\nr = compat_reg.l2_regularizer(0.1)\n",
        id="one of several names"),
    pytest.param(
        "from tensorflow.contrib.layers import l2_regularizer, xavier_initializer\n"
        "r = l2_regularizer(0.1)\nw = xavier_initializer()\n",
        "from tensorflow.contrib.layers import xavier_initializer\n"
        "import compat_reg\n\nr = compat_reg.l2_regularizer(0.1)\n"
        "w = xavier_initializer()\n",
        id="still-used name kept"),
    pytest.param(
        "import tensorflow as tf\nslim = tf.contrib.slim\n"
        "r = slim.l2_regularizer(0.1)\nx = slim.conv2d(a, 3)\n",
        "import tensorflow as tf\nimport compat_reg\n\nslim = tf.contrib.slim\n"
        "r = compat_reg.l2_regularizer(0.1)\nx = slim.conv2d(a, 3)\n",
        id="alias still used"),
    pytest.param(
        "import tensorflow as tf\nfrom tensorflow.contrib import layers\n"
        "r = tf.contrib.layers.l2_regularizer(0.1)\n",
        "import tensorflow as tf\nfrom tensorflow.contrib import layers\n"
        "import compat_reg\n\nr = compat_reg.l2_regularizer(0.1)\n",
        id="import unused before is not ours to remove"),
))
def test_imports(src, expected):
    assert migrated(src) == expected
