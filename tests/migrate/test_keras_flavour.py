"""--target keras emits regularizers of the Keras that ``tf.keras`` is, so
they serialize with the file's ``tf.keras`` layers under either flavour
(``TF_USE_LEGACY_KERAS=1`` makes ``tf.keras`` tf_keras while ``import keras``
stays Keras 3)."""
import importlib.util
import os
import pathlib
import subprocess
import sys

import pytest

from ._util import migrated

ROOT = pathlib.Path(__file__).resolve().parents[2]
SRC = ("import tensorflow as tf\n"
       "layer = tf.keras.layers.Dense(\n"
       "    2, kernel_regularizer=tf.contrib.layers.l2_regularizer(0.01))\n")
CHECK = """
assert isinstance(layer.kernel_regularizer, tf.keras.regularizers.Regularizer)
config = tf.keras.layers.serialize(layer)
again = tf.keras.layers.deserialize(config)
assert type(again.kernel_regularizer) is type(layer.kernel_regularizer)
print(type(layer.kernel_regularizer).__module__.split(".")[0])
"""


@pytest.mark.parametrize("legacy", ("0", "1"))
def test_regularizers_are_tf_keras_ones(tmp_path, legacy):
    pytest.importorskip("tensorflow")
    if legacy == "1" and importlib.util.find_spec("tf_keras") is None:
        pytest.skip("tf_keras is not installed")
    out = migrated(SRC, "keras")
    assert "from tensorflow import keras\n" in out
    path = tmp_path / "m.py"
    path.write_text(out + CHECK)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", TF_USE_LEGACY_KERAS=legacy,
               PYTHONPATH=os.pathsep.join(
                   [str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")]
                                  if p]))
    proc = subprocess.run([sys.executable, str(path)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    package = proc.stdout.split()[-1]
    assert package == ("tf_keras" if legacy == "1" else "keras"), proc.stdout
