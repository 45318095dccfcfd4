"""The contrib convention, as one table: what maps to what.

Everything compat_reg knows about ``tf.contrib.layers``' regularizer API and
TF1's optimizers is written here once, like ``six``'s ``MovedAttribute``
table; the runtime regularizers, ``install()``, the optimizers, the parity
harness and every rewrite of ``compat-reg migrate`` read it. This module
imports neither TensorFlow nor Keras, so the migration tool can use it on a
machine without them.

A contrib factory's scale becomes a Keras factor by one multiplication:

>>> [(s.param, s.keras_arg, s.factor) for s in FACTORY["l1_l2_regularizer"].scales]
[('scale_l1', 'l1', 1.0), ('scale_l2', 'l2', 0.5)]

``l2``'s factor is ``0.5`` because contrib's ``l2_regularizer(scale)`` is
``scale * tf.nn.l2_loss(w)`` = ``scale * sum(w ** 2) / 2``, while Keras'
``L2(l2)`` is ``l2 * sum(w ** 2)``:

>>> import numpy as np
>>> w = np.array([1., -2.])
>>> bool(0.1 * np.sum(w ** 2) / 2 == to_keras("l2_regularizer", 0.1)["l2"] * np.sum(w ** 2))
True
"""

from __future__ import absolute_import, division, print_function

import collections
import numbers
import types

__all__ = ["Scale", "Factory", "FACTORIES", "FACTORY", "NAMES", "SCALED",
           "KERAS_CLASSES", "KERAS_ALIASES", "to_keras", "TF1Optimizer",
           "TF1_OPTIMIZERS", "OPTIMIZER", "SPEC_KEYS", "tf1_arguments",
           "Schedule", "SCHEDULES", "SCHEDULE", "WeightDecay", "WEIGHT_DECAY",
           "OptimizerSpec", "parse_optimizer", "schedule_arguments",
           "DECAY_BIASES_DEFAULT", "BIAS_NAME", "SPEC_NAMES", "Rule",
           "VALUE_RULES", "spec_value"]

# One scale argument of a contrib factory: its name, the keyword of the Keras
# class that takes it, and the factor from contrib's convention to Keras'.
Scale = collections.namedtuple("Scale", "param keras_arg factor")

# One public name of ``tf.contrib.layers`` (and ``tf.contrib.slim``) that
# compat_reg provides: its parameters with their defaults as TF1 spelled them
# (``REQUIRED`` where there is none), its scales (empty for the names that
# only combine or apply regularizers) and the Keras class it maps to when all
# of its scales are given.
Factory = collections.namedtuple("Factory", "name params scales keras_class")

REQUIRED = object()

_L1 = Scale("scale", "l1", 1.0)   # sum|w| in both conventions
_L2 = Scale("scale", "l2", 0.5)   # contrib's l2_loss carries a 1/2 Keras lacks

FACTORIES = (
    Factory("l1_regularizer", (("scale", REQUIRED), ("scope", None)),
            (_L1,), "L1"),
    Factory("l2_regularizer", (("scale", REQUIRED), ("scope", None)),
            (_L2,), "L2"),
    Factory("l1_l2_regularizer",
            (("scale_l1", 1.0), ("scale_l2", 1.0), ("scope", None)),
            (_L1._replace(param="scale_l1"), _L2._replace(param="scale_l2")),
            "L1L2"),
    Factory("sum_regularizer", (("regularizer_list", REQUIRED),
                                ("scope", None)), (), None),
    Factory("apply_regularization", (("regularizer", REQUIRED),
                                     ("weights_list", None)), (), None),
)

FACTORY = collections.OrderedDict((f.name, f) for f in FACTORIES)
NAMES = tuple(FACTORY)
# the factories that take scales (and so are converted, not just renamed)
SCALED = tuple(f.name for f in FACTORIES if f.scales)

# Keras' regularizer classes and their lower-case aliases, with the keyword
# each takes. Keras 2's aliases also took ``l=`` (``l2(l=0.01)``), which is
# what ``tf_upgrade_v2`` writes and Keras 3 rejects.
KERAS_CLASSES = collections.OrderedDict([
    ("L1", ("l1",)), ("L2", ("l2",)), ("L1L2", ("l1", "l2"))])
