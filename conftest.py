"""Collection rules for the whole tree (tests/ and the doctests in compat_reg/)."""

import sys

# scripts the tests run in a process of their own (not modules to import)
collect_ignore = ["tests/mirrored_check.py"]
collect_ignore_glob = ["compat_reg/golden/*", "benchmarks/*"]
if sys.version_info < (3, 9):  # the migration tool needs Python >= 3.9's ast
    collect_ignore_glob += ["compat_reg/migrate/*", "tests/migrate/*"]


def pytest_collection_modifyitems(config, items):
    """Doctests show TF2's eager results (``float(tensor)``); where TF runs
    graph mode (TF 1.15) those in modules that use TensorFlow are skipped."""
    if "tensorflow" not in sys.modules:
        return
    from compat_reg import _compat
    if _compat.executing_eagerly():
        return
    import pytest
    skip = pytest.mark.skip(reason="eager execution (TF2): the example evaluates "
                                   "tensors directly; TF 1.15 builds graphs")
    for item in items:
        dtest = getattr(item, "dtest", None)
        if dtest is not None and "tf" in dtest.globs:
            item.add_marker(skip)
