"""Distributed parity: the golden workloads under real ``tf.distribute``.

``compat-reg parity run --strategy mirrored|multiworker`` trains each
workload with the same global batch (the golden one, 32) on up to three
setups and measures them against each other and against the real TF 1.15
golden traces:

* one device: the ``tf2-keras`` and ``tf2-fit`` backends, in this process;
* ``mirrored``: ``MirroredStrategy`` over two logical CPU devices, in one
  worker process of its own (logical devices must be set before TensorFlow
  starts);
* ``multiworker``: ``MultiWorkerMirroredStrategy`` (ring all-reduce over
  gRPC) with two worker processes on 127.0.0.1, one replica each, free
  ports picked here and ``TF_CONFIG`` set per worker.

MLP workloads only (``unsupported``). Under a strategy the backends are
``<strategy>:tf2-keras``, a custom loop in
``strategy.run`` that averages each replica's data loss over the *global*
batch (``tf.nn.compute_average_loss``) and adds the penalty scaled by
``compat_reg.scale_regularization_loss`` (the replicas' gradients are
summed), and ``<strategy>:tf2-fit``, ``model.fit`` under ``strategy.scope()``,
which scales both itself. Replica ``r`` gets rows ``[r*16, (r+1)*16)`` of
every global batch of 32.

Workers are started and stopped here (``launch``): each in a session of its
own, with a time limit; the output of every worker is collected; a worker
that fails before writing its complete result (exit status, signal, time
limit) fails the run with its own error, and every other worker is stopped
at once (a multi-worker peer would otherwise wait for the dead one in its
next all-reduce); a complete result is taken whatever the exit after it
(``result_complete``). No worker outlives ``launch``.

Imports no TensorFlow until a function needs it.
"""

from __future__ import absolute_import, division, print_function

import collections
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid

import numpy as np

from compat_reg.parity import tf2_keras

STRATEGIES = ("mirrored", "multiworker")
STRATEGY_CLASSES = {"mirrored": "MirroredStrategy",
                    "multiworker": "MultiWorkerMirroredStrategy"}
STRATEGY_BACKENDS = ("tf2-keras", "tf2-fit")
REPLICAS = 2          # logical CPUs of the mirrored worker; worker processes
LOCALHOST = "127.0.0.1"
WORKER_MODULE = "compat_reg.parity._worker"
# The workers of one strategy on the six MLP workloads, 5 epochs, both
# backends took 33-91 s (parity run --strategy all: 153 s on TF 2.21, 164 s
# with tf_keras, 2 shared cores); a stuck all-reduce would never end.
DEFAULT_TIMEOUT = 1200.0
# The custom-loop port that adds the whole penalty on every replica.
UNSCALED_PORT = "penalty-unscaled"
OUTPUT_TAIL = 30      # lines of a failed worker's output quoted in the error
# The run id of every group of workers this process set up (each worker's
# argv carries it: ``live_workers(run_id)`` finds any that outlived it).
STARTED_RUNS = []

# Where fit under MirroredStrategy is off on some Keras 3 releases.
FIT_CAUSES = {
    "data-loss-drift": (
        "Keras %s's optimizer does not sum the replicas' gradients (keras-"
        "team/keras#19308, fixed in 3.5 by keras-team/keras#19969): each "
        "replica's copy takes its own half-batch step, so the data loss's "
        "part is off even without a penalty, and the copies drift apart; the"
        " penalty's part (whole on each replica) looks right (Keras 3.3-3.4)"),
    "step-times-replicas": (
        "Keras %s's fit under a strategy sums the replicas' gradients of "
        "losses it never divided by the number of replicas, so every step, "
        "penalty included, is applied num_replicas times (keras-team/keras"
        "#19891, Keras 3.5-3.7, fixed in 3.8 by keras-team/keras#20609; "
        "on Keras 3.3-3.4 too once the gradients are summed, as "
        "compat_reg.optimizers do)"),
}


class WorkerFailed(RuntimeError):
    """A worker process failed, timed out or was killed.

    Attributes: ``index`` (the worker, or None for the whole group),
    ``returncode`` and ``runs`` (a ``WorkerRun`` per worker, with output).
    """

    def __init__(self, message, index=None, returncode=None, runs=()):
        super(WorkerFailed, self).__init__(message)
        self.index = index
        self.returncode = returncode
        self.runs = list(runs)


WorkerRun = collections.namedtuple(
    "WorkerRun", "index pid argv returncode stdout stderr seconds note")
WorkerRun.__new__.__defaults__ = (None,)  # note: why a result was taken

# What a worker writes last: every file of its result with its SHA-256.
RESULT_FILE = "done.json"


def result_complete(out_dir, index):
    """Whether worker ``index`` wrote its complete result into ``out_dir``:
    its ``RESULT_FILE`` reads, and every file it lists is there with the
    SHA-256 it lists."""
    folder = os.path.join(out_dir, "worker%d" % index)
    try:
        with open(os.path.join(folder, RESULT_FILE), "rb") as handle:
            files = json.loads(handle.read().decode("utf-8"))["files"]
        for name, digest in files.items():
            with open(os.path.join(folder, name), "rb") as handle:
                if hashlib.sha256(handle.read()).hexdigest() != digest:
                    return False
    except (IOError, OSError, ValueError, KeyError, TypeError,
            AttributeError):
        return False
    return True


def unavailable_reason():
    """Why distributed parity cannot run on this TensorFlow, or None."""
    from compat_reg import _compat
    missing = _compat.DISTRIBUTED_PARITY_MISSING
    if missing is None:
        return None
    import tensorflow as tf
    return ("distributed parity needs %s, which TensorFlow %s does not have "
            "(compat_reg._compat.DISTRIBUTED_PARITY_MISSING)" % (
                missing, tf.__version__))


def require():
    """Raise ``RuntimeError`` naming the missing API if unavailable."""
    reason = unavailable_reason()
    if reason:
        raise RuntimeError(reason)


# ---------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------

