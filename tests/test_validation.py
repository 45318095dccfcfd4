"""contrib's validation rules, and where compat_reg is stricter than TF1.

The golden ``errors`` entries record what TF 1.15 did with each bad scale.
The inputs are not in the file; each id names its call, and the messages
pin the values (e.g. ``-0.1.`` with contrib's trailing period for l2).
"""

import numpy as np
import pytest
import tensorflow as tf

import compat_reg
from compat_reg import _compat
from golden_support import evaluate

# golden error id -> the call it names
CALLS = {
    "l1_int_scale": lambda: compat_reg.l1_regularizer(2),
    "l2_int_scale": lambda: compat_reg.l2_regularizer(1),
    "l1_negative": lambda: compat_reg.l1_regularizer(-1.0),
    "l2_negative": lambda: compat_reg.l2_regularizer(-0.1),
    "l1_l2_negative": lambda: compat_reg.l1_l2_regularizer(-0.1, 0.1),
    "l1_scale_above_one": lambda: compat_reg.l1_regularizer(2.5),
    "l2_scale_above_one": lambda: compat_reg.l2_regularizer(2.5),
    "l2_nan": lambda: compat_reg.l2_regularizer(float("nan")),
    "l2_string": lambda: compat_reg.l2_regularizer("0.01"),
    "sum_empty": lambda: compat_reg.sum_regularizer([]),
}
# where TF1 accepted nonsense silently, we raise (documented in regularizers.py)
STRICTER = {"l2_nan": (ValueError, "NaN"), "l2_string": (TypeError, "must be a float")}


def test_every_golden_error_is_covered(golden_penalties):
    assert set(golden_penalties["errors"]) == set(CALLS)


@pytest.mark.parametrize("error_id", sorted(CALLS))
def test_golden_error(golden_penalties, error_id):
    golden = golden_penalties["errors"][error_id]
    if error_id in STRICTER:
        exc, match = STRICTER[error_id]
        with pytest.raises(exc, match=match):
            CALLS[error_id]()
        return
    if golden["raises"]:
        with pytest.raises(ValueError) as info:
            CALLS[error_id]()
        assert golden["raises"] == "ValueError"
        assert str(info.value) == golden["message"]
        return
    result = CALLS[error_id]()
    if golden["returns"] == "NoneType":
        assert result is None
    else:  # TF1 returned a function: ours is callable and gives a penalty
        assert callable(result)
        assert float(evaluate(result(np.ones((2, 2), np.float32)))) > 0


@pytest.mark.parametrize("scale", [np.int64(3), np.int32(1), True])
def test_numpy_and_bool_integers_rejected_like_contrib(scale):
    with pytest.raises(ValueError, match="scale cannot be an integer"):
        compat_reg.l2_regularizer(scale)


def test_l1_l2_integer_messages_name_the_argument():
    with pytest.raises(ValueError, match="scale_l1 cannot be an integer: 1"):
        compat_reg.l1_l2_regularizer(1, 0.1)
    with pytest.raises(ValueError, match="scale_l2 cannot be an integer: 2"):
        compat_reg.l1_l2_regularizer(0.1, 2)


@pytest.mark.parametrize("bad", [float("inf"), float("nan")])
@pytest.mark.parametrize("factory", [compat_reg.l1_regularizer, compat_reg.l2_regularizer])
def test_non_finite_rejected(factory, bad):
    with pytest.raises(ValueError, match="NaN|infinite"):
        factory(bad)


def test_negative_infinity_is_negative_like_contrib():
    with pytest.raises(ValueError, match="less than 0"):
        compat_reg.l2_regularizer(float("-inf"))


@pytest.mark.parametrize("bad", ["0.1", None, object()])
def test_non_numbers_rejected(bad):
    with pytest.raises(TypeError, match="must be a float"):
        compat_reg.l1_regularizer(bad)


@pytest.mark.parametrize("bad", [[0.1], (0.1,), np.array([0.1]), [[0.1]]])
def test_sequences_rejected_as_not_scalar(bad):
    """contrib's penalty had the sequence's shape (tests/test_scale_forms.py)."""
    with pytest.raises(ValueError, match="must be a scalar"):
        compat_reg.l1_regularizer(bad)


