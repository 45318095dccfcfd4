"""``l1_regularizer``, ``l2_regularizer``, ``l1_l2_regularizer``.

``--target compat_reg``: ``compat_reg.<name>(...)`` with the arguments as
they were. ``--target keras``: the native class with contrib's arithmetic
spelled out, since contrib's l2 is ``scale * sum(w ** 2) / 2`` and Keras'
is ``l2 * sum(w ** 2)``::

    l2_regularizer(0.01)           -> keras.regularizers.L2(0.005)
    l2_regularizer(wd)             -> keras.regularizers.L2(0.5 * wd)
    l1_l2_regularizer(a, b + c)    -> keras.regularizers.L1L2(l1=a, l2=0.5 * (b + c))

``keras`` is the Keras ``tf.keras`` is (``from tensorflow import keras``,
added where needed; see ``Context.keras``), so that the regularizers match
the file's ``tf.keras`` layers under ``TF_USE_LEGACY_KERAS=1`` too.

A literal ``0.0`` gives ``None`` (contrib's zero-scale regularizer added no
penalty either). An integer literal is left alone: TF1 raised on it, and
the hazard report says so.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import libcst as cst

from compat_reg.migrate._helpers import (
    Context, bind, expr, float_literal, halve, int_literal, qualify,
    scope_comment)

NAMES = frozenset(("l1_regularizer", "l2_regularizer", "l1_l2_regularizer"))

PARAMS = {
    "l1_regularizer": ("scale", "scope"),
    "l2_regularizer": ("scale", "scope"),
    "l1_l2_regularizer": ("scale_l1", "scale_l2", "scope"),
    "sum_regularizer": ("regularizer_list", "scope"),
}
_ONE = cst.Float("1.0")


def scales(name: str, call: cst.Call
           ) -> Optional[Tuple[List[cst.BaseExpression],
                               List[cst.BaseExpression],
                               Dict[str, cst.BaseExpression]]]:
    """(l1 scales, l2 scales, bound args) of one call, contrib convention;
    literal zeros are dropped, as contrib dropped them. None if the call
    cannot be read or holds an integer scale (TF1 raised on it)."""
    args = bind(call, PARAMS[name])
    if args is None:
        return None
    if name == "l1_l2_regularizer":
        l1 = [args.get("scale_l1", _ONE)]
        l2 = [args.get("scale_l2", _ONE)]
    elif "scale" not in args:
        return None
    else:
        l1 = [args["scale"]] if name == "l1_regularizer" else []
        l2 = [args["scale"]] if name == "l2_regularizer" else []
    if any(int_literal(s) is not None for s in l1 + l2):
        return None
    return ([s for s in l1 if float_literal(s) != 0.0],
            [s for s in l2 if float_literal(s) != 0.0], args)


def keras_code(ctx: Context, l1: List[cst.BaseExpression],
               l2: List[cst.BaseExpression]) -> str:
    """The native regularizer for sum(l1 terms) + sum(l2 terms)."""
    def total(terms: List[cst.BaseExpression]) -> cst.BaseExpression:
        if len(terms) == 1:
            return terms[0]
        return expr(" + ".join(ctx.code(t) for t in terms))

    if not l1 and not l2:
        return "None"
    if not l2:
        return "%s(%s)" % (ctx.keras("L1"), ctx.code(total(l1)))
    if not l1:
        return "%s(%s)" % (ctx.keras("L2"), halve(ctx, total(l2)))
    return "%s(l1=%s, l2=%s)" % (ctx.keras("L1L2"), ctx.code(total(l1)),
                                 halve(ctx, total(l2)))


def rewrite(ctx: Context, name: str, original: cst.Call,
            updated: cst.Call) -> Optional[cst.BaseExpression]:
    found = scales(name, original)
    if found is None:
        if int_literal_scale(name, original):
            return None  # reported by _hazards; TF1 raised here as well
        if ctx.target == "keras":
            ctx.note(original, "kept-compat-reg",
                     "%s: arguments cannot be read without running the code; "
                     "using the exact compat_reg.%s" % (name, name))
        return qualify(ctx, updated, name)
    if ctx.target == "compat_reg":
        return qualify(ctx, updated, name)
    l1, l2, args = found
    scope_comment(ctx, name, args.get("scope"))
    return expr(keras_code(ctx, l1, l2))


def int_literal_scale(name: str, call: cst.Call) -> Optional[str]:
    args = bind(call, PARAMS[name]) or {}
    for key in ("scale", "scale_l1", "scale_l2"):
        literal = int_literal(args.get(key))
        if literal is not None:
            return literal
    return None