def free_ports(count, host=LOCALHOST):
    """``count`` distinct TCP ports free on ``host`` now (bound together, so
    distinct, then released for the workers to bind)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((host, 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def tf_config(addresses, index):
    """The ``TF_CONFIG`` of worker ``index`` in a cluster of ``addresses``."""
    return json.dumps({"cluster": {"worker": list(addresses)},
                       "task": {"type": "worker", "index": int(index)}})


def live_workers(marker=WORKER_MODULE):
    """PIDs of running processes whose command line contains ``marker`` (a
    run id, or by default any parity worker), from ``/proc``; zombies are not
    counted. Empty where there is no ``/proc``."""
    found = []
    if not os.path.isdir("/proc"):
        return found
    needle = marker.encode("utf-8")
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as handle:
                cmdline = handle.read()
            with open("/proc/%s/stat" % entry, "rb") as handle:
                state = handle.read().rsplit(b")", 1)[1].split()[0]
        except (IOError, OSError, IndexError):
            continue
        if needle in cmdline and state != b"Z":
            found.append(int(entry))
    return found


def _stop(process, grace):
    """Stop ``process`` and its session: SIGTERM, then SIGKILL."""
    if process.poll() is not None:
        return
    group = hasattr(os, "killpg")
    try:
        if group:
            os.killpg(process.pid, signal.SIGTERM)
        else:
            process.terminate()
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        if group:
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
        process.wait()
    except OSError:  # already gone
        process.wait()


def _status(returncode):
    if returncode is None:
        return "still running"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = "signal %d" % -returncode
        return "killed by %s" % name
    return "exit status %d" % returncode


def _tail(text, lines=OUTPUT_TAIL):
    kept = [line for line in text.splitlines() if line.strip()]
    return "\n".join("    " + line for line in kept[-lines:])


def launch(commands, envs, timeout, log_dir, on_start=None, grace=5.0,
           poll=0.05, finished=None):
    """Run worker processes together; returns a ``WorkerRun`` per worker.

    Args:
      commands: one argv list per worker.
      envs: one environment dict per worker.
      timeout: seconds for the whole group.
      log_dir: where each worker's stdout and stderr go (files, so that a
        chatty worker cannot block on a full pipe).
      on_start: called with the list of ``subprocess.Popen`` once all run.
      grace: seconds between SIGTERM and SIGKILL when stopping a worker.
      finished: ``index -> bool``, whether a worker wrote its complete
        result (``result_complete``). Given, a worker is done once its
        result is complete, however it exits after that: a signal or a
        non-zero status then, or a teardown that hangs (stopped after
        ``grace`` seconds), is noted in its ``WorkerRun``'s ``note`` and the
        result taken; an exit, even status 0, without a complete result
        fails. None: done means exit status 0.

    Raises:
      WorkerFailed: the first worker seen to fail (non-zero exit or a
        signal before a complete result), naming it and quoting its output;
        or the time limit. Every worker is stopped and reaped before it is
        raised.
    """
    if len(commands) != len(envs):
        raise ValueError("%d commands, %d environments" % (len(commands),
                                                           len(envs)))
    processes, handles, started = [], [], time.time()
    failure = None
    try:
        for index, (argv, env) in enumerate(zip(commands, envs)):
            out = open(os.path.join(log_dir, "worker%d.out" % index), "wb")
            err = open(os.path.join(log_dir, "worker%d.err" % index), "wb")
            handles.extend([out, err])
            processes.append(subprocess.Popen(
                argv, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                start_new_session=True))
        if on_start is not None:
            on_start(list(processes))
        deadline = started + timeout
        complete = set()  # workers whose result checked out (checked once)
        while True:
            codes = [p.poll() for p in processes]
            for i, c in enumerate(codes):
                if i not in complete and (finished(i) if finished is not None
                                          else c == 0):
                    complete.add(i)
            bad = [i for i, c in enumerate(codes)
                   if c is not None and i not in complete]
            if bad:
                failure = ("failed", bad[0])
                break
            if len(complete) == len(processes):
                for process in processes:  # the last steps of a clean exit
                    try:
                        process.wait(timeout=grace)
                    except subprocess.TimeoutExpired:
                        break  # stuck after its result: stopped below
                break
            if time.time() > deadline:
                failure = ("timeout", None)
                break
            time.sleep(poll)
    finally:
        for process in processes:
            _stop(process, grace)
        for handle in handles:
            handle.close()
    seconds = time.time() - started
    runs = []
    for index, (argv, process) in enumerate(zip(commands, processes)):
        note = None
        if failure is None and process.returncode != 0:
            note = ("worker %d (pid %d) %s after writing its complete result:"
                    " result taken (the exit came after it, e.g. TensorFlow's "
                    "teardown%s)" % (index, process.pid,
                                     _status(process.returncode),
                                     ", stopped here" if process.returncode in (
                                         -signal.SIGTERM, -signal.SIGKILL)
                                     else ""))
        runs.append(WorkerRun(index, process.pid, list(argv),
                              process.returncode,
                              _read(log_dir, "worker%d.out" % index),
                              _read(log_dir, "worker%d.err" % index), seconds,
                              note))
    if failure is None:
        return runs
    if failure[0] == "timeout":
        raise WorkerFailed(
            "workers timed out after %.0f s (limit %.0f s) and were stopped;"
            " their output ends with:\n%s" % (seconds, timeout, "\n".join(
                "  worker %d:\n%s" % (r.index, _tail(r.stdout + r.stderr, 8))
                for r in runs)), runs=runs)
    run = runs[failure[1]]
    raise WorkerFailed(
        "worker %d (pid %d) failed: %s%s after %.1f s; the other workers were "
        "stopped. Its output ends with:\n%s" % (
            run.index, run.pid, _status(run.returncode),
            " without a complete result" if finished is not None else "",
            seconds, _tail(run.stdout + "\n" + run.stderr)),
        index=run.index, returncode=run.returncode, runs=runs)


def _read(folder, name):
    path = os.path.join(folder, name)
    if not os.path.exists(path):
        return ""
    with open(path, "rb") as handle:
        return handle.read().decode("utf-8", "replace")


def _package_root():
    import compat_reg
    return os.path.dirname(os.path.dirname(os.path.abspath(compat_reg.__file__)))


def worker_env(extra=None):
    """This process's environment for a worker: the same ``compat_reg`` on
    ``PYTHONPATH``, no inherited ``TF_CONFIG``, quiet TF C++ logs."""
    env = dict(os.environ)
    env.pop("TF_CONFIG", None)
    env["PYTHONPATH"] = os.pathsep.join(
        [_package_root()] + [p for p in env.get("PYTHONPATH", "").split(
            os.pathsep) if p])
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("PYTHONHASHSEED", "0")
    env.update(extra or {})
    return env


def worker_command(strategy, spec_path, out_dir, index, run_id):
    """The argv of one worker."""
    return [sys.executable, "-m", WORKER_MODULE, "--strategy", strategy,
            "--spec", spec_path, "--out-dir", out_dir, "--index", str(index),
            "--run-id", run_id]


def worker_commands(strategy, spec, run_dir, run_id=None):
    """``(commands, envs, info)`` for the workers of ``strategy``.

    ``spec`` is the job description the worker reads (see
    ``compat_reg.parity._worker``); it is written to ``run_dir``.
    """
    if strategy not in STRATEGIES:
        raise ValueError("unknown strategy %r; known: %s" % (
            strategy, ", ".join(STRATEGIES)))
    run_id = run_id or "compat-reg-run-%s" % uuid.uuid4().hex
    STARTED_RUNS.append(run_id)
    spec_path = os.path.join(run_dir, "spec.json")
    with open(spec_path, "w") as handle:
        json.dump(spec, handle, indent=1)
    if strategy == "mirrored":
        count, info = 1, {"processes": 1, "devices": ["/cpu:0", "/cpu:1"]}
    else:
        count = REPLICAS
        ports = free_ports(count)
        addresses = ["%s:%d" % (LOCALHOST, p) for p in ports]
        info = {"processes": count, "addresses": addresses,
                "communication": "RING"}
    commands, envs = [], []
    for index in range(count):
        commands.append(worker_command(strategy, spec_path, run_dir, index,
                                       run_id))
        extra = ({"TF_CONFIG": tf_config(info["addresses"], index)}
                 if strategy == "multiworker" else {})
        envs.append(worker_env(extra))
    info["run_id"] = run_id
    return commands, envs, info


# ---------------------------------------------------------------------------
# Inside a worker process
# ---------------------------------------------------------------------------

def configure_process(strategy, op_determinism=False):
    """Set this worker's devices and threads before TensorFlow starts.

    ``mirrored``: the CPU split into ``REPLICAS`` logical devices;
    ``multiworker``: one CPU device per worker. One intra- and one inter-op
    thread each (``determinism.configure``).
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf
    # the experimental names exist in every TF 2.x (the others from TF 2.1)
    experimental = tf.config.experimental
    cpu = experimental.list_physical_devices("CPU")[0]
    if strategy == "mirrored":
        experimental.set_virtual_device_configuration(
            cpu, [experimental.VirtualDeviceConfiguration()] * REPLICAS)
    from compat_reg.parity import determinism
    problems = determinism.configure(op_determinism=op_determinism)
    if problems:
        raise RuntimeError("TensorFlow started before its devices were set: "
                           "%s" % "; ".join(problems))


