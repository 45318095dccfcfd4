"""Property-based fuzz of migrate (issue 13): programs mixing regularizer
calls in every import style with arbitrary code, strings, comments,
continuations, encodings and line endings. CPython is the judge:

* the output parses;
* its AST equals the input's once the rewritten calls and the imports are
  set aside;
* every input line outside the rewritten calls and imports is in the
  output, byte for byte and in order;
* a second run changes nothing.

Bounded: ``max_examples`` per target, no deadline (the machine is shared).
"""
import ast
import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compat_reg.migrate._core import migrate_source

STYLES = {  # import header -> how a factory is spelled
    "import tensorflow as tf\n": "tf.contrib.layers.",
    "import tensorflow.compat.v1 as tf\n": "tf.contrib.slim.",
    "import tensorflow.contrib.slim as slim\n": "slim.",
    "import tf_slim as tfs\n": "tfs.",
    "from tensorflow.contrib import layers\n": "layers.",
    "import tensorflow as tf\nL = tf.contrib.layers\n": "L.",
    "from tensorflow.contrib.layers import l2_regularizer as l2r, l1_regularizer\n": "",
}
SITES = frozenset(("l1_regularizer", "l2_regularizer", "l1_l2_regularizer",
                   "sum_regularizer", "apply_regularization", "l2r", "get_collection",
                   "get_regularization_loss", "get_regularization_losses",
                   "L1", "L2", "L1L2"))
SETTINGS = settings(max_examples=150, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.data_too_large])

names = st.sampled_from(["x", "wd", "cfg['weight  decay']", "FLAGS.wd", "0.01", "1e-4",
                         "1e400", "a + b", "(wd)", "f(x)[0]", "-0.5", "0.0"])
filler = st.sampled_from([
    "s = 'tf.contrib.layers.l2_regularizer(0.1)  inside a string'\n",
    's = """enc  oder\n    tf.contrib.layers.l2_regularizer(x)\n"""\n',
    "# a comment: tf.contrib.layers.l2_regularizer(0.1)\n",
    "y = (1 +\n     2)  # continued\n",
    "z = 1 + \\\n    2\n",
    "n\u00e4me = 'caf\u00e9'\n",
    "def f(a, b=2):\n    return a * b\n",
    "class C:\n    attr = [1,\n            2]\n",
    "t = f'{x!r:>10}'\n",
    "if x:\n    pass\nelse:\n    y = {'k': (1, 2)}\n",
    "\n",
])


@st.composite
def regularizer(draw, prefix, depth=0):
    if not prefix:  # the from-import style
        kind = draw(st.sampled_from(["l2r", "l1_regularizer"]))
        return "%s(%s)" % (kind, draw(names))
    kind = draw(st.sampled_from(["l1", "l2", "l1_l2"] + (["sum"] if depth < 1 else [])))
    if kind == "sum":
        items = draw(st.lists(regularizer(prefix, depth + 1), min_size=0, max_size=2))
        return "%ssum_regularizer([%s])" % (prefix, ", ".join(items))
    if kind == "l1_l2":
        return "%sl1_l2_regularizer(%s, scale_l2=%s)" % (prefix, draw(names), draw(names))
    comment = draw(st.sampled_from(["", "  # why\n    "]))
    scope = draw(st.sampled_from(["", ", scope='enc  oder'"]))
    return "%s%s_regularizer(%s%s%s)" % (prefix, kind, comment, draw(names), scope)


@st.composite
def program(draw):
    header = draw(st.sampled_from(sorted(STYLES)))
    prefix = STYLES[header]
    parts = [header]
    for i in range(draw(st.integers(1, 6))):
        parts.append(draw(filler))
        reg = draw(regularizer(prefix))
        parts.append(draw(st.sampled_from([
            "r%d = %s\n" % (i, reg),
            "def g%d(x):\n    return dense(x, 3,\n                 kernel_regularizer=%s)\n"
            % (i, reg),
        ])))
    if draw(st.booleans()):
        parts.append("loss = tf.losses.get_regularization_loss()\n"
                     if "tf" in header else "loss = model.losses\n")
    text = "".join(parts)
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    encoding = draw(st.sampled_from(["utf-8", "latin-1"]))
    if encoding == "latin-1":
        text = "# -*- coding: latin-1 -*-\n" + text
    return text.replace("\n", newline).encode(encoding), encoding


class _Normal(ast.NodeTransformer):
    """Sets aside what migrate may change: the sites and the imports."""

    def visit_Call(self, node):
        func = node.func
        last = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if last in SITES:
            return ast.Name("SITE", ast.Load())
        return self.generic_visit(node)

    def visit_Constant(self, node):  # a zero-scale regularizer becomes None
        return ast.Name("SITE", ast.Load()) if node.value is None else node

    def visit_Import(self, node):
        return None

    visit_ImportFrom = visit_Import

    def visit_Assign(self, node):
        if isinstance(node.value, ast.Attribute) and "contrib" in ast.dump(node.value):
            return None
        return self.generic_visit(node)


def _normal(text):
    return ast.dump(_Normal().visit(ast.parse(text)))


def _callee(node):
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)


def _site_lines(text):
    """Lines of ``text`` (1-based) inside a site, an import or a contrib alias."""
    lines = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.Import, ast.ImportFrom)) or (
                isinstance(node, ast.Call) and _callee(node) in SITES) or (
                isinstance(node, ast.Assign) and isinstance(node.value, ast.Attribute)
                and "contrib" in ast.dump(node.value)):
            lines.update(range(node.lineno, node.end_lineno + 1))
    return lines


def _lines(text):
    return io.StringIO(text, newline="").readlines()


def _check(case, target):
    data, encoding = case
    out = migrate_source(data, target).source
    before, after = data.decode(encoding), out.decode(encoding)
    ast.parse(after)
    assert _normal(before) == _normal(after)
    sites = _site_lines(before)
    kept = [line for n, line in enumerate(_lines(before), 1) if n not in sites]
    rest = iter(_lines(after))
    for line in kept:  # a subsequence of the output, byte for byte
        assert any(line == other for other in rest), (line, after)
    assert migrate_source(out, target).source == out


@SETTINGS
@given(program())
def test_fuzz_compat_reg_target(data):
    _check(data, "compat_reg")


@SETTINGS
@given(program())
def test_fuzz_keras_target(data):
    _check(data, "keras")
