"""The ``tf2-keras`` and ``tf2-fit`` backends: a Keras model trained two ways,
on one device or under a ``tf.distribute`` strategy (``strategy``; None: no
strategy, the plain path).

``train_loop``: a ``tf.function`` custom loop minimising the Keras loss plus
``compat_reg.get_regularization_loss(model)``; under a strategy the step
runs in ``strategy.run``, each replica averaging its data loss over the
*global* batch (``tf.nn.compute_average_loss``) and adding the penalty
scaled by ``compat_reg.scale_regularization_loss`` (the replicas' gradients
are summed). ``train_fit``: ``model.fit``, one call per epoch over that
epoch's batches in order, recording the true loss of every step (not
Keras' running mean): on one device the compiled loss is wrapped to store
the value ``fit`` computed; under a strategy (where Keras refuses a wrapped
loss) a callback computes the global batch's data loss before the step.
The model's penalty is read just before each step; ``fit`` adds
``model.losses`` itself. Replica ``r`` gets rows ``[r*n, (r+1)*n)`` of every
global batch, ``n`` = batch / replicas.
"""

from __future__ import absolute_import, division, print_function

import collections
import contextlib

import numpy as np
import tensorflow as tf

from compat_reg import _compat, losses, optimizers, regularizers
from compat_reg.parity import evaluation


def mlp_model(config, regularizer, init=None, seed=0):
    """A Keras ``Sequential`` of ``Dense`` layers for a workload MLP.

    ``regularizer(config["reg"])`` goes on kernels (and biases if
    ``bias_reg``). ``init``: arrays ``[w0, b0, ...]`` to copy in; None keeps
    Keras' own initialisation seeded with ``seed``.
    """
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


def scope(strategy):
    """``strategy.scope()``, or an empty context for no strategy."""
    return strategy.scope() if strategy is not None else contextlib.ExitStack()


def build(optimizer, variables, strategy):
    """Under a strategy, create a Keras optimizer's variables now, in its
    scope, so that none is created in a replica (a TF1 optimizer creates its
    own); on one device the optimizer builds itself on its first step."""
    if strategy is not None and not isinstance(
            optimizer, tf.compat.v1.train.Optimizer):
        _compat.build_optimizer(optimizer, variables)


def _port_loss():
    return _compat.keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def evaluate(model, data, per_epoch):
    """Append the epoch's test loss, test and train accuracy."""
    test_logits = model(data.x_test, training=False)
    per_epoch["test_loss"].append(
        float(evaluation.cross_entropy(data.y_test, test_logits)))
    per_epoch["test_accuracy"].append(
        evaluation.accuracy(data.y_test, test_logits))
    per_epoch["train_accuracy"].append(
        evaluation.accuracy(data.y_train, model(data.x_train, training=False)))


def empty_curves():
    """``(curves, per_epoch)``: the empty lists of a trace's curves."""
    curves = collections.OrderedDict(
        (k, []) for k in ("data_loss", "reg_loss", "total_loss"))
    per_epoch = collections.OrderedDict(
        (k, []) for k in ("test_loss", "test_accuracy", "train_accuracy"))
    return curves, per_epoch


def _snapshot(variables):
    return [np.array(v.numpy()) for v in variables]


def replica_values(strategy, xb, yb):
    """Per-replica ``(x, y)``: replica r gets rows [r*n, (r+1)*n) of the
    global batch, n = batch / replicas (in every worker process)."""
    replicas = strategy.num_replicas_in_sync
    if len(xb) % replicas:
        raise ValueError("a global batch of %d does not split into %d "
                         "replicas" % (len(xb), replicas))
    size = len(xb) // replicas

    def value(context):
        start = context.replica_id_in_sync_group * size
        return (tf.constant(xb[start:start + size]),
                tf.constant(yb[start:start + size]))

    return strategy.experimental_distribute_values_from_function(value)


def replica_spread(strategy, variables):
    """Largest absolute difference between the local copies of any variable
    (0.0 when the replicas of this process are in sync)."""
    worst = 0.0
    for variable in variables:
        copies = [np.asarray(c.numpy()) for c in
                  strategy.experimental_local_results(
                      _compat.tf_variable(variable))]
        for copy in copies[1:]:
            worst = max(worst, float(np.max(np.abs(copy - copies[0]))))
    return worst


def replica_data_loss(model, x, y, global_batch, training=True):
    """This replica's part of the global batch's mean data loss
    (``tf.nn.compute_average_loss``: summed over its rows, divided by the
    global batch); the replicas' parts sum to the mean."""
    return tf.nn.compute_average_loss(
        tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=y, logits=model(x, training=training)),
        global_batch_size=global_batch)


