"""Keras 3 on every backend (issue 29): compat_reg's penalties are the
backend's own tensors, so their gradient is never silently dropped.

Each env runs Keras on one backend (``KERAS_BACKEND``: tf221 on TensorFlow,
keras3-jax, keras3-torch); the tests are generated over regularizer kinds x
backends, and each env runs its backend's column. Expected values: Keras' own
``L1``/``L2``/``L1L2`` with contrib's scales converted by the arithmetic shown
(``L2(scale / 2)``), numpy, and the golden TF 1.15 penalties.
"""

import numpy as np
import pytest

import compat_reg
from compat_reg import _compat, golden_files
from compat_reg.regularizers import from_spec
from golden_support import TOLERANCE, rel_diff

if not _compat.KERAS3:
    pytest.skip("Keras' backends are Keras 3's (this is %s)" % _compat.KERAS_FLAVOUR,
                allow_module_level=True)

keras = _compat.keras
BACKENDS = ("tensorflow", "jax", "torch")
L1, L2 = 0.01, 0.02  # contrib's scales
# (golden spec, Keras' own regularizer: contrib's l2_loss is sum(w ** 2) / 2,
# numpy's gradient of contrib's penalty)
KINDS = {
    "l1": (["l1", L1], lambda: keras.regularizers.L1(L1),
           lambda w: np.float32(L1) * np.sign(w)),
    "l2": (["l2", L2], lambda: keras.regularizers.L2(L2 / 2),
           lambda w: np.float32(L2) * w),
    "l1_l2": (["l1_l2", L1, L2], lambda: keras.regularizers.L1L2(L1, L2 / 2),
              lambda w: np.float32(L1) * np.sign(w) + np.float32(L2) * w),
    "sum": (["sum", L1, L2], lambda: keras.regularizers.L1L2(L1, L2 / 2),
            lambda w: np.float32(L1) * np.sign(w) + np.float32(L2) * w),
}


def _on(backend):
    """Skip unless Keras computes on ``backend`` in this env."""
    if backend != _compat.KERAS_BACKEND:
        pytest.skip("this env runs Keras on %s (KERAS_BACKEND)" % _compat.KERAS_BACKEND)


def _kernel():
    return np.random.RandomState(7).normal(size=(6, 3)).astype(np.float32)


def _model(regularizer):
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(
        3, kernel_regularizer=regularizer, bias_initializer="zeros")])
    model.layers[0].kernel.assign(_kernel())
    return model


def _fit_one_step(regularizer):
    """One SGD(1.0) step of ``fit`` on zero inputs and targets: the data
    loss's gradient is 0, so the kernel moves by the penalty's alone."""
    model = _model(regularizer)
    model.compile(optimizer=keras.optimizers.SGD(1.0), loss="mse",
                  **_compat.compile_without_xla())
    model.fit(np.zeros((2, 6), np.float32), np.zeros((2, 3), np.float32),
              batch_size=2, epochs=1, verbose=0, shuffle=False)
    return keras.ops.convert_to_numpy(model.layers[0].kernel)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_fit_moves_the_kernel_as_keras_own_regularizer(kind, backend):
    _on(backend)
    spec, native, gradient = KINDS[kind]
    got = _fit_one_step(from_spec(spec))
    np.testing.assert_array_equal(got, _fit_one_step(native()))
    w = _kernel()
    np.testing.assert_array_equal(got, w - gradient(w))
    assert not np.array_equal(got, w)


def _gradient(model):
    """d get_regularization_loss(model) / d kernel, by the backend's own
    autodiff: tf.GradientTape, jax.grad (Keras' stateless scope), torch's
    backward."""
    kernel = model.layers[0].kernel
    if _compat.KERAS_BACKEND == "jax":
        import jax

        def penalty(value):
            with keras.StatelessScope(state_mapping=[(kernel, value)]):
                return compat_reg.get_regularization_loss(model)
        return np.asarray(jax.grad(penalty)(kernel.value))
    if _compat.KERAS_BACKEND == "torch":
        compat_reg.get_regularization_loss(model).backward()
        return kernel.value.grad.numpy()
    import tensorflow as tf
    with tf.GradientTape() as tape:
        penalty = compat_reg.get_regularization_loss(model)
    return tape.gradient(penalty, kernel.value).numpy()


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_custom_loop_gets_the_penalty_gradient(kind, backend):
    _on(backend)
    spec, _, gradient = KINDS[kind]
    model = _model(from_spec(spec))
    np.testing.assert_allclose(_gradient(model), gradient(_kernel()), rtol=1e-7, atol=0)


