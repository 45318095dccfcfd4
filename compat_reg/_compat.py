"""Every TensorFlow / Keras version question, answered once.

This is the only module of compat_reg that looks at versions. Like ``six``,
the facts are computed once at import time, and what lives where is one
declarative table (``_MOVES``); everything else in the package asks this
module instead of branching on ``tf.__version__``.

Keras flavours that ``tf.keras`` can resolve to:

=================  ===================================================
``keras2-builtin``  Keras 2 inside TensorFlow (TF 1.15, TF <= 2.5)
``keras2``          the ``keras`` 2.x package (TF 2.6 to 2.15)
``tf_keras``        ``tf_keras`` under ``TF_USE_LEGACY_KERAS=1`` (TF >= 2.16)
``keras3``          Keras 3 (TF >= 2.16 by default)
=================  ===================================================
"""

from __future__ import absolute_import, division, print_function

import collections
import functools
import importlib
import importlib.util
import inspect
import os
import platform
import re
import sys

import numpy
import tensorflow as tf

def _major_minor(version):
    """``"2.15.1"`` -> ``(2, 15)``."""
    return tuple(int(part) for part in re.match(r"(\d+)\.(\d+)", version).groups())


TF_VERSION = _major_minor(tf.__version__)
TF1 = TF_VERSION[0] == 1
TF2 = not TF1


# ---------------------------------------------------------------------------
# TF 1.4 - 1.14: names that came after them. Each is TF's own where this TF
# has it, else what the release has instead (looked up by name, not version).
# ---------------------------------------------------------------------------

# ``tf.compat.v1`` came in TF 1.13; before it ``tf`` itself is the v1 API
# (``tf.compat.v1.get_collection`` is ``tf.get_collection`` there).
v1 = getattr(tf.compat, "v1", None) or tf


def _before_tf(name, module, attribute):
    """``tf.<name>``, or ``attribute`` of the private ``module`` that held
    the same function before TF exported it."""
    found = getattr(tf, name, None)
    if found is None:
        found = getattr(importlib.import_module(module), attribute)
    return found


# ``tf.executing_eagerly`` came in TF 1.7 (TF 1.4 - 1.6: ``in_eager_mode``);
# ``tf.is_tensor`` in TF 1.14 (before: ``tensor_util.is_tensor``, the same).
_executing_eagerly = _before_tf("executing_eagerly",
                                "tensorflow.python.eager.context", "in_eager_mode")
is_tensor = _before_tf("is_tensor", "tensorflow.python.framework.tensor_util",
                       "is_tensor")


def _no_conversion(func):
    """Where TF has no ``do_not_convert``, nothing converts: as it is."""
    return func


# ``tf.autograph.experimental.do_not_convert`` came in TF 1.15 (TF 1.13 and
# 1.14 have ``tf.autograph`` without it; AutoGraph converts only inside
# ``tf.function``, which TF 1.4 - 1.13 do not have).
do_not_convert = getattr(getattr(getattr(tf, "autograph", None), "experimental",
                                 None), "do_not_convert", None) or _no_conversion


class _NoModule(object):
    """``tf.Module`` before TF 1.14, which has none: nothing is one."""


Module = getattr(tf, "Module", _NoModule)


def _no_control_dependencies():
    """``init_scope`` where a graph is the only context there is (TF 1.4:
    no eager, no functions): out of every control dependency."""
    return tf.control_dependencies(None)


# TF1's optimizers take a callable learning rate (called when the update is
# built) from TF 1.10 on; TF 1.4 - 1.9 convert it to a tensor when made.
OPTIMIZER_CALLABLE_RATE = TF_VERSION >= (1, 10)


# ``tf.init_scope`` is public from TF 1.11 (TF 1.5 - 1.10: ``ops.init_scope``).
init_scope = getattr(tf, "init_scope", None) or getattr(
    importlib.import_module("tensorflow.python.framework.ops"), "init_scope",
    _no_control_dependencies)


def set_thread_counts(threads):
    """Set TF's inter- and intra-op thread counts for eager execution
    (``tf.config.threading``, TF >= 1.14). Returns False where TF has no such
    call (TF 1.4 - 1.13: graph Sessions take them from a ``ConfigProto``,
    see ``compat_reg.parity.determinism.session_config``)."""
    threading = getattr(getattr(tf, "config", None), "threading", None)
    if threading is None:
        return False
    threading.set_inter_op_parallelism_threads(threads)
    threading.set_intra_op_parallelism_threads(threads)
    return True



def _has_contrib():
    """Whether ``tf.contrib`` is real (TF 1.x builds that ship it).

    TF 1.15 puts ``tensorflow.contrib`` in ``sys.modules`` as a lazy loader
    with no ``__spec__``, so ``importlib.util.find_spec`` raises on it; the
    loader's own attribute is the answer. Nothing is imported.
    """
    if not TF1:
        return False
    try:
        return importlib.util.find_spec("tensorflow.contrib") is not None
    except ValueError:  # in sys.modules with __spec__ None: the lazy loader
        return "tensorflow.contrib" in sys.modules


HAS_CONTRIB = _has_contrib()


def contrib_opt_class(name):
    """``tf.contrib.opt.<name>``, or None where this TF has no such class:
    no contrib (TF2), or a contrib before it (``AdamWOptimizer`` and
    ``MomentumWOptimizer`` came in TF 1.1x). Imports contrib (slow) on the
    first call."""
    if not HAS_CONTRIB:
        return None
    return getattr(importlib.import_module("tensorflow.contrib.opt"), name, None)


