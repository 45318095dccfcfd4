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
(at the start) against each penalty's TF1 name, which ``compat_reg.naming``
defines the same on every Keras flavour: the path of layer names below the
outermost model, then the weight's own name (``encoder/kernel`` in a
Sequential, functional or subclassed model alike; ``inner/encoder/kernel``
inside a nested model ``inner``). So ``'encoder'`` also matches
``encoder_head/kernel``, as in TF1. Activity penalties and other ``add_loss``
terms are named ``<layer scope>/ActivityRegularizer``, as TF1's ``tf.layers``
named them. A scope that matches none of a source's penalties raises
``ValueError`` naming the scopes there are (TF1 gave a silent 0.0); a source
with no penalties at all gives 0.0, as TF1 did.

The sum's dtype: penalties of one dtype are summed in it, as TF1's
``tf.add_n`` did. Mixed dtypes, which TF1's ``add_n`` refused (a float16
activity penalty beside a float32 kernel penalty under ``mixed_float16``, a
float64 model beside a float32 one), are cast to the widest of them first, as
Keras' own sum of ``model.losses`` does (float16 and float32 sum in float32).
A regularizer that returns ``None`` (contrib's zero scales, TF1-style
``lambda w: None if 'bias' in w.name else ...``) adds nothing, as in TF1.

