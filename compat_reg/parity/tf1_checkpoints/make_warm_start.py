"""Write ``warm_start/``: a checkpoint and what real TF 1.15's
``tf.train.init_from_checkpoint`` did with it under each assignment map;
what ``tests/test_checkpoint_resume.py`` holds
``compat_reg.checkpoints.init_from_checkpoint`` to.

Run with real TF 1.15 (the ``tf1`` tox env), from the project root::

    .tox/tf1/bin/python -m compat_reg.parity.tf1_checkpoints.make_warm_start

The checkpoint (``model.ckpt``): ``backbone/{dense, batch_normalization,
dense_1}`` (``tf.layers``, 8 -> 16 -> 16 features) and a 10-class head
``logits``, trained 2 steps with ``MomentumOptimizer`` (so it also holds
slots and ``global_step``). Each case builds one of the ``MODELS`` in a new
graph (random values of another seed), calls ``init_from_checkpoint`` with
its map, runs the initializers and records, per variable, the checkpoint
tensor whose value it got (None: its own initializer), or the error and
whether the call or the initialization raised it. ``reference.json`` holds
the cases; a map value ``{"variable": name}`` is the variable object itself.
Nothing runs on import.
"""

from __future__ import absolute_import, division, print_function

import json
import os
import platform

import numpy as np
import tensorflow as tf

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "warm_start")
FEATURES, HIDDEN = 8, 16

# model -> (scope of the backbone or None, extra backbone layer, head name)
MODELS = {
    "same": ("backbone", False, "logits", 3),
    "renamed": ("encoder", False, "head", 3),
    "bare": (None, False, None, 0),
    "deeper": ("backbone", True, "logits", 3),
    "wrapped": ("outer/backbone", False, None, 0),
}

CASES = [
    ("scope_same", "same", {"backbone/": "backbone/"}),
    ("scope_remap", "renamed", {"backbone/": "encoder/"}),
    ("var_to_var", "renamed", {
        "backbone/dense/kernel": "encoder/dense/kernel",
        "backbone/dense_1/bias": "encoder/dense_1/bias"}),
    ("subscope_and_var", "renamed", {
        "backbone/batch_normalization/": "encoder/batch_normalization/",
        "backbone/dense_1/kernel": "encoder/dense_1/kernel"}),
    ("checkpoint_scope_to_root", "bare", {"backbone/": "/"}),
    ("checkpoint_root_to_scope", "wrapped", {"/": "outer/"}),
    ("variable_object", "same", {
        "backbone/dense/kernel": {"variable": "backbone/dense/kernel"}}),
    ("head_of_other_shape", "same", {"logits/": "logits/"}),
    ("variable_of_other_shape", "same", {
        "backbone/dense/kernel": "backbone/dense_1/kernel"}),
    ("tensor_missing_in_scope", "deeper", {"backbone/": "backbone/"}),
    ("name_to_scope", "same", {"backbone/dense/kernel": "backbone/"}),
    ("tensor_missing", "same", {
        "backbone/dense/kernl": "backbone/dense/kernel"}),
    ("scope_without_weights", "same", {"backbone/": "nothere/"}),
    ("two_tensors_for_one_variable", "same", {
        "backbone/batch_normalization/": "backbone/batch_normalization/",
        "backbone/batch_normalization/gamma":
            "backbone/batch_normalization/beta"}),
]


def build(model, x):
    layers = tf.compat.v1.layers
    scope, deeper, head, classes = MODELS[model]

    def backbone(h):
        h = layers.dense(h, HIDDEN, use_bias=False, name="dense")
        h = layers.batch_normalization(h, momentum=0.5, training=True,
                                       name="batch_normalization")
        h = layers.dense(tf.nn.relu(h), HIDDEN, name="dense_1")
        if deeper:
            h = layers.dense(tf.nn.relu(h), HIDDEN, name="dense_2")
        return h

    if scope is None:
        h = backbone(x)
    else:
        with tf.compat.v1.variable_scope(scope):
            h = backbone(x)
    if head is not None:
        h = layers.dense(tf.nn.relu(h), classes, name=head)
    return h