def make_strategy(strategy):
    """The ``tf.distribute`` strategy of this worker (after
    ``configure_process``); checks it has ``REPLICAS`` replicas."""
    import tensorflow as tf
    require()
    if strategy == "mirrored":
        result = tf.distribute.MirroredStrategy(
            ["/cpu:%d" % i for i in range(REPLICAS)])
    elif strategy == "multiworker":
        if not os.environ.get("TF_CONFIG"):
            raise RuntimeError("a multiworker worker needs TF_CONFIG")
        experimental = tf.distribute.experimental
        result = tf.distribute.MultiWorkerMirroredStrategy(
            communication_options=experimental.CommunicationOptions(
                implementation=experimental.CommunicationImplementation.RING))
    else:
        raise ValueError("unknown strategy %r" % (strategy,))
    if result.num_replicas_in_sync != REPLICAS:
        raise RuntimeError("%s has %d replicas, expected %d" % (
            STRATEGY_CLASSES[strategy], result.num_replicas_in_sync, REPLICAS))
    return result


def _is_tf1_optimizer(optimizer):
    import tensorflow as tf
    return isinstance(optimizer, tf.compat.v1.train.Optimizer)


def _replica_values(strategy, xb, yb):
    """Per-replica ``(x, y)``: replica r gets rows [r*n, (r+1)*n) of the
    global batch, n = batch / replicas (in every worker process)."""
    import tensorflow as tf
    replicas = strategy.num_replicas_in_sync
    if len(xb) % replicas:
        raise ValueError("a global batch of %d does not split into %d "
                         "replicas" % (len(xb), replicas))
    size = len(xb) // replicas

    def value(context):
        start = context.replica_id_in_sync_group * size
        return (tf.constant(xb[start:start + size]),
                tf.constant(yb[start:start + size]))

    return strategy.experimental_distribute_values_from_function(value)


def _snapshot(variables):
    return [np.array(v.numpy()) for v in variables]


def replica_spread(strategy, variables):
    """Largest absolute difference between the local copies of any variable
    (0.0 when the replicas of this process are in sync)."""
    from compat_reg import _compat
    worst = 0.0
    for variable in variables:
        copies = [np.asarray(c.numpy()) for c in
                  strategy.experimental_local_results(
                      _compat.tf_variable(variable))]
        for copy in copies[1:]:
            worst = max(worst, float(np.max(np.abs(copy - copies[0]))))
    return worst


