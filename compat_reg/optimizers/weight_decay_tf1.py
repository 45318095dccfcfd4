"""contrib.opt's decoupled weight decay on TF1's optimizers (graph mode; eager works).

``DecoupledWeightDecayExtension`` is contrib's (TF 1.15), op for op:
``var -= weight_decay * var`` before each variable's update, no learning
rate in it. ``AdamWOptimizer`` and ``MomentumWOptimizer`` put it on
``tf.compat.v1.train``'s classes with two changes to contrib
(``_OrderedDecay``): the decay waits on every gradient, and
``decay_biases=False`` / ``minimize(decay_var_list=...)`` are kept.
``contrib_class(kind)`` is ``tf.contrib.opt``'s own class with the same
changes, where contrib exists. The Keras-side twins are in
``weight_decay_keras``.
"""

from __future__ import absolute_import, division, print_function

import tensorflow as tf

from compat_reg import _compat, convention
from compat_reg.optimizers.spec import argument

__all__ = ["AdamWOptimizer", "DecoupledWeightDecayExtension",
           "MomentumWOptimizer", "contrib_class", "is_bias"]

_ADAM_DEFAULTS = convention.OPTIMIZER["adam"].defaults


def is_bias(variable):
    """What ``decay_biases=False`` keeps out of the decay: a variable whose
    TF1 name (its scope path) contains ``"bias"``."""
    return convention.BIAS_NAME in _compat.tf1_name(variable)


class _Variables(object):
    """A set of variables by identity: TF2 variables are unhashable eagerly
    and in a ``tf.function``; TF1's graph variables compare by identity."""

    def __init__(self, variables):
        self._variables = list(variables)
        self._ids = set(id(v) for v in self._variables)

    def __contains__(self, variable):
        return id(variable) in self._ids

    def __len__(self):
        return len(self._variables)


class _NoVariable(object):
    """In an empty decay list: contrib takes ``decay_var_list=[]`` for None
    (decay everything); a list holding only this decays nothing."""


_NO_VARIABLE = _NoVariable()


class DecoupledWeightDecayExtension(object):
    """contrib.opt's ``DecoupledWeightDecayExtension`` (TF 1.15), op for op.

    Put first among the bases of a ``tf.compat.v1.train`` optimizer: before
    each variable's update, ``var.assign_sub(weight_decay * var)`` (dense) or
    ``scatter_add(var, indices, -weight_decay * gather(var, indices))``
    (sparse: the rows the gradient touches), the update waiting on it. The
    decay has no learning rate in it. ``decay_var_list`` of
    ``apply_gradients`` limits it (None or empty: every variable updated).
    Like contrib's, ``minimize`` drops its ``decay_var_list`` (TF1's
    ``Optimizer.minimize`` calls ``apply_gradients`` without it), and
    nothing orders the decay after the forward pass: ``AdamWOptimizer`` and
    ``MomentumWOptimizer`` below fix both.
    """

    def __init__(self, weight_decay, **kwargs):
        self._decay_var_list = None
        self._weight_decay = weight_decay
        self._weight_decay_tensor = None
        super(DecoupledWeightDecayExtension, self).__init__(**kwargs)

    def minimize(self, loss, global_step=None, var_list=None,
                 gate_gradients=_compat.v1.train.Optimizer.GATE_OP,
                 aggregation_method=None, colocate_gradients_with_ops=False,
                 name=None, grad_loss=None, decay_var_list=None):
        self._decay_var_list = (_Variables(decay_var_list) if decay_var_list
                                else False)
        return super(DecoupledWeightDecayExtension, self).minimize(
            loss, global_step=global_step, var_list=var_list,
            gate_gradients=gate_gradients,
            aggregation_method=aggregation_method,
            colocate_gradients_with_ops=colocate_gradients_with_ops,
            name=name, grad_loss=grad_loss)

    def apply_gradients(self, grads_and_vars, global_step=None, name=None,
                        decay_var_list=None):
        self._decay_var_list = (_Variables(decay_var_list) if decay_var_list
                                else False)
        return super(DecoupledWeightDecayExtension, self).apply_gradients(
            grads_and_vars, global_step=global_step, name=name)

    def _prepare(self):
        weight_decay = self._weight_decay
        if callable(weight_decay):
            weight_decay = weight_decay()
        self._weight_decay_tensor = tf.convert_to_tensor(
            weight_decay, name="weight_decay")
        super(DecoupledWeightDecayExtension, self)._prepare()

    def _decays(self, var):
        return not self._decay_var_list or var in self._decay_var_list

    def _decay_weights_op(self, var):
        if self._decays(var):
            return var.assign_sub(self._weight_decay * var, self._use_locking)
        return tf.no_op()

    def _decay_weights_sparse_op(self, var, indices, scatter_add):
        if self._decays(var):
            update = -self._weight_decay * tf.gather(var, indices)
            return scatter_add(var, indices, update, self._use_locking)
        return tf.no_op()

    def _apply_dense(self, grad, var):
        with tf.control_dependencies([self._decay_weights_op(var)]):
            return super(DecoupledWeightDecayExtension, self)._apply_dense(
                grad, var)

    def _resource_apply_dense(self, grad, var):
        with tf.control_dependencies([self._decay_weights_op(var)]):
            return super(DecoupledWeightDecayExtension,
                         self)._resource_apply_dense(grad, var)

    def _apply_sparse(self, grad, var):
        decay_op = self._decay_weights_sparse_op(
            var, grad.indices, _compat.v1.scatter_add)
        with tf.control_dependencies([decay_op]):
            return super(DecoupledWeightDecayExtension, self)._apply_sparse(
                grad, var)

    def _resource_scatter_add(self, x, i, v, _=None):
        with tf.control_dependencies([tf.raw_ops.ResourceScatterAdd(
                resource=x.handle, indices=i, updates=v)]):
            return x.value()

    def _resource_apply_sparse(self, grad, var, indices):
        decay_op = self._decay_weights_sparse_op(
            var, indices, self._resource_scatter_add)
        with tf.control_dependencies([decay_op]):
            return super(DecoupledWeightDecayExtension,
                         self)._resource_apply_sparse(grad, var, indices)


