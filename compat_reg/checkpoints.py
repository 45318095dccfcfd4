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

Skipped on purpose (without ``optimizer=``: "Resuming" below) and listed in
the report: ``global_step``, Adam's ``beta1_power``/``beta2_power``, and
every variable ``<v>/<slot>`` whose ``<v>`` is itself in the checkpoint:
optimizer slots (``Momentum``, ``Adam``, ``Adam_1``, whatever the
optimizer's name) and ``ExponentialMovingAverage`` shadows. ``ema=True``
loads each variable's shadow instead where it has one.

Every problem is found before anything is assigned and raised as one
``ValueError`` listing all of them with the closest names: a checkpoint
variable that maps to no Keras weight, a Keras weight left without a value
(``strict``), two variables for one weight, shapes and dtypes that differ.
**Limit**: a mis-mapping between weights of the same shape and dtype (two
``scopes`` swapped between identical layers) cannot be told from a right
one; the report (``print(report)``) shows each name beside its weight, and
a forward pass against the TF1 model's outputs is the check.

**Resuming** (``optimizer=``): the optimizer's state goes on where TF1's
stopped, by the same names. TF1 named slot ``i`` of variable ``v``
``<v>/<name>``, ``<v>/<name>_1``..., ``<name>`` the optimizer's ``name=``
(its class name without "Optimizer" by default), numbered on past a first
optimizer's (``OPTIMIZER_STATE``):

==============================  ==========================================
TF1 checkpoint                  restored into
==============================  ==========================================
``<v>/Momentum``                ``Momentum``/``MomentumW``'s ``momentum``
``<v>/Adam``, ``<v>/Adam_1``    ``Adam``/``AdamW``'s ``m``, ``v``
``<v>/MomentumW``,              contrib's ``MomentumWOptimizer`` /
``<v>/AdamW[_1]``               ``AdamWOptimizer``: the same slots
``beta1_power``,                ``Adam``/``AdamW``'s ``beta1_power``,
``beta2_power``                 ``beta2_power``
``global_step``                 the step count, which a schedule reads:
                                ``iterations`` (TF 1.x: ``get``'s schedule
                                step, else the graph's global step);
                                ``reset_step=True``: 0
==============================  ==========================================

for ``compat_reg.optimizers.get(spec)``: with those, resuming is exact
(the same kernels on the same state; the TF 1.15 runs of
``parity/tf1_checkpoints/resume_*`` go on within 2.6e-7 on Keras 3 and
tf_keras, bit for bit on TF 1.15, where ``get`` is TF1's class and its
slots exist once its train op is built). ``tf1_name`` names the slots when
they were renamed (``"Momentum_1"``, a custom ``name=``); where one set of
slots fits, it is found alone. Keras' own optimizers (with Keras' optimizer
API, Keras 2.11+): ``Adam``'s ``m``/``v`` are TF1's (its beta powers come
from ``iterations``: skipped, equal up to rounding); ``SGD(momentum=...)``
keeps ``-lr * accumulator``, converted at a constant rate (exact in real
arithmetic: Keras' rounding, 2.4e-7 over 12 steps) and skipped under a
schedule, where no one rate converts it. The report lists each restored
piece (``report.state``) and each skipped one with why.

Refused, before anything is assigned: slots of another kind (TF1 Adam's
into a momentum optimizer, MomentumW's into Momentum, any slots into
GradientDescent, the slots of TF1's other optimizers), several sets of
slots that fit (pass ``tf1_name``), a trained variable without its slot,
no ``global_step`` (unless ``reset_step``), a step that is not an integer
or negative, Adam without one pair of beta powers. **Limit**: an
optimizer of another kind with the same number of slots under a custom
name (``name="opt"``) cannot be told from this one: the report names the
slots read.

**Every load** reads every value before assigning any: an entry that
cannot be read (a truncated or corrupted ``.data`` file; a corrupted
``.index`` fails on opening) or holds NaN/inf is a problem of the same
``ValueError``, and nothing is assigned.

**Warm start**: ``init_from_checkpoint(model, path, assignment_map)`` is
TF1's ``tf.train.init_from_checkpoint`` for a Keras model (a backbone
only, from other scopes), on the model's TF1 names; see its docstring.

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

import numpy as np
import tensorflow as tf

from compat_reg import _compat, convention, naming, optimizers

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
GLOBAL_STEP = "global_step"

# TF1's optimizer state, by compat_reg's spec name: the name TF1 gives its
# slots by default (the class name without "Optimizer": ``<var>/Momentum``),
# its slots as ``get_slot`` names them in the order TF1 made them (slot i of
# a variable is ``<var>/<name>`` numbered on: ``<var>/Adam`` is ``m``,
# ``<var>/Adam_1`` is ``v``), and whether it keeps Adam's ``beta1_power`` /
# ``beta2_power`` (top-level variables, ``_1``... for a second Adam).
OptimizerState = collections.namedtuple("OptimizerState",
                                        "spec tf1_name slots beta_powers")
OPTIMIZER_STATE = collections.OrderedDict(
    (spec, OptimizerState(spec, convention.OPTIMIZER[spec].tf1_class[
        :-len("Optimizer")], slots, powers))
    for spec, slots, powers in (
        ("sgd", (), False), ("momentum", ("momentum",), False),
        ("momentumw", ("momentum",), False), ("adam", ("m", "v"), True),
        ("adamw", ("m", "v"), True)))
# The default slot names of TF1's optimizers that compat_reg does not port:
# slots so named are another optimizer's, never restored as these.
OTHER_TF1_OPTIMIZERS = ("Adadelta", "Adagrad", "AdagradDA", "AdaMax", "Ftrl",
                        "LazyAdam", "ProximalAdagrad", "RMSProp")
_KIND_OF_NAME = dict((s.tf1_name, s.spec) for s in OPTIMIZER_STATE.values())
_KIND_OF_NAME.update((name, None) for name in OTHER_TF1_OPTIMIZERS)
_POWER = re.compile(r"^beta([12])_power(_\d+)?$")
_NUMBERED = re.compile(r"^(.*)_(\d+)$")

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
# One restored piece of optimizer state: the checkpoint name, the optimizer
# variable (``dense/kernel: momentum``, ``iterations``...), its shape and how
# the value was taken (``""``: as it is).
StateRow = collections.namedtuple("StateRow", "checkpoint target shape how")
# What is assigned: a variable, the checkpoint entry read (None: ``value``),
# a factor to multiply it by (None: none) or the value itself.
_Assignment = collections.namedtuple("_Assignment", "variable source factor "
                                     "value")


class LoadReport(list):
    """``[Row(checkpoint name, keras weight "layer/role", shape, source)]``
    (``source`` is the checkpoint entry read: the name, or its EMA shadow),
    plus ``skipped`` ``[(name, why)]``, ``kept``: Keras weights left as
    they were (``strict=False``; ``init_from_checkpoint``: the weights
    outside the map), and ``state``: the optimizer state restored
    (``[StateRow]``, ``optimizer=``). ``print`` shows the tables."""

    KEPT = ("kept (strict=False)", "no checkpoint value")

    def __init__(self, rows, skipped, kept, weights, state=(), kept_why=KEPT):
        super(LoadReport, self).__init__(rows)
        self.skipped = skipped
        self.kept = kept
        self.state = list(state)
        self._weights = weights
        self._kept_why = kept_why

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
        width = len(lines)  # the rows that set the third column's place
        if self.state:
            lines.append(("optimizer state", "optimizer variable", ""))
            lines += [(r.checkpoint, r.target + (" (%s)" % r.how if r.how
                                                 else ""), str(r.shape))
                      for r in self.state]
            width = len(lines)
        if self.skipped:
            lines.append(("skipped", "why", ""))
            lines += [(name, why, "") for name, why in self.skipped]
        if self.kept:
            lines.append(self._kept_why + ("",))
            lines += [(name, "", "") for name in self.kept]
        widths = [max(len(line[0]) for line in lines),
                  max(len(line[1]) for line in lines[:width])]
        return "\n".join(("%-*s  %-*s  %s" % (widths[0], a, widths[1], b, c)
                          ).rstrip() for a, b, c in lines)


def open_checkpoint(path):
    """``tf.train.load_checkpoint(path)`` (a prefix such as ``.../model.ckpt``
    or a folder with a ``checkpoint`` file), refusing TF2 object checkpoints."""
    path = os.fspath(path)
    try:
        reader = tf.train.load_checkpoint(path)
    except (ValueError, tf.errors.OpError) as error:
        first = str(error).strip().splitlines()[0]
        if os.path.isfile(path + ".index") or isinstance(
                error, tf.errors.DataLossError):
            raise ValueError("TF1 checkpoint %s cannot be read (a truncated or"
                             " corrupted .index file?): %s" % (path, first)
                             ) from error
        raise ValueError(
            "no TF1 checkpoint at %r (give the prefix, e.g. .../model.ckpt, or "
            "a folder holding a 'checkpoint' file): %s" % (path, first)
        ) from error
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
    return tuple(tf.TensorShape(value).as_list())


def _dtype(value):
    return tf.as_dtype(value).base_dtype.name


def _closest(name, candidates, n=3, cutoff=0.5):
    close = difflib.get_close_matches(name, sorted(candidates), n=n,
                                      cutoff=cutoff)
    return ("; closest: %s" % ", ".join(close)) if close else ""


def _mismatches(reader, source, variable, key):
    """The problems of assigning checkpoint entry ``source`` to ``variable``
    (called ``key``): shapes and dtypes that differ."""
    problems = []
    shape, want = tuple(reader.get_variable_to_shape_map()[source]), _shape(
        variable.shape)
    if shape != want:
        problems.append("%s has shape %s but Keras %s has %s" % (
            source, shape, key, want))
    have = _dtype(reader.get_variable_to_dtype_map()[source])
    need = _dtype(variable.dtype)
    if have != need:
        problems.append("%s is %s but Keras %s is %s" % (source, have, key,
                                                         need))
    return problems


def _plan(model, reader, scopes, mapping, strict, ema):
    """The rows, skipped, kept, weights and the problems found."""
    names = set(reader.get_variable_to_shape_map())
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
        problems += _mismatches(reader, source, weight, key)
        rows.append(Row(name, key, _shape(weight.shape), source))
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


# ---------------------------------------------------------------------------
# The optimizer's state (``optimizer=``).
# ---------------------------------------------------------------------------

def _optimizer_kind(optimizer):
    """``(spec, native)``: the ``OPTIMIZER_STATE`` kind of ``optimizer`` and
    whether it is Keras' own ``SGD``/``Adam`` rather than compat_reg's (or
    TF1's) class; ``(None, False)`` for any other optimizer."""
    # The kernel classes by their modules: on Keras 3's JAX/torch the public
    # names are portable's, and a kernel optimizer must still be recognised
    # (to be refused with BackendError, not called unknown).
    train, portable, kernels = (_compat.v1.train, optimizers.portable,
                                optimizers.kernels)
    keras_decay = optimizers.weight_decay_keras
    decoupled = isinstance(optimizer, (
        keras_decay.AdamW, keras_decay.MomentumW, portable.AdamW,
        portable.MomentumW)) or any(
            c.__name__ == "DecoupledWeightDecayExtension"
            for c in type(optimizer).__mro__)
    for spec, classes in (
            ("adam", (kernels.Adam, portable.Adam, train.AdamOptimizer)),
            ("momentum", (kernels.Momentum, portable.Momentum,
                          train.MomentumOptimizer)),
            ("sgd", (kernels.GradientDescent, portable.GradientDescent,
                     train.GradientDescentOptimizer))):
        if isinstance(optimizer, classes):
            return spec + ("w" if decoupled and spec != "sgd" else ""), False
    if not _compat.KERAS_OPTIMIZER_API:
        return None, False
    if isinstance(optimizer, _compat.keras.optimizers.Adam):
        spec = "adam"
    elif isinstance(optimizer, _compat.keras.optimizers.SGD):
        spec = "momentum" if optimizer.momentum else "sgd"
    else:
        return None, False
    if spec != "sgd" and getattr(optimizer, "weight_decay", None):
        spec += "w"
    return spec, True


def _slot_run(present, start, count):
    """The ``count`` slot names TF1 gave one optimizer's slots of a variable,
    from ``start`` (``Adam`` -> ``Adam``, ``Adam_1``; ``Adam_2`` -> ``Adam_2``,
    ``Adam_3``; ``MyAdam`` -> ``MyAdam``, ``MyAdam_1``), if all are in
    ``present``, else None."""
    if start not in present:
        return None
    run = [start]
    while len(run) < count:
        numbered = _NUMBERED.match(run[-1])
        after = set([run[-1] + "_1"] + (["%s_%d" % (
            numbered.group(1), int(numbered.group(2)) + 1)] if numbered else []))
        found = sorted(after & present)
        if len(found) != 1:
            return None
        run.append(found[0])
    return run


def _slot_base(name):
    numbered = _NUMBERED.match(name)
    return numbered.group(1) if numbered else name


def _detect_slots(state, present, optimizer_label):
    """The name of the first slot of the optimizer of kind ``state`` among
    the slot names ``present`` on the trained variables, or a problem."""
    count = len(state.slots)
    others = sorted(set(_slot_base(n) for n in present
                        if _KIND_OF_NAME.get(_slot_base(n), state.spec)
                        != state.spec))
    starts, used = [], set()
    for name in sorted(present, key=lambda n: (_slot_base(n), n)):
        if name in used or _slot_base(name) in others:
            continue
        run = _slot_run(present, name, count)
        if run:
            starts.append(name)
            used.update(run)
    if len(starts) == 1:
        return starts[0], None
    if starts:
        return None, ("optimizer: the checkpoint holds %d sets of %s-like slots"
                      " (%s): which is this optimizer's is not recorded: pass "
                      "tf1_name=<one of them>" % (
                          len(starts), optimizer_label,
                          ", ".join(repr(s) for s in starts)))
    if others:
        kinds = ", ".join(sorted(set(_slot_base(n) for n in present
                                     if _slot_base(n) in others)))
        return None, ("optimizer: the checkpoint's slots are TF1 %s's (%s), "
                      "the optimizer is %s: use compat_reg.optimizers.get() "
                      "with the spec TF1 trained with (or pass tf1_name= if "
                      "TF1's optimizer was given such a name)" % (
                          kinds, ", ".join(sorted(present)), optimizer_label))
    return None, ("optimizer: no slot set of %s (%d a variable: %s) in the "
                  "checkpoint; slots found: %s" % (
                      optimizer_label, count, ", ".join(state.slots),
                      ", ".join(sorted(present)) or "none"))


def _tf1_optimizer_variable(optimizer, pattern):
    """The variables of a ``tf.compat.v1.train`` optimizer whose name
    matches ``pattern``."""
    return [v for v in optimizer.variables()
            if re.search(pattern, v.name.split(":")[0])]


class _StatePlan(object):
    """The optimizer's state to restore: ``rows`` (``StateRow``),
    ``assignments``, ``problems``, and ``skipped`` (``{name: why}``, the
    weights' plan's, less what is restored)."""

    def __init__(self, optimizer, model, reader, report, mapping):
        self.optimizer, self.reader, self.report = optimizer, reader, report
        self.spec, self.native = _optimizer_kind(optimizer)
        self.label = "%s %r" % (type(optimizer).__name__, getattr(
            optimizer, "name", None) or getattr(optimizer, "get_name", str)())
        self.keras_api = _compat.KERAS_OPTIMIZER_API and isinstance(
            optimizer, _compat.moves.Optimizer)
        self.rows, self.assignments, self.problems = [], [], []
        self.skipped = dict(report.skipped)
        self.names = set(reader.get_variable_to_shape_map()) - set(
            n for n, v in (mapping or {}).items() if v is None) - set(
                r.checkpoint for r in report)
        self.trainable = list(model.trainable_weights)

    def restore(self, name, variable, target, how="", factor=None, value=None):
        self.rows.append(StateRow(name, target, _shape(variable.shape), how))
        self.assignments.append(_Assignment(
            variable, name if value is None else None, factor, value))
        self.skipped.pop(name, None)

    def slots_of(self, var):
        """The slot-like names ``<var>/<x>`` of the checkpoint: ``{x}``."""
        found = set(n[len(var) + 1:] for n in self.names
                    if n.startswith(var + "/"))
        return set(n for n in found if "/" not in n) - {EMA_SLOT}

    def slot(self, weight, role):
        if self.keras_api and self.native:
            return _compat.keras_optimizer_slot(self.optimizer, weight, role)
        try:
            return self.optimizer.get_slot(weight, role)
        except (KeyError, ValueError):
            return None

    def slots(self, state, tf1_name):
        trained = set(id(w) for w in self.trainable)
        loaded = list(zip(self.report, self.report._weights))
        train = [(row, w) for row, w in loaded if id(w) in trained]
        present = [self.slots_of(row.checkpoint) for row, _ in train]
        every = set().union(*present)
        start = tf1_name
        if not state.slots:
            known = sorted(n for n in every if _slot_base(n) in _KIND_OF_NAME)
            if known:
                self.problems.append(
                    "optimizer: %s keeps no slots, the checkpoint holds TF1 "
                    "%s's (%s): use compat_reg.optimizers.get() with the spec "
                    "TF1 trained with" % (self.label, "/".join(sorted(set(
                        _slot_base(n) for n in known))), ", ".join(known)))
            return
        if tf1_name is None:
            start, why = _detect_slots(state, every, self.label)
            if why:
                self.problems.append(why)
                return
        elif not isinstance(tf1_name, str) or not tf1_name or "/" in tf1_name:
            self.problems.append(
                "tf1_name must be the name of TF1's slots (the optimizer's "
                "name=, e.g. 'Momentum_1'), got %r" % (tf1_name,))
            return
        for (row, weight), found in zip(train, present):
            run = _slot_run(found, start, len(state.slots))
            if run is None:
                self.problems.append(
                    "%s has no slot %s/%s%s for %s (TF1's optimizer did not "
                    "train it?): freeze the Keras weight; its slots: %s" % (
                        row.checkpoint, row.checkpoint, start, " and the next"
                        if len(state.slots) > 1 else "", self.label,
                        ", ".join(sorted(found)) or "none"))
                continue
            for role, suffix in zip(state.slots, run):
                self.one_slot(row, weight, role, "%s/%s" % (row.checkpoint,
                                                             suffix))
        for row, weight in loaded:
            for suffix in (self.slots_of(row.checkpoint)
                           if id(weight) not in trained else ()):
                name = "%s/%s" % (row.checkpoint, suffix)
                if self.skipped.get(name, "").startswith("slot of"):
                    self.skipped[name] += " (Keras weight not trainable)"

    def one_slot(self, row, weight, role, name):
        target = "%s: %s" % (row.keras, role)
        variable = self.slot(weight, role)
        if variable is None:
            self.problems.append(
                "optimizer: %s has no %s slot for Keras %s%s" % (
                    self.label, role, row.keras,
                    " (built for other variables?)" if self.keras_api else
                    ": build its train op (minimize/apply_gradients over the "
                    "model's variables) before loading"))
            return
        self.problems += _mismatches(self.reader, name, variable, target)
        if not (self.native and role == "momentum"):
            self.restore(name, variable, target)
            return
        rate = _compat.optimizer_constant_rate(self.optimizer)
        if rate is None:
            self.skipped[name] = (
                "Keras' SGD keeps -lr * TF1's accumulator: under a schedule no"
                " one rate converts it (use compat_reg.optimizers.get)")
        else:
            self.restore(name, variable, target, "Keras' SGD: -lr * TF1's, "
                         "lr %.7g" % rate, factor=-rate)

    def beta_powers(self):
        powers = collections.defaultdict(dict)
        for name in self.names:
            match = _POWER.match(name)
            if match:
                powers[match.group(2) or ""][match.group(1)] = name
        pairs = [powers[k] for k in sorted(powers) if len(powers[k]) == 2]
        if self.native:
            for name in sorted(n for pair in pairs for n in pair.values()):
                self.skipped[name] = ("Keras' Adam computes it from iterations"
                                      " (beta**(step + 1)), not kept")
            return
        if len(pairs) != 1:
            self.problems.append(
                "optimizer: %s needs TF1's beta1_power and beta2_power; the "
                "checkpoint holds %s" % (self.label, "none" if not pairs else (
                    "%d pairs (%s): skip the other optimizer's with mapping="
                    "{<name>: None}" % (len(pairs), ", ".join(
                        "%s/%s" % (p["1"], p["2"]) for p in pairs)))))
            return
        for index in ("1", "2"):
            target = "beta%s_power" % index
            if self.keras_api:
                variable = getattr(self.optimizer, target)
            else:
                found = _tf1_optimizer_variable(
                    self.optimizer, r"(^|/)beta%s_power(_\d+)?$" % index)
                variable = found[0] if len(found) == 1 else None
            if variable is None:
                self.problems.append("optimizer: %s has no %s yet: build its "
                                     "train op before loading" % (self.label,
                                                                  target))
                continue
            self.problems += _mismatches(self.reader, pairs[0][index],
                                         variable, target)
            self.restore(pairs[0][index], variable, target)

    def step(self, reset_step):
        if self.keras_api:
            step, target = self.optimizer.iterations, "iterations"
        else:
            found = _tf1_optimizer_variable(self.optimizer,
                                            r"(^|/)schedule_step$")
            step, target = (found[0], "schedule_step") if found else (
                _compat.v1.train.get_global_step(), "the graph's global_step")
        if step is None:
            if GLOBAL_STEP in self.skipped:
                self.skipped[GLOBAL_STEP] = (
                    "%s counts no steps: create the graph's global step (tf."
                    "compat.v1.train.get_or_create_global_step()) to restore "
                    "it" % self.label)
        elif reset_step:
            self.restore(GLOBAL_STEP, step, target, "0: reset_step=True",
                         value=np.zeros((), _dtype(step.dtype)))
            if GLOBAL_STEP in self.names:
                self.skipped[GLOBAL_STEP] = "reset_step=True"
        elif GLOBAL_STEP not in self.names:
            self.problems.append(
                "optimizer: the checkpoint has no global_step: %s's step count"
                " (%s: the schedule's step%s) cannot be restored; pass "
                "reset_step=True to start it at 0" % (
                    self.label, target, ", Adam's bias correction" if
                    self.native and self.spec.startswith("adam") else ""))
        else:
            dtype = self.reader.get_variable_to_dtype_map()[GLOBAL_STEP]
            shape = tuple(self.reader.get_variable_to_shape_map()[GLOBAL_STEP])
            if not dtype.is_integer or shape:
                self.problems.append("global_step is %s %s, not an integer "
                                     "scalar" % (_dtype(dtype), shape))
            else:
                self.restore(GLOBAL_STEP, step, target)


def _state_plan(optimizer, model, reader, report, mapping, tf1_name,
                reset_step, ema):
    """``([StateRow], [_Assignment], problems)`` for the optimizer's state;
    moves what it restores out of ``report.skipped``."""
    plan = _StatePlan(optimizer, model, reader, report, mapping)
    if plan.spec is None:
        return [], [], ["optimizer: %s is neither compat_reg.optimizers' (%s)"
                        " nor, with Keras' optimizer API (Keras 2.11+), Keras'"
                        " SGD/Adam: its state has no TF1 counterpart here" % (
                            plan.label, ", ".join(OPTIMIZER_STATE))]
    if not (_compat.TF_BACKEND or plan.native or isinstance(
            optimizer, tuple(optimizers.portable.EXACT.values()))):
        raise _compat.BackendError(
            "resuming %s needs Keras' TensorFlow backend: it updates TF "
            "variables with TF's training kernels, and this Keras %s runs on "
            "%s (KERAS_BACKEND=%s). On %s, compat_reg.optimizers.get(spec) is "
            "the keras.ops port (compat_reg.optimizers.portable): pass that "
            "optimizer" % (plan.label, _compat.KERAS_VERSION,
                           _compat.KERAS_BACKEND, _compat.KERAS_BACKEND,
                           _compat.KERAS_BACKEND))
    if plan.native and getattr(optimizer, "amsgrad", False):
        plan.problems.append("optimizer: %s has amsgrad=True: TF1's Adam kept "
                             "no maximum of v" % plan.label)
    if ema:
        plan.problems.append("optimizer: ema=True loads the averages, not the "
                             "weights TF1 trained on: resume with ema=False")
    if plan.keras_api and not _compat.optimizer_built(optimizer):
        _compat.build_optimizer(optimizer, plan.trainable)
    elif not plan.keras_api and not _compat.building_tf1_graph():
        _compat.build_tf1_optimizer(optimizer, plan.trainable)
    state = OPTIMIZER_STATE[plan.spec]
    plan.slots(state, tf1_name)
    if state.beta_powers:
        plan.beta_powers()
    plan.step(reset_step)
    report.skipped[:] = sorted(plan.skipped.items())
    return plan.rows, plan.assignments, plan.problems


# ---------------------------------------------------------------------------
# Read, check, assign.
# ---------------------------------------------------------------------------

def _raise(path, model, problems):
    if problems:
        raise ValueError(
            "TF1 checkpoint %s does not load into Keras model %r, %d problem%s:"
            "\n  %s" % (path, model.name, len(problems),
                        "s" if len(problems) > 1 else "",
                        "\n  ".join(problems)))


def _values(reader, assignments):
    """``([(variable, value)], problems)``: every checkpoint entry read
    before anything is assigned (a truncated or corrupted data file fails
    here), non-finite floats and negative steps refused."""
    pairs, problems, read = [], [], {}
    for item in assignments:
        if item.source is None:
            pairs.append((item.variable, item.value))
            continue
        if item.source not in read:
            try:
                read[item.source] = reader.get_tensor(item.source)
            except (tf.errors.OpError, ValueError, IndexError) as error:
                # IndexError: TF 2.x's reader of a truncated data file
                read[item.source] = None
                problems.append("%s cannot be read (a truncated or corrupted "
                                "checkpoint?): %s" % (item.source, str(
                                    error).strip().splitlines()[0]))
                continue
            value = read[item.source]
            bad = np.size(value) - np.count_nonzero(np.isfinite(value)) if (
                value.dtype.kind == "f") else 0
            if bad:
                problems.append("%s holds %d non-finite value%s (NaN or inf)"
                                % (item.source, bad, "s" if bad > 1 else ""))
            if item.source == GLOBAL_STEP and value < 0:
                problems.append("global_step is %d, a negative step" % value)
        value = read[item.source]
        if value is None:
            continue
        if item.factor is not None:
            value = (np.asarray(item.factor, value.dtype) * value).astype(
                value.dtype)
        pairs.append((item.variable, value))
    return pairs, problems


def _weight_assignments(report):
    return [_Assignment(w, row.source, None, None)
            for row, w in zip(report, report._weights)]


def _checked(model, path, scopes, mapping, strict, ema, optimizer=None,
             tf1_name=None, reset_step=False):
    reader = open_checkpoint(path)
    report, problems = _plan(model, reader, scopes, mapping, strict, ema)
    assignments = _weight_assignments(report)
    if optimizer is not None:
        report.state, more, state_problems = _state_plan(
            optimizer, model, reader, report, mapping, tf1_name, reset_step,
            ema)
        assignments += more
        problems += state_problems
    elif tf1_name is not None or reset_step:
        problems.append("tf1_name and reset_step need optimizer=")
    pairs, read_problems = _values(reader, assignments)
    _raise(path, model, problems + read_problems)
    return report, pairs


def map_tf1_checkpoint(model, path, scopes=None, mapping=None, strict=True,
                       ema=False, optimizer=None, tf1_name=None,
                       reset_step=False):
    """What ``load_tf1_checkpoint`` would assign, as its report; nothing is
    assigned (an unbuilt Keras ``optimizer`` is built). Reads every value
    and raises the same ``ValueError``."""
    report, _ = _checked(model, path, scopes, mapping, strict, ema, optimizer,
                         tf1_name, reset_step)
    return report


def load_tf1_checkpoint(model, path, scopes=None, mapping=None, strict=True,
                        ema=False, optimizer=None, tf1_name=None,
                        reset_step=False):
    """Assign a TF1 checkpoint's values to ``model``'s weights (module doc),
    and with ``optimizer`` its optimizer's state: resume training.

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
      optimizer: the optimizer that goes on training ``model`` (built for
        ``model.trainable_weights`` here if it is not built): its slots,
        Adam's beta powers and its step count are set from the checkpoint
        (module doc, "Resuming").
      tf1_name: the name TF1 gave the optimizer's slots (``"Momentum_1"``,
        a custom ``name=``); default: found in the checkpoint where only one
        set of slots fits.
      reset_step: start the step count at 0 instead of ``global_step``.

    Returns:
      a ``LoadReport``; raises ``ValueError`` listing every problem before
      anything is assigned.
    """
    report, pairs = _checked(model, path, scopes, mapping, strict, ema,
                             optimizer, tf1_name, reset_step)
    _compat.assign_values(pairs)
    return report


# ---------------------------------------------------------------------------
# Warm start: tf.train.init_from_checkpoint's assignment map.
# ---------------------------------------------------------------------------

def _warm_plan(model, reader, assignment_map):
    """Rows, weights, kept and problems of an ``init_from_checkpoint`` map."""
    shapes = reader.get_variable_to_shape_map()
    owned = [(name, weight) for _, weight, _, name in _owned_weights(model)]
    by_name = dict(owned)
    name_of = dict((id(w), name) for name, w in owned)
    problems, chosen = [], collections.OrderedDict()
    if not isinstance(assignment_map, dict):
        return [], [], [], ["assignment_map must be a dict {checkpoint name or "
                            "scope: model weight name, scope or weight}, got "
                            "%s" % type(assignment_map).__name__]

    def missing(tensor, where=""):
        problems.append("%s%s is not in the checkpoint%s" % (
            tensor, where, _closest(tensor, shapes)))

    for key, value in sorted(assignment_map.items(), key=lambda kv: str(kv[0])):
        if not isinstance(key, str) or not key:
            problems.append("%r: a checkpoint name or scope must be a string" % (
                key,))
            continue
        entry = "%r: %r" % (key, value if isinstance(value, str) else getattr(
            value, "name", value))
        if isinstance(value, str) and value in by_name:
            targets = [(key, value)]
        elif isinstance(value, str):
            if not key.endswith("/"):
                problems.append(
                    "{%s}: %r is no weight of the model, so a scope, and a scope"
                    " maps from a scope: end the checkpoint name with '/' "
                    "('scope/': 'other_scope/')%s" % (
                        entry, value, _closest(value, by_name)))
                continue
            if value != "/" and not value.endswith("/"):
                problems.append("{%s}: a scope of the model ends with '/' "
                                "(or is '/', the root)%s" % (
                                    entry, _closest(value, by_name)))
                continue
            scope = value[:-1]
            members = [n for n in by_name if not scope
                       or n.startswith(scope + "/")]
            if not members:
                problems.append("{%s}: no weight of the model is in scope %r; "
                                "closest scopes: %s" % (
                                    entry, value, ", ".join(
                                        s + "/" for s in naming.closest_scopes(
                                            scope, by_name, most=3))))
                continue
            targets = []
            for name in members:
                relative = name[len(scope) + 1:] if scope else name
                tensor = relative if key == "/" else key + relative
                if tensor not in shapes:
                    missing(tensor, " (%s in %s)" % (relative, key))
                    continue
                targets.append((tensor, name))
        elif id(value) in name_of:
            targets = [(key, name_of[id(value)])]
        else:
            problems.append("{%s}: not a weight of the model, a weight's TF1 "
                            "name (%s...) or a scope ending in '/'" % (
                                entry, ", ".join(sorted(by_name)[:3])))
            continue
        for tensor, name in targets:
            if tensor not in shapes:
                missing(tensor)
                continue
            before = chosen.setdefault(name, tensor)
            if before != tensor:
                problems.append("%s would be set from %s and from %s" % (
                    name, before, tensor))
    rows, weights = [], []
    for name, tensor in sorted(chosen.items(), key=lambda kv: kv[1]):
        weight = by_name[name]
        problems += _mismatches(reader, tensor, weight, name)
        rows.append(Row(tensor, name, _shape(weight.shape), tensor))
        weights.append(weight)
    kept = [name for name, _ in owned if name not in chosen]
    return rows, weights, kept, problems


def init_from_checkpoint(model, path, assignment_map):
    """TF1's ``tf.train.init_from_checkpoint(path, assignment_map)`` for a
    Keras model: set the weights the map names from the checkpoint, leave
    the others (a warm start: a backbone only, from other scopes).

    The model side is named by TF1 names (``compat_reg.naming``:
    ``backbone/dense/kernel``); the map is TF1's, checkpoint side first:

    * ``{"ckpt_scope/": "scope/"}``: every weight under ``scope/`` from
      ``ckpt_scope/<the rest of its name>``; ``{"scope/": "scope/"}`` keeps
      the names, ``"/"`` on either side is the root;
    * ``{"ckpt_scope/var": "scope/var"}``: one weight by name;
    * ``{"ckpt_scope/var": weight}``: one weight, the Keras variable itself.

    Every problem is found before anything is assigned and raised as one
    ``ValueError`` (TF1 raised on the first): a tensor the checkpoint lacks,
    shapes and dtypes that differ, a scope mapped from a single name, a
    weight given two different tensors (TF1: the later key won), a scope of
    the model holding no weight (TF1 did nothing: a typo went unnoticed),
    and a model-side scope that does not end with ``/`` (TF1 read
    ``"new/sub"`` as ``new/`` and ``"new"`` as every variable with its first
    letter cut). Returns a ``LoadReport`` whose ``kept`` are the weights left.
    """
    reader = open_checkpoint(path)
    rows, weights, kept, problems = _warm_plan(model, reader, assignment_map)
    report = LoadReport(rows, [], kept, weights,
                        kept_why=("kept", "not in the assignment map"))
    pairs, read_problems = _values(reader, _weight_assignments(report))
    _raise(path, model, problems + read_problems)
    _compat.assign_values(pairs)
    return report
