"""Seeding that does what TF1 code expected, on every TensorFlow.

Two TF1 pitfalls this addresses:

* ``tf.set_random_seed(s)`` seeds only the graph that is default at that
  moment; a ``tf.Graph()`` made afterwards has no seed. ``seeded_graph``
  makes a fresh graph with its seed already set.
* input pipelines shuffle with numpy (and Python's ``random``), which no TF
  seed touches.

Note that a TF1-vs-TF2 comparison needs the same initial *weights*, not the
same seed: the two versions draw different numbers from the same seed.
"""

from __future__ import absolute_import, division, print_function

import random

import numpy as np
import tensorflow as tf

from compat_reg import _compat

__all__ = ["set_seed", "seeded_graph"]


def set_seed(seed, deterministic=False):
    """Seed Python's ``random``, numpy's global generator and TensorFlow.

    TensorFlow is seeded the way the running version needs: on TF1 (and in a
    ``tf.compat.v1`` graph) the graph that is default now; on TF2 eager,
    ``tf.random.set_seed``.

    Args:
      seed: a non-negative int.
      deterministic: also turn on deterministic kernels
        (``tf.config.experimental.enable_op_determinism`` where TF has it,
        else ``TF_DETERMINISTIC_OPS=1``). Slower on GPU, and on TF2 it makes
        ops without a deterministic kernel raise.

    Returns:
      A dict saying what was done, for logs.

    >>> _ = set_seed(3)
    >>> a = np.random.rand()
    >>> _ = set_seed(3)
    >>> a == np.random.rand()
    True
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError("seed must be a non-negative int, got %r" % (seed,))
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed % 2 ** 32)
    done = {"python": "random.seed", "numpy": "np.random.seed",
            "tensorflow": _compat.set_global_seed(seed)}
    if deterministic:
        done["determinism"] = _compat.enable_op_determinism()
    return done


def seeded_graph(seed):
    """A new ``tf.Graph`` whose graph-level seed is ``seed``.

    ``tf.set_random_seed`` only seeds the graph that is default when it is
    called; build each TF1 graph with this instead:

    >>> graph = seeded_graph(7)
    >>> with graph.as_default():
    ...     x = tf.compat.v1.random_uniform([2])
    >>> graph.seed
    7
    """
    graph = tf.Graph()
    graph.seed = int(seed)
    return graph
