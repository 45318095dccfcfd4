"""Write ``<init_checkpoint>/`` of every workload that resumes (``"resume":
true`` in ``registry.WORKLOADS``: ``resume_momentum``, ``resume_adam``):
the checkpoint TF 1.15 saved mid-schedule and the uninterrupted run that the
resumed one must continue.

Run with real TF 1.15 (the ``tf1`` tox env), from the project root::

    .tox/tf1/bin/python -m compat_reg.parity.tf1_checkpoints.make_resume_workload

Each run trains the workload's model with the ``tf1-graph`` backend's graph
(``tf1_graph.train``: ``models.tf1_builder``, cross entropy plus
``REGULARIZATION_LOSSES``, ``compat_reg.optimizers.tf1`` with its
``piecewise_constant`` schedule on ``global_step``, ``UPDATE_OPS``) from the
base workload's initial weights, without interruption: ``BEFORE`` steps on
the first batches of the base's second epoch, then the workload's own
batches (the base's first epoch, what ``workloads.builtin`` gives it).
``BEFORE`` lies strictly between the schedule's first and last boundary, so
the rate changes before the save and after it. A second run of the first
``BEFORE`` steps alone (bit for bit the uninterrupted one's, checked) saves
the ``tf.train.Saver`` checkpoint: model variables, optimizer slots (Adam's
beta powers), ``global_step`` = ``BEFORE``. Then the ``tf1-graph`` backend
runs the workload itself, restoring that checkpoint: on TF 1.15 it must
equal the uninterrupted run's steps after the save bit for bit (checked), so
the harness's reference is TF1's uninterrupted run.

Each folder: ``model.ckpt.{index,data-00000-of-00001}``, ``checkpoint``
(relative paths), ``reference.json`` (workload, ``before``, the per-step
``data_loss``/``reg_loss``/``total_loss`` of the uninterrupted run after the
save, the versions) and ``reference.npz`` (``batch_order``: the workload's
batches; ``final/<variable>``: every model variable at the end).
Nothing runs on import.
"""

from __future__ import absolute_import, division, print_function

import json
import os
import platform

import numpy as np
import tensorflow as tf

from compat_reg.parity import (backends, models, ports, registry, tf1_graph,
                               workloads)

HERE = os.path.dirname(os.path.abspath(__file__))
BEFORE = 30


def write(name):
    entry = registry.WORKLOADS[name]
    base = workloads.builtin(entry.base)
    work = base.with_config(**entry.changes)
    config = work.config
    boundaries = config["schedule"]["boundaries"]
    assert boundaries[0] < BEFORE < boundaries[-1], (BEFORE, boundaries)
    after = base.batch_order[:config["epochs"]]
    order = np.concatenate([base.batch_order[1][:BEFORE]] + list(after))[None]
    out = os.path.join(HERE, config["init_checkpoint"])
    if not os.path.isdir(out):
        os.makedirs(out)
    for old in os.listdir(out):
        os.remove(os.path.join(out, old))
    prefix = os.path.join(out, "model.ckpt")

    def train(batch_order, **kwargs):
        return tf1_graph.train(
            models.tf1_builder(config, ports.compat_regularizer), base.init,
            work.data, batch_order, work.optimizer_spec,
            work.variable_names(), towers=True, **kwargs)

    whole = train(order)
    first = train(order[:, :BEFORE], save=prefix)
    for key, curve in first["curves"].items():
        assert curve == whole["curves"][key][:BEFORE], key
    saved = tf.train.load_checkpoint(prefix).get_tensor("global_step")
    assert int(saved) == BEFORE, saved
    curves = dict((k, v[BEFORE:]) for k, v in whole["curves"].items())
    resumed = backends.run(workloads.builtin(name), "tf1-graph")
    assert resumed.curves == curves, "restored != uninterrupted"
    for key, value in whole["final"].items():
        assert np.array_equal(resumed.final_weights[key], value), key
    arrays = {"batch_order": after}
    arrays.update(("final/" + k, v) for k, v in whole["final"].items())
    np.savez(os.path.join(out, "reference.npz"), **arrays)
    reference = {
        "workload": name, "before": BEFORE, "after": int(after[0].shape[0]),
        "curves": curves, "versions": {
            "tensorflow": tf.__version__, "numpy": np.__version__,
            "python": platform.python_version()}}
    with open(os.path.join(out, "reference.json"), "w") as stream:
        json.dump(reference, stream, indent=1, sort_keys=True)
        stream.write("\n")
    print("%s: %d steps, saved at global_step %d, %d more; %d bytes" % (
        out, order.shape[1], BEFORE, len(curves["total_loss"]), sum(
            os.path.getsize(os.path.join(out, f)) for f in os.listdir(out))))


def main():
    assert tf.__version__.startswith("1.15"), "run this with TF 1.15"
    for name in registry.RESUMING:
        write(name)


if __name__ == "__main__":
    main()
