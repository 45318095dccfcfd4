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
# (run by hand in the tf1 env), not test modules: never collect them; nor
# mirrored_check.py, which test_losses.py runs in a process of its own (this
# list replaces the root conftest's for tests/).
collect_ignore = ["data", "mirrored_check.py"]

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
    from compat_reg import _compat
    _compat.set_thread_counts(1)  # TF >= 1.14 (graph Sessions: a ConfigProto)
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
