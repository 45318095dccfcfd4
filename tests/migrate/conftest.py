import importlib.util
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
if importlib.util.find_spec("compat_reg") is None:  # run from a bare checkout
    sys.path.insert(0, str(ROOT))
