"""Shared fixtures: golden files and one-thread TensorFlow for repeatability."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

tf.config.threading.set_inter_op_parallelism_threads(1)
tf.config.threading.set_intra_op_parallelism_threads(1)

from compat_reg import _compat, golden_files  # noqa: E402


@pytest.fixture(scope="session")
def golden_penalties():
    return golden_files.penalties()


def pytest_report_header(config):
    return "compat_reg: " + ", ".join(
        "%s=%s" % kv for kv in _compat.describe())
