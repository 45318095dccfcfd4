"""Keras serialization of compat_reg's exact optimizers on every backend.

Generated over optimizer kinds x learning rate (a float, TF1's schedule) x
round trip (``get_config``/``from_config``, ``keras.optimizers.serialize``
/``deserialize``, a compiled model saved as ``.keras`` and loaded) x family:
``portable`` (``compat_reg.optimizers.portable``, the ``keras.ops`` classes,
Keras 3 on every backend) and ``get`` (what ``optimizers.get`` returns: the
kernel classes on TensorFlow, the portable ones on JAX and torch). The
expected hyperparameters are the arguments the test gives; a loaded model's
optimizer state is the saved one's, read on this backend.
"""

import numpy as np
import pytest

from compat_reg import _compat, optimizers

if not _compat.KERAS3:
    pytest.skip("the portable classes and their registration are Keras 3's "
                "(this is %s; test_optimizers covers the kernels' configs)"
                % _compat.KERAS_FLAVOUR, allow_module_level=True)

keras = _compat.keras
portable = optimizers.portable

# kind -> (the class's arguments, TF1's names; the spec for get)
MOMENTUM = {"learning_rate": 0.25, "momentum": 0.5, "use_locking": False,
            "name": "mom", "use_nesterov": True}
ADAM = {"learning_rate": 0.25, "beta1": 0.8, "beta2": 0.99, "epsilon": 1e-3,
        "use_locking": False, "name": "adam"}
DECAY = {"weight_decay": 1e-3, "decay_biases": False}
KINDS = {
    "sgd": {"learning_rate": 0.25, "use_locking": True, "name": "gd"},
    "momentum": MOMENTUM,
    "adam": ADAM,
    "momentumw": dict(MOMENTUM, name="momw", **DECAY),
    "adamw": dict(ADAM, name="adamw", **DECAY),
}
SPEC_KEYS = {"learning_rate": "lr"}  # the spec's name where it differs
SCHEDULE = {"kind": "piecewise_constant", "boundaries": [1], "values": [0.25, 0.1]}
RATES = ("float", "schedule")


def _portable(kind, rate):
    kwargs = dict(KINDS[kind])
    if rate == "schedule":
        kwargs["learning_rate"] = portable.TF1Schedule(**SCHEDULE)
    return portable.EXACT[kind](**kwargs), kwargs


def _get(kind, rate):
    spec = dict((SPEC_KEYS.get(k, k), v) for k, v in KINDS[kind].items()
                if k not in ("use_locking", "name"))
    spec["optimizer"] = kind
    if rate == "schedule":
        spec["schedule"] = dict(SCHEDULE)
    optimizer = optimizers.get(spec)
    kwargs = dict((k, v) for k, v in KINDS[kind].items()
                  if k not in ("use_locking", "name"))
    if rate == "schedule":
        kwargs["learning_rate"] = optimizer._learning_rate
    return optimizer, kwargs


FAMILIES = {"portable": _portable, "get": _get}


def _model(optimizer):
    model = keras.Sequential([keras.Input((3,)),
                              keras.layers.Dense(2, name="dense")])
    model.compile(optimizer=optimizer, loss="mse",
                  **_compat.compile_without_xla())
    x = np.linspace(-1.0, 1.0, 12, dtype=np.float32).reshape(4, 3)
    model.train_on_batch(x, np.ones((4, 2), np.float32))
    return model


def _state(optimizer):
    return [np.asarray(keras.ops.convert_to_numpy(v))
            for v in _compat.optimizer_variables(optimizer)]


def _via_config(optimizer, tmp_path):
    return type(optimizer).from_config(optimizer.get_config())


def _via_serialize(optimizer, tmp_path):
    return keras.optimizers.deserialize(keras.optimizers.serialize(optimizer))


def _via_keras_file(optimizer, tmp_path):
    model = _model(optimizer)
    path = str(tmp_path / "model.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    want, got = _state(optimizer), _state(loaded.optimizer)
    assert len(got) == len(want) >= 1
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)
    return loaded.optimizer


TRIPS = {"from_config": _via_config, "serialize": _via_serialize,
         "keras_file": _via_keras_file}


@pytest.mark.parametrize("trip", sorted(TRIPS))
@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_round_trip_keeps_class_and_hyperparameters(family, kind, rate, trip,
                                                    tmp_path):
    optimizer, kwargs = FAMILIES[family](kind, rate)
    if family == "get":
        assert isinstance(optimizer, tuple(portable.EXACT.values())) is (
            not _compat.TF_BACKEND)
    restored = TRIPS[trip](optimizer, tmp_path)
    assert type(restored) is type(optimizer)
    config = restored.get_config()
    assert config == optimizer.get_config()
    schedule = kwargs.pop("learning_rate")
    if rate == "schedule":
        assert type(restored._learning_rate) is type(schedule)
        got = restored._learning_rate.get_config()
        assert got == schedule.get_config()
        assert dict((k, got[k]) for k in SCHEDULE) == SCHEDULE
    else:
        assert config["learning_rate"] == schedule
    assert dict((k, config[k]) for k in kwargs) == kwargs


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_registered_names(kind):
    """``compat_reg.portable>Name`` on every backend; off TensorFlow the
    kernels' ``compat_reg>Name`` is the portable class too."""
    cls = portable.EXACT[kind]
    get_object = keras.saving.get_registered_object
    assert get_object("compat_reg.portable>" + cls.__name__) is cls
    plain = get_object("compat_reg>" + cls.__name__)
    assert (plain is cls) is (not _compat.TF_BACKEND)
    assert keras.saving.get_registered_name(cls) == (
        "compat_reg.portable>" if _compat.TF_BACKEND else "compat_reg>"
    ) + cls.__name__
