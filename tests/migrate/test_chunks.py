"""Big modules are judged a chunk of top-level statements at a time (so
that peak memory is one chunk's): the result must be the one a single
parse gives, and a syntax error must carry CPython's own line number."""
import ast

import pytest

from compat_reg.migrate import _source
from compat_reg.migrate._core import migrate_source

BLOCK = '''
@decorator
def block_{i}(x):
    """Docstring with a column-0 line:
tf.contrib.layers.l2_regularizer(0.5) inside a string
    """
    y = f(
x, kernel_regularizer=tf.contrib.layers.l2_regularizer({i}.0))
    return y
if x:
    pass
else:
    z = 1
try:
    import tensorflow.contrib.slim as slim_{i}
except ImportError:
    pass
s = ("""
tf.contrib.layers.l1_regularizer(1.0)
""")
'''


def _big():
    return "import tensorflow as tf\n" + "".join(
        BLOCK.format(i=i) for i in range(100)) + \
        "loss = tf.losses.get_regularization_loss()\n"


@pytest.mark.parametrize("target", ("compat_reg", "keras"))
def test_chunked_equals_one_parse(monkeypatch, target):
    src = _big()
    monkeypatch.setattr(_source, "CHUNK", 300)   # every few statements
    chunked = migrate_source(src, target)
    monkeypatch.setattr(_source, "CHUNK", 10 ** 9)
    whole = migrate_source(src, target)
    assert chunked.source == whole.source
    assert chunked.findings == whole.findings and chunked.sites == whole.sites
    assert chunked.source.count("compat_reg.l2_regularizer(") == (
        100 if target == "compat_reg" else 0)


def test_syntax_error_far_down_has_cpythons_line(monkeypatch):
    monkeypatch.setattr(_source, "CHUNK", 300)
    src = _big() + "print 'python 2'\n"
    with pytest.raises(SyntaxError) as ours:
        migrate_source(src)
    with pytest.raises(SyntaxError) as theirs:
        ast.parse(src)
    assert ours.value.lineno == theirs.value.lineno