# Whether contrib's weight-decay optimizers (``AdamWOptimizer``,
# ``MomentumWOptimizer``) take a sparse gradient (``tf.gather``'s
# IndexedSlices): from TF 1.11 they decay the rows touched; TF 1.10's
# ``_decay_weights_sparse_op`` scatter-adds the whole variable at the rows'
# indices and the Session raises InvalidArgumentError (measured on tf110;
# fixed by tensorflow/tensorflow#21789).
CONTRIB_WEIGHT_DECAY_SPARSE = TF_VERSION >= (1, 11)


# What a TF release computes differently from the others, TF's and not
# compat_reg's (contrib gives the same there): ``releases`` (major, minor),
# the ``quantity`` of a parity comparison it moves, by at most ``figure``,
# and why. The parity harness reports a comparison of a trace recorded on
# one of ``releases`` with one recorded on another TF, off by no more than
# ``figure``, as this difference (``release_difference``); beyond it, a
# failure. Each is pinned by the test ``test`` names.
ReleaseDifference = collections.namedtuple(
    "ReleaseDifference", "releases quantity figure reason test")
RELEASE_DIFFERENCES = (
    ReleaseDifference(
        ((1, 4),), "step-0 penalty", 1.01e-6,
        "TF 1.4's CPU kernels sum float32 4 at a time (SSE), TF 1.5 - 1.12 "
        "8 (AVX), TF 1.13 - 1.15 8 in Eigen's tree (one thread, as the "
        "parity harness runs them): the same L2 penalty of "
        "sgd_l2's initial weights is 1.89689243 on TF 1.4, 1.89689338 on "
        "1.5 - 1.12, 1.89689434 on 1.13 - 1.15 (golden); contrib's equals "
        "compat_reg's on each",
        "tests/test_tf1_releases.py::test_workload_penalties_differ_by_release"),
)


def release_difference(quantity, tensorflow, other, deviation):
    """The ``ReleaseDifference`` that explains ``quantity`` off by
    ``deviation`` between a trace recorded on TF ``tensorflow`` and one on
    TF ``other`` (version strings from the traces' metadata), or None."""
    releases = [_release(v) for v in (tensorflow, other)]
    for known in RELEASE_DIFFERENCES:
        inside = [r in known.releases for r in releases]
        if (known.quantity == quantity and None not in releases
                and inside[0] != inside[1] and deviation <= known.figure):
            return known
    return None


def _release(version):
    """``(major, minor)`` of a version string, or None for anything else."""
    try:
        return _major_minor(version)
    except (TypeError, AttributeError):  # not a string, or no "1.4" in it
        return None


# The TF release the golden traces were recorded on (../shared/golden/README).
GOLDEN_RELEASE = (1, 15)


def earlier_tf1_release(version):
    """Whether a trace's TF version string is a TF 1.x before the golden
    traces' 1.15 (which differ from it by their own release differences).

    >>> [earlier_tf1_release(v) for v in ("1.6.0", "1.15.5", "2.21.0", None)]
    [True, False, False, False]
    """
    release = _release(version)
    return release is not None and release[0] == 1 and release < GOLDEN_RELEASE


LEGACY_KERAS_REQUESTED = os.environ.get("TF_USE_LEGACY_KERAS", "").lower() in (
    "1", "true", "yes")


def _builtin_keras_version(layer_class):
    """The Keras version inside TF: ``tf.keras.__version__``, which TF 1.8's
    generated ``tf.keras`` lacks; there the package that holds the layer
    (``tensorflow.python.keras._impl.keras``) has it."""
    version = getattr(tf.keras, "__version__", None)
    package = layer_class.__module__
    while version is None and package:
        version = getattr(importlib.import_module(package), "__version__", None)
        package = package.rpartition(".")[0]
    return version


def _resolve_keras():
    """Return (module, flavour, version) of the Keras that tf.keras is."""
    dense = tf.keras.layers.Dense
    root = dense.__module__.split(".")[0]
    if root == "tensorflow":
        return tf.keras, "keras2-builtin", _builtin_keras_version(dense)
    module = importlib.import_module(root)
    version = module.__version__
    if root == "tf_keras":
        return module, "tf_keras", version
    if int(version.split(".")[0]) >= 3:
        return module, "keras3", version
    # keras 2.x's package namespace is not its public API (keras.optimizers.SGD
    # is the legacy optimizer there); tf.keras is.
    return tf.keras, "keras2", version


keras, KERAS_FLAVOUR, KERAS_VERSION = _resolve_keras()
KERAS3 = KERAS_FLAVOUR == "keras3"
KERAS2 = not KERAS3

# The backend Keras computes with: "tensorflow" for every Keras 2 flavour and
# for Keras 3 by default; "jax" or "torch" (or "numpy") for Keras 3 under
# ``KERAS_BACKEND``. On another backend compat_reg's regularizers, penalty
# sums and optimizers compute with ``keras.ops`` (so the gradient flows);
# what exists only in TensorFlow raises ``BackendError`` (``require_tf``).
KERAS_BACKEND = keras.backend.backend() if KERAS3 else "tensorflow"
TF_BACKEND = KERAS_BACKEND == "tensorflow"


class BackendError(RuntimeError):
    """What needs TensorFlow's backend, asked on another Keras backend."""


