"""Configs, .keras files and SavedModels with each regularizer."""

import ast
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

import compat_reg
from compat_reg import _compat

pytestmark = pytest.mark.skipif(_compat.TF1, reason="Keras serialization on TF2")

REGULARIZERS = {
    "l2": lambda: compat_reg.l2_regularizer(0.01),
    "l1": lambda: compat_reg.l1_regularizer(0.01),
    "l1_l2": lambda: compat_reg.l1_l2_regularizer(0.01, 0.02),
    "sum": lambda: compat_reg.sum_regularizer(
        [compat_reg.l1_regularizer(0.01), compat_reg.l2_regularizer(0.02)]),
    "variable_scale": lambda: compat_reg.l2_regularizer(tf.Variable(0.02)),
    "sum_custom": lambda: compat_reg.sum_regularizer(
        [compat_reg.l2_regularizer(0.02), compat_reg.l1_regularizer(tf.Variable(0.01))]),
}
W = np.linspace(-2.0, 2.0, 15, dtype=np.float32).reshape(3, 5)
# contrib arithmetic in numpy for each: sum of scale_l1*|w| + scale_l2*w^2/2
EXPECTED = {
    "l2": 0.01 * np.sum(W ** 2) / 2,
    "l1": 0.01 * np.sum(np.abs(W)),
    "l1_l2": 0.01 * np.sum(np.abs(W)) + 0.02 * np.sum(W ** 2) / 2,
    "sum": 0.01 * np.sum(np.abs(W)) + 0.02 * np.sum(W ** 2) / 2,
    "variable_scale": 0.02 * np.sum(W ** 2) / 2,
    "sum_custom": 0.01 * np.sum(np.abs(W)) + 0.02 * np.sum(W ** 2) / 2,
}


@pytest.mark.parametrize("kind", sorted(REGULARIZERS))
def test_value_and_config_round_trip(kind):
    reg = REGULARIZERS[kind]()
    assert float(reg(W)) == pytest.approx(EXPECTED[kind], rel=1e-6)
    config = _compat.moves.serialize_regularizer(reg)
    clone = _compat.moves.deserialize_regularizer(config)
    assert clone.__class__ is reg.__class__  # Keras' own class for the native mappings
    assert float(clone(W)) == pytest.approx(EXPECTED[kind], rel=1e-6)


def test_native_results_need_nothing_from_compat_reg():
    for kind in ("l2", "l1", "l1_l2", "sum"):
        config = _compat.moves.serialize_regularizer(REGULARIZERS[kind]())
        assert "compat_reg" not in str(config), config


def _model(kind):
    keras = _compat.keras
    inputs = keras.Input((3,))
    outputs = keras.layers.Dense(5, kernel_regularizer=REGULARIZERS[kind](),
                                 name="dense")(inputs)
    model = keras.Model(inputs, outputs)
    model.get_layer("dense").kernel.assign(W)
    return model


def _total(model):
    return float(tf.add_n(model.losses))


@pytest.mark.parametrize("kind", sorted(REGULARIZERS))
def test_keras_file_round_trip(tmp_path, kind):
    model = _model(kind)
    path = str(tmp_path / "model.keras")
    model.save(path)
    loaded = _compat.keras.models.load_model(path)
    assert _total(loaded) == pytest.approx(EXPECTED[kind], rel=1e-6)


@pytest.mark.parametrize("kind", ["l2", "l1_l2", "variable_scale"])
def test_saved_model_round_trip(tmp_path, kind):
    """A SavedModel keeps the weights and serves the same outputs."""
    if kind == "variable_scale" and not _compat.KERAS3:
        pytest.skip("Keras 2 traces the penalty into the SavedModel and needs "
                    "the scale variable tracked (documented in ContribL1L2)")
    model = _model(kind)
    path = str(tmp_path / "saved")
    if _compat.KERAS3:
        model.export(path)
    else:
        model.save(path, save_format="tf")
    restored = tf.saved_model.load(path)
    x = np.ones((2, 3), np.float32)
    serve = restored.serve if _compat.KERAS3 else restored.signatures["serving_default"]
    out = serve(tf.constant(x))
    out = out if not isinstance(out, dict) else list(out.values())[0]
    np.testing.assert_allclose(out, model(x), rtol=1e-6)
    if not _compat.KERAS3:  # Keras 3's export serves only; .keras keeps the penalty
        loaded = _compat.keras.models.load_model(path)
        assert _total(loaded) == pytest.approx(EXPECTED[kind], rel=1e-6)


_LOAD = """
import sys
import tensorflow as tf
%s
from tensorflow import keras
for path in sys.argv[1:]:
    model = keras.models.load_model(path)
    regs = [getattr(layer, "kernel_regularizer", None) for layer in model.layers]
    print(repr((float(tf.add_n(model.losses)),
                sorted(set(type(r).__module__.split(".")[0] for r in regs if r is not None)))))
"""


def _load_elsewhere(tmp_path, kinds, import_compat_reg):
    """Save a model per kind; load them all in one new process."""
    suffix = "keras" if _compat.KERAS3 else "h5"
    paths = [str(tmp_path / ("%s.%s" % (kind, suffix))) for kind in kinds]
    for kind, path in zip(kinds, paths):
        _model(kind).save(path)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    code = _LOAD % ("import compat_reg" if import_compat_reg else "")
    out = subprocess.run([sys.executable, "-c", code] + paths, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         universal_newlines=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.strip().splitlines()[-len(kinds):]
    return dict(zip(kinds, (ast.literal_eval(line) for line in lines)))


def test_native_mappings_load_without_compat_reg(tmp_path):
    """In a process that never imports compat_reg: Keras' own classes."""
    kinds = ["l2", "l1", "l1_l2", "sum"]
    for kind, (value, modules) in _load_elsewhere(tmp_path, kinds, False).items():
        assert value == pytest.approx(EXPECTED[kind], rel=1e-6), kind
        assert "compat_reg" not in modules, kind


def test_our_classes_load_after_import_compat_reg(tmp_path):
    """ContribL1L2 and SumRegularizer need ``import compat_reg`` (no more),
    in .keras files and in Keras 2's .h5 files, which look classes up by name."""
    kinds = ["variable_scale", "sum_custom"]
    for kind, (value, modules) in _load_elsewhere(tmp_path, kinds, True).items():
        assert value == pytest.approx(EXPECTED[kind], rel=1e-6), kind
        assert modules == ["compat_reg"], kind
