"""contrib.opt's decoupled weight decay on the Keras kernels: ``AdamW``, ``MomentumW``.

``var -= weight_decay * var`` (contrib's absolute decay, no learning rate
in it) in ``update_step`` before TF1's kernel (``kernels.Adam``,
``kernels.Momentum``), with the gradient computed before it; dense, or the
rows a sparse gradient touches. Keras' own ``weight_decay`` (which Keras
multiplies by the learning rate) is turned off. ``decay_biases=False``
keeps variables whose TF1 name contains ``"bias"`` out, as contrib's
``decay_var_list`` of the kernels did.
"""

from __future__ import absolute_import, division, print_function

import numbers

import tensorflow as tf

from compat_reg import convention
from compat_reg.optimizers.kernels import Adam, Momentum, _cast, _handle, _register
from compat_reg.optimizers.spec import argument
from compat_reg.optimizers.weight_decay_tf1 import is_bias

__all__ = ["AdamW", "MomentumW"]

_ADAM_DEFAULTS = convention.OPTIMIZER["adam"].defaults


def _decay_factor(weight_decay, dtype):
    """contrib's ``weight_decay * var``: a Python float is converted to the
    variable's dtype directly (no float32 step, unlike the kernels' rates)."""
    if isinstance(weight_decay, numbers.Real):
        return tf.convert_to_tensor(weight_decay, dtype=dtype)
    return _cast(weight_decay, dtype)


class ContribDecayOptions(object):
    """contrib's ``weight_decay`` (absolute) and ``decay_biases``, checked,
    with Keras' own ``weight_decay`` (scaled by the learning rate, in
    ``_apply_weight_decay``) turned off: what this module's optimizers and
    ``optimizers.portable``'s share."""

    def _init_decay(self, weight_decay, decay_biases):
        owner = type(self).__name__
        self.weight_decay = argument(owner, "weight_decay", weight_decay)
        self.decay_biases = argument(owner, "decay_biases", decay_biases)

    def _apply_weight_decay(self, variables):
        del variables  # not Keras' decay: contrib's, before the update

    def decays(self, variable):
        """Whether ``variable`` is decayed (``decay_biases``)."""
        return self.decay_biases or not is_bias(variable)

    def _decay_config(self, config):
        config.update(weight_decay=self.weight_decay,
                      decay_biases=self.decay_biases)
        return config


class _KerasDecoupledDecay(ContribDecayOptions):
    """contrib's decay before the kernel, in ``update_step``."""

    def update_step(self, gradient, variable, learning_rate=None):
        if self.decays(variable):
            handle, dtype = _handle(variable), gradient.dtype
            if isinstance(gradient, tf.IndexedSlices):
                indices, _ = tf.unique(gradient.indices)
                rows = tf.raw_ops.ResourceGather(resource=handle,
                                                 indices=indices, dtype=dtype)
                tf.raw_ops.ResourceScatterAdd(
                    resource=handle, indices=indices,
                    updates=_decay_factor(-self.weight_decay, dtype) * rows)
            else:
                value = tf.raw_ops.ReadVariableOp(resource=handle, dtype=dtype)
                tf.raw_ops.AssignSubVariableOp(
                    resource=handle,
                    value=_decay_factor(self.weight_decay, dtype) * value)
        return super(_KerasDecoupledDecay, self).update_step(
            gradient, variable, learning_rate)



@_register
class AdamW(_KerasDecoupledDecay, Adam):
    """contrib's ``AdamWOptimizer``: ``var -= weight_decay * var``, then TF1's
    Adam update (``ResourceApplyAdam``) with the gradient computed before.

    ``weight_decay`` is contrib's, absolute (not Keras' ``weight_decay``,
    which Keras multiplies by the learning rate). ``decay_biases=False``
    leaves variables named ``*bias*`` undecayed (contrib's
    ``decay_var_list`` of the kernels).

    >>> import tensorflow as tf
    >>> var = tf.Variable([1.0, -2.0])
    >>> opt = AdamW(weight_decay=0.5, learning_rate=0.1)
    >>> _ = opt.apply_gradients([(tf.constant([0.0, 0.0]), var)])
    >>> var.numpy().tolist()   # halved by the decay; a zero gradient moves none
    [0.5, -1.0]
    """

    def __init__(self, weight_decay, learning_rate=0.001,
                 beta1=_ADAM_DEFAULTS["beta1"], beta2=_ADAM_DEFAULTS["beta2"],
                 epsilon=_ADAM_DEFAULTS["epsilon"], use_locking=False,
                 name="AdamW", decay_biases=True):
        super(AdamW, self).__init__(learning_rate, beta1, beta2, epsilon,
                                    use_locking, name)
        self._init_decay(weight_decay, decay_biases)

    def get_config(self):
        return self._decay_config(super(AdamW, self).get_config())


@_register
class MomentumW(_KerasDecoupledDecay, Momentum):
    """contrib's ``MomentumWOptimizer``: ``var -= weight_decay * var``, then
    TF1's momentum update (``ResourceApplyMomentum``).

    >>> import tensorflow as tf
    >>> var = tf.Variable([1.0, 2.0], name="dense/bias")
    >>> opt = MomentumW(0.5, learning_rate=1.0, momentum=0.9,
    ...                 decay_biases=False)
    >>> _ = opt.apply_gradients([(tf.constant([1.0, 1.0]), var)])
    >>> var.numpy().tolist()   # a bias: not decayed, 1.0 * grad subtracted
    [0.0, 1.0]
    """

    def __init__(self, weight_decay, learning_rate, momentum, use_locking=False,
                 name="MomentumW", use_nesterov=False, decay_biases=True):
        super(MomentumW, self).__init__(learning_rate, momentum, use_locking,
                                        name, use_nesterov)
        self._init_decay(weight_decay, decay_biases)

    def get_config(self):
        return self._decay_config(super(MomentumW, self).get_config())