def train_loop(strategy, model, variables, data, batch_order, optimizer,
               penalty="scaled"):
    """Custom loop in ``strategy.run``; returns (curves, per_epoch, start,
    final). ``penalty``: ``scaled`` (``scale_regularization_loss``, the
    correct port), ``unscaled`` (the whole penalty on every replica) or
    ``none`` (never added). Recorded per step: the global batch's mean data
    loss (sum over replicas), the model's penalty, and what the summed
    gradients minimised (sum over replicas of each replica's loss)."""
    import tensorflow as tf
    from compat_reg import _compat, losses
    from compat_reg.parity import evaluation
    if penalty not in ("scaled", "unscaled", "none"):
        raise ValueError("penalty must be scaled, unscaled or none, not %r" % (
            penalty,))
    global_batch = batch_order.shape[2]

    def replica_step(x, y):
        with tf.GradientTape() as tape:
            logits = model(x, training=True)
            data_loss = tf.nn.compute_average_loss(
                tf.nn.sparse_softmax_cross_entropy_with_logits(
                    labels=y, logits=logits), global_batch_size=global_batch)
            reg = evaluation.model_regularization_loss(model)
            if penalty == "scaled":
                total = data_loss + losses.scale_regularization_loss(reg)
            elif penalty == "unscaled":
                total = data_loss + reg
            else:
                total = data_loss
        grads = tape.gradient(total, variables)
        optimizer.apply_gradients(zip(grads, variables))
        return data_loss, reg, total

    @tf.function
    def step(x, y):
        data_loss, reg, total = _compat.strategy_run(strategy, replica_step,
                                                     args=(x, y))
        add, mean = tf.distribute.ReduceOp.SUM, tf.distribute.ReduceOp.MEAN
        return (strategy.reduce(add, data_loss, axis=None),
                strategy.reduce(mean, reg, axis=None),
                strategy.reduce(add, total, axis=None))

    curves, per_epoch = tf2_keras._empty()
    start = _snapshot(variables)
    for epoch in range(batch_order.shape[0]):
        for xb, yb in evaluation.batches(data, batch_order, epoch):
            values = step(*_replica_values(strategy, xb, yb))
            for key, value in zip(curves, values):
                curves[key].append(float(value))
        tf2_keras._evaluate(model, data, per_epoch)
    return curves, per_epoch, start, _snapshot(variables)


def _epoch_dataset(data, rows, batch):
    """One epoch's batches for ``fit``; sharded by data, so each worker of a
    multi-worker run takes its part of every global batch."""
    import tensorflow as tf
    dataset = tf.data.Dataset.from_tensor_slices(
        (data.x_train[rows.reshape(-1)], data.y_train[rows.reshape(-1)])
    ).batch(batch)
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = (
        tf.data.experimental.AutoShardPolicy.DATA)
    return dataset.with_options(options)


