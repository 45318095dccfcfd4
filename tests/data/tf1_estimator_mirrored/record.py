"""Record what a real TF 1.15 Estimator under MirroredStrategy learns with a
contrib penalty, against the same Estimator on one device.

Run by the tf1 environment (real TF 1.15, ``tf.estimator``, ``tf.contrib``):

    .tox/tf1/bin/python tests/data/tf1_estimator_mirrored/record.py

It writes ``reference.json`` next to itself (``--out PATH`` writes there
instead). The model is the harness's workload MLP (``CONFIG``;
``tf1_graph.mlp_builder``), its kernels penalised by
``tf.contrib.layers.l2_regularizer``, its data loss the mean softmax
cross-entropy, trained by ``tf.estimator.Estimator.train`` with
``GradientDescentOptimizer`` for ``STEPS`` steps from ``models.numpy_init``'s
weights (a step-0 checkpoint written into ``model_dir`` before training, so
the Estimator starts from it). Each case (``CASES``) sets:

- ``strategy``: ``mirrored`` (``RunConfig(train_distribute=
  MirroredStrategy(DEVICES))``, 2 logical CPUs from the session config's
  ``device_count``) or ``one_device`` (no ``train_distribute``);
- ``penalty``: ``collection`` (``get_variable(regularizer=)`` in the model,
  ``tf.losses.get_regularization_loss()`` in ``model_fn``) or ``explicit``
  (``reg(kernel)`` of each kernel, summed, in ``model_fn``);
- ``data_loss``: ``mean``, the cross-entropy plus the penalty;
  ``times_zero``, ``0.0 * cross-entropy`` plus the penalty (the penalty's
  step alone); ``none``, the penalty alone (under the strategy TF 1.15
  raises: replica 1's loss does not depend on replica 1's variables, the
  recorded ``raises``);
- ``scale``: the contrib scale.

The input_fn's batch is ``config["batch"] // len(DEVICES)`` under the
strategy (TF 1.15's Estimator hands each replica a whole batch of the
input_fn) and ``config["batch"]`` on one device, so a step sees the same
examples either way. Recorded per case: the weights in the checkpoint of
every step (``weights[k]``: after k steps; ``weights[0]`` is what training
started from), per step and replica the example indices, data loss and
penalty the replica computed, and the loss the Estimator reported (its
``loss`` summary). One intra- and one inter-op thread: the run is
deterministic. ``tests/test_estimator_mirrored.py`` reads the file and
reruns this script in the tf1 environment.
"""

from __future__ import absolute_import, division, print_function

import argparse
import collections
import glob
import json
import os
import shutil
import sys
import tempfile

import numpy as np
import tensorflow as tf

from compat_reg import golden_files, optimizers
from compat_reg.parity import determinism, evaluation, models, tf1_graph

v1 = tf.compat.v1

FORMAT = "compat_reg-tf1-estimator-mirrored-1"
DEVICES = ["/cpu:0", "/cpu:1"]
# a workload config (compat_reg.parity.workloads): the TF2 ports train it
CONFIG = collections.OrderedDict([
    ("sizes", [6, 5, 3]), ("activation", "tanh"), ("optimizer", "sgd"),
    ("lr", 0.1), ("reg", ["l2", 0.5]), ("bias_reg", False), ("batch", 8),
    ("epochs", 1)])
STEPS = 3
EXAMPLES = 16
DATA_SEED = 0
INIT_SEED = 1
# name -> (strategy, penalty, data loss, scale as a fraction of CONFIG's)
CASES = collections.OrderedDict([
    ("mirrored__collection", ("mirrored", "collection", "mean", 1.0)),
    ("mirrored__explicit", ("mirrored", "explicit", "mean", 1.0)),
    ("mirrored__collection__zero_data_loss",
     ("mirrored", "collection", "times_zero", 1.0)),
    ("mirrored__explicit__zero_data_loss",
     ("mirrored", "explicit", "times_zero", 1.0)),
    ("mirrored__collection__penalty_alone",
     ("mirrored", "collection", "none", 1.0)),
    ("one_device", ("one_device", "collection", "mean", 1.0)),
    ("one_device__half_scale", ("one_device", "collection", "mean", 0.5)),
    ("one_device__zero_data_loss",
     ("one_device", "collection", "times_zero", 1.0)),
    ("one_device__half_scale__zero_data_loss",
     ("one_device", "collection", "times_zero", 0.5)),
])
# the loss per data-loss choice, from the data loss and the penalty
LOSSES = collections.OrderedDict([
    ("mean", lambda data, reg: data + reg),
    ("times_zero", lambda data, reg: 0.0 * data + reg),
    ("none", lambda data, reg: reg),
])
RECORD = "compat_reg_record"   # the graph collection the replicas fill