KERAS_ALIASES = collections.OrderedDict([
    ("l1", "L1"), ("l2", "L2"), ("l1_l2", "L1L2")])


def to_keras(name, *args, **kwargs):
    """Keras keyword -> factor-converted scale for a contrib call's scales.

    Scales left out take contrib's defaults; zero (or ``None``) scales are
    dropped, as contrib dropped them.

    >>> to_keras("l1_l2_regularizer", 0.01, scale_l2=0.02)
    {'l1': 0.01, 'l2': 0.01}
    >>> to_keras("l1_l2_regularizer", 0.0, 0.02)
    {'l2': 0.01}
    """
    factory = FACTORY[name]
    bound = dict(factory.params)
    bound.update(zip([p for p, _ in factory.params], args))
    bound.update(kwargs)
    out = collections.OrderedDict()
    for scale in factory.scales:
        value = bound[scale.param]
        if value:
            out[scale.keras_arg] = value * scale.factor
    return dict(out)


# TF1's optimizers: the spec name compat_reg uses, the ``tf.compat.v1.train``
# class, the spec keys without a default, TF1's defaults for the rest, and the
# closest native Keras class with its keyword for each TF1 keyword and its own
# defaults where they differ from TF1's (Adam's epsilon is 1e-7 there).
TF1Optimizer = collections.namedtuple(
    "TF1Optimizer", "spec tf1_class required defaults keras_class keras_args "
    "keras_defaults")

TF1_OPTIMIZERS = (
    TF1Optimizer("sgd", "GradientDescentOptimizer", ("lr",), {},
                 "SGD", {"learning_rate": "learning_rate"}, {}),
    TF1Optimizer("momentum", "MomentumOptimizer", ("lr", "momentum"),
                 {"use_nesterov": False},
                 "SGD", {"learning_rate": "learning_rate",
                         "momentum": "momentum", "use_nesterov": "nesterov"},
                 {}),
    TF1Optimizer("adam", "AdamOptimizer", ("lr",),
                 {"beta1": 0.9, "beta2": 0.999, "epsilon": 1e-08},
                 "Adam", {"learning_rate": "learning_rate", "beta1": "beta_1",
                          "beta2": "beta_2", "epsilon": "epsilon"},
                 {"epsilon": 1e-07}),
    # contrib.opt's decoupled weight decay (``WEIGHT_DECAY`` below): the class
    # is ``tf.contrib.opt``'s, and Keras' ``weight_decay`` is not contrib's.
    TF1Optimizer("adamw", "AdamWOptimizer", ("lr", "weight_decay"),
                 {"beta1": 0.9, "beta2": 0.999, "epsilon": 1e-08},
                 "AdamW", {"learning_rate": "learning_rate", "beta1": "beta_1",
                           "beta2": "beta_2", "epsilon": "epsilon",
                           "weight_decay": "weight_decay"},
                 {"epsilon": 1e-07}),
    TF1Optimizer("momentumw", "MomentumWOptimizer",
                 ("lr", "momentum", "weight_decay"), {"use_nesterov": False},
                 "SGD", {"learning_rate": "learning_rate",
                         "momentum": "momentum", "use_nesterov": "nesterov",
                         "weight_decay": "weight_decay"},
                 {}),
)
OPTIMIZER = collections.OrderedDict((o.spec, o) for o in TF1_OPTIMIZERS)

# A spec key whose TF1 keyword differs (every other key is TF1's keyword).
SPEC_KEYS = {"lr": "learning_rate"}
SPEC_NAMES = dict((v, k) for k, v in SPEC_KEYS.items())

