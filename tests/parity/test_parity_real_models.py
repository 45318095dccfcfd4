"""Real models (issue 17): batch norm, dropout, learning-rate schedules,
decoupled weight decay, against the same model in TF1 graph code."""

import numpy as np
import pytest

from compat_reg.parity import backends, measure, models, registry, workloads
from parity_helpers import require

TF2_BACKENDS = ("tf2-keras", "tf2-fit")


def test_dropout_masks_are_tf1s_scaled_keep_masks():
    work = workloads.builtin("convnet_bn")
    config = work.config
    masks = models.dropout_masks(config, work.batch_order)
    steps, batch = work.batch_order.shape[1:]
    units = 8 * 8 * config["filters"]
    assert masks.shape == (config["epochs"], steps, batch, units)
    keep = 1.0 - config["dropout"]
    # tf.nn.dropout and Keras' Dropout scale what they keep by 1 / (1 - rate)
    assert set(np.unique(masks).tolist()) == {0.0, np.float32(1.0 / keep)}
    fraction = float(np.mean(masks > 0))
    assert abs(fraction - keep) < 0.01      # ~180k draws: 4 sigma is 0.004
    again = models.dropout_masks(config, work.batch_order)
    assert np.array_equal(masks, again)     # seeded: the same on both sides


@pytest.mark.parametrize("backend", TF2_BACKENDS)
def test_convnet_with_batch_norm_and_dropout_matches_tf1(runs, backend):
    require(backend)
    reference = runs.get("convnet_bn", "tf1-graph")
    result = measure.measure(runs.get("convnet_bn", backend), reference)
    assert result.ok, result.message()
    # the moving statistics were trained on both sides (UPDATE_OPS in TF1)
    start = reference.port["initial_weights"]
    from compat_reg.parity.trace import sha256
    for name in ("conv1/BatchNorm/moving_mean", "conv1/BatchNorm/moving_variance"):
        assert sha256(reference.final_weights[name]) != start[name]


def test_moving_variance_is_averaged_as_this_keras_does(runs):
    """TF1's fused batch norm averages the batch variance with Bessel's
    correction; Keras 3 averages the biased one. With n = batch x height x
    width values per channel, each step's contribution differs by
    (n - 1) / n; after T steps at decay d the initial 1.0 weighs d**T, so
    the final ratio is (n - 1) / n up to d**T / n."""
    require("tf2-keras")
    from compat_reg import _compat
    reference = runs.get("convnet_bn", "tf1-graph")
    port = runs.get("convnet_bn", "tf2-keras")
    name = "conv1/BatchNorm/moving_variance"
    ratio = np.asarray(port.final_weights[name], np.float64) / np.asarray(
        reference.final_weights[name], np.float64)
    config = reference.workload["config"]
    n = config["batch"] * config["image"][0] * config["image"][1]
    steps = len(reference.curves["total_loss"])
    expected = (n - 1.0) / n if _compat.BATCH_NORM_MOVING_VARIANCE == "biased" else 1.0
    # d**T / n, plus float32 drift of the training itself (curves within 1e-6)
    bound = config["batch_norm"]["decay"] ** steps / n + 1e-5
    np.testing.assert_allclose(ratio, expected, rtol=0, atol=bound)
    assert abs((n - 1.0) / n - 1.0) > 10 * bound   # the two cases are told apart


@pytest.mark.parametrize("backend", TF2_BACKENDS)
def test_batch_norm_in_inference_mode_is_named(runs, backend):
    require(backend)
    work = workloads.builtin("convnet_bn").truncated(1)
    result = measure.measure(
        backends.run(work, backend, port=registry.port("bn-inference")),
        runs.get("convnet_bn", "tf1-graph", epochs=1))
    assert not result.ok
    assert any("moving statistics never updated" in f for f in result.failures)
    assert "training=True" in result.message()
    assert "inference mode" in result.message()


