"""TF1's ``GradientDescent``, ``Momentum`` and ``Adam`` as Keras optimizers.

Each subclasses the Optimizer of whichever Keras ``tf.keras`` is (Keras 3,
or tf_keras / Keras 2.11-2.15: ``_compat.OptimizerAdapter``) and updates the
Keras variables with TF's own training kernel on their resource handles, as
``tf.compat.v1.train`` does: ``tf.raw_ops.ResourceApplyGradientDescent``,
``ResourceApplyMomentum``, ``ResourceApplyAdam`` (with TF1's accumulated
``beta1_power``/``beta2_power``). Sparse gradients (``tf.IndexedSlices``)
follow TF1's sparse paths after summing duplicate indices as TF1 did.

The shape of one: ``_KernelOptimizer`` builds the slots ``_SLOT_NAMES``
per variable and calls ``_apply_dense(grad, var handle, slot handles, lr)``
or ``_apply_sparse(values, indices, variable, slot handles, lr)`` per
variable, then ``_finish()`` once per step. Another implementation of the
same update (``keras.ops`` for Keras 3's other backends) is a subclass
with those two methods.
"""

from __future__ import absolute_import, division, print_function

import numbers

import tensorflow as tf

from compat_reg import _compat, convention
from compat_reg.optimizers.spec import argument

__all__ = ["Adam", "GradientDescent", "Momentum"]

_ADAM_DEFAULTS = convention.OPTIMIZER["adam"].defaults
_tf_variable = _compat.tf_variable


def _register(cls):
    """Register a kernel class with Keras, where it is the one in use."""
    if not _compat.KERAS_OPTIMIZER_API:
        return cls
    return _compat.moves.register_serializable(package="compat_reg")(cls)


def _handle(variable):
    return _tf_variable(variable).handle


def _cast(value, dtype):
    """``value`` (a float, a Keras or tf variable, a tensor) as a ``dtype`` tensor.

    A Python float becomes a float32 tensor first, as TF1's
    ``convert_to_tensor`` made it, then is cast: TF1's arithmetic exactly.
    """
    if isinstance(value, numbers.Real):
        value = tf.convert_to_tensor(value)
    else:
        value = tf.convert_to_tensor(_tf_variable(value))
    return tf.cast(value, dtype)


def _deduplicate(values, indices):
    """Sum the slices of repeated indices, as TF1's ``Optimizer`` did."""
    unique, positions = tf.unique(indices)
    summed = tf.math.unsorted_segment_sum(values, positions, tf.shape(unique)[0])
    return summed, unique


def _lr_to_config(learning_rate):
    schedules = _compat.keras.optimizers.schedules
    if isinstance(learning_rate, schedules.LearningRateSchedule):
        return schedules.serialize(learning_rate)
    if hasattr(learning_rate, "numpy"):
        return float(learning_rate.numpy())
    return float(learning_rate)


class _KernelOptimizer(_compat.OptimizerAdapter):
    """Shared machinery: slots and the step hook (Keras 2/3: ``_compat``)."""

    _SLOT_NAMES = ()

    def __init__(self, learning_rate, use_locking, name):
        owner = type(self).__name__
        super().__init__(argument(owner, "learning_rate", learning_rate), name)
        self.use_locking = argument(owner, "use_locking", use_locking)

    # -- variables -----------------------------------------------------
    def build(self, var_list):
        if self.is_built():
            return
        var_list = list(var_list)
        super().build(var_list)
        self._slot_index = {}
        self._slot_lists = [[] for _ in self._SLOT_NAMES]
        for i, var in enumerate(var_list):
            self._slot_index[self._var_key(var)] = i
            for slots, slot_name in zip(self._slot_lists, self._SLOT_NAMES):
                # positional: Keras 3 calls it `name`, Keras 2 `variable_name`
                slots.append(self.add_variable_from_reference(var, slot_name))
        self._build_non_slots(var_list)
        self.mark_built()

    def _build_non_slots(self, var_list):
        del var_list

    def get_slot(self, variable, slot_name):
        """The slot ``slot_name`` of ``variable``, as TF1's ``get_slot``.

        ``"momentum"`` for ``Momentum``, ``"m"`` and ``"v"`` for ``Adam``.
        """
        index = self._slot_index[self._var_key(variable)]
        return self._slot_lists[self._SLOT_NAMES.index(slot_name)][index]

    # No ``get_slot_names``: tf.train.Checkpoint takes an object that has one
    # for a TF1 optimizer and would save the slots twice (and refuse to).

    # -- updates -------------------------------------------------------
    def update_step(self, gradient, variable, learning_rate=None):
        """Apply TF1's update for one variable (Keras 2 passes no rate)."""
        if learning_rate is None:
            learning_rate = self.learning_rate
        index = self._slot_index[self._var_key(variable)]
        slots = [_handle(slots[index]) for slots in self._slot_lists]
        dtype = gradient.dtype
        lr = _cast(learning_rate, dtype)
        if isinstance(gradient, tf.IndexedSlices):
            values, indices = _deduplicate(gradient.values, gradient.indices)
            return self._apply_sparse(values, indices, variable, slots, lr)
        return self._apply_dense(gradient, _handle(variable), slots, lr)

    def _apply_dense(self, grad, var, slots, lr):
        raise NotImplementedError

    def _apply_sparse(self, values, indices, variable, slots, lr):
        raise NotImplementedError

    # A method run once per step after every variable is updated, as TF1's
    # ``_finish`` was (Adam's updates its beta powers), or None.
    _finish = None

    def after_apply(self, grads):
        if self._finish is None or all(g is None for g in grads):
            return
        if tf.distribute.has_strategy() and not tf.distribute.in_cross_replica_context():
            tf.distribute.get_replica_context().merge_call(
                lambda _strategy: self._finish())
        else:
            self._finish()

    # -- config --------------------------------------------------------
    def _base_config(self):
        return {"learning_rate": _lr_to_config(self._learning_rate)}