def write_checkpoint():
    v1 = tf.compat.v1
    rng = np.random.RandomState(0)
    with tf.Graph().as_default():
        v1.set_random_seed(0)
        x = v1.placeholder(tf.float32, (None, FEATURES))
        y = v1.placeholder(tf.int64, (None,))
        with v1.variable_scope("backbone"):
            h = build("bare", x)
        logits = v1.layers.dense(tf.nn.relu(h), 10, name="logits")
        loss = v1.losses.sparse_softmax_cross_entropy(y, logits)
        step = v1.train.get_or_create_global_step()
        with tf.control_dependencies(v1.get_collection(v1.GraphKeys.UPDATE_OPS)):
            train = v1.train.MomentumOptimizer(0.1, 0.9).minimize(
                loss, global_step=step)
        saver = v1.train.Saver(save_relative_paths=True)
        with v1.Session() as session:
            session.run(v1.global_variables_initializer())
            for _ in range(2):
                session.run(train, {
                    x: rng.normal(size=(16, FEATURES)).astype(np.float32),
                    y: rng.randint(0, 10, size=16)})
            return saver.save(session, os.path.join(OUT, "model.ckpt"),
                              write_meta_graph=False)


def _line(error):
    """The error's first line, without this machine's path or the
    checkpoint's whole (unordered) variable list."""
    line = str(error).splitlines()[0].replace(OUT + os.sep, "")
    return line.split(" checkpoint {")[0] + (" checkpoint" if " checkpoint {"
                                             in line else "")


def run_case(prefix, model, assignment_map):
    v1 = tf.compat.v1
    reader = tf.train.load_checkpoint(prefix)
    tensors = dict((n, reader.get_tensor(n))
                   for n in reader.get_variable_to_shape_map())
    with tf.Graph().as_default():
        v1.set_random_seed(1)
        build(model, v1.placeholder(tf.float32, (None, FEATURES)))
        variables = dict((v.op.name, v) for v in v1.global_variables())
        tf1_map = dict((key, variables[value["variable"]]
                        if isinstance(value, dict) else value)
                       for key, value in assignment_map.items())
        try:
            v1.train.init_from_checkpoint(prefix, tf1_map)
        except (ValueError, tf.errors.OpError) as error:
            return {"raised": "call", "error": _line(error)}
        with v1.Session() as session:
            try:
                session.run(v1.global_variables_initializer())
            except tf.errors.OpError as error:
                return {"raised": "init", "error": _line(error)}
            values = session.run(variables)
    assigned = {}
    for name, value in sorted(values.items()):
        same = [n for n, t in tensors.items()
                if t.shape == value.shape and np.array_equal(t, value)]
        assert len(same) <= 1, (name, same)
        assigned[name] = same[0] if same else None
    return {"raised": None, "assigned": assigned}


def main():
    assert tf.__version__.startswith("1.15"), "run this with TF 1.15"
    if not os.path.isdir(OUT):
        os.makedirs(OUT)
    for old in os.listdir(OUT):
        os.remove(os.path.join(OUT, old))
    prefix = write_checkpoint()
    cases = []
    for name, model, assignment_map in CASES:
        outcome = run_case(prefix, model, assignment_map)
        outcome.update(name=name, model=model, map=assignment_map)
        cases.append(outcome)
        print("%-26s %s" % (name, outcome.get("error") or sorted(
            k for k, v in outcome["assigned"].items() if v)))
    reference = {"cases": cases, "versions": {
        "tensorflow": tf.__version__, "numpy": np.__version__,
        "python": platform.python_version()}}
    with open(os.path.join(OUT, "reference.json"), "w") as stream:
        json.dump(reference, stream, indent=1, sort_keys=True)
        stream.write("\n")


if __name__ == "__main__":
    main()
