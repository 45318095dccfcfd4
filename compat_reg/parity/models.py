"""The models a workload names, written twice: TF1 graph code and its Keras port.

``config["model"]`` picks one (absent: ``"mlp"``):

* ``mlp``: the golden recipe's ``Dense`` stack (``tf1_graph.mlp_builder``,
  ``tf2_keras.mlp_model``), weights ``dense_<i>/kernel|bias``.
* ``convnet``: what a TF1 team's small image model looks like, in slim's
  names: ``conv1`` (3x3 ``SAME`` convolution, no bias) -> ``conv1/BatchNorm``
  (TF1's fused batch norm: batch statistics in training, moving averages
  updated through ``UPDATE_OPS``; moving statistics in inference) -> ReLU ->
  flatten -> dropout -> ``logits`` (dense). Keras: ``Conv2D(use_bias=False)``,
  ``BatchNormalization(momentum=decay)``, ``Dense``.

Dropout is deterministic on both sides: the keep masks are drawn with numpy
from ``dropout_seed`` (one per step, scaled by ``1 / (1 - rate)`` as
``tf.nn.dropout`` and Keras' ``Dropout`` scale) and fed to the TF1 graph and
to the Keras model alike. ``tf.nn.dropout`` and Keras' ``Dropout`` draw from
different random streams (TF1's graph/op seeds vs Keras' seed generator), so
no seed makes them drop the same units: the harness proves everything else
of the model with the same masks. In inference (evaluation) no unit is
dropped on either side.

Trace names are the TF1 graph's variable names; ``keras_weights`` maps them
to the Keras model's weights, moving statistics included.
"""

from __future__ import absolute_import, division, print_function

import collections
import os

import numpy as np

from compat_reg import golden_files

MODELS = ("mlp", "convnet")

# slim's names for the convnet's variables, in the order TF1 creates them
CONVNET_NAMES = ("conv1/weights", "conv1/BatchNorm/beta", "conv1/BatchNorm/gamma",
                 "conv1/BatchNorm/moving_mean", "conv1/BatchNorm/moving_variance",
                 "logits/weights", "logits/biases")
MOVING = ("moving_mean", "moving_variance")
# the convnet's TF1 scopes that are not the Keras layer of the same name
# (slim's normalizer_fn scope; Keras layer names cannot hold "/")
CHECKPOINT_SCOPES = {"conv1/BatchNorm": "conv1_bn"}


def checkpoint_path(name):
    """The prefix of a packaged TF1 checkpoint (``tf1_checkpoints/<name>``)."""
    return os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        "tf1_checkpoints", name, "model.ckpt")


def kind(config):
    """The model a workload config names (``mlp`` when it names none)."""
    name = config.get("model", "mlp")
    if name not in MODELS:
        raise ValueError("unknown model %r; known: %s" % (name, ", ".join(MODELS)))
    return name


def variable_names(config):
    """The canonical (TF1) names of every model variable, in creation order."""
    if kind(config) == "mlp":
        return [name for name, _, _ in golden_files.layer_names(config)]
    return list(CONVNET_NAMES)


def _convnet_dims(config):
    height, width, channels = config["image"]
    filters, size = config["filters"], config["kernel_size"]
    return height, width, channels, filters, size, height * width * filters


def numpy_init(config, seed):
    """Initial arrays for a model without a golden init: Glorot-uniform
    kernels (numpy ``RandomState(seed)``), zero biases, batch norm's
    ``beta=0, gamma=1, moving_mean=0, moving_variance=1``."""
    rng = np.random.RandomState(seed)

    def glorot(shape, fan_in, fan_out):
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-limit, limit, size=shape).astype(np.float32)

    if kind(config) == "mlp":
        sizes = config["sizes"]
        out = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            out += [glorot((a, b), a, b), np.zeros(b, np.float32)]
        return out
    _, _, channels, filters, size, units = _convnet_dims(config)
    classes = config["classes"]
    return [glorot((size, size, channels, filters), size * size * channels,
                   size * size * filters),
            np.zeros(filters, np.float32), np.ones(filters, np.float32),
            np.zeros(filters, np.float32), np.ones(filters, np.float32),
            glorot((units, classes), units, classes),
            np.zeros(classes, np.float32)]


