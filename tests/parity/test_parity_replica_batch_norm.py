"""TF1's batch norm under a strategy, as TF 1.15 recorded it
(compat_reg/parity/tf1_checkpoints/make_convnet_replicas.py), checked
against numpy: each replica normalised its own half of the global batch, and
the moving statistics TF1 saved are the mean of the replicas' own copies.
The workloads that resume (resume_momentum, resume_adam) started there from
their one-device TF 1.15 checkpoint, optimizer state included. Needs no
strategy (runs on every env); the ports under one are proved in
test_parity_distributed.py."""

import numpy as np
import pytest

from compat_reg.parity import distributed, models, registry, tolerances, trace, workloads
from compat_reg.parity.tf1_checkpoints import make_convnet_replicas

NAMES = make_convnet_replicas.WORKLOADS


def _reference(name):
    return trace.load(make_convnet_replicas.path(name))


def _step0_data_loss(work, groups):
    """The conv net's first training step's mean data loss in float64 numpy,
    batch norm normalising each of ``groups`` equal parts of the batch on
    its own statistics (1: the whole batch, as one device does)."""
    config = work.config
    height, width, channels = config["image"]
    weights = dict(zip(work.variable_names(), work.init))
    rows = work.batch_order[0, 0]
    x = work.data.x_train[rows].astype(np.float64).reshape(
        -1, height, width, channels)
    y = work.data.y_train[rows]
    masks = models.dropout_masks(config, work.batch_order)
    units = height * width * config["filters"]
    mask = (np.ones((len(rows), units)) if masks is None  # no dropout
            else masks[0, 0])
    kernel = weights["conv1/weights"].astype(np.float64)
    size = kernel.shape[0]
    pad = size // 2                                        # SAME
    padded = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)), "constant")
    conv = sum(np.einsum("bhwc,cf->bhwf",
                         padded[:, i:i + height, j:j + width, :], kernel[i, j])
               for i in range(size) for j in range(size))
    losses = []
    for part, part_mask, labels in zip(np.split(conv, groups),
                                       np.split(mask, groups),
                                       np.split(y, groups)):
        mean = part.mean(axis=(0, 1, 2))
        variance = part.var(axis=(0, 1, 2))                # biased, as TF
        normed = (part - mean) / np.sqrt(
            variance + config["batch_norm"]["epsilon"])
        normed = normed * weights["conv1/BatchNorm/gamma"] + weights[
            "conv1/BatchNorm/beta"]
        hidden = np.maximum(normed, 0).reshape(len(part), -1) * part_mask
        logits = hidden @ weights["logits/weights"] + weights["logits/biases"]
        logits -= logits.max(axis=1, keepdims=True)
        log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        losses.append(-log_p[np.arange(len(labels)), labels].mean())
    return float(np.mean(losses))


@pytest.mark.parametrize("name", NAMES)
def test_each_replica_normalised_its_own_half(name):
    work = workloads.builtin(name)
    recorded = _reference(name)
    replicas = recorded.env["replicas"]
    assert replicas == 2 and recorded.env["tensorflow"].startswith("1.")
    got = recorded.curves["data_loss"][0]
    per_replica = _step0_data_loss(work, replicas)
    whole = _step0_data_loss(work, 1)
    assert abs(got - per_replica) / per_replica <= tolerances.DATA_STEP0
    # and that is not what one device computes on the same batch
    assert abs(got - whole) / whole > 10 * tolerances.DATA_STEP0


@pytest.mark.parametrize("name", NAMES)
def test_tf1_saved_the_mean_of_the_replicas_statistics(name):
    recorded = _reference(name)
    copies = recorded.env["replica_statistics"]
    assert sorted(n.rsplit("/", 1)[-1] for n in copies) == sorted(models.MOVING)
    for statistic, values in copies.items():
        values = np.asarray(values, np.float32)
        # each replica averaged its own batch statistics into its own copy
        assert np.max(np.abs(values[0] - values[1])) > 1e-3
        mean = (values[0] + values[1]) / np.float32(2)
        np.testing.assert_allclose(recorded.final_weights[statistic], mean,
                                   rtol=0, atol=1e-7)
    # the penalty's gradients reached the two penalised kernels through
    # replica 0's tower only (REGULARIZATION_LOSSES holds its tensors): the
    # penalty added whole in each replica is applied once
    assert recorded.env["penalty_gradients_per_replica"] == [2, 0]


@pytest.mark.parametrize("name", NAMES)
def test_the_recorded_reference_is_the_workloads(name):
    """Its config, initial weights and batch order are the built-in
    workload's (a re-recorded or edited workload needs a new recording)."""
    work = workloads.builtin(name)
    recorded = distributed.reference(work)
    assert recorded.backend == make_convnet_replicas.BACKEND
    assert recorded.workload["config"] == work.config
    assert recorded.port["initial_weights"] == dict(
        (n, trace.sha256(v)) for n, v in zip(work.variable_names(), work.init))
    assert recorded.port["batch_order"] == [trace.sha256(e)
                                            for e in work.batch_order]
    assert len(recorded.curves["total_loss"]) == work.batch_order.shape[0] * (
        work.batch_order.shape[1])


@pytest.mark.parametrize("name", registry.RESUMING)
def test_a_resumed_reference_restored_every_replicas_state(name):
    """TF1's Saver restored the checkpoint the one-device run resumes from
    into every replica's copy of every variable (model, Momentum slots or
    Adam's m, v and beta powers, global_step), and the replicas stayed in
    sync from there: ``global_step`` went on from the checkpoint's, once
    per step."""
    import tensorflow as tf
    from compat_reg.parity import resume
    work = workloads.builtin(name)
    env = _reference(name).env
    reader = tf.train.load_checkpoint(resume.checkpoint(work.config))
    saved = reader.get_variable_to_shape_map()
    slots = [n for n in saved if n not in work.variable_names()
             and n != "global_step"]
    assert len(slots) >= 5  # the optimizer's state was there to restore
    steps = work.batch_order.shape[0] * work.batch_order.shape[1]
    before = int(reader.get_tensor("global_step"))
    assert env["resumed_at_global_step"] == before
    assert env["ended_at_global_step"] == before + steps
    boundaries = work.config["schedule"]["boundaries"]
    assert boundaries[0] < before < boundaries[-1] < before + steps
    assert env["restored_minus_saved"] == 0.0
    assert env["mirrored_spread"] == 0.0
