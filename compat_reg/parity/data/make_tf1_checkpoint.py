"""Write the TF1 checkpoints that ``tests/test_checkpoints.py`` loads into Keras.

Run with real TensorFlow 1.15 (it needs ``tf.contrib.slim``)::

    .tox/tf1/bin/python compat_reg/parity/data/make_tf1_checkpoint.py

Two tiny conv nets on 8x8x1 inputs, each trained 3 steps with
``tf.train.MomentumOptimizer`` so the checkpoint also holds optimizer slots
and ``global_step``:

* ``slim/``: ``slim.conv2d`` (with ``normalizer_fn=slim.batch_norm``) x 2,
  ``slim.flatten``, ``slim.fully_connected``;
* ``layers/``: ``tf.layers.conv2d`` (relu) + ``tf.layers.batch_normalization``
  x 2,
  ``tf.layers.flatten``, ``tf.layers.dense`` (TF1's default scope names),
  plus ``tf.train.ExponentialMovingAverage`` shadows of the trainable
  variables.

Each folder gets ``model.ckpt.{index,data-00000-of-00001}``, a ``checkpoint``
state file (relative path, so the folder itself loads) and ``expected.npz``:
every saved variable's array (``session.run``, the independent truth), the
inference input ``x`` and the TF1 model's inference-mode ``logits``
(``is_training=False``: moving statistics). Nothing runs on import.
"""

from __future__ import absolute_import, division, print_function

import os
import platform

import numpy as np
import tensorflow as tf

HERE = os.path.dirname(os.path.abspath(__file__))
DECAY = 0.5      # batch-norm decay (slim) / momentum (tf.layers): stats move
LR, MOMENTUM, STEPS = 0.1, 0.9, 3
EMA_DECAY = 0.5
SEED = 0


def slim_net(x, is_training):
    slim = tf.contrib.slim
    bn = {"is_training": is_training, "decay": DECAY}
    with slim.arg_scope([slim.conv2d], kernel_size=[3, 3],
                        normalizer_fn=slim.batch_norm, normalizer_params=bn):
        h = slim.conv2d(x, 4, scope="conv1")
        h = slim.conv2d(h, 4, scope="conv2")
    h = slim.flatten(h)
    return slim.fully_connected(h, 3, activation_fn=None, scope="logits")


def layers_net(x, is_training):
    layers = tf.compat.v1.layers
    h = x
    for _ in range(2):  # conv2d, batch_normalization; conv2d_1, ..._1
        # relu before the norm, so that the conv bias learns (not all zeros)
        h = layers.conv2d(h, 4, 3, padding="same", activation=tf.nn.relu)
        h = layers.batch_normalization(h, momentum=DECAY, training=is_training)
    h = layers.flatten(h)
    return layers.dense(h, 3)


def write(name, net, ema):
    v1 = tf.compat.v1
    out = os.path.join(HERE, name)
    if not os.path.isdir(out):
        os.makedirs(out)
    for old in os.listdir(out):
        os.remove(os.path.join(out, old))
    rng = np.random.RandomState(SEED)
    x_train = rng.normal(size=(STEPS, 16, 8, 8, 1)).astype(np.float32)
    y_train = rng.randint(0, 3, size=(STEPS, 16)).astype(np.int64)
    x_eval = rng.normal(size=(5, 8, 8, 1)).astype(np.float32)
    with tf.Graph().as_default():
        v1.set_random_seed(SEED)
        x = v1.placeholder(tf.float32, (None, 8, 8, 1))
        y = v1.placeholder(tf.int64, (None,))
        is_training = v1.placeholder_with_default(True, ())
        logits = net(x, is_training)
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=y, logits=logits))
        step = v1.train.get_or_create_global_step()
        with tf.control_dependencies(v1.get_collection(v1.GraphKeys.UPDATE_OPS)):
            train = v1.train.MomentumOptimizer(LR, MOMENTUM).minimize(
                loss, global_step=step)
        if ema:
            averages = v1.train.ExponentialMovingAverage(EMA_DECAY)
            with tf.control_dependencies([train]):
                train = averages.apply(v1.trainable_variables())
        saver = v1.train.Saver(save_relative_paths=True)
        config = v1.ConfigProto(intra_op_parallelism_threads=1,
                                inter_op_parallelism_threads=1)
        with v1.Session(config=config) as session:
            session.run(v1.global_variables_initializer())
            for i in range(STEPS):
                session.run(train, {x: x_train[i], y: y_train[i]})
            prefix = saver.save(session, os.path.join(out, "model.ckpt"),
                                write_meta_graph=False)
            variables = v1.global_variables()
            values = session.run(variables)
            expected = session.run(logits, {x: x_eval, is_training: False})
    arrays = dict((v.op.name, a) for v, a in zip(variables, values))
    arrays.update(x=x_eval, logits=expected)
    np.savez(os.path.join(out, "expected.npz"), **arrays)
    reader = tf.train.load_checkpoint(prefix)
    saved = reader.get_variable_to_shape_map()
    assert sorted(saved) == sorted(v.op.name for v in variables), saved
    for v, a in zip(variables, values):
        assert np.array_equal(reader.get_tensor(v.op.name), a), v.op.name
    print("%s: %d variables, %d bytes" % (out, len(saved), sum(
        os.path.getsize(os.path.join(out, f)) for f in os.listdir(out))))


def main():
    assert tf.__version__.startswith("1.15"), "run this with TF 1.15"
    print("TF %s, numpy %s, Python %s" % (tf.__version__, np.__version__,
                                           platform.python_version()))
    write("slim", slim_net, ema=False)
    write("layers", layers_net, ema=True)


if __name__ == "__main__":
    main()
