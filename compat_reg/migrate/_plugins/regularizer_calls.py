"""``l1_regularizer``, ``l2_regularizer``, ``l1_l2_regularizer``.

``--target compat_reg``: ``compat_reg.<name>(...)``, only the callee's text
replaced. ``--target keras``: the native class with contrib's arithmetic
spelled out from ``convention`` (contrib's l2 is ``scale * sum(w ** 2) / 2``,
Keras' ``l2 * sum(w ** 2)``)::

    l2_regularizer(0.01)           -> keras.regularizers.L2(0.005)
    l2_regularizer(wd)             -> keras.regularizers.L2(0.5 * wd)
    l1_l2_regularizer(a, b + c)    -> keras.regularizers.L1L2(l1=a, l2=0.5 * (b + c))

A literal ``0.0`` gives ``None`` (contrib's zero-scale regularizer added no
penalty either). An integer literal is left alone: TF1 raised on it, and
the hazard report says so. A scope becomes a comment above the statement.
"""
from __future__ import annotations

import ast
from typing import List, Optional, Tuple

from compat_reg import convention
from compat_reg.migrate._context import (
    Context, atom, bind, float_literal, int_literal, params, scaled)
from compat_reg.migrate._names import contrib_factory
from compat_reg.migrate._plugins import register

NAMES = convention.SCALED   # the factories that take scales
# One term of a penalty: (node or None for a default, its text).
Term = Tuple[Optional[ast.AST], str]


def match(names, qualname, call) -> Optional[str]:
    name = contrib_factory(qualname)
    return name if name in NAMES else None


def int_literal_scale(name: str, call: ast.Call) -> Optional[str]:
    args = bind(call, params(name)) or {}
    for scale in convention.FACTORY[name].scales:
        literal = int_literal(args.get(scale.param))
        if literal is not None:
            return literal
    return None


def terms(ctx: Context, name: str, call: ast.Call):
    """{keras keyword: [terms]} of one call, contrib convention; literal
    zeros dropped, as contrib dropped them. None if the call cannot be read
    or holds an integer scale (TF1 raised on it)."""
    args = bind(call, params(name))
    if args is None:
        return None
    defaults = dict(convention.FACTORY[name].params)
    out = {}
    for scale in convention.FACTORY[name].scales:
        node = args.get(scale.param)
        if node is None:
            default = defaults[scale.param]
            if default is convention.REQUIRED:
                return None
            term: Term = (ast.Constant(float(default)), repr(float(default)))
        else:
            if int_literal(node) is not None:
                return None
            term = (node, ctx.text(node))
        out.setdefault(scale.keras_arg, [])
        if float_literal(term[0]) != 0.0:
            out[scale.keras_arg].append(term)
    return out, args


def _factor(keras_arg: str) -> float:
    return {s.keras_arg: s.factor for f in convention.FACTORIES
            for s in f.scales}[keras_arg]


def keras_code(ctx: Context, found) -> str:
    """The native regularizer for the sum of the terms of each keyword."""
    parts = []
    for keras_arg, terms_ in found.items():
        if not terms_:
            continue
        if len(terms_) == 1:
            node, text = terms_[0]
        else:
            node, text = None, " + ".join(atom(t, n) for n, t in terms_)
        parts.append((keras_arg, scaled(ctx, _factor(keras_arg), node, text)))
    if not parts:
        return "None"
    wanted = tuple(k for k, _ in parts)
    cls = next(c for c, args in convention.KERAS_CLASSES.items() if args == wanted)
    if len(parts) == 1:
        return "%s(%s)" % (ctx.keras(cls), parts[0][1])
    return "%s(%s)" % (ctx.keras(cls), ", ".join("%s=%s" % p for p in parts))


def merge(into, found) -> None:
    for keras_arg, terms_ in found.items():
        into.setdefault(keras_arg, []).extend(terms_)


def ordered(found):
    """Keywords in the order the Keras classes take them (l1, then l2)."""
    order = [s.keras_arg for s in convention.FACTORY["l1_l2_regularizer"].scales]
    return {k: found[k] for k in order if k in found}


def scope_comment(ctx: Context, seen, name: str, scope: Optional[ast.AST]) -> None:
    if scope is not None and not (isinstance(scope, ast.Constant) and scope.value is None):
        ctx.comment(seen, "%s(scope=%s) named its TF1 penalty op; Keras "
                    "regularizers have no scope, so that name is gone (the "
                    "penalty is unchanged)" % (name, " ".join(ctx.text(scope).split())))


def qualify(ctx: Context, call: ast.Call, name: str) -> bool:
    """The drop-in: ``compat_reg.<name>`` as the callee, arguments as they are."""
    ctx.replace(call.func, ctx.compat_reg(name))
    return True


@register("regularizer", NAMES, match)
def rewrite(ctx: Context, seen, name: str) -> bool:
    call = seen.node
    if ctx.target == "compat_reg":
        if int_literal_scale(name, call):
            return False  # reported as a hazard; TF1 raised here as well
        return qualify(ctx, call, name)
    found = terms(ctx, name, call)
    if found is None:
        if int_literal_scale(name, call):
            return False
        ctx.note(call, "kept-compat-reg",
                 "%s: arguments cannot be read without running the code; "
                 "using the exact compat_reg.%s" % (name, name))
        return qualify(ctx, call, name)
    scales, args = found
    scope_comment(ctx, seen, name, args.get("scope"))
    kept: List[ast.AST] = [n for ts in scales.values() for n, _ in ts]
    ctx.replace_call(seen, keras_code(ctx, ordered(scales)), kept)
    return True
