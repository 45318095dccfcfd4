"""Every value of an optimizer spec, parsed strictly, by every reader.

``bool("false")`` is True: a spec (a dict from code, a golden or workload
JSON file, a trace) that says ``"use_nesterov": "false"`` must not turn
Nesterov on. For every key of every optimizer kind and of every schedule,
each hostile value class (strings, None, NaN, +/-inf, -1, 0, bools for
numbers, numbers for bools, lists, dicts) either is what the key means
(``DOMAIN`` below, stated from TF1's documentation, not from compat_reg)
and is parsed to it, or every reader raises a ValueError that names the key
and shows the value. The readers: ``convention.parse_optimizer`` and
``optimizers.get``/``tf1``/``keras_native``, a golden/workload file's
``config`` (``golden_files.check_config``), a trace's ``spec_hparams``, and
for the keys the optimizer classes take, their constructors and
``from_config``.
"""

import contextlib
import math

import numpy as np
import pytest
import tensorflow as tf

from compat_reg import _compat, convention, golden_files, optimizers
from compat_reg.parity import trace

NAN, INF = float("nan"), float("inf")

# What each key means. number: a finite real, not a bool, for which the test
# holds; int: an integer, not a bool; bool: True or False; the list kinds.
DOMAIN = {
    "lr": ("number", lambda v: v > 0),                 # a learning rate
    "momentum": ("number", lambda v: 0 <= v < 1),      # a decay of the sum
    "beta1": ("number", lambda v: 0 <= v < 1),         # Adam's decays
    "beta2": ("number", lambda v: 0 <= v < 1),
    "epsilon": ("number", lambda v: v > 0),            # a denominator's floor
    "weight_decay": ("number", lambda v: 0 <= v < 1),  # var -= wd * var
    "use_nesterov": ("bool", None),
    "decay_biases": ("bool", None),
    "use_locking": ("bool", None),
    "decay_steps": ("int", lambda v: 1 <= v < 2 ** 63),  # int64 steps
    "decay_rate": ("number", lambda v: v > 0),         # rate ** (step / n)
    "staircase": ("bool", None),
    "end_learning_rate": ("number", lambda v: v >= 0),
    "power": ("number", lambda v: v > 0),
    "cycle": ("bool", None),
    "boundaries": ("steps", None),                     # increasing steps
    "values": ("rates", None),                         # learning rates
}

HOSTILE = {
    "str_false": "false", "str_true": "true", "str_0": "0", "str_number": "0.5",
    "none": None, "nan": NAN, "inf": INF, "neg_inf": -INF, "minus_1": -1,
    "zero": 0, "zero_float": 0.0, "half": 0.5, "one": 1, "one_float": 1.0,
    "two_and_half": 2.5, "true": True, "false": False,
    "np_true": np.bool_(True), "np_float32": np.float32(0.5),
    "list": [0.5], "dict": {"value": 0.5}, "huge_int": 10 ** 400,
}
LIST_HOSTILE = {
    "str": "false", "nan": NAN, "empty": [], "number": 10, "decreasing": [20, 10],
    "equal": [10, 10], "floats": [10.0, 20.0], "negative": [-1, 10],
    "bools": [True, False], "strings": ["10", "20"], "nan_item": [10, NAN],
    "good_steps": [5, 10], "huge_step": [5, 10 ** 30], "rates": [0.5, 0.25, 0.125],
    "zero_rate": [0.5, 0.0, 0.1], "negative_rate": [0.5, -0.1, 0.1],
    "inf_rate": [0.5, INF, 0.1], "bool_rate": [0.5, True, 0.1],
    "str_rate": [0.5, "0.1", 0.1], "np_rates": [np.float32(0.5), 0.25, 0.125],
}

BASE = {
    "sgd": {"optimizer": "sgd", "lr": 0.1},
    "momentum": {"optimizer": "momentum", "lr": 0.1, "momentum": 0.9},
    "adam": {"optimizer": "adam", "lr": 0.1},
    "adamw": {"optimizer": "adamw", "lr": 0.1, "weight_decay": 1e-4},
    "momentumw": {"optimizer": "momentumw", "lr": 0.1, "momentum": 0.9,
                  "weight_decay": 1e-4},
}
SCHEDULES = {
    "exponential_decay": {"kind": "exponential_decay", "decay_steps": 10,
                          "decay_rate": 0.5},
    "piecewise_constant": {"kind": "piecewise_constant", "boundaries": [5, 10],
                           "values": [0.1, 0.05, 0.01]},
    "polynomial_decay": {"kind": "polynomial_decay", "decay_steps": 10},
}


