"""TF1's optimizers and schedules in ``keras.ops``, for Keras 3's JAX and PyTorch.

``compat_reg.optimizers.get(spec)`` returns these where Keras does not run
on TensorFlow (``_compat.TF_BACKEND``); on TensorFlow it returns the classes
that run TF's own training kernels. Each computes TF1's CPU kernel formula
in the variable's dtype, every constant a float32 first (``1 - beta`` too,
as ``T(1) - beta1()``), as TF1 converted Python floats:

* ``GradientDescent``: ``var -= grad * lr``;
* ``Momentum``: ``accum = accum * momentum + grad``, ``var -= accum * lr``
  (Nesterov: ``var -= grad * lr + accum * momentum * lr``);
* ``Adam``: ``alpha = lr * sqrt(1 - beta2_power) / (1 - beta1_power)``,
  ``m += (grad - m) * (1 - beta1)``, ``v += (grad ** 2 - v) * (1 - beta2)``,
  ``var -= m * alpha / (sqrt(v) + epsilon)``, the beta powers float32
  variables multiplied by the betas after each step (a running product, not
  ``beta ** t``);
* ``AdamW``/``MomentumW``: contrib.opt's ``var -= weight_decay * var`` first
  (the decay in the variable's dtype, no learning rate in it), with the
  gradient computed before it; ``decay_biases=False`` leaves variables whose
  name contains ``"bias"`` alone.

On the TF backend the same classes equal the kernels bit for bit; on JAX and
PyTorch they differ from them by the backends' float rounding only
(tests/test_backends.py). Dense gradients only (JAX and torch have no
``IndexedSlices``).

Keras 3 serializes them (``get_config``/``from_config``, ``.keras`` files)
as ``compat_reg.portable>Name``, and off TensorFlow as the kernel classes'
``compat_reg>Name`` (the same config), so a file saved with ``get``'s
optimizer loads with ``get``'s class on the backend that loads it.

``TF1Schedule`` is TF1's schedule functions in ``keras.ops``, float32, with
a division by a constant as TF1's Session ran it (grappler's constant
folding: ``step * (1 / decay_steps)``).
"""

from __future__ import absolute_import, division, print_function

from compat_reg import _compat, convention
from compat_reg.optimizers.schedules import ScheduleArguments
from compat_reg.optimizers.spec import argument as _argument
from compat_reg.optimizers.weight_decay_keras import ContribDecayOptions

__all__ = ["Adam", "AdamW", "GradientDescent", "Momentum", "MomentumW", "EXACT",
           "TF1Schedule"]

_ADAM_DEFAULTS = convention.OPTIMIZER["adam"].defaults
_Optimizer = _compat.keras.optimizers.Optimizer if _compat.KERAS3 else object


def _register(cls):
    """Register a class with Keras 3's serialization (elsewhere these are
    plain objects): as ``compat_reg.portable>Name`` on every backend, and off
    TensorFlow, where they are what ``get`` returns, under the kernel
    classes' names ``compat_reg>Name`` (the same config keys): a ``.keras``
    file saved with ``get``'s optimizer on one backend loads with ``get``'s
    class of the backend that loads it. Keras serializes a class by the name
    registered last."""
    if not _compat.KERAS3:
        return cls
    register = _compat.moves.register_serializable
    cls = register(package="compat_reg.portable")(cls)
    if not _compat.TF_BACKEND:
        cls = register(package="compat_reg")(cls)
    return cls


def _ops():
    return _compat.keras.ops


def _float32(value, dtype):
    """``value`` as TF1 took it: a float32 tensor first, then ``dtype``."""
    ops = _ops()
    return ops.cast(ops.cast(value, "float32"), dtype)