def data():
    """``(x, y)``: float32 inputs and int64 labels, numpy ``DATA_SEED``."""
    rng = np.random.RandomState(DATA_SEED)
    x = rng.normal(size=(EXAMPLES, CONFIG["sizes"][0])).astype(np.float32)
    y = rng.randint(0, CONFIG["sizes"][-1], size=EXAMPLES).astype(np.int64)
    return x, y


def _names():
    return [name for name, _, _ in golden_files.layer_names(CONFIG)]


def _session_config():
    config = determinism.session_config()   # one intra-, one inter-op thread
    config.device_count["CPU"] = len(DEVICES)
    return config


def _write_start(model_dir, init):
    """A step-0 checkpoint of ``init`` in ``model_dir``: the Estimator
    restores it instead of initialising."""
    with tf.Graph().as_default():
        for name, value in zip(_names(), init):
            v1.get_variable(name, initializer=tf.constant(value))
        v1.train.get_or_create_global_step()
        with v1.Session(config=_session_config()) as session:
            session.run(v1.global_variables_initializer())
            v1.train.Saver().save(session, os.path.join(model_dir, "model.ckpt"),
                                  global_step=0)


def _model_fn(penalty, data_loss, scale):
    regularizer = tf.contrib.layers.l2_regularizer(scale)
    kernels = [n for n in _names() if n.endswith("/kernel")]

    def model_fn(features, labels, mode):
        build = tf1_graph.mlp_builder(
            CONFIG, lambda _: regularizer if penalty == "collection" else None)
        logits = build(features["x"])
        if penalty == "collection":
            reg = v1.losses.get_regularization_loss()
        else:
            variables = dict((tf1_graph.variable_name(v), v)
                             for v in v1.trainable_variables())
            reg = tf.add_n([regularizer(variables[n]) for n in kernels])
        data = evaluation.cross_entropy(labels, logits)
        loss = LOSSES[data_loss](data, reg)
        replica = tf.distribute.get_replica_context()
        v1.add_to_collection(RECORD, (tf.convert_to_tensor(
            replica.replica_id_in_sync_group), features["index"], data, reg))
        train_op = optimizers.tf1(CONFIG).minimize(
            loss, global_step=v1.train.get_global_step())
        return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op)
    return model_fn


class _Recorder(v1.train.SessionRunHook):
    """Per step, what every replica's ``model_fn`` computed."""

    def begin(self):
        self.fetches = v1.get_collection(RECORD)
        self.steps = []

    def before_run(self, run_context):
        return v1.train.SessionRunArgs(self.fetches)

    def after_run(self, run_context, run_values):
        replicas = sorted(run_values.results, key=lambda r: int(r[0]))
        self.steps.append([collections.OrderedDict([
            ("replica", int(r)), ("examples", [int(i) for i in index]),
            ("data_loss", float(d)), ("penalty", float(p))])
            for r, index, d, p in replicas])


def _reported_loss(model_dir):
    """The Estimator's ``loss`` summary: ``[[global step, value], ...]``."""
    found = []
    for path in sorted(glob.glob(os.path.join(model_dir, "events.out.tfevents.*"))):
        for event in v1.train.summary_iterator(path):
            for value in event.summary.value:
                if value.tag == "loss":
                    found.append([int(event.step), float(value.simple_value)])
    return sorted(found)


def _array(value):
    return np.asarray(value).tolist()


