"""The ``tf1-graph`` backend: TF1 code in a ``tf.Graph`` and a ``Session``.

Works on real TF 1.15 and on TF2's ``tf.compat.v1`` (this module must stay
Python 3.7 / TF 1.15 compatible). Variables come from ``get_variable(...,
regularizer=compat_reg.<x>_regularizer(...))``, the penalty is the
``REGULARIZATION_LOSSES`` collection summed by ``get_regularization_loss()``,
and the optimizer is ``tf.compat.v1.train``'s.
"""

from __future__ import absolute_import, division, print_function

import collections

import numpy as np
import tensorflow as tf

from compat_reg import _compat, golden_files, optimizers
from compat_reg.optimizers import spec as optimizer_spec
from compat_reg.parity import determinism, evaluation, trace


def mlp_builder(config, regularizer):
    """A graph-building function ``x -> logits`` for a workload MLP.

    Layer i creates ``dense_<i>/kernel`` and ``dense_<i>/bias``
    (``golden_files.layer_names``) with ``regularizer(config["reg"])`` on
    kernels (and biases if ``bias_reg``).
    """
    v1 = _compat.v1
    sizes = config["sizes"]
    activation = getattr(tf.nn, config["activation"])

    scopes = [name.split("/")[0] for name, _, _ in
              golden_files.layer_names(config)[::2]]

    def build(x):
        h = x
        layers = len(sizes) - 1
        for i in range(layers):
            with v1.variable_scope(scopes[i]):
                kernel = v1.get_variable(
                    "kernel", [sizes[i], sizes[i + 1]],
                    initializer=v1.zeros_initializer(),
                    regularizer=regularizer(config["reg"]))
                bias = v1.get_variable(
                    "bias", [sizes[i + 1]], initializer=v1.zeros_initializer(),
                    regularizer=(regularizer(config["reg"])
                                 if config.get("bias_reg") else None))
            h = tf.nn.bias_add(tf.matmul(h, kernel), bias)
            if i < layers - 1:
                h = activation(h)
        return h
    return build


def variable_name(variable):
    """``dense_0/kernel`` for a graph variable."""
    name = variable.name
    return name[:-2] if name.endswith(":0") else name


def _tf1_optimizer(spec, global_step):
    if spec.schedule is not None:
        return optimizers.tf1(spec, global_step=global_step)
    return optimizers.tf1(spec)


