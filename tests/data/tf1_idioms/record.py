"""Record what real TF 1.15 computed for each TF1 regularization idiom.

Run by the tf1 env (real TF 1.15, contrib and slim real):

    .tox/tf1/bin/python tests/data/tf1_idioms/record.py

It rewrites ``reference.json`` beside it. One small network, the same for
every idiom: ``fc1`` (dense 4 -> 3, relu), a trainable ``batch_normalization/
gamma`` (3,) multiplying the activations (a stand-in for a batch norm's
scale, which TF1 code filtered out of weight decay by name), ``fc2`` (dense
3 -> 2, logits); mean sparse softmax cross-entropy as the data loss; plain
SGD (0.1), ``STEPS`` steps on fixed batches. Per idiom and step: the data
loss, the idiom's penalty and the total the optimizer minimised, each before
that step's update, and the weights after the last step.
"""

from __future__ import print_function

import json
import os

import numpy as np
import tensorflow as tf

HERE = os.path.dirname(os.path.abspath(__file__))
STEPS = 3
SCALE = 0.01     # the regularizer's / weight decay's scale
LR = 0.1
RNG = np.random.RandomState(25)
INIT = {
    "fc1/kernel": RNG.normal(size=(4, 3)).astype(np.float32),
    "fc1/bias": RNG.normal(size=(3,)).astype(np.float32),
    "batch_normalization/gamma": (1.0 + 0.1 * RNG.normal(size=(3,))).astype(np.float32),
    "fc2/kernel": RNG.normal(size=(3, 2)).astype(np.float32),
    "fc2/bias": RNG.normal(size=(2,)).astype(np.float32),
}
X = RNG.normal(size=(STEPS, 8, 4)).astype(np.float32)
Y = RNG.randint(0, 2, size=(STEPS, 8)).astype(np.int64)

IDIOMS = {
    "collection_read": "kernel_regularizer=l2_regularizer(s); loss = data + "
                       "tf.add_n(tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES))",
    "collection_read_scope": "as collection_read, reading get_collection(..., scope='fc1')",
    "handmade_collection": "tf.add_to_collection('losses', s * tf.nn.l2_loss(kernel)) per "
                           "kernel and the data loss; loss = tf.add_n(tf.get_collection('losses'))",
    "handmade_collection_regularizer": "tf.add_to_collection('losses', "
                                       "l2_regularizer(s)(kernel)) per kernel and the data "
                                       "loss; loss = tf.add_n(tf.get_collection('losses'))",
    "manual_add": "tf.add_to_collection(REGULARIZATION_LOSSES, s * tf.nn.l2_loss(kernel)); "
                  "loss = data + tf.losses.get_regularization_loss()",
    "losses_add_loss": "tf.losses.add_loss(s * tf.nn.l2_loss(kernel), loss_collection="
                       "REGULARIZATION_LOSSES); loss = data + get_regularization_loss()",
    "get_total_loss": "kernel_regularizer=l2_regularizer(s); data via "
                      "tf.losses.sparse_softmax_cross_entropy; loss = tf.losses.get_total_loss()",
    "weight_decay_trainable": "loss = data + s * tf.add_n([tf.nn.l2_loss(v) for v in "
                              "tf.trainable_variables() if 'bias' not in v.name and "
                              "'batch_normalization' not in v.name])",
    "slim_losses": "slim.losses.add_loss(s * tf.nn.l2_loss(kernel), loss_collection="
                   "REGULARIZATION_LOSSES) per kernel, slim.losses.add_loss(data); "
                   "loss = slim.losses.get_total_loss()",
    "slim_arg_scope": "slim.arg_scope([slim.fully_connected], weights_regularizer="
                      "slim.l2_regularizer(s)); loss = data + get_regularization_loss()",
    "explicit_l2_loss": "loss = data + s * (tf.nn.l2_loss(fc1 kernel) + tf.nn.l2_loss(fc2 kernel))",
}


def _network(x, idiom):
    v1 = tf.compat.v1
    reg = None
    if idiom in ("collection_read", "collection_read_scope", "get_total_loss"):
        reg = tf.contrib.layers.l2_regularizer(SCALE)
    init = dict((k, tf.constant_initializer(v)) for k, v in INIT.items())
    if idiom == "slim_arg_scope":
        slim = tf.contrib.slim
        with slim.arg_scope([slim.fully_connected],
                            weights_regularizer=slim.l2_regularizer(SCALE)):
            h = slim.fully_connected(x, 3, scope="fc1", weights_initializer=init["fc1/kernel"],
                                     biases_initializer=init["fc1/bias"])
            with v1.variable_scope("batch_normalization"):
                h = h * v1.get_variable("gamma", [3], initializer=init[
                    "batch_normalization/gamma"])
            return slim.fully_connected(h, 2, scope="fc2", activation_fn=None,
                                        weights_initializer=init["fc2/kernel"],
                                        biases_initializer=init["fc2/bias"])
    h = v1.layers.dense(x, 3, activation=tf.nn.relu, name="fc1", kernel_regularizer=reg,
                        kernel_initializer=init["fc1/kernel"],
                        bias_initializer=init["fc1/bias"])
    with v1.variable_scope("batch_normalization"):
        h = h * v1.get_variable("gamma", [3], initializer=init["batch_normalization/gamma"])
    return v1.layers.dense(h, 2, name="fc2", kernel_regularizer=reg,
                           kernel_initializer=init["fc2/kernel"],
                           bias_initializer=init["fc2/bias"])