def train_fit(strategy, model, variables, data, batch_order, optimizer,
              manual_add=False):
    """``model.fit`` under ``strategy.scope()``, one call per epoch; returns
    (curves, per_epoch, start, final).

    Per step, before ``fit`` applies it, a callback records the data loss of
    the whole global batch and the penalty at the current weights (both as
    the one-device ``tf2-fit`` records them), and as total what the port
    asks ``fit`` to minimise: data loss plus penalty (twice with
    ``manual_add``, a compiled loss that adds it by hand). Whether ``fit``
    minimises that is what the curves then show.
    """
    import tensorflow as tf
    from compat_reg import _compat
    from compat_reg.parity import evaluation
    keras = _compat.keras
    # the loss object itself: Keras 2 refuses a Loss called inside a wrapper
    # function under a strategy (its reduction would be ambiguous)
    port_loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    if manual_add:
        def port_loss(y_true, y_pred):
            # per example, so fit's own mean over the batch keeps it whole
            return keras.losses.sparse_categorical_crossentropy(
                y_true, y_pred, from_logits=True) + (
                    evaluation.model_regularization_loss(model))

    curves, per_epoch = tf2_keras._empty()
    position = {"epoch": 0}

    class Recorder(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            rows = batch_order[position["epoch"]][batch]
            logits = model(data.x_train[rows], training=False)
            data_loss = float(evaluation.cross_entropy(
                tf.constant(data.y_train[rows]), logits))
            reg = float(evaluation.model_regularization_loss(model))
            curves["data_loss"].append(data_loss)
            curves["reg_loss"].append(reg)
            curves["total_loss"].append(float(np.float32(data_loss) + np.float32(
                reg) * np.float32(2 if manual_add else 1)))

    with strategy.scope():
        model.compile(optimizer=optimizer, loss=port_loss,
                      **_compat.compile_without_xla())
    start = _snapshot(variables)
    recorder = Recorder()
    for epoch in range(batch_order.shape[0]):
        position["epoch"] = epoch
        model.fit(_epoch_dataset(data, batch_order[epoch], batch_order.shape[2]),
                  epochs=1, verbose=0, shuffle=False, callbacks=[recorder])
        tf2_keras._evaluate(model, data, per_epoch)
    return curves, per_epoch, start, _snapshot(variables)


def _no_regularizer(reg):
    del reg


def _build(strategy, workload, regularizer, init, optimizer_fn):
    """A model and its optimizer, created in ``strategy``'s scope (None: no
    strategy) and built there, so no variable is created in a replica."""
    from compat_reg import _compat
    scope = strategy.scope() if strategy is not None else _null()
    with scope:
        model = tf2_keras.mlp_model(workload.config, regularizer, init)
        optimizer = optimizer_fn()
        if not _is_tf1_optimizer(optimizer):
            _compat.build_optimizer(optimizer, model.trainable_weights)
    return model, optimizer


class _null(object):
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _adam_state(optimizer):
    """``(beta1_power, beta2_power)`` of an Adam optimizer, else None."""
    from compat_reg import _compat
    powers = None
    if hasattr(optimizer, "beta1_power"):
        powers = (optimizer.beta1_power, optimizer.beta2_power)
    elif hasattr(optimizer, "_get_beta_accumulators"):  # tf.compat.v1.train
        powers = optimizer._get_beta_accumulators()
    if powers is None:
        return None
    return [float(np.asarray(_compat.tf_variable(p).numpy())) for p in powers]


def run_job(strategy, strategy_name, workload, backend, optimizers="exact",
            port_name="correct"):
    """Train ``workload`` on ``backend`` (``tf2-keras`` or ``tf2-fit``) under
    ``strategy``; returns a Trace whose backend is ``<strategy>:<backend>``
    and whose env says how it ran (strategy, replicas, workers, penalty)."""
    from compat_reg import _compat
    from compat_reg.parity import backends, ports
    from compat_reg.parity import trace as trace_mod
    if backend not in STRATEGY_BACKENDS:
        raise ValueError("backend %r does not run under a strategy; these do:"
                         " %s" % (backend, ", ".join(STRATEGY_BACKENDS)))
    port = ports.Port(name=UNSCALED_PORT) if port_name == UNSCALED_PORT else (
        ports.get(port_name))
    config = workload.config
    _compat.keras.backend.clear_session()
    model, optimizer = _build(
        strategy, workload, port.regularizer,
        workload.init if port.copy_init else None,
        lambda: (port.optimizer(config) if port.optimizer is not None
                 else backends.optimizer_for(config, optimizers)))
    variables = model.trainable_weights
    if backend == "tf2-keras":
        penalty = ("unscaled" if port_name == UNSCALED_PORT else
                   "scaled" if port.add_penalty else "none")
        curves, per_epoch, start, final = train_loop(
            strategy, model, variables, workload.data, workload.batch_order,
            optimizer, penalty)
        how = {"scaled": "scale_regularization_loss", "unscaled": "unscaled",
               "none": "not added"}[penalty]
    else:
        curves, per_epoch, start, final = train_fit(
            strategy, model, variables, workload.data, workload.batch_order,
            optimizer, manual_add=port.manual_add)
        how = "fit" + (" + manual add" if port.manual_add else "")
    names = workload.variable_names()
    name = "%s:%s" % (strategy_name, backend)
    trace = backends.make_trace(
        name, optimizers, collections.OrderedDict(
            [("name", workload.name), ("config", config)]),
        port.name if backend == "tf2-keras" or port_name != UNSCALED_PORT
        else "correct",
        trace_mod.optimizer_hparams(optimizer, config["optimizer"]),
        collections.OrderedDict(zip(names, start)),
        collections.OrderedDict(zip(names, final)), curves, per_epoch,
        workload.batch_order)
    trace.env.update(collections.OrderedDict([
        ("strategy", STRATEGY_CLASSES[strategy_name]),
        ("replicas", int(strategy.num_replicas_in_sync)),
        ("workers", REPLICAS if strategy_name == "multiworker" else 1),
        ("penalty_scaling", how),
        ("replica_spread", replica_spread(strategy, variables)),
        ("optimizer_steps", int(np.prod(workload.batch_order.shape[:2]))),
    ]))
    powers = _adam_state(optimizer)
    if powers is not None:
        trace.env["adam_beta_powers"] = powers
    return trace


def fit_probe(strategy, workload):
    """One SGD step of ``fit`` on the first batch, under ``strategy`` and on
    one device, with the workload's penalty and without: how the step under
    the strategy compares, split into the data loss's part (the step without
    a penalty) and the penalty's part (with minus without).

    Returns ``{"data": {"ratio", "difference"}, "penalty": ... or None}``:
    ``ratio`` is ||strategy step|| / ||one-device step|| over all weights,
    ``difference`` ||strategy - one device|| / ||one device||.
    """
    from compat_reg import _compat, optimizers
    from compat_reg.parity import ports
    keras = _compat.keras
    rows = workload.batch_order[0][0]
    spec = {"optimizer": "sgd", "lr": workload.config["lr"]}

    def step(on, regularizer):
        keras.backend.clear_session()
        model, optimizer = _build(on, workload, regularizer, workload.init,
                                  lambda: optimizers.get(spec))
        scope = on.scope() if on is not None else _null()
        with scope:
            model.compile(optimizer=optimizer,
                          loss=keras.losses.SparseCategoricalCrossentropy(
                              from_logits=True),
                          **_compat.compile_without_xla())
        model.fit(_epoch_dataset(workload.data, rows[None, :], len(rows)),
                  epochs=1, verbose=0, shuffle=False)
        return np.concatenate([(np.asarray(v.numpy()) - np.asarray(w)).ravel()
                               for v, w in zip(model.trainable_weights,
                                               workload.init)])

    def compare(got, want):
        norm = float(np.linalg.norm(want))
        return collections.OrderedDict([
            ("ratio", float(np.linalg.norm(got)) / norm),
            ("difference", float(np.linalg.norm(got - want)) / norm)])

    plain = [step(on, _no_regularizer) for on in (strategy, None)]
    result = collections.OrderedDict([("data", compare(*plain)),
                                      ("penalty", None)])
    if workload.config.get("reg"):
        full = [step(on, ports.compat_regularizer) for on in (strategy, None)]
        result["penalty"] = compare(full[0] - plain[0], full[1] - plain[1])
    return result


# ---------------------------------------------------------------------------
# The harness
# ---------------------------------------------------------------------------

def unsupported(workload):
    """Why ``workload`` cannot train under a strategy here, or None.

    Only MLP workloads do: a batch norm layer under a strategy normalises
    each replica's part of the batch (TF1's one-device run normalised the
    whole batch), and the convnet's dropout masks are fed per global batch.
    """
    model = workload.config.get("model", "mlp")
    if model != "mlp":
        return ("%s: --strategy trains MLP workloads only, not a %s (batch "
                "norm under a strategy normalises each replica's part of the "
                "batch; dropout masks are fed per global batch)" % (
                    workload.name, model))
    return None


def job(workload, backend, port_name=None):
    """One job of a worker: ``workload`` (a Workload, cut to the epochs it
    should train) on ``backend`` (``tf2-keras``/``tf2-fit``), optionally
    with its own port (default: the spec's)."""
    if backend not in STRATEGY_BACKENDS:
        raise ValueError("backend %r does not run under a strategy; these do:"
                         " %s" % (backend, ", ".join(STRATEGY_BACKENDS)))
    reason = unsupported(workload)
    if reason:
        raise ValueError(reason)
    entry = {"workload": workload.name, "golden_path": workload.golden_path,
             "epochs": workload.config["epochs"], "backend": backend}
    if port_name is not None:
        entry["port"] = port_name
    return entry


def job_spec(jobs, optimizers="exact", port_name="correct",
             op_determinism=False, probe=True):
    """What every worker of a run reads (a JSON dict): ``jobs`` (see
    ``job``), in order; ``probe``: run ``fit_probe`` after them when there
    is a ``tf2-fit`` job."""
    labels = [job_label(j, port_name) for j in jobs]
    if len(set(labels)) != len(labels):
        raise ValueError("two jobs train the same workload, backend and port")
    return {"jobs": list(jobs), "optimizers": optimizers, "port": port_name,
            "op_determinism": bool(op_determinism), "probe": bool(probe)}


def job_label(entry, default_port="correct"):
    """``workload__backend`` plus ``--port`` when the job has its own port."""
    port = entry.get("port", default_port)
    return "%s__%s%s" % (entry["workload"], entry["backend"],
                         "" if port == default_port else "--" + port)


def load_workload(entry):
    """The workload a job names (built-in name or golden file, cut to its
    epochs)."""
    from compat_reg.parity import workloads
    if entry["workload"] in workloads.BUILTIN:
        work = workloads.builtin(entry["workload"])
    else:
        work = workloads.from_golden(entry["golden_path"])
    return work.truncated(entry.get("epochs"))


def trace_file(entry, strategy, default_port="correct"):
    """Where a worker writes the trace of a job."""
    workload, rest = job_label(entry, default_port).split("__", 1)
    return "%s__%s-%s.json" % (workload, strategy, rest)


class StrategyRun(object):
    """What the workers of one strategy produced.

    ``traces``: workload -> {label: Trace} (worker 0's), the label being the
    trace's backend (``mirrored:tf2-keras``) plus ``--<port>`` for a job with
    a port of its own; ``probe``: the ``fit_probe`` result or None;
    ``info``: processes, addresses, run id, wall time; ``runs``: a
    ``WorkerRun`` per worker (exit status, output); ``sync``: label -> the
    largest difference of another worker's curves or final weights from
    worker 0's (also the trace's ``env["worker_spread"]``); ``failed``:
    (workload, label) -> what a ``fit`` job raised.
    """

    def __init__(self, strategy, traces, probe, info, runs, sync, failed=None):
        self.strategy = strategy
        self.traces = traces
        self.probe = probe
        self.info = info
        self.runs = runs
        self.sync = sync
        self.failed = failed or collections.OrderedDict()

    def describe(self):
        info = self.info
        where = ("1 process, %d logical CPUs (%s)" % (
            REPLICAS, ", ".join(info["devices"]))
            if self.strategy == "mirrored" else
            "%d worker processes on %s, %s all-reduce" % (
                info["processes"], ", ".join(info["addresses"]),
                info["communication"]))
        return "%s (%s): %s, %d replicas, %.1f s wall%s" % (
            self.strategy, STRATEGY_CLASSES[self.strategy], where, REPLICAS,
            info["seconds"], "".join("\n  note: " + r.note
                                     for r in self.runs if r.note))


def _max_difference(a, b):
    worst = 0.0
    for key in a.curves:
        worst = max(worst, float(np.max(np.abs(
            np.asarray(a.curves[key]) - np.asarray(b.curves[key])))))
    for key in a.final_weights:
        worst = max(worst, float(np.max(np.abs(
            a.final_weights[key] - b.final_weights[key]))))
    return worst


def run_jobs(strategy, spec, timeout=DEFAULT_TIMEOUT, on_start=None):
    """Run the workers of ``strategy`` on ``spec`` (``job_spec``) and read
    what they wrote; returns a ``StrategyRun``. Raises ``WorkerFailed`` if
    any worker fails (every worker is stopped first)."""
    from compat_reg.parity import trace as trace_mod
    require()
    run_dir = tempfile.mkdtemp(prefix="compat-reg-%s-" % strategy)
    try:
        commands, envs, info = worker_commands(strategy, spec, run_dir)
        runs = launch(commands, envs, timeout, run_dir, on_start=on_start,
                      finished=lambda index: result_complete(run_dir, index))
        info["seconds"] = runs[0].seconds
        traces = collections.OrderedDict()
        sync = collections.OrderedDict()
        failed = collections.OrderedDict()
        for entry in spec["jobs"]:
            name = trace_file(entry, strategy, spec["port"])
            label = "%s:%s" % (strategy, job_label(entry, spec["port"]).split(
                "__", 1)[1])
            error = os.path.join(run_dir, "worker0",
                                 name[:-len(".json")] + ".error")
            if os.path.exists(error):
                with open(error) as handle:
                    failed[(entry["workload"], label)] = json.load(handle)
                continue
            mine = [trace_mod.load(os.path.join(run_dir, "worker%d" % r.index,
                                                name)) for r in runs]
            for found in mine:
                found.path = None
            traces.setdefault(entry["workload"], collections.OrderedDict())[
                label] = mine[0]
            if len(mine) > 1:
                spread = max(_max_difference(t, mine[0]) for t in mine[1:])
                sync["%s %s" % (entry["workload"], label)] = spread
                mine[0].env["worker_spread"] = spread
        probe_path = os.path.join(run_dir, "worker0", "probe.json")
        probe = None
        if os.path.exists(probe_path):
            with open(probe_path) as handle:
                probe = json.load(handle)
        return StrategyRun(strategy, traces, probe, info, runs, sync, failed)
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)


