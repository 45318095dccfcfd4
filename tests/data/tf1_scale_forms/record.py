"""Record what TF 1.15's contrib regularizers do with each form of scale.

Run by the tf1 environment (real TF 1.15, ``tf.contrib``):

    .tox/tf1/bin/python tests/data/tf1_scale_forms/record.py

It writes ``tf1_scale_forms.json`` next to itself: for every scale form
(``FORMS``: the expression, evaluated inside a fresh graph) and every
factory call (``l1``, ``l2``, ``l1_l2`` with the form as either scale), what
the factory did (raised: the exception's type and message; returned: None or
a function) and, for a function, what applying it to ``WEIGHTS`` as float32
and as float64 gave in a Session: the penalty (its value, its shape) or the
exception's type and message. ``tests/test_scale_forms.py`` reads the file.
"""

from __future__ import absolute_import, division, print_function

import collections
import fractions  # noqa: F401  (used by FORMS' expressions)
import json
import math
import os
import sys

import numpy as np
import tensorflow as tf

# The form's name and the Python expression that makes it (``np``, ``tf``,
# ``fractions`` in scope). Tensors and variables are made in the graph the
# regularizer is applied in, as TF1 code made them.
FORMS = collections.OrderedDict([
    ("py_float", "0.5"),
    ("py_float_zero", "0.0"),
    ("py_float_above_one", "2.5"),
    ("py_float_negative", "-0.5"),
    ("py_float_nan", "float('nan')"),
    ("py_float_inf", "float('inf')"),
    ("py_float_neg_inf", "float('-inf')"),
    ("py_float_overflow_f32", "1e39"),
    ("py_int", "1"),
    ("py_int_zero", "0"),
    ("py_bool_true", "True"),
    ("py_bool_false", "False"),
    ("py_fraction", "fractions.Fraction(1, 2)"),
    ("np_float16", "np.float16(0.5)"),
    ("np_float32", "np.float32(0.5)"),
    ("np_float64", "np.float64(0.5)"),
    ("np_float32_negative", "np.float32(-0.5)"),
    ("np_float32_nan", "np.float32('nan')"),
    ("np_int64", "np.int64(1)"),
    ("np_int32", "np.int32(1)"),
    ("np_bool", "np.bool_(True)"),
    ("nd0_float16", "np.array(0.5, np.float16)"),
    ("nd0_float32", "np.array(0.5, np.float32)"),
    ("nd0_float64", "np.array(0.5, np.float64)"),
    ("nd0_zero", "np.array(0.0)"),
    ("nd0_negative", "np.array(-0.5)"),
    ("nd0_nan", "np.array(float('nan'))"),
    ("nd0_inf", "np.array(float('inf'))"),
    ("nd0_int64", "np.array(1)"),
    ("nd0_bool", "np.array(True)"),
    ("nd1_float", "np.array([0.5])"),
    ("list_float", "[0.5]"),
    ("list_int", "[1]"),
    ("str_number", "'0.5'"),
    ("str_word", "'abc'"),
    ("none", "None"),
    ("tf_constant_float32", "tf.constant(0.5)"),
    ("tf_constant_float64", "tf.constant(0.5, tf.float64)"),
    ("tf_constant_float16", "tf.constant(0.5, tf.float16)"),
    ("tf_constant_negative", "tf.constant(-0.5)"),
    ("tf_constant_nan", "tf.constant(float('nan'))"),
    ("tf_constant_int32", "tf.constant(1)"),
    ("tf_constant_vector", "tf.constant([0.5])"),
    ("tf_constant_string", "tf.constant('0.5')"),
    ("tf_variable_float32", "tf.Variable(0.5)"),
    ("tf_variable_float64", "tf.Variable(0.5, dtype=tf.float64)"),
])

# The factory calls: (name, function name, arguments with "S" for the form).
CALLS = collections.OrderedDict([
    ("l1", ("l1_regularizer", ("S",))),
    ("l2", ("l2_regularizer", ("S",))),
    ("l1_l2_first", ("l1_l2_regularizer", ("S", 0.25))),
    ("l1_l2_second", ("l1_l2_regularizer", (0.25, "S"))),
])

WEIGHTS = [[1.0, -2.0], [3.0, -4.0]]
DTYPES = ("float32", "float64")


def _error(error):
    return {"raises": type(error).__name__, "message": str(error).split("\n")[0]}


def _number(value):
    """JSON has no NaN/inf: those are kept as strings."""
    value = float(value)
    return value if math.isfinite(value) else repr(value)


def _apply(form, function_name, arguments, dtype):
    """One call in a fresh graph: what the factory and its penalty did."""
    with tf.Graph().as_default():
        scale = eval(FORMS[form])  # noqa: S307  (the table above)
        factory = getattr(tf.contrib.layers, function_name)
        args = [scale if a == "S" else a for a in arguments]
        try:
            regularizer = factory(*args)
        except Exception as error:  # noqa: BLE001  (recorded, whatever it is)
            return dict(made=_error(error))
        made = {"raises": None,
                "returns": "None" if regularizer is None else "function"}
        if regularizer is None:
            return dict(made=made)
        weights = tf.constant(WEIGHTS, dtype=dtype)
        try:
            penalty = regularizer(weights)
            if penalty is None:
                return dict(made=made, applied={"raises": None, "penalty": None})
            with tf.Session() as session:
                session.run(tf.global_variables_initializer())
                value = np.asarray(session.run(penalty))
        except Exception as error:  # noqa: BLE001
            return dict(made=made, applied=_error(error))
        return dict(made=made, applied={
            "raises": None, "shape": list(value.shape),
            "dtype": str(value.dtype),
            "penalty": [_number(v) for v in value.ravel()]})


def record():
    forms = collections.OrderedDict()
    for form, expression in FORMS.items():
        calls = collections.OrderedDict()
        for call, (function_name, arguments) in CALLS.items():
            outcome = collections.OrderedDict()
            for dtype in DTYPES:
                result = _apply(form, function_name, arguments, dtype)
                outcome["made"] = result["made"]
                if "applied" in result:
                    outcome[dtype] = result["applied"]
            calls[call] = outcome
        forms[form] = {"expression": expression, "calls": calls}
    return collections.OrderedDict([
        ("format", "compat_reg-tf1-scale-forms-1"),
        ("env", {"tensorflow": tf.__version__, "numpy": np.__version__,
                 "python": sys.version.split()[0]}),
        ("weights", WEIGHTS),
        ("calls", collections.OrderedDict(
            (k, {"function": f, "arguments": list(a)})
            for k, (f, a) in CALLS.items())),
        ("forms", forms)])


def main():
    if not hasattr(tf, "contrib"):
        sys.exit("record.py needs TF 1.x with tf.contrib (the tf1 env)")
    tf.compat.v1.logging.set_verbosity(tf.compat.v1.logging.ERROR)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        "tf1_scale_forms.json")
    with open(path, "w") as out:
        json.dump(record(), out, indent=1, sort_keys=False)
        out.write("\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
