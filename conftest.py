"""Collection rules for the whole tree (tests/ and the doctests in compat_reg/)."""

import os
import sys

# scripts the tests run in a process of their own (not modules to import)
collect_ignore = ["tests/mirrored_check.py"]
collect_ignore_glob = ["compat_reg/golden/*", "benchmarks/*"]
if sys.version_info < (3, 9):  # the migration tool needs Python >= 3.9's ast
    collect_ignore_glob += ["compat_reg/migrate/*", "tests/migrate/*"]


def pytest_collection_modifyitems(config, items):
    """Doctests show TF2's eager results (``float(tensor)``); where TF runs
    graph mode (TF 1.15) those in modules that use TensorFlow are skipped.
    The examples of compat_reg's Keras optimizer classes (built on
    ``_compat.OptimizerAdapter``) need the Keras optimizer API (TF >= 2.11)."""
    if "tensorflow" not in sys.modules:
        return
    from compat_reg import _compat
    import pytest
    if not _compat.KERAS_OPTIMIZER_API:
        no_api = pytest.mark.skip(reason="a Keras optimizer of compat_reg's: "
                                         "this Keras has no optimizer API")
        for item in items:
            dtest = getattr(item, "dtest", None)
            documented = dtest and dtest.globs.get(dtest.name.split(".")[-1])
            if isinstance(documented, type) and issubclass(
                    documented, _compat.OptimizerAdapter):
                item.add_marker(no_api)
    if _compat.executing_eagerly():
        return
    skip = pytest.mark.skip(reason="eager execution (TF2): the example evaluates "
                                   "tensors directly; TF 1.15 builds graphs")
    old_keras = pytest.mark.skip(reason="the example builds TF2-style Keras models; "
                                        "the tf.keras of TF 1.4 - 1.13 predates them")
    for item in items:
        dtest = getattr(item, "dtest", None)
        if dtest is not None and "tf" in dtest.globs:
            item.add_marker(skip)
        elif dtest is not None and "_compat" in dtest.globs and not _compat.KERAS_TF2_API:
            item.add_marker(old_keras)


_STARTED = []


def pytest_sessionstart(session):
    import time
    _STARTED.append(time.time())


def pytest_sessionfinish(session, exitstatus):
    """Write this run's record for the tox summary (``COMPAT_REG_RUN_RECORD``):
    what ran it (TF, Python, Keras) and how many tests passed, failed, skipped."""
    path = os.environ.get("COMPAT_REG_RUN_RECORD")
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if not path or reporter is None:
        return
    import json
    import platform
    import time

    counts = {key: len(reporter.stats.get(key, []))
              for key in ("passed", "failed", "skipped", "error", "xfailed")}
    record = {"env": os.path.basename(path)[:-len(".json")],
              "python": platform.python_version(),
              "seconds": round(time.time() - _STARTED[0], 1),
              "exitstatus": int(exitstatus)}
    record.update(counts)
    if "tensorflow" in sys.modules:
        from compat_reg import _compat
        record.update(dict(_compat.describe()))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(record, f, indent=1, default=str)