# contrib.opt's decoupled weight decay (``tf.contrib.opt.AdamWOptimizer``,
# ``MomentumWOptimizer``): the spec name, contrib's class, the TF1 optimizer
# it extends, and how the spec's absolute ``weight_decay`` (contrib decays
# ``var -= weight_decay * var`` each step, no learning rate in it) becomes
# the ``weight_decay`` of Keras' own optimizer, which Keras multiplies by the
# learning rate: divided by the (initial) learning rate. ``decay_biases``
# (spec key, default True: contrib decays every variable it updates) False
# keeps variables whose TF1 name contains ``"bias"`` out of the decay.
WeightDecay = collections.namedtuple(
    "WeightDecay", "spec contrib_class base keras_weight_decay")

WEIGHT_DECAY = collections.OrderedDict([
    ("adamw", WeightDecay("adamw", "tf.contrib.opt.AdamWOptimizer", "adam",
                          "weight_decay / learning_rate")),
    ("momentumw", WeightDecay("momentumw", "tf.contrib.opt.MomentumWOptimizer",
                              "momentum", "weight_decay / learning_rate")),
])
DECAY_BIASES_DEFAULT = True
BIAS_NAME = "bias"

# TF1's learning-rate schedules, the spec's optional ``"schedule"`` dict: its
# ``kind``, TF1's function in ``tf.compat.v1.train`` and the name of its step
# argument, whether it starts from the spec's ``lr`` (its ``learning_rate``),
# the keys without a default, TF1's defaults for the rest, and Keras' class
# with its keyword for each TF1 keyword (Keras' defaults are TF1's).
Schedule = collections.namedtuple(
    "Schedule", "kind tf1_function step_arg takes_lr required defaults "
    "keras_class keras_args")

SCHEDULES = (
    Schedule("exponential_decay", "exponential_decay", "global_step", True,
             ("decay_steps", "decay_rate"), {"staircase": False},
             "ExponentialDecay", {"learning_rate": "initial_learning_rate",
                                  "decay_steps": "decay_steps",
                                  "decay_rate": "decay_rate",
                                  "staircase": "staircase"}),
    Schedule("piecewise_constant", "piecewise_constant", "x", False,
             ("boundaries", "values"), {},
             "PiecewiseConstantDecay", {"boundaries": "boundaries",
                                        "values": "values"}),
    Schedule("polynomial_decay", "polynomial_decay", "global_step", True,
             ("decay_steps",), {"end_learning_rate": 0.0001, "power": 1.0,
                                "cycle": False},
             "PolynomialDecay", {"learning_rate": "initial_learning_rate",
                                 "decay_steps": "decay_steps",
                                 "end_learning_rate": "end_learning_rate",
                                 "power": "power", "cycle": "cycle"}),
)
SCHEDULE = collections.OrderedDict((s.kind, s) for s in SCHEDULES)

# A parsed optimizer spec: the ``TF1Optimizer`` entry, ``{TF1 keyword:
# value}``, the ``Schedule`` entry and ``{TF1 keyword: value}`` of its
# function (``learning_rate`` included where it takes one; no step), or None
# twice, and ``decay_biases`` (None for optimizers without weight decay).
# Immutable (the two dicts are read-only views): parsed once, passed down.
class OptimizerSpec(collections.namedtuple(
        "OptimizerSpec", "entry args schedule schedule_args decay_biases")):
    __slots__ = ()

    @property
    def kind(self):
        """The spec's ``"optimizer"``: ``"sgd"``, ``"adam"``, ..."""
        return self.entry.spec


# What every value of a spec key must be: the optimizer keys (by spec name;
# the optimizer classes' arguments of the same TF1 names are checked by the
# same rules, ``learning_rate`` as ``lr``) and the schedule keys. A bool is
# ``True``/``False`` (Python's or numpy's), never ``"false"`` nor ``0``; a
# number is a finite real that is not a bool, in the key's range; an integer
# is not a bool either. ``spec_value`` applies them, for every reader.
Rule = collections.namedtuple("Rule", "kind test expected out_of_range")

_POSITIVE = ("number", lambda v: v > 0, "a finite number > 0", "positive")
_FRACTION = ("number", lambda v: 0 <= v < 1, "a finite number >= 0 and < 1",
             "a finite number >= 0 and < 1")
_NON_NEGATIVE = ("number", lambda v: v >= 0, "a finite number >= 0",
                 "a finite number >= 0")
