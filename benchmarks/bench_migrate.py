"""Files per second: ``compat-reg migrate`` vs ``tf_upgrade_v2 --intree``.

Not a test. Generates a tree of N TF1-style files (about a third of them
use regularizers, in varied import styles), then runs, side by side on the
same tree, each in a fresh process:

* ``python -m compat_reg.migrate TREE`` (dry run: diff only),
* ``python -m compat_reg.migrate TREE --write`` on a copy,
* ``tf_upgrade_v2 --intree TREE --outtree OUT`` (if installed),

and prints files/s for each and the ratios.

    python benchmarks/bench_migrate.py [--files 2000]
"""
import argparse
import os
import pathlib
import random
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]

HEADERS = (
    "import tensorflow as tf\n",
    "import tensorflow as tf\nslim = tf.contrib.slim\n",
    "import tensorflow.contrib.slim as slim\nimport tensorflow as tf\n",
    "import tensorflow as tf\nfrom tensorflow.contrib.layers import "
    "l2_regularizer, xavier_initializer\n",
)
REGULARIZED = (
    "    w = tf.get_variable('w%(i)d', [%(n)d, %(n)d], "
    "regularizer=tf.contrib.layers.l2_regularizer(scale=%(s)s))\n",
    "    x = tf.layers.dense(x, %(n)d, kernel_regularizer="
    "tf.contrib.layers.l1_l2_regularizer(%(s)s, %(s)s), name='d%(i)d')\n",
    "    x = slim.conv2d(x, %(n)d, [3, 3], weights_regularizer="
    "slim.l2_regularizer(%(s)s), scope='c%(i)d')\n",
    "    x = tf.layers.dense(x, %(n)d, kernel_regularizer="
    "l2_regularizer(%(s)s, scope='r%(i)d'))\n",
)
PLAIN = (
    "    x = tf.layers.dense(x, %(n)d, activation=tf.nn.relu, name='p%(i)d')\n",
    "    x = tf.nn.dropout(x, keep_prob=0.%(n)d)  # layer %(i)d\n",
    "    x = tf.reshape(x, [-1, %(n)d])\n",
)


def make_tree(root, files, seed=0):
    rng = random.Random(seed)
    for f in range(files):
        regularized = f % 3 == 0
        header = rng.choice(HEADERS) if regularized else HEADERS[0]
        body = [header, "\n\n"]
        for fn in range(rng.randint(3, 8)):
            body.append("def block_%d(x, is_training=True):\n    "
                        '"""Block %d."""\n' % (fn, fn))
            for i in range(rng.randint(4, 12)):
                pool = REGULARIZED[:len(HEADERS)] if regularized and \
                    rng.random() < 0.3 else PLAIN
                line = rng.choice(pool)
                if "l2_regularizer(%(s)s, scope" in line and \
                        "from tensorflow.contrib.layers" not in header:
                    line = PLAIN[0]
                if "slim." in line and "slim" not in header:
                    line = PLAIN[1]
                body.append(line % dict(i=i, n=rng.randint(2, 9) * 16,
                                        s=rng.choice(["0.01", "1e-4", "wd"])))
            body.append("    return x\n\n\n")
        if regularized:
            body.append("def loss(logits, labels):\n    return tf.losses."
                        "sparse_softmax_cross_entropy(labels, logits) + "
                        "tf.losses.get_regularization_loss()\n")
        path = root / ("pkg%02d" % (f % 40)) / ("mod_%04d.py" % f)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(body))


def timed(cmd, cwd):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3",
               PYTHONPATH=os.pathsep.join(
                   [str(ROOT)] + ([os.environ["PYTHONPATH"]]
                                  if os.environ.get("PYTHONPATH") else [])))
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    return time.perf_counter() - start, proc.returncode, proc.stderr


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    args = parser.parse_args()
    upgrade = shutil.which("tf_upgrade_v2") or os.path.join(
        os.path.dirname(sys.executable), "tf_upgrade_v2")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        tree = tmp / "tree"
        make_tree(tree, args.files)
        shutil.copytree(tree, tmp / "copy")
        results = {}
        seconds, rc, err = timed([sys.executable, "-m", "compat_reg.migrate",
                                  str(tree)], tmp)
        assert rc in (0, 1), err[-2000:]
        results["compat-reg migrate (dry run)"] = seconds
        seconds, rc, err = timed([sys.executable, "-m", "compat_reg.migrate",
                                  str(tmp / "copy"), "--write"], tmp)
        assert rc in (0, 1), err[-2000:]
        results["compat-reg migrate --write"] = seconds
        if os.path.exists(upgrade):
            seconds, rc, err = timed(
                [upgrade, "--intree", str(tree), "--outtree",
                 str(tmp / "upgraded"), "--reportfile",
                 str(tmp / "report.txt")], tmp)
            assert rc == 0, err[-2000:]
            results["tf_upgrade_v2 --intree"] = seconds
        print("%d files (%d with regularizers)" % (args.files,
                                                    len(range(0, args.files, 3))))
        for name, seconds in results.items():
            print("  %-30s %8.2f s  %9.1f files/s" % (
                name, seconds, args.files / seconds))
        base = results.get("tf_upgrade_v2 --intree")
        if base:
            for name, seconds in results.items():
                if name.startswith("compat-reg"):
                    print("  %s is %.1fx the speed of tf_upgrade_v2" % (
                        name, base / seconds))
        else:
            print("  tf_upgrade_v2 not installed: no comparison")


if __name__ == "__main__":
    main()
