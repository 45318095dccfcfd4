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

import ast

from compat_reg.migrate._context import Context, bind, params
from compat_reg.migrate._names import contrib_factory
from compat_reg.migrate._plugins import register, regularizer_calls


def match(names, qualname, call):
    name = contrib_factory(qualname)
    return name if name == "sum_regularizer" else None


def _terms(ctx: Context, call: ast.Call):
    args = bind(call, params("sum_regularizer"))
    if args is None or not isinstance(args.get("regularizer_list"), (ast.List, ast.Tuple)):
        return None
    found = {}
    for item in args["regularizer_list"].elts:
        if not isinstance(item, ast.Call):
            return None
        name = contrib_factory(ctx.names.resolve(item.func))
        if name == "sum_regularizer":
            inner = _terms(ctx, item)
        elif name in regularizer_calls.NAMES:
            inner = regularizer_calls.terms(ctx, name, item)
            inner = None if inner is None else inner[0]
        else:
            return None
        if inner is None:
            return None
        regularizer_calls.merge(found, inner)
    return found


@register("regularizer", ("sum_regularizer",), match)
def rewrite(ctx: Context, seen, name: str) -> bool:
    call = seen.node
    if ctx.target == "compat_reg":
        return regularizer_calls.qualify(ctx, call, name)
    found = _terms(ctx, call)
    if found is None:
        ctx.note(call, "kept-compat-reg",
                 "sum_regularizer: only a literal list of l1/l2 regularizers "
                 "folds into a native Keras one; using the exact "
                 "compat_reg.sum_regularizer")
        return regularizer_calls.qualify(ctx, call, name)
    regularizer_calls.scope_comment(
        ctx, seen, name, (bind(call, params(name)) or {}).get("scope"))
    kept = [n for ts in found.values() for n, _ in ts]
    ctx.replace_call(seen, regularizer_calls.keras_code(
        ctx, regularizer_calls.ordered(found)), kept)
    return True