def require_tf(what):
    """Raise ``BackendError`` naming the backend unless Keras runs on TF."""
    if not TF_BACKEND:
        raise BackendError(
            "%s needs Keras' TensorFlow backend: this Keras %s runs on %s "
            "(KERAS_BACKEND=%s), where there is no TensorFlow graph, collection, "
            "op name or tf.distribute. On %s, pass the model to "
            "get_regularization_loss and train with model.fit or its gradient."
            % (what, KERAS_VERSION, KERAS_BACKEND, KERAS_BACKEND, KERAS_BACKEND))

# Whether a layer's ``losses`` drop a weight penalty that is ``None`` (a
# plain TF1-style ``lambda w: None if "bias" in w.name else ...``), as TF1's
# ``get_variable`` did: Keras 2 and tf_keras do; Keras 3 lists the None, and
# its ``fit`` then raises ``AttributeError`` (measured on Keras 3.15.1).
# compat_reg's bridge skips it on every flavour.
KERAS_DROPS_NONE_PENALTIES = KERAS2

# ``tf.compat.v1.layers`` (TF1's ``tf.layers``) is built on Keras 2's layers:
# there with every Keras 2 (TF 1.15, TF 2.0-2.15, tf_keras); under Keras 3
# its names raise ``AttributeError: `dense` is not available with Keras 3``.
V1_LAYERS = KERAS2


# Whether ``keras.optimizers.Optimizer`` is the optimizer API that
# compat_reg.optimizers subclasses (``build``/``update_step``/
# ``add_variable_from_reference``): Keras 3, and Keras 2.11+ (tf_keras
# included). TF 1.15's and TF 2.0-2.10's is the legacy OptimizerV2; there
# compat_reg.optimizers are ``tf.compat.v1.train``'s own classes.
KERAS_OPTIMIZER_API = KERAS3 or (
    KERAS_FLAVOUR != "keras2-builtin" and _major_minor(KERAS_VERSION) >= (2, 11))


# Whether tf.keras has the Keras API that TF2 code is written in: the
# tf.keras of TF 1.14 on (OptimizerV2, taking ``learning_rate=`` and
# ``keras.optimizers.schedules``; ``Sequential([keras.Input(...), ...])``).
# The tf.keras of TF 1.4 - 1.13 is older Keras (2.0.8 - 2.2.4-tf): the old
# optimizers (``lr=``, ``decay=``), no schedules, no ``Input`` in a
# ``Sequential``, no ``layers.ReLU`` before TF 1.12. There compat_reg's
# schedule class is a plain object that no Keras optimizer takes (TF1's own
# schedules still work), and its native Keras ports raise.
KERAS_TF2_API = hasattr(keras.optimizers, "schedules")
LearningRateSchedule = (keras.optimizers.schedules.LearningRateSchedule
                        if KERAS_TF2_API else object)


# What lives where: (name, keras 2 path, keras 3 path), both relative to the
# Keras package that tf.keras resolves to. None means "does not exist there".
Moved = collections.namedtuple("Moved", "name keras2 keras3")


def _no_registration(package="Custom", name=None):
    """TF 1.15's built-in Keras has no registry; classes still work there."""
    del package, name
    return lambda cls: cls


# Used where a path is missing from an old built-in Keras (TF 1.15, TF 2.0-2.2,
# which have no L1/L2 classes: L1L2 takes the same ``l1=``/``l2=`` keywords).
_FALLBACKS = {"register_serializable": lambda: _no_registration,
              "L1": lambda: _lookup("regularizers.L1L2"),
              "L2": lambda: _lookup("regularizers.L1L2")}
_MOVES = [
    Moved("L1", "regularizers.L1", "regularizers.L1"),
    Moved("L2", "regularizers.L2", "regularizers.L2"),
    Moved("L1L2", "regularizers.L1L2", "regularizers.L1L2"),
    Moved("Regularizer", "regularizers.Regularizer", "regularizers.Regularizer"),
    Moved("register_serializable", "utils.register_keras_serializable",
          "saving.register_keras_serializable"),
    Moved("serialize_regularizer", "regularizers.serialize",
          "regularizers.serialize"),
    Moved("deserialize_regularizer", "regularizers.deserialize",
          "regularizers.deserialize"),
    Moved("Optimizer", "optimizers.Optimizer", "optimizers.Optimizer"),
]


def _lookup(path):
    obj = keras
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


class _Moves(object):
    """Attribute access to the table above, resolved for this Keras."""

    def __getattr__(self, name):
        for move in _MOVES:
            if move.name == name:
                path = move.keras3 if KERAS3 else move.keras2
                if path is None:
                    raise AttributeError(
                        "%s does not exist in %s %s" % (name, KERAS_FLAVOUR,
                                                        KERAS_VERSION))
                try:
                    value = _lookup(path)
                except AttributeError:
                    if name not in _FALLBACKS:
                        raise
                    value = _FALLBACKS[name]()
                setattr(self, name, value)
                return value
        raise AttributeError(name)


moves = _Moves()


def register_keras_class(cls):
    """Register a Keras class of compat_reg's for deserialization.

    ``register_keras_serializable`` keys it as ``compat_reg>Name``; Keras 2's
    (tf_keras') ``.h5`` loader looks classes up by ``class_name`` alone, so it
    is also a global custom object under its plain name there.
    """
    cls = moves.register_serializable(package="compat_reg")(cls)
    if not KERAS3:
        get_custom_objects = getattr(keras.utils, "get_custom_objects", None)
        if get_custom_objects is not None:  # absent from TF 1.15's Keras
            get_custom_objects()[cls.__name__] = cls
    return cls


