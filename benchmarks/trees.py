"""Generated TF1 source trees for the migrate benchmark rows.

``realistic_file(rng, lines)`` writes one TF1 model/training module of about
``lines`` lines as TF1 projects wrote them: docstrings, flags, comments,
``tf.variable_scope`` blocks, slim and ``tf.layers`` networks, a graph-mode
training loop with a ``Session``, and regularizers in varied import styles.
``every_file_tree`` gives a tree in which every file has regularization code
(sizes up to about 5k lines); ``mixed_tree`` one where a third has.
"""
import random

HEADERS = (
    "import tensorflow as tf\n",
    "import tensorflow as tf\nslim = tf.contrib.slim\n",
    "import tensorflow as tf\nimport tensorflow.contrib.slim as slim\n",
    "import tensorflow as tf\nfrom tensorflow.contrib.layers import "
    "l2_regularizer, xavier_initializer\n",
    "import tensorflow as tf\nfrom tensorflow.contrib import layers "
    "as contrib_layers\n",
)
PREAMBLE = '''# Copyright 2018 The Authors. All Rights Reserved.
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# ==============================================================================
"""%(doc)s

Builds the network, the losses and the training op; run as a script to
train on the records under --data_dir.
"""
from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import os
import time

import numpy as np
%(header)s
FLAGS = tf.app.flags.FLAGS
tf.app.flags.DEFINE_float('weight_decay', 1e-4, "L2 weight decay.")
tf.app.flags.DEFINE_integer('batch_size', 128, """Images per batch.""")
tf.app.flags.DEFINE_string('train_dir', '/tmp/train', 'Where to write logs.')

'''
REG = {
    0: "tf.contrib.layers.l2_regularizer(%(s)s)",
    1: "slim.l2_regularizer(%(s)s)",
    2: "slim.l1_regularizer(%(s)s)",
    3: "l2_regularizer(%(s)s)",
    4: "contrib_layers.l1_l2_regularizer(scale_l1=%(s)s, scale_l2=%(s)s)",
}
BLOCK_LINES = (
    "    with tf.variable_scope('conv%(i)d') as scope:\n"
    "        kernel = tf.get_variable(\n"
    "            'weights', shape=[3, 3, %(n)d, %(n)d],\n"
    "            initializer=tf.truncated_normal_initializer(stddev=5e-2),\n"
    "            regularizer=%(reg)s)\n"
    "        conv = tf.nn.conv2d(x, kernel, [1, 1, 1, 1], padding='SAME')\n"
    "        biases = tf.get_variable('biases', [%(n)d],\n"
    "                                 initializer=tf.constant_initializer(0.0))\n"
    "        x = tf.nn.relu(tf.nn.bias_add(conv, biases), name=scope.name)\n",
    "    x = tf.layers.dense(x, %(n)d, activation=tf.nn.relu,\n"
    "                        kernel_regularizer=%(reg)s,\n"
    "                        name='fc%(i)d')  # hidden layer %(i)d\n",
    "    x = tf.layers.batch_normalization(x, training=is_training, "
    "name='bn%(i)d')\n",
    "    # %(n)d units: see the paper, table %(i)d\n"
    "    x = tf.nn.dropout(x, keep_prob=0.9)\n",
    "    x = tf.reshape(x, [-1, %(n)d])\n"
    "    tf.summary.histogram('activations%(i)d', x)\n",
    "    if is_training:\n"
    "        x = tf.nn.lrn(x, 4, bias=1.0, alpha=0.001 / 9.0, beta=0.75,\n"
    "                      name='norm%(i)d')\n",
)
TRAIN = '''

def loss(logits, labels):
    """Cross entropy plus the weight decay terms."""
    labels = tf.cast(labels, tf.int64)
    cross_entropy = tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=labels, logits=logits, name='cross_entropy_per_example')
    cross_entropy_mean = tf.reduce_mean(cross_entropy, name='cross_entropy')
    reg = tf.add_n(tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES))
    return cross_entropy_mean + reg


def train(images, labels):
    """Train for FLAGS.max_steps steps."""
    global_step = tf.train.get_or_create_global_step()
    logits = inference(images, is_training=True)
    total = loss(logits, labels)
    opt = tf.train.MomentumOptimizer(0.1, 0.9)
    train_op = opt.minimize(total, global_step=global_step)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for step in range(1000):
            start = time.time()
            _, value = sess.run([train_op, total])
            if step % 100 == 0:
                print('step %d, loss = %.2f (%.3f sec)' % (
                    step, value, time.time() - start))
'''


