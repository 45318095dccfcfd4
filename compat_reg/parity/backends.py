"""Run one backend on one workload and return its ``Trace``.

Backends: ``tf1-graph`` (TF1 graph + Session), ``tf2-keras`` (Keras layers
and a ``tf.function`` custom loop) and ``tf2-fit`` (``model.fit``). On TF1
only ``tf1-graph`` is offered.
"""

from __future__ import absolute_import, division, print_function

import collections

from compat_reg.parity import finite, models, ports
from compat_reg.parity import trace as trace_mod

BACKENDS = ("tf1-graph", "tf2-keras", "tf2-fit")
OPTIMIZERS = ("exact", "keras")


def optimizer_for(spec, optimizers="exact"):
    """The Keras optimizer the TF2 backends train a ``spec`` with:
    ``compat_reg.optimizers.get`` (TF1-exact) or its ``keras_native``."""
    from compat_reg import optimizers as factory
    if optimizers not in OPTIMIZERS:
        raise ValueError("optimizers must be one of %s, not %r" % (
            OPTIMIZERS, optimizers))
    return (factory.keras_native if optimizers == "keras" else factory.get)(
        spec)


def available():
    """The backends this TensorFlow offers."""
    from compat_reg import _compat
    return BACKENDS[:1] if _compat.TF1 else BACKENDS


def check_backend(name):
    if name not in BACKENDS:
        raise ValueError("unknown backend %r; known: %s" % (
            name, ", ".join(BACKENDS)))
    if name not in available():
        raise ValueError("backend %s needs TF2; this TensorFlow offers: %s" % (
            name, ", ".join(available())))


def _reset_keras():
    from compat_reg import _compat
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


def run(workload, backend, optimizers="exact", port=None):
    """Train ``workload`` on ``backend``; returns a Trace.

    Args:
      workload: a ``workloads.Workload``.
      backend: one of ``available()``.
      optimizers: ``exact`` (compat_reg's TF1-exact) or ``keras`` (native);
        ignored by ``tf1-graph``, which uses TF1's own.
      port: a ``ports.Port`` (default: the correct port).
    """
    check_backend(backend)
    if optimizers not in OPTIMIZERS:
        raise ValueError("optimizers must be one of %s, not %r" % (
            OPTIMIZERS, optimizers))
    port = port or ports.Port()
    config = workload.config
    record = collections.OrderedDict([("name", workload.name),
                                      ("config", config)])
    names = workload.variable_names()
    masks = models.dropout_masks(config, workload.batch_order)
    if backend == "tf1-graph":
        from compat_reg.parity import tf1_graph
        out = tf1_graph.train(
            models.tf1_builder(config, ports.compat_regularizer),
            workload.init, workload.data, workload.batch_order, config, names,
            masks=masks, towers=models.kind(config) != "mlp")
        return make_trace(backend, "tf1", record, "correct", out["hparams"],
                          out["initial"], out["final"], out["curves"],
                          out["per_epoch"], workload.batch_order)
    from compat_reg.parity import tf2_keras
    _reset_keras()
    keras_port = models.keras_port(config, port.regularizer)
    tracked = list(keras_port.weights.values())
    if port.copy_init:
        port.initial(workload, keras_port)
    if port.freeze_batch_norm and keras_port.batch_norm is not None:
        keras_port.batch_norm.trainable = False
    model = keras_port.model
    variables = model.trainable_weights
    optimizer = (port.optimizer(config) if port.optimizer is not None
                 else optimizer_for(config, optimizers))
    before_step = None
    if masks is not None:
        def before_step(epoch, step):
            keras_port.set_mask(masks[epoch, step])
    if backend == "tf2-keras":
        curves, per_epoch, start, final = tf2_keras.train_loop(
            model, variables, workload.data, workload.batch_order, optimizer,
            add_penalty=port.add_penalty, tracked=tracked,
            before_step=before_step, training=not port.inference_mode)
    else:
        curves, per_epoch, start, final = tf2_keras.train_fit(
            model, variables, workload.data, workload.batch_order, optimizer,
            manual_add=port.manual_add, tracked=tracked,
            before_step=before_step)
    return make_trace(
        backend, optimizers, record, port.name,
        trace_mod.optimizer_hparams(optimizer, config["optimizer"]),
        collections.OrderedDict(zip(names, start)),
        collections.OrderedDict(zip(names, final)), curves, per_epoch,
        workload.batch_order)