def executing_eagerly():
    """True in eager mode (TF2 default), False while building a graph."""
    return _executing_eagerly()


def building_tf1_graph():
    """True where TF1's rules apply: TF 1.x, ``disable_eager_execution`` /
    ``disable_v2_behavior``, or inside ``with tf.Graph().as_default()``.
    False in eager mode and while ``tf.function`` traces eager code."""
    if TF1:
        return True
    outside = getattr(tf.compat.v1, "executing_eagerly_outside_functions", None)
    if outside is not None:
        return not outside()
    # TF 2.0 has no public executing_eagerly_outside_functions; init_scope
    # lifts to the same outermost context.
    with tf.init_scope():
        return not tf.executing_eagerly()


def compile_without_xla():
    """``model.compile`` keywords that keep XLA off: ``jit_compile=False``
    where ``compile`` has the argument; the releases before it (TF 2.0-2.5)
    never XLA-compiled ``fit`` and reject the keyword."""
    if "jit_compile" in inspect.signature(keras.models.Model.compile).parameters:
        return {"jit_compile": False}
    return {}


def build_optimizer(optimizer, variables):
    """Create a Keras optimizer's variables for ``variables`` now, so that a
    ``tf.function`` applying it creates none while tracing (and traces once).

    The legacy ``OptimizerV2`` of TF 2.0-2.10 has no ``build``; this does what
    its ``apply_gradients`` does first (step counter, hyper-parameters, slots).
    """
    variables = list(variables)
    if KERAS_OPTIMIZER_API:
        optimizer.build(variables)
        return
    _ = optimizer.iterations
    optimizer._create_hypers()
    optimizer._create_slots(variables)


def optimizer_variables(optimizer):
    """A Keras optimizer's variables, as a list (Keras 2.11's ``variables``
    is a method, later Keras' a property)."""
    variables = optimizer.variables
    return list(variables() if callable(variables) else variables)


# What ``model.fit`` logs as ``"loss"`` after each batch: the running mean of
# the epoch so far (the ``train_step`` fit of TF >= 2.2 and Keras 3), or that
# batch's own loss (the training loops of TF 1.15 - 2.1's Keras 2.2.4-tf).
FIT_LOGS_RUNNING_MEAN = not (KERAS_FLAVOUR == "keras2-builtin"
                             and TF_VERSION < (2, 2))


# Whether a Keras layer takes a plain function as a weight's regularizer
# (TF1's ``lambda w: ...``): Keras 2, tf_keras and Keras 3.0 and >= 3.15 do;
# Keras 3.1 - 3.14's variable ``regularizer`` setter raises ValueError
# unless it is a ``keras.regularizers.Regularizer`` (keras-team/keras#22221,
# fixed in 3.15 by #22795; measured on 3.0.5, 3.1.1 - 3.14.0, 3.15.0).
# compat_reg's drop-ins are Regularizer objects; ``sum_regularizer([fn])``
# makes one of a plain function.
KERAS_CALLABLE_REGULARIZERS = not (
    KERAS3 and (3, 1) <= _major_minor(KERAS_VERSION) < (3, 15))


# Whether Keras makes a Sequential whose first layer is an unbuilt
# Sequential (TF1 code ported with a nested ``Sequential([...], name=
# "inner")``): not Keras 3.5, whose Sequential asks the inner model for its
# ``input_shape``, which raises ValueError there (measured: 3.4.1 and 3.6.0
# make it, 3.5.0 raises). Give the inner model its ``keras.Input``.
KERAS_NESTS_UNBUILT_SEQUENTIAL = not (
    KERAS3 and _major_minor(KERAS_VERSION) == (3, 5))


def train_on_batch_loss(model, x, y):
    """``model.train_on_batch(x, y)``'s loss for that step alone. Keras 3.0 -
    3.14 return the running mean over every call since the metrics were last
    reset (keras-team/keras#22617, fixed in 3.15; measured on 3.0.5 - 3.14.0),
    so the metrics are reset before the step, on every Keras."""
    model.reset_metrics()
    return model.train_on_batch(x, y, return_dict=True)["loss"]


# What one ``model.fit`` step under ``MirroredStrategy`` does against one
# device (measured with 2 replicas by the guide's distribution block, per env):
# "exact"; "data-loss-drift" on Keras 3.3-3.4 (the data loss's gradient is
# off, 0.028 after one SGD step; the penalty's part is right); or
# "step-times-replicas" on Keras 3.5-3.7, which sum the replicas' gradients of
# unscaled losses, penalty included (keras-team/keras#19891, fixed in 3.8 by
# keras-team/keras#20609).
def _mirrored_fit():
    if not KERAS3:
        return "exact"
    version = _major_minor(KERAS_VERSION)
    if version < (3, 5):
        return "data-loss-drift"
    return "step-times-replicas" if version < (3, 8) else "exact"


MIRRORED_FIT = _mirrored_fit()


def evaluate(value):
    """The numpy value of a tensor: eagerly, or in a Session of its graph
    (TF 1.15 and TF2 graph mode), with that graph's variables initialised."""
    if not (is_tensor(value) or isinstance(value, tf.Variable)):
        return value
    if executing_eagerly():
        return value.numpy()
    graph = value.graph
    with graph.as_default(), v1.Session(graph=graph) as session:
        session.run(v1.global_variables_initializer())
        return session.run(value)