@_register
class GradientDescent(_KernelOptimizer):
    """TF1's ``GradientDescentOptimizer``: ``var -= learning_rate * grad``.

    >>> import tensorflow as tf
    >>> var = tf.Variable([1.0, 2.0])
    >>> opt = GradientDescent(learning_rate=0.5)
    >>> _ = opt.apply_gradients([(tf.constant([1.0, -1.0]), var)])
    >>> var.numpy().tolist()
    [0.5, 2.5]
    >>> sorted(opt.get_config().items())
    [('learning_rate', 0.5), ('name', 'GradientDescent'), ('use_locking', False)]
    """

    def __init__(self, learning_rate, use_locking=False, name="GradientDescent"):
        super().__init__(learning_rate, use_locking, name)

    def _apply_dense(self, grad, var, slots, lr):
        return tf.raw_ops.ResourceApplyGradientDescent(
            var=var, alpha=lr, delta=grad, use_locking=self.use_locking)

    def _apply_sparse(self, values, indices, variable, slots, lr):
        return tf.raw_ops.ResourceScatterAdd(
            resource=_handle(variable), indices=indices, updates=-values * lr)

    def get_config(self):
        config = self._base_config()
        config.update(use_locking=self.use_locking, name=self.name)
        return config


@_register
class Momentum(_KernelOptimizer):
    """TF1's ``MomentumOptimizer``, arguments in TF1's order.

    ``accum = momentum * accum + grad; var -= learning_rate * accum`` (Nesterov:
    ``var -= learning_rate * (grad + momentum * accum)``), one ``"momentum"``
    slot per variable.

    >>> import tensorflow as tf
    >>> var = tf.Variable([1.0])
    >>> opt = Momentum(learning_rate=0.5, momentum=0.9)
    >>> for _ in range(2):
    ...     _ = opt.apply_gradients([(tf.constant([1.0]), var)])
    >>> round(float(opt.get_slot(var, "momentum")[0]), 6)  # 1, then 0.9 * 1 + 1
    1.9
    >>> round(float(var[0]), 6)                            # 1 - 0.5 - 0.95
    -0.45
    """

    _SLOT_NAMES = ("momentum",)

    def __init__(self, learning_rate, momentum, use_locking=False,
                 name="Momentum", use_nesterov=False):
        super().__init__(learning_rate, use_locking, name)
        self.momentum = argument(type(self).__name__, "momentum", momentum)
        self.use_nesterov = argument(type(self).__name__, "use_nesterov",
                                      use_nesterov)

    def _apply_dense(self, grad, var, slots, lr):
        return tf.raw_ops.ResourceApplyMomentum(
            var=var, accum=slots[0], lr=lr, grad=grad,
            momentum=_cast(self.momentum, grad.dtype),
            use_locking=self.use_locking, use_nesterov=self.use_nesterov)

    def _apply_sparse(self, values, indices, variable, slots, lr):
        return tf.raw_ops.ResourceSparseApplyMomentum(
            var=_handle(variable), accum=slots[0], lr=lr, grad=values,
            indices=indices, momentum=_cast(self.momentum, values.dtype),
            use_locking=self.use_locking, use_nesterov=self.use_nesterov)

    def get_config(self):
        config = self._base_config()
        config.update(momentum=self.momentum, use_locking=self.use_locking,
                      name=self.name, use_nesterov=self.use_nesterov)
        return config


