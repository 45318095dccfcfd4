"""The runtime rows: compat_reg against what it replaces, timed in-process.

Each row times two callables, A (compat_reg) and B (the yardstick), in
interleaved rounds (A B A B ...), each round the median of ``REPEATS`` calls
after a warm-up call (tracing, first-run allocation), and reports B / A per
round: above 1, compat_reg is faster. Run alone with
``python -m benchmarks.runtime`` or as part of ``python -m benchmarks``.

``--tf1-step`` prints the seed MLP's training step time in this process's
TensorFlow: on TF 1.15 a graph ``Session.run`` step, on TF2 a
``tf.function`` step; ``python -m benchmarks`` runs it under the tf1 env's
Python (``COMPAT_REG_TF1_PYTHON``, default ``.tox/tf1/bin/python``) to
compare the two.
"""
import os
import statistics
import sys
import time

import numpy as np

REPEATS = 20


def _median_call(fn, repeats=REPEATS):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def compare(name, a, b, note, rounds):
    """Interleaved rounds of A and B: a record like the process rows'."""
    a(), b()  # warm up: trace, allocate
    a_times, b_times = [], []
    for _ in range(rounds):
        a_times.append(_median_call(a))
        b_times.append(_median_call(b))
    ratios = [bt / at for at, bt in zip(a_times, b_times)]
    return dict(row=name, note=note, a_seconds=[round(t, 6) for t in a_times],
                b_seconds=[round(t, 6) for t in b_times],
                ratio_median=round(statistics.median(ratios), 2),
                ratio_spread=[round(min(ratios), 2), round(max(ratios), 2)])


def _seed_mlp(keras, reg):
    """The golden MLP shape (64-32-10 on digits), one batch of 32."""
    model = keras.Sequential([
        keras.Input((64,)),
        keras.layers.Dense(32, activation="relu", kernel_regularizer=reg()),
        keras.layers.Dense(10, kernel_regularizer=reg())])
    return model


def _big_mlp(keras, reg):
    """About 25M parameters: six 2048 x 2048 dense layers."""
    return keras.Sequential([keras.Input((2048,))] + [
        keras.layers.Dense(2048, kernel_regularizer=reg()) for _ in range(6)])


def rows(rounds):
    import tensorflow as tf

    import compat_reg
    from compat_reg import _compat, optimizers

    keras = _compat.keras
    rng = np.random.RandomState(0)
    x = tf.constant(rng.rand(32, 64).astype(np.float32))
    y = tf.constant(rng.randint(0, 10, 32))
    ours = lambda: compat_reg.l2_regularizer(0.01)  # noqa: E731
    native = lambda: keras.regularizers.L2(0.005)  # noqa: E731
    records = []

    def step_fn(model, optimizer, penalty):
        @tf.function
        def step():
            with tf.GradientTape() as tape:
                logits = model(x)
                loss = tf.reduce_mean(
                    tf.nn.sparse_softmax_cross_entropy_with_logits(y, logits)) + penalty(model)
            grads = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables))
            return loss
        return lambda: step().numpy()

    add_n = lambda m: tf.add_n(m.losses)  # noqa: E731
    sgd = lambda: keras.optimizers.SGD(0.1)  # noqa: E731
    records.append(compare(
        "step: compat_reg l2_regularizer vs Keras L2",
        step_fn(_seed_mlp(keras, ours), sgd(), add_n),
        step_fn(_seed_mlp(keras, native), sgd(), add_n),
        "seed MLP step in tf.function, penalty from model.losses", rounds))
    records.append(compare(
        "step: get_regularization_loss vs add_n(losses)",
        step_fn(_seed_mlp(keras, ours), sgd(), compat_reg.get_regularization_loss),
        step_fn(_seed_mlp(keras, ours), sgd(), add_n),
        "seed MLP step in tf.function", rounds))
    if not _compat.TF1:
        for spec in ({"optimizer": "adam", "lr": 0.001},
                     {"optimizer": "momentum", "lr": 0.1, "momentum": 0.9}):
            records.append(compare(
                "step: compat_reg %s vs Keras'" % spec["optimizer"],
                step_fn(_seed_mlp(keras, ours), optimizers.get(spec), add_n),
                step_fn(_seed_mlp(keras, ours), optimizers.keras_native(spec), add_n),
                "seed MLP step in tf.function, TF1-exact kernels vs Keras", rounds))

    model = _seed_mlp(keras, ours)
    model(x)
    for label, wrap in (("tf.function", tf.function), ("eager", lambda f: f)):
        for scope in (None, model.layers[0].name):
            ours_fn = wrap(lambda s=scope: compat_reg.get_regularization_loss(model, scope=s))
            theirs = wrap(lambda: tf.add_n(model.losses))
            records.append(compare(
                "get_regularization_loss%s vs add_n, %s" % (
                    "(scope)" if scope else "", label),
                lambda f=ours_fn: f().numpy(), lambda f=theirs: f().numpy(),
                "seed MLP, penalty alone", rounds))

    big_ours, big_native = _big_mlp(keras, ours), _big_mlp(keras, native)
    n = sum(int(np.prod(w.shape)) for w in big_ours.trainable_weights)
    flat = tf.Variable(tf.ones([n]))
    for jit in (False, True):
        kw = {"jit_compile": True} if jit else {}
        floor = tf.function(lambda: 0.01 * tf.nn.l2_loss(flat), **kw)
        for label, model in (("compat_reg", big_ours), ("Keras L2", big_native)):
            penalty = tf.function(lambda m=model: tf.add_n(m.losses), **kw)
            records.append(compare(
                "fused floor vs penalty, %s%s" % (label, ", XLA" if jit else ""),
                lambda f=penalty: f().numpy(), lambda g=floor: g().numpy(),
                "%d parameters; ratio = floor / penalty (1/ratio = times the floor)" % n,
                rounds))
    return records