def is_keras3_variable(value):
    """Whether ``value`` is a Keras 3 variable (which Keras 3 passes to a
    weight's regularizer, summing whatever it returns into ``model.losses``).
    ``keras.Variable`` is the class only from Keras 3.4 on (3.3 exports a
    stand-in), so the backend variable's own classes are looked for."""
    return KERAS3 and any(
        cls.__module__.split(".")[0] == "keras" and cls.__name__ in ("Variable",
                                                                     "KerasVariable")
        for cls in type(value).__mro__)


def tf1_name(variable):
    """The name Keras gave a weight, TF1-style (no ``:0``): Keras 3's
    ``variable.path`` (``sequential/dense/kernel``), Keras 2's
    ``variable.name`` without the output suffix. It carries whatever model
    prefix this Keras adds; ``compat_reg.naming`` gives the TF1 name proper.
    """
    if KERAS3 and hasattr(variable, "path"):
        return variable.path
    name = variable.name
    return name[:-2] if name.endswith(":0") else name


def weight_short_name(layer, variable):
    """A weight's own name inside the layer that made it (``kernel``,
    ``moving_mean``; ``foo/w`` for a weight made under a name scope ``foo``).

    Keras 3 keeps it as ``variable.name``. Keras 2 and tf_keras prefix the
    name scopes in force when the weight was made (``sub/encoder/kernel:0``,
    or just ``kernel:0`` for a layer built outside any parent): what follows
    the layer's own name is the weight's.
    """
    if KERAS3 and hasattr(variable, "path"):
        return variable.name
    name = tf1_name(variable)
    marker = layer.name + "/"
    if name.startswith(marker):
        return name[len(marker):]
    at = name.rfind("/" + marker)
    return name[at + len(marker) + 1:] if at >= 0 else name.rsplit("/", 1)[-1]


def weight_name(layer, variable):
    """``tf1_name`` of a weight, prefixed by its layer's name when Keras gave
    it none (tf_keras names a layer built by ``.build()`` outside any parent
    just ``kernel:0``)."""
    name = tf1_name(variable)
    return name if "/" in name else "%s/%s" % (layer.name, name)


def own_weight_penalties(layer):
    """``[(variable, thunk)]`` for the regularized weights ``layer`` owns.

    Trainable or not: TF1's collection held every regularized variable, while
    Keras 3's ``model.losses`` skips frozen ones (tf_keras keeps them).
    Calling ``thunk()`` computes the penalty now (so it is differentiable).
    """
    if KERAS3:
        own = list(layer._trainable_variables) + list(
            layer._non_trainable_variables)
        return [(v, functools.partial(v.regularizer, v)) for v in own
                if getattr(v, "regularizer", None) is not None]
    # tf_keras / Keras 2 keep each weight penalty in _callable_losses as
    # partial(_tag_callable, partial(_loss_for_variable, variable)).
    found = []
    for loss in layer._callable_losses:
        variable = _partial_variable(loss)
        if variable is not None:
            found.append((variable, loss))
    return found


def _partial_variable(loss):
    """The variable a tf_keras weight-penalty partial was made for, or None."""
    while isinstance(loss, functools.partial) and loss.args:
        if isinstance(loss.args[0], tf.Variable):
            return loss.args[0]
        loss = loss.args[0]
    return None


def own_other_losses(layer):
    """Tensors ``layer`` itself added with ``add_loss`` (activity penalties,
    and callables a user added that are not weight penalties, evaluated)."""
    if KERAS3:
        return list(layer._get_own_losses())
    eager = [t for t in layer._eager_losses
             if t is not _revived_placeholder()]
    # ``_losses`` also holds the symbolic tensors of the functional
    # construction call (Keras' scratch graph): the penalty of no real call,
    # unusable here. Only tensors of the graph being built now count.
    graph = None if executing_eagerly() else v1.get_default_graph()
    losses = eager or [t for t in layer._losses
                       if graph is not None and getattr(t, "graph", None) is graph]
    losses = list(losses)
    for loss in layer._callable_losses:
        if _partial_variable(loss) is None:
            value = loss()
            if value is not None:
                losses.append(value)
    return losses


def _revived_placeholder():
    utils = importlib.import_module(
        keras.layers.Layer.__module__.rsplit(".", 1)[0] + ".base_layer_utils")
    return getattr(utils, "REVIVED_LOSS_PLACEHOLDER", None)


def sublayers(layer):
    """The layers ``layer`` holds directly (attributes, a Sequential's or a
    functional model's layers), in Keras' order."""
    if hasattr(layer, "_flatten_layers"):
        return list(layer._flatten_layers(include_self=False, recursive=False))
    # TF 1.15's and TF 2.0's built-in Keras: each layer tracks its direct
    # sublayers in ``_layers`` (TF 2.0's ``tf.Module.submodules`` cannot walk
    # a Sequential: it sorts (name, layer) pairs with equal names).
    return [sub for sub in getattr(layer, "_layers", ())
            if isinstance(sub, keras.layers.Layer)]


def flatten_layers(layer):
    """``layer`` and every layer nested in it, parents first, each once."""
    found, seen, stack = [], set(), [layer]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        found.append(current)
        stack.extend(reversed(sublayers(current)))
    return found


_ACTIVITY_MEAN = []