CASES = golden_files.penalty_cases()


@pytest.fixture
def x64(request):
    """JAX holds float64 as float32 unless ``jax_enable_x64``: on for the
    float64 golden case, then back."""
    if _compat.KERAS_BACKEND != "jax" or request.node.callspec.params[
            "case"]["dtype"] != "float64":
        yield
        return
    import jax
    before = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    yield
    jax.config.update("jax_enable_x64", before)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case,array", CASES, ids=[c["id"] for c, _ in CASES])
def test_golden_penalty_is_the_backends_tensor(case, array, backend, x64):
    _on(backend)
    reg = from_spec(case["regularizer"])
    if not case["collection_values"]:  # disabled: contrib's gives nothing
        assert reg(keras.ops.convert_to_tensor(array)) is None
        return
    got = reg(keras.ops.convert_to_tensor(array))
    assert keras.ops.is_tensor(got), type(got)
    assert keras.backend.standardize_dtype(got.dtype) == case["collection_dtypes"][0]
    want = case["total_regularization_loss"]
    assert rel_diff(keras.ops.convert_to_numpy(got), want) <= TOLERANCE[case["dtype"]]


@pytest.mark.parametrize("backend", BACKENDS[1:])
@pytest.mark.parametrize("needs", ["collection", "tf.distribute"])
def test_what_needs_tensorflow_names_the_backend(needs, backend):
    _on(backend)
    model = _model(compat_reg.l2_regularizer(L2))
    args, kwargs = {"collection": ((), {}),
                    "tf.distribute": ((model,), {"per_replica": True})}[needs]
    with pytest.raises(_compat.BackendError, match="runs on %s" % backend):
        compat_reg.get_regularization_loss(*args, **kwargs)


# TF1's optimizers: (spec, numpy's TF1 update of (w, grad, slots) in float32,
# as TF's CPU kernels compute it: every constant a float32, 1 - beta too)
F = np.float32
SPECS = {
    "sgd": {"optimizer": "sgd", "lr": 0.1},
    "momentum": {"optimizer": "momentum", "lr": 0.1, "momentum": 0.9},
    "nesterov": {"optimizer": "momentum", "lr": 0.1, "momentum": 0.9,
                 "use_nesterov": True},
    "adam": {"optimizer": "adam", "lr": 0.01},
    "adamw": {"optimizer": "adamw", "lr": 0.01, "weight_decay": 0.01},
    "momentumw": {"optimizer": "momentumw", "lr": 0.1, "momentum": 0.9,
                  "weight_decay": 0.01},
}


def _numpy_tf1(spec, w, gradient, steps):
    """``steps`` of TF1's updates with ``gradient(w, step)``, as its kernels'
    formulas, in numpy float32."""
    w, lr = w.copy(), F(spec["lr"])
    m, v = np.zeros_like(w), np.zeros_like(w)
    beta1, beta2, powers = F(0.9), F(0.999), [F(0.9), F(0.999)]
    for step in range(steps):
        g = gradient(w, step)
        if "weight_decay" in spec:  # contrib's decay first, gradient from before
            w = w - F(spec["weight_decay"]) * w
        if spec["optimizer"] == "sgd":
            w = w - g * lr
        elif spec["optimizer"].startswith("momentum"):
            m = m * F(spec["momentum"]) + g
            w = w - (g * lr + m * F(spec["momentum"]) * lr
                     if spec.get("use_nesterov") else m * lr)
        else:
            alpha = lr * np.sqrt(F(1) - powers[1]) / (F(1) - powers[0])
            m = m + (g - m) * (F(1) - beta1)
            v = v + (g * g - v) * (F(1) - beta2)
            w = w - (m * alpha) / (np.sqrt(v) + F(1e-8))
            powers = [powers[0] * beta1, powers[1] * beta2]
    return w


def _applied(optimizer, w, grads):
    variable = keras.Variable(w)
    for g in grads:
        optimizer.apply([keras.ops.convert_to_tensor(g)], [variable])
    return keras.ops.convert_to_numpy(variable)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", sorted(SPECS))
