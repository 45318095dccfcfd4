"""Every TF1 regularization idiom: its TF2 route against real TF 1.15.

``tests/data/tf1_idioms/reference.json`` was written by ``record.py`` beside
it, run by the tf1 env on real TF 1.15: for each idiom (the TF1 code is in
the file), the data loss, the penalty and the total over a few SGD steps,
and the final weights. Here each idiom's Keras route trains the same network
from the same weights on the same batches and must give the same numbers.
"""

import json
import os

import numpy as np
import pytest
import tensorflow as tf

import compat_reg
from compat_reg import _compat
from golden_support import assert_rerecorded

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "tf1_idioms")
with open(os.path.join(HERE, "reference.json")) as _f:
    REFERENCE = json.load(_f)
SCALE, LR = REFERENCE["scale"], REFERENCE["lr"]

# the idioms whose TF1 penalty was contrib's l2 on the kernels, however it
# reached the loss: in Keras the regularizer goes on the layers
REGULARIZED_LAYERS = ("collection_read", "collection_read_scope", "handmade_collection",
                      "handmade_collection_regularizer", "manual_add", "losses_add_loss",
                      "get_total_loss", "slim_losses", "slim_arg_scope")
# the idioms whose TF1 total summed a loss collection: migrate's note names
# compat_reg.get_total_loss(model, [<the data losses>]) as the fix
TOTAL_ROUTE = ("get_total_loss", "handmade_collection", "handmade_collection_regularizer",
               "slim_losses")

eager_only = pytest.mark.skipif(_compat.TF1, reason="the Keras routes run eagerly (TF2)")


def _model(idiom):
    keras = _compat.keras
    if idiom in REGULARIZED_LAYERS:
        def reg():
            return compat_reg.l2_regularizer(SCALE)
    elif idiom == "explicit_l2_loss":
        # migrate's half-l2 note: s * tf.nn.l2_loss(w) moved into Keras is l2(0.5 * s)
        def reg():
            return keras.regularizers.l2(0.5 * SCALE)
    else:
        def reg():
            return None

    class Gamma(keras.layers.Layer):
        """TF1's ``batch_normalization/gamma`` stand-in: a trainable scale."""

        def build(self, input_shape):
            self.gamma = self.add_weight(name="gamma", shape=(int(input_shape[-1]),))
            self.built = True

        def call(self, x):
            return x * self.gamma

    inputs = keras.Input((4,))
    h = keras.layers.Dense(3, activation="relu", name="fc1", kernel_regularizer=reg())(inputs)
    h = Gamma(name="batch_normalization")(h)
    model = keras.Model(inputs, keras.layers.Dense(2, name="fc2", kernel_regularizer=reg())(h))
    init = REFERENCE["init"]
    for name, _, weight in compat_reg.naming.tf1_weights(model):
        weight.assign(np.asarray(init[name], np.float32))
    return model


def _penalty(idiom, model):
    """The idiom's TF2 form: the code a migrated project writes."""
    if idiom == "collection_read_scope":
        return compat_reg.get_regularization_loss(model, scope="fc1")
    if idiom in REGULARIZED_LAYERS:
        return compat_reg.get_regularization_loss(model)
    if idiom == "weight_decay_trainable":
        return SCALE * tf.add_n([tf.nn.l2_loss(v) for name, v in compat_reg.tf1_variables(model)
                                 if "bias" not in name and "batch_normalization" not in name])
    if idiom == "explicit_l2_loss":
        return tf.add_n(model.losses)
    raise AssertionError(idiom)