def activity_penalty_is_batch_mean():
    """Whether this Keras divides an activity penalty by the batch size.

    TF1's layers and Keras 2 do; Keras 3 did not until early 2026 (keras-team
    /keras#22018), so there an activity penalty is batch-size times TF1's.
    Measured once on a tiny layer rather than inferred from a version.
    """
    if not _ACTIVITY_MEAN:
        layer = keras.layers.Lambda(lambda x: x)
        layer.activity_regularizer = moves.L1(l1=1.0)
        if hasattr(layer, "_activity_regularizer"):
            layer._activity_regularizer = layer.activity_regularizer
        layer(tf.ones((2, 1)))
        _ACTIVITY_MEAN.append(abs(float(sum(layer.losses)) - 1.0) < 1e-6)
    return _ACTIVITY_MEAN[0]


def scale_regularization_loss(loss):
    """``tf.nn.scale_regularization_loss`` (divide by replicas in sync)."""
    scale = getattr(tf.nn, "scale_regularization_loss", None)
    if scale is not None:
        return scale(loss)
    strategy = tf.distribute.get_strategy()
    return tf.reduce_sum(loss) / strategy.num_replicas_in_sync


def strategy_run(strategy, fn, args=()):
    """``strategy.run(fn, args=args)`` (``experimental_run_v2`` in TF 2.0/2.1)."""
    run = getattr(strategy, "run", None)
    if run is None:
        run = strategy.experimental_run_v2
    return run(fn, args=args)


def enable_op_determinism():
    """Turn on deterministic kernels; returns how it was done."""
    config = tf.config.experimental if TF2 else None
    if config is not None and hasattr(config, "enable_op_determinism"):
        config.enable_op_determinism()
        return "tf.config.experimental.enable_op_determinism()"
    os.environ["TF_DETERMINISTIC_OPS"] = "1"
    return "TF_DETERMINISTIC_OPS=1"


def set_global_seed(seed):
    """Seed TensorFlow's global generator the way this version does it.

    TF1: the graph that is default *now* (``tf.set_random_seed`` semantics).
    TF2: ``tf.random.set_seed`` (eager context and later traced graphs).
    """
    if TF1:
        v1.set_random_seed(seed)
        return "tf.compat.v1.set_random_seed (default graph only)"
    if not executing_eagerly():
        tf.compat.v1.set_random_seed(seed)
        return "tf.compat.v1.set_random_seed (current graph)"
    tf.random.set_seed(seed)
    return "tf.random.set_seed"


def describe():
    """The facts above as an ordered list of (name, value) pairs."""
    return [
        ("python", platform.python_version()),
        ("numpy", numpy.__version__),
        ("tensorflow", tf.__version__),
        ("tf.keras flavour", KERAS_FLAVOUR),
        ("keras package", "%s %s" % (keras.__name__, KERAS_VERSION)),
        ("TF_USE_LEGACY_KERAS", os.environ.get("TF_USE_LEGACY_KERAS", "")),
        ("eager", executing_eagerly()),
        ("tf.contrib", "real" if HAS_CONTRIB else "absent"),
    ]


# ---------------------------------------------------------------------------
# The Keras 2 / Keras 3 optimizer adapter: compat_reg.optimizers' base class.
# Everything below answers only the version questions of a custom optimizer,
# so compat_reg.optimizers branches on none.
# ---------------------------------------------------------------------------

def tf_variable(variable):
    """The ``tf.Variable`` behind ``variable`` (a Keras 3 variable wraps one)."""
    if isinstance(variable, tf.Variable):
        return variable
    value = getattr(variable, "value", None)
    return value if isinstance(value, tf.Variable) else variable


def adam_beta_powers(optimizer):
    """``[beta1_power, beta2_power]`` (floats) of an Adam optimizer that
    keeps TF1's running powers, else None: ``compat_reg.optimizers``' exact
    Adam has them as attributes, ``tf.compat.v1.train.AdamOptimizer`` behind
    its private ``_get_beta_accumulators``."""
    powers = None
    if hasattr(optimizer, "beta1_power"):
        powers = (optimizer.beta1_power, optimizer.beta2_power)
    elif hasattr(optimizer, "_get_beta_accumulators"):
        powers = optimizer._get_beta_accumulators()
    if powers is None:
        return None
    return [float(tf_variable(p).numpy()) for p in powers]


def _summed_over_replicas(grads):
    """The gradients summed over a strategy's replicas (in a replica
    context with more than one replica), else as they are: what Keras 3.5+
    does inside ``apply`` and Keras 3.0-3.4 fail to do (see
    ``OPTIMIZER_SUMS_REPLICA_GRADIENTS``)."""
    if not tf.distribute.has_strategy() or (
            tf.distribute.in_cross_replica_context()):
        return grads
    context = tf.distribute.get_replica_context()
    present = [g for g in grads if g is not None]
    if context.num_replicas_in_sync == 1 or not present:
        return grads
    summed = iter(context.all_reduce(tf.distribute.ReduceOp.SUM, present))
    return [None if g is None else next(summed) for g in grads]


