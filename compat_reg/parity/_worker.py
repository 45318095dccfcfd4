"""One worker process of ``compat-reg parity run --strategy``.

Started by ``compat_reg.parity.distributed.launch``, never by hand::

    python -m compat_reg.parity._worker --strategy mirrored|multiworker \\
        --spec SPEC.json --out-dir DIR --index I --run-id ID

It sets its devices and threads before TensorFlow starts (two logical CPUs
for ``mirrored``; one CPU and ``TF_CONFIG`` from its environment for
``multiworker``), creates the strategy, trains every job of the spec and
writes each trace to ``DIR/worker<I>/``, plus ``probe.json`` (worker 0,
when the spec asks for the fit probe). Every file is written atomically;
the last one, ``done.json`` (``distributed.RESULT_FILE``), lists them with
their SHA-256: the supervisor takes a worker's result once that file
checks out, whatever the exit status after it. Having written it, the
worker flushes its output and leaves with ``os._exit(0)``, skipping
TensorFlow's teardown (which has aborted after a finished run: SIGABRT,
"terminate called without an active exception", TF 2.7). Progress goes to
stdout; an error ends it with a traceback on stderr and exit status 1.
"""

from __future__ import absolute_import, division, print_function

import argparse
import json
import os
import sys
import time
import traceback

from compat_reg.parity import distributed, models, registry
from compat_reg.parity import trace as trace_mod


def _parser():
    parser = argparse.ArgumentParser(prog="python -m compat_reg.parity._worker")
    parser.add_argument("--strategy", required=True,
                        choices=registry.DISTRIBUTED)
    parser.add_argument("--spec", required=True)
    parser.add_argument("--out-dir", required=True)
    parser.add_argument("--index", type=int, required=True)
    parser.add_argument("--run-id", required=True,
                        help="marks this run's processes (for /proc scans)")
    return parser


def _one_line(err, limit=300):
    """``Type: first line ... last line`` of an error, at most ``limit``."""
    lines = [line.strip() for line in str(err).strip().splitlines()
             if line.strip()]
    text = lines[0] if lines else ""
    if len(lines) > 1:
        text = "%s ... %s" % (text[:limit // 2], lines[-1])
    return ("%s: %s" % (type(err).__name__, text))[:limit]


def _save_error(path, job, err):
    """What a failed fit job raised, where its trace would have gone; returns
    the file written and its SHA-256."""
    path = path[:-len(".json")] + ".error"
    return path, trace_mod.write_atomic(path, json.dumps(
        {"job": job, "error": _one_line(err),
         "traceback": traceback.format_exc()}, indent=1))


def _save_result(out, written):
    """``done.json``: every file this worker wrote (name -> SHA-256),
    written last."""
    trace_mod.write_atomic(
        os.path.join(out, distributed.RESULT_FILE),
        json.dumps({"files": dict((os.path.basename(path), digest)
                                  for path, digest in written)}, indent=1))


def main(argv=None):
    args = _parser().parse_args(argv)
    with open(args.spec) as handle:
        spec = json.load(handle)
    started = time.time()
    distributed.configure_process(args.strategy, spec.get("op_determinism"))
    # what trains imports TensorFlow: only now, its devices and threads set
    from compat_reg.parity import (  # deferred: TF loads after configure_process
        backends, measure, tf2_keras)
    strategy = distributed.make_strategy(args.strategy)
    out = os.path.join(args.out_dir, "worker%d" % args.index)
    if not os.path.isdir(out):
        os.makedirs(out)
    print("worker %d: %s, %d replicas, ready after %.1f s" % (
        args.index, type(strategy).__name__, strategy.num_replicas_in_sync,
        time.time() - started), flush=True)
    jobs = spec["jobs"]
    written = []
    for number, job in enumerate(jobs, 1):
        began = time.time()
        workload = distributed.load_workload(job)
        path = os.path.join(out, distributed.trace_file(
            job, args.strategy, spec["port"]))
        try:
            trace = backends.run(
                workload, job["backend"], spec["optimizers"], registry.port(
                    job.get("port", spec["port"]), args.strategy,
                    job["backend"]), strategy, args.strategy)
        except Exception as err:
            # fit is Keras' own loop: an error there is a finding about this
            # Keras (reported as a failed row), not a harness failure. Both
            # workers raise it at the same point, before any all-reduce.
            if job["backend"] != "tf2-fit":
                raise
            written.append(_save_error(path, job, err))
            print("worker %d: job %d/%d %s %s:%s: fit raised %s" % (
                args.index, number, len(jobs), workload.name, args.strategy,
                job["backend"], _one_line(err)), flush=True)
            continue
        written.append((path, trace.save(path)))
        print("worker %d: job %d/%d %s %s: %d steps in %.1f s" % (
            args.index, number, len(jobs), workload.name, trace.backend,
            len(trace.curves["total_loss"]), time.time() - began), flush=True)
    # the probe's one SGD step of fit on an MLP workload's first batch
    fit_mlps = [w for w in (distributed.load_workload(j) for j in jobs
                            if j["backend"] == "tf2-fit")
                if models.kind(w.config) == "mlp"]
    if spec.get("probe") and fit_mlps:
        workload = ([w for w in fit_mlps if w.config.get("reg")] or
                    fit_mlps)[0]
        try:
            probe = tf2_keras.fit_probe(strategy, workload)
        except Exception as err:  # as for fit jobs above
            probe = {"error": _one_line(err)}
        probe["workload"] = workload.name
        if args.index == 0:
            path = os.path.join(out, "probe.json")
            written.append((path, trace_mod.write_atomic(
                path, json.dumps(probe, indent=1))))
        print("worker %d: %s" % (args.index, measure.describe_probe(
            args.strategy, probe)), flush=True)
    _save_result(out, written)
    print("worker %d: done in %.1f s" % (args.index, time.time() - started),
          flush=True)
    return 0


def run(argv=None):
    """``main``, then leave at once: output flushed, ``os._exit`` (no
    interpreter or TensorFlow teardown after a complete result)."""
    code = main(argv)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
