"""Over generated sources: the output parses, a second run changes nothing,
and every converted regularizer keeps its penalty."""
import ast
import types

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from compat_reg.migrate._core import migrate_source

from ._penalty import NumpyContrib

IMPORTS = {
    "tf.contrib.layers.": "import tensorflow as tf\n",
    "tf.contrib.slim.": "import tensorflow.compat.v1 as tf\n",
    "slim.": "import tensorflow.contrib.slim as slim\n",
    "tfs.": "import tf_slim as tfs\n",
    "layers.": "from tensorflow.contrib import layers\n",
    "tc.layers.": "import tensorflow.contrib as tc\n",
}
SETTINGS = settings(max_examples=50, deadline=None, database=None,
                    phases=[Phase.explicit, Phase.generate, Phase.shrink],
                    suppress_health_check=[HealthCheck.too_slow])

scales = st.floats(min_value=1e-6, max_value=10.0).map(lambda x: float("%.6g" % x))


@st.composite
def regularizer(draw, prefix, depth=0):
    kinds = ["l1", "l2", "l1_l2"] + (["sum"] if depth < 2 else [])
    kind = draw(st.sampled_from(kinds))
    scope = draw(st.sampled_from(["", ", scope='s'"]))
    if kind == "sum":
        items = draw(st.lists(regularizer(prefix, depth + 1), max_size=3))
        return "%ssum_regularizer([%s]%s)" % (prefix, ", ".join(items), scope)
    if kind == "l1_l2":
        return "%sl1_l2_regularizer(%r, scale_l2=%r%s)" % (
            prefix, draw(scales), draw(scales), scope)
    keyword = draw(st.sampled_from(["", "scale="]))
    return "%s%s_regularizer(%s%r%s)" % (prefix, kind, keyword, draw(scales),
                                         scope)


@st.composite
def module(draw):
    prefix = draw(st.sampled_from(sorted(IMPORTS)))
    regs = draw(st.lists(regularizer(prefix), min_size=1, max_size=3))
    lines = [IMPORTS[prefix], "# a comment that must survive\n"]
    for i, reg in enumerate(regs):
        style = draw(st.sampled_from(["r%d = {}\n", "def f%d(x):\n    return "
                                      "dense(x, kernel_regularizer={})\n"]))
        lines.append(style.replace("%d", str(i)).format(reg))
    if draw(st.booleans()):
        lines.append("loss = tf.losses.get_regularization_loss()\n"
                     if prefix.startswith("tf.") else
                     "loss = tf.get_collection('regularization_losses')\n")
    return "".join(lines), regs


def _numpy_penalty(expression, w):
    contrib = types.SimpleNamespace(layers=NumpyContrib, slim=NumpyContrib)
    value = eval(expression, {"tf": types.SimpleNamespace(contrib=contrib)})(w)
    return 0.0 if value is None else float(value)


@SETTINGS
@given(module(), st.sampled_from(["compat_reg", "keras"]))
def test_parses_and_is_stable(case, target):
    src, _ = case
    out = migrate_source(src, target).source
    ast.parse(out)
    assert "# a comment that must survive" in out
    assert migrate_source(out, target).source == out


# float32 weights, as layers have: Keras 3.3's native L1 keeps a float32
# factor that it cannot multiply with float64 weights (TF 2.16)
W = np.linspace(-2.0, 3.0, 24, dtype=np.float32).reshape(4, 6)


@SETTINGS
@given(regularizer("tf.contrib.layers."),
       st.sampled_from(["compat_reg", "keras"]))
def test_penalty_unchanged(expression, target):
    tf = pytest.importorskip("tensorflow")
    src = "import tensorflow as tf\nr = %s\n" % expression
    out = migrate_source(src, target).source
    assert "contrib" not in out
    namespace = {}
    exec(compile(out, "<migrated>", "exec"), namespace)
    reg = namespace["r"]
    value = None if reg is None else reg(tf.constant(W))
    got = 0.0 if value is None else float(value)
    expected = _numpy_penalty(expression, W)
    # Keras keeps its factors in float32: agreement to float32 precision
    assert np.isclose(got, expected, rtol=1e-6, atol=1e-12), (out, got,
                                                               expected)