_BOOL = ("bool", None, "True or False", None)
_INT64_END = 2 ** 63  # steps are int64 in TF (global_step, iterations)

VALUE_RULES = dict((key, Rule(*rule)) for key, rule in (
    ("lr", _POSITIVE), ("momentum", _FRACTION), ("beta1", _FRACTION),
    ("beta2", _FRACTION), ("epsilon", _POSITIVE), ("weight_decay", _FRACTION),
    ("use_nesterov", _BOOL), ("decay_biases", _BOOL), ("use_locking", _BOOL),
    ("decay_steps", ("int", lambda v: v >= 1, "a positive integer",
                     "a positive integer")),
    ("decay_rate", _POSITIVE), ("staircase", _BOOL),
    ("end_learning_rate", _NON_NEGATIVE), ("power", _POSITIVE),
    ("cycle", _BOOL),
    ("boundaries", ("steps", lambda v: v >= 0,
                    "a non-empty list of integer steps >= 0",
                    "must increase strictly")),
    ("values", ("rates", None, "a non-empty list of finite learning rates "
                "> 0", None))))


def _real(value):
    """``value`` as a float if it is a finite real that is not a bool."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:  # an int beyond float's range
            return None
        if number - number == 0:  # not NaN, not +/-inf
            return number
    return None


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_bool(value):
    """Python's bool or numpy's (``numpy.bool_``, without importing numpy)."""
    kind = type(value)
    return isinstance(value, bool) or (
        kind.__module__ == "numpy" and kind.__name__ in ("bool_", "bool"))


def spec_value(key, value, name=None):
    """``value`` of spec key ``key``, parsed strictly, or a ValueError that
    names ``name`` (default: the key) and the value.

    >>> spec_value("use_nesterov", "false")
    Traceback (most recent call last):
    ...
    ValueError: use_nesterov must be True or False, got 'false'
    >>> spec_value("momentum", 1.0)
    Traceback (most recent call last):
    ...
    ValueError: momentum must be a finite number >= 0 and < 1, got 1.0
    >>> spec_value("lr", 1), spec_value("boundaries", (10, 20))
    (1.0, [10, 20])
    """
    rule = VALUE_RULES[SPEC_NAMES.get(key, key)]
    name = key if name is None else name

    def fail(expected):
        raise ValueError("%s must be %s, got %r" % (name, expected, value))

    if rule.kind == "bool":
        if not _is_bool(value):
            fail(rule.expected)
        return bool(value)
    if rule.kind in ("int", "steps"):
        steps = value if rule.kind == "steps" else [value]
        if rule.kind == "steps" and (not isinstance(value, (list, tuple))
                                     or not value):
            fail(rule.expected)
        if not all(_is_int(b) and rule.test(b) for b in steps):
            fail(rule.expected)
        if any(b >= _INT64_END for b in steps):
            fail(rule.expected + " below 2**63 (TF counts steps in int64)")
        if any(b >= c for b, c in zip(steps[:-1], steps[1:])):
            raise ValueError("%s %s, got %r" % (name, rule.out_of_range,
                                                value))
        steps = [int(b) for b in steps]
        return steps if rule.kind == "steps" else steps[0]
    if rule.kind == "rates":
        rates = [_real(v) for v in value] if isinstance(
            value, (list, tuple)) else []
        if not rates or not all(r is not None and r > 0 for r in rates):
            fail(rule.expected)
        return rates
    number = _real(value)
    if number is None:
        fail(rule.expected)
    if not rule.test(number):
        fail(rule.out_of_range)
    return number


def schedule_arguments(spec, lr=None):
    """``(Schedule, {TF1 keyword: value})`` of ``spec["schedule"]``, or None.

    Keys left out take TF1's defaults; unknown keys are an error.
    ``piecewise_constant`` starts at ``values[0]``: the spec's ``lr`` may be
    left out, and if given must equal it.

    >>> entry, args = schedule_arguments(
    ...     {"lr": 0.1, "schedule": {"kind": "exponential_decay",
    ...                              "decay_steps": 100, "decay_rate": 0.5}})
    >>> entry.tf1_function, sorted(args.items())
    ('exponential_decay', [('decay_rate', 0.5), ('decay_steps', 100), \
('learning_rate', 0.1), ('staircase', False)])
    >>> schedule_arguments({"lr": 0.1, "schedule": {
    ...     "kind": "piecewise_constant", "boundaries": [10],
    ...     "values": [0.5, 0.05]}})
    Traceback (most recent call last):
    ...
    ValueError: schedule 'piecewise_constant' starts at values[0] = 0.5, but \
