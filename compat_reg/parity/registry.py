"""The parity harness's one registry: workloads, backends, strategies and
wrong ports, each by name with the line that says what it is.

The runner, the command line (its ``choices`` and ``--help``), the tables
of docs/proving_parity.md (``markdown``, tested against the file) and the
tests read these tables; adding a workload or a wrong port is one entry
here. Imports no TensorFlow.
"""

from __future__ import absolute_import, division, print_function

import collections

from compat_reg import convention
from compat_reg.parity import ports

# ---------------------------------------------------------------------------
# Workloads
# ---------------------------------------------------------------------------

# ``base``: None for a golden case (the packaged ``train_<name>.json``: its
# config, arrays and the real TF 1.15 trace), else the workload whose config
# ``changes`` update (its data and batch order, cut to ``epochs`` if
# changed). ``init``: None keeps the base's initial weights, an int is the
# seed of ``models.numpy_init``, ``"checkpoint"`` the packaged TF1
# checkpoint named by ``init_checkpoint``. A derived workload's reference is
# the ``tf1-graph`` backend (whose run on real TF 1.15 the tf1 env records).
Workload = collections.namedtuple("Workload", "help base init changes")

# adam_l2 states TF1's epsilon explicitly, as its TF1 code did.
ADAM_EPSILON = convention.OPTIMIZER["adam"].defaults["epsilon"]

WORKLOADS = collections.OrderedDict([
    ("sgd_none", Workload(
        "golden: a 64-256-256-10 ReLU MLP on the 8x8 digits, SGD, no penalty,"
        " 5 epochs of batch 32", None, None, None)),
    ("sgd_l2", Workload(
        "golden: the MLP, SGD, contrib l2_regularizer(0.01) on kernels",
        None, None, None)),
    ("momentum_l1_l2", Workload(
        "golden: the MLP, Momentum 0.9, contrib l1_l2_regularizer on kernels",
        None, None, None)),
    ("adam_l2", Workload(
        "the sgd_l2 MLP with TF1's AdamOptimizer(0.001, epsilon=1e-8)",
        "sgd_l2", None, dict(optimizer="adam", lr=0.001,
                             epsilon=ADAM_EPSILON))),
    ("adam_exp_decay", Workload(
        "the MLP, Adam lr 0.002 on exponential_decay(global_step, 44, 0.5)",
        "sgd_l2", None, dict(
            optimizer="adam", lr=0.002, epsilon=ADAM_EPSILON, schedule=dict(
                kind="exponential_decay", decay_steps=44, decay_rate=0.5,
                staircase=False)))),
    ("adamw", Workload(
        "the MLP, contrib's AdamWOptimizer(1e-4) decaying kernels only, no L2",
        "sgd_l2", None, dict(
            optimizer="adamw", lr=0.001, epsilon=ADAM_EPSILON,
            weight_decay=1e-4, decay_biases=False, reg=None))),
    ("convnet_bn", Workload(
        "3x3 conv (slim's names), fused batch norm (decay 0.9; TF1 runs "
        "UPDATE_OPS), ReLU, dropout 0.25 with the same numpy masks on both "
        "sides, dense; L2 1e-3; momentum 0.9 on piecewise_constant([44], "
        "[0.05, 0.005]); 2 epochs", "sgd_l2", 4, dict(
            model="convnet", image=[8, 8, 1], filters=4, kernel_size=3,
            classes=10, batch_norm=dict(decay=0.9, epsilon=0.001),
            dropout=0.25, dropout_seed=5, reg=["l2", 0.001], bias_reg=False,
            sizes=None, activation="relu", optimizer="momentum", lr=0.05,
            momentum=0.9, epochs=2, schedule=dict(
                kind="piecewise_constant", boundaries=[44],
                values=[0.05, 0.005])))),
    ("convnet_from_checkpoint", Workload(
        "the same model, one epoch, from a checkpoint written by TF 1.15 "
        "(compat_reg/parity/tf1_checkpoints/convnet_bn), loaded into Keras by"
        " compat_reg.checkpoints", "convnet_bn", "checkpoint", dict(
            init_checkpoint="convnet_bn", epochs=1, schedule=None))),
    ("resume_momentum", Workload(
        "proves a resumed run continues TF1's: the convnet_bn model without "
        "dropout, momentum 0.9 on piecewise_constant([20, 60], [0.05, 0.02, "
        "0.005]), one epoch from a checkpoint TF 1.15 saved between the "
        "boundaries (tf1_checkpoints/make_resume_workload.py), its Momentum "
        "slots and global_step loaded into Keras by compat_reg.checkpoints; "
        "the reference is TF1 restoring them (bit for bit its uninterrupted "
        "run)", "convnet_bn", "checkpoint", dict(
            init_checkpoint="convnet_resume_momentum", resume=True, epochs=1,
            dropout=None, schedule=dict(
                kind="piecewise_constant", boundaries=[20, 60],
                values=[0.05, 0.02, 0.005])))),
    ("resume_adam", Workload(
        "the same with Adam (epsilon 1e-8) on piecewise_constant([20, 60], "
        "[0.004, 0.002, 0.0005]): its m, v and beta powers resumed too",
        "convnet_bn", "checkpoint", dict(
            init_checkpoint="convnet_resume_adam", resume=True, epochs=1,
            dropout=None, optimizer="adam", lr=0.004, epsilon=ADAM_EPSILON,
            momentum=None, schedule=dict(
                kind="piecewise_constant", boundaries=[20, 60],
                values=[0.004, 0.002, 0.0005])))),
])
GOLDEN_CASES = tuple(n for n, w in WORKLOADS.items() if w.base is None)
# the workloads that resume from a TF 1.15 checkpoint with the optimizer's state
RESUMING = tuple(n for n, w in WORKLOADS.items() if (w.changes or {}).get("resume") is True)

