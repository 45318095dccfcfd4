"""Write ``resume_<run>/``: a batch-norm MLP trained by real TF 1.15, saved
mid-schedule with ``tf.train.Saver``, restored in a new Session and trained
on; what ``tests/test_checkpoint_resume.py`` resumes in Keras.

Run with real TF 1.15 (the ``tf1`` tox env), from the project root::

    .tox/tf1/bin/python -m compat_reg.parity.tf1_checkpoints.make_resume

The model: ``tf.layers.dense(16, use_bias=False)`` ->
``tf.layers.batch_normalization(momentum=0.9)`` -> relu ->
``tf.layers.dense(3)`` on 8 features, sparse softmax cross entropy, batches
of 16 (``RandomState(0)``). Each run trains
``BEFORE`` steps with ``minimize(loss, global_step=...)`` under
``piecewise_constant(global_step, [20, 40], ...)``, saves, restores into a
fresh Session and trains ``AFTER`` more steps (the rate changes at step 41,
after the save). Runs:

===================  ==================================================
``momentum``         ``tf.train.MomentumOptimizer(lr, 0.9)``
``adam``             ``tf.train.AdamOptimizer(lr)``
``momentumw``        ``tf.contrib.opt.MomentumWOptimizer`` (weight decay
                     1e-3), through ``compat_reg.optimizers.tf1``: contrib's
                     class with its decay ordered after the gradients
``adamw``            ``tf.contrib.opt.AdamWOptimizer`` (weight decay 1e-3),
                     the same way
``momentum_second``  10 steps with a first ``MomentumOptimizer``, then a
                     second one: its slots are ``<var>/Momentum_1``, both
                     optimizers' slots are saved
``adam_named``       ``tf.train.AdamOptimizer(lr, name="MyAdam")``: slots
                     ``<var>/MyAdam``, ``<var>/MyAdam_1``
===================  ==================================================

Each folder: ``model.ckpt.{index,data-00000-of-00001}``, the ``checkpoint``
state file (relative: the folder loads), ``reference.json`` (the spec, step
counts, TF1's per-step data loss before and after the save, the versions)
and ``reference.npz``: ``x``/``y``, the ``AFTER`` batches trained after the
restore, and ``final/<variable>``, every model variable after them.
Nothing runs on import.
"""

from __future__ import absolute_import, division, print_function

import json
import os
import platform

import numpy as np
import tensorflow as tf

from compat_reg import optimizers

HERE = os.path.dirname(os.path.abspath(__file__))
BEFORE, AFTER, BATCH, FEATURES, HIDDEN, CLASSES = 30, 20, 16, 8, 16, 3
SEED = 0
BOUNDARIES = [20, 40]


def _schedule(values):
    return {"kind": "piecewise_constant", "boundaries": BOUNDARIES,
            "values": values}


MOMENTUM = {"optimizer": "momentum", "momentum": 0.9,
            "schedule": _schedule([0.1, 0.05, 0.01])}
ADAM = {"optimizer": "adam", "schedule": _schedule([0.01, 0.005, 0.001])}

# run -> (spec, TF1 name of the optimizer that trains after the save, or
# None for the default, and the steps a first optimizer trains before it)
RUNS = {
    "momentum": (MOMENTUM, None, 0),
    "adam": (ADAM, None, 0),
    "momentumw": (dict(MOMENTUM, optimizer="momentumw", weight_decay=1e-3),
                  None, 0),
    "adamw": (dict(ADAM, optimizer="adamw", weight_decay=1e-3), None, 0),
    "momentum_second": (MOMENTUM, None, 10),
    "adam_named": (ADAM, "MyAdam", 0),
}


def data():
    """``(x, y)``: ``BEFORE + AFTER`` batches, the same for every run."""
    rng = np.random.RandomState(SEED)
    steps = BEFORE + AFTER
    x = rng.normal(size=(steps, BATCH, FEATURES)).astype(np.float32)
    w = rng.normal(size=(FEATURES, CLASSES))
    y = np.argmax(np.einsum("sbf,fc->sbc", x, w)
                  + rng.normal(scale=0.5, size=(steps, BATCH, CLASSES)), -1)
    return x, y.astype(np.int64)


