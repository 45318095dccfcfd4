"""Every form of scale against what TF 1.15's contrib did with it.

``tests/data/tf1_scale_forms/tf1_scale_forms.json`` is written by
``record.py`` next to it, run on real TF 1.15: for each form (a Python
float, a numpy scalar, a 0-d array, a list, a string, a tensor, ...) and
each factory call, what contrib raised or the penalty it computed on
float32 and float64 weights. The expected behaviour of compat_reg is read
from that record, by the rules of docs/migration_details.md ("Every form
of scale"):

* where TF1 raised when the regularizer was made, compat_reg raises the
  same exception with the same message;
* where TF1 made one whose penalties are finite, scalar and not negative,
  compat_reg gives the same penalties, except for integers and bools
  (``np.array(1)``, ``np.bool_(True)``), which it refuses as contrib refused
  ``1`` and ``True``;
* where TF1 made one that gives NaN, inf, negative or vector penalties, or
  fails when applied, compat_reg refuses it when made, with a message that
  says so;
* a floating tensor or variable scale of another dtype than the weights,
  which TF1 refused when applied, is cast to the weights' dtype (as a Python
  float scale is): the penalty is contrib's arithmetic in numpy.

In graph mode (TF 1.15) a tensor's value is not known when the regularizer
is made: there compat_reg checks its dtype and shape only, and a negative or
NaN tensor gives what TF1 gave.
"""

import contextlib
import fractions  # noqa: F401  (the record's expressions use it)
import json
import os
import re

import numpy as np
import pytest
import tensorflow as tf

import compat_reg
from compat_reg import _compat
from golden_support import evaluate

RECORD_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data",
                           "tf1_scale_forms", "tf1_scale_forms.json")
with open(RECORD_PATH) as _handle:
    RECORD = json.load(_handle)
FORMS, CALLS = RECORD["forms"], RECORD["calls"]
WEIGHTS = np.array(RECORD["weights"])
DTYPES = ("float32", "float64")
OTHER = 0.25  # the other scale of the l1_l2 calls (record.py's CALLS)

# contrib's conversion of a floating tensor to the weights' dtype, refused
_DTYPE_ERROR = re.compile(r"with dtype float\d+|variable of type 'float\d+_ref'")


def _make(expression):
    return eval(expression)  # noqa: S307  (the committed record's expressions)


def _number(form):
    """The form's value as a float64, without compat_reg."""
    value = _make(FORMS[form]["expression"])
    if _is_tensor_form(form):
        return float(evaluate(tf.cast(value, tf.float64)))
    return float(np.asarray(value, dtype=np.float64))


def _numpy_penalty(call, scale, dtype):
    """contrib's arithmetic in numpy: ``s * sum|w|``, ``s * sum(w ** 2) / 2``."""
    w = WEIGHTS.astype(dtype)
    l1, l2 = np.sum(np.abs(w)), np.sum(w * w) / 2
    return {"l1": scale * l1, "l2": scale * l2,
            "l1_l2_first": scale * l1 + OTHER * l2,
            "l1_l2_second": OTHER * l1 + scale * l2}[call]


def _value(penalty):
    """A recorded penalty as a float (None: disabled, no penalty: 0)."""
    if penalty is None:
        return 0.0
    return float(penalty[0]) if len(penalty) == 1 else float("nan")


def tf1_verdict(outcome):
    """What TF 1.15 did, from the record alone: ``raised`` when made;
    ``nan``, ``inf``, ``negative`` or ``vector`` penalties (a vector also
    where contrib's own sum of one failed, in l1_l2); ``dtype`` (a floating
    tensor refused on weights of another dtype only); ``failed`` when
    applied; else ``accepted`` (finite, scalar, not negative penalties)."""
    if outcome["made"]["raises"]:
        return "raised"
    applied = [outcome[d] for d in DTYPES]
    for a in applied:
        if a["raises"] or a["penalty"] is None:
            continue
        if a["shape"] != []:
            return "vector"
        if a["penalty"] == ["nan"]:
            return "nan"
        if a["penalty"][0] in ("inf", "-inf"):
            return "inf"
        if a["penalty"][0] < 0:
            return "negative"
    failures = [a["message"] for a in applied if a["raises"]]
    if any(m.startswith("Shapes must be equal rank") for m in failures):
        return "vector"
    if failures:
        return ("dtype" if all(_DTYPE_ERROR.search(m) for m in failures)
                else "failed")
    return "accepted"