def test_checkpoint_written_by_tf1_is_the_start(runs):
    """convnet_from_checkpoint starts from tf1_checkpoints/convnet_bn, written
    by TF 1.15; the Keras side gets it through compat_reg.checkpoints."""
    import tensorflow as tf
    from compat_reg.parity.trace import sha256
    work = workloads.builtin("convnet_from_checkpoint")
    reader = tf.train.load_checkpoint(models.checkpoint_path("convnet_bn"))
    reference = runs.get("convnet_from_checkpoint", "tf1-graph")
    for name, digest in reference.port["initial_weights"].items():
        assert digest == sha256(reader.get_tensor(name)), name
    # it is a trained model, not an initialisation: statistics moved
    assert reader.get_tensor("global_step") == work.batch_order.shape[1]
    assert not np.allclose(reader.get_tensor("conv1/BatchNorm/moving_variance"), 1.0)


@pytest.mark.parametrize("backend", TF2_BACKENDS)
def test_fine_tuning_from_a_tf1_checkpoint_matches(runs, backend):
    require(backend)
    result = measure.measure(runs.get("convnet_from_checkpoint", backend),
                             runs.get("convnet_from_checkpoint", "tf1-graph"))
    assert result.ok, result.message()
    assert result.candidate.port["initial_weights"] == \
        result.reference.port["initial_weights"]


def test_a_swapped_checkpoint_name_is_named(runs):
    require("tf2-keras")
    work = workloads.builtin("convnet_from_checkpoint")
    result = measure.measure(
        backends.run(work, "tf2-keras", port=registry.port("checkpoint-swapped")),
        runs.get("convnet_from_checkpoint", "tf1-graph"))
    assert not result.ok
    message = result.message()
    assert ("conv1/BatchNorm/beta holds the reference's conv1/BatchNorm/gamma"
            in message)
    assert "name mapping is wrong" in message


@pytest.mark.parametrize("workload", ("adam_exp_decay", "adamw"))
@pytest.mark.parametrize("backend", TF2_BACKENDS)
def test_schedule_and_decoupled_decay_match_tf1(runs, workload, backend):
    """TF1's exponential_decay on global_step, contrib's AdamWOptimizer:
    compat_reg.optimizers reproduces both."""
    require(backend)
    result = measure.measure(runs.get(workload, backend, epochs=2),
                             runs.get(workload, "tf1-graph", epochs=2))
    assert result.ok, result.message()
    hparams = result.candidate.port["optimizer"]
    reference = result.reference.port["optimizer"]
    if workload == "adamw":
        assert hparams["weight_decay"] == pytest.approx(reference["weight_decay"])
        assert hparams["decay_biases"] is False
    else:
        assert hparams["schedule"] == reference["schedule"]


def _wrong(workload, backend, port, epochs, runs):
    require(backend)
    from compat_reg import _compat
    if port.startswith("wd-") and not _compat.KERAS_WEIGHT_DECAY:
        pytest.skip("this Keras has no weight_decay (Keras < 2.11)")
    work = workloads.builtin(workload).truncated(epochs)
    return measure.measure(backends.run(work, backend, port=registry.port(port)),
                           runs.get(workload, "tf1-graph", epochs=epochs))


def test_keras_momentum_under_a_schedule_is_named(runs):
    result = _wrong("convnet_bn", "tf2-keras", "momentum-schedule", None, runs)
    assert not result.ok
    boundary = result.reference.workload["config"]["schedule"]["boundaries"][0]
    # the same until the rate drops (after step `boundary`), off after it
    assert result.first_bad > boundary
    assert "folds the learning rate into its momentum accumulator" in result.message()
    assert "compat_reg.optimizers" in result.message()


def test_weight_decay_without_the_lr_mapping_is_named(runs):
    result = _wrong("adamw", "tf2-keras", "wd-no-lr", 1, runs)
    assert not result.ok
    reference = result.reference.port["optimizer"]
    # Keras' decay per step is lr * weight_decay: lr times too small
    assert result.candidate.port["optimizer"]["weight_decay"] == pytest.approx(
        reference["weight_decay"] * reference["lr"], rel=1e-6)
    assert "weight_decay=0.0001 / lr" in result.message()


def test_weight_decay_on_biases_is_named(runs):
    result = _wrong("adamw", "tf2-fit", "wd-on-biases", 1, runs)
    assert not result.ok
    assert "exclude_from_weight_decay(var_names=['bias'])" in result.message()
