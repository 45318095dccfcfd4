"""Run one backend on one workload and return its ``Trace``.

Backends (``registry.BACKENDS``): ``tf1-graph`` (TF1 graph + Session),
``tf2-keras`` (Keras layers and a ``tf.function`` custom loop) and
``tf2-fit`` (``model.fit``), the last two on one device or under a
``tf.distribute`` strategy. On TF1 only ``tf1-graph`` is offered.
"""

from __future__ import absolute_import, division, print_function

import collections

import numpy as np

from compat_reg import _compat
from compat_reg import optimizers as factory
from compat_reg.parity import (finite, keras_backends, models, ports,
                               registry, resume, tf1_graph, tf2_keras)
from compat_reg.parity import trace as trace_mod

BACKENDS = tuple(registry.BACKENDS)
OPTIMIZERS = ("exact", "keras")


def optimizer_for(spec, optimizers="exact"):
    """The Keras optimizer the TF2 backends train a ``spec`` with:
    ``compat_reg.optimizers.get`` (TF1-exact) or its ``keras_native``."""
    if optimizers not in OPTIMIZERS:
        raise ValueError("optimizers must be one of %s, not %r" % (
            OPTIMIZERS, optimizers))
    return (factory.keras_native if optimizers == "keras" else factory.get)(
        spec)


def available():
    """The backends this TensorFlow offers (on Keras' JAX or torch backend
    the tf2 ones: tf1-graph builds TF graphs of compat_reg's penalties,
    which compute with that backend there)."""
    return tuple(n for n, b in registry.BACKENDS.items()
                 if (_compat.TF2 or not b.tf2) and (
                     _compat.TF_BACKEND or b.tf2))


def check_backend(name):
    registry.check("backend", name)
    if name not in available():
        raise ValueError("backend %s needs %s; this TensorFlow offers: %s" % (
            name, "TF2" if _compat.TF_BACKEND else "Keras' TensorFlow backend "
            "(KERAS_BACKEND=%s)" % _compat.KERAS_BACKEND,
            ", ".join(available())))


def _reset_keras():
    _compat.keras.backend.clear_session()


def make_trace(backend, optimizers, workload_record, port_name, hparams,
               initial, final, curves, per_epoch, batch_order):
    """Assemble a Trace from what a backend measured."""
    port = collections.OrderedDict([
        ("name", port_name),
        ("optimizer", hparams),
        ("initial_weights", collections.OrderedDict(
            (k, trace_mod.sha256(v)) for k, v in initial.items())),
        ("batch_order", [trace_mod.sha256(e) for e in batch_order]),
    ])
    finite.note_initial(port, initial)
    return trace_mod.Trace(
        trace_mod.env_record(backend, optimizers), workload_record, port,
        curves, per_epoch, final)


def _strategy_env(strategy, strategy_name, port, backend, variables,
                  optimizer, workload):
    """What a trace under a strategy records of how it ran."""
    if backend == "tf2-keras":
        how = ("not added" if not port.add_penalty else
               "scale_regularization_loss" if port.scale_penalty else
               "unscaled")
    else:
        how = "fit" + (" + manual add" if port.manual_add else "")
    env = collections.OrderedDict([
        ("strategy", registry.STRATEGIES[strategy_name].cls),
        ("replicas", int(strategy.num_replicas_in_sync)),
        ("workers", registry.STRATEGIES[strategy_name].workers),
        ("penalty_scaling", how),
        ("replica_spread", tf2_keras.replica_spread(strategy, variables)),
        ("optimizer_steps", int(np.prod(workload.batch_order.shape[:2]))),
    ])
    powers = _compat.adam_beta_powers(optimizer)
    if powers is not None:
        env["adam_beta_powers"] = powers
    return env


