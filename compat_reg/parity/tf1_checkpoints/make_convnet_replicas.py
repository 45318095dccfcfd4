"""Write ``convnet_replicas/<workload>.json``: the reference of the conv nets
under a strategy, recorded by TF1 itself.

``convnet_bn`` and ``convnet_from_checkpoint`` trained by TF1 code under
``tf.distribute.MirroredStrategy`` over 2 CPU devices of one session, as a
TF1 team ran a model under a strategy: the model built in each replica
(``strategy.experimental_run_v2``), its batch norm TF1's own
``tf.layers.batch_normalization(fused=True)`` (slim's ``batch_norm`` builds
the same layer), the update ops of the replica's own tower as control
dependencies of ``MomentumOptimizer.minimize``. Replica ``r`` gets rows
``[r*n, (r+1)*n)`` of every global batch of 32 (n = 16) and those rows of
the step's dropout mask. Run with real TF 1.15 (the ``tf1`` tox env), from
the project root::

    .tox/tf1/bin/python -m compat_reg.parity.tf1_checkpoints.make_convnet_replicas

The workloads that resume (``resume_momentum``, ``resume_adam``:
``make_resume_workload.py``) are trained the same way from the TF 1.15
checkpoint their one-device run resumes from: after the initial weights,
the strategy's ``tf.train.Saver`` restores every variable of the graph from
it (the model's, the optimizer's slots, Adam's beta powers and
``global_step``, which the ``piecewise_constant`` schedule reads), each
replica's copy of a variable taking the saved value, and the remaining
steps train under the strategy. ``--workload NAME`` (repeatable) records
only those.

Each file is a parity trace (backend ``mirrored:tf1-graph``) whose env also
records, per moving statistic, each replica's own copy at the end
(``replica_statistics``) and the largest difference of the value TF1 reads
(and saves) from the mean of the copies (``statistics_read_minus_mean``).
"""

from __future__ import absolute_import, division, print_function

import argparse
import collections
import os
import shutil
import tempfile

import numpy as np

from compat_reg.parity import determinism, models, ports, registry, workloads
from compat_reg.parity import trace as trace_mod

HERE = os.path.dirname(os.path.abspath(__file__))
FOLDER = os.path.join(HERE, "convnet_replicas")
# the conv nets trained from their initial weights, then those that resume
# from a TF 1.15 checkpoint with the optimizer's state (the registry's)
WORKLOADS = ("convnet_bn", "convnet_from_checkpoint") + registry.RESUMING
REPLICAS = 2
BACKEND = "mirrored:tf1-graph"


def path(name):
    """The recorded trace of workload ``name`` under a strategy."""
    return os.path.join(FOLDER, "%s.json" % name)


def _layers_batch_norm(config):
    """``(net, training) -> net``: TF1's ``tf.layers.batch_normalization``
    with the workload's decay and epsilon, named as slim names it."""
    import tensorflow as tf  # deferred: a worker imports it before TF setup
    norm = config["batch_norm"]

    def batch_norm(net, training):
        return tf.compat.v1.layers.batch_normalization(
            net, momentum=norm["decay"], epsilon=norm["epsilon"],
            training=training, fused=True, name="BatchNorm")
    return batch_norm


def _saved(prefix, names):
    """``OrderedDict`` name -> the value the checkpoint at ``prefix`` holds."""
    import tensorflow as tf  # deferred: a worker imports it before TF setup
    reader = tf.train.load_checkpoint(prefix)
    return collections.OrderedDict((n, reader.get_tensor(n)) for n in names)


def _copies(sess, strategy, variables):
    """``OrderedDict`` name -> every replica's copy of each of
    ``variables`` (distributed variables of ``strategy``)."""
    return collections.OrderedDict(
        (v.op.name, [sess.run(c) for c in
                     strategy.experimental_local_results(v)])
        for v in variables)


def _views(copies):
    """Of each moving statistic's replica copies: their mean and replica
    0's."""
    return {"mean": dict((n, np.mean(c, axis=0)) for n, c in copies.items()),
            "replica0": dict((n, c[0]) for n, c in copies.items())}


