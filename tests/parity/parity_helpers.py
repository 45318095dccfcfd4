"""Helpers shared by the parity tests."""

import io
import os
import shutil

import pytest

from compat_reg import golden_files
from compat_reg.parity import backends, cli, trace


def require(backend):
    """Skip when this TensorFlow does not offer ``backend`` (TF1)."""
    if backend not in backends.available():
        pytest.skip("%s is not offered on this TensorFlow" % backend)


def main(argv, capsys=None):
    """``compat-reg parity ARGV`` in this process: (exit status, stdout,
    stderr; None without ``capsys``)."""
    out = io.StringIO()
    code = cli.main(argv, out=out)
    return code, out.getvalue(), (capsys.readouterr().err if capsys else None)


def golden_copy(folder, name="sgd_l2"):
    """A golden training case copied into ``folder`` with its npz and the
    digits; returns the paths of its JSON and its npz."""
    for f in ("train_%s.json" % name, "train_%s.npz" % name, "digits.npz"):
        shutil.copy(golden_files.path(f), str(folder))
    return (os.path.join(str(folder), "train_%s.json" % name),
            os.path.join(str(folder), "train_%s.npz" % name))


def relabelled(env="tf299", name="sgd_l2", golden=None):
    """A valid trace of ``name`` without training: the golden run (or the
    golden-format file ``golden``) re-labelled as a TF2 env's run."""
    t = trace.from_golden(golden or golden_files.path("train_%s.json" % name))
    t.env = dict(t.env, backend="tf2-keras", golden=False, tox_env=env,
                 tensorflow="2.99.0", optimizers="exact")
    return t


def good_trace(folder, env="tf299", name="sgd_l2", golden=None):
    """``relabelled`` saved in ``folder/env/``; returns its path."""
    path = os.path.join(str(folder), env, "%s__tf2-keras.json" % name)
    relabelled(env, name, golden).save(path)
    return path