def _real(value):
    return isinstance(value, (int, float, np.floating, np.integer)) and not \
        isinstance(value, (bool, np.bool_))


def meaning(key, value):
    """What ``value`` of ``key`` means (parsed), or None if it means nothing."""
    kind, test = DOMAIN[key]
    if kind == "bool":
        return bool(value) if isinstance(value, (bool, np.bool_)) else None
    if kind == "int":
        ok = _real(value) and isinstance(value, (int, np.integer)) and test(value)
        return int(value) if ok else None
    if kind == "steps":
        ok = (isinstance(value, list) and value and all(
            isinstance(b, int) and not isinstance(b, bool) and 0 <= b < 2 ** 63
            for b in value) and all(a < b for a, b in zip(value, value[1:])))
        return list(value) if ok else None
    if kind == "rates":
        ok = isinstance(value, list) and value and all(
            _real(r) and math.isfinite(float(r)) and r > 0 for r in value)
        return [float(r) for r in value] if ok else None
    if not _real(value):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) and test(number) else None


def optimizer_keys(kind):
    entry = convention.OPTIMIZER[kind]
    keys = list(entry.required) + sorted(entry.defaults)
    return keys + (["decay_biases"] if kind in convention.WEIGHT_DECAY else [])


def test_every_spec_key_has_a_meaning():
    keys = set()
    for kind in convention.OPTIMIZER:
        keys.update(optimizer_keys(kind))
    for entry in convention.SCHEDULE.values():
        keys.update(entry.required)
        keys.update(entry.defaults)
    assert keys <= set(DOMAIN)
    assert set(BASE) == set(convention.OPTIMIZER)
    assert set(SCHEDULES) == set(convention.SCHEDULE)


def _golden_config(spec):
    config = {"model": "mlp", "sizes": [4, 3], "activation": "relu",
              "batch": 2, "epochs": 1}
    config.update(spec)
    return config


def _readers(spec):
    """Every reader of an optimizer spec, by name."""
    readers = {
        "parse_optimizer": lambda: convention.parse_optimizer(spec),
        "tf1": lambda: optimizers.tf1(spec),
        "spec_hparams": lambda: trace.spec_hparams(spec),
        "golden_config": lambda: golden_files.check_config(
            _golden_config(spec), "workload.json"),
    }
    if "schedule" not in spec or _compat.OPTIMIZER_CALLABLE_RATE:  # TF >= 1.10
        readers["get"] = lambda: optimizers.get(spec)
    if _compat.KERAS_TF2_API and (spec.get("optimizer") not in convention.WEIGHT_DECAY
                                  or _compat.KERAS_WEIGHT_DECAY):
        readers["keras_native"] = lambda: optimizers.keras_native(spec)
    return readers


def _graph():
    """TF1's optimizers (``tf1(spec)``) build in a graph on TF 1.15."""
    return (tf.Graph().as_default() if not _compat.executing_eagerly()
            else contextlib.nullcontext())


def _through_every_reader(spec, key, value, want, refusal=None):
    """Read ``spec`` (``key`` set to ``value``) with every reader: each takes
    it if it means ``want``, else raises a ValueError that matches
    ``refusal`` or, by default, names the key and shows the value. Returns
    the parsed spec, or None."""
    with _graph():
        for name, read in sorted(_readers(spec).items()):
            if want is not None and refusal is None:
                read()
                continue
            with pytest.raises(ValueError) as info:
                read()
            message = str(info.value)
            if refusal is not None:
                assert refusal in message, (name, message)
            else:
                assert key in message, (name, message)
                assert repr(value)[:40] in message, (name, message)
        if want is None or refusal is not None:
            return None
        return convention.parse_optimizer(spec)


def _assert_parsed(got, want):
    assert got == want and type(got) is type(want), (got, want)


OPTIMIZER_CASES = [(kind, key, hostile) for kind in sorted(BASE)
                   for key in optimizer_keys(kind) for hostile in sorted(HOSTILE)]