def _evaluator(build, data, names):
    """``evaluate(values) -> (test loss, test accuracy, train accuracy)`` of
    the model's inference tower on one device, its variables set to
    ``values`` (name -> array); ``evaluate.keys`` names them."""
    import tensorflow as tf  # deferred: a worker imports it before TF setup
    from compat_reg.parity import evaluation  # deferred: a worker imports it before TF setup
    v1 = tf.compat.v1
    graph = tf.Graph()
    with graph.as_default():
        x = v1.placeholder(tf.float32, (None, data.x_train.shape[1]))
        y = v1.placeholder(tf.int64, (None,))
        logits = build(x, training=False)
        loss = evaluation.cross_entropy(y, logits)
        by_name = dict((v.op.name, v) for v in v1.global_variables())
        holders = [v1.placeholder(tf.float32, by_name[n].shape) for n in names]
        loaders = [by_name[n].assign(h) for n, h in zip(names, holders)]
    sess = v1.Session(graph=graph)

    def evaluate(values):
        sess.run(loaders, dict(zip(holders, values.values())))
        test_logits, test_loss = sess.run([logits, loss], {
            x: data.x_test, y: data.y_test})
        return (float(test_loss), evaluation.accuracy(data.y_test, test_logits),
                evaluation.accuracy(data.y_train,
                                    sess.run(logits, {x: data.x_train})))
    evaluate.keys = ("test_loss", "test_accuracy", "train_accuracy")
    return evaluate


