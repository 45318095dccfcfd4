"""The optimizers the harness trains with, and what they really were.

``exact`` (default) uses ``compat_reg.optimizers.get(spec)``, TF1's updates
reproduced exactly; ``keras`` uses native Keras optimizers with the same
settings. ``hparams()`` reads the settings back from the optimizer object so
that a trace records what ran, not what was asked for.
"""

from __future__ import absolute_import, division, print_function

import collections

KINDS = ("exact", "keras")


def _module():
    try:
        from compat_reg import optimizers
    except ImportError:
        return None
    return optimizers


def _native(spec):
    from compat_reg import _compat
    opt = _compat.keras.optimizers
    kind = spec["optimizer"]
    if kind == "sgd":
        return opt.SGD(learning_rate=spec["lr"])
    if kind == "momentum":
        return opt.SGD(learning_rate=spec["lr"], momentum=spec["momentum"])
    if kind == "adam":
        return opt.Adam(learning_rate=spec["lr"], beta_1=spec.get("beta1", 0.9),
                        beta_2=spec.get("beta2", 0.999),
                        epsilon=spec.get("epsilon", 1e-8))
    raise ValueError("unknown optimizer %r" % (kind,))


def keras_optimizer(spec, kind="exact"):
    """A Keras optimizer for a workload ``spec`` (the golden config)."""
    if kind not in KINDS:
        raise ValueError("optimizers must be one of %s, not %r" % (KINDS, kind))
    module = _module()
    if kind == "keras":
        return module.keras_native(spec) if module is not None else _native(spec)
    if module is not None:
        return module.get(spec)
    if spec["optimizer"] == "sgd":
        return _native(spec)  # plain SGD is TF1-exact natively
    raise RuntimeError("compat_reg.optimizers is not available: cannot build "
                       "a TF1-exact %r optimizer" % spec["optimizer"])


def tf1_optimizer(spec):
    """The ``tf.compat.v1.train`` optimizer of a workload ``spec``."""
    import tensorflow as tf
    train = tf.compat.v1.train
    kind = spec["optimizer"]
    if kind == "sgd":
        return train.GradientDescentOptimizer(spec["lr"])
    if kind == "momentum":
        return train.MomentumOptimizer(spec["lr"], spec["momentum"])
    if kind == "adam":
        return train.AdamOptimizer(spec["lr"], beta1=spec.get("beta1", 0.9),
                                   beta2=spec.get("beta2", 0.999),
                                   epsilon=spec.get("epsilon", 1e-8))
    raise ValueError("unknown optimizer %r" % (kind,))


def _number(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


def _qualname(optimizer):
    kind = type(optimizer)
    return "%s.%s" % (kind.__module__, kind.__name__)


def hparams(optimizer, kind):
    """``{"kind", "lr", ...}`` read back from a Keras or TF1 optimizer."""
    out = collections.OrderedDict([("kind", kind)])
    if hasattr(optimizer, "get_config"):
        config = optimizer.get_config()
        out["class"] = _qualname(optimizer)
        out["lr"] = _number(config.get("learning_rate", config.get("lr")))
        if kind == "momentum":
            out["momentum"] = _number(config.get("momentum"))
        if kind == "adam":
            for ours, names in (("beta1", ("beta_1", "beta1")),
                                ("beta2", ("beta_2", "beta2")),
                                ("epsilon", ("epsilon",))):
                value = [config[n] for n in names if n in config]
                out[ours] = _number(value[0]) if value else None
        return out
    out["class"] = _qualname(optimizer)
    out["lr"] = _number(getattr(optimizer, "_learning_rate", None))
    if kind == "momentum":
        out["momentum"] = _number(getattr(optimizer, "_momentum", None))
    if kind == "adam":
        for ours in ("beta1", "beta2", "epsilon"):
            out[ours] = _number(getattr(optimizer, "_" + ours, None))
    return out
