"""TF1's ``tf.train`` optimizers as Keras optimizers that learn the same weights.

Native Keras optimizers are not TF1's: Keras ``Adam`` defaults to
``epsilon=1e-7`` (TF1: ``1e-8``) and computes its bias correction from
``iterations`` with different float arithmetic, so a migrated model drifts by
about 1e-2 over a few hundred steps; Keras ``SGD(momentum=...)`` folds the
learning rate into its accumulator. The classes here keep TF1's argument names
and defaults and update the Keras variables with TF's own training kernels on
their resource handles, exactly as ``tf.compat.v1.train`` does:

==========================  ============================================
``GradientDescent``         ``tf.raw_ops.ResourceApplyGradientDescent``
``Momentum``                ``tf.raw_ops.ResourceApplyMomentum``
``Adam``                    ``tf.raw_ops.ResourceApplyAdam``, with TF1's
                            accumulated ``beta1_power``/``beta2_power``
``AdamW`` (spec ``adamw``)  contrib's ``AdamWOptimizer``: ``var -= weight_decay
                            * var`` (``AssignSubVariableOp``), then
                            ``ResourceApplyAdam`` as ``Adam``
``MomentumW``               contrib's ``MomentumWOptimizer``: the decay, then
(spec ``momentumw``)        ``ResourceApplyMomentum``
``TF1Schedule``             a Keras schedule that is TF1's schedule function
                            (``tf.compat.v1.train.exponential_decay``, ...)
                            run as a graph
==========================  ============================================

Sparse gradients (``tf.IndexedSlices``, from ``tf.gather`` or an embedding)
follow TF1's sparse paths: a scatter-add for gradient descent,
``ResourceSparseApplyMomentum`` and Adam's scatter arithmetic, after summing
duplicate indices as TF1 did; contrib's decay then touches only those rows.

They subclass the Optimizer of whichever Keras ``tf.keras`` is (Keras 3, or
tf_keras / Keras 2.11-2.15), so they work with ``model.compile(optimizer=...)``
and ``model.fit``, and with ``optimizer.apply_gradients(zip(grads, vars))`` in
a custom ``tf.function`` loop. Where Keras has no such optimizer API (TF 1.15,
and TF 2.0-2.10, whose Keras optimizer is the legacy ``OptimizerV2``:
``_compat.KERAS_OPTIMIZER_API``) the three names *are* ``tf.compat.v1.train``'s
classes, TF1's updates by definition, and ``AdamW``/``MomentumW`` are
``AdamWOptimizer``/``MomentumWOptimizer``, compat_reg's port of contrib's
extension onto them; ``get`` returns those. On TF 2.0-2.10 they work eagerly
and in a ``tf.function`` with ``apply_gradients``, and Keras'
``model.compile`` accepts them (it wraps them in its ``TFOptimizer``).

**Schedules.** A spec may carry ``"schedule"``: ``{"kind":
"exponential_decay", "decay_steps", "decay_rate", "staircase"}`` (from
``lr``), ``{"kind": "piecewise_constant", "boundaries", "values"}`` (``lr``
left out, or equal to ``values[0]``) or ``{"kind": "polynomial_decay",
"decay_steps", "end_learning_rate", "power", "cycle"}`` (from ``lr``);
omitted keys take TF1's defaults (``compat_reg.convention.SCHEDULE``, which
also names Keras' classes). TF1 evaluated the schedule on ``global_step``
before ``minimize`` incremented it, a Keras optimizer evaluates it on
``iterations`` before incrementing: the same step. At ``step == boundary``
``piecewise_constant`` and Keras' ``PiecewiseConstantDecay`` both still give
the earlier value (``step <= boundary``). Exact: ``get(spec)`` under each
schedule equals TF1's Session bit for bit (custom loop, eagerly, ``fit``).
Keras' own schedule classes equal TF1's in a ``tf.function`` but not
eagerly: grappler's constant folding rewrites ``step / decay_steps`` to
``step * (1 / decay_steps)`` in TF1's Session and in a ``tf.function`` only,
so eagerly exponential decay is up to 2 ulps off (1.3e-7 relative) and
polynomial decay up to 5 (5.3e-7); ``TF1Schedule`` runs TF1's function as a
graph, eagerly too. Not exact: ``keras_native(spec)`` for momentum under a
schedule (Keras folds the rate into its momentum, so a rate change rescales
what was accumulated): ``piecewise_constant([10], [0.1, 0.001])`` ends 20
steps 0.43 relative off on the loss, 0.65 on a variable's weights (constant
rate: 1.0e-7 / 1.8e-7).

**Decoupled weight decay** (``tf.contrib.opt``, ``adamw``/``momentumw``):
``weight_decay`` is contrib's absolute decay, ``var -= weight_decay * var``
each step before the update, with the gradient computed before it and no
learning rate in it (a schedule does not touch it). ``decay_biases=False``
(default True: contrib decayed every variable it updated) keeps variables
whose TF1 name contains ``"bias"`` out: contrib's ``decay_var_list`` of the
kernels. ``tf1(spec)`` is ``tf.contrib.opt``'s class on TF 1.x, the port
elsewhere (equal bit for bit on TF 1.15), with two changes to contrib:
``apply_gradients`` runs the decay after every gradient (contrib's depends
on nothing, so a Session may decay a variable before the forward pass reads
it: runs of one graph differed by 1.5e-3), and ``minimize`` keeps its
``decay_var_list`` (contrib's is dropped: TF1's ``minimize`` calls
``apply_gradients`` without it). Exact: ``get(spec)`` equals ``tf1(spec)``
in a Session bit for bit (custom loop, eagerly, ``fit``, sparse rows, under a
schedule). Bounded: ``keras_native(spec)``, Keras' ``AdamW`` / ``SGD`` with
``weight_decay = weight_decay / lr`` (Keras decays by ``weight_decay * lr``
a step) and ``exclude_from_weight_decay(var_names=["bias"])`` for
``decay_biases=False``: 1.6e-6 (AdamW) / 2.5e-7 (momentum) relative at a
constant rate; under a schedule Keras' decay follows the rate and contrib's
does not (0.12-0.14 off after 40 steps of ``exponential_decay(10, 0.5)``):
no bound worth having. Keras has no weight decay before 2.11
(``_compat.KERAS_WEIGHT_DECAY``): ``keras_native`` raises there.

**Wrong ports**, for the parity harness: ``keras_native(spec, wrong=name)``
with ``name`` in ``WRONG_PORTS``: ``"momentum-schedule"`` (native Keras
momentum under the spec's schedule), ``"wd-no-lr-mapping"`` (contrib's
``weight_decay`` passed to Keras as is: ``lr`` times too little decay, 0.22
relative off in tests/test_optimizer_weight_decay.py) and ``"wd-on-biases"``
(``decay_biases=False`` ignored: 0.088 / 0.16 off). Measured numbers and
their setups: tests/test_optimizer_schedules.py and
tests/test_optimizer_weight_decay.py.

>>> opt = get({"optimizer": "adam", "lr": 0.001})
>>> get({"optimizer": "rmsprop", "lr": 0.1})
Traceback (most recent call last):
...
ValueError: unknown optimizer 'rmsprop': expected one of 'adam', 'adamw', \
'momentum', 'momentumw', 'sgd'

Not supported: Keras' ``clipnorm``, EMA and gradient accumulation arguments,
and Keras' own ``weight_decay`` (TF1's optimizers had none of these;
``AdamW``/``MomentumW`` take contrib's). With ``jit_compile=True`` on a GPU,
Keras 3's ``fit`` XLA-compiles the kernels, whose arithmetic may differ in
the last bits; pass ``jit_compile=False`` to ``compile`` for bit-faithful TF1
updates there.
"""