class _Portable(_Optimizer):
    """Slots per variable, TF1's update per variable (``_apply``), then
    ``_finish`` once per step."""

    _SLOT_NAMES = ()

    def __init__(self, learning_rate, use_locking, name):
        owner = type(self).__name__
        super(_Portable, self).__init__(
            learning_rate=_argument(owner, "learning_rate", learning_rate),
            name=name)
        self.use_locking = _argument(owner, "use_locking", use_locking)

    def build(self, var_list):
        if self.built:
            return
        super(_Portable, self).build(var_list)
        self._slot_lists = [[self.add_variable_from_reference(v, slot_name)
                             for v in var_list]
                            for slot_name in self._SLOT_NAMES]
        self._build_non_slots()

    def _build_non_slots(self):
        pass

    def get_slot(self, variable, slot_name):
        """The slot ``slot_name`` of ``variable``, as TF1's ``get_slot``."""
        return self._slot_lists[self._SLOT_NAMES.index(slot_name)][
            self._get_variable_index(variable)]

    def update_step(self, gradient, variable, learning_rate):
        index = self._get_variable_index(variable)
        dtype = variable.dtype
        slots = [slots[index] for slots in self._slot_lists]
        self._apply(_ops().cast(gradient, dtype), variable, slots,
                    _float32(learning_rate, dtype))

    def _backend_update_step(self, grads, trainable_variables, learning_rate):
        super(_Portable, self)._backend_update_step(grads, trainable_variables,
                                                    learning_rate)
        self._finish()

    def _finish(self):
        pass

    def get_config(self):
        config = {"name": self.name, "use_locking": self.use_locking}
        rate = self._learning_rate
        config["learning_rate"] = (
            _compat.keras.optimizers.schedules.serialize(rate) if callable(rate)
            else float(_ops().convert_to_numpy(rate)))
        return config


@_register
class GradientDescent(_Portable):
    """TF1's ``GradientDescentOptimizer``: ``var -= grad * lr``."""

    def __init__(self, learning_rate, use_locking=False, name="GradientDescent"):
        super(GradientDescent, self).__init__(learning_rate, use_locking, name)

    def _apply(self, grad, var, slots, lr):
        self.assign_sub(var, _ops().multiply(grad, lr))


@_register
class Momentum(_Portable):
    """TF1's ``MomentumOptimizer`` (``ApplyMomentum``'s formula), one
    ``"momentum"`` slot per variable."""

    _SLOT_NAMES = ("momentum",)

    def __init__(self, learning_rate, momentum, use_locking=False,
                 name="Momentum", use_nesterov=False):
        super(Momentum, self).__init__(learning_rate, use_locking, name)
        owner = type(self).__name__
        self.momentum = _argument(owner, "momentum", momentum)
        self.use_nesterov = _argument(owner, "use_nesterov", use_nesterov)

    def _apply(self, grad, var, slots, lr):
        ops, accum = _ops(), slots[0]
        momentum = _float32(self.momentum, var.dtype)
        self.assign(accum, ops.add(ops.multiply(accum, momentum), grad))
        if self.use_nesterov:
            self.assign_sub(var, ops.add(
                ops.multiply(grad, lr),
                ops.multiply(ops.multiply(accum, momentum), lr)))
        else:
            self.assign_sub(var, ops.multiply(accum, lr))

    def get_config(self):
        config = super(Momentum, self).get_config()
        config.update(momentum=self.momentum, use_nesterov=self.use_nesterov)
        return config


@_register
class Adam(_Portable):
    """TF1's ``AdamOptimizer`` (``ApplyAdam``'s CPU formula, TF1's defaults:
    ``epsilon=1e-08``), slots ``"m"`` and ``"v"``, float32 ``beta1_power`` /
    ``beta2_power`` kept as running products."""

    _SLOT_NAMES = ("m", "v")

    def __init__(self, learning_rate=0.001, beta1=_ADAM_DEFAULTS["beta1"],
                 beta2=_ADAM_DEFAULTS["beta2"], epsilon=_ADAM_DEFAULTS["epsilon"],
                 use_locking=False, name="Adam"):
        super(Adam, self).__init__(learning_rate, use_locking, name)
        owner = type(self).__name__
        self.beta1 = _argument(owner, "beta1", beta1)
        self.beta2 = _argument(owner, "beta2", beta2)
        self.epsilon = _argument(owner, "epsilon", epsilon)

    def _build_non_slots(self):
        constant = _compat.keras.initializers.Constant
        self.beta1_power = self.add_variable(
            shape=(), dtype="float32", initializer=constant(self.beta1),
            name="beta1_power")
        self.beta2_power = self.add_variable(
            shape=(), dtype="float32", initializer=constant(self.beta2),
            name="beta2_power")

    def _apply(self, grad, var, slots, lr):
        ops, dtype, (m, v) = _ops(), var.dtype, slots
        one = ops.cast(1, dtype)
        beta1, beta2, epsilon = (_float32(x, dtype) for x in (
            self.beta1, self.beta2, self.epsilon))
        alpha = ops.divide(
            ops.multiply(lr, ops.sqrt(ops.subtract(
                one, ops.cast(self.beta2_power, dtype)))),
            ops.subtract(one, ops.cast(self.beta1_power, dtype)))
        self.assign_add(m, ops.multiply(ops.subtract(grad, m),
                                        ops.subtract(one, beta1)))
        self.assign_add(v, ops.multiply(ops.subtract(ops.square(grad), v),
                                        ops.subtract(one, beta2)))
        self.assign_sub(var, ops.divide(ops.multiply(m, alpha),
                                        ops.add(ops.sqrt(v), epsilon)))

    def _finish(self):
        for power, beta in ((self.beta1_power, self.beta1),
                            (self.beta2_power, self.beta2)):
            self.assign(power, _ops().multiply(power, _float32(beta, "float32")))

    def get_config(self):
        config = super(Adam, self).get_config()
        config.update(beta1=self.beta1, beta2=self.beta2, epsilon=self.epsilon)
        return config


