"""TF1's ``REGULARIZATION_LOSSES`` collection, mapped onto Keras models.

TF1 code reads penalties with ``tf.losses.get_regularization_loss()``. In TF2
eager mode the collection does not exist and
``tf.compat.v1.losses.get_regularization_loss()`` returns 0.0 without a word.
Here the same calls take the model that holds the penalties:

    total = data_loss + compat_reg.get_regularization_loss(model)

What is summed, and how it differs from ``model.losses``:

* every regularized weight of ``source`` and its nested layers, trainable or
  not. TF1's collection held the penalty of every regularized variable;
  Keras 3's ``model.losses`` drops a frozen layer's penalty (tf_keras keeps
  it). A frozen weight gets no gradient, so this changes the reported loss,
  not training;
* every other loss the layers hold (``add_loss``, activity penalties), as TF1's
  ``tf.layers`` put those into the same collection. They exist after a call of
  the model, for that call.

``scope`` keeps TF1's meaning: a regular expression matched with ``re.match``
(at the start) against the TF1-style name of the regularized variable: Keras 3
``variable.path``, Keras 2 ``variable.name`` without ``:0``, e.g.
``sequential/dense/kernel``. So ``'encoder'`` also matches
``encoder_head/kernel``, as in TF1. Activity penalties and other ``add_loss``
terms are matched against ``<layer scope>/ActivityRegularizer``, the name
TF1's ``tf.layers`` gave them, where ``<layer scope>`` is the scope of the
layer's weights (``sequential/dense``) or, for a layer without weights, its
name.
"""

from __future__ import absolute_import, division, print_function

import re

import tensorflow as tf

from compat_reg import _compat

__all__ = ["get_regularization_losses", "get_regularization_loss",
           "scale_regularization_loss"]

_NO_SOURCE = (
    "compat_reg.get_regularization_loss(source=None) in eager mode: TF2 has no "
    "REGULARIZATION_LOSSES collection, and tf.compat.v1's version of this call "
    "returns 0.0 here without a word. Pass the model (or layer, list of them, "
    "or tf.Module) that holds the penalties: "
    "get_regularization_loss(model, scope=...).")


def _is_layer(obj):
    return isinstance(obj, _compat.keras.layers.Layer)


def _top_layers(source):
    """Keras layers in ``source``: a layer/model, a list of them, a tf.Module."""
    if _is_layer(source):
        return [source]
    if isinstance(source, (list, tuple)):
        return [layer for item in source for layer in _top_layers(item)]
    if isinstance(source, tf.Module):
        return list(source._flatten(predicate=_is_layer))
    raise TypeError(
        "source must be a Keras model or layer, a list of them, or a tf.Module "
        "holding Keras layers; got %s" % type(source).__name__)


def _layers(source):
    layers, seen = [], set()
    for top in _top_layers(source):
        for layer in _compat.flatten_layers(top):
            if id(layer) not in seen:
                seen.add(id(layer))
                layers.append(layer)
    unbuilt = [layer.name for layer in layers
               if not layer.built and _weight_regularizers(layer)]
    if unbuilt:
        raise ValueError(
            "get_regularization_loss: layer(s) %s have weight regularizers but "
            "no weights yet (not built), so their penalty would be a silent "
            "0.0. Build the model first: call it on a batch, or "
            "model.build(input_shape), or give it a keras.Input." %
            ", ".join(repr(n) for n in unbuilt))
    return layers


def _weight_regularizers(layer):
    """The weight regularizers a layer was configured with (``kernel_regularizer``,
    ``bias_regularizer``, ...; activity regularizers act on outputs)."""
    return [value for name, value in vars(layer).items()
            if name.endswith("_regularizer") and not name.startswith("_")
            and "activity" not in name and callable(value)]


def _compile_scope(scope):
    if scope is None:
        return None
    try:
        return re.compile(scope)
    except (re.error, TypeError) as error:
        raise ValueError("scope %r is not a regular expression: %s (TF1 matched "
                         "it with re.match against variable names)" % (scope, error)
                         ) from error