the spec's lr is 0.1: leave lr out or make it 0.5
    """
    schedule = spec.get("schedule")
    if schedule is None:
        return None
    if not isinstance(schedule, dict):
        raise ValueError("'schedule' must be a dict like {'kind': "
                         "'exponential_decay', ...}, got %r" % (schedule,))
    kind = schedule.get("kind")
    if kind not in SCHEDULE:
        raise ValueError("unknown schedule kind %r: expected one of %s" % (
            kind, ", ".join(repr(k) for k in SCHEDULE)))
    entry = SCHEDULE[kind]
    known = set(entry.required) | set(entry.defaults) | {"kind"}
    unknown = sorted(set(schedule) - known)
    if unknown:
        raise ValueError("schedule %r has no %s: its keys are %s" % (
            kind, ", ".join(repr(k) for k in unknown),
            ", ".join(repr(k) for k in sorted(known))))
    missing = [key for key in entry.required if schedule.get(key) is None]
    if missing:
        raise ValueError("schedule %r is missing %s" % (
            kind, ", ".join(repr(k) for k in missing)))
    args = collections.OrderedDict()
    if lr is None and spec.get("lr") is not None:
        lr = spec_value("lr", spec["lr"], "schedule %r: the spec's 'lr'" % kind)
    if entry.takes_lr:
        if lr is None:
            raise ValueError("schedule %r decays the spec's 'lr', which is "
                             "missing" % kind)
        args["learning_rate"] = lr
    for key in entry.required:
        args[key] = spec_value(key, schedule[key], "schedule %r: %r" % (
            kind, key))
    for key, default in sorted(entry.defaults.items()):
        value = schedule.get(key)
        args[key] = default if value is None else spec_value(
            key, value, "schedule %r: %r" % (kind, key))
    if kind == "piecewise_constant":
        if len(args["values"]) != len(args["boundaries"]) + 1:
            raise ValueError("schedule 'piecewise_constant' needs one value "
                             "more than boundaries, got %d boundaries and %d "
                             "values" % (len(args["boundaries"]),
                                         len(args["values"])))
        if lr is not None and lr != args["values"][0]:
            raise ValueError("schedule 'piecewise_constant' starts at "
                             "values[0] = %r, but the spec's lr is %r: leave lr"
                             " out or make it %r" % (args["values"][0], lr,
                                                     args["values"][0]))
    return entry, args


def parse_optimizer(spec, is_tensor=None):
    """An ``OptimizerSpec``: the whole optimizer spec, checked.

    ``spec`` is a golden ``config`` (or any dict) with ``"optimizer"`` and its
    keys; a key left out or ``None`` takes TF1's default; keys of no use to
    any optimizer are ignored, but ``"weight_decay"``/``"decay_biases"`` on
    an optimizer without weight decay are an error (the decay would be lost).
    Every value is parsed by ``spec_value`` (``VALUE_RULES``): a bool must be
    a bool, a number finite and in its key's range, or a ValueError names
    the key and the value. ``is_tensor`` (optional) says which values TF1's
    optimizers took as they were, unparsed: tensors, variables, schedules
    (this module knows no TensorFlow; ``compat_reg.optimizers`` passes it).
    An ``OptimizerSpec`` is returned as it is: parse once, pass it down.

    >>> parsed = parse_optimizer({"optimizer": "adamw", "lr": 0.001,
    ...                           "weight_decay": 1e-4, "decay_biases": False})
    >>> parsed.entry.tf1_class, parsed.args["weight_decay"], parsed.decay_biases
    ('AdamWOptimizer', 0.0001, False)
    >>> parse_optimizer({"optimizer": "adam", "lr": 0.1, "weight_decay": 1e-4})
    Traceback (most recent call last):
    ...
    ValueError: 'adam' has no weight decay: use 'adamw' for contrib's \
AdamWOptimizer (spec has weight_decay=0.0001)
    """
    if isinstance(spec, OptimizerSpec):
        return spec
    if not isinstance(spec, dict):
        raise TypeError("optimizer spec must be a dict like "
                        "{'optimizer': 'adam', 'lr': 0.001}, got %r" % (spec,))
    if "optimizer" not in spec:
        raise ValueError("optimizer spec %r has no 'optimizer' key" % (spec,))
    kind = spec["optimizer"]
    if not isinstance(kind, str) or kind not in OPTIMIZER:
        raise ValueError("unknown optimizer %r: expected one of %s" % (
            kind, ", ".join(repr(k) for k in sorted(OPTIMIZER))))
    entry = OPTIMIZER[kind]

    def value(key, default=None):
        """The spec's ``key``, parsed strictly; ``default`` if absent."""
        given = spec.get(key)
        if given is None or (is_tensor is not None and is_tensor(given)):
            return default if given is None else given
        return spec_value(key, given, "optimizer %r: %s" % (kind, key))

    lr = value("lr")
    schedule = schedule_arguments(spec, lr)
    if lr is None and schedule is not None and not schedule[0].takes_lr:
        lr = schedule[1]["values"][0]  # piecewise_constant: its first value
    filled = dict(spec, lr=lr)
    missing = [key for key in entry.required if filled.get(key) is None]
    if missing:
        raise ValueError("optimizer spec %r for %r is missing %s" % (
            spec, kind, ", ".join(repr(k) for k in missing)))
    decay_biases = None
    if kind in WEIGHT_DECAY:
        decay_biases = value("decay_biases", DECAY_BIASES_DEFAULT)
    else:
        for key in ("weight_decay", "decay_biases"):
            if spec.get(key) is not None:
                with_wd = [w.spec for w in WEIGHT_DECAY.values()
                           if w.base == kind]
                hint = ("use %r for contrib's %s" % (with_wd[0], WEIGHT_DECAY[
                    with_wd[0]].contrib_class.split(".")[-1])
                        if with_wd else "contrib had none for it")
                raise ValueError("%r has no weight decay: %s (spec has %s=%r)"
                                 % (kind, hint, key, spec[key]))
    args = collections.OrderedDict(
        (SPEC_KEYS.get(key, key), lr if key == "lr" else value(key))
        for key in entry.required)
    for key, default in sorted(entry.defaults.items()):
        args[key] = value(key, default)
    return OptimizerSpec(entry, types.MappingProxyType(args),
                         schedule and schedule[0],
                         schedule and types.MappingProxyType(schedule[1]),
                         decay_biases)


def tf1_arguments(spec):
    """``(TF1Optimizer, {TF1 keyword: value})`` of an optimizer spec.

    ``spec`` is a golden ``config`` (or any dict) with ``"optimizer"`` and its
    keys; a key left out or ``None`` takes TF1's default, keys of no use to
    that optimizer are ignored (``parse_optimizer`` checks the rest: the
    schedule, the weight decay). Under a schedule ``learning_rate`` is the
    initial rate:

    >>> entry, args = tf1_arguments({"optimizer": "adam", "lr": 0.001,
    ...                              "epsilon": None, "momentum": 0.9})
    >>> entry.tf1_class, sorted(args.items())
    ('AdamOptimizer', [('beta1', 0.9), ('beta2', 0.999), ('epsilon', 1e-08), \
('learning_rate', 0.001)])
    >>> tf1_arguments({"optimizer": "rmsprop", "lr": 0.1})
    Traceback (most recent call last):
    ...
    ValueError: unknown optimizer 'rmsprop': expected one of 'adam', 'adamw', \
'momentum', 'momentumw', 'sgd'
    """
    parsed = parse_optimizer(spec)
    return parsed.entry, parsed.args
