"""Resuming mid-schedule: the workloads whose config says ``"resume": true``.

Such a workload (``resume_momentum``, ``resume_adam`` in
``registry.WORKLOADS``) starts from its packaged TF1 checkpoint
(``init_checkpoint``, written by real TF 1.15:
``tf1_checkpoints/make_resume_workload.py``) with everything TF1 saved: the
model's variables, the optimizer's slots (Adam's beta powers too) and
``global_step``, which its ``piecewise_constant`` schedule reads. The
``tf1-graph`` backend restores them all with ``tf.train.Saver`` (exact: on
TF 1.15 that is the uninterrupted run, bit for bit, which the script that
wrote the checkpoint checks); the Keras backends load them with
``compat_reg.checkpoints.load_tf1_checkpoint(..., optimizer=...)`` into
compat_reg's exact optimizers, as a team resuming its run on TF2 does.
"""

from __future__ import absolute_import, division, print_function

import tensorflow as tf

from compat_reg import _compat, checkpoints
from compat_reg.parity import models


def checkpoint(config):
    """The TF1 checkpoint prefix a workload ``config`` resumes from (its
    ``init_checkpoint``), or None if it does not resume."""
    value = config.get("resume", False)
    if not isinstance(value, bool):
        raise ValueError("config.resume is %r, expected true or false" % (
            value,))
    if not value:
        return None
    if not config.get("init_checkpoint"):
        raise ValueError("config.resume needs config.init_checkpoint, the TF1 "
                         "checkpoint it resumes from")
    return models.checkpoint_path(config["init_checkpoint"])


def restore_optimizer(workload, keras_port, optimizer):
    """Set ``optimizer``'s state (slots, beta powers, step count) from the
    checkpoint ``workload`` resumes from; the model keeps the weights its
    port gave it (``ports.Port.initial``). Returns the
    ``checkpoints.LoadReport``, or None for a workload that does not
    resume."""
    path = checkpoint(workload.config)
    if path is None:
        return None
    model = keras_port.model
    weights = model.get_weights()
    report = checkpoints.load_tf1_checkpoint(
        model, path, scopes=models.CHECKPOINT_SCOPES, optimizer=optimizer)
    model.set_weights(weights)
    return report



def carry_step(model, optimizer, before_step=None):
    """``before_step`` (``(epoch, step) -> None``, or None) for training
    ``model``, that first starts the step count of Keras' ``TFOptimizer`` at
    ``optimizer``'s own (what a resumed run restored): Keras before its
    optimizer API (TF 2.0 - 2.10) compiles a TF1-class optimizer into that
    wrapper, whose own count, from 0, is the step its schedule reads (and
    refuses a wrapper made beforehand under eager execution). Unchanged
    where ``optimizer`` keeps no step of its own (a Keras optimizer, or TF1's
    not yet applied)."""
    if _compat.TF1 or not isinstance(optimizer, tf.compat.v1.train.Optimizer):
        return before_step
    own = [v for v in optimizer.variables()
           if v.name.split(":")[0].split("/")[-1] == "schedule_step"]
    if not own:
        return before_step

    def start(epoch, step):
        compiled = getattr(model, "optimizer", None)
        if epoch == step == 0 and compiled is not None and (
                compiled is not optimizer):
            compiled.iterations.assign(own[0].read_value())
        if before_step is not None:
            before_step(epoch, step)
    return start