# compat_reg's refusal of each kind of nonsense TF1 accepted when made, and
# the words of the message that say what TF1 did with it
REFUSALS = {
    "nan": (ValueError, r"is NaN"),
    "inf": (ValueError, r"is infinite|overflows float32"),
    "negative": (ValueError, r"less than 0"),
    "vector": (ValueError, r"must be a scalar, .*TF1's contrib made a penalty "
                           r"of that shape"),
    "failed": (TypeError, r"fail\w* (only )?when the regularizer (was|is) "
                          r"applied"),
    "integer": (ValueError, r"cannot be an? (integer|bool)"),
}


def _is_tensor_form(form):
    return FORMS[form]["expression"].startswith("tf.")


def _is_integer_form(form):
    """An integer or bool that is not a tensor: refused, whatever TF1 did."""
    if _is_tensor_form(form):
        return False
    value = _make(FORMS[form]["expression"])
    return isinstance(value, (bool, int, np.integer, np.bool_)) or (
        isinstance(value, np.ndarray) and value.dtype.kind in "biu"
        and value.ndim == 0)


def expected(form, call):
    """``("raise", type, message or pattern)`` or ``("accept", dtype -> value)``."""
    outcome = FORMS[form]["calls"][call]
    verdict = tf1_verdict(outcome)
    if verdict == "raised":
        made = outcome["made"]
        return ("raise", made["raises"], re.escape(made["message"]) + "$")
    graph_tensor = _is_tensor_form(form) and not _compat.executing_eagerly()
    if verdict == "accepted" and _is_integer_form(form):
        verdict = "integer"
    if verdict in ("nan", "negative") and graph_tensor:
        verdict = "dtype"  # its value is unknown when made: TF1's arithmetic
    if verdict in REFUSALS:
        error, pattern = REFUSALS[verdict]
        return ("raise", error.__name__, pattern)
    if verdict == "dtype":
        return ("accept", dict((d, _numpy_penalty(call, _number(form), d))
                               for d in DTYPES))
    return ("accept", dict((d, _value(outcome[d]["penalty"])) for d in DTYPES))


CASES = [(form, call) for form in FORMS for call in CALLS]


def test_the_record_is_tf1s():
    assert RECORD["format"] == "compat_reg-tf1-scale-forms-1"
    assert RECORD["env"]["tensorflow"].startswith("1.15")
    assert set(CALLS) == {"l1", "l2", "l1_l2_first", "l1_l2_second"}


@pytest.mark.parametrize("form,call", [
    case for case in CASES
    if tf1_verdict(FORMS[case[0]]["calls"][case[1]]) == "accepted"])
def test_tf1_accepted_values_are_contribs_arithmetic(form, call):
    """The record's penalties are numpy's contrib arithmetic on the form's
    number (a disabled regularizer: none, 0): the record and the rule agree."""
    outcome = FORMS[form]["calls"][call]
    for dtype in DTYPES:
        want = _numpy_penalty(call, _number(form), dtype)
        assert _value(outcome[dtype]["penalty"]) == pytest.approx(
            want, rel=1e-6), dtype


def _build(form, call):
    spec = CALLS[call]
    scale = _make(FORMS[form]["expression"])
    args = [scale if a == "S" else a for a in spec["arguments"]]
    return getattr(compat_reg, spec["function"])(*args)


@pytest.mark.parametrize("form,call", CASES)
def test_compat_reg_does_what_the_record_says(form, call):
    want = expected(form, call)
    with _fresh_graph():
        if want[0] == "raise":
            with pytest.raises(Exception) as info:
                _build(form, call)
            assert type(info.value).__name__ == want[1], info.value
            assert re.search(want[2], str(info.value)), str(info.value)
            return
        regularizer = _build(form, call)
        for dtype in DTYPES:
            penalty = regularizer(tf.constant(WEIGHTS, dtype=dtype))
            got = 0.0 if penalty is None else float(evaluate(penalty))
            want_value = want[1][dtype]
            if want_value != want_value:  # NaN, graph-mode tensor
                assert got != got, dtype
            else:
                assert got == pytest.approx(want_value, rel=1e-6), dtype


def _fresh_graph():
    """A new graph in graph mode (TF 1.15), as TF1 code made its scales."""
    if _compat.executing_eagerly():
        return contextlib.nullcontext()
    return tf.Graph().as_default()


@pytest.mark.parametrize("form", sorted(FORMS))
def test_refusal_messages_name_the_argument(form):
    """A refused form's message names the scale it is about, per call."""
    for call in CALLS:
        want = expected(form, call)
        if want[0] != "raise":
            continue
        with _fresh_graph():
            with pytest.raises((TypeError, ValueError)) as info:
                _build(form, call)
        message = str(info.value)
        if "less than 0" in message:  # contrib's own message names no argument
            continue
        arg = {"l1": "scale", "l2": "scale", "l1_l2_first": "scale_l1",
               "l1_l2_second": "scale_l2"}[call]
        assert message.startswith(arg + " ") or message.startswith(arg + "="), \
            message
