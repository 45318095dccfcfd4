"""Resuming a TF1 run on every Keras 3 backend (issue 29).

TF 1.15's runs of ``compat_reg/parity/tf1_checkpoints/resume_<run>/``
(``make_resume.py``: 30 steps, saved, 20 more) are loaded into the Keras
port with ``optimizers.get(spec)`` (on JAX and torch the ``keras.ops``
port, ``optimizers.portable``) and trained on with Keras' own
``train_on_batch``, so the same test runs on TensorFlow, JAX and torch. The
expected values are TF 1.15's: its curve after the save, its final weights,
and the checkpoint's entries as TF's own reader gives them.

What cannot work off TensorFlow is refused with ``BackendError`` naming the
backend: state for the optimizers that run TF's kernels on TF variables
(the kernel classes, ``tf.compat.v1.train``'s).
"""

import numpy as np
import pytest
import tensorflow as tf

from compat_reg import _compat, checkpoints, naming, optimizers
from compat_reg.optimizers import kernels
from compat_reg.parity.tf1_checkpoints import make_resume
from test_checkpoint_resume import (
    CURVE_RTOL, RUNS, WEIGHT_ATOL, folder, reference, relative, resume_port,
    tf1_name)
from test_checkpoints import scramble

if not _compat.KERAS3:
    pytest.skip("Keras' backends are Keras 3's (test_checkpoint_resume covers "
                "%s)" % _compat.KERAS_FLAVOUR, allow_module_level=True)

keras = _compat.keras


def _numpy(value):
    return np.asarray(keras.ops.convert_to_numpy(value))


def _resumed(run):
    """The port with ``get(spec)``, TF1's checkpoint loaded with its state."""
    ref, arrays = reference(run)
    keras.backend.clear_session()
    model = resume_port()
    scramble(model)
    optimizer = optimizers.get(ref["spec"])
    report = checkpoints.load_tf1_checkpoint(model, folder(run),
                                             optimizer=optimizer,
                                             tf1_name=tf1_name(run))
    return ref, arrays, model, optimizer, report


@pytest.mark.parametrize("run", RUNS)
def test_get_is_this_backends_exact_optimizer(run):
    """The kernels on TensorFlow, the keras.ops port elsewhere."""
    ref, _ = reference(run)
    portable = tuple(optimizers.portable.EXACT.values())
    assert isinstance(optimizers.get(ref["spec"]), portable) is (
        not _compat.TF_BACKEND)


@pytest.mark.parametrize("run", RUNS)
def test_restored_state_is_the_checkpoints(run):
    """Every slot, beta power and the step, read back on this backend."""
    ref, _, model, optimizer, report = _resumed(run)
    reader = tf.train.load_checkpoint(folder(run))
    kind = checkpoints.OPTIMIZER_STATE[ref["spec"]["optimizer"]]
    weights = dict((r.checkpoint, w) for r, w in zip(report, report._weights))
    trained = [r.checkpoint for r, w in zip(report, report._weights)
               if any(w is t for t in model.trainable_weights)]
    assert len(report.state) == 1 + 2 * kind.beta_powers + len(trained) * len(
        kind.slots)
    for row in report.state:
        if row.checkpoint == checkpoints.GLOBAL_STEP:
            got = optimizer.iterations
        elif "/" not in row.checkpoint:  # beta1_power, beta2_power
            got = getattr(optimizer, row.checkpoint.split("_power")[0] + "_power")
        else:
            parent = row.checkpoint.rsplit("/", 1)[0]
            got = optimizer.get_slot(weights[parent], row.target.rsplit(": ")[1])
        np.testing.assert_array_equal(_numpy(got), reader.get_tensor(
            row.checkpoint), err_msg=row.checkpoint)
    assert int(_numpy(optimizer.iterations)) == make_resume.BEFORE


@pytest.mark.parametrize("run", RUNS)
def test_resume_continues_tf1s_curve(run):
    """20 steps of ``train_on_batch`` go on along TF 1.15's curve."""
    ref, arrays, model, optimizer, _ = _resumed(run)
    model.compile(optimizer=optimizer, loss=keras.losses.SparseCategoricalCrossentropy(
        from_logits=True), **_compat.compile_without_xla())
    curve = np.array([_compat.train_on_batch_loss(model, x, y) for x, y in zip(
        arrays["x"], arrays["y"])], np.float64)
    want = np.array(ref["losses_after"])
    assert len(curve) == len(want) == make_resume.AFTER
    assert relative(curve, want) <= CURVE_RTOL, relative(curve, want)
    for name, _, weight in naming.tf1_weights(model):
        np.testing.assert_allclose(_numpy(weight), arrays["final/" + name],
                                   rtol=0, atol=WEIGHT_ATOL, err_msg=name)


# What runs TF's kernels on TF variables: refused off TensorFlow.
MOMENTUM = {"optimizer": "momentum", "lr": 0.1, "momentum": 0.9}
TF_ONLY = {
    "kernels": lambda: kernels.Momentum(MOMENTUM["lr"], MOMENTUM["momentum"]),
    "tf1": lambda: optimizers.tf1(MOMENTUM),
}


@pytest.mark.parametrize("kind", sorted(TF_ONLY))
def test_tf_kernel_optimizers_are_refused_off_tensorflow(kind):
    if _compat.TF_BACKEND:
        pytest.skip("on TensorFlow they resume (test_checkpoint_resume)")
    keras.backend.clear_session()
    model = resume_port()
    before = [_numpy(w) for w in model.weights]
    with pytest.raises(_compat.BackendError) as info:
        checkpoints.load_tf1_checkpoint(model, folder("momentum"),
                                        optimizer=TF_ONLY[kind]())
    message = str(info.value)
    assert "runs on %s (KERAS_BACKEND=%s)" % (
        _compat.KERAS_BACKEND, _compat.KERAS_BACKEND) in message, message
    assert "compat_reg.optimizers.get(spec)" in message
    for want, weight in zip(before, model.weights):  # nothing assigned
        np.testing.assert_array_equal(_numpy(weight), want)
