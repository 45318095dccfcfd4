"""Reads of the ``REGULARIZATION_LOSSES`` collection.

``tf_upgrade_v2`` turns these into ``tf.compat.v1`` calls, which return 0.0
in eager mode. They become compat_reg's readers, which read the collection
in graph mode and a Keras model's ``losses`` when given one::

    tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES, 'enc')
        -> compat_reg.get_regularization_losses(scope='enc')
    tf.losses.get_regularization_loss()
        -> compat_reg.get_regularization_loss()

Inside a method of a Keras ``Model``/``Layer`` subclass ``source=self`` is
passed; in a function (or module) that builds exactly one Keras model, that
model. Otherwise nothing is guessed and a note says what to pass.
"""
from __future__ import annotations

from typing import Optional

import libcst as cst

from compat_reg.migrate._helpers import Context, bind, expr

NAMES = frozenset((
    "get_collection", "get_regularization_loss", "get_regularization_losses"))

_READERS = ("tensorflow.losses.", "tensorflow.contrib.losses.",
            "tensorflow.contrib.slim.losses.")
_COLLECTIONS = ("tensorflow.get_collection",
                "tensorflow.python.framework.ops.get_collection")
_PARAMS = {
    "get_collection": ("key", "scope"),
    "get_regularization_loss": ("scope", "name"),
    "get_regularization_losses": ("scope",),
}


def is_key(ctx: Context, node: Optional[cst.BaseExpression]) -> bool:
    """``tf.GraphKeys.REGULARIZATION_LOSSES`` or ``'regularization_losses'``."""
    if isinstance(node, cst.SimpleString):
        return node.evaluated_value == "regularization_losses"
    qualname = ctx.names.resolve(node) if node is not None else None
    return bool(qualname) and qualname.startswith("tensorflow.") and \
        qualname.endswith("GraphKeys.REGULARIZATION_LOSSES")


def reader(ctx: Context, qualname: Optional[str],
           call: cst.Call) -> Optional[str]:
    """Which compat_reg reader replaces this call, if it reads the losses."""
    if qualname in _COLLECTIONS:
        args = bind(call, _PARAMS["get_collection"])
        if args is not None and is_key(ctx, args.get("key")):
            return "get_regularization_losses"
        return None
    if qualname and qualname.startswith(_READERS):
        last = qualname.rpartition(".")[2]
        if last in ("get_regularization_loss", "get_regularization_losses"):
            return last
    return None


def rewrite(ctx: Context, name: str, original: cst.Call,
            updated: cst.Call) -> Optional[cst.BaseExpression]:
    qualname = ctx.names.resolve(original.func)
    new_name = reader(ctx, qualname, original)
    if new_name is None:
        return None
    args = bind(updated, _PARAMS[name])
    if args is None:
        return None
    parts = ["%s=%s" % (key, ctx.code(value)) for key, value in args.items()
             if key != "key"]
    source = ctx.model_in_reach()
    if source is not None:
        parts.insert(0, "source=%s" % source)
    else:
        ctx.note(original, "pass-source",
                 "%s reads the TF1 collection in graph mode only; under eager "
                 "execution pass source=<the Keras model or layer that owns "
                 "the weights> (none was found in reach here)" % new_name)
    return expr("%s(%s)" % (ctx.compat_reg(new_name), ", ".join(parts)))