def record(name):
    """Train workload ``name`` under MirroredStrategy on TF1; returns its
    Trace."""
    import tensorflow as tf  # deferred: a worker imports it before TF setup
    from compat_reg import optimizers  # deferred: a worker imports it before TF setup
    from compat_reg.parity import (  # deferred: a worker imports it before TF setup
        backends, evaluation, resume)
    v1 = tf.compat.v1
    work = workloads.builtin(name)
    config, spec = work.config, work.optimizer_spec
    restore = resume.checkpoint(config)
    masks = models.dropout_masks(config, work.batch_order)
    size = config["batch"] // REPLICAS
    names = work.variable_names()
    build = models.tf1_builder(config, ports.compat_regularizer,
                               _layers_batch_norm(config))
    graph = tf.Graph()
    with graph.as_default():
        v1.set_random_seed(0)
        strategy = tf.distribute.MirroredStrategy(
            ["/cpu:%d" % i for i in range(REPLICAS)])
        with strategy.scope():
            x = v1.placeholder(tf.float32, (None, work.data.x_train.shape[1]))
            y = v1.placeholder(tf.int64, (None,))
            mask = None if masks is None else v1.placeholder(
                tf.float32, (None, masks.shape[-1]))  # None: no dropout
            step = v1.train.get_or_create_global_step()
            optimizer = (optimizers.tf1(spec, global_step=step)
                         if spec.schedule is not None else optimizers.tf1(spec))

            penalised = []  # per replica: weights its penalty reaches

            def replica_step():
                replica = tf.distribute.get_replica_context()
                rows = slice(replica.replica_id_in_sync_group * size,
                             (replica.replica_id_in_sync_group + 1) * size)
                before = set(v1.get_collection(v1.GraphKeys.UPDATE_OPS))
                logits = build(x[rows], training=True,
                               mask=None if mask is None else mask[rows])
                updates = [op for op in v1.get_collection(
                    v1.GraphKeys.UPDATE_OPS) if op not in before]
                data_loss = evaluation.cross_entropy(y[rows], logits)
                penalty = evaluation.graph_regularization_loss()
                penalised.append(sum(g is not None for g, _ in
                                     optimizer.compute_gradients(penalty)))
                # the optimizer sums the replicas' gradients (TF1 scales the
                # loss only for an Estimator): the data loss is scaled here
                with tf.control_dependencies(updates):
                    train_op = optimizer.minimize(
                        data_loss / REPLICAS + penalty, global_step=step)
                with tf.control_dependencies([train_op]):
                    return [tf.identity(t) for t in
                            (data_loss, penalty, data_loss + penalty)]

            per_replica = strategy.experimental_run_v2(replica_step)
            mean = tf.distribute.ReduceOp.MEAN
            values = [strategy.reduce(mean, t, axis=None) for t in per_replica]
            by_name = collections.OrderedDict(
                (v.op.name, v) for v in v1.global_variables())
            model_variables = [by_name[n] for n in names]
            holders = [v1.placeholder(tf.float32, v.shape)
                       for v in model_variables]
            loaders = [v.assign(h) for v, h in zip(model_variables, holders)]
            init_op = v1.global_variables_initializer()
            saver = v1.train.Saver()
    config_proto = determinism.session_config()
    config_proto.device_count["CPU"] = REPLICAS
    curves = collections.OrderedDict((k, []) for k in
                                     ("data_loss", "reg_loss", "total_loss"))
    evaluate = _evaluator(build, work.data, names)
    per_epoch = collections.OrderedDict((k, []) for k in evaluate.keys)
    prefix = os.path.join(tempfile.mkdtemp(prefix="convnet-replicas-"),
                          "model.ckpt")
    try:
        with v1.Session(graph=graph, config=config_proto) as sess:
            sess.run(init_op)
            sess.run(loaders, dict(zip(holders, work.init)))
            if restore:  # every variable, each replica's copy too
                saver.restore(sess, restore)
                resumed_at = int(sess.run(step))
                held = _copies(sess, strategy, by_name.values())
                checkpointed = _saved(restore, list(held))
                restored_minus_saved = max(
                    float(np.max(np.abs(c - checkpointed[n])))
                    for n, copies in held.items() for c in copies)
            start = sess.run(model_variables)
            for epoch in range(work.batch_order.shape[0]):
                for i, (xb, yb) in enumerate(evaluation.batches(
                        work.data, work.batch_order, epoch)):
                    feed = {x: xb, y: yb}
                    if mask is not None:
                        feed[mask] = masks[epoch, i]
                    got = sess.run(values, feed)
                    for key, value in zip(curves, got):
                        curves[key].append(float(value))
                # evaluated as TF1's Estimator did: restored from the
                # checkpoint the strategy's Saver writes
                saved = _saved(saver.save(sess, prefix), names)
                for key, value in zip(evaluate.keys, evaluate(saved)):
                    per_epoch[key].append(value)
            read = dict(zip(names, sess.run(model_variables)))
            ended_at = int(sess.run(step))
            copies = _copies(sess, strategy, [
                by_name[n] for n in names
                if n.rsplit("/", 1)[-1] in models.MOVING])
            hparams = trace_mod.optimizer_hparams(optimizer, spec.kind)
            # the mirrored variables (weights, slots, global_step): every
            # replica's copy equal to replica 0's
            mirrored = _copies(sess, strategy, [
                v for n, v in by_name.items()
                if n.rsplit("/", 1)[-1] not in models.MOVING])
            mirrored_spread = max(float(np.max(np.abs(c - copies[0])))
                                  for copies in mirrored.values()
                                  for c in copies[1:])
    finally:
        shutil.rmtree(os.path.dirname(prefix), ignore_errors=True)
    record_ = collections.OrderedDict([("name", work.name),
                                       ("config", config)])
    trace = backends.make_trace(
        BACKEND, "tf1", record_, "correct", hparams,
        collections.OrderedDict(zip(names, start)),
        saved, curves, per_epoch,
        work.batch_order)
    trace.env["strategy"] = "MirroredStrategy"
    trace.env["replicas"] = REPLICAS
    trace.env["penalty_gradients_per_replica"] = penalised
    if restore:
        trace.env["resumed_at_global_step"] = resumed_at
        trace.env["ended_at_global_step"] = ended_at
        # every replica's copy of every variable the checkpoint holds, slots
        # and global_step included, minus its saved value, after the restore
        trace.env["restored_minus_saved"] = restored_minus_saved
        trace.env["mirrored_spread"] = mirrored_spread
    trace.env["replica_statistics"] = collections.OrderedDict(
        (n, [c.tolist() for c in values]) for n, values in copies.items())
    for key, of in (("saved_minus_mean", saved),
                    ("read_minus_replica0", read)):
        trace.env[key] = max(float(np.max(np.abs(of[n] - want))) for n, want in
                             _views(copies)[key.split("_minus_")[1]].items())
    return trace


def main(argv=None):
    import tensorflow as tf  # deferred: a worker imports it before TF setup
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workload", action="append", choices=WORKLOADS,
                        help="record only this workload (repeatable; default:"
                        " all of %s)" % ", ".join(WORKLOADS))
    args = parser.parse_args(argv)
    for name in args.workload or WORKLOADS:
        trace = record(name)
        trace.save(path(name))
        env = trace.env
        print("wrote %s (TF %s): %d steps; the penalty's gradients reach %s"
              " weights per replica; moving statistics: saved minus the mean "
              "of the replicas' copies %.3g, read in the session minus replica"
              " 0's %.3g" % (path(name), tf.__version__,
                             len(trace.curves["total_loss"]),
                             env["penalty_gradients_per_replica"],
                             env["saved_minus_mean"],
                             env["read_minus_replica0"]))

if __name__ == "__main__":
    main()