def dropout_masks(config, batch_order):
    """``(epochs, steps, batch, units)`` float32 keep masks, or None.

    Each entry is ``0`` or ``1 / (1 - rate)``, drawn with numpy from
    ``config["dropout_seed"]``.
    """
    rate = config.get("dropout") or 0.0
    if kind(config) != "convnet" or not rate:
        return None
    if not 0.0 < rate < 1.0:
        raise ValueError("dropout must be in [0, 1), not %r" % (rate,))
    units = _convnet_dims(config)[-1]
    shape = tuple(np.asarray(batch_order).shape) + (units,)
    rng = np.random.RandomState(config["dropout_seed"])
    keep = rng.uniform(size=shape) >= rate
    return (keep / np.float32(1.0 - rate)).astype(np.float32)


# -- TF1 ---------------------------------------------------------------------
def tf1_builder(config, regularizer, batch_norm=None):
    """``build(x, training, mask=None) -> logits`` in TF1 graph code.

    Variables come from ``get_variable(..., regularizer=regularizer(reg))``;
    in training the batch norm's moving-average updates go to ``UPDATE_OPS``
    (as slim's and ``tf.layers``' did); ``mask`` (a tensor) is the dropout
    keep mask. Call it once with ``training=True`` and once, under a reusing
    variable scope, with ``training=False`` for evaluation. ``batch_norm``:
    ``(net, training) -> net`` in place of the graph's own batch norm, in the
    ``conv1`` scope (``tf.layers.batch_normalization(name="BatchNorm")``,
    whose moving statistics are replica-local under a strategy).
    """
    if kind(config) == "mlp":
        from compat_reg.parity import tf1_graph  # deferred: a worker imports it before TF setup
        mlp = tf1_graph.mlp_builder(config, regularizer)
        return lambda x, training=True, mask=None: mlp(x)
    import tensorflow as tf  # deferred: a worker imports it before TF setup
    from compat_reg import _compat  # deferred: a worker imports it before TF setup
    v1 = _compat.v1
    height, width, channels, filters, size, units = _convnet_dims(config)
    norm = config["batch_norm"]
    zeros, ones = v1.zeros_initializer(), v1.ones_initializer()

    def penalty(key):
        return regularizer(config["reg"]) if key else None

    def graph_batch_norm(net, training):
        with v1.variable_scope("BatchNorm"):
            beta = v1.get_variable("beta", [filters], initializer=zeros)
            gamma = v1.get_variable("gamma", [filters], initializer=ones)
            stats = [v1.get_variable(name, [filters], initializer=init,
                                     trainable=False)
                     for name, init in zip(MOVING, (zeros, ones))]
        if not training:
            return v1.nn.fused_batch_norm(
                net, gamma, beta, mean=stats[0], variance=stats[1],
                epsilon=norm["epsilon"], is_training=False)[0]
        # slim / tf.layers with fused=True: the moving variance averages the
        # batch variance with Bessel's correction
        net, mean, variance = v1.nn.fused_batch_norm(
            net, gamma, beta, epsilon=norm["epsilon"], is_training=True)
        for moving, value in zip(stats, (mean, variance)):
            # moving_averages.assign_moving_average(zero_debias=False)
            v1.add_to_collection(v1.GraphKeys.UPDATE_OPS, v1.assign_sub(
                moving, (moving - value) * (1.0 - norm["decay"])))
        return net

    batch_norm = batch_norm or graph_batch_norm

    def build(x, training=True, mask=None):
        net = tf.reshape(x, [-1, height, width, channels])
        with v1.variable_scope("conv1"):
            kernel = v1.get_variable("weights", [size, size, channels, filters],
                                     initializer=zeros, regularizer=penalty(True))
            net = tf.nn.conv2d(net, kernel, [1, 1, 1, 1], "SAME")
            net = batch_norm(net, training)
            net = tf.nn.relu(net)
        net = tf.reshape(net, [-1, units])
        if training and mask is not None:
            net = net * mask
        with v1.variable_scope("logits"):
            kernel = v1.get_variable("weights", [units, config["classes"]],
                                     initializer=zeros, regularizer=penalty(True))
            bias = v1.get_variable("biases", [config["classes"]],
                                   initializer=zeros,
                                   regularizer=penalty(config.get("bias_reg")))
        return tf.nn.bias_add(tf.matmul(net, kernel), bias)
    return build


# -- Keras -------------------------------------------------------------------
class KerasPort(object):
    """A Keras model of a workload and what the harness needs around it.

    Attributes:
      model: the Keras model (logits out).
      weights: ``OrderedDict`` canonical name -> Keras weight (every weight,
        moving statistics included).
      set_mask: ``(mask array) -> None`` before a training step, or None.
      batch_norm: the ``BatchNormalization`` layer, or None.
    """

    def __init__(self, model, weights, set_mask=None, batch_norm=None):
        self.model = model
        self.weights = weights
        self.set_mask = set_mask
        self.batch_norm = batch_norm