def run_strategy(strategy, workloads, backend_names=STRATEGY_BACKENDS,
                 optimizers="exact", port_name="correct",
                 timeout=DEFAULT_TIMEOUT, op_determinism=False, probe=True,
                 on_start=None):
    """Train every workload on every backend under ``strategy`` in worker
    processes (``run_jobs``); returns a ``StrategyRun``."""
    jobs = [job(w, b) for w in workloads for b in backend_names]
    return run_jobs(strategy, job_spec(jobs, optimizers, port_name,
                                       op_determinism, probe),
                    timeout, on_start)


def _close(value, target, bound=None):
    from compat_reg.parity import tolerances as tol
    bound = tol.RATIO if bound is None else bound
    return abs(value - target) <= bound * max(1.0, abs(target))


def _is_loop(trace):
    return bool(trace.env.get("strategy")) and trace.backend.endswith(
        ":tf2-keras")


def _is_fit(trace):
    return bool(trace.env.get("strategy")) and trace.backend.endswith(
        ":tf2-fit")


def _strategy_of(trace):
    return trace.backend.split(":", 1)[0]


def replica_cause(trace, replicas):
    """The diagnosis of a custom loop that applies the penalty ``replicas``
    times: it added the unscaled penalty on every replica."""
    return ("%s adds the whole penalty on each of its %d replicas and the "
            "replicas' gradients are summed, so the penalty is applied %dx "
            "(the replica factor): scale it per replica with "
            "compat_reg.scale_regularization_loss(penalty) or "
            "compat_reg.get_regularization_loss(model, per_replica=True) "
            "(TF2's tf.nn.scale_regularization_loss)" % (
                trace.name, replicas, replicas))