def run(workload, backend, optimizers="exact", port=None, strategy=None,
        strategy_name="none"):
    """Train ``workload`` on ``backend``; returns a Trace.

    Args:
      workload: a ``workloads.Workload``.
      backend: one of ``available()``.
      optimizers: ``exact`` (compat_reg's TF1-exact) or ``keras`` (native);
        ignored by ``tf1-graph``, which uses TF1's own.
      port: a ``ports.Port`` (default: the correct port).
      strategy: a ``tf.distribute`` strategy to train under (``tf2-keras``
        and ``tf2-fit``; None: one device, no strategy), named
        ``strategy_name`` in ``registry.STRATEGIES``: the trace's backend is
        then ``<strategy_name>:<backend>`` and its env says how it ran
        (strategy, replicas, workers, penalty scaling, replica spread).
    """
    check_backend(backend)
    if optimizers not in OPTIMIZERS:
        raise ValueError("optimizers must be one of %s, not %r" % (
            OPTIMIZERS, optimizers))
    registry.check("strategy", strategy_name)
    if (strategy is None) != (strategy_name == "none"):
        raise ValueError("strategy %r needs its tf.distribute strategy" % (
            strategy_name,))
    if strategy is not None and backend not in registry.STRATEGY_BACKENDS:
        raise ValueError("backend %r does not run under a strategy; these do:"
                         " %s" % (backend, ", ".join(registry.STRATEGY_BACKENDS)))
    port = port or ports.Port()
    config = workload.config
    spec = workload.optimizer_spec
    record = collections.OrderedDict([("name", workload.name),
                                      ("config", config)])
    names = workload.variable_names()
    masks = models.dropout_masks(config, workload.batch_order)
    if backend == "tf1-graph":
        out = tf1_graph.train(
            models.tf1_builder(config, ports.compat_regularizer),
            workload.init, workload.data, workload.batch_order, spec, names,
            masks=masks, towers=models.kind(config) != "mlp",
            restore=resume.checkpoint(config))
        return make_trace(backend, "tf1", record, "correct", out["hparams"],
                          out["initial"], out["final"], out["curves"],
                          out["per_epoch"], workload.batch_order)
    if keras_backends.unsupported(workload):
        raise ValueError(keras_backends.unsupported(workload))
    _reset_keras()
    with tf2_keras.scope(strategy):
        keras_port = models.keras_port(config, port.regularizer)
        tracked = list(keras_port.weights.values())
        if port.copy_init:
            port.initial(workload, keras_port)
        if port.freeze_batch_norm and keras_port.batch_norm is not None:
            keras_port.batch_norm.trainable = False
        model = keras_port.model
        variables = model.trainable_weights
        optimizer = (port.optimizer(spec) if port.optimizer is not None
                     else optimizer_for(spec, optimizers))
        tf2_keras.build(optimizer, variables, strategy)
        resume.restore_optimizer(workload, keras_port, optimizer)
    before_step = None
    if masks is not None:
        def before_step(epoch, step):
            keras_port.set_mask(masks[epoch, step])
    before_step = resume.carry_step(model, optimizer, before_step)
    if not _compat.TF_BACKEND and backend == "tf2-keras":  # JAX, torch
        curves, per_epoch, start, final = keras_backends.train_loop(
            model, variables, workload.data, workload.batch_order, optimizer,
            add_penalty=port.add_penalty, tracked=tracked,
            training=not port.inference_mode)
    elif not _compat.TF_BACKEND:
        curves, per_epoch, start, final = keras_backends.train_fit(
            model, variables, workload.data, workload.batch_order, optimizer,
            manual_add=port.manual_add, tracked=tracked)
    elif backend == "tf2-keras":
        curves, per_epoch, start, final = tf2_keras.train_loop(
            model, variables, workload.data, workload.batch_order, optimizer,
            add_penalty=port.add_penalty, tracked=tracked,
            before_step=before_step, training=not port.inference_mode,
            strategy=strategy, scale_penalty=port.scale_penalty)
    else:
        curves, per_epoch, start, final = tf2_keras.train_fit(
            model, variables, workload.data, workload.batch_order, optimizer,
            manual_add=port.manual_add, tracked=tracked,
            before_step=before_step, strategy=strategy)
    trace = make_trace(
        backend if strategy is None else "%s:%s" % (strategy_name, backend),
        optimizers, record, port.name,
        trace_mod.optimizer_hparams(optimizer, spec.kind),
        collections.OrderedDict(zip(names, start)),
        collections.OrderedDict(zip(names, final)), curves, per_epoch,
        workload.batch_order)
    if strategy is not None:
        trace.env.update(_strategy_env(strategy, strategy_name, port, backend,
                                       variables, optimizer, workload))
    return trace