class OptimizerAdapter(moves.Optimizer if KERAS_OPTIMIZER_API else object):
    """The Keras Optimizer of this ``tf.keras``, with one interface for 2 and 3.

    A subclass calls ``__init__(learning_rate, name)``, asks ``is_built()``,
    calls ``mark_built()`` at the end of its ``build``, and may define
    ``after_apply(grads)``, run once after every apply of gradients (Keras
    3's ``apply``, Keras 2's ``apply_gradients``; ``fit`` goes through both).
    Keras 2's (2.11+) optimizer leaves the learning rate to the subclass and
    is built with ``jit_compile=False`` (TF's kernels, not XLA's). Without
    ``KERAS_OPTIMIZER_API`` (TF 1.15, TF 2.0-2.10) it is a plain object that
    compat_reg.optimizers does not use.
    """

    def __init__(self, learning_rate, name):
        if KERAS3:
            super(OptimizerAdapter, self).__init__(
                learning_rate=learning_rate, name=name)
        else:
            super(OptimizerAdapter, self).__init__(name=name, jit_compile=False)
            self._learning_rate = self._build_learning_rate(learning_rate)

    def is_built(self):
        return self.built if KERAS3 else self.__dict__.get("_built", False)

    def mark_built(self):
        if not KERAS3:
            self._built = True

    def after_apply(self, grads):
        del grads

    if KERAS3:
        def apply(self, grads, trainable_variables=None):
            grads = list(grads)
            if not OPTIMIZER_SUMS_REPLICA_GRADIENTS:
                grads = _summed_over_replicas(grads)
            result = super(OptimizerAdapter, self).apply(
                grads, trainable_variables)
            if grads:
                self.after_apply(grads)
            return result
    else:
        def apply_gradients(self, grads_and_vars, *args, **kwargs):
            grads_and_vars = list(grads_and_vars)
            result = super(OptimizerAdapter, self).apply_gradients(
                grads_and_vars, *args, **kwargs)
            self.after_apply([g for g, _ in grads_and_vars])
            return result


# What ``compat-reg parity run --strategy`` (compat_reg.parity.distributed)
# needs from tf.distribute, looked up by name: None when everything is there,
# else the first missing API (TF 1.15's strategies are graph-mode, TF 2.0-2.3
# lack the first three: they came in TF 2.4).
def _distributed_parity_missing():
    if TF1:
        return "eager tf.distribute (TensorFlow 2)"
    needed = [
        ("tf.distribute.MultiWorkerMirroredStrategy", tf.distribute,
         "MultiWorkerMirroredStrategy"),
        ("tf.distribute.experimental.CommunicationOptions",
         tf.distribute.experimental, "CommunicationOptions"),
        ("tf.distribute.Strategy.experimental_distribute_values_from_function",
         tf.distribute.Strategy, "experimental_distribute_values_from_function"),
        ("tf.nn.compute_average_loss", tf.nn, "compute_average_loss"),
    ]
    for name, owner, attribute in needed:
        if not hasattr(owner, attribute):
            return name
    return None


DISTRIBUTED_PARITY_MISSING = _distributed_parity_missing()


# Keras' own decoupled weight decay: ``weight_decay=`` on the optimizers of
# the Keras >= 2.11 optimizer API (Keras multiplies it by the learning rate:
# ``var -= var * weight_decay * lr``), and its ``AdamW`` class, which Keras
# 2.11 has only as ``optimizers.experimental.AdamW`` (measured on tf211:
# ``tf.keras.optimizers.AdamW`` absent; tf212 on: present). TF 1.15 and
# Keras 2.0-2.10 (legacy OptimizerV2) have neither: None / False there.
KERAS_WEIGHT_DECAY = KERAS_OPTIMIZER_API


def keras_adamw():
    """Keras' ``AdamW`` class, or None where this Keras has none."""
    if not KERAS_WEIGHT_DECAY:
        return None
    found = getattr(keras.optimizers, "AdamW", None)
    if found is None:
        experimental = getattr(keras.optimizers, "experimental", None)
        found = getattr(experimental, "AdamW", None)
    return found


def keras_excludes_from_weight_decay(optimizer, name):
    """Whether a native Keras optimizer's ``exclude_from_weight_decay(
    var_names=...)`` keeps a variable named ``name`` out of its decay.

    Keras keeps the names private: Keras 3 as one compiled pattern
    (``_exclude_from_weight_decay_pattern``), tf_keras / Keras 2.11-2.15 as
    a list of patterns (``_exclude_from_weight_decay_names``); an optimizer
    with neither (no exclusion, no weight decay) excludes nothing.
    """
    names = list(getattr(optimizer, "_exclude_from_weight_decay_names",
                         None) or [])
    pattern = getattr(optimizer, "_exclude_from_weight_decay_pattern", None)
    if pattern is not None:
        names.append(pattern.pattern)
    return any(re.search(pattern_, name) for pattern_ in names)


# The batch variance a training-mode ``BatchNormalization`` averages into its
# moving variance: Keras 2 / tf_keras use TF's fused kernel, whose variance
# for the moving average has Bessel's correction (``n / (n - 1)``), as TF1's
# fused batch norm (slim, ``tf.layers``) had; Keras 3 averages the biased
# batch variance (``ops.moments``). Measured on TF 2.21: a (4, 3, 3, 2)
# batch gives Keras 3 exactly numpy's ``var(ddof=0)``, tf_keras ``ddof=1``.
BATCH_NORM_MOVING_VARIANCE = "biased" if KERAS3 else "bessel"


# What ``model.fit`` does under ``MultiWorkerMirroredStrategy`` (two worker
# processes, measured by compat_reg.parity.distributed per env): "exact"
# with Keras 2 (built in, keras 2.x, tf_keras: TF 2.10, 2.15, 2.21-legacy);
# "raises" with Keras 3 (3.3.3 to 3.15.1): fit stops before its first step
# with a ValueError (keras-team/keras#20585, tensorflow/tensorflow#72388).
MULTIWORKER_FIT = "raises" if KERAS3 else "exact"


