"""How the code under test was ported: the right way, and known wrong ways.

A ``Port`` holds the choices a team makes when moving TF1 training code to
TF2. ``Port()`` is the correct port (compat_reg regularizers, the penalty
added once, the workload's optimizer settings, the same initial weights).
The wrong ports of ``registry.PORTS`` reproduce the usual mistakes from
these parts, so that the harness can show it catches them and names the
cause (``--port NAME`` on the CLI).
"""

from __future__ import absolute_import, division, print_function

from compat_reg import convention


def compat_regularizer(reg):
    """The compat_reg regularizer of a workload ``reg`` entry (or None)."""
    from compat_reg import regularizers  # deferred: parity --help imports this
    return regularizers.from_spec(reg)


def keras_unhalved_regularizer(reg):
    """WRONG: Keras' ``l2(scale)`` with TF1's scale, not halved.

    TF1's ``l2_regularizer(s)`` is ``s * sum(w**2) / 2``; Keras' ``L2(s)`` is
    ``s * sum(w**2)``, so the L2 part of the penalty doubles.
    """
    from compat_reg import _compat  # deferred: parity --help imports this
    regularizers = _compat.moves  # L1/L2 are L1L2 before TF 2.3: keywords
    if reg is None:
        return None
    kind = reg[0]
    if kind == "l2":
        return regularizers.L2(l2=reg[1])
    if kind == "l1":
        return regularizers.L1(l1=reg[1])
    if kind in ("l1_l2", "sum"):
        return regularizers.L1L2(l1=reg[1], l2=reg[2])
    raise ValueError("unknown regularizer spec %r" % (reg,))


def keras_default_epsilon_optimizer(spec):
    """WRONG: ``keras.optimizers.Adam(lr)``, i.e. Keras' epsilon 1e-7."""
    from compat_reg import _compat  # deferred: parity --help imports this
    return _compat.keras.optimizers.Adam(
        learning_rate=convention.parse_optimizer(spec).args["learning_rate"])


class Port(object):
    """The choices of one port (defaults: the correct one).

    Args:
      regularizer: ``reg spec -> regularizer`` for the Keras layers.
      add_penalty: the custom loop adds the model's penalty to the loss.
      manual_add: the ``fit`` loss adds the model's penalty by hand on top of
        what ``fit`` adds itself.
      optimizer: ``spec -> optimizer``, or None for the harness's choice
        (exact or native Keras, see ``--optimizers``).
      copy_init: copy the workload's initial weights into the Keras model;
        False keeps Keras' own seeded initialisation.
      inference_mode: the custom loop calls the model with
        ``training=False`` (batch norm normalises with its moving statistics
        and never updates them).
      freeze_batch_norm: ``BatchNormalization.trainable = False`` (Keras then
        runs it in inference mode, in ``fit`` too).
      initial: ``(workload, keras_port) -> arrays`` for the Keras weights
        (default: the workload's initial weights).
      scale_penalty: under a strategy, the custom loop scales the penalty
        per replica (``compat_reg.scale_regularization_loss``); False adds
        the whole penalty on every replica.
      name: a label stored in the trace.
    """

    def __init__(self, regularizer=compat_regularizer, add_penalty=True,
                 manual_add=False, optimizer=None, copy_init=True,
                 inference_mode=False, freeze_batch_norm=False, initial=None,
                 scale_penalty=True, name="correct"):
        self.regularizer = regularizer
        self.add_penalty = add_penalty
        self.manual_add = manual_add
        self.optimizer = optimizer
        self.copy_init = copy_init
        self.inference_mode = inference_mode
        self.freeze_batch_norm = freeze_batch_norm
        self._initial = initial
        self.scale_penalty = scale_penalty
        self.name = name

    def initial(self, workload, keras_port):
        """Set ``keras_port``'s initial weights: the workload's arrays, or for
        a workload that starts from a TF1 checkpoint, the checkpoint loaded
        by ``compat_reg.checkpoints`` through its documented name mapping."""
        if self._initial is not None:
            return self._initial(workload, keras_port)
        name = workload.config.get("init_checkpoint")
        if name:
            return load_checkpoint(workload, keras_port)
        from compat_reg.parity import tf2_keras  # deferred: parity --help imports this
        tf2_keras.copy_weights(list(keras_port.weights.values()),
                               workload.init)
        return None


def load_checkpoint(workload, keras_port, mapping=None):
    """Load the workload's TF1 checkpoint into the Keras model; returns the
    ``compat_reg.checkpoints`` report."""
    from compat_reg import checkpoints  # deferred: parity --help imports this
    from compat_reg.parity import models  # deferred: parity --help imports this
    return checkpoints.load_tf1_checkpoint(
        keras_port.model, models.checkpoint_path(
            workload.config["init_checkpoint"]),
        scopes=models.CHECKPOINT_SCOPES, mapping=mapping)


def swapped_checkpoint_names(workload, keras_port):
    """WRONG: a name mapping that sends the checkpoint's batch-norm ``beta``
    to Keras' ``gamma`` and back (same shape: no load error)."""
    return load_checkpoint(workload, keras_port, mapping={
        "conv1/BatchNorm/beta": "conv1_bn/gamma",
        "conv1/BatchNorm/gamma": "conv1_bn/beta"})


def native(wrong):
    """WRONG: the straight native-Keras port of an optimizer spec (see
    ``compat_reg.optimizers.keras_native``'s ``wrong``)."""
    def make(spec):
        from compat_reg import optimizers  # deferred: parity --help imports this
        return optimizers.keras_native(spec, wrong=wrong)
    return make

