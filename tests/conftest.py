"""Shared fixtures: golden files and one-thread TensorFlow for repeatability.

TensorFlow is imported (and set to one thread) in ``pytest_configure``, not
at import time, and not at all when only the migrate tests run (they need no
TensorFlow) or when it is not installed: ``pytest tests/migrate`` runs in
an environment without it.
"""

import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402

# tests/data/*/record.py are scripts that record references on real TF1
# (run by hand in the tf1 env), not test modules: never collect them.
collect_ignore = ["data"]

_TF = []  # the configured tensorflow module, once imported
_TF_FREE = ("migrate",)  # test folders that need no TensorFlow


def _tf_free(config):
    """True when every path given lies in a TF-free test folder."""
    here = pathlib.Path(__file__).resolve().parent
    paths = [pathlib.Path(str(a).split("::")[0]).resolve() for a in config.args]
    return bool(paths) and all(
        any(p == here / d or here / d in p.parents for d in _TF_FREE) for p in paths)


def pytest_configure(config):
    if _tf_free(config):
        return
    try:
        import tensorflow as tf
    except ImportError:
        return
    tf.config.threading.set_inter_op_parallelism_threads(1)
    tf.config.threading.set_intra_op_parallelism_threads(1)
    _TF.append(tf)


@pytest.fixture(scope="session")
def golden_penalties():
    from compat_reg import golden_files
    return golden_files.penalties()


def pytest_report_header(config):
    if not _TF:
        return "compat_reg: TensorFlow not imported (TF-free tests only)"
    from compat_reg import _compat
    return "compat_reg: " + ", ".join("%s=%s" % kv for kv in _compat.describe())