def net(x):
    layers = tf.compat.v1.layers
    # no bias before the batch norm: its gradient is 0 up to rounding, and
    # Adam would blow that rounding up to steps of the learning rate
    h = layers.dense(x, HIDDEN, use_bias=False)                   # dense
    h = layers.batch_normalization(h, momentum=0.9, training=True)
    return layers.dense(tf.nn.relu(h), CLASSES)                   # dense_1


def optimizer(spec, name, step):
    """TF1's optimizer for ``spec`` under its schedule on ``step``."""
    v1 = tf.compat.v1
    kind = spec["optimizer"]
    if kind in ("momentumw", "adamw"):
        return optimizers.tf1(spec, global_step=step)
    schedule = spec["schedule"]
    rate = v1.train.piecewise_constant(step, schedule["boundaries"],
                                       schedule["values"])
    if kind == "momentum":
        return v1.train.MomentumOptimizer(rate, spec["momentum"],
                                          name=name or "Momentum")
    return v1.train.AdamOptimizer(rate, name=name or "Adam")


def write(run):
    v1 = tf.compat.v1
    spec, name, first_steps = RUNS[run]
    out = os.path.join(HERE, "resume_" + run)
    if not os.path.isdir(out):
        os.makedirs(out)
    for old in os.listdir(out):
        os.remove(os.path.join(out, old))
    x_all, y_all = data()
    losses = []
    with tf.Graph().as_default():
        v1.set_random_seed(SEED)
        x = v1.placeholder(tf.float32, (None, FEATURES))
        y = v1.placeholder(tf.int64, (None,))
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=y, logits=net(x)))
        model_variables = v1.global_variables()
        step = v1.train.get_or_create_global_step()
        with tf.control_dependencies(v1.get_collection(v1.GraphKeys.UPDATE_OPS)):
            train = optimizer(spec, None if first_steps else name, step
                              ).minimize(loss, global_step=step)
            first = train
            if first_steps:  # the one trained after the save comes second
                train = optimizer(spec, name, step).minimize(
                    loss, global_step=step)
        saver = v1.train.Saver(save_relative_paths=True)
        init = v1.global_variables_initializer()
        config = v1.ConfigProto(intra_op_parallelism_threads=1,
                                inter_op_parallelism_threads=1)
        with v1.Session(config=config) as session:
            session.run(init)
            for i in range(BEFORE):
                op = first if i < first_steps else train
                losses.append(float(session.run([loss, op], {
                    x: x_all[i], y: y_all[i]})[0]))
            prefix = saver.save(session, os.path.join(out, "model.ckpt"),
                                write_meta_graph=False)
            saved_step = int(session.run(step))
        with v1.Session(config=config) as session:
            saver.restore(session, prefix)
            for i in range(BEFORE, BEFORE + AFTER):
                losses.append(float(session.run([loss, train], {
                    x: x_all[i], y: y_all[i]})[0]))
            final = session.run(model_variables)
    assert saved_step == BEFORE, saved_step
    arrays = {"x": x_all[BEFORE:], "y": y_all[BEFORE:]}
    arrays.update(("final/" + v.op.name, value)
                  for v, value in zip(model_variables, final))
    np.savez(os.path.join(out, "reference.npz"), **arrays)
    reference = {
        "run": run, "spec": spec, "tf1_name": name, "first_optimizer_steps":
        first_steps, "before": BEFORE, "after": AFTER, "global_step": saved_step,
        "losses_before": losses[:BEFORE], "losses_after": losses[BEFORE:],
        "versions": {"tensorflow": tf.__version__, "numpy": np.__version__,
                     "python": platform.python_version()}}
    with open(os.path.join(out, "reference.json"), "w") as stream:
        json.dump(reference, stream, indent=1, sort_keys=True)
        stream.write("\n")
    names = sorted(tf.train.load_checkpoint(prefix).get_variable_to_shape_map())
    print("%s: %d variables saved (%s), %d bytes" % (
        out, len(names), ", ".join(n for n in names if "/" not in n
                                   or n.startswith("dense/kernel")), sum(
            os.path.getsize(os.path.join(out, f)) for f in os.listdir(out))))


def main():
    assert tf.__version__.startswith("1.15"), "run this with TF 1.15"
    for run in sorted(RUNS):
        write(run)


if __name__ == "__main__":
    main()
