"""Load a TF1 checkpoint into a Keras model, by a documented name mapping.

``load_tf1_checkpoint(model, path)`` reads a checkpoint written by TF1's
``tf.train.Saver`` and assigns every value to the Keras weight it names,
trainable or not (batch-norm moving statistics included). A checkpoint
variable ``<scope>/<name>`` goes to the Keras layer named ``<scope>``
(``scopes`` overrides that) and to its weight whose own name is the
*role* that ``TF1_CONVENTIONS`` gives ``<name>``:

=====================  =============  ======================================
TF1 name (last part)   Keras weight   written by
=====================  =============  ======================================
``weights``            ``kernel``     slim / ``tf.contrib.layers``
``biases``             ``bias``       slim / ``tf.contrib.layers``
``kernel``             ``kernel``     ``tf.layers``, ``get_variable``
``bias``               ``bias``       ``tf.layers``, ``get_variable``
``gamma``, ``beta``,   the same       ``slim.batch_norm`` (``<scope>/
``moving_mean``,                      BatchNorm/...``), ``tf.layers.
``moving_variance``                   batch_normalization[_N]/...``
=====================  =============  ======================================

A TF1 scope is one Keras layer: ``conv1/weights`` and ``conv1/BatchNorm/beta``
(slim's ``normalizer_fn``) belong to two Keras layers, a ``Conv2D`` and a
``BatchNormalization``, so the second needs ``scopes={"conv1/BatchNorm":
"conv1_bn"}`` (Keras layer names cannot hold ``/``). ``mapping`` names single
variables: ``{"step_size": None}`` skips one, ``{"w": "dense/kernel"}`` or
``{"w": weight}`` places one.

Skipped on purpose and listed in the report: ``global_step``, Adam's
``beta1_power``/``beta2_power``, and every variable ``<v>/<slot>`` whose
``<v>`` is itself in the checkpoint: optimizer slots (``Momentum``, ``Adam``,
``Adam_1``, whatever the optimizer's name) and ``ExponentialMovingAverage``
shadows. ``ema=True`` loads each variable's shadow instead where it has one.

Every problem is found before anything is assigned and raised as one
``ValueError`` listing all of them with the closest names: a checkpoint
variable that maps to no Keras weight, a Keras weight left without a value
(``strict``), two variables for one weight, shapes and dtypes that differ.
**Limit**: a mis-mapping between weights of the same shape and dtype (two
``scopes`` swapped between identical layers) cannot be told from a right
one; the report (``print(report)``) shows each name beside its weight, and
a forward pass against the TF1 model's outputs is the check.

What a port must set for slim's defaults (the loaded values are right
either way; a missing ``gamma``/``bias`` is reported with this hint):

* ``slim.batch_norm``: ``scale=False`` (no ``gamma`` saved) ->
  ``BatchNormalization(scale=False)``; ``epsilon=0.001`` is Keras' default;
  ``decay=0.999`` -> ``momentum=0.999`` (Keras' default 0.99 changes how
  the moving statistics move in training, not inference).
* ``slim.conv2d``/``fully_connected`` with a ``normalizer_fn`` save no
  ``biases``: ``use_bias=False``; their defaults are ``padding="SAME"`` and
  ``activation_fn=relu`` (Keras: ``"valid"``, none).
* ``tf.layers.batch_normalization``: ``momentum=0.99, epsilon=1e-3``, scale
  and center on: Keras' defaults.

>>> import os
>>> from compat_reg import _compat
>>> keras = _compat.keras
>>> model = keras.Sequential([
...     keras.Input((8, 8, 1)),
...     keras.layers.Conv2D(4, 3, padding="same", use_bias=False, name="conv1"),
...     keras.layers.BatchNormalization(scale=False, name="conv1_bn"),
...     keras.layers.ReLU(),
...     keras.layers.Conv2D(4, 3, padding="same", use_bias=False, name="conv2"),
...     keras.layers.BatchNormalization(scale=False, name="conv2_bn"),
...     keras.layers.ReLU(), keras.layers.Flatten(),
...     keras.layers.Dense(3, name="logits")])
>>> report = load_tf1_checkpoint(
...     model, os.path.join(DATA_DIR, "slim"),
...     scopes={"conv1/BatchNorm": "conv1_bn", "conv2/BatchNorm": "conv2_bn"})
>>> print(report)
TF1 checkpoint variable          Keras weight              shape
conv1/BatchNorm/beta             conv1_bn/beta             (4,)
conv1/BatchNorm/moving_mean      conv1_bn/moving_mean      (4,)
conv1/BatchNorm/moving_variance  conv1_bn/moving_variance  (4,)
conv1/weights                    conv1/kernel              (3, 3, 1, 4)
conv2/BatchNorm/beta             conv2_bn/beta             (4,)
conv2/BatchNorm/moving_mean      conv2_bn/moving_mean      (4,)
conv2/BatchNorm/moving_variance  conv2_bn/moving_variance  (4,)
conv2/weights                    conv2/kernel              (3, 3, 4, 4)
logits/biases                    logits/bias               (3,)
logits/weights                   logits/kernel             (256, 3)
skipped                          why
conv1/BatchNorm/beta/Momentum    slot of conv1/BatchNorm/beta
conv1/weights/Momentum           slot of conv1/weights
conv2/BatchNorm/beta/Momentum    slot of conv2/BatchNorm/beta
conv2/weights/Momentum           slot of conv2/weights
global_step                      optimizer state
logits/biases/Momentum           slot of logits/biases
logits/weights/Momentum          slot of logits/weights
"""