def explain(result, probes=None):
    """Check what only a distributed run can get wrong, and name the
    distributed cause of a failed Comparison, in place; returns it.

    * a trace whose replicas' copies of the weights differ after training
      fails (``replica_spread``: the replicas fell out of sync);
    * a custom loop whose penalty reaches the optimizer ``replicas`` times
      (or 1/``replicas`` times, seen from the other side) did not scale it
      per replica (the generic "counted twice" cause is replaced);
    * ``fit`` under a strategy whose one-step ``fit_probe`` is off: Keras'
      fit under that strategy, not the port (replaces the generic drift).
    """
    probes = probes or {}
    cand, ref = result.candidate, result.reference
    for trace in (cand, ref):
        for key, what in (("replica_spread", "the replicas' copies of the "
                           "weights in one process"),
                          ("worker_spread", "the workers' curves or weights")):
            spread = trace.env.get(key) or 0.0
            if spread > 0.0:
                cause = sync_cause()
                result.fail("%s: %s differ by %.3g after training" % (
                    trace.name, what, spread))
                result.diagnoses[:] = [cause] + [
                    d for d in result.diagnoses
                    if d != cause and "drift from step" not in d]
                limit = upstream_limit(_strategy_of(trace), "sync")
                if limit and _correct_ports(result):
                    result.mark_unsupported(limit, cause)
    if result.ok or result.limit:
        return result
    if result.effective_ratio is not None and result.penalty_ratio:
        minimised = result.effective_ratio / result.penalty_ratio
        for trace, factor in ((cand, minimised),
                              (ref, 1.0 / minimised if minimised else 0.0)):
            replicas = trace.env.get("replicas") or 1
            if _is_loop(trace) and replicas > 1 and _close(factor, replicas):
                result.diagnoses[:] = [d for d in result.diagnoses if not (
                    "counted twice" in d or "carries" in d)]
                result.diagnoses.insert(0, replica_cause(trace, replicas))
                return result
    for trace in (cand, ref):
        if not _is_fit(trace):
            continue
        cause = fit_cause(probes.get(_strategy_of(trace)),
                          trace.env.get("strategy"))
        if cause:
            result.diagnoses[:] = [d for d in result.diagnoses
                                   if "drift from step" not in d]
            result.diagnoses.insert(0, cause)
            limit = upstream_limit(_strategy_of(trace), "fit")
            if limit and _correct_ports(result):
                result.mark_unsupported(limit, cause)
            return result
    return result


def _correct_ports(result):
    """Both traces of a row come from the correct port (a wrong port's row
    fails even where an upstream limit would explain it too)."""
    return all(t.port.get("name") in ("correct", None)
               for t in (result.candidate, result.reference))


def upstream_limit(strategy, what):
    """The ``_compat`` fact saying that this Keras cannot do ``what`` under
    ``strategy`` for an upstream bug (not the port), or None. ``what``:
    ``fit-raises`` (Keras 3's fit under MultiWorkerMirroredStrategy,
    ``MULTIWORKER_FIT``), ``fit`` (one fit step under MirroredStrategy on
    Keras 3.3-3.7, ``MIRRORED_FIT`` and ``FIT_CAUSES``) or ``sync`` (a Keras
    optimizer that does not sum the replicas' gradients, Keras 3.0-3.4,
    ``OPTIMIZER_SUMS_REPLICA_GRADIENTS``). Rows they explain read
    ``unsupported here``."""
    from compat_reg import _compat
    if what == "fit-raises" and strategy == "multiworker" and (
            _compat.MULTIWORKER_FIT == "raises"):
        return "compat_reg._compat.MULTIWORKER_FIT = 'raises'"
    if what == "fit" and strategy == "mirrored" and (
            _compat.MIRRORED_FIT_EXACT_OPTIMIZERS in FIT_CAUSES):
        return "compat_reg._compat.MIRRORED_FIT = %r" % (
            _compat.MIRRORED_FIT_EXACT_OPTIMIZERS,)
    if what == "sync" and not _compat.OPTIMIZER_SUMS_REPLICA_GRADIENTS:
        return "compat_reg._compat.OPTIMIZER_SUMS_REPLICA_GRADIENTS = False"
    return None


def sync_cause():
    """Why the replicas of a strategy end with different weights."""
    from compat_reg import _compat
    if not _compat.OPTIMIZER_SUMS_REPLICA_GRADIENTS:
        return ("Keras %s's optimizer does not sum the replicas' gradients "
                "under tf.distribute: each replica applies only its own "
                "gradient to its own copy of the weights, which drift apart "
                "(compat_reg._compat.OPTIMIZER_SUMS_REPLICA_GRADIENTS = False;"
                " keras-team/keras#19308, fixed in Keras 3.5 by keras-team/"
                "keras#19969; compat_reg.optimizers inherit it). Not the port:"
                " use Keras >= 3.5, tf_keras, or sum the gradients with "
                "tf.distribute.get_replica_context().all_reduce('sum', grads) "
                "before apply_gradients on Keras 3.0-3.4 only" %
                _compat.KERAS_VERSION)
    return ("the replicas fell out of sync: they applied different updates "
            "to their copies of the weights")


def fit_cause(probe, strategy_class="MirroredStrategy"):
    """The diagnosis a ``fit_probe`` result supports, or None if one fit
    step under the strategy equals one device's (to ``tolerances.RATIO``)."""
    from compat_reg import _compat
    from compat_reg.parity import tolerances as tol
    if not probe or probe.get("error"):
        return None
    data, penalty = probe["data"], probe.get("penalty")
    if all(p["difference"] <= tol.RATIO for p in (data, penalty) if p):
        return None
    measured = ("one SGD step of fit under %s on the first batch, against one"
                " device: the data loss's part %.3gx (differs by %.3g), the "
                "penalty's part %s" % (
                    strategy_class, data["ratio"], data["difference"],
                    "%.3gx (differs by %.3g)" % (
                        penalty["ratio"], penalty["difference"])
                    if penalty else "- (no penalty)"))
    # the probe and the harness's fit train with compat_reg.optimizers
    behaviour = _compat.MIRRORED_FIT_EXACT_OPTIMIZERS
    known = FIT_CAUSES.get(behaviour)
    if known:
        return ("%s: %s (compat_reg._compat.MIRRORED_FIT = %r). Not the port:"
                " train with a custom loop, or a Keras without it" % (
                    measured, known % _compat.KERAS_VERSION, behaviour))
    return "%s: Keras %s's fit under the strategy, not the port" % (
        measured, _compat.KERAS_VERSION)


