"""Write ``convnet_bn/``: the ``convnet_bn`` workload's model trained one epoch
by TF1 graph code, saved by ``tf.compat.v1.train.Saver``.

The ``convnet_from_checkpoint`` workload starts from it. Run with real TF 1.15
(the ``tf1`` tox env), from the project root::

    .tox/tf1/bin/python -m compat_reg.parity.tf1_checkpoints.make_convnet_bn

The checkpoint holds what a TF1 training run saves: the model's variables
(slim names, batch-norm moving statistics included), the Momentum slots and
``global_step``.
"""

from __future__ import absolute_import, division, print_function

import os

import numpy as np
import tensorflow as tf

from compat_reg.parity import models, ports, workloads

HERE = os.path.dirname(os.path.abspath(__file__))
PREFIX = os.path.join(HERE, "convnet_bn", "model.ckpt")


def main():
    v1 = tf.compat.v1
    work = workloads.builtin("convnet_bn")
    config = work.config
    masks = models.dropout_masks(config, work.batch_order)
    with tf.Graph().as_default():
        x = v1.placeholder(tf.float32, (None, 64))
        y = v1.placeholder(tf.int64, (None,))
        mask = v1.placeholder(tf.float32, (None, masks.shape[-1]))
        logits = models.tf1_builder(config, ports.compat_regularizer)(
            x, training=True, mask=mask)
        model_variables = v1.global_variables()
        loss = v1.losses.sparse_softmax_cross_entropy(y, logits) + \
            v1.losses.get_regularization_loss()
        step = v1.train.get_or_create_global_step()
        with tf.control_dependencies(v1.get_collection(v1.GraphKeys.UPDATE_OPS)):
            train_op = v1.train.MomentumOptimizer(0.05, 0.9).minimize(
                loss, global_step=step)
        assigns = [v1.assign(v, value) for v, value in zip(model_variables,
                                                             work.init)]
        saver = v1.train.Saver()
        with v1.Session() as sess:
            sess.run(v1.global_variables_initializer())
            sess.run(assigns)
            for i, rows in enumerate(work.batch_order[0]):
                sess.run(train_op, {x: work.data.x_train[rows],
                                    y: work.data.y_train[rows],
                                    mask: masks[0, i]})
            if not os.path.isdir(os.path.dirname(PREFIX)):
                os.makedirs(os.path.dirname(PREFIX))
            path = saver.save(sess, PREFIX, write_meta_graph=False)
            print("wrote %s (TF %s), global_step %d" % (
                path, tf.__version__, sess.run(step)))
            for v, value in zip(model_variables, sess.run(model_variables)):
                print("  %-34s %-14s mean %.6f" % (
                    v.op.name, value.shape, float(np.mean(value))))


if __name__ == "__main__":
    main()