def training_data_loss(strategy, model, global_batch):
    """``(x, y) -> float`` for replica values of a global batch: its mean
    data loss as the replicas compute it in training mode, each on its own
    rows (batch norm on each replica's statistics, that replica's rows of
    the dropout mask), without changing the model: the moving statistics
    this forward pass updates are put back."""

    @tf.function
    def forward(x, y):
        return strategy.reduce(tf.distribute.ReduceOp.SUM, _compat.strategy_run(
            strategy, replica_data_loss, args=(model, x, y, global_batch)),
            axis=None)

    def data_loss(x, y):
        moving = model.non_trainable_weights
        kept = _snapshot(moving)
        value = float(forward(x, y))
        copy_weights(moving, kept)
        return value
    return data_loss


def train_loop(model, variables, data, batch_order, optimizer,
               add_penalty=True, tracked=None, before_step=None,
               training=True, strategy=None, scale_penalty=True):
    """Custom ``tf.function`` loop; returns (curves, per_epoch, start, final).

    ``variables`` are trained; ``tracked`` (default: ``variables``) are the
    weights whose start and final values are returned (moving statistics
    included). ``before_step(epoch, step)`` runs before each step (the
    dropout masks). ``add_penalty=False`` reproduces a port that never adds
    the penalty (still measured and recorded as ``reg_loss``);
    ``training=False`` one that calls the model in inference mode;
    ``scale_penalty=False`` one that adds the whole penalty on every replica
    of ``strategy``. Recorded per step: the (global) batch's mean data loss,
    the model's penalty, and what the (summed) gradients minimised.
    """
    loss_fn = _port_loss()
    global_batch = batch_order.shape[2]

    def replica_step(x, y):
        with tf.GradientTape() as tape:
            if strategy is None:
                data_loss = loss_fn(y, model(x, training=training))
            else:
                data_loss = replica_data_loss(model, x, y, global_batch,
                                              training)
            penalty = evaluation.model_regularization_loss(model)
            added = (losses.scale_regularization_loss(penalty)
                     if strategy is not None and scale_penalty else penalty)
            total = data_loss + added if add_penalty else data_loss
        grads = tape.gradient(total, variables)
        optimizer.apply_gradients(zip(grads, variables))
        return data_loss, penalty, total

    if strategy is None:
        step = tf.function(replica_step)

        def inputs(xb, yb):
            return tf.constant(xb), tf.constant(yb)
    else:
        @tf.function
        def step(x, y):
            data_loss, penalty, total = _compat.strategy_run(
                strategy, replica_step, args=(x, y))
            add, mean = tf.distribute.ReduceOp.SUM, tf.distribute.ReduceOp.MEAN
            return (strategy.reduce(add, data_loss, axis=None),
                    strategy.reduce(mean, penalty, axis=None),
                    strategy.reduce(add, total, axis=None))

        def inputs(xb, yb):
            return replica_values(strategy, xb, yb)

    tracked = variables if tracked is None else tracked
    curves, per_epoch = empty_curves()
    start = _snapshot(tracked)
    for epoch in range(batch_order.shape[0]):
        for i, (xb, yb) in enumerate(evaluation.batches(data, batch_order,
                                                        epoch)):
            if before_step is not None:
                before_step(epoch, i)
            values = step(*inputs(xb, yb))
            for key, value in zip(curves, values):
                curves[key].append(float(value))
        evaluate(model, data, per_epoch)
    return curves, per_epoch, start, _snapshot(tracked)


def epoch_dataset(data, rows, batch, shard=True):
    """One epoch's batches for ``fit``; ``shard``: sharded by data, so each
    worker of a multi-worker run takes its part of every global batch."""
    dataset = tf.data.Dataset.from_tensor_slices(
        (data.x_train[rows.reshape(-1)], data.y_train[rows.reshape(-1)])
    ).batch(batch)
    if not shard:
        return dataset
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = (
        tf.data.experimental.AutoShardPolicy.DATA)
    return dataset.with_options(options)


def _fit_loss(model, manual_add, strategy, seen):
    """The compiled loss of ``train_fit``. One device: wrapped to store in
    ``seen`` what ``fit`` computed (the port's loss and the data loss).
    Under a strategy the loss object itself (Keras 2 refuses a Loss called
    inside a wrapper there: its reduction would be ambiguous), or with
    ``manual_add`` a per-example loss plus the penalty (``fit``'s own mean
    over the batch keeps the penalty whole)."""
    keras = _compat.keras
    port_loss = _port_loss()
    if strategy is not None:
        if not manual_add:
            return port_loss

        def per_example(y_true, y_pred):
            return keras.losses.sparse_categorical_crossentropy(
                y_true, y_pred, from_logits=True) + (
                    evaluation.model_regularization_loss(model))
        return per_example

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
    return recorded_loss