@pytest.mark.parametrize("kind,key,hostile", OPTIMIZER_CASES)
def test_optimizer_key(kind, key, hostile):
    """None is a key left out: TF1's default, or ``missing`` if required."""
    value = HOSTILE[hostile]
    spec = dict(BASE[kind])
    spec[key] = value
    entry = convention.OPTIMIZER[kind]
    if value is None:
        want = (convention.DECAY_BIASES_DEFAULT if key == "decay_biases"
                else entry.defaults.get(key))
    else:
        want = meaning(key, value)
    missing = value is None and key in entry.required
    parsed = _through_every_reader(spec, key, value, want,
                                   "missing '%s'" % key if missing else None)
    if parsed is not None:
        _assert_parsed(parsed.decay_biases if key == "decay_biases" else
                       parsed.args[convention.SPEC_KEYS.get(key, key)], want)


SCHEDULE_CASES = [
    (kind, key, hostile) for kind in sorted(SCHEDULES)
    for key in (convention.SCHEDULE[kind].required
                + tuple(sorted(convention.SCHEDULE[kind].defaults)))
    for hostile in sorted(LIST_HOSTILE if DOMAIN[key][0] in ("steps", "rates")
                          else HOSTILE)]


@pytest.mark.parametrize("kind,key,hostile", SCHEDULE_CASES)
def test_schedule_key(kind, key, hostile):
    is_list = DOMAIN[key][0] in ("steps", "rates")
    value = (LIST_HOSTILE if is_list else HOSTILE)[hostile]
    schedule = dict(SCHEDULES[kind])
    schedule[key] = value
    spec = {"optimizer": "momentum", "lr": 0.1, "momentum": 0.9,
            "schedule": schedule}
    if kind == "piecewise_constant":
        del spec["lr"]  # the schedule's values[0]
    entry = convention.SCHEDULE[kind]
    want = (entry.defaults.get(key) if value is None else meaning(key, value))
    refusal = None
    if value is None and key in entry.required:
        refusal = "missing '%s'" % key
    elif want is not None and kind == "piecewise_constant" and len(
            schedule["values"]) != len(schedule["boundaries"]) + 1:
        refusal = "one value more"
    parsed = _through_every_reader(spec, key, value, want, refusal)
    if parsed is not None:
        _assert_parsed(parsed.schedule_args[key], want)


def test_nesterov_false_string_is_refused_not_true():
    """The issue's case: ``"false"`` was ``bool("false")``, Nesterov on."""
    spec = dict(BASE["momentum"], use_nesterov="false")
    with pytest.raises(ValueError, match="use_nesterov must be True or False, "
                                         "got 'false'"):
        optimizers.get(spec)
    spec["use_nesterov"] = np.bool_(False)
    assert convention.parse_optimizer(spec).args["use_nesterov"] is False


@pytest.mark.parametrize("bad", [["sgd"], 3, None, {"kind": "sgd"}])
def test_optimizer_kind_must_be_a_known_name(bad):
    with pytest.raises(ValueError, match="unknown optimizer"):
        convention.parse_optimizer({"optimizer": bad, "lr": 0.1})


# -- a spec parsed once, passed down --------------------------------------------

@pytest.mark.parametrize("schedule", [None] + sorted(SCHEDULES))
@pytest.mark.parametrize("kind", sorted(BASE))
def test_a_parsed_spec_is_read_as_its_dict(kind, schedule):
    """``optimizers.spec.parse`` once: the result cannot be changed, parsing
    it again returns it, and every reader given it builds what the dict
    builds (the same class and hyper-parameters read back from it)."""
    spec = dict(BASE[kind])
    if schedule is not None:
        spec["schedule"] = SCHEDULES[schedule]
        if schedule == "piecewise_constant":
            del spec["lr"]  # the schedule's values[0]
    parsed = optimizers.spec.parse(spec)
    assert parsed == convention.parse_optimizer(spec) and parsed.kind == kind
    assert optimizers.spec.parse(parsed) is parsed
    assert convention.parse_optimizer(parsed) is parsed
    for arguments in (parsed.args, parsed.schedule_args):
        if arguments is not None:
            with pytest.raises(TypeError):
                arguments["learning_rate"] = 1.0
    assert trace.spec_hparams(parsed) == trace.spec_hparams(spec)
    with _graph():
        for name in sorted(set(_readers(spec)) & {"get", "tf1", "keras_native"}):
            build = getattr(optimizers, name)
            from_dict, from_parsed = build(spec), build(parsed)
            assert type(from_parsed) is type(from_dict), name
            assert (trace.optimizer_hparams(from_parsed, kind)
                    == trace.optimizer_hparams(from_dict, kind)), name


