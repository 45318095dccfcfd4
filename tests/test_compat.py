"""The version facts, and that nothing else in the package asks TF's version."""

import os
import re
import subprocess
import sys

import pytest
import tensorflow as tf

import compat_reg
from compat_reg import _compat

PACKAGE = os.path.dirname(os.path.abspath(compat_reg.__file__))


def test_flavour_matches_what_tf_keras_is():
    dense_root = tf.keras.layers.Dense.__module__.split(".")[0]
    legacy = os.environ.get("TF_USE_LEGACY_KERAS", "").lower() in ("1", "true", "yes")
    if _compat.TF1:
        assert _compat.KERAS_FLAVOUR == "keras2-builtin"
    elif dense_root == "tf_keras":
        assert _compat.KERAS_FLAVOUR == "tf_keras" and legacy
    elif _compat.KERAS_VERSION.startswith("3."):
        assert _compat.KERAS_FLAVOUR == "keras3" and _compat.KERAS3
    else:
        assert _compat.KERAS_FLAVOUR == "keras2" and _compat.TF_VERSION <= (2, 15)
    assert _compat.HAS_CONTRIB == _compat.TF1
    # the Keras module is the one tf.keras layers come from
    assert isinstance(_compat.keras.layers.Dense(1), tf.keras.layers.Layer)


def test_no_version_checks_outside_compat():
    pattern = re.compile(r"__version__|TF_VERSION|VERSION_INFO|KERAS_VERSION")
    offenders = []
    for folder, _, files in os.walk(PACKAGE):
        for name in files:
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, PACKAGE)
            if not name.endswith(".py") or rel in ("_compat.py", "__init__.py"):
                continue
            with open(path) as f:
                for number, line in enumerate(f, 1):
                    # reporting versions (describe/env records) is fine; branching is not
                    if pattern.search(line) and re.search(r"\bif\b|\belif\b|[<>]=?", line):
                        offenders.append("%s:%d: %s" % (rel, number, line.strip()))
    assert offenders == []


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "compat_reg"] + list(args),
                          capture_output=True, text=True, timeout=300)


def test_doctor_prints_the_facts_and_mapping():
    out = _cli("doctor")
    assert out.returncode == 0, out.stderr
    assert _compat.KERAS_FLAVOUR in out.stdout
    assert tf.__version__ in out.stdout
    if not _compat.TF1:
        assert "l2_regularizer(0.01)" in out.stdout and "l2=0.005" in out.stdout


def test_check_recomputes_every_golden_penalty(golden_penalties):
    out = _cli("check")
    assert out.returncode == 0, out.stdout + out.stderr
    for case in golden_penalties["cases"]:
        assert re.search(r"^%s\s.*\sok$" % case["id"], out.stdout, re.M)
    assert "%d passed, 0 failed" % len(golden_penalties["cases"]) in out.stdout


def test_help_and_unknown_command():
    out = _cli("--help")
    assert out.returncode == 0 and "parity" in out.stdout and "migrate" in out.stdout
    assert _cli().returncode == 2
    assert _cli("frobnicate").returncode == 2


@pytest.mark.parametrize("name", sorted(compat_reg.__all__))
def test_public_names_resolve(name):
    assert getattr(compat_reg, name) is not None