On Keras 3's JAX and PyTorch backends the penalties are that backend's
tensors and are summed with ``keras.ops``, so the sum's gradient flows
(``jax.grad``, torch autograd); ``source=None`` (the collection) and
``per_replica`` (``tf.distribute``) raise ``BackendError`` there.
"""

from __future__ import absolute_import, division, print_function

import re

import tensorflow as tf

from compat_reg import _compat, naming
from compat_reg.regularizers import _add_n, _cast, _dtype_name, _to_tensor, _zeros

__all__ = ["get_regularization_losses", "get_regularization_loss",
           "get_total_loss", "scale_regularization_loss"]

_NO_SOURCE = (
    "compat_reg.get_regularization_loss(source=None) in eager mode: TF2 has no "
    "REGULARIZATION_LOSSES collection, and tf.compat.v1's version of this call "
    "returns 0.0 here without a word. Pass the model (or layer, list of them, "
    "or tf.Module) that holds the penalties: "
    "get_regularization_loss(model, scope=...).")


def _check_built(layers):
    unbuilt = [layer.name for _, layer in layers
               if not layer.built and _declared_regularizers(layer)]
    if unbuilt:
        raise ValueError(
            "get_regularization_loss: layer(s) %s have weight regularizers but "
            "no weights yet (not built), so their penalty would be a silent "
            "0.0. Build the model first: call it on a batch, or "
            "model.build(input_shape), or give it a keras.Input." %
            ", ".join(repr(n) for n in unbuilt))


def _declared_regularizers(layer):
    """``{weight attribute: regularizer}`` a layer was configured with
    (``kernel_regularizer`` -> ``"kernel"``; activity regularizers act on
    outputs and are not weights')."""
    return dict((name[:-len("_regularizer")], value)
                for name, value in vars(layer).items()
                if name.endswith("_regularizer") and not name.startswith("_")
                and "activity" not in name and callable(value))


def _inert_regularizers(layers, penalized):
    """``layer.weight`` names whose declared regularizer Keras never attached
    (set after the weight was made): a silent 0.0 in ``model.losses`` too."""
    inert = []
    for _, layer in layers:
        for attribute in sorted(_declared_regularizers(layer)):
            weight = getattr(layer, attribute, None)
            if (isinstance(weight, tf.Variable) or hasattr(weight, "regularizer")
                    ) and id(weight) not in penalized:
                inert.append("%s.%s" % (layer.name, attribute))
    return inert


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
    """``[(tf1_name, thunk)]`` in a stable order: weights, then activities.

    Raises where a penalty Keras was given would be a silent 0.0: an unbuilt
    layer, a regularizer set after its weight was made, an activity
    regularizer of a layer never called.
    """
    layers = naming.named_layers(source)
    _check_built(layers)
    names = dict((id(weight), name)
                 for name, _, weight in naming.tf1_weights(source))
    weights, others, seen = [], [], set()
    for scope, layer in layers:
        for variable, thunk in _compat.own_weight_penalties(layer):
            if id(variable) in seen:  # shared weights count once, as in TF1
                continue
            seen.add(id(variable))
            weights.append((names.get(id(variable)) or
                            _compat.weight_name(layer, variable), thunk))
        own = _compat.own_other_losses(layer)
        for loss in own:
            others.append(((scope or layer.name) + "/ActivityRegularizer",
                           (lambda t: lambda: t)(loss)))
        if not own and getattr(layer, "activity_regularizer", None) is not None:
            raise ValueError(
                "get_regularization_loss: layer %r has an activity regularizer "
                "but no activity penalty yet: it exists only after a call of "
                "the model, for that call (as TF1's existed once the layer was "
                "applied). Call the model on the batch first." % layer.name)
    inert = _inert_regularizers(layers, seen)
    if inert:
        raise ValueError(
            "get_regularization_loss: %s declare a regularizer that their "
            "weight does not carry (set after the layer was built?), so Keras "
            "never computes it and model.losses holds no penalty for it. Give "
            "the regularizer to the layer's constructor, or set "
            "weight.regularizer on Keras 3." % ", ".join(inert))
    return weights + others


def _select(named, pattern, scope):
    if pattern is None:
        return named
    chosen = [row for row in named if pattern.match(row[0])]
    if named and not chosen:
        raise ValueError(
            "scope %r matches none of the %d penalties of this source (TF1 "
            "would give a silent 0.0). Scopes here, closest first: %s. TF1 "
            "names have no outermost-model prefix: 'encoder/kernel', "
            "'inner/encoder/kernel' in a nested model 'inner'." % (
                scope, len(named), ", ".join(
                    naming.closest_scopes(scope, [n for n, _ in named]))))
    return chosen


def _check_collection_scope(scope):
    """Graph mode's ``source=None``: TF1's own collection, read by TF's own
    call, once ``scope`` is known to match something there."""
    pattern = _compile_scope(scope)
    _compat.require_tf("get_regularization_loss(source=None), which reads "
                       "TF1's REGULARIZATION_LOSSES collection,")
    if _compat.executing_eagerly():
        raise RuntimeError(_NO_SOURCE)
    everything = _compat.v1.get_collection(
        _compat.v1.GraphKeys.REGULARIZATION_LOSSES)
    _select([(t.name, t) for t in everything], pattern, scope)


def _present(penalties):
    """The penalties that are not ``None``, as tensors."""
    return [_to_tensor(p) for p in penalties if p is not None]


def _sum(penalties, name):
    """``tf.add_n`` in one dtype: the widest of the penalties' (see the
    module docstring); TF1's float32 0.0 for none."""
    if not penalties:
        return (tf.constant(0.0, name=name) if _compat.TF_BACKEND
                else _zeros("float32"))
    dtypes = set(_dtype_name(p) for p in penalties)
    if len(dtypes) > 1:
        widest = "float64" if "float64" in dtypes else "float32"
        penalties = [_cast(p, widest) for p in penalties]
    return _add_n(penalties, name=name)


# The bridge walks Python structures (layers, their weights) once, when a
# tf.function traces it: AutoGraph has nothing to convert there.
_trace_time = _compat.do_not_convert


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
      ValueError: wherever the answer would be a silent 0.0 or a wrong sum:
        ``scope`` is not a regular expression, or matches none of the
        source's penalties; a layer with weight regularizers is not built
        yet; a regularizer was set on a layer after its weight was made; a
        layer with an activity regularizer was never called.
    """
    if source is None:
        _check_collection_scope(scope)
        return _compat.v1.losses.get_regularization_losses(scope)
    pattern = _compile_scope(scope)
    chosen = _select(_named_penalties(source), pattern, scope)
    return _present(thunk() for _, thunk in chosen)


@_trace_time
def get_regularization_loss(source=None, scope=None,
                            name="total_regularization_loss",
                            per_replica=False):
    """The summed penalty, as TF1's ``tf.losses.get_regularization_loss``.

    ``tf.add_n`` of ``get_regularization_losses(source, scope)``, or the
    float32 constant 0.0 when there is none (as TF1), in the dtype rule of
    the module docstring. ``source=None`` in graph mode is exactly
    ``tf.compat.v1.losses.get_regularization_loss``, except that a scope
    matching none of a non-empty collection raises; in eager mode it raises
    instead of returning TF2's silent 0.0.

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
        _check_collection_scope(scope)
        total = _compat.v1.losses.get_regularization_loss(scope, name)
    else:
        total = _sum(get_regularization_losses(source, scope), name)
    return scale_regularization_loss(total) if per_replica else total


@_trace_time
def get_total_loss(source, losses, add_regularization_losses=True, scope=None,
                   name="total_loss"):
    """TF1's ``tf.losses.get_total_loss()`` for a Keras model.

    TF1 summed the ``LOSSES`` collection (every ``tf.losses.*`` call had
    added its loss there) and, by default, the ``REGULARIZATION_LOSSES``
    collection. Eagerly those collections are gone, or hold stale tensors of
    every earlier step, and ``tf.compat.v1.losses.get_total_loss()`` raises.
    Here the data losses are given, the penalties come from ``source``:
    ``add_n(losses + get_regularization_losses(source, scope))``.

    Args:
      source: what ``get_regularization_loss`` takes (a model, layers...).
      losses: a data loss tensor, or a list of them (TF1's ``LOSSES``).
      add_regularization_losses: as TF1's; False sums ``losses`` alone.
      scope: filters the penalties by TF1 name (``re.match``), as in
        ``get_regularization_losses``; TF1 also filtered ``LOSSES`` by it,
        which here are given explicitly.
      name: the op name in graph mode.
    """
    losses = list(losses) if isinstance(losses, (list, tuple)) else [losses]
    if not losses:
        raise ValueError("get_total_loss: no data losses given (TF1 raised "
                         "ValueError('No losses found in collection.') too)")
    if add_regularization_losses:
        losses += get_regularization_losses(source, scope)
    return _sum(_present(losses), name)


def scale_regularization_loss(regularization_loss):
    """Divide a penalty by the number of replicas in sync (TF's own
    ``tf.nn.scale_regularization_loss``).

    Use it in a custom loop inside ``strategy.run`` when the per-replica data
    loss is averaged over the *global* batch (``tf.nn.compute_average_loss``):
    gradients are summed across replicas, so an unscaled penalty would be
    applied ``num_replicas`` times. ``model.fit`` (and Keras'
    ``compile``/``fit`` path under a strategy) already scales it: do not scale
    what ``fit`` minimises. Outside a strategy it divides by 1. TensorFlow's
    backend only (``BackendError`` on JAX and PyTorch).
    """
    _compat.require_tf("scale_regularization_loss (tf.distribute's replicas)")
    return _compat.scale_regularization_loss(regularization_loss)