# -- the optimizer classes: constructors and from_config ----------------------

CLASS_ARGUMENTS = {  # class name -> a valid config's hyper-parameters
    "GradientDescent": {"learning_rate": 0.1, "use_locking": False},
    "Momentum": {"learning_rate": 0.1, "momentum": 0.9, "use_locking": False,
                 "use_nesterov": False},
    "Adam": {"learning_rate": 0.1, "beta1": 0.9, "beta2": 0.999,
             "epsilon": 1e-8, "use_locking": False},
    "AdamW": {"weight_decay": 1e-4, "learning_rate": 0.1, "beta1": 0.9,
              "beta2": 0.999, "epsilon": 1e-8, "use_locking": False,
              "decay_biases": True},
    "MomentumW": {"weight_decay": 1e-4, "learning_rate": 0.1, "momentum": 0.9,
                  "use_locking": False, "use_nesterov": False,
                  "decay_biases": False},
}
CLASS_CASES = [(name, argument, hostile) for name in sorted(CLASS_ARGUMENTS)
               for argument in sorted(CLASS_ARGUMENTS[name])
               for hostile in sorted(HOSTILE) if HOSTILE[hostile] is not None]


@pytest.mark.skipif(not _compat.KERAS_OPTIMIZER_API,
                    reason="the classes are tf.compat.v1.train's here")
@pytest.mark.parametrize("name,argument,hostile", CLASS_CASES)
def test_class_constructor_and_from_config(name, argument, hostile):
    cls = getattr(optimizers, name)
    value = HOSTILE[hostile]
    config = dict(CLASS_ARGUMENTS[name])
    config[argument] = value
    key = convention.SPEC_NAMES.get(argument, argument)
    want = meaning(key, value)
    for door in ("constructor", "from_config"):
        make = (lambda: cls(**config)) if door == "constructor" else (
            lambda: cls.from_config(dict(config, name=name)))
        if want is None:
            with pytest.raises(ValueError) as info:
                make()
            if door == "from_config" and argument == "learning_rate" and \
                    isinstance(value, dict):
                continue  # Keras reads a dict rate as a schedule's config
            assert "%s: %s must be" % (name, argument) in str(info.value)
        else:
            optimizer = make()
            got = optimizer.get_config()[argument]
            assert got == want and type(got) is type(want), (got, want)


@pytest.mark.parametrize("cls", [optimizers.AdamWOptimizer,
                                 optimizers.MomentumWOptimizer],
                         ids=lambda c: c.__name__)
@pytest.mark.parametrize("argument,value", [
    ("decay_biases", "false"), ("decay_biases", 0), ("weight_decay", "1e-4"),
    ("weight_decay", NAN), ("weight_decay", -1e-4), ("weight_decay", True)])
def test_tf1_side_ports_parse_their_arguments(cls, argument, value):
    """The TF1-side ports of contrib's classes (every TF, TF 1.15 too)."""
    kwargs = {"weight_decay": 1e-4, "learning_rate": 0.1}
    if cls is optimizers.MomentumWOptimizer:
        kwargs["momentum"] = 0.9
    kwargs[argument] = value
    with _graph():
        with pytest.raises(ValueError, match="%s: %s must be" % (
                cls.__name__, argument)):
            cls(**kwargs)


@pytest.mark.parametrize("name", golden_files.training_cases())
def test_a_golden_trace_parses_its_spec_once(name, monkeypatch):
    """Read as a trace, a golden file's optimizer spec is parsed once (its
    config's check) and the parsed form passed on to ``spec_hparams``."""
    parsed = []
    parse = convention.parse_optimizer
    monkeypatch.setattr(convention, "parse_optimizer", lambda spec, *a: (
        parsed.append(spec) if not isinstance(spec, convention.OptimizerSpec)
        else None) or parse(spec, *a))
    got = trace.load(golden_files.path("train_%s.json" % name))
    assert len(parsed) == 1
    assert got.port["optimizer"] == trace.spec_hparams(parse(parsed[0]))
