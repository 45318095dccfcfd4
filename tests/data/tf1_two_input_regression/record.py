"""A team's TF1 model, recorded on real TF 1.x by compat_reg's recorder:
a conv net with two inputs (an image and a feature vector) and a regression
head, a custom loss, contrib's L2 and Momentum under a piecewise schedule.

Run in the ``tf1`` env (TF 1.15.5):
``.tox/tf1/bin/python tests/data/tf1_two_input_regression/record.py``
(or ``compat-reg parity record-model`` on this file) writes ``trace/``
beside it; the tests compare Keras ports with it on TF 2
(tests/parity/test_parity_user_model.py).
"""

import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
L2 = 1e-3
SPEC = {"optimizer": "momentum", "lr": 0.05, "momentum": 0.9,
        "schedule": {"kind": "piecewise_constant", "boundaries": [7],
                     "values": [0.05, 0.01]}}
BATCH, EPOCHS, SEED = 8, 2, 0


def data():
    """64 examples: an image (6, 6, 1), three features, a target."""
    rng = np.random.RandomState(0)
    image = rng.uniform(0.0, 1.0, (64, 6, 6, 1)).astype(np.float32)
    extra = rng.normal(0.0, 1.0, (64, 3)).astype(np.float32)
    y = (image.mean(axis=(1, 2)) * 2.0 + extra[:, :1] * 0.5
         + rng.normal(0.0, 0.1, (64, 1))).astype(np.float32)
    return {"image": image, "extra": extra}, {"y": y}


def build_graph(inputs):
    import tensorflow as tf
    from compat_reg import _compat
    v1 = _compat.v1  # tf.compat.v1 from TF 1.13, tf before
    reg = tf.contrib.layers.l2_regularizer(L2)
    h = v1.layers.conv2d(inputs["image"], 4, 3, padding="same",
                         activation=tf.nn.relu, kernel_regularizer=reg,
                         name="conv")
    h = v1.layers.flatten(h)
    a = v1.layers.dense(inputs["extra"], 4, activation=tf.nn.tanh,
                        kernel_regularizer=reg, name="aux")
    return v1.layers.dense(tf.concat([h, a], axis=1), 1, name="head")


def loss(targets, outputs):
    """The team's own: mean of |d| + d**2 / 2."""
    import tensorflow as tf
    d = outputs - targets["y"]
    return tf.reduce_mean(tf.abs(d) + 0.5 * tf.square(d))


inputs, targets = data()

if __name__ == "__main__":
    from compat_reg.parity import recorder
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "trace")
    print(recorder.record_model(build_graph, inputs, targets, loss, SPEC, out,
                                batch=BATCH, epochs=EPOCHS, seed=SEED))
