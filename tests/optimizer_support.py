"""What the optimizer tests share: one small problem and its training loops.

tests/test_optimizers.py, test_optimizer_schedules.py and
test_optimizer_weight_decay.py train the same MLP (12 -> 16 relu -> 4
logits, batches of 8, sparse softmax cross-entropy) on random data.
``Problem(seed, bias_scale, steps)`` holds the data and initial weights and
trains on them: TF1's graph in a Session (``train_graph``, the references),
or a Keras model with an optimizer in a custom loop (``train_loop``) or
through ``fit`` (``train_fit``).
"""

import numpy as np
import tensorflow as tf

from compat_reg import _compat

keras = _compat.keras
v1 = _compat.v1

N_IN, N_HIDDEN, N_OUT, BATCH = 12, 16, 4, 8
NAMES = ["dense/kernel", "dense/bias", "dense_1/kernel", "dense_1/bias"]
NO_XLA = {} if _compat.TF1 else _compat.compile_without_xla()


def ce(labels, logits):
    """The loss of every run, per example: sparse softmax cross-entropy."""
    labels = tf.cast(tf.reshape(labels, [-1]), tf.int32)
    return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels,
                                                          logits=logits)


def max_abs(got, want):
    """The largest absolute difference over lists of arrays (weights)."""
    return max(float(np.max(np.abs(np.asarray(g) - w)))
               for g, w in zip(got, want))


def max_rel(got, want):
    """The largest relative difference of ``got`` from ``want`` (losses)."""
    return float(np.max(np.abs(np.asarray(got) - want) / np.abs(want)))


class Problem(object):
    """The data and initial weights of ``steps`` batches, from ``seed``."""

    def __init__(self, seed, bias_scale, steps):
        rng = np.random.RandomState(seed)
        self.init = [(rng.randn(N_IN, N_HIDDEN) * 0.4).astype(np.float32),
                     (rng.randn(N_HIDDEN) * bias_scale).astype(np.float32),
                     (rng.randn(N_HIDDEN, N_OUT) * 0.4).astype(np.float32),
                     (rng.randn(N_OUT) * bias_scale).astype(np.float32)]
        self.x = rng.randn(steps * BATCH, N_IN).astype(np.float32)
        self.y = rng.randint(0, N_OUT, size=steps * BATCH).astype(np.int32)
        self.steps = steps

    def batch(self, step):
        rows = slice(step * BATCH, (step + 1) * BATCH)
        return self.x[rows], self.y[rows]

    def graph_mlp(self):
        """TF1: ``(x, y, weights, loss)`` in the default graph, the weights
        ``get_variable``s named as Keras' Dense layers name theirs."""
        x = v1.placeholder(tf.float32, [None, N_IN])
        y = v1.placeholder(tf.int32, [None])
        w = [v1.get_variable(n, initializer=tf.constant(a))
             for n, a in zip(NAMES, self.init)]
        logits = tf.matmul(tf.nn.relu(tf.matmul(x, w[0]) + w[1]), w[2]) + w[3]
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=y, logits=logits))
        return x, y, w, loss

    def train_graph(self, train_op, steps=None):
        """TF1: the graph MLP and ``train_op(loss, weights)``, an op that
        updates them, run in a Session one batch a step (default: all):
        ``(per-step losses, final weights)``."""
        with tf.Graph().as_default():
            x, y, w, loss = self.graph_mlp()
            update = train_op(loss, w)
            with v1.Session() as sess:
                sess.run(v1.global_variables_initializer())
                losses = [sess.run([loss, update], dict(zip((x, y), self.batch(
                    step))))[0] for step in range(steps or self.steps)]
                return np.array(losses), sess.run(w)

    def model(self):
        model = keras.Sequential([keras.Input((N_IN,)),
                                  keras.layers.Dense(N_HIDDEN, activation="relu"),
                                  keras.layers.Dense(N_OUT)])
        model.set_weights(self.init)
        return model

    def train_loop(self, optimizer, steps=None, function=True, model=None):
        """A Keras model and ``optimizer`` in a custom loop (a
        ``tf.function``, or eagerly): ``(per-step losses, final weights)``.
        ``steps``: a count from step 0 (default: all) or a range of steps."""
        model = model or self.model()

        def step(x, y):
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(ce(y, model(x, training=True)))
            grads = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables))
            return loss

        if function:
            step = tf.function(step)
        if steps is None or isinstance(steps, int):
            steps = range(self.steps if steps is None else steps)
        losses = [float(step(*self.batch(i))) for i in steps]
        return np.array(losses), model.get_weights()

    def train_fit(self, optimizer, steps=None, callbacks=()):
        """A Keras model and ``optimizer`` through compile/fit, one epoch in
        order over the first ``steps`` batches: the final weights."""
        rows = (self.steps if steps is None else steps) * BATCH
        model = self.model()
        model.compile(optimizer=optimizer, loss=ce, **NO_XLA)
        model.fit(self.x[:rows], self.y[:rows], batch_size=BATCH, epochs=1,
                  shuffle=False, verbose=0, callbacks=list(callbacks))
        return model.get_weights()