def train(build, init, data, batch_order, spec, names=None, masks=None,
          towers=False, restore=None, save=None):
    """Train a TF1 graph model; returns a dict of what the trace records.

    Args:
      build: ``x_placeholder -> logits``, creating its variables with
        ``get_variable`` (regularizers included). With ``towers=True``:
        ``build(x, training, mask)`` (``models.tf1_builder``), called for a
        training tower and, reusing its variables, an inference tower that
        evaluates; batch-norm updates in ``UPDATE_OPS`` run with every step.
      init: initial arrays, one per model variable (every global variable
        the model creates, moving statistics included) in creation order.
      data: a ``workloads.Data``.
      batch_order: (epochs, steps, batch) row indices.
      spec: the optimizer spec, parsed (``convention.OptimizerSpec``) or a
        dict of golden config keys (parsed here); a schedule runs on
        ``global_step``.
      names: canonical names of the variables (default: their graph names).
      masks: (epochs, steps, batch, units) dropout keep masks, or None.
      restore: a ``tf.train.Saver`` checkpoint prefix to resume from: after
        ``init``, every variable of the graph (optimizer slots and
        ``global_step`` included) takes the checkpoint's value.
      save: a checkpoint prefix: ``tf.train.Saver`` saves every variable
        there after the last step.
    """
    spec = optimizer_spec.parse(spec)
    v1 = _compat.v1
    graph = tf.Graph()
    with graph.as_default():
        v1.set_random_seed(0)
        x = v1.placeholder(data.x_train.dtype, (None,) + data.x_train.shape[1:],
                           name="x")
        y = v1.placeholder(tf.int64, (None,), name="y")
        mask = None if masks is None else v1.placeholder(
            tf.float32, (None, masks.shape[-1]), name="dropout_mask")
        if towers:
            logits = build(x, training=True, mask=mask)
            with v1.variable_scope(v1.get_variable_scope(), reuse=True):
                eval_logits = build(x, training=False)
        else:
            logits = eval_logits = build(x)
        variables = v1.trainable_variables()
        model_variables = v1.global_variables()
        if len(model_variables) != len(init):
            raise ValueError("the graph has %d variables, %d initial arrays "
                             "were given" % (len(model_variables), len(init)))
        data_loss = evaluation.cross_entropy(y, logits)
        eval_loss = evaluation.cross_entropy(y, eval_logits)
        reg_loss = evaluation.graph_regularization_loss()
        total = data_loss + reg_loss
        global_step = v1.train.get_or_create_global_step()
        optimizer = _tf1_optimizer(spec, global_step)
        grads = optimizer.compute_gradients(total, var_list=variables)
        # the update waits on the forward pass, the gradients (contrib's
        # decoupled weight decay would otherwise race the forward pass) and
        # the batch-norm updates, as `control_dependencies(UPDATE_OPS)` did
        waits = [data_loss, reg_loss, total] + [
            g for g, _ in grads if g is not None] + v1.get_collection(
                v1.GraphKeys.UPDATE_OPS)
        with tf.control_dependencies(waits):
            train_op = optimizer.apply_gradients(grads, global_step=global_step)
        loaders = []
        for variable, value in zip(model_variables, init):
            value = np.asarray(value)
            if tuple(variable.shape.as_list()) != value.shape:
                raise ValueError("%s has shape %s, its initial array %s" % (
                    variable.name, variable.shape, value.shape))
            holder = v1.placeholder(variable.dtype.base_dtype, value.shape)
            loaders.append((v1.assign(variable, holder), holder, value))
        init_op = v1.global_variables_initializer()
        saver = (v1.train.Saver(save_relative_paths=True) if restore or save
                 else None)
    graph.finalize()
    curves = collections.OrderedDict((k, []) for k in
                                     ("data_loss", "reg_loss", "total_loss"))
    per_epoch = collections.OrderedDict((k, []) for k in
                                        ("test_loss", "test_accuracy",
                                         "train_accuracy"))
    with v1.Session(graph=graph, config=determinism.session_config()) as sess:
        sess.run(init_op)
        for op, holder, value in loaders:
            sess.run(op, {holder: value})
        if restore:
            saver.restore(sess, restore)
        start = sess.run(model_variables)
        for epoch in range(batch_order.shape[0]):
            for step, (xb, yb) in enumerate(
                    evaluation.batches(data, batch_order, epoch)):
                feed = {x: xb, y: yb}
                if mask is not None:
                    feed[mask] = masks[epoch, step]
                values = sess.run([data_loss, reg_loss, total, train_op], feed)
                for key, value in zip(curves, values[:3]):
                    curves[key].append(float(value))
            test_logits, test_loss = sess.run([eval_logits, eval_loss],
                                              {x: data.x_test, y: data.y_test})
            train_logits = sess.run(eval_logits, {x: data.x_train})
            per_epoch["test_loss"].append(float(test_loss))
            per_epoch["test_accuracy"].append(
                evaluation.accuracy(data.y_test, test_logits))
            per_epoch["train_accuracy"].append(
                evaluation.accuracy(data.y_train, train_logits))
        final = sess.run(model_variables)
        if save:
            saver.save(sess, save, write_meta_graph=False)
    if names is None:
        names = [variable_name(v) for v in model_variables]
    return {
        "names": names,
        "initial": collections.OrderedDict(zip(names, start)),
        "final": collections.OrderedDict(zip(names, final)),
        "curves": curves,
        "per_epoch": per_epoch,
        "hparams": trace.optimizer_hparams(optimizer, spec.kind),
    }
