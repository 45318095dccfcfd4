"""Collection rules for the whole tree (tests/ and the doctests in compat_reg/)."""

import sys

# scripts the tests run in a process of their own (not modules to import)
collect_ignore = ["tests/mirrored_check.py"]
collect_ignore_glob = ["compat_reg/golden/*", "benchmarks/*"]
if sys.version_info < (3, 9):  # the migration tool needs libcst, Python >= 3.9
    collect_ignore_glob += ["compat_reg/migrate/*", "tests/migrate/*"]
