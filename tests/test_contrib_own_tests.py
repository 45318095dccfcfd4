"""contrib's own regularizer tests, run unchanged against compat_reg.

The maintained copy of ``tf.contrib.layers``' regularizer tests is tf-slim's
``tf_slim/layers/regularizers_test.py`` (graph mode: it calls
``tf.disable_eager_execution()`` and uses ``Session``). We run the installed
file in a process of its own with one line changed, its import of the module
under test, so a drop-in must pass it as tf_slim does: zero scales returning
a callable that gives ``None``, penalty ops named by ``scope``
(``l1_l2_regularizer``, ``foo/l1_l2``), and contrib's values.
"""

import importlib.util
import os
import re
import subprocess
import sys

import pytest

from golden_support import tf_slim

SPEC = importlib.util.find_spec("tf_slim")
TEST_FILE = SPEC and os.path.join(os.path.dirname(SPEC.origin), "layers",
                                  "regularizers_test.py")
IMPORT = "from tf_slim.layers import regularizers"

pytestmark = [pytest.mark.skipif(
    not (TEST_FILE and os.path.exists(TEST_FILE)),
    reason="needs tf_slim, which carries contrib's regularizer tests"),
    pytest.mark.skipif(tf_slim() is None, reason="tf_slim does not import on "
                       "this TF (tf_slim 1.1 needs TF >= 1.14)")]


def _run(module, tmp_path):
    with open(TEST_FILE) as f:
        source = f.read()
    assert source.count(IMPORT) == 1  # the one line we change
    script = tmp_path / "regularizers_test.py"
    script.write_text(source.replace(IMPORT, "from %s import regularizers" % module))
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run([sys.executable, str(script)], env=env, cwd=str(tmp_path),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=600)


def _counts(output):
    ran = int(re.search(r"^Ran (\d+) tests?", output, re.M).group(1))
    skipped = re.search(r"skipped=(\d+)", output)
    return ran, int(skipped.group(1)) if skipped else 0


@pytest.mark.parametrize("module", ["tf_slim.layers", "compat_reg"])
def test_contrib_regularizer_tests_pass(module, tmp_path):
    """tf_slim itself as the control, then compat_reg in its place."""
    out = _run(module, tmp_path)
    assert out.returncode == 0, out.stdout[-3000:]
    ran, skipped = _counts(out.stdout)
    # 12 tests, one of which (test_session) is TensorFlow's not-a-test
    assert (ran, skipped) == (12, 1), out.stdout[-3000:]