@pytest.mark.parametrize("scale", [np.float32(0.01), np.float64(0.01), np.float16(0.5)])
def test_numpy_floats_accepted(scale):
    reg = compat_reg.l2_regularizer(scale)
    w = np.array([3.0, 4.0], np.float32)
    # float(scale) * (9 + 16) / 2, in float32 as contrib computed it
    expected = np.float32(scale) * np.float32(12.5)
    assert float(evaluate(reg(w))) == pytest.approx(float(expected), rel=1e-6)


def test_zero_scale_disables():
    """contrib's ``lambda _: None``: a callable that gives no penalty."""
    for reg in (compat_reg.l2_regularizer(0.0), compat_reg.l1_regularizer(np.float32(0.0)),
                compat_reg.l1_l2_regularizer(0.0, 0.0)):
        assert reg(None) is None
        assert reg(np.ones((2, 2), np.float32)) is None
    keras = _compat.keras
    layer = keras.layers.Dense(2, kernel_regularizer=compat_reg.l2_regularizer(0.0))
    layer.build((None, 3))
    # tf_keras drops the None; Keras 3 sums every entry, so it gets a zero
    assert [float(evaluate(t)) for t in layer.losses] == ([0.0] if _compat.KERAS3 else [])


@pytest.mark.parametrize("weights", [
    np.array([[1, 2], [3, 4]], np.int32), np.array([True, False]),
    np.array([1 + 1j], np.complex64), np.array([1, 2], np.int8), np.array(["a"])],
    ids=["int32", "bool", "complex64", "int8", "string"])
@pytest.mark.parametrize("factory", [
    lambda: compat_reg.l2_regularizer(0.1), lambda: compat_reg.l1_regularizer(0.1),
    lambda: compat_reg.l1_l2_regularizer(0.1, 0.1)], ids=["l2", "l1", "l1_l2"])
def test_non_float_weights_raise_as_tf1_did(factory, weights):
    """TF1 converted the scale to the weights' dtype and failed; Keras alone
    returns 0 for int32, True for bool, a complex number for complex."""
    with pytest.raises(TypeError, match="floating-point weights"):
        factory()(tf.constant(weights))


def test_sparse_weights_raise():
    sparse = tf.SparseTensor(indices=[[0, 0]], values=[1.0], dense_shape=[2, 2])
    with pytest.raises(TypeError, match="dense weights"):
        compat_reg.l2_regularizer(0.1)(sparse)


def test_a_list_of_floats_is_weights():
    # contrib's l2_loss of [3, 4]: (9 + 16) / 2
    assert float(evaluate(compat_reg.l2_regularizer(0.5)([3.0, 4.0]))) == pytest.approx(
        0.5 * 12.5)


def test_overflowing_scale_refused_when_made():
    with pytest.raises(ValueError, match="overflows float32"):
        compat_reg.l2_regularizer(1e39)


@pytest.mark.parametrize("scale,error,match", [
    (lambda: tf.Variable(-0.1), ValueError, "less than 0"),
    (lambda: tf.Variable(float("nan")), ValueError, "NaN"),
    (lambda: tf.Variable(1), TypeError, "floating-point scalar"),
    (lambda: tf.constant([0.1, 0.2]), ValueError, "must be a scalar"),
    (lambda: tf.constant("0.1"), TypeError, "floating-point scalar"),
], ids=["negative", "nan", "int", "vector", "string"])
def test_tensor_scales_checked(scale, error, match):
    if not _compat.executing_eagerly() and match in ("less than 0", "NaN"):
        pytest.skip("eager execution (TF2): a graph tensor's value is not known "
                    "when the regularizer is made")
    with pytest.raises(error, match=match):
        compat_reg.l2_regularizer(scale())


# -- other doors: every way a scale reaches compat_reg's classes -------------

# Bad scale classes that a config or a file can hold (JSON), and some that
# only Python code can pass.
BAD_SCALES = {
    "int": 1, "bool": True, "negative": -0.5, "nan": float("nan"),
    "inf": float("inf"), "overflow": 1e39, "string": "0.5", "list": [0.5],
    "dict": {"value": 0.5},
}
BAD_PYTHON_SCALES = dict(BAD_SCALES, np_bool=np.bool_(True),
                         nd0_negative=np.array(-0.5), nd0_int=np.array(2),
                         obj=object())
