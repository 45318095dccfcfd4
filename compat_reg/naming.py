"""TF1 names for Keras weights, defined once.

TF1 named a variable by the scopes it was made in: ``tf.layers.dense(x, 4,
name="encoder")`` made ``encoder/kernel``, and ``tf.losses`` / ``tf.get_collection``
matched ``scope`` against those names with ``re.match``. Keras names the same
weight differently on each flavour: Keras 3 prefixes the model
(``sequential/encoder/kernel``), tf_keras prefixes a subclassed model but not
a Sequential or a nested model (``encoder/kernel``).

So compat_reg derives the name from the structure instead, the same on every
flavour: **a weight's TF1 name is the path of layer names from the outermost
model down to the layer that made the weight, then the weight's own name.**
The outermost model's own name is left out, as TF1 had no such scope; a
nested model keeps its name as a scope; a plain layer given alone keeps its
own name.

========================================  ==================================
model                                     TF1 names
========================================  ==================================
``Sequential([Dense(name="encoder"),      ``encoder/kernel``, ``encoder/bias``,
Dense(name="decoder")])``                 ``decoder/kernel``, ``decoder/bias``
the same layers in a functional model     the same
a subclassed model, ``self.enc =          ``encoder/kernel`` ...
Dense(4, name="encoder")``
``Sequential([Sequential([...encoder...],  ``inner/encoder/kernel`` ...
name="inner")])``
``Dense(4, name="encoder")`` alone        ``encoder/kernel``
========================================  ==================================

>>> keras = _compat.keras
>>> inner = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="encoder")],
...                          name="inner")
>>> model = keras.Sequential([inner, keras.layers.Dense(1, name="head")])
>>> model.build((None, 3))
>>> [name for name, _, _ in tf1_weights(model)]
['inner/encoder/kernel', 'inner/encoder/bias', 'head/kernel', 'head/bias']
"""

from __future__ import absolute_import, division, print_function

import difflib
import re

from compat_reg import _compat

__all__ = ["named_layers", "tf1_weights", "tf1_variables", "scopes", "closest_scopes"]


def _is_layer(obj):
    return isinstance(obj, _compat.keras.layers.Layer)


def _tops(source):
    """The outermost Keras layers of ``source``: a layer or model, a list or
    tuple of them, or a ``tf.Module`` holding layers (as attributes)."""
    if _is_layer(source):
        return [source]
    if isinstance(source, (list, tuple)):
        return [layer for item in source for layer in _tops(item)]
    if isinstance(source, _compat.Module):
        found = list(source._flatten(predicate=_is_layer))
        nested = set(id(sub) for layer in found
                     for sub in _compat.flatten_layers(layer)[1:])
        return [layer for layer in found if id(layer) not in nested]
    raise TypeError(
        "source must be a Keras model or layer, a list of them, or a tf.Module "
        "holding Keras layers; got %s" % type(source).__name__)


def named_layers(source):
    """``[(scope, layer)]``: every layer of ``source``, parents first, each
    once (a shared layer under the first path that reaches it). ``scope`` is
    the TF1 scope of the layer's weights: ``""`` for an outermost model."""
    found, seen = [], set()

    def visit(layer, scope):
        if id(layer) in seen:
            return
        seen.add(id(layer))
        found.append((scope, layer))
        for child in _compat.sublayers(layer):
            visit(child, scope + "/" + child.name if scope else child.name)

    for top in _tops(source):
        visit(top, "" if isinstance(top, _compat.keras.Model) else top.name)
    return found


def tf1_weights(source):
    """``[(tf1_name, layer, weight)]``: each weight of ``source`` once, with
    the innermost layer that holds it and its TF1 name (module docstring)."""
    rows, seen = [], set()
    layers = named_layers(source)
    for index in reversed(range(len(layers))):  # the innermost holder first
        scope, layer = layers[index]
        for position, weight in enumerate(layer.weights):
            if id(weight) in seen:
                continue
            seen.add(id(weight))
            short = _compat.weight_short_name(layer, weight)
            rows.append(((index, position),
                         scope + "/" + short if scope else short, layer, weight))
    return [row[1:] for row in sorted(rows, key=lambda row: row[0])]


def tf1_variables(source, scope=None, trainable=True):
    """``[(name, weight)]`` as TF1's ``tf.trainable_variables(scope)`` (or
    ``tf.global_variables(scope)`` with ``trainable=False``) listed them for
    the same network: ``name`` is TF1's ``v.name`` (``fc1/kernel:0``), so
    TF1's name filters keep working on it. Eagerly TF2's
    ``tf.compat.v1.trainable_variables()`` is ``[]``, and Keras' own names
    differ by flavour. A layer frozen with ``trainable = False`` leaves out
    its weights, as Keras' ``trainable_weights`` does.

    TF1: ``wd * tf.add_n([tf.nn.l2_loss(v) for v in tf.trainable_variables()
    if 'bias' not in v.name])``; TF2: ``wd * tf.add_n([tf.nn.l2_loss(v) for
    name, v in compat_reg.tf1_variables(model) if 'bias' not in name])``.
    """
    pattern = re.compile(scope) if scope is not None else None
    keep = None
    if trainable:
        keep = set(id(w) for top in _tops(source) for w in top.trainable_weights)
    return [(name + ":0", weight) for name, _, weight in tf1_weights(source)
            if (keep is None or id(weight) in keep)
            and (pattern is None or pattern.match(name))]


def scopes(names):
    """Every scope that ``names`` (TF1 names) define: each name's prefixes
    up to a ``/``, and the names themselves, sorted."""
    found = set()
    for name in names:
        parts = name.split("/")
        found.update("/".join(parts[:i]) for i in range(1, len(parts) + 1))
    return sorted(found)


def closest_scopes(scope, names, most=8):
    """The scopes of ``names`` ordered closest to ``scope`` first (at most
    ``most``), for a message about a scope that matched nothing."""
    candidates = scopes(names)
    close = difflib.get_close_matches(scope, candidates, n=most, cutoff=0.0)
    return close + [c for c in candidates if c not in close][:most - len(close)]