from __future__ import absolute_import, division, print_function

import collections
import difflib
import os
import re

from compat_reg import _compat, naming

# The shipped example checkpoints (written by real TF 1.15, see its README).
DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "parity",
                        "data")

Convention = collections.namedtuple("Convention", "tf1 role source")

# TF1 variable name (its last part) -> the Keras weight's own name.
TF1_CONVENTIONS = (
    Convention("weights", "kernel", "slim / tf.contrib.layers"),
    Convention("biases", "bias", "slim / tf.contrib.layers"),
    Convention("kernel", "kernel", "tf.layers / get_variable"),
    Convention("bias", "bias", "tf.layers / get_variable"),
    Convention("gamma", "gamma", "slim.batch_norm(scale=True) / tf.layers"),
    Convention("beta", "beta", "slim.batch_norm / tf.layers"),
    Convention("moving_mean", "moving_mean", "slim.batch_norm / tf.layers"),
    Convention("moving_variance", "moving_variance",
               "slim.batch_norm / tf.layers"),
)
_ROLE = dict((c.tf1, c.role) for c in TF1_CONVENTIONS)

# Whole names that are training state, not model weights.
_STATE = re.compile(r"^(global_step|beta[12]_power(_\d+)?)$")
EMA_SLOT = "ExponentialMovingAverage"

# Why a Keras weight may lack a value, by its role.
_MISSING_HINTS = {
    "gamma": "slim.batch_norm saves no gamma by default (scale=False): "
             "BatchNormalization(scale=False)",
    "bias": "slim.conv2d/fully_connected with a normalizer_fn save no biases: "
            "use_bias=False",
    "beta": "batch_norm(center=False) saves no beta: BatchNormalization("
            "center=False)",
}
_EXTRA_HINTS = {
    "gamma": "the checkpoint has gamma (scale=True): BatchNormalization("
             "scale=True)",
    "bias": "the checkpoint has a bias: use_bias=True",
    "beta": "the checkpoint has beta: BatchNormalization(center=True)",
}

Row = collections.namedtuple("Row", "checkpoint keras shape source")


class LoadReport(list):
    """``[Row(checkpoint name, keras weight "layer/role", shape, source)]``
    (``source`` is the checkpoint entry read: the name, or its EMA shadow),
    plus ``skipped`` ``[(name, why)]`` and ``kept``: Keras weights left as
    they were (``strict=False``). ``print`` shows the table."""

    def __init__(self, rows, skipped, kept, weights):
        super(LoadReport, self).__init__(rows)
        self.skipped = skipped
        self.kept = kept
        self._weights = weights

    def variable_map(self):
        """``{checkpoint name: Keras weight}``, for
        ``compare_models(variable_map=...)``."""
        return collections.OrderedDict(
            (row.checkpoint, w) for row, w in zip(self, self._weights))

    def __str__(self):
        lines = [("TF1 checkpoint variable", "Keras weight", "shape")]
        lines += [(r.checkpoint if r.source == r.checkpoint else
                   "%s (%s)" % (r.checkpoint, r.source[len(r.checkpoint) + 1:]),
                   r.keras, str(r.shape)) for r in self]
        if self.skipped:
            lines.append(("skipped", "why", ""))
            lines += [(name, why, "") for name, why in self.skipped]
        if self.kept:
            lines.append(("kept (strict=False)", "no checkpoint value", ""))
            lines += [(name, "", "") for name in self.kept]
        loaded = lines[:len(self) + 1]  # the third column's place
        widths = [max(len(line[0]) for line in lines),
                  max(len(line[1]) for line in loaded)]
        return "\n".join(("%-*s  %-*s  %s" % (widths[0], a, widths[1], b, c)
                          ).rstrip() for a, b, c in lines)


