"""What another float32 summation order does to TF's own run of a workload.

Run as ``python summation_order.py NAME PERMUTATIONS BOUND``, in a process
of its own: it sets the CLI's determinism (one thread, TF's deterministic
kernels, process-wide, which a test process cannot), trains NAME's
``tf2-keras`` run, then the same run with its input features and its first
kernel's rows permuted alike (``x[:, p] @ w[p] == x @ w`` in exact numbers,
so only the first matmul sums in another order, as on another backend),
until one moves the total-loss curve past BOUND or PERMUTATIONS have run.
It prints one JSON object: ``moved`` (each permutation's max relative
difference of the total-loss curve) and ``weights`` (each one's final-weight
difference, its first kernel put back in order).
"""

import json
import sys

import numpy as np


def permuted(workload, seed):
    """``(workload, order)``: ``workload`` with its features and its first
    kernel's rows permuted by ``order``."""
    from compat_reg.parity import workloads
    order = np.random.RandomState(seed).permutation(workload.init[0].shape[0])
    d = workload.data
    data = workloads.Data(d.x_train[:, order], d.y_train, d.x_test[:, order],
                          d.y_test)
    init = [np.array(a, copy=True) for a in workload.init]
    init[0] = init[0][order]
    return workloads.Workload(workload.name, workload.config, init,
                              workload.batch_order, data,
                              workload.golden_path, workload.reference), order


def main(name, permutations, bound):
    from compat_reg.parity import determinism
    determinism.configure(op_determinism=True)
    from compat_reg.parity import backends, measure, workloads
    workload = workloads.builtin(name)
    base = backends.run(workload, "tf2-keras")
    kernel = workload.variable_names()[0]
    moved, weights = [], []
    for seed in range(permutations):
        again, order = permuted(workload, seed)
        got = backends.run(again, "tf2-keras")
        got.final_weights[kernel] = got.final_weights[kernel][np.argsort(order)]
        result = measure.measure(got, base)
        moved.append(result.curve_max["total_loss"])
        weights.append(result.weights)
        if moved[-1] > bound:
            break
    return {"moved": moved, "weights": weights}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]))))