def train_fit(model, variables, data, batch_order, optimizer,
              manual_add=False, tracked=None, before_step=None, strategy=None):
    """``model.fit`` per epoch (under ``strategy.scope()`` given a
    strategy); returns (curves, per_epoch, start, final).

    ``tracked`` and ``before_step`` as in ``train_loop`` (``variables`` are
    what ``fit`` trains: the model's trainable weights). ``manual_add=True``
    reproduces a port whose compiled loss adds the model's penalty by hand
    although ``fit`` already adds ``model.losses``. Recorded per step: the
    data loss, the penalty before the step, and as total what ``fit``
    minimised on one device (the compiled loss plus the penalty); under a
    strategy what the port asks ``fit`` to minimise (data loss plus the
    penalty, twice with ``manual_add``): whether ``fit`` minimises that is
    what the curves then show.
    """
    keras = _compat.keras
    seen = {"port": tf.Variable(0.0, trainable=False),
            "data": tf.Variable(0.0, trainable=False)}
    curves, per_epoch = empty_curves()

    class Recorder(keras.callbacks.Callback):
        """Reads the penalty before each step and the loss after it (under
        a strategy: the global batch's data loss before it)."""

        epoch = 0

        def on_train_batch_begin(self, batch, logs=None):
            if before_step is not None:
                before_step(self.epoch, batch)
            self.penalty = float(evaluation.model_regularization_loss(model))
            if strategy is not None:
                rows = batch_order[self.epoch][batch]
                data_loss = training_loss(*replica_values(
                    strategy, data.x_train[rows], data.y_train[rows]))
                self.record(data_loss, np.float32(data_loss) + np.float32(
                    self.penalty) * np.float32(2 if manual_add else 1))

        def on_train_batch_end(self, batch, logs=None):
            if strategy is None:
                # what fit minimised: the compiled loss plus model.losses
                self.record(float(seen["data"].numpy()), np.float32(
                    seen["port"].numpy()) + np.float32(self.penalty))

        def record(self, data_loss, total):
            curves["data_loss"].append(data_loss)
            curves["reg_loss"].append(self.penalty)
            curves["total_loss"].append(float(total))

    if strategy is not None:
        training_loss = training_data_loss(strategy, model,
                                           batch_order.shape[2])
    with scope(strategy):
        model.compile(optimizer=optimizer,
                      loss=_fit_loss(model, manual_add, strategy, seen),
                      **_compat.compile_without_xla())
    tracked = variables if tracked is None else tracked
    start = _snapshot(tracked)
    recorder = Recorder()
    for epoch in range(batch_order.shape[0]):
        recorder.epoch = epoch
        model.fit(epoch_dataset(data, batch_order[epoch], batch_order.shape[2],
                                shard=strategy is not None),
                  epochs=1, verbose=0, shuffle=False, callbacks=[recorder])
        evaluate(model, data, per_epoch)
    return curves, per_epoch, start, _snapshot(tracked)


def _no_regularizer(reg):
    del reg


def fit_probe(strategy, workload):
    """One SGD step of ``fit`` on the first batch, under ``strategy`` and on
    one device, with the workload's penalty and without: how the step under
    the strategy compares, split into the data loss's part (the step without
    a penalty) and the penalty's part (with minus without).

    Returns ``{"data": {"ratio", "difference"}, "penalty": ... or None}``:
    ``ratio`` is ||strategy step|| / ||one-device step|| over all weights,
    ``difference`` ||strategy - one device|| / ||one device||.
    """
    keras = _compat.keras
    rows = workload.batch_order[0][0]
    spec = {"optimizer": "sgd", "lr": workload.config["lr"]}

    def step(on, regularizer):
        keras.backend.clear_session()
        with scope(on):
            model = mlp_model(workload.config, regularizer, workload.init)
            optimizer = optimizers.get(spec)
            build(optimizer, model.trainable_weights, on)
            model.compile(optimizer=optimizer, loss=_port_loss(),
                          **_compat.compile_without_xla())
        model.fit(epoch_dataset(workload.data, rows[None, :], len(rows)),
                  epochs=1, verbose=0, shuffle=False)
        return np.concatenate([(np.asarray(v.numpy()) - np.asarray(w)).ravel()
                               for v, w in zip(model.trainable_weights,
                                               workload.init)])

    def compare(got, want):
        norm = float(np.linalg.norm(want))
        return collections.OrderedDict([
            ("ratio", float(np.linalg.norm(got)) / norm),
            ("difference", float(np.linalg.norm(got - want)) / norm)])

    plain = [step(on, _no_regularizer) for on in (strategy, None)]
    result = collections.OrderedDict([("data", compare(*plain)),
                                      ("penalty", None)])
    if workload.config.get("reg"):
        full = [step(on, regularizers.from_spec) for on in (strategy, None)]
        result["penalty"] = compare(full[0] - plain[0], full[1] - plain[1])
    return result