def run_case(strategy, penalty, data_loss, fraction, x, y, init):
    scale = CONFIG["reg"][1] * fraction
    replicas = len(DEVICES) if strategy == "mirrored" else 1
    batch = CONFIG["batch"] // replicas
    model_dir = tempfile.mkdtemp(prefix="tf1-estimator-mirrored-")
    try:
        _write_start(model_dir, init)

        def input_fn():
            features = {"x": x, "index": np.arange(EXAMPLES, dtype=np.int64)}
            return tf.data.Dataset.from_tensor_slices((features, y)).repeat(
            ).batch(batch)

        config = tf.estimator.RunConfig(
            model_dir=model_dir, tf_random_seed=0,
            session_config=_session_config(), save_checkpoints_steps=1,
            save_checkpoints_secs=None, keep_checkpoint_max=STEPS + 1,
            save_summary_steps=1,
            train_distribute=(tf.distribute.MirroredStrategy(DEVICES)
                              if strategy == "mirrored" else None))
        estimator = tf.estimator.Estimator(
            _model_fn(penalty, data_loss, scale), config=config)
        recorder = _Recorder()
        case = collections.OrderedDict([
            ("strategy", strategy), ("replicas", replicas),
            ("penalty", penalty), ("data_loss", data_loss),
            ("scale", scale), ("input_fn_batch", batch)])
        try:
            estimator.train(input_fn, steps=STEPS, hooks=[recorder])
        except ValueError as error:
            case["raises"] = collections.OrderedDict([
                ("type", type(error).__name__),
                ("message", str(error).split(", between variables")[0])])
            return case
        weights = []
        for step in range(STEPS + 1):
            path = os.path.join(model_dir, "model.ckpt-%d" % step)
            weights.append(collections.OrderedDict(
                (n, _array(v1.train.load_variable(path, n))) for n in _names()))
        case["weights"] = weights
        case["replica_steps"] = recorder.steps
        case["reported_loss"] = _reported_loss(model_dir)
        return case
    finally:
        shutil.rmtree(model_dir, ignore_errors=True)


def record():
    x, y = data()
    init = models.numpy_init(CONFIG, INIT_SEED)
    cases = collections.OrderedDict()
    for name, (strategy, penalty, data_loss, fraction) in CASES.items():
        cases[name] = run_case(strategy, penalty, data_loss, fraction, x, y, init)
    return collections.OrderedDict([
        ("format", FORMAT),
        ("env", collections.OrderedDict([
            ("tensorflow", tf.__version__),
            ("numpy", np.__version__), ("python", sys.version.split()[0])])),
        ("recipe", collections.OrderedDict([
            ("script", "tests/data/tf1_estimator_mirrored/record.py"),
            ("config", CONFIG), ("steps", STEPS), ("devices", DEVICES),
            ("data_seed", DATA_SEED), ("init_seed", INIT_SEED),
            ("regularizer", "tf.contrib.layers.l2_regularizer(scale) on kernels"),
            ("data_loss", "mean sparse softmax cross-entropy"),
            ("optimizer", "tf.compat.v1.train.GradientDescentOptimizer(lr)"),
            ("session_config", "device_count CPU=%d, intra_op=1, inter_op=1"
             % len(DEVICES))])),
        ("data", collections.OrderedDict([("x", _array(x)), ("y", _array(y))])),
        ("initial", collections.OrderedDict(
            (n, _array(v)) for n, v in zip(_names(), init))),
        ("cases", cases)])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "reference.json"),
        help="where to write the JSON (default: reference.json next to this)")
    args = parser.parse_args(argv)
    if not hasattr(tf, "contrib") or not hasattr(tf, "estimator"):
        sys.exit("record.py needs TF 1.x with tf.contrib and tf.estimator "
                 "(the tf1 env)")
    v1.logging.set_verbosity(v1.logging.ERROR)
    result = record()
    with open(args.out, "w") as out:
        json.dump(result, out, indent=1)
        out.write("\n")
    print("wrote", args.out)


if __name__ == "__main__":
    main()
