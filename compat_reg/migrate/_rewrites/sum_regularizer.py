"""``sum_regularizer([...])``.

``--target compat_reg``: ``compat_reg.sum_regularizer(...)``. ``--target
keras``: a literal list of l1/l2/l1_l2 (or nested sum) regularizers folds
into one native regularizer, since the penalties just add::

    sum_regularizer([l1_regularizer(a), l2_regularizer(b)])
        -> keras.regularizers.L1L2(l1=a, l2=0.5 * b)

Anything else (a list built elsewhere, a custom regularizer in it) cannot be
folded without running the code and becomes ``compat_reg.sum_regularizer``,
with a note.
"""
from __future__ import annotations

from typing import List, Optional, Tuple

import libcst as cst

from compat_reg.migrate._helpers import Context, bind, expr, qualify, scope_comment
from compat_reg.migrate._names import contrib_factory
from compat_reg.migrate._rewrites import regularizer_calls

NAMES = frozenset(("sum_regularizer",))


def _terms(ctx: Context, call: cst.Call
           ) -> Optional[Tuple[List[cst.BaseExpression],
                               List[cst.BaseExpression]]]:
    args = bind(call, regularizer_calls.PARAMS["sum_regularizer"])
    if args is None or not isinstance(args.get("regularizer_list"),
                                      (cst.List, cst.Tuple)):
        return None
    l1: List[cst.BaseExpression] = []
    l2: List[cst.BaseExpression] = []
    for element in args["regularizer_list"].elements:
        item = element.value
        if isinstance(element, cst.StarredElement) or not isinstance(
                item, cst.Call):
            return None
        name = contrib_factory(ctx.names.resolve(item.func))
        if name == "sum_regularizer":
            inner = _terms(ctx, item)
        elif name in regularizer_calls.NAMES:
            inner = regularizer_calls.scales(name, item)
        else:
            return None
        if inner is None:
            return None
        l1 += inner[0]
        l2 += inner[1]
    return l1, l2


def rewrite(ctx: Context, name: str, original: cst.Call,
            updated: cst.Call) -> Optional[cst.BaseExpression]:
    if ctx.target == "compat_reg":
        return qualify(ctx, updated, name)
    terms = _terms(ctx, original)
    if terms is None:
        ctx.note(original, "kept-compat-reg",
                 "sum_regularizer: only a literal list of l1/l2 regularizers "
                 "folds into a native Keras one; using the exact "
                 "compat_reg.sum_regularizer")
        return qualify(ctx, updated, name)
    scope_comment(ctx, name, (bind(original, ("regularizer_list", "scope"))
                              or {}).get("scope"))
    return expr(regularizer_calls.keras_code(ctx, *terms))
