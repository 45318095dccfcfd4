"""The golden files: what real TensorFlow 1.15 computed (package data).

See ``golden/README.md`` for the format. Nothing here imports TensorFlow.
"""

from __future__ import absolute_import, division, print_function

import json
import os

import numpy as np

# Relative bound on a penalty against its golden value, by the weight's
# dtype. float32: the 1e-6. float16: 1e-3, about two float16 ulps near
# 1 (2**-10), room for a different reduction order (measured: 0). float64:
# Keras casts the scale through float32 (measured 2.2e-8), so 1e-7.
PENALTY_TOLERANCE = {"float32": 1e-6, "float16": 1e-3, "float64": 1e-7}

GOLDEN_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden")
FORMAT = "compat-reg-golden/1"


def path(name):
    """The path of a golden file, e.g. ``path('penalties.json')``."""
    return os.path.join(GOLDEN_DIR, name)


def load_json(name):
    with open(path(name)) as f:
        data = json.load(f)
    if data.get("format") != FORMAT:
        raise ValueError("%s: not a %s file" % (name, FORMAT))
    return data


def penalties():
    """``penalties.json`` as a dict."""
    return load_json("penalties.json")


def penalty_input(init, shape=None, dtype=None):
    """The array a case's ``init`` names: ``"ones"`` or ``"penalty_inputs.npz:<id>"``."""
    if init == "ones":
        return np.ones(shape, dtype)
    archive, key = init.split(":", 1)
    with np.load(path(archive)) as arrays:
        return arrays[key]


def penalty_cases():
    """``[(case, array)]`` for every case of ``penalties.json``."""
    return [(case, penalty_input(case["init"], case["shape"], case["dtype"]))
            for case in penalties()["cases"]]


def arrays(name):
    """All arrays of an npz golden file, as a dict."""
    with np.load(path(name)) as data:
        return {key: data[key] for key in data.files}


def training_cases():
    """The ids of the golden training runs (``train_<id>.json``)."""
    return sorted(f[len("train_"):-len(".json")] for f in os.listdir(GOLDEN_DIR)
                  if f.startswith("train_") and f.endswith(".json"))