# ---------------------------------------------------------------------------
# Backends and strategies
# ---------------------------------------------------------------------------

# ``tf2``: needs TF2 (TF1 offers only tf1-graph); ``strategies``: trains
# under a tf.distribute strategy too.
Backend = collections.namedtuple("Backend", "help tf2 strategies")

BACKENDS = collections.OrderedDict([
    ("tf1-graph", Backend("TF1 code in a tf.compat.v1 Session", False,
                          False)),
    ("tf2-keras", Backend("a Keras model in a tf.function custom loop", True,
                          True)),
    ("tf2-fit", Backend("the Keras model trained by model.fit", True, True)),
])
STRATEGY_BACKENDS = tuple(n for n, b in BACKENDS.items() if b.strategies)

# Keras 3's other backends the tf2 backends train on too (``--keras-backend``
# or ``KERAS_BACKEND``; issue 29): ``package``, what must be installed;
# ``env``, (variable, value) set before it is imported: one thread, as TF's.
KerasBackend = collections.namedtuple("KerasBackend", "help package env")

KERAS_BACKENDS = collections.OrderedDict([
    ("jax", KerasBackend("Keras 3 on JAX, CPU, float32", "jax", (
        "XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false"))),
    ("torch", KerasBackend("Keras 3 on PyTorch, CPU", "torch", (
        "OMP_NUM_THREADS", "1"))),
])

# ``cls``: the tf.distribute class (None: no strategy, one device);
# ``workers``: processes, 2 replicas in all under a strategy.
Strategy = collections.namedtuple("Strategy", "help cls workers")

STRATEGIES = collections.OrderedDict([
    ("none", Strategy("one device, in this process", None, 1)),
    ("mirrored", Strategy(
        "MirroredStrategy over 2 logical CPUs in a worker process",
        "MirroredStrategy", 1)),
    ("multiworker", Strategy(
        "MultiWorkerMirroredStrategy, 2 worker processes on 127.0.0.1 (ring "
        "all-reduce over gRPC)", "MultiWorkerMirroredStrategy", 2)),
])
DISTRIBUTED = tuple(n for n, s in STRATEGIES.items() if s.cls)

# ---------------------------------------------------------------------------
# Ports
# ---------------------------------------------------------------------------

# ``choices``: the ``ports.Port`` arguments of the port; ``strategy``: wrong
# only in the custom loop under a strategy (on one device the replica factor
# is 1; fit scales the penalty itself): elsewhere it trains as the correct
# port.
PortEntry = collections.namedtuple("PortEntry", "help choices strategy")