@_register
class Adam(_KernelOptimizer):
    """TF1's ``AdamOptimizer``: TF1's defaults (``epsilon=1e-08``) and arithmetic.

    Slots ``"m"`` and ``"v"`` per variable; ``beta1_power`` and ``beta2_power``
    are float32 optimizer variables (so checkpoints keep them) that start at
    ``beta1``/``beta2`` and are multiplied by them after every step, as TF1's
    were. One step moves each weight by about ``learning_rate``:

    >>> import tensorflow as tf
    >>> var = tf.Variable([1.0, 2.0])
    >>> opt = Adam(learning_rate=0.1)
    >>> _ = opt.apply_gradients([(tf.constant([0.5, -3.0]), var)])
    >>> [round(float(x), 5) for x in var.numpy()]
    [0.9, 2.1]
    >>> round(float(opt.beta1_power.numpy()), 6), round(float(opt.beta2_power.numpy()), 6)
    (0.81, 0.998001)
    """

    _SLOT_NAMES = ("m", "v")

    def __init__(self, learning_rate=0.001, beta1=_ADAM_DEFAULTS["beta1"],
                 beta2=_ADAM_DEFAULTS["beta2"], epsilon=_ADAM_DEFAULTS["epsilon"],
                 use_locking=False, name="Adam"):
        super().__init__(learning_rate, use_locking, name)
        owner = type(self).__name__
        self.beta1 = argument(owner, "beta1", beta1)
        self.beta2 = argument(owner, "beta2", beta2)
        self.epsilon = argument(owner, "epsilon", epsilon)

    def _build_non_slots(self, var_list):
        constant = _compat.keras.initializers.Constant
        # TF1: non-slot variables from Python floats, hence float32.
        self._beta1_power = self.add_variable(
            shape=(), dtype="float32", initializer=constant(self.beta1),
            name="beta1_power")
        self._beta2_power = self.add_variable(
            shape=(), dtype="float32", initializer=constant(self.beta2),
            name="beta2_power")

    @property
    def beta1_power(self):
        """TF1's ``beta1_power`` accumulator, ``beta1 ** (steps + 1)``: what
        ``ResourceApplyAdam`` takes for its bias correction."""
        return self._beta1_power

    @property
    def beta2_power(self):
        """TF1's ``beta2_power`` accumulator, ``beta2 ** (steps + 1)``."""
        return self._beta2_power

    def _hyper(self, dtype):
        return (_cast(self._beta1_power, dtype), _cast(self._beta2_power, dtype),
                _cast(self.beta1, dtype), _cast(self.beta2, dtype),
                _cast(self.epsilon, dtype))

    def _apply_dense(self, grad, var, slots, lr):
        beta1_power, beta2_power, beta1, beta2, epsilon = self._hyper(grad.dtype)
        return tf.raw_ops.ResourceApplyAdam(
            var=var, m=slots[0], v=slots[1], beta1_power=beta1_power,
            beta2_power=beta2_power, lr=lr, beta1=beta1, beta2=beta2,
            epsilon=epsilon, grad=grad, use_locking=self.use_locking,
            use_nesterov=False)

    def _apply_sparse(self, values, indices, variable, slots, lr):
        # TF1's AdamOptimizer._apply_sparse_shared, op for op.
        dtype = values.dtype
        beta1_power, beta2_power, beta1, beta2, epsilon = self._hyper(dtype)
        lr = lr * tf.sqrt(1 - beta2_power) / (1 - beta1_power)
        m, v = slots
        read = tf.raw_ops.ReadVariableOp
        tf.raw_ops.AssignVariableOp(
            resource=m, value=read(resource=m, dtype=dtype) * beta1)
        tf.raw_ops.ResourceScatterAdd(
            resource=m, indices=indices, updates=values * (1 - beta1))
        m_t = read(resource=m, dtype=dtype)
        tf.raw_ops.AssignVariableOp(
            resource=v, value=read(resource=v, dtype=dtype) * beta2)
        tf.raw_ops.ResourceScatterAdd(
            resource=v, indices=indices, updates=(values * values) * (1 - beta2))
        v_t = read(resource=v, dtype=dtype)
        return tf.raw_ops.AssignSubVariableOp(
            resource=_handle(variable), value=lr * m_t / (tf.sqrt(v_t) + epsilon))

    def _finish(self):
        for power, beta in ((self._beta1_power, self.beta1),
                            (self._beta2_power, self.beta2)):
            var = _tf_variable(power)
            var.assign(var * _cast(beta, var.dtype))

    def get_config(self):
        config = self._base_config()
        config.update(beta1=self.beta1, beta2=self.beta2, epsilon=self.epsilon,
                      use_locking=self.use_locking, name=self.name)
        return config

