"""The golden workloads on Keras 3's backends, against real TF 1.15 (issue 29).

Runs each golden training run (``sgd_none``, ``sgd_l2``, ``momentum_l1_l2``;
compat_reg/golden/) with compat_reg's regularizers and exact optimizers
(``compat_reg.optimizers.get``) on the Keras backend of this process
(``KERAS_BACKEND``), one ``train_on_batch`` per golden step on the golden
batches from the golden initial weights, and compares the total-loss curve
over ALL steps and the final weights with the golden trace. ``adam_l2`` (the
sgd_l2 run with TF1's ``AdamOptimizer(0.001, epsilon=1e-8)``) has no golden
trace: ``--save DIR`` writes each run's curve, and ``--against DIR`` gives the
difference from another backend's saved run (TF's, whose raw-ops Adam is
compat_reg's TF1 reference on TF 2).

    KERAS_BACKEND=torch .tox/keras3-torch/bin/python -m benchmarks.keras3_backends
"""

from __future__ import absolute_import, division, print_function

import argparse
import json
import os
import sys

import numpy as np

from compat_reg import _compat, golden_files, optimizers
from compat_reg.parity import tolerances
from compat_reg.regularizers import from_spec

GOLDEN = ("sgd_none", "sgd_l2", "momentum_l1_l2")
# (curve, weights) bounds against TF 1.15: sgd_l2 is chaotic (tolerances.py)
BOUNDS = {"sgd_l2": (tolerances.CURVE_EXACT, tolerances.WEIGHTS_EXACT)}
ADAM = {"optimizer": "adam", "lr": 0.001, "epsilon": 1e-8}


def _model(config, init):
    keras = _compat.keras
    sizes = config["sizes"]
    layers = [keras.Input((sizes[0],))]
    for i, width in enumerate(sizes[1:]):
        last = i == len(sizes) - 2
        layers.append(keras.layers.Dense(
            width, activation=None if last else config["activation"],
            kernel_regularizer=from_spec(config["reg"]),
            bias_regularizer=from_spec(config["reg"]) if config["bias_reg"] else None,
            name="dense_%d" % i))
    model = keras.Sequential(layers)
    model.set_weights(init)
    return model


def run(config, init, batch_order, data):
    """(total-loss curve, final weights) of one run on this backend."""
    keras = _compat.keras
    model = _model(config, init)
    model.compile(optimizer=optimizers.get(config),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  **_compat.compile_without_xla())
    curve = []
    for rows in batch_order.reshape(-1, batch_order.shape[-1]):
        logs = model.train_on_batch(data["x_train"][rows], data["y_train"][rows],
                                    return_dict=True)
        curve.append(float(logs["loss"]))
    return np.array(curve), model.get_weights()


def _curve_rel(got, want):
    """The harness' curve difference: max over steps of |a - b| / max(|b|, FLOOR)."""
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    return float(np.max(np.abs(got - want) / np.maximum(np.abs(want), tolerances.FLOOR)))


def _weights_rel(got, want):
    """The harness' weight difference: max over variables of ||a - b|| / ||b||."""
    return max(float(np.linalg.norm(np.asarray(a, np.float64) - b) / np.linalg.norm(b))
               for a, b in zip(got, want))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--save", help="write each run's curve/weights here")
    parser.add_argument("--against", help="a --save folder of another backend")
    parser.add_argument("--cases", default=",".join(GOLDEN + ("adam_l2",)))
    args = parser.parse_args(argv)
    _compat.set_thread_counts(1)
    results = {}
    for case in args.cases.split(","):
        base = "sgd_l2" if case == "adam_l2" else case
        record, arrays, data, _ = golden_files.read_training(
            golden_files.path("train_%s.json" % base))
        config = dict(record["config"])
        if case == "adam_l2":
            config.pop("momentum", None)
            config.update(ADAM)
        names = golden_files.layer_names(config)
        curve, weights = run(config, [arrays[i] for _, i, _ in names],
                             arrays["batch_order"], data)
        row = {"steps": len(curve)}
        if case in GOLDEN:
            row["total_loss_vs_tf115"] = _curve_rel(curve, record["curves"]["total_loss"])
            row["weights_vs_tf115"] = _weights_rel(weights, [arrays[f] for _, _, f in names])
            curve_bound, weights_bound = BOUNDS.get(case, (
                tolerances.BACKEND_CURVE, tolerances.BACKEND_WEIGHTS))
            row["within_bounds"] = (row["total_loss_vs_tf115"] <= curve_bound and
                                    row["weights_vs_tf115"] <= weights_bound)
        if args.save:
            os.makedirs(args.save, exist_ok=True)
            np.savez(os.path.join(args.save, case + ".npz"), curve=curve,
                     **dict(("arr_%d" % i, w) for i, w in enumerate(weights)))
        if args.against:
            other = np.load(os.path.join(args.against, case + ".npz"))
            row["total_loss_vs_other"] = _curve_rel(curve, other["curve"])
            row["weights_vs_other"] = _weights_rel(
                weights, [other["arr_%d" % i] for i in range(len(weights))])
            row["curve_within_backend_bound"] = (
                row["total_loss_vs_other"] <= tolerances.BACKEND_VS_BACKEND)
        results[case] = row
        print(_compat.KERAS_BACKEND, case, json.dumps(row), flush=True)
    return results


if __name__ == "__main__":
    main()
    sys.exit(0)