class _OrderedDecay(object):
    """What compat_reg adds to contrib's classes (and to the port):

    * the decay waits on every gradient (``apply_gradients`` runs under
      ``tf.control_dependencies(gradients)``). contrib's decay depends on
      nothing, so in a graph it may run before the forward pass reads the
      variable, and the loss and gradients then see decayed weights: two
      runs of the same graph differ (by about 1e-4 on the parity MLP).
      With the gradients computed first, every run is the same;
    * ``decay_biases=False``: ``decay_var_list`` defaults to the updated
      variables whose TF1 name has no ``"bias"`` in it;
    * ``minimize(..., decay_var_list=...)`` keeps the list.
    """

    def __init__(self, weight_decay, *args, **kwargs):
        owner = type(self).__name__
        self._decay_biases = argument(owner, "decay_biases", kwargs.pop(
            "decay_biases", convention.DECAY_BIASES_DEFAULT))
        super(_OrderedDecay, self).__init__(
            argument(owner, "weight_decay", weight_decay), *args, **kwargs)

    @property
    def decay_biases(self):
        """False: variables named ``*bias*`` are not decayed."""
        return self._decay_biases

    @property
    def weight_decay(self):
        """contrib's ``weight_decay``: ``var -= weight_decay * var`` a step."""
        return self._weight_decay

    def minimize(self, loss, global_step=None, var_list=None,
                 gate_gradients=_compat.v1.train.Optimizer.GATE_OP,
                 aggregation_method=None, colocate_gradients_with_ops=False,
                 name=None, grad_loss=None, decay_var_list=None):
        """TF1's ``minimize``, passing ``decay_var_list`` on."""
        grads_and_vars = self.compute_gradients(
            loss, var_list=var_list, gate_gradients=gate_gradients,
            aggregation_method=aggregation_method,
            colocate_gradients_with_ops=colocate_gradients_with_ops,
            grad_loss=grad_loss)
        if not [v for g, v in grads_and_vars if g is not None]:
            raise ValueError(
                "No gradients provided for any variable, check your graph for "
                "ops that do not support gradients, between variables %s and "
                "loss %s." % ([str(v) for _, v in grads_and_vars], loss))
        return self.apply_gradients(grads_and_vars, global_step=global_step,
                                    name=name, decay_var_list=decay_var_list)

    def apply_gradients(self, grads_and_vars, global_step=None, name=None,
                        decay_var_list=None):
        """contrib's ``apply_gradients``, the decay waiting on the gradients;
        with ``decay_biases=False`` and no ``decay_var_list``, the variables
        without ``"bias"`` in their name are the list."""
        grads_and_vars = tuple(grads_and_vars)
        if decay_var_list is None and not self._decay_biases:
            decay_var_list = [v for g, v in grads_and_vars
                              if g is not None and not is_bias(v)]
            decay_var_list = decay_var_list or [_NO_VARIABLE]
        grads = [g for g, _ in grads_and_vars if g is not None]
        with tf.control_dependencies(grads):
            return super(_OrderedDecay, self).apply_gradients(
                grads_and_vars, global_step=global_step, name=name,
                decay_var_list=decay_var_list)