def open_checkpoint(path):
    """``tf.train.load_checkpoint(path)`` (a prefix such as ``.../model.ckpt``
    or a folder with a ``checkpoint`` file), refusing TF2 object checkpoints."""
    import tensorflow as tf
    path = os.fspath(path)
    try:
        reader = tf.train.load_checkpoint(path)
    except (ValueError, tf.errors.OpError) as error:
        raise ValueError(
            "no TF1 checkpoint at %r (give the prefix, e.g. .../model.ckpt, or "
            "a folder holding a 'checkpoint' file): %s" % (
                path, str(error).strip().splitlines()[0])) from error
    if any("/.ATTRIBUTES/" in name for name in reader.get_variable_to_shape_map()):
        raise ValueError(
            "%r is a TF2 object-based checkpoint (tf.train.Checkpoint / Keras "
            "save_weights), not a TF1 Saver checkpoint: load it with "
            "model.load_weights or tf.train.Checkpoint" % (path,))
    return reader


def _owned_weights(model):
    """``[(layer, weight, role, tf1_name)]``: each weight with the innermost
    layer holding it, its own name's last part (``kernel``,
    ``moving_mean``...) and its TF1 name (``compat_reg.naming``)."""
    return [(layer, weight, name.rsplit("/", 1)[-1], name)
            for name, layer, weight in naming.tf1_weights(model)]


def _shape(value):
    import tensorflow as tf
    return tuple(tf.TensorShape(value).as_list())


def _dtype(value):
    import tensorflow as tf
    return tf.as_dtype(value).base_dtype.name


def _closest(name, candidates, n=3, cutoff=0.5):
    close = difflib.get_close_matches(name, sorted(candidates), n=n,
                                      cutoff=cutoff)
    return ("; closest: %s" % ", ".join(close)) if close else ""


def _plan(model, reader, scopes, mapping, strict, ema):
    """The rows, skipped, kept, weights and the problems found."""
    shapes = reader.get_variable_to_shape_map()
    dtypes = reader.get_variable_to_dtype_map()
    names = set(shapes)
    owned = _owned_weights(model)
    layers = collections.defaultdict(list)
    for layer in _compat.flatten_layers(model):
        layers[layer.name].append(layer)
    by_key = dict(("%s/%s" % (layer.name, role), weight)
                  for layer, weight, role, _ in owned)
    by_key.update((_compat.weight_name(layer, weight), weight)
                  for layer, weight, _, _ in owned)
    by_key.update((name, weight) for _, weight, _, name in owned)
    key_of = dict((id(w), "%s/%s" % (layer.name, role))
                  for layer, w, role, _ in owned)
    problems = []
    scopes = dict(scopes or {})
    mapping = dict(mapping or {})
    tf1_scopes = set(n.rsplit("/", 1)[0] for n in names if "/" in n)

    def layer_for(scope, role):
        target = scopes.get(scope, scope)
        if not isinstance(target, str):
            return target, None
        found = layers.get(target, [])
        if len(found) == 1:
            return found[0], None
        if found:
            return None, ("%d Keras layers are named %r: pass the layer object "
                          "in scopes" % (len(found), target))
        # the layers holding such a weight, closest first
        hint = _closest(target, set(lay.name for lay, _, r, _ in owned
                                    if r == role), cutoff=0)
        if scope in scopes:
            return None, "scopes maps it to %r, no layer of the model%s" % (
                target, hint)
        where = ""
        if "/" in scope:
            where = (" (a TF1 scope inside another is a separate Keras layer, "
                     "named without '/')")
        return None, ("no Keras layer is named %r%s: pass scopes={%r: "
                      "<layer name>}%s" % (scope, where, scope, hint))

    for scope in sorted(set(scopes) - tf1_scopes):
        problems.append("scopes: %r is no scope of the checkpoint%s" % (
            scope, _closest(scope, tf1_scopes)))
    for name in sorted(set(mapping) - names):
        problems.append("mapping: %r is not in the checkpoint%s" % (
            name, _closest(name, names)))

    rows, weights, skipped, taken = [], [], [], {}
    for name in sorted(names):
        parent = name.rsplit("/", 1)[0] if "/" in name else None
        if name in mapping:
            weight = mapping[name]
            if weight is None:
                skipped.append((name, "mapping: None"))
                continue
            if isinstance(weight, str):
                if weight not in by_key:
                    problems.append("mapping: %s -> %r, no weight of the model%s"
                                    % (name, weight,
                                       _closest(weight, key_of.values())))
                    continue
                weight = by_key[weight]
            if id(weight) not in key_of:
                problems.append("mapping: %s -> %r, not a weight of the model"
                                % (name, getattr(weight, "name", weight)))
                continue
        elif _STATE.match(name):
            skipped.append((name, "optimizer state"))
            continue
        elif parent in names:
            slot = name[len(parent) + 1:]
            skipped.append((name, ("EMA shadow of %s" if slot == EMA_SLOT
                                   else "slot of %s") % parent))
            continue
        else:
            leaf = name.rsplit("/", 1)[-1]
            role = _ROLE.get(leaf)
            if role is None:
                problems.append(
                    "%s: %r is no TF1 naming convention (%s): place it with "
                    "mapping={%r: <weight>} or skip it with None" % (
                        name, leaf, ", ".join(c.tf1 for c in TF1_CONVENTIONS),
                        name))
                continue
            if parent is None:
                problems.append("%s: a variable outside any scope has no layer:"
                                " pass mapping={%r: <weight>}" % (name, name))
                continue
            layer, why = layer_for(parent, role)
            if layer is None:
                problems.append("%s: %s" % (name, why))
                continue
            own = dict((r, w) for lay, w, r, _ in owned if lay is layer)
            if role not in own:
                problems.append("%s: Keras layer %r has no weight %r (it has %s)"
                                "%s" % (name, layer.name, role,
                                        ", ".join(sorted(own)) or "none",
                                        ("; " + _EXTRA_HINTS[role])
                                        if role in _EXTRA_HINTS else ""))
                continue
            weight = own[role]
        key = key_of[id(weight)]
        source = name
        if ema and name + "/" + EMA_SLOT in names:
            source = name + "/" + EMA_SLOT
        if id(weight) in taken:
            problems.append("%s and %s both map to Keras %s" % (
                taken[id(weight)], name, key))
            continue
        taken[id(weight)] = name
        shape, want = tuple(shapes[source]), _shape(weight.shape)
        if shape != want:
            problems.append("%s has shape %s but Keras %s has %s" % (
                source, shape, key, want))
        have, need = _dtype(dtypes[source]), _dtype(weight.dtype)
        if have != need:
            problems.append("%s is %s but Keras %s is %s" % (
                source, have, key, need))
        rows.append(Row(name, key, shape, source))
        weights.append(weight)
    if ema and not any(r.source != r.checkpoint for r in rows):
        problems.append("ema=True but no loaded variable has a %s shadow" %
                        EMA_SLOT)
    unmapped = names - set(taken.values()) - set(n for n, _ in skipped)
    kept = []
    for _, weight, role, _ in owned:
        if id(weight) in taken:
            continue
        key = key_of[id(weight)]
        kept.append(key)
        if strict:
            alike = set(n for n in unmapped
                        if _ROLE.get(n.rsplit("/", 1)[-1]) == role)
            hint = _closest(key, alike, cutoff=0)
            if role in _MISSING_HINTS and not alike:
                hint += "; " + _MISSING_HINTS[role]
            problems.append("Keras %s %s has no value in the checkpoint%s" % (
                key, _shape(weight.shape), hint))
    return LoadReport(rows, skipped, kept, weights), problems


