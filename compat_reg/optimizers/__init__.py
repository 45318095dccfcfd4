"""TF1's ``tf.train`` optimizers as Keras optimizers that learn the same weights.

Native Keras optimizers are not TF1's (Keras ``Adam``'s ``epsilon=1e-7`` and
float arithmetic, ``SGD(momentum=...)`` folding the rate into its
accumulator): a migrated model drifts. ``get(spec)`` is the TF1-exact
optimizer for a spec (``{"optimizer": "adam", "lr": 0.001, ...}``, with an
optional ``"schedule"``), ``tf1(spec)`` TF1's own (graph mode, contrib's
class where contrib exists), ``keras_native(spec)`` the closest native
Keras one and ``keras_native(spec, wrong=...)`` a known wrong port
(``WRONG_PORTS``), for the parity harness. A spec is parsed once
(``spec.parse``); each factory takes the dict or the parsed spec.

The package, by job:

* ``kernels``: ``GradientDescent``, ``Momentum``, ``Adam``, Keras optimizers
  that run TF's training kernels (``ResourceApplyAdam``, ...) as TF1 did;
* ``schedules``: ``TF1Schedule``, TF1's schedule functions run as a graph;
* ``weight_decay_tf1``: contrib.opt's decoupled weight decay on TF1's
  optimizers (``AdamWOptimizer``, ``MomentumWOptimizer``);
* ``weight_decay_keras``: the same decay on the kernels (``AdamW``,
  ``MomentumW``: spec ``adamw``/``momentumw``);
* ``spec``: the spec, parsed once;
* ``portable``: all of them in ``keras.ops``, for Keras 3 on JAX/PyTorch.

Where Keras has no such optimizer API (TF 1.15, TF 2.0-2.10:
``_compat.KERAS_OPTIMIZER_API``) the kernel names *are*
``tf.compat.v1.train``'s classes and ``AdamW``/``MomentumW`` the ports of
contrib's; on Keras 3's JAX and PyTorch backends they are ``portable``'s,
the same updates in ``keras.ops``. What each equals bit for bit, and the measured gaps of the
native ports: docs/migration_details.md, "Appendix: what compat_reg's
optimizers equal", and tests/test_optimizer*.py, which measure them.

>>> opt = get({"optimizer": "adam", "lr": 0.001})
>>> get({"optimizer": "rmsprop", "lr": 0.1})
Traceback (most recent call last):
...
ValueError: unknown optimizer 'rmsprop': expected one of 'adam', 'adamw', \
'momentum', 'momentumw', 'sgd'
"""

from __future__ import absolute_import, division, print_function

from compat_reg import _compat, convention
from compat_reg.optimizers import portable
from compat_reg.optimizers.kernels import Adam, GradientDescent, Momentum
from compat_reg.optimizers.schedules import (
    TF1Schedule, schedule_record, step_scheduled, tf1_schedule)
from compat_reg.optimizers.spec import parse
from compat_reg.optimizers.weight_decay_keras import AdamW, MomentumW
from compat_reg.optimizers.weight_decay_tf1 import (
    AdamWOptimizer, DecoupledWeightDecayExtension, MomentumWOptimizer,
    contrib_class)

__all__ = ["Adam", "AdamW", "AdamWOptimizer", "DecoupledWeightDecayExtension",
           "GradientDescent", "Momentum", "MomentumW", "MomentumWOptimizer",
           "TF1Schedule", "WRONG_PORTS", "get", "keras_native", "tf1"]


if not _compat.KERAS_OPTIMIZER_API:
    # TF 1.15, TF 2.0-2.10: the real thing, same names, same arguments; the
    # decoupled weight decay is contrib's, ported (tf1() uses contrib itself
    # where it exists).
    GradientDescent = _compat.v1.train.GradientDescentOptimizer
    Momentum = _compat.v1.train.MomentumOptimizer
    Adam = _compat.v1.train.AdamOptimizer
    AdamW = AdamWOptimizer
    MomentumW = MomentumWOptimizer
elif not _compat.TF_BACKEND:
    # Keras 3 on JAX / PyTorch: the same names, arguments and updates in
    # keras.ops (portable); the kernels above need TF's variables.
    GradientDescent, Momentum, Adam = (
        portable.GradientDescent, portable.Momentum, portable.Adam)
    AdamW, MomentumW, TF1Schedule = (
        portable.AdamW, portable.MomentumW, portable.TF1Schedule)


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

    ``spec`` is parsed (``spec.parse``) or a dict with ``"optimizer"``
    (``"sgd"``, ``"momentum"``, ``"adam"``, ``"adamw"``, ``"momentumw"``)
    and ``"lr"``; ``"momentum"`` and ``"momentumw"`` need ``"momentum"``
    (and may set ``"use_nesterov"``);
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
    parsed = parse(spec)
    cls = _EXACT[parsed.entry.spec]
    args = _exact_arguments(parsed)
    if parsed.schedule is None:
        return cls(**args)
    if _compat.KERAS_OPTIMIZER_API:
        args["learning_rate"] = TF1Schedule.parsed(parsed)
        return cls(**args)
    return step_scheduled(cls)(
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
    parsed = parse(spec)
    entry, args = parsed.entry, dict(parsed.args)
    if parsed.schedule is not None:
        if global_step is None:
            global_step = _compat.v1.train.get_or_create_global_step()
        args["learning_rate"] = tf1_schedule(
            parsed.schedule.kind, parsed.schedule_args, global_step)
    if entry.spec in convention.WEIGHT_DECAY:
        cls = (contrib_class(entry.spec) or
               {"adamw": AdamWOptimizer,
                "momentumw": MomentumWOptimizer}[entry.spec])
        optimizer = cls(decay_biases=parsed.decay_biases, **args)
    else:
        optimizer = getattr(_compat.v1.train, entry.tf1_class)(**args)
    if parsed.schedule is not None:
        optimizer.compat_reg_schedule = schedule_record(
            parsed.schedule.kind, parsed.schedule_args)
        optimizer.compat_reg_schedule_lr = parsed.args["learning_rate"]
    return optimizer


# The known wrong ports of TF1 optimizer code to native Keras (``keras_native``),
# by the name ``keras_native(spec, wrong=...)`` takes.
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
    ``decay_biases=False``. These follow Keras' arithmetic, not TF1's (the
    measured gaps: docs/migration_details.md's appendix). ``wrong`` builds
    one of the ``WRONG_PORTS`` instead:

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
    parsed = parse(spec)
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