def realistic_file(rng, lines, header=None, regularizers=None):
    """One TF1 model/training module of about ``lines`` lines, with at most
    ``regularizers`` regularized layers (all of them by default)."""
    h = rng.randrange(len(HEADERS)) if header is None else header
    out = [PREAMBLE % dict(doc="Model %d." % rng.randrange(1000),
                           header=HEADERS[h])]
    count = out[0].count("\n") + TRAIN.count("\n")
    fn = 0
    while count < lines:
        block = ["\n\ndef block_%d(x, is_training=True):\n"
                 '    """Block %d of the network."""\n' % (fn, fn)]
        for i in range(rng.randint(4, 14)):
            tmpl = rng.choice(BLOCK_LINES)
            if "%(reg)s" in tmpl and regularizers is not None:
                if regularizers <= 0:
                    tmpl = tmpl.replace("regularizer=%(reg)s", "trainable=True")
                regularizers -= 1
            block.append(tmpl % dict(
                i=i, n=rng.randint(2, 9) * 16,
                reg=REG[h] % dict(s=rng.choice(["0.01", "1e-4", "FLAGS.weight_decay"]))))
        block.append("    return x\n")
        text = "".join(block)
        out.append(text)
        count += text.count("\n")
        fn += 1
    out.append("\n\ndef inference(x, is_training=True):\n")
    out.extend("    x = block_%d(x, is_training)\n" % i for i in range(fn))
    out.append("    return x\n")
    out.append(TRAIN)
    return "".join(out)


def _sizes(rng, files, largest):
    """Realistic sizes: mostly a few hundred lines, a long tail to ``largest``."""
    sizes = [int(min(largest, max(60, rng.lognormvariate(5.6, 0.9))))
             for _ in range(files)]
    sizes[0] = largest
    return sizes


def every_file_tree(root, files=160, largest=5000, seed=0):
    """Every file has regularization code. Returns the total line count."""
    rng = random.Random(seed)
    total = 0
    for f, size in enumerate(_sizes(rng, files, largest)):
        path = root / ("pkg%02d" % (f % 12)) / ("model_%04d.py" % f)
        path.parent.mkdir(parents=True, exist_ok=True)
        text = realistic_file(rng, size)
        total += text.count("\n")
        path.write_text(text)
    return total


PLAIN = '''"""Utilities %d."""
import os

import numpy as np
import tensorflow as tf


def preprocess(image, size=224):
    """Resize and scale one image."""
    image = tf.image.resize_images(image, [size, size])
    return tf.cast(image, tf.float32) / 255.0


def read(path):
    with open(os.path.join(path, "labels.txt")) as f:
        return [line.strip() for line in f]
'''


def mixed_tree(root, files=600, seed=1):
    """A third of the files have regularization code; the rest are TF1
    utilities that never mention it. Returns the total line count."""
    rng = random.Random(seed)
    total = 0
    for f in range(files):
        if f % 3 == 0:
            text = realistic_file(rng, int(max(60, rng.lognormvariate(5.3, 0.7))))
        else:
            text = PLAIN % f + "".join(
                "\n\ndef helper_%d(x):\n    return tf.nn.relu(x) * %d\n" % (i, i)
                for i in range(rng.randint(2, 30)))
        total += text.count("\n")
        path = root / ("pkg%02d" % (f % 30)) / ("mod_%04d.py" % f)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return total


def big_file(rng, megabytes=5.0, regularizers=1):
    """One realistic module of about ``megabytes`` MB with ``regularizers``
    regularized layers (one, as the issue's 5 MB file; None: all of them)."""
    lines = int(megabytes * 1e6 / 46)
    text = realistic_file(rng, lines, header=0, regularizers=regularizers)
    return text