def map_tf1_checkpoint(model, path, scopes=None, mapping=None, strict=True,
                       ema=False):
    """What ``load_tf1_checkpoint`` would assign, as its report; nothing is
    assigned. Raises the same ``ValueError``."""
    report, _ = _checked(model, path, scopes, mapping, strict, ema)
    return report


def _checked(model, path, scopes, mapping, strict, ema):
    reader = open_checkpoint(path)
    report, problems = _plan(model, reader, scopes, mapping, strict, ema)
    if problems:
        raise ValueError(
            "TF1 checkpoint %s does not load into Keras model %r, %d problem%s:"
            "\n  %s" % (path, model.name, len(problems),
                        "s" if len(problems) > 1 else "",
                        "\n  ".join(problems)))
    return report, reader


def load_tf1_checkpoint(model, path, scopes=None, mapping=None, strict=True,
                        ema=False):
    """Assign a TF1 checkpoint's values to ``model``'s weights (module doc).

    Args:
      model: a built Keras model (its weights exist).
      path: checkpoint prefix (``.../model.ckpt``) or its folder.
      scopes: ``{TF1 scope: Keras layer name or layer}``; default: the layer
        named like the scope.
      mapping: ``{checkpoint name: Keras weight, "layer/role", or None}``
        (None: skip it); wins over the conventions.
      strict: every Keras weight must get a value (else they are kept and
        listed in ``report.kept``).
      ema: load ``<name>/ExponentialMovingAverage`` where it exists.

    Returns:
      a ``LoadReport``; raises ``ValueError`` listing every problem first.
    """
    report, reader = _checked(model, path, scopes, mapping, strict, ema)
    pairs = [(w, reader.get_tensor(row.source))
             for row, w in zip(report, report._weights)]
    if _compat.KERAS3:
        for weight, value in pairs:
            weight.assign(value)
    else:  # Keras 2: one session run on TF 1.15's graph, assigns when eager
        _compat.keras.backend.batch_set_value(pairs)
    return report