def _fed_dropout(keras, holder):
    import tensorflow as tf  # deferred: a worker imports it before TF setup

    class FedDropout(keras.layers.Layer):
        """Multiplies by the harness's keep mask in training only; the mask
        holds the global batch's rows, and replica ``r`` of a strategy with
        batches of ``n`` rows takes rows ``[r*n, (r+1)*n)`` of it (the rows
        of the global batch it trains on)."""

        def call(self, inputs, training=None):
            mask = holder.value()
            replica = tf.distribute.get_replica_context()
            if replica is not None and replica.num_replicas_in_sync > 1:
                rows = tf.shape(inputs)[0]
                start = replica.replica_id_in_sync_group * rows
                mask = mask[start:start + rows]
            if training is None or isinstance(training, bool):
                return inputs * mask if training else inputs
            return tf.where(tf.cast(training, tf.bool), inputs * mask, inputs)

    return FedDropout(name="dropout")


def _batch_norm(keras, norm):
    from compat_reg import _compat  # deferred: a worker imports it before TF setup
    class ReplicaMeanBatchNorm(keras.layers.BatchNormalization):
        """Keras' batch norm whose moving statistics, under a strategy,
        hold the mean of what the replicas average in (aggregation
        ``mean``), as TF1 saved them: each replica normalises its own rows,
        and TF1's Saver wrote the mean of the replicas' own copies
        (``tf1_checkpoints/make_convnet_replicas.py``). tf_keras asks for
        that itself (replica-local copies read as their mean); Keras 3
        creates them with no aggregation (each replica keeps its own copy,
        replica 0's is read)."""

        def add_weight(self, *args, **kwargs):
            if (kwargs.get("trainable") is False
                    and _compat.LAYER_WEIGHT_AGGREGATION):
                kwargs.setdefault("aggregation", "mean")
            return super(ReplicaMeanBatchNorm, self).add_weight(
                *args, **kwargs)

    return ReplicaMeanBatchNorm(momentum=norm["decay"],
                                epsilon=norm["epsilon"], name="conv1_bn")


def keras_port(config, regularizer, seed=0):
    """The Keras port of ``config``'s model (weights not yet copied in)."""
    from compat_reg import _compat  # deferred: a worker imports it before TF setup
    from compat_reg.parity import tf2_keras  # deferred: a worker imports it before TF setup
    if kind(config) == "mlp":
        model = tf2_keras.mlp_model(config, regularizer, None, seed)
        return KerasPort(model, collections.OrderedDict(
            zip(variable_names(config), model.trainable_weights)))
    import tensorflow as tf  # deferred: a worker imports it before TF setup
    keras = _compat.keras
    height, width, channels, filters, size, units = _convnet_dims(config)
    layers = [keras.Input(shape=(height * width * channels,)),
              keras.layers.Reshape((height, width, channels))]
    # seeded: TF 2.7-2.8 refuse unseeded random ops under op determinism
    # (the CLI's); the values are replaced by the workload's anyway
    glorot = keras.initializers.GlorotUniform
    conv = keras.layers.Conv2D(
        filters, size, padding="same", use_bias=False, name="conv1",
        kernel_initializer=glorot(seed=seed),
        kernel_regularizer=regularizer(config["reg"]))
    batch_norm = _batch_norm(keras, config["batch_norm"])
    dense = keras.layers.Dense(
        config["classes"], name="logits", kernel_initializer=glorot(seed=seed + 1),
        kernel_regularizer=regularizer(config["reg"]),
        bias_regularizer=(regularizer(config["reg"])
                          if config.get("bias_reg") else None))
    layers += [conv, batch_norm, keras.layers.ReLU(), keras.layers.Flatten()]
    set_mask = None
    if config.get("dropout"):
        holder = tf.Variable(np.ones((config["batch"], units), np.float32),
                             trainable=False, name="dropout_mask")
        layers.append(_fed_dropout(keras, holder))
        set_mask = holder.assign
    layers.append(dense)
    model = keras.Sequential(layers)
    weights = collections.OrderedDict(zip(CONVNET_NAMES, [
        conv.kernel, batch_norm.beta, batch_norm.gamma, batch_norm.moving_mean,
        batch_norm.moving_variance, dense.kernel, dense.bias]))
    return KerasPort(model, weights, set_mask, batch_norm)
