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


# What each TensorFlow release ships as tf.keras (release notes): the Keras
# inside TF up to 2.5, the keras 2.x package for 2.6 to 2.15, Keras 3 from
# 2.16, where TF_USE_LEGACY_KERAS=1 with tf_keras installed brings Keras 2 back.
def _expected_flavour():
    major, minor = (int(p) for p in tf.__version__.split(".")[:2])
    if major == 1 or minor <= 5:
        return "keras2-builtin", "tensorflow"
    if minor <= 15:
        return "keras2", "keras"
    if os.environ.get("TF_USE_LEGACY_KERAS") in ("1", "true", "True"):
        return "tf_keras", "tf_keras"
    return "keras3", "keras"


def test_flavour_matches_the_release():
    flavour, package = _expected_flavour()
    assert _compat.KERAS_FLAVOUR == flavour
    assert _compat.KERAS3 == (flavour == "keras3")
    assert _compat.HAS_CONTRIB == tf.__version__.startswith("1.")
    # the layers tf.keras gives come from that package, and are _compat.keras'
    assert tf.keras.layers.Dense.__module__.split(".")[0] == package
    assert isinstance(_compat.keras.layers.Dense(1), tf.keras.layers.Layer)


@pytest.mark.skipif(not _compat.KERAS_TF2_API, reason="TF 1.4-1.13's tf.keras: no ports")
def test_layer_weight_aggregation_is_what_add_weight_takes():
    # read from the installed Keras' own signature: Keras 3.0-3.1 have no
    # ``aggregation`` (their layer.py), Keras 2, tf_keras and 3.2+ do
    import inspect
    params = inspect.signature(_compat.keras.layers.Layer.add_weight).parameters
    assert _compat.LAYER_WEIGHT_AGGREGATION == ("aggregation" in params)


@pytest.mark.skipif(not (_compat.KERAS_TF2_API and _compat.TF_BACKEND
                         and _compat.LAYER_WEIGHT_AGGREGATION),
                    reason="a Keras weight on TF that takes an aggregation")
def test_strategy_aggregates_keras_weights_is_what_the_tf_variable_holds():
    # the tf.Variable under a weight made with aggregation "mean" keeps it on
    # Keras 2, tf_keras and Keras >= 3.7; Keras 3.2-3.6 drop it
    layer = _compat.keras.layers.Layer()
    weight = layer.add_weight(
        name="w", shape=(), trainable=False,
        aggregation="mean" if _compat.KERAS3 else tf.VariableAggregation.MEAN)
    variable = weight.value if _compat.KERAS3 else weight
    assert _compat.STRATEGY_AGGREGATES_KERAS_WEIGHTS == (
        variable.aggregation == tf.VariableAggregation.MEAN)


@pytest.mark.skipif(not _compat.KERAS_TF2_API, reason="TF 1.4-1.13's tf.keras: no ports")
def test_nests_unbuilt_sequential_is_what_keras_does():
    keras = _compat.keras
    inner = keras.Sequential([keras.layers.Dense(2)], name="inner")
    if _compat.KERAS_NESTS_UNBUILT_SEQUENTIAL:
        keras.Sequential([inner, keras.layers.Dense(1)])
    else:
        with pytest.raises(ValueError, match="no defined input shape"):
            keras.Sequential([inner, keras.layers.Dense(1)])


def _probes(path):
    """``hasattr(tf..., "name")`` / ``getattr(keras..., "name", default)``:
    capability probes of TensorFlow or Keras, which are version questions."""
    import ast
    roots = {"tf", "tensorflow", "keras", "v1", "tf_keras"}
    with open(path) as f:
        tree = ast.parse(f.read())
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
            continue
        name, args = node.func.id, node.args
        literal = len(args) >= 2 and isinstance(args[1], ast.Constant) and isinstance(
            args[1].value, str)
        if not literal or not (name == "hasattr" or (name == "getattr" and len(args) == 3)):
            continue
        chain = ast.unparse(args[0]) if hasattr(ast, "unparse") else ""
        head = chain.split(".")[0]
        if head in roots or chain.startswith("_compat.keras"):
            found.append("%s:%d: %s(%s, %r)" % (path, node.lineno, name, chain,
                                                args[1].value))
    return found


@pytest.mark.skipif(sys.version_info < (3, 9), reason="ast.unparse needs Python >= 3.9")
def test_no_capability_probes_outside_compat():
    offenders = []
    for folder, _, files in os.walk(PACKAGE):
        for name in files:
            path = os.path.join(folder, name)
            if name.endswith(".py") and os.path.relpath(path, PACKAGE) != "_compat.py":
                offenders += _probes(path)
    assert offenders == []


@pytest.mark.skipif(sys.version_info < (3, 9), reason="ast.unparse needs Python >= 3.9")
def test_the_probe_guard_sees_probes(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import tensorflow as tf\nif hasattr(tf.nn, 'scale_regularization_loss'):"
                   "\n    pass\nx = getattr(tf.config.experimental, 'x', None)\n")
    assert len(_probes(str(bad))) == 2


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
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=300)


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
    """Each public name is a function or class of compat_reg's, or one of
    its modules, and is documented."""
    value = getattr(compat_reg, name)
    module = getattr(value, "__module__", None) or value.__name__
    assert module.split(".")[0] == "compat_reg"
    assert (value.__doc__ or "").strip()