def _kernels():
    v1 = tf.compat.v1
    return [v for v in v1.trainable_variables() if v.name.endswith(("kernel:0", "weights:0"))]


def _losses(idiom, logits, y):
    """(data, penalty, total) tensors as the idiom's TF1 code wrote them."""
    v1 = tf.compat.v1
    keys = v1.GraphKeys
    if idiom == "get_total_loss":
        data = v1.losses.sparse_softmax_cross_entropy(y, logits)
        return data, v1.losses.get_regularization_loss(), v1.losses.get_total_loss()
    data = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=y, logits=logits))
    if idiom == "collection_read":
        penalty = tf.add_n(v1.get_collection(keys.REGULARIZATION_LOSSES))
    elif idiom == "collection_read_scope":
        penalty = tf.add_n(v1.get_collection(keys.REGULARIZATION_LOSSES, "fc1"))
    elif idiom == "handmade_collection":
        for kernel in _kernels():
            v1.add_to_collection("losses", SCALE * tf.nn.l2_loss(kernel))
        penalty = tf.add_n(v1.get_collection("losses"))
        v1.add_to_collection("losses", data)
        return data, penalty, tf.add_n(v1.get_collection("losses"))
    elif idiom == "handmade_collection_regularizer":
        regularizer = tf.contrib.layers.l2_regularizer(SCALE)
        for kernel in _kernels():
            v1.add_to_collection("losses", regularizer(kernel))
        penalty = tf.add_n(v1.get_collection("losses"))
        v1.add_to_collection("losses", data)
        return data, penalty, tf.add_n(v1.get_collection("losses"))
    elif idiom == "slim_losses":
        slim_losses = tf.contrib.slim.losses
        for kernel in _kernels():
            slim_losses.add_loss(SCALE * tf.nn.l2_loss(kernel),
                                 loss_collection=keys.REGULARIZATION_LOSSES)
        slim_losses.add_loss(data)
        return data, v1.losses.get_regularization_loss(), slim_losses.get_total_loss()
    elif idiom == "manual_add":
        for kernel in _kernels():
            v1.add_to_collection(keys.REGULARIZATION_LOSSES, SCALE * tf.nn.l2_loss(kernel))
        penalty = v1.losses.get_regularization_loss()
    elif idiom == "losses_add_loss":
        for kernel in _kernels():
            v1.losses.add_loss(SCALE * tf.nn.l2_loss(kernel),
                               loss_collection=keys.REGULARIZATION_LOSSES)
        penalty = v1.losses.get_regularization_loss()
    elif idiom == "weight_decay_trainable":
        penalty = SCALE * tf.add_n([tf.nn.l2_loss(v) for v in v1.trainable_variables()
                                    if "bias" not in v.name
                                    and "batch_normalization" not in v.name])
    elif idiom == "slim_arg_scope":
        penalty = v1.losses.get_regularization_loss()
    elif idiom == "explicit_l2_loss":
        penalty = SCALE * tf.add_n([tf.nn.l2_loss(k) for k in _kernels()])
    else:
        raise ValueError(idiom)
    return data, penalty, data + penalty


def record(idiom):
    v1 = tf.compat.v1
    with tf.Graph().as_default():
        x = v1.placeholder(tf.float32, (None, 4))
        y = v1.placeholder(tf.int64, (None,))
        logits = _network(x, idiom)
        data, penalty, total = _losses(idiom, logits, y)
        train = v1.train.GradientDescentOptimizer(LR).minimize(total)
        names = sorted(v.op.name for v in v1.trainable_variables())
        config = v1.ConfigProto(intra_op_parallelism_threads=1,
                                inter_op_parallelism_threads=1)
        curves = {"data_loss": [], "penalty": [], "total_loss": []}
        with v1.Session(config=config) as sess:
            sess.run(v1.global_variables_initializer())
            for step in range(STEPS):
                values = sess.run([data, penalty, total, train], {x: X[step], y: Y[step]})
                for key, value in zip(("data_loss", "penalty", "total_loss"), values):
                    curves[key].append(float(value))
            final = dict((v.op.name, sess.run(v).tolist()) for v in v1.trainable_variables())
    return {"code": IDIOMS[idiom], "variables": names, "curves": curves, "final": final}


def main():
    out = {
        "format": "compat-reg-golden/1",
        "env": {"tensorflow": tf.__version__, "numpy": np.__version__,
                "script": "tests/data/tf1_idioms/record.py"},
        "scale": SCALE, "lr": LR, "steps": STEPS,
        "init": dict((k, v.tolist()) for k, v in INIT.items()),
        "x": X.tolist(), "y": Y.tolist(),
        "idioms": dict((idiom, record(idiom)) for idiom in sorted(IDIOMS)),
    }
    with open(os.path.join(HERE, "reference.json"), "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")
    for idiom, result in sorted(out["idioms"].items()):
        print("%-24s penalty %s" % (idiom, ["%.6f" % p for p in result["curves"]["penalty"]]))


if __name__ == "__main__":
    main()