ARGS = ("scale_l1", "scale_l2")


def _factory_error(arg, bad):
    """What the factory raises for ``bad`` as ``arg``: the reference."""
    scales = {"scale_l1": 0.0, "scale_l2": 0.0}
    scales[arg] = bad
    with pytest.raises((TypeError, ValueError)) as info:
        compat_reg.l1_l2_regularizer(**scales)
    return type(info.value), str(info.value)


def _contrib_config(arg, bad):
    config = {"scale_l1": None, "scale_l2": None, "scope": None}
    config[arg] = bad
    return config


def _serialized(arg, bad):
    """A Keras config of a ContribL1L2 with ``bad`` as ``arg``."""
    config = _compat.moves.serialize_regularizer(
        compat_reg.ContribL1L2(scale_l1=0.5))
    config["config"] = _contrib_config(arg, bad)
    return config


DOORS = {
    "constructor": lambda arg, bad: compat_reg.ContribL1L2(**{arg: bad}),
    "from_config": lambda arg, bad: compat_reg.ContribL1L2.from_config(
        _contrib_config(arg, bad)),
    "deserialize": lambda arg, bad: _compat.moves.deserialize_regularizer(
        _serialized(arg, bad)),
    "sum_constructor": lambda arg, bad: compat_reg.SumRegularizer(
        [compat_reg.l1_regularizer(0.1), _serialized(arg, bad)]),
    "sum_from_config": lambda arg, bad: compat_reg.SumRegularizer.from_config(
        {"regularizers": [_serialized(arg, bad)], "scope": None}),
}


@pytest.mark.parametrize("arg", ARGS)
@pytest.mark.parametrize("bad", sorted(BAD_PYTHON_SCALES))
@pytest.mark.parametrize("door", sorted(DOORS))
def test_every_door_validates_as_the_factory(door, bad, arg):
    if door in ("deserialize", "sum_constructor", "sum_from_config") and not \
            hasattr(_compat.moves.Regularizer, "from_config"):
        pytest.skip("this Keras has no regularizer configs")
    error, message = _factory_error(arg, BAD_PYTHON_SCALES[bad])
    with pytest.raises(error) as info:
        DOORS[door](arg, BAD_PYTHON_SCALES[bad])
    assert message in str(info.value)


@pytest.mark.parametrize("bad", [0.5, "l2", None, [0.1]])
def test_sum_terms_must_be_regularizers(bad):
    """contrib's sum_regularizer failed only when applied; the factory and
    the class refuse a term that is not a regularizer when made (None terms
    are dropped, as contrib dropped them; a list is not a list of terms)."""
    if bad is None:
        reg = compat_reg.sum_regularizer([None, compat_reg.l2_regularizer(0.5)])
        assert float(evaluate(reg([3.0, 4.0]))) == pytest.approx(0.5 * 12.5)
        assert compat_reg.SumRegularizer([None]).regularizers == []
        return
    for make in (compat_reg.sum_regularizer, compat_reg.SumRegularizer):
        with pytest.raises(TypeError, match=r"regularizer_list\[0\] must be a "
                                            r"regularizer"):
            make([bad])
    with pytest.raises(TypeError, match="must be a list of regularizers"):
        compat_reg.sum_regularizer(0.5)


@pytest.mark.parametrize("scope", [3, b"scope", ["a"]])
def test_scope_must_be_a_string(scope):
    for make in (lambda: compat_reg.l2_regularizer(0.1, scope=scope),
                 lambda: compat_reg.ContribL1L2(scale_l2=0.1, scope=scope),
                 lambda: compat_reg.SumRegularizer([], scope=scope)):
        with pytest.raises(TypeError, match="scope must be a string or None"):
            make()


@pytest.mark.parametrize("spec", [["l2"], ["l2", 0.1, 0.2], ["l1_l2", 0.1],
                                  ["sum"], [], "l2", ["elastic", 0.1], [3, 0.1]])
