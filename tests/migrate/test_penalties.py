"""Each converted regularizer gives TF1's penalty, checked against the
values recorded on TF 1.15 (compat_reg/golden/penalties.json)."""
import json
import pathlib

import numpy as np
import pytest

from ._penalty import NumpyContrib, after, before

GOLDEN = pathlib.Path(__file__).resolve().parents[2] / "compat_reg" / "golden"
if not (GOLDEN / "penalties.json").exists():
    GOLDEN = pathlib.Path(__file__).resolve().parents[1] / "golden"
CASES = json.loads((GOLDEN / "penalties.json").read_text())["cases"]
INPUTS = np.load(GOLDEN / "penalty_inputs.npz")

SPELLINGS = {
    "l2": ("tf.contrib.layers.l2_regularizer({0})",
           "slim.l2_regularizer(scale={0}, scope='reg')"),
    "l1": ("tf.contrib.layers.l1_regularizer({0})",
           "slim.l1_regularizer(scale={0})"),
    "l1_l2": ("tf.contrib.layers.l1_l2_regularizer({0}, {1})",
              "slim.l1_l2_regularizer(scale_l2={1}, scale_l1={0}, scope='s')"),
    "sum": ("tf.contrib.layers.sum_regularizer([tf.contrib.layers."
            "l1_regularizer({0}), tf.contrib.layers.l2_regularizer({1})])",
            "slim.sum_regularizer([slim.l2_regularizer({1}), "
            "slim.l1_regularizer({0})], scope='s')"),
}
HEADERS = ("import tensorflow as tf\n",
           "import tensorflow as tf\nimport tensorflow.contrib.slim as slim\n")


def _weights(case):
    if case["init"] == "ones":
        return np.ones(case["shape"], case["dtype"])
    return INPUTS[case["init"].split(":", 1)[1]]


def _rtol(case):
    return 2e-3 if case["dtype"] == "float16" else 1e-6


PARAMS = [pytest.param(case, spelling, target,
                       id="%s-%d-%s" % (case["id"], spelling, target))
          for case in CASES for spelling in (0, 1)
          for target in ("compat_reg", "keras")]


@pytest.mark.parametrize(("case", "spelling", "target"), PARAMS)
def test_penalty_unchanged(case, spelling, target):
    kind, *scales = case["regularizer"]
    expression = SPELLINGS[kind][spelling].format(*map(repr, scales))
    w = _weights(case)
    golden = case["total_regularization_loss"]
    tf1 = before(expression, w)
    assert tf1 == pytest.approx(golden, rel=_rtol(case), abs=1e-12)
    migrated = after(expression, w, target, header=HEADERS[spelling])
    assert migrated == pytest.approx(golden, rel=_rtol(case), abs=1e-12)


@pytest.mark.parametrize("case", [c for c in CASES if c["dtype"] != "float16"],
                         ids=lambda c: c["id"])
def test_numpy_reference_agrees_with_tf_slim(case):
    tf_slim = pytest.importorskip("tf_slim")
    kind, *scales = case["regularizer"]
    expression = SPELLINGS[kind][0].format(*map(repr, scales))
    w = _weights(case)
    import tensorflow as tf
    slim_value = before(expression, tf.constant(w), contrib=tf_slim)
    assert slim_value == pytest.approx(before(expression, w, NumpyContrib),
                                       rel=1e-6, abs=1e-12)