UNSCALED_PORT = "penalty-unscaled"

PORTS = collections.OrderedDict([
    ("correct", PortEntry(
        "compat_reg regularizers, the penalty added once, the workload's "
        "optimizer settings and initial weights", {}, False)),
    ("l2-unhalved", PortEntry(
        "Keras l2(scale) given TF1's scale, not halved",
        dict(regularizer=ports.keras_unhalved_regularizer), False)),
    ("no-penalty", PortEntry(
        "the custom loop never adds the penalty", dict(add_penalty=False),
        False)),
    ("fit-double", PortEntry(
        "fit's loss adds the penalty by hand on top of model.losses",
        dict(manual_add=True), False)),
    ("adam-eps-default", PortEntry(
        "keras Adam(lr) with Keras' epsilon 1e-7",
        dict(optimizer=ports.keras_default_epsilon_optimizer), False)),
    ("fresh-init", PortEntry(
        "Keras' own initial weights, not the TF1 run's",
        dict(copy_init=False), False)),
    ("bn-inference", PortEntry(
        "batch norm in inference mode while training",
        dict(inference_mode=True, freeze_batch_norm=True), False)),
    ("checkpoint-swapped", PortEntry(
        "a checkpoint name mapping sending batch norm's beta to gamma",
        dict(initial=ports.swapped_checkpoint_names), False)),
    ("momentum-schedule", PortEntry(
        "Keras SGD(momentum) under the spec's schedule",
        dict(optimizer=ports.native("momentum-schedule")), False)),
    ("wd-no-lr", PortEntry(
        "Keras AdamW given contrib's weight_decay, not weight_decay / lr",
        dict(optimizer=ports.native("wd-no-lr-mapping")), False)),
    ("wd-on-biases", PortEntry(
        "Keras AdamW decaying the biases too",
        dict(optimizer=ports.native("wd-on-biases")), False)),
    (UNSCALED_PORT, PortEntry(
        "under a strategy, the custom loop adds the whole penalty on every "
        "replica", dict(scale_penalty=False), True)),
])
WRONG_PORTS = tuple(name for name in PORTS if name != "correct")


def port(name, strategy="none", backend="tf2-keras"):
    """The ``ports.Port`` named ``name`` (None: ``correct``) as ``backend``
    trains it under ``strategy`` (see ``PortEntry``)."""
    entry = PORTS.get(name or "correct")
    if entry is None:
        raise KeyError("unknown port %r; known: %s" % (name, ", ".join(PORTS)))
    if entry.strategy and (strategy == "none" or backend != "tf2-keras"):
        return ports.Port()
    return ports.Port(name=name or "correct", **entry.choices)


def check(kind, name):
    """``name`` if ``kind`` (``workload``, ``backend``, ``strategy``,
    ``port``) has it, else ``ValueError`` listing the known names."""
    table = TABLES[kind]
    if name not in table:
        raise ValueError("unknown %s %r; known: %s" % (kind, name,
                                                        ", ".join(table)))
    return name


TABLES = collections.OrderedDict([
    ("workload", WORKLOADS), ("backend", BACKENDS), ("strategy", STRATEGIES),
    ("port", PORTS)])


def listing(kind, names=None):
    """``name (help); ...`` of ``kind``'s entries (``names``: these only),
    for ``--help``."""
    table = TABLES[kind]
    return "; ".join("%s (%s)" % (n, table[n].help)
                     for n in (names or table))


def markdown(kind):
    """The table of ``kind`` in docs/proving_parity.md."""
    rows = ["| %s | what it is |" % kind, "| --- | --- |"]
    rows.extend("| `%s` | %s |" % (name, entry.help)
                for name, entry in TABLES[kind].items())
    return "\n".join(rows)


# A team's record-model script (``compat-reg parity record-model``,
# ``recorder.load_script``): the names it must define, and the options that
# default to its own (name, option, default).
SCRIPT_NAMES = ("build_graph", "loss", "inputs", "targets", "SPEC")
SCRIPT_OPTIONS = (("BATCH", "batch", 8), ("EPOCHS", "epochs", 1),
                  ("SEED", "seed", 0))
