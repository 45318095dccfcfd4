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
model. Otherwise nothing is guessed and a note says what to pass. The
arguments' text is kept as it is.
"""
from __future__ import annotations

import ast
from typing import Optional

from compat_reg.migrate._context import Context, bind
from compat_reg.migrate._plugins import register

# TF1's loss modules (core, contrib's, slim's) and its collection readers
READERS = ("tensorflow.losses.", "tensorflow.contrib.losses.",
           "tensorflow.contrib.slim.losses.")
COLLECTIONS = ("tensorflow.get_collection",
               "tensorflow.python.framework.ops.get_collection")
_PARAMS = {
    "get_collection": ("key", "scope"),
    "get_regularization_loss": ("scope", "name"),
    "get_regularization_losses": ("scope",),
}


def is_key(names, node: Optional[ast.AST]) -> bool:
    """``tf.GraphKeys.REGULARIZATION_LOSSES``, ``'regularization_losses'``
    or a name bound once to that string."""
    if isinstance(node, ast.Constant):
        return node.value == "regularization_losses"
    if isinstance(node, ast.Name) and node.id in names.constants:
        return names.constants[node.id] == "regularization_losses"
    qualname = names.resolve(node) if node is not None else None
    return bool(qualname) and qualname.startswith("tensorflow.") and \
        qualname.endswith("GraphKeys.REGULARIZATION_LOSSES")


def match(names, qualname, call) -> Optional[str]:
    """Which compat_reg reader replaces this call, if it reads the losses."""
    if qualname in COLLECTIONS:
        args = bind(call, _PARAMS["get_collection"])
        if args is not None and is_key(names, args.get("key")):
            return "get_regularization_losses"
        return None
    if qualname.startswith(READERS):
        last = qualname.rpartition(".")[2]
        if last in ("get_regularization_loss", "get_regularization_losses"):
            return last
    return None


@register("collection_read", tuple(_PARAMS), match)
def rewrite(ctx: Context, seen, new_name: str) -> bool:
    call = seen.node
    old = ctx.names.resolve(call.func).rpartition(".")[2]
    args = bind(call, _PARAMS[old])
    parts = ["%s=%s" % (key, ctx.text(value)) for key, value in args.items()
             if key != "key"]
    source = ctx.names.model_in_reach(seen.scope)
    if source is not None:
        parts.insert(0, "source=%s" % source)
    else:
        ctx.note(call, "pass-source",
                 "%s reads the TF1 collection in graph mode only; under eager "
                 "execution pass source=<the Keras model or layer that owns "
                 "the weights> (none was found in reach here)" % new_name)
    ctx.replace_call(seen, "%s(%s)" % (ctx.compat_reg(new_name), ", ".join(parts)),
                     list(args.values()))
    return True