def tf1_step_seconds():
    """The seed MLP's SGD step with its penalty, in this TensorFlow's TF1 way
    (a graph and ``Session.run``) or TF2 way (``tf.function``)."""
    import tensorflow as tf

    import compat_reg
    from compat_reg import _compat

    rng = np.random.RandomState(0)
    xs = rng.rand(32, 64).astype(np.float32)
    ys = rng.randint(0, 10, 32)
    if _compat.TF1:
        v1 = tf.compat.v1
        x = v1.placeholder(tf.float32, [None, 64])
        y = v1.placeholder(tf.int64, [None])
        h = v1.layers.dense(x, 32, tf.nn.relu,
                            kernel_regularizer=compat_reg.l2_regularizer(0.01))
        logits = v1.layers.dense(h, 10, kernel_regularizer=compat_reg.l2_regularizer(0.01))
        loss = v1.losses.sparse_softmax_cross_entropy(y, logits) + \
            v1.losses.get_regularization_loss()
        train = v1.train.GradientDescentOptimizer(0.1).minimize(loss)
        sess = v1.Session()
        sess.run(v1.global_variables_initializer())
        step = lambda: sess.run(train, {x: xs, y: ys})  # noqa: E731
    else:
        keras = _compat.keras
        model = _seed_mlp(keras, lambda: compat_reg.l2_regularizer(0.01))
        optimizer = keras.optimizers.SGD(0.1)

        @tf.function
        def train():
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
                    ys, model(xs))) + compat_reg.get_regularization_loss(model)
            grads = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables))
        step = train
    step()
    return statistics.median(_median_call(step) for _ in range(5))


def tf1_vs_tf2(rounds):
    """The seed step on real TF 1.15 (the tf1 env's Python) against this TF2."""
    import subprocess
    python = os.environ.get("COMPAT_REG_TF1_PYTHON") or os.path.join(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".tox", "tf1", "bin",
        "python")
    if not os.path.exists(python):
        return None
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=here)
    env.pop("TF2_BEHAVIOR", None)  # TF2 sets it for itself; it would make TF 1.15 eager
    tf1_times, tf2_times = [], []
    for _ in range(rounds):
        out = subprocess.run([python, "-m", "benchmarks.runtime", "--tf1-step"], env=env,
                             cwd=here, stdout=subprocess.PIPE, universal_newlines=True,
                             check=True)
        tf1_times.append(float(out.stdout.split()[-1]))
        tf2_times.append(tf1_step_seconds())
    ratios = [t1 / t2 for t1, t2 in zip(tf1_times, tf2_times)]
    return dict(row="step: TF2 tf.function vs TF 1.15 Session.run",
                note="seed MLP SGD step with penalty; B = real TF 1.15 (%s)" % python,
                a_seconds=[round(t, 6) for t in tf2_times],
                b_seconds=[round(t, 6) for t in tf1_times],
                ratio_median=round(statistics.median(ratios), 2),
                ratio_spread=[round(min(ratios), 2), round(max(ratios), 2)])


def main(argv):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "--tf1-step" in argv:
        print(tf1_step_seconds())
        return 0
    records = rows(3)
    tf1 = tf1_vs_tf2(3)
    for r in records + ([tf1] if tf1 else []):
        print("%-52s %6.2fx [%.2f-%.2f]  %s" % (r["row"], r["ratio_median"],
                                                 r["ratio_spread"][0], r["ratio_spread"][1],
                                                 r["note"]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