def test_exact_optimizer_is_tf1s_update(name, backend):
    """30 steps of fixed gradients: the portable optimizer against numpy's
    TF1 formula; on TF, bit for bit against the raw-ops kernels too."""
    _on(backend)
    from compat_reg import optimizers
    from compat_reg.optimizers import spec as spec_module
    spec = SPECS[name]
    rng = np.random.RandomState(3)
    w = rng.normal(size=(5, 4)).astype(np.float32)
    grads = [rng.normal(size=(5, 4)).astype(np.float32) for _ in range(30)]
    parsed = spec_module.parse(spec)
    portable = optimizers.portable.EXACT[parsed.entry.spec](**dict(parsed.args))
    got = _applied(portable, w, grads)
    want = _numpy_tf1(spec, w, lambda _, step: grads[step], len(grads))
    np.testing.assert_allclose(got, want, rtol=4e-7, atol=1e-7)
    exact = optimizers.get(spec)
    if backend == "tensorflow":
        np.testing.assert_array_equal(got, _applied(exact, w, grads))
    else:
        assert type(exact) is type(portable)
    # the public class of that name (compat_reg.optimizers.Adam, ...) trains
    # on this backend as get's does (on JAX/torch the raw-ops kernels cannot)
    public = getattr(optimizers, type(portable).__name__)(**dict(parsed.args))
    np.testing.assert_array_equal(_applied(public, w, grads),
                                  _applied(optimizers.get(spec), w, grads))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", sorted(SPECS))
def test_fit_with_exact_optimizer_and_penalty(name, backend):
    """Three ``fit`` steps on zero inputs: the gradient is the l2 penalty's,
    scale * w, and the kernel follows numpy's TF1 update of it."""
    _on(backend)
    from compat_reg import optimizers
    spec = SPECS[name]
    model = _model(compat_reg.l2_regularizer(L2))
    model.compile(optimizer=optimizers.get(spec), loss="mse",
                  **_compat.compile_without_xla())
    model.fit(np.zeros((6, 6), np.float32), np.zeros((6, 3), np.float32),
              batch_size=2, epochs=1, verbose=0, shuffle=False)
    got = keras.ops.convert_to_numpy(model.layers[0].kernel)
    want = _numpy_tf1(spec, _kernel(), lambda w, _: F(L2) * w, 3)
    np.testing.assert_allclose(got, want, rtol=4e-7, atol=1e-7)
    assert not np.array_equal(got, _kernel())


SCHEDULES = [
    ("exponential_decay", {"learning_rate": 0.1, "decay_steps": 7, "decay_rate": 0.5}),
    ("exponential_decay", {"learning_rate": 0.1, "decay_steps": 7, "decay_rate": 0.96,
                           "staircase": True}),
    ("piecewise_constant", {"boundaries": [5, 20], "values": [0.1, 0.05, 0.01]}),
    ("polynomial_decay", {"learning_rate": 0.1, "decay_steps": 30}),
    ("polynomial_decay", {"learning_rate": 0.1, "decay_steps": 9, "power": 0.5,
                          "cycle": True}),
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("kind,arguments", SCHEDULES)
def test_schedule_is_tf1s_rate(kind, arguments, backend):
    """The keras.ops schedule against TF1's own function run as TF1's Session
    ran it (compat_reg.optimizers.TF1Schedule: TF, in every env), 60 steps."""
    _on(backend)
    from compat_reg import optimizers
    portable = optimizers.portable.TF1Schedule(kind, **arguments)
    tf1 = optimizers.TF1Schedule(kind, **arguments)
    got = [float(keras.ops.convert_to_numpy(portable(keras.ops.convert_to_tensor(step))))
           for step in range(60)]
    np.testing.assert_array_equal(got, [float(tf1(step)) for step in range(60)])


@pytest.mark.parametrize("x64_on", [False, True])
def test_float64_on_jax_needs_x64(x64_on):
    """What the guide says of float64 on JAX: without ``jax_enable_x64`` a
    float64 layer holds float32 and its penalty is float32 arithmetic
    (numpy's, in float32); with it, float64's."""
    _on("jax")
    import jax
    before = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", x64_on)
    try:
        layer = keras.layers.Dense(3, dtype="float64", kernel_regularizer=(
            compat_reg.l2_regularizer(0.1)))
        model = keras.Sequential([keras.Input((4,), dtype="float64"), layer])
        layer.kernel.assign(np.full((4, 3), 1.0 / 3.0))
        got = np.asarray(model.losses[0])
    finally:
        jax.config.update("jax_enable_x64", before)
    dtype = np.float64 if x64_on else np.float32
    exact = 0.1 * 12 * (1.0 / 3.0) ** 2 / 2  # 0.0666...: 12 weights of 1/3
    off = abs(float(got) - exact) / exact
    assert got.dtype == dtype
    assert off <= 4 * np.finfo(dtype).eps, (got, exact)
    if not x64_on:  # float32's rounding, not float64's
        assert off > 1e3 * np.finfo(np.float64).eps, (got, exact)