def fit_error_cause(strategy):
    """Why ``fit`` could not train under ``strategy`` on this Keras."""
    from compat_reg import _compat
    if strategy == "multiworker" and _compat.MULTIWORKER_FIT == "raises":
        return ("Keras %s's fit does not run under MultiWorkerMirroredStrategy"
                " (compat_reg._compat.MULTIWORKER_FIT = 'raises'; "
                "keras-team/keras#20585, tensorflow/tensorflow#72388): not the"
                " port. Train multi-worker with a custom loop (scale the "
                "penalty per replica), or with tf_keras (TF_USE_LEGACY_KERAS=1)"
                % _compat.KERAS_VERSION)
    return "fit raised under %s on Keras %s (see the error)" % (
        STRATEGY_CLASSES.get(strategy, strategy), _compat.KERAS_VERSION)


def failed_comparison(workload, backend, error, reference, optimizers="exact"):
    """A failed row for a ``fit`` job that raised: no curves, the error and
    its cause (``fit_error_cause``)."""
    from compat_reg.parity import measure
    from compat_reg.parity import trace as trace_mod
    strategy = backend.split(":", 1)[0]
    env = trace_mod.env_record(backend, optimizers)
    env["strategy"] = STRATEGY_CLASSES.get(strategy, strategy)
    stub = trace_mod.Trace(
        env, collections.OrderedDict([("name", workload.name),
                                      ("config", workload.config)]),
        collections.OrderedDict(),
        dict((k, []) for k in ("data_loss", "reg_loss", "total_loss")), {},
        collections.OrderedDict())
    result = measure.Comparison(stub, reference)
    cause = fit_error_cause(strategy)
    result.fail("%s could not train: %s" % (backend, error), cause)
    limit = upstream_limit(strategy, "fit-raises")
    if limit:
        result.mark_unsupported(limit, cause)
    return result


def _reference(plan_list):
    return plan_list[0].reference if plan_list else None


def run_workloads(workloads, strategies, backend_names=None,
                  optimizers="exact", port_name="correct",
                  timeout=DEFAULT_TIMEOUT, op_determinism=False, stream=None):
    """``parity run --strategy``: one device, then each strategy.

    Returns ``(traces, results, runs)``: workload -> {backend: Trace} (the
    golden trace included), the Comparisons (each trace against the
    workload's reference, then every pair; distributed causes named by
    ``explain``; a ``fit`` that raised is a failed row), and the
    ``StrategyRun`` of each strategy. Raises ``WorkerFailed`` if a worker
    fails.
    """
    from compat_reg.parity import backends, pairing, ports, progress
    from compat_reg.parity import trace as trace_mod
    require()
    unknown = [s for s in strategies if s not in STRATEGIES]
    if unknown:
        raise ValueError("unknown strategy %r; known: %s" % (
            unknown[0], ", ".join(STRATEGIES)))
    strategies = [s for s in STRATEGIES if s in strategies]
    names = list(backend_names or backends.available())
    for name in names:
        backends.check_backend(name)
    one_device_port = ports.Port() if port_name == UNSCALED_PORT else (
        ports.get(port_name))
    under = [b for b in STRATEGY_BACKENDS if b in names]
    if not under:
        raise ValueError("--strategy trains %s; none of them was chosen" % (
            " and ".join(STRATEGY_BACKENDS)))
    all_traces = collections.OrderedDict(
        (w.name, collections.OrderedDict()) for w in workloads)
    runs = collections.OrderedDict()
    with progress.Progress(len(workloads) * len(names) + len(strategies),
                           stream) as bar:
        for workload in workloads:
            for name in [n for n in backends.BACKENDS if n in names]:
                bar.start("%s %s" % (workload.name, name))
                all_traces[workload.name][name] = backends.run(
                    workload, name, optimizers, one_device_port)
                bar.step()
        for strategy in strategies:
            bar.start("%s workers" % strategy)
            runs[strategy] = run_strategy(
                strategy, workloads, under, optimizers, port_name, timeout,
                op_determinism, probe="tf2-fit" in under)
            for wname, found in runs[strategy].traces.items():
                all_traces[wname].update(found)
            bar.step()
    probes = dict((s, r.probe) for s, r in runs.items())
    results = []
    for workload in workloads:
        traces = all_traces[workload.name]
        if workload.golden_path:
            traces["golden"] = trace_mod.from_golden(workload.golden_path)
        plan_list = [pairing.plan(workload.name, list(traces.values()))]
        rows, pairs = pairing.run(plan_list)
        results.extend(explain(r, probes) for r in rows + pairs)
        for run in runs.values():
            for (wname, backend), failure in run.failed.items():
                if wname == workload.name:
                    results.append(failed_comparison(
                        workload, backend, failure["error"],
                        _reference(plan_list), optimizers))
    return all_traces, results, runs


def describe_probe(strategy, probe):
    """One line about a ``fit_probe`` result."""
    from compat_reg import _compat
    if not probe:
        return "%s: fit probe not run" % strategy
    if probe.get("error"):
        return "%s fit probe: fit raised %s" % (strategy, probe["error"])
    penalty = probe.get("penalty")
    return ("%s fit probe (one SGD step, first batch, vs one device): data "
            "loss's part %.4fx, penalty's part %s; MIRRORED_FIT=%s, "
            "MULTIWORKER_FIT=%s" % (
                strategy, probe["data"]["ratio"],
                "%.4fx" % penalty["ratio"] if penalty else "-",
                _compat.MIRRORED_FIT_EXACT_OPTIMIZERS, _compat.MULTIWORKER_FIT))