# Whether a Keras optimizer's apply, called in a replica of a tf.distribute
# strategy (a custom loop in strategy.run, or fit), sums the replicas'
# gradients before updating the mirrored weights. Keras 3.0-3.4 do not: the
# all-reduce ran inside merge_call, in cross-replica context, where it is a
# no-op, so each replica applies its own gradient to its own copy and the
# copies drift apart (measured on Keras 3.3.3; keras-team/keras#19308, fixed
# in Keras 3.5 by keras-team/keras#19969). compat_reg.optimizers inherit it.
OPTIMIZER_SUMS_REPLICA_GRADIENTS = not (
    KERAS3 and _major_minor(KERAS_VERSION) < (3, 5))

# Whether ``Layer.add_weight`` takes ``aggregation`` (how a strategy reads
# its replicas' copies of a weight): Keras 2 and tf_keras (TF variables) and
# Keras >= 3.2 do; Keras 3.0-3.1's ``add_weight`` has no such argument (read
# in their keras/src/layers/layer.py). Without it a batch norm's moving
# statistics under a strategy are replica 0's copy, not the replicas' mean
# that TF1 saved (compat_reg.parity.models).
LAYER_WEIGHT_AGGREGATION = not (KERAS3 and _major_minor(KERAS_VERSION) < (3, 2))

# Whether a strategy honours that aggregation: Keras 2 and tf_keras (TF
# variables), and Keras >= 3.7, whose TensorFlow backend passes it on to the
# tf.Variable. Keras 3.2 - 3.6 take the argument and drop it (read in their
# keras/src/backend/tensorflow/core.py): under a strategy each replica keeps
# its own copy of a batch norm's moving statistics and replica 0's is read
# (measured on 3.3.3: convnet_bn's final weights 1.8e-2 from TF1's run under
# MirroredStrategy, the workers' copies apart under MultiWorker).
STRATEGY_AGGREGATES_KERAS_WEIGHTS = not (
    KERAS3 and _major_minor(KERAS_VERSION) < (3, 7))

# ``MIRRORED_FIT`` is what ``fit`` does with Keras' own optimizers. With
# compat_reg.optimizers, which sum the replicas' gradients themselves where
# Keras 3.0-3.4 do not (``OptimizerAdapter.apply``), Keras 3.3-3.4's fit
# shows the same unscaled loss as 3.5-3.7: every step applied once per
# replica (measured on Keras 3.3.3 by compat_reg.parity.distributed's probe).
MIRRORED_FIT_EXACT_OPTIMIZERS = ("step-times-replicas"
                                 if MIRRORED_FIT == "data-loss-drift"
                                 else MIRRORED_FIT)


# A built optimizer's state, for compat_reg.checkpoints (resuming a TF1 run):
# whether it is built, where Keras' own ``SGD``/``Adam`` of the optimizer API
# keep a variable's slot (Keras 3 and Keras 2.11+/tf_keras: the same lists,
# indexed by ``_get_variable_index`` / ``_index_dict``; the legacy
# ``OptimizerV2`` and TF1's optimizers have ``get_slot``), and a constant
# learning rate (None under a schedule).
_KERAS_SLOT_LISTS = {"momentum": "momentums", "m": "_momentums",
                     "v": "_velocities"}


def optimizer_built(optimizer):
    """Whether a Keras optimizer (``KERAS_OPTIMIZER_API``) is built."""
    return bool(optimizer.built if KERAS3 else getattr(optimizer, "_built",
                                                       False))


def build_tf1_optimizer(optimizer, variables):
    """Create a ``tf.compat.v1.train`` optimizer's state for ``variables``
    now, executing eagerly (TF 2.0-2.10, where compat_reg.optimizers are
    those classes), as its first ``apply_gradients`` would: its slots,
    Adam's beta powers (``_create_slots``) and the ``schedule_step`` of
    compat_reg's scheduled ones (``_own_step``; only its variable is read).
    Its ``apply_gradients`` then takes these. Idempotent."""
    variables = list(variables)
    with init_scope():
        optimizer._create_slots(variables)
    own_step = getattr(optimizer, "_own_step", None)
    if own_step is not None and variables:
        own_step([(variables[0], variables[0])])


def assign_values(pairs):
    """Assign ``[(variable, numpy value)]``: Keras 3 variables one by one;
    Keras 2 in one ``batch_set_value`` (one session run on TF 1.x's graph,
    plain assigns when eager)."""
    if KERAS3:
        for variable, value in pairs:
            variable.assign(value)
    else:
        keras.backend.batch_set_value(list(pairs))


def keras_optimizer_slot(optimizer, variable, role):
    """The ``role`` slot (``"momentum"``, ``"m"``, ``"v"``) of ``variable`` in
    a built Keras ``SGD``/``Adam`` (``KERAS_OPTIMIZER_API``), or None."""
    try:
        if KERAS3:
            index = optimizer._get_variable_index(variable)
        else:
            index = optimizer._index_dict[optimizer._var_key(variable)]
        return getattr(optimizer, _KERAS_SLOT_LISTS[role])[index]
    except (AttributeError, IndexError, KeyError):
        return None


def optimizer_constant_rate(optimizer):
    """A Keras optimizer's learning rate as a float, None under a schedule."""
    rate = optimizer._learning_rate
    if callable(rate):  # a LearningRateSchedule, or a function
        return None
    return float(rate.numpy() if KERAS3 else keras.backend.get_value(rate))
