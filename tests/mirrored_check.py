"""Run by test_losses.py in its own process (logical devices must be set
before TensorFlow starts): gradients of a MirroredStrategy step over two
logical CPUs, with the penalty scaled per replica, against one device."""

import numpy as np
import tensorflow as tf

# the experimental names: the only ones in TF 2.0, aliases of the same
# functions since (tf.config.list_physical_devices etc. came in TF 2.1)
experimental = tf.config.experimental
cpu = experimental.list_physical_devices("CPU")[0]
experimental.set_virtual_device_configuration(
    cpu, [experimental.VirtualDeviceConfiguration()] * 2)

import compat_reg  # noqa: E402
from compat_reg import _compat  # noqa: E402

keras = _compat.keras
rng = np.random.RandomState(0)
x = rng.normal(size=(16, 6)).astype(np.float32)
y = rng.randint(0, 3, size=(16,))
init = None


def build():
    global init
    model = keras.Sequential([
        keras.Input((6,)),
        keras.layers.Dense(4, activation="tanh", kernel_regularizer=compat_reg.l2_regularizer(0.3)),
        keras.layers.Dense(3, kernel_regularizer=compat_reg.l1_l2_regularizer(0.05, 0.1)),
    ])
    if init is None:
        init = [rng.normal(size=w.shape).astype(np.float32) for w in model.get_weights()]
    model.set_weights(init)
    return model


def per_example(model, xb, yb):
    return keras.losses.sparse_categorical_crossentropy(yb, model(xb), from_logits=True)


single = build()
with tf.GradientTape() as tape:
    loss = tf.reduce_mean(per_example(single, x, y)) + compat_reg.get_regularization_loss(single)
reference = tape.gradient(loss, single.trainable_variables)

strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
with strategy.scope():
    mirrored = build()
dataset = strategy.experimental_distribute_dataset(
    tf.data.Dataset.from_tensor_slices((x, y)).batch(len(x)))


def grads(per_replica):
    @tf.function
    def run(batch):
        def replica_step(xb, yb):
            with tf.GradientTape() as tape:
                data = tf.nn.compute_average_loss(per_example(mirrored, xb, yb),
                                                  global_batch_size=len(x))
                total = data + compat_reg.get_regularization_loss(mirrored, per_replica=per_replica)
            return tape.gradient(total, mirrored.trainable_variables)
        result = _compat.strategy_run(strategy, replica_step, args=batch)
        return [strategy.reduce(tf.distribute.ReduceOp.SUM, g, axis=None) for g in result]
    return run(next(iter(dataset)))


def max_rel(got):
    """Largest difference relative to each gradient tensor's largest entry
    (elementwise ratios blow up on entries that are nearly zero)."""
    return max(float(np.max(np.abs(g - r)) / np.max(np.abs(r)))
               for g, r in zip(got, reference))


print("replicas=%d" % strategy.num_replicas_in_sync)
print("scaled_max_rel_diff=%g" % max_rel(grads(True)))
print("unscaled_max_rel_diff=%g" % max_rel(grads(False)))
