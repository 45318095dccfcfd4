"""The rewrites register themselves, and read every contrib name from the
one table (``compat_reg.convention``): adding a name there is enough."""
import ast

from compat_reg import convention
from compat_reg.migrate import _names, _plugins


def test_every_contrib_name_has_a_registered_rewrite():
    registered = {callee for callee in _plugins._BY_CALLEE}
    assert set(convention.NAMES) <= registered
    assert _names.FACTORIES == frozenset(convention.NAMES)


def test_one_site_predicate_and_each_rewrite_is_found():
    tree = ast.parse("import tensorflow as tf\nimport compat_reg\n"
                     "a = tf.contrib.layers.l2_regularizer(0.1)\n"
                     "b = tf.contrib.layers.sum_regularizer([a])\n"
                     "c = tf.contrib.layers.apply_regularization(a, ws)\n"
                     "d = tf.losses.get_regularization_loss()\n"
                     "e = tf.keras.regularizers.l2(l=0.5)\n"
                     "f = compat_reg.l2_regularizer(0.1)\n")
    names = _names.Names(tree)
    found = [_plugins.site(names, s.node) for s in names.calls]
    kinds = [(f[0].rewrite.__module__.rpartition(".")[2], f[1]) for f in found if f]
    assert kinds == [
        ("regularizer_calls", "l2_regularizer"), ("sum_regularizer", "sum_regularizer"),
        ("apply_regularization", "apply_regularization"),
        ("collection_reads", "get_regularization_loss"), ("keras_l_keyword", "l2")]