@eager_only
@pytest.mark.parametrize("idiom", sorted(REFERENCE["idioms"]))
def test_tf2_route_equals_tf1(idiom):
    want = REFERENCE["idioms"][idiom]
    model = _model(idiom)
    names = [name for name, _, _ in compat_reg.naming.tf1_weights(model)]
    assert sorted(names) == sorted(n.replace("weights", "kernel").replace("biases", "bias")
                                   for n in want["variables"])
    ce = _compat.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    opt = _compat.keras.optimizers.SGD(LR)
    x, y = np.asarray(REFERENCE["x"], np.float32), np.asarray(REFERENCE["y"], np.int64)
    curves = {"data_loss": [], "penalty": [], "total_loss": []}
    for step in range(REFERENCE["steps"]):
        with tf.GradientTape() as tape:
            data = ce(y[step], model(x[step]))
            penalty = _penalty(idiom, model)
            total = (compat_reg.get_total_loss(model, [data]) if idiom in TOTAL_ROUTE
                     else data + penalty)
        variables = model.trainable_weights
        opt.apply_gradients(zip(tape.gradient(total, variables), variables))
        for key, value in zip(sorted(curves), (data, penalty, total)):
            curves[key].append(float(value))
    for key, values in curves.items():
        assert np.all(np.isfinite(values))
        np.testing.assert_allclose(values, want["curves"][key], rtol=1e-6, err_msg=key)
    for name, _, weight in compat_reg.naming.tf1_weights(model):
        tf1 = name.replace("kernel", "weights").replace("bias", "biases") \
            if idiom == "slim_arg_scope" and name.startswith("fc") else name
        np.testing.assert_allclose(weight.numpy(), want["final"][tf1], rtol=1e-5, atol=1e-6,
                                   err_msg=name)


@eager_only
def test_keras_l2_of_the_same_scale_doubles_the_explicit_penalty():
    """The half-l2 trap: ``s * tf.nn.l2_loss(w)`` moved into Keras as
    ``l2(s)`` is twice TF1's penalty (l2_loss halves, Keras' l2 does not)."""
    model = _model("explicit_l2_loss")      # TF1's initial weights
    kernels = [model.get_layer(name).kernel for name in ("fc1", "fc2")]
    doubled = tf.add_n([_compat.keras.regularizers.l2(SCALE)(k) for k in kernels])
    want = REFERENCE["idioms"]["explicit_l2_loss"]["curves"]["penalty"][0]
    np.testing.assert_allclose(float(doubled), 2 * want, rtol=1e-6)


@eager_only
def test_eager_collection_accumulates_stale_tensors():
    """The trap the idioms' notes name: eagerly, TF1 code that adds to a
    collection each step appends to one global list, so the read penalty is
    (step + 1) times TF1's, and only the latest term has a gradient."""
    v1 = _compat.v1
    key = "compat_reg_test_%d" % id(object())
    w = tf.Variable(np.full((2, 3), 1.0, np.float32))
    seen = []
    for _ in range(3):
        with tf.GradientTape() as tape:
            v1.add_to_collection(key, 0.01 * tf.nn.l2_loss(w))
            penalty = tf.add_n(v1.get_collection(key))
        seen.append(float(penalty))
        # 0.01 * 6 / 2 per term; the gradient is one term's: 0.01 * w
        np.testing.assert_allclose(tape.gradient(penalty, w).numpy(), 0.01 * w.numpy())
    np.testing.assert_allclose(seen, [0.03, 0.06, 0.09], rtol=1e-6)
    assert v1.trainable_variables() == []  # and the weight-decay idiom sums nothing


@pytest.mark.skipif(not _compat.HAS_CONTRIB, reason="records with real TF 1.x contrib")
@pytest.mark.skipif(_compat.v1 is tf, reason="record.py spells tf.compat.v1 (TF >= 1.13)")
def test_reference_is_what_tf1_computes():
    """On real TF 1.x the recording script reproduces the committed file:
    each idiom's code, variables, curves and final weights (equal but for
    float32 summation order, golden_support.assert_rerecorded)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("record_idioms",
                                                  os.path.join(HERE, "record.py"))
    record = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(record)
    for idiom, want in REFERENCE["idioms"].items():
        assert_rerecorded(json.loads(json.dumps(record.record(idiom))), want, idiom)