class AdamWOptimizer(_OrderedDecay, DecoupledWeightDecayExtension,
                     _compat.v1.train.AdamOptimizer):
    """contrib's ``AdamWOptimizer`` on ``tf.compat.v1.train.AdamOptimizer``.

    Equal to ``tf.contrib.opt.AdamWOptimizer`` bit for bit (TF 1.15, tested),
    with ``decay_biases`` and the decay after the gradients
    (``_OrderedDecay``). A TF1 optimizer: graph mode, or eagerly with
    ``apply_gradients``.

    >>> import tensorflow as tf
    >>> kernel = tf.Variable([1.0, -2.0], name="dense/kernel")
    >>> bias = tf.Variable([4.0], name="dense/bias")
    >>> opt = AdamWOptimizer(0.5, 0.1, decay_biases=False)
    >>> zero = tf.constant(0.0)  # a zero gradient: Adam moves nothing
    >>> _ = opt.apply_gradients([(zero * kernel, kernel), (zero * bias, bias)])
    >>> kernel.numpy().tolist(), bias.numpy().tolist()  # the bias not decayed
    ([0.5, -1.0], [4.0])
    """

    def __init__(self, weight_decay, learning_rate=0.001,
                 beta1=_ADAM_DEFAULTS["beta1"], beta2=_ADAM_DEFAULTS["beta2"],
                 epsilon=_ADAM_DEFAULTS["epsilon"], use_locking=False,
                 name="AdamW", decay_biases=True):
        super(AdamWOptimizer, self).__init__(
            weight_decay, learning_rate=learning_rate, beta1=beta1,
            beta2=beta2, epsilon=epsilon, use_locking=use_locking, name=name,
            decay_biases=decay_biases)


class MomentumWOptimizer(_OrderedDecay, DecoupledWeightDecayExtension,
                         _compat.v1.train.MomentumOptimizer):
    """contrib's ``MomentumWOptimizer`` on ``tf.compat.v1.train.MomentumOptimizer``.

    Equal to ``tf.contrib.opt.MomentumWOptimizer`` bit for bit (TF 1.15,
    tested), with ``decay_biases`` and the decay after the gradients.
    """

    def __init__(self, weight_decay, learning_rate, momentum, use_locking=False,
                 name="MomentumW", use_nesterov=False, decay_biases=True):
        super(MomentumWOptimizer, self).__init__(
            weight_decay, learning_rate=learning_rate, momentum=momentum,
            use_locking=use_locking, name=name, use_nesterov=use_nesterov,
            decay_biases=decay_biases)


_CONTRIB = {}


def contrib_class(kind):
    """``tf.contrib.opt``'s class for ``kind`` with ``_OrderedDecay`` (TF 1.x
    with contrib; imported on first use, contrib's import is slow), named
    ``ContribAdamWOptimizer``/``ContribMomentumWOptimizer`` so that a trace
    tells it from the port; None where contrib has no such class."""
    if kind not in _CONTRIB:
        base = _compat.contrib_opt_class(convention.OPTIMIZER[kind].tf1_class)
        if base is None:
            return None
        _CONTRIB[kind] = type("Contrib" + base.__name__, (_OrderedDecay, base), {
            "__module__": __name__,
            "__doc__": "``tf.contrib.opt.%s`` itself, with compat_reg's "
                       "``decay_biases`` and decay after the gradients."
                       % base.__name__})
    return _CONTRIB[kind]