class _DecoupledDecay(ContribDecayOptions):
    """contrib.opt's ``var -= weight_decay * var`` before the update; Keras'
    own ``weight_decay`` (which it scales by the rate) is turned off."""

    def _apply(self, grad, var, slots, lr):
        if self.decays(var):
            ops = _ops()
            self.assign_sub(var, ops.multiply(
                ops.cast(self.weight_decay, var.dtype), var))
        super(_DecoupledDecay, self)._apply(grad, var, slots, lr)

    def get_config(self):
        return self._decay_config(super(_DecoupledDecay, self).get_config())


@_register
class AdamW(_DecoupledDecay, Adam):
    """contrib's ``AdamWOptimizer``: the decay, then TF1's Adam."""

    def __init__(self, weight_decay, learning_rate=0.001,
                 beta1=_ADAM_DEFAULTS["beta1"], beta2=_ADAM_DEFAULTS["beta2"],
                 epsilon=_ADAM_DEFAULTS["epsilon"], use_locking=False,
                 name="AdamW", decay_biases=True):
        super(AdamW, self).__init__(learning_rate, beta1, beta2, epsilon,
                                    use_locking, name)
        self._init_decay(weight_decay, decay_biases)


@_register
class MomentumW(_DecoupledDecay, Momentum):
    """contrib's ``MomentumWOptimizer``: the decay, then TF1's momentum."""

    def __init__(self, weight_decay, learning_rate, momentum, use_locking=False,
                 name="MomentumW", use_nesterov=False, decay_biases=True):
        super(MomentumW, self).__init__(learning_rate, momentum, use_locking,
                                        name, use_nesterov)
        self._init_decay(weight_decay, decay_biases)


# by spec name, as compat_reg.optimizers' table of the kernel classes
EXACT = {"sgd": GradientDescent, "momentum": Momentum, "adam": Adam,
         "adamw": AdamW, "momentumw": MomentumW}


@_register
class TF1Schedule(ScheduleArguments):
    """TF1's ``exponential_decay``, ``piecewise_constant`` or
    ``polynomial_decay`` on Keras' ``iterations``, as a Keras schedule
    (arguments by TF1's names, as ``compat_reg.optimizers.TF1Schedule``)."""

    def __call__(self, step):
        ops, args = _ops(), self.arguments
        f32 = lambda value: ops.cast(value, "float32")  # noqa: E731
        if self.kind == "piecewise_constant":
            rate = f32(args["values"][-1])
            pairs = list(zip(args["boundaries"], args["values"]))
            for boundary, value in reversed(pairs):
                rate = ops.where(ops.less_equal(step, boundary), f32(value), rate)
            return rate
        lr, step = f32(args["learning_rate"]), f32(step)
        steps = f32(args["decay_steps"])
        reciprocal = ops.divide(f32(1), steps)  # grappler's x / c -> x * (1 / c)
        if self.kind == "exponential_decay":
            p = ops.multiply(step, reciprocal)
            if args["staircase"]:
                p = ops.floor(p)
            return ops.multiply(lr, ops.power(f32(args["decay_rate"]), p))
        if args["cycle"]:
            steps = ops.multiply(steps, ops.where(
                ops.equal(step, 0), f32(1), ops.ceil(ops.multiply(step, reciprocal))))
            p = ops.divide(step, steps)
        else:
            p = ops.multiply(ops.minimum(step, steps), reciprocal)
        end = f32(args["end_learning_rate"])
        return ops.add(ops.multiply(ops.subtract(lr, end), ops.power(
            ops.subtract(f32(1), p), f32(args["power"]))), end)
