"""Fault injection (issue 13): a ``--write`` run killed at random points
leaves every file wholly old or wholly new, no temporary file and no
process behind. The run is single-process; it writes through an unnamed
file (Linux ``O_TMPFILE``) renamed over the old one."""
import os
import random
import signal
import subprocess
import sys
import time

import pytest

from compat_reg.migrate._core import migrate_source

from ._util import default_sigint

SRC = ("import tensorflow as tf\n\n" + "".join(
    "def block_%d(x):\n    return tf.layers.dense(x, 8, kernel_regularizer="
    "tf.contrib.layers.l2_regularizer(0.01))\n\n" % i for i in range(300))
    + "loss = tf.losses.get_regularization_loss()\n")
FILES = 60
KILLS = 8


def _alive(pgid):
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.skipif(sys.platform == "win32", reason="process groups and SIGKILL")
@pytest.mark.parametrize("sig", (signal.SIGKILL, signal.SIGINT))
def test_killed_write_leaves_each_file_old_or_new(tmp_path, sig):
    old = SRC.encode()
    new = migrate_source(old).source
    assert new != old
    rng = random.Random(int(sig))
    outcomes = set()
    for kill in range(KILLS):
        tree = tmp_path / ("run%d" % kill)
        tree.mkdir()
        for i in range(FILES):
            (tree / ("m%02d.py" % i)).write_bytes(old)
        proc = subprocess.Popen([sys.executable, "-m", "compat_reg.migrate", str(tree),
                                 "--write"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True,
                                preexec_fn=default_sigint)
        time.sleep(rng.uniform(0.05, 1.5))
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        proc.wait(60)
        deadline = time.time() + 10
        while _alive(proc.pid) and time.time() < deadline:
            time.sleep(0.1)
        assert not _alive(proc.pid), "a process of the run is still alive"
        names = sorted(p.name for p in tree.iterdir())
        assert names == ["m%02d.py" % i for i in range(FILES)], names  # no temp file
        states = [(tree / n).read_bytes() for n in names]
        assert all(s in (old, new) for s in states)
        outcomes.add(sum(s == new for s in states))
    # the kills did land at different points of the run
    assert len(outcomes) > 1, outcomes
