"""TF1's learning-rate schedules, evaluated as TF1 evaluated them.

A spec's ``"schedule"`` (``compat_reg.convention.SCHEDULE``: exponential,
piecewise constant, polynomial decay) is TF1's ``tf.compat.v1.train``
function run as a graph, eagerly too (through a ``tf.function``), so that
grappler rewrites its arithmetic as TF1's Session did and the rate is TF1's
bit for bit: ``TF1Schedule`` as a Keras schedule (a Keras optimizer passes
``iterations``, what TF1's ``global_step`` was when ``minimize`` read it),
and ``step_scheduled(cls)`` for a ``tf.compat.v1.train`` optimizer whose
rate follows its step where Keras has no optimizer API.
"""

from __future__ import absolute_import, division, print_function

import tensorflow as tf

from compat_reg import _compat, convention

__all__ = ["TF1Schedule", "schedule_record", "step_scheduled", "tf1_schedule"]

_tf_variable = _compat.tf_variable


def tf1_schedule(kind, arguments, step):
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
        value = tf1_schedule(self.kind, self.arguments, step)
        return value() if callable(value) else value

    def __call__(self, step):
        if not _compat.executing_eagerly():
            return self._graph(_step_tensor(step))
        if self._function is None:
            self._function = tf.function(self._graph)
        return self._function(_step_tensor(step))


def schedule_record(kind, arguments):
    """``{"kind", TF1 keyword: value}`` of a schedule (its rate left out)."""
    record = dict((k, v) for k, v in arguments.items() if k != "learning_rate")
    record["kind"] = kind
    return record


class ScheduleArguments(_compat.LearningRateSchedule):
    """A TF1 schedule's ``kind`` and its arguments (TF1's names, checked by
    ``convention``), and the config they make: what ``TF1Schedule`` and the
    ``keras.ops`` schedule of ``optimizers.portable`` share. ``parsed``
    makes one of a parsed spec's schedule without checking it again."""

    def __init__(self, kind, **arguments):
        spec = {"lr": arguments.pop("learning_rate", None),
                "schedule": dict(arguments, kind=kind)}
        _, checked = convention.schedule_arguments(spec)
        self._setup(kind, checked)

    @classmethod
    def parsed(cls, spec):
        """The schedule of ``spec``, a ``convention.OptimizerSpec`` with one:
        its arguments as the spec's parser checked them."""
        schedule = cls.__new__(cls)
        schedule._setup(spec.schedule.kind, spec.schedule_args)
        return schedule

    def _setup(self, kind, arguments):
        super(ScheduleArguments, self).__init__()
        self.kind = kind
        self.arguments = dict(arguments)

    def get_config(self):
        config = dict(self.arguments)
        config["kind"] = self.kind
        return config


# Keras' schedule class where this Keras has one (TF >= 1.14; _compat).
@_compat.register_keras_class
class TF1Schedule(ScheduleArguments):
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

    def _setup(self, kind, arguments):
        super(TF1Schedule, self)._setup(kind, arguments)
        self._schedule = _GraphSchedule(kind, self.arguments)

    def __call__(self, step):
        return self._schedule(step)



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
        self.compat_reg_schedule = schedule_record(kind, arguments)
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


def step_scheduled(cls):
    if cls not in _SCHEDULED:
        _SCHEDULED[cls] = type(cls.__name__, (_StepScheduled, cls), {
            "__module__": __name__, "__doc__": cls.__doc__})
    return _SCHEDULED[cls]