from __future__ import absolute_import, division, print_function

import numbers

import tensorflow as tf

from compat_reg import _compat, convention

__all__ = ["Adam", "AdamW", "AdamWOptimizer", "DecoupledWeightDecayExtension",
           "GradientDescent", "Momentum", "MomentumW", "MomentumWOptimizer",
           "TF1Schedule", "WRONG_PORTS", "get", "keras_native", "tf1"]

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


def _is_tf_value(value):
    """A tensor, a variable or a callable (a schedule): what TF1's optimizers
    took as a hyper-parameter as it was."""
    return (callable(value) or _compat.is_tensor(value)
            or isinstance(value, tf.Variable) or _compat.is_keras3_variable(value))


def _argument(owner, key, value):
    """A constructor's (or a config's) ``key``, parsed as a spec's is
    (``convention.spec_value``: ``use_nesterov="false"`` is an error, not
    True), unless ``_is_tf_value``."""
    if _is_tf_value(value):
        return value
    return convention.spec_value(key, value, "%s: %s" % (owner, key))


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
        super().__init__(_argument(owner, "learning_rate", learning_rate), name)
        self.use_locking = _argument(owner, "use_locking", use_locking)

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
        self.momentum = _argument(type(self).__name__, "momentum", momentum)
        self.use_nesterov = _argument(type(self).__name__, "use_nesterov",
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
        self.beta1 = _argument(owner, "beta1", beta1)
        self.beta2 = _argument(owner, "beta2", beta2)
        self.epsilon = _argument(owner, "epsilon", epsilon)

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
        """TF1's ``beta1_power`` accumulator (``beta1 ** (steps + 1)``)."""
        return self._beta1_power

    @property
    def beta2_power(self):
        """TF1's ``beta2_power`` accumulator (``beta2 ** (steps + 1)``)."""
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


# ---------------------------------------------------------------------------
# Learning-rate schedules: TF1's functions, evaluated as TF1 evaluated them.
# ---------------------------------------------------------------------------

def _tf1_schedule(kind, arguments, step):
    """TF1's schedule function ``kind`` on ``step``, as it returns it: a
    tensor while building a graph, a callable eagerly (TF 2.x)."""
    entry = convention.SCHEDULE[kind]
    kwargs = dict(arguments)
    kwargs[entry.step_arg] = step
    return getattr(_compat.v1.train, entry.tf1_function)(**kwargs)


def _step_tensor(step):
    step = _tf_variable(step)
    return step if _compat.is_tensor(step) else tf.convert_to_tensor(step)


class _GraphSchedule(object):
    """TF1's schedule ``kind`` as a function of the step, always run as a
    graph: eagerly through a ``tf.function``, so that grappler's constant
    folding rewrites ``step / decay_steps`` to ``step * (1 / decay_steps)``
    exactly as it did in TF1's Session (run eagerly, exponential and
    polynomial decay differ from the Session by up to 2 and 5 float32 ulps
    at some steps; measured in tests/test_optimizer_schedules.py)."""

    def __init__(self, kind, arguments):
        self.kind = kind
        self.arguments = dict(arguments)
        self._function = None

    def _graph(self, step):
        value = _tf1_schedule(self.kind, self.arguments, step)
        return value() if callable(value) else value

    def __call__(self, step):
        if not _compat.executing_eagerly():
            return self._graph(_step_tensor(step))
        if self._function is None:
            self._function = tf.function(self._graph)
        return self._function(_step_tensor(step))


def _schedule_record(kind, arguments):
    """``{"kind", TF1 keyword: value}`` of a schedule (its rate left out)."""
    record = dict((k, v) for k, v in arguments.items() if k != "learning_rate")
    record["kind"] = kind
    return record


# Keras' schedule class where this Keras has one (TF >= 1.14; _compat).
@_compat.register_keras_class
class TF1Schedule(_compat.LearningRateSchedule):
    """TF1's ``tf.compat.v1.train`` schedule as a Keras schedule.

    ``kind`` is ``"exponential_decay"``, ``"piecewise_constant"`` or
    ``"polynomial_decay"``; the other arguments are that function's, by
    TF1's names, without its step (a Keras optimizer passes
    ``iterations``, the count of steps already applied: what TF1's
    ``global_step`` was when ``minimize(global_step=...)`` read it).
    The value is TF1's function's, computed as a graph (eagerly too),
    so it is the rate TF1's Session used, bit for bit.

    >>> schedule = TF1Schedule("piecewise_constant", boundaries=[10],
    ...                        values=[0.1, 0.01])
    >>> [round(float(schedule(step)), 6) for step in (0, 10, 11)]
    [0.1, 0.1, 0.01]
    >>> TF1Schedule("exponential_decay", learning_rate=0.1, decay_steps=0,
    ...             decay_rate=0.5)
    Traceback (most recent call last):
    ...
    ValueError: schedule 'exponential_decay': 'decay_steps' must be a positive integer, got 0
    """

    def __init__(self, kind, **arguments):
        spec = {"lr": arguments.pop("learning_rate", None),
                "schedule": dict(arguments, kind=kind)}
        _, checked = convention.schedule_arguments(spec)
        super(TF1Schedule, self).__init__()
        self.kind = kind
        self.arguments = checked
        self._schedule = _GraphSchedule(kind, checked)

    def __call__(self, step):
        return self._schedule(step)

    def get_config(self):
        config = dict(self.arguments)
        config["kind"] = self.kind
        return config


# ---------------------------------------------------------------------------
# contrib.opt's decoupled weight decay, TF1 side (graph mode; eager works).
# ---------------------------------------------------------------------------

def _is_bias(variable):
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
        self._decay_biases = _argument(owner, "decay_biases", kwargs.pop(
            "decay_biases", convention.DECAY_BIASES_DEFAULT))
        super(_OrderedDecay, self).__init__(
            _argument(owner, "weight_decay", weight_decay), *args, **kwargs)

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
                              if g is not None and not _is_bias(v)]
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
    with ``decay_biases`` and the decay after the gradients (see
    ``compat_reg.optimizers``' docstring). A TF1 optimizer: graph mode, or
    eagerly with ``apply_gradients``.

    >>> import tensorflow as tf
    >>> var = tf.Variable([1.0, -2.0])
    >>> opt = AdamWOptimizer(weight_decay=0.5, learning_rate=0.1)
    >>> _ = opt.apply_gradients([(tf.constant([0.0, 0.0]), var)])
    >>> var.numpy().tolist()   # halved by the decay; a zero gradient moves none
    [0.5, -1.0]
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


def _contrib_class(kind):
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


# ---------------------------------------------------------------------------
# A TF1 optimizer whose learning rate follows TF1's schedule on its step
# (what ``get`` returns under a schedule without the Keras optimizer API).
# ---------------------------------------------------------------------------

class _StepScheduled(object):
    """The learning rate is TF1's schedule on the step being applied: the
    ``global_step`` passed to ``apply_gradients`` (Keras' ``TFOptimizer``
    passes its ``iterations``), else a ``"schedule_step"`` counter of the
    optimizer's own that ``apply_gradients`` increments after the update,
    as TF1's ``minimize(global_step=...)`` did."""

    def __init__(self, *args, **kwargs):
        kind, arguments = kwargs.pop("schedule")
        if not _compat.OPTIMIZER_CALLABLE_RATE:
            raise NotImplementedError(
                "TF %s's optimizers take no learning rate that follows the step "
                "(callable rates came in TF 1.10): use compat_reg.optimizers."
                "tf1(spec, global_step), TF1's schedule tensor on global_step"
                % tf.__version__)
        self.compat_reg_schedule = _schedule_record(kind, arguments)
        self.compat_reg_schedule_lr = arguments.get("learning_rate")
        self._schedule = _GraphSchedule(kind, arguments)
        self._schedule_step = None
        kwargs["learning_rate"] = self._scheduled_rate
        super(_StepScheduled, self).__init__(*args, **kwargs)

    def _scheduled_rate(self):
        return self._schedule(self._schedule_step)

    def _own_step(self, grads_and_vars):
        first = [v for g, v in grads_and_vars if g is not None][:1]
        if not first:
            return None  # TF1's apply_gradients raises its own error
        with _compat.init_scope():
            return self._create_non_slot_variable(
                initial_value=tf.zeros([], tf.int64), name="schedule_step",
                colocate_with=first[0])

    def apply_gradients(self, grads_and_vars, global_step=None, name=None,
                        **kwargs):
        grads_and_vars = tuple(grads_and_vars)
        if global_step is None:
            global_step = self._own_step(grads_and_vars)
        self._schedule_step = global_step
        return super(_StepScheduled, self).apply_gradients(
            grads_and_vars, global_step=global_step, name=name, **kwargs)


_SCHEDULED = {}


def _step_scheduled(cls):
    if cls not in _SCHEDULED:
        _SCHEDULED[cls] = type(cls.__name__, (_StepScheduled, cls), {
            "__module__": __name__, "__doc__": cls.__doc__})
    return _SCHEDULED[cls]


# ---------------------------------------------------------------------------
# contrib.opt's decoupled weight decay, Keras side.
# ---------------------------------------------------------------------------

def _decay_factor(weight_decay, dtype):
    """contrib's ``weight_decay * var``: a Python float is converted to the
    variable's dtype directly (no float32 step, unlike the kernels' rates)."""
    if isinstance(weight_decay, numbers.Real):
        return tf.convert_to_tensor(weight_decay, dtype=dtype)
    return _cast(weight_decay, dtype)


class _KerasDecoupledDecay(object):
    """contrib's decay before the kernel, in ``update_step``. Keras' own
    ``weight_decay`` (scaled by the learning rate, in ``_apply_weight_decay``)
    is turned off: ``weight_decay`` here is contrib's absolute decay."""

    def _init_decay(self, weight_decay, decay_biases):
        owner = type(self).__name__
        self.weight_decay = _argument(owner, "weight_decay", weight_decay)
        self.decay_biases = _argument(owner, "decay_biases", decay_biases)

    def _apply_weight_decay(self, variables):
        del variables  # not Keras' decay: contrib's, in update_step

    def decays(self, variable):
        """Whether ``variable`` is decayed (``decay_biases``)."""
        return self.decay_biases or not _is_bias(variable)

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

    def _decay_config(self, config):
        config.update(weight_decay=self.weight_decay,
                      decay_biases=self.decay_biases)
        return config


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


if not _compat.KERAS_OPTIMIZER_API:
    # TF 1.15, TF 2.0-2.10: the real thing, same names, same arguments; the
    # decoupled weight decay is contrib's, ported (tf1() uses contrib itself
    # where it exists).
    GradientDescent = _compat.v1.train.GradientDescentOptimizer
    Momentum = _compat.v1.train.MomentumOptimizer
    Adam = _compat.v1.train.AdamOptimizer
    AdamW = AdamWOptimizer
    MomentumW = MomentumWOptimizer


# The TF1-exact class of each spec name (on TF 1.15: tf.compat.v1.train's).
_EXACT = {"sgd": GradientDescent, "momentum": Momentum, "adam": Adam,
          "adamw": AdamW, "momentumw": MomentumW}


def _exact_arguments(parsed):
    args = dict(parsed.args)
    if parsed.decay_biases is not None:
        args["decay_biases"] = parsed.decay_biases
    return args


def get(spec):
    """The TF1-exact optimizer for a golden config's spec.

    ``spec`` is a dict with ``"optimizer"`` (``"sgd"``, ``"momentum"``,
    ``"adam"``, ``"adamw"``, ``"momentumw"``) and ``"lr"``; ``"momentum"``
    and ``"momentumw"`` need ``"momentum"`` (and may set ``"use_nesterov"``);
    ``"adam"`` and ``"adamw"`` may set ``"epsilon"`` (TF1's default 1e-08),
    ``"beta1"`` and ``"beta2"``; ``"adamw"`` and ``"momentumw"`` need
    ``"weight_decay"`` (contrib's, absolute) and may set ``"decay_biases"``.
    Any may set ``"schedule"`` (``compat_reg.convention.SCHEDULE``). Other
    keys are ignored, so a whole golden ``config`` can be passed. Keys and
    defaults are ``compat_reg.convention``'s. Without the Keras optimizer API
    (TF 1.15, TF 2.0-2.10) the result is ``tf.compat.v1.train``'s optimizer
    (the port of contrib's for weight decay); under a schedule it counts its
    own steps unless ``apply_gradients`` is given a ``global_step``.

    >>> get({"optimizer": "momentum", "lr": 0.1})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: optimizer spec {...} for 'momentum' is missing 'momentum'
    """
    parsed = convention.parse_optimizer(spec, _is_tf_value)
    cls = _EXACT[parsed.entry.spec]
    args = _exact_arguments(parsed)
    if parsed.schedule is None:
        return cls(**args)
    if _compat.KERAS_OPTIMIZER_API:
        args["learning_rate"] = TF1Schedule(parsed.schedule.kind,
                                            **parsed.schedule_args)
        return cls(**args)
    return _step_scheduled(cls)(
        schedule=(parsed.schedule.kind, parsed.schedule_args), **args)


def tf1(spec, global_step=None):
    """TF1's own optimizer for ``spec``: ``tf.compat.v1.train``'s (graph mode).

    ``"adamw"``/``"momentumw"``: ``tf.contrib.opt``'s class where contrib
    exists (TF 1.x), else compat_reg's port of it (``AdamWOptimizer``,
    ``MomentumWOptimizer``), both with ``decay_biases`` applied by
    ``apply_gradients`` and the decay waiting on the gradients. Under a
    ``"schedule"`` the learning rate is TF1's schedule tensor on
    ``global_step`` (default ``tf.compat.v1.train.get_or_create_global_step()``
    of the default graph): pass the same ``global_step`` to ``minimize`` or
    ``apply_gradients``, as TF1 code did, or the rate never moves.

    >>> type(tf1({"optimizer": "sgd", "lr": 0.5})).__name__
    'GradientDescentOptimizer'
    """
    parsed = convention.parse_optimizer(spec, _is_tf_value)
    entry, args = parsed.entry, dict(parsed.args)
    if parsed.schedule is not None:
        if global_step is None:
            global_step = _compat.v1.train.get_or_create_global_step()
        args["learning_rate"] = _tf1_schedule(
            parsed.schedule.kind, parsed.schedule_args, global_step)
    if entry.spec in convention.WEIGHT_DECAY:
        cls = (_contrib_class(entry.spec) or
               {"adamw": AdamWOptimizer,
                "momentumw": MomentumWOptimizer}[entry.spec])
        optimizer = cls(decay_biases=parsed.decay_biases, **args)
    else:
        optimizer = getattr(_compat.v1.train, entry.tf1_class)(**args)
    if parsed.schedule is not None:
        optimizer.compat_reg_schedule = _schedule_record(
            parsed.schedule.kind, parsed.schedule_args)
        optimizer.compat_reg_schedule_lr = parsed.args["learning_rate"]
    return optimizer


# The known wrong ports of TF1 optimizer code to native Keras (module
# docstring), by the name ``keras_native(spec, wrong=...)`` takes.
WRONG_PORTS = ("momentum-schedule", "wd-no-lr-mapping", "wd-on-biases")


def _check_wrong(parsed, wrong):
    kind = parsed.entry.spec
    if wrong not in WRONG_PORTS:
        raise ValueError("unknown wrong port %r: expected one of %s" % (
            wrong, ", ".join(repr(w) for w in WRONG_PORTS)))
    if wrong == "momentum-schedule" and (
            kind not in ("momentum", "momentumw") or parsed.schedule is None):
        raise ValueError("wrong port 'momentum-schedule' needs a 'momentum' or"
                         " 'momentumw' spec with a 'schedule'")
    if wrong in ("wd-no-lr-mapping", "wd-on-biases") and (
            kind not in convention.WEIGHT_DECAY):
        raise ValueError("wrong port %r needs an 'adamw' or 'momentumw' spec"
                         % wrong)
    if wrong == "wd-on-biases" and parsed.decay_biases:
        raise ValueError("wrong port 'wd-on-biases' needs decay_biases=False "
                         "in the spec (with True the biases are decayed "
                         "rightly)")


def _keras_schedule(parsed):
    """Keras' own schedule class for the spec's schedule, or None."""
    if parsed.schedule is None:
        return None
    entry = parsed.schedule
    cls = getattr(_compat.keras.optimizers.schedules, entry.keras_class)
    return cls(**dict((entry.keras_args[key], value) for key, value in
                      parsed.schedule_args.items()))


def keras_native(spec, wrong=None):
    """The closest native Keras optimizer to ``spec`` (for comparisons).

    ``SGD``, ``SGD(momentum=...)``, ``Adam(epsilon=...)``, ``AdamW`` or
    ``SGD(momentum=..., weight_decay=...)``, with Adam's epsilon taken from
    the spec or TF1's 1e-08 (not Keras' 1e-07), a schedule as Keras' own
    schedule class, and contrib's absolute ``weight_decay`` mapped to Keras'
    (``weight_decay / lr``, ``lr`` the initial rate) with
    ``exclude_from_weight_decay(var_names=["bias"])`` for
    ``decay_biases=False``. These follow Keras' arithmetic, not TF1's: see
    the module docstring for the measured gaps. ``wrong`` builds one of the
    ``WRONG_PORTS`` instead:

    * ``"momentum-schedule"``: the straight port itself, for a momentum spec
      with a schedule (Keras' momentum accumulates ``lr * grad``, so a rate
      change rescales the momentum TF1 had accumulated unscaled);
    * ``"wd-no-lr-mapping"``: contrib's ``weight_decay`` given to Keras as
      it is (Keras then decays by ``weight_decay * lr`` a step);
    * ``"wd-on-biases"``: ``decay_biases=False`` ignored (biases decayed).

    Raises NotImplementedError for weight decay where this Keras has none
    (TF 1.15 and Keras 2.0-2.10: ``_compat.KERAS_WEIGHT_DECAY``), and for
    every spec where tf.keras predates TF2's optimizers (TF 1.4 - 1.13:
    ``_compat.KERAS_TF2_API``).
    """
    parsed = convention.parse_optimizer(spec, _is_tf_value)
    if wrong is not None:
        _check_wrong(parsed, wrong)
    entry, args = parsed.entry, dict(parsed.args)
    if not _compat.KERAS_TF2_API and (entry.spec not in convention.WEIGHT_DECAY
                                      or parsed.schedule is not None):
        raise NotImplementedError(
            "%s %s has the optimizers of Keras <= 2.2 (lr=, decay=) and no "
            "schedules, not the ones a TF2 port uses (they came with the "
            "tf.keras of TF 1.14): use compat_reg.optimizers.get(spec)" % (
                _compat.KERAS_FLAVOUR, _compat.KERAS_VERSION))
    initial_lr = args["learning_rate"]
    schedule = _keras_schedule(parsed)
    if schedule is not None:
        args["learning_rate"] = schedule
    weight_decay = args.pop("weight_decay", None)
    kwargs = dict((entry.keras_args[key], value) for key, value in args.items())
    if entry.spec not in convention.WEIGHT_DECAY:
        return getattr(_compat.keras.optimizers, entry.keras_class)(**kwargs)
    cls = (_compat.keras_adamw() if entry.spec == "adamw"
           else _compat.keras.optimizers.SGD)
    if cls is None or not _compat.KERAS_WEIGHT_DECAY:
        raise NotImplementedError(
            "%s %s has no decoupled weight decay of its own (Keras' "
            "weight_decay= and AdamW came with the optimizer API of Keras "
            "2.11): use compat_reg.optimizers.get(spec)" % (
                _compat.KERAS_FLAVOUR, _compat.KERAS_VERSION))
    kwargs["weight_decay"] = (weight_decay if wrong == "wd-no-lr-mapping"
                              else weight_decay / initial_lr)
    optimizer = cls(**kwargs)
    if not parsed.decay_biases and wrong != "wd-on-biases":
        optimizer.exclude_from_weight_decay(var_names=[convention.BIAS_NAME])
    return optimizer