def _named_penalties(source):
    """``[(tf1_name, thunk)]`` in a stable order: weights, then activities."""
    weights, others, seen = [], [], set()
    for layer in _layers(source):
        layer_scope = None
        for variable, thunk in _compat.own_weight_penalties(layer):
            if id(variable) in seen:  # shared weights count once, as in TF1
                continue
            seen.add(id(variable))
            name = _compat.weight_name(layer, variable)
            layer_scope = layer_scope or name.rsplit("/", 1)[0]
            weights.append((name, thunk))
        if layer_scope is None:
            layer_scope = _layer_scope(layer)
        for loss in _compat.own_other_losses(layer):
            others.append((layer_scope + "/ActivityRegularizer",
                           (lambda t: lambda: t)(loss)))
    return weights + others


def _layer_scope(layer):
    for variable in layer.weights:
        return _compat.weight_name(layer, variable).rsplit("/", 1)[0]
    return layer.name


# The bridge walks Python structures (layers, their weights) once, when a
# tf.function traces it: AutoGraph has nothing to convert there.
_trace_time = tf.autograph.experimental.do_not_convert


@_trace_time
def get_regularization_losses(source=None, scope=None):
    """The list of penalties, as TF1's ``tf.losses.get_regularization_losses``.

    Args:
      source: a Keras model or layer (Keras 2, tf_keras or Keras 3), a list of
        them, or a ``tf.Module`` holding Keras layers. ``None`` reads the
        ``REGULARIZATION_LOSSES`` collection, which exists in graph mode only.
      scope: a regular expression ``re.match``-ed against each penalty's
        TF1-style name (see the module docstring); ``None`` keeps all.

    Raises:
      RuntimeError: ``source=None`` in eager mode (no collection to read).
      ValueError: ``scope`` is not a regular expression, or a layer with
        weight regularizers is not built yet (its penalty would be 0.0).
    """
    if source is None:
        _compile_scope(scope)
        if _compat.executing_eagerly():
            raise RuntimeError(_NO_SOURCE)
        return tf.compat.v1.losses.get_regularization_losses(scope)
    pattern = _compile_scope(scope)
    return [thunk() for name, thunk in _named_penalties(source)
            if pattern is None or pattern.match(name)]


@_trace_time
def get_regularization_loss(source=None, scope=None,
                            name="total_regularization_loss",
                            per_replica=False):
    """The summed penalty, as TF1's ``tf.losses.get_regularization_loss``.

    ``tf.add_n`` of ``get_regularization_losses(source, scope)``, or the
    float32 constant 0.0 when there is none (as TF1). ``source=None`` in graph
    mode is exactly ``tf.compat.v1.losses.get_regularization_loss``; in eager
    mode it raises instead of returning TF2's silent 0.0.

    Add it to the data loss in a custom training loop. ``model.fit`` adds
    ``model.losses`` itself: do not add this to a loss that ``fit`` minimises,
    or the penalty is counted twice. Works inside ``tf.function``: the model
    is walked once, at trace time.

    Args:
      source, scope: as in ``get_regularization_losses``.
      name: the op name in graph mode.
      per_replica: divide by the number of replicas in sync (see
        ``scale_regularization_loss``); for custom loops under a
        ``tf.distribute`` strategy whose per-replica gradients are summed.

    >>> import numpy as np
    >>> layer = tf.keras.layers.Dense(
    ...     2, kernel_initializer="ones", kernel_regularizer=None)
    >>> float(get_regularization_loss(layer))
    0.0
    """
    if source is None:
        if _compat.executing_eagerly():
            raise RuntimeError(_NO_SOURCE)
        total = tf.compat.v1.losses.get_regularization_loss(scope, name)
    else:
        losses = get_regularization_losses(source, scope)
        total = tf.add_n(losses, name=name) if losses else tf.constant(0.0)
    return scale_regularization_loss(total) if per_replica else total


def scale_regularization_loss(regularization_loss):
    """Divide a penalty by the number of replicas in sync (TF's own
    ``tf.nn.scale_regularization_loss``).

    Use it in a custom loop inside ``strategy.run`` when the per-replica data
    loss is averaged over the *global* batch (``tf.nn.compute_average_loss``):
    gradients are summed across replicas, so an unscaled penalty would be
    applied ``num_replicas`` times. ``model.fit`` (and Keras'
    ``compile``/``fit`` path under a strategy) already scales it: do not scale
    what ``fit`` minimises. Outside a strategy it divides by 1.
    """
    return _compat.scale_regularization_loss(regularization_loss)
