"""The worker processes of ``compat-reg parity run --strategy``.

A strategy is a parameter of the TF2 backends (``backends.run``,
``registry.STRATEGIES``); the strategies that need devices or processes of
their own train in workers started here, each with the same global batch
(the golden one, 32):

* ``mirrored``: ``MirroredStrategy`` over ``REPLICAS`` logical CPU devices,
  in one worker process (logical devices must be set before TensorFlow
  starts: ``configure_process``);
* ``multiworker``: ``MultiWorkerMirroredStrategy`` (ring all-reduce over
  gRPC) with ``REPLICAS`` worker processes on 127.0.0.1, one replica each,
  free ports picked here and ``TF_CONFIG`` set per worker.

What a worker trains is a job spec (``job``, ``job_spec``); what it writes
is one trace file per job and ``RESULT_FILE`` (``result_complete``);
``run_jobs`` reads them into a ``StrategyRun``.

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

import compat_reg
from compat_reg.parity import determinism, models, registry, workloads
from compat_reg.parity import trace as trace_mod
from compat_reg.parity.tf1_checkpoints import make_convnet_replicas

STRATEGIES = registry.DISTRIBUTED
REPLICAS = 2          # logical CPUs of the mirrored worker; worker processes
LOCALHOST = "127.0.0.1"
WORKER_MODULE = "compat_reg.parity._worker"
# The workers of one strategy on the six MLP workloads, 5 epochs, both
# backends took 33-91 s (parity run --strategy all: 153 s on TF 2.21, 164 s
# with tf_keras, 2 shared cores); a stuck all-reduce would never end.
DEFAULT_TIMEOUT = 1200.0
OUTPUT_TAIL = 30      # lines of a failed worker's output quoted in the error
# The run id of every group of workers this process set up (each worker's
# argv carries it: ``live_workers(run_id)`` finds any that outlived it).
STARTED_RUNS = []

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
    from compat_reg import _compat  # deferred: a worker imports it before TF setup
    missing = _compat.DISTRIBUTED_PARITY_MISSING
    if missing is None:
        return None
    import tensorflow as tf  # deferred: a worker imports it before TF setup
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
# Inside a worker process: devices and the strategy
# ---------------------------------------------------------------------------

def configure_process(strategy, op_determinism=False):
    """Set this worker's devices and threads before TensorFlow starts.

    ``mirrored``: the CPU split into ``REPLICAS`` logical devices;
    ``multiworker``: one CPU device per worker. One intra- and one inter-op
    thread each (``determinism.configure``).
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf  # deferred: after TF_CPP_MIN_LOG_LEVEL is set above
    # the experimental names exist in every TF 2.x (the others from TF 2.1)
    experimental = tf.config.experimental
    cpu = experimental.list_physical_devices("CPU")[0]
    if strategy == "mirrored":
        experimental.set_virtual_device_configuration(
            cpu, [experimental.VirtualDeviceConfiguration()] * REPLICAS)
    problems = determinism.configure(op_determinism=op_determinism)
    if problems:
        raise RuntimeError("TensorFlow started before its devices were set: "
                           "%s" % "; ".join(problems))


def make_strategy(strategy):
    """The ``tf.distribute`` strategy of this worker (after
    ``configure_process``); checks it has ``REPLICAS`` replicas."""
    import tensorflow as tf  # deferred: a worker imports it before TF setup
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
            registry.STRATEGIES[strategy].cls, result.num_replicas_in_sync,
            REPLICAS))
    return result


# ---------------------------------------------------------------------------
# Jobs and results
# ---------------------------------------------------------------------------

def job(workload, backend, port_name=None):
    """One job of a worker: ``workload`` (a Workload, cut to the epochs it
    should train) on ``backend`` (``tf2-keras``/``tf2-fit``), optionally
    with its own port (default: the spec's)."""
    if backend not in registry.STRATEGY_BACKENDS:
        raise ValueError("backend %r does not run under a strategy; these do:"
                         " %s" % (backend, ", ".join(
                             registry.STRATEGY_BACKENDS)))
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


def unsupported(workload):
    """Why ``workload`` cannot be proved under a strategy here, or None. A
    conv net is measured against TF 1.15's own run of it under a strategy
    (``reference``): only those ``make_convnet_replicas`` records have one,
    and only a Keras whose strategy averages the batch norm's moving
    statistics as TF1 saved them (``STRATEGY_AGGREGATES_KERAS_WEIGHTS``)."""
    from compat_reg import _compat  # deferred: a worker imports it before TF setup
    if models.kind(workload.config) != "mlp" and workload.config.get(
            "batch_norm") and not _compat.STRATEGY_AGGREGATES_KERAS_WEIGHTS:
        return ("%s: Keras %s's TensorFlow variables drop a weight's "
                "aggregation (compat_reg._compat."
                "STRATEGY_AGGREGATES_KERAS_WEIGHTS = False; Keras 3.0-3.6), so"
                " under a strategy its batch norm's moving statistics stay "
                "per replica, where TF1 saved their mean: use Keras >= 3.7 or"
                " tf_keras (TF_USE_LEGACY_KERAS=1)" % (
                    workload.name, _compat.KERAS_VERSION))
    return _unrecorded(workload)


def _unrecorded(workload):
    """Why a conv net has no reference under a strategy (no
    ``make_convnet_replicas`` record of it), or None."""
    if models.kind(workload.config) == "mlp" or os.path.exists(
            make_convnet_replicas.path(workload.name)):
        return None
    return ("%s: --strategy proves a conv net against TF 1.15's own run of it"
            " under MirroredStrategy (batch norm per replica), and %s records"
            " none of it (it records %s)" % (
                workload.name, make_convnet_replicas.__name__,
                ", ".join(make_convnet_replicas.WORKLOADS)))


def reference(workload):
    """The reference of ``workload`` under a strategy: None for an MLP (the
    replicas' summed gradients are the one device's: its one-device
    reference holds), else TF 1.15's own run of it under MirroredStrategy
    (2 replicas, ``tf1_checkpoints/make_convnet_replicas.py``): with batch
    norm each replica normalises its own rows, which one device never
    does. ``ValueError`` where there is none, whatever this Keras can
    train (``unsupported`` says that)."""
    reason = _unrecorded(workload)
    if reason:
        raise ValueError(reason)
    if models.kind(workload.config) == "mlp":
        return None
    return trace_mod.load(make_convnet_replicas.path(workload.name))


def load_workload(entry):
    """The workload a job names (built-in name or golden file, cut to its
    epochs)."""
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
            self.strategy, registry.STRATEGIES[self.strategy].cls, where, REPLICAS,
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


def run_strategy(strategy, chosen, backend_names=registry.STRATEGY_BACKENDS,
                 optimizers="exact", port_name="correct",
                 timeout=DEFAULT_TIMEOUT, op_determinism=False, probe=True,
                 on_start=None):
    """Train every workload on every backend under ``strategy`` in worker
    processes (``run_jobs``); returns a ``StrategyRun``."""
    jobs = [job(w, b) for w in chosen for b in backend_names]
    return run_jobs(strategy, job_spec(jobs, optimizers, port_name,
                                       op_determinism, probe),
                    timeout, on_start)
