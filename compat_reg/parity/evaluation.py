"""What every backend measures the same way: losses, accuracy, penalties."""

from __future__ import absolute_import, division, print_function

import numpy as np
import tensorflow as tf

from compat_reg import losses


def cross_entropy(labels, logits):
    """Mean sparse softmax cross-entropy (TF1's training loss), a tensor."""
    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=labels, logits=logits))


def accuracy(labels, logits):
    """Fraction of rows whose arg-max is the label, as float32 arithmetic."""
    correct = np.sum(np.argmax(np.asarray(logits), axis=1) == np.asarray(labels))
    return float(np.float32(correct) / np.float32(len(labels)))


def graph_regularization_loss():
    """The summed REGULARIZATION_LOSSES collection (graph mode)."""
    return losses.get_regularization_loss()


def model_regularization_loss(model):
    """The penalty of a Keras model: every weight penalty, once."""
    return losses.get_regularization_loss(model)


def batches(data, batch_order, epoch):
    """``(x, y)`` of every step of ``epoch``, in order."""
    for rows in batch_order[epoch]:
        yield data.x_train[rows], data.y_train[rows]