def test_from_spec_refuses_malformed_specs(spec):
    """A golden/workload ``reg`` spec of the wrong shape: one ValueError, not
    an IndexError."""
    from compat_reg import regularizers
    with pytest.raises(ValueError, match="expected None, \\['l1', scale\\]"):
        regularizers.from_spec(spec)


def _model_with_contrib_regularizer():
    keras = _compat.keras
    inputs = keras.Input((3,))
    outputs = keras.layers.Dense(
        2, kernel_regularizer=compat_reg.ContribL1L2(scale_l1=0.1, scale_l2=0.2),
        name="dense")(inputs)
    return keras.Model(inputs, outputs)


def _set_scale(config, arg, bad):
    """Put ``bad`` as ``arg`` into every ContribL1L2 config of a model's."""
    if isinstance(config, dict):
        if str(config.get("class_name", "")).endswith("ContribL1L2"):
            config["config"][arg] = bad
        for value in config.values():
            _set_scale(value, arg, bad)
    elif isinstance(config, list):
        for value in config:
            _set_scale(value, arg, bad)


def _edit_keras_file(src, dst, arg, bad):
    import json
    import zipfile
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "config.json":
                config = json.loads(data.decode("utf-8"))
                _set_scale(config, arg, bad)
                data = json.dumps(config).encode("utf-8")
            zout.writestr(item, data)


def _edit_h5_file(src, dst, arg, bad):
    import json
    import shutil
    import h5py
    shutil.copy(src, dst)
    with h5py.File(dst, "r+") as handle:
        raw = handle.attrs["model_config"]
        config = json.loads(raw.decode("utf-8") if isinstance(raw, bytes) else raw)
        _set_scale(config, arg, bad)
        handle.attrs["model_config"] = json.dumps(config).encode("utf-8")


FILE_FORMATS = {"keras": _edit_keras_file, "h5": _edit_h5_file}


@pytest.fixture(scope="module")
def saved_models(tmp_path_factory):
    """One saved model per file format (Keras 3 writes legacy .h5 too)."""
    if _compat.TF1:
        pytest.skip("Keras serialization on TF2")
    folder = tmp_path_factory.mktemp("doors")
    model = _model_with_contrib_regularizer()
    paths = {}
    for suffix in sorted(FILE_FORMATS):
        paths[suffix] = str(folder / ("model." + suffix))
        model.save(paths[suffix])
    return paths


@pytest.mark.parametrize("arg", ARGS)
@pytest.mark.parametrize("bad", sorted(BAD_SCALES))
@pytest.mark.parametrize("suffix", sorted(FILE_FORMATS))
def test_loaded_files_validate_as_the_factory(saved_models, tmp_path, suffix,
                                              bad, arg):
    """A saved model whose config was edited to hold a bad scale: loading it
    raises the factory's error (Keras may wrap it; its message is kept)."""
    import zipfile
    if suffix == "keras" and not zipfile.is_zipfile(saved_models[suffix]):
        pytest.skip("this Keras (before the .keras zip format) saved model.keras as "
                    "a SavedModel folder")
    path = str(tmp_path / ("edited." + suffix))
    FILE_FORMATS[suffix](saved_models[suffix], path, arg, BAD_SCALES[bad])
    error, message = _factory_error(arg, BAD_SCALES[bad])
    with pytest.raises(Exception) as info:
        _compat.keras.models.load_model(path)
    assert message in str(info.value)
    chain, cause = [], info.value
    while cause is not None:  # Keras 3 re-raises as its own TypeError
        chain.append((type(cause), str(cause)))
        cause = cause.__cause__ or cause.__context__
    assert (error, message) in chain, chain


def test_an_unedited_file_loads(saved_models):
    """The control: the same files load and give contrib's penalty."""
    w = None
    for path in saved_models.values():
        model = _compat.keras.models.load_model(path)
        kernel = model.get_layer("dense").kernel
        w = evaluate(kernel)
        want = 0.1 * np.sum(np.abs(w)) + 0.2 * np.sum(w ** 2) / 2
        assert float(evaluate(sum(model.losses))) == pytest.approx(want,
                                                                   rel=1e-6)
    assert w is not None
