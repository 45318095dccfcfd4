"""The ``tf2-keras`` and ``tf2-fit`` backends: a Keras model trained two ways.

``train_loop``: a ``tf.function`` custom loop minimising the Keras loss plus
``compat_reg.get_regularization_loss(model)``. ``train_fit``: ``model.fit``,
one call per epoch over that epoch's batches in order, recording the true
loss of every step (not Keras' running mean): the compiled loss is wrapped
to store the value ``fit`` computed, and the model's penalty is read just
before each step; ``fit`` adds ``model.losses`` itself.
"""

from __future__ import absolute_import, division, print_function

import collections

import numpy as np

from compat_reg.parity import evaluation


def mlp_model(config, regularizer, init=None, seed=0):
    """A Keras ``Sequential`` of ``Dense`` layers for a workload MLP.

    ``regularizer(config["reg"])`` goes on kernels (and biases if
    ``bias_reg``). ``init``: arrays ``[w0, b0, ...]`` to copy in; None keeps
    Keras' own initialisation seeded with ``seed``.
    """
    from compat_reg import _compat
    keras = _compat.keras
    sizes = config["sizes"]
    layers = [keras.Input(shape=(sizes[0],))]
    count = len(sizes) - 1
    for i in range(count):
        layers.append(keras.layers.Dense(
            sizes[i + 1],
            activation=config["activation"] if i < count - 1 else None,
            kernel_initializer=keras.initializers.GlorotUniform(seed=seed + i),
            kernel_regularizer=regularizer(config["reg"]),
            bias_regularizer=(regularizer(config["reg"])
                              if config.get("bias_reg") else None)))
    model = keras.Sequential(layers)
    if init is not None:
        copy_weights(model.trainable_weights, init)
    return model


def copy_weights(variables, values):
    """Assign ``values`` to ``variables`` one by one, checking shapes."""
    if len(variables) != len(values):
        raise ValueError("%d weights, %d initial arrays" % (
            len(variables), len(values)))
    for variable, value in zip(variables, values):
        value = np.asarray(value)
        if tuple(variable.shape) != value.shape:
            raise ValueError("weight %s has shape %s, its array %s" % (
                variable.name, tuple(variable.shape), value.shape))
        variable.assign(value)


def _port_loss():
    from compat_reg import _compat
    return _compat.keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def _evaluate(model, data, per_epoch):
    test_logits = model(data.x_test, training=False)
    per_epoch["test_loss"].append(
        float(evaluation.cross_entropy(data.y_test, test_logits)))
    per_epoch["test_accuracy"].append(
        evaluation.accuracy(data.y_test, test_logits))
    per_epoch["train_accuracy"].append(
        evaluation.accuracy(data.y_train, model(data.x_train, training=False)))


def _empty():
    curves = collections.OrderedDict(
        (k, []) for k in ("data_loss", "reg_loss", "total_loss"))
    per_epoch = collections.OrderedDict(
        (k, []) for k in ("test_loss", "test_accuracy", "train_accuracy"))
    return curves, per_epoch


def _snapshot(variables):
    return [np.array(v.numpy()) for v in variables]


def train_loop(model, variables, data, batch_order, optimizer,
               add_penalty=True, tracked=None, before_step=None,
               training=True):
    """Custom ``tf.function`` loop; returns (curves, per_epoch, start, final).

    ``variables`` are trained; ``tracked`` (default: ``variables``) are the
    weights whose start and final values are returned (moving statistics
    included). ``before_step(epoch, step)`` runs before each step (the
    dropout masks). ``add_penalty=False`` reproduces a port that never adds
    the penalty (still measured and recorded as ``reg_loss``);
    ``training=False`` one that calls the model in inference mode.
    """
    import tensorflow as tf
    loss_fn = _port_loss()

    @tf.function
    def step(x, y):
        with tf.GradientTape() as tape:
            logits = model(x, training=training)
            data_loss = loss_fn(y, logits)
            penalty = evaluation.model_regularization_loss(model)
            total = data_loss + penalty if add_penalty else data_loss
        grads = tape.gradient(total, variables)
        optimizer.apply_gradients(zip(grads, variables))
        return data_loss, penalty, total

    tracked = variables if tracked is None else tracked
    curves, per_epoch = _empty()
    start = _snapshot(tracked)
    for epoch in range(batch_order.shape[0]):
        for i, (xb, yb) in enumerate(evaluation.batches(data, batch_order,
                                                        epoch)):
            if before_step is not None:
                before_step(epoch, i)
            values = step(tf.constant(xb), tf.constant(yb))
            for key, value in zip(curves, values):
                curves[key].append(float(value))
        _evaluate(model, data, per_epoch)
    return curves, per_epoch, start, _snapshot(tracked)


def train_fit(model, variables, data, batch_order, optimizer,
              manual_add=False, tracked=None, before_step=None):
    """``model.fit`` per epoch; returns (curves, per_epoch, start, final).

    ``tracked`` and ``before_step`` as in ``train_loop`` (``variables`` are
    what ``fit`` trains: the model's trainable weights). ``manual_add=True``
    reproduces a port whose compiled loss adds the model's penalty by hand
    although ``fit`` already adds ``model.losses``.
    """
    import tensorflow as tf
    from compat_reg import _compat
    keras = _compat.keras
    port_loss = _port_loss()
    seen = {"port": tf.Variable(0.0, trainable=False),
            "data": tf.Variable(0.0, trainable=False)}

    def recorded_loss(y_true, y_pred):
        value = port_loss(y_true, y_pred)
        if manual_add:
            value = value + evaluation.model_regularization_loss(model)
        recorded = [seen["port"].assign(value),
                    seen["data"].assign(evaluation.cross_entropy(
                        tf.cast(tf.reshape(y_true, [-1]), tf.int64), y_pred))]
        # explicit: TF 2.0/2.1's fit with a TF1 optimizer runs Keras' graph
        # loop, which fetches only the loss (no automatic control deps there)
        with tf.control_dependencies(recorded):
            return tf.identity(value)

    curves, per_epoch = _empty()

    class Recorder(keras.callbacks.Callback):
        """Reads the penalty before each step and the loss after it."""

        epoch = 0

        def on_train_batch_begin(self, batch, logs=None):
            if before_step is not None:
                before_step(self.epoch, batch)
            self.penalty = float(evaluation.model_regularization_loss(model))

        def on_train_batch_end(self, batch, logs=None):
            data_loss = float(seen["data"].numpy())
            curves["data_loss"].append(data_loss)
            curves["reg_loss"].append(self.penalty)
            # what fit minimised: the compiled loss plus model.losses
            curves["total_loss"].append(float(
                np.float32(seen["port"].numpy()) + np.float32(self.penalty)))

    model.compile(optimizer=optimizer, loss=recorded_loss,
                  **_compat.compile_without_xla())
    tracked = variables if tracked is None else tracked
    start = _snapshot(tracked)
    recorder = Recorder()
    for epoch in range(batch_order.shape[0]):
        recorder.epoch = epoch
        rows = batch_order[epoch].reshape(-1)
        dataset = tf.data.Dataset.from_tensor_slices(
            (data.x_train[rows], data.y_train[rows])).batch(batch_order.shape[2])
        model.fit(dataset, epochs=1, verbose=0, shuffle=False,
                  callbacks=[recorder])
        _evaluate(model, data, per_epoch)
    return curves, per_epoch, start, _snapshot(tracked)
