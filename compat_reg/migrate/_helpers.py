"""What the rewrites share: the per-file context and small CST helpers."""
from __future__ import annotations

import dataclasses
from typing import Callable, Dict, List, Optional, Sequence

import libcst as cst

from compat_reg.migrate._names import Names

TARGETS = ("compat_reg", "keras")


@dataclasses.dataclass(frozen=True)
class Finding:
    """Something the tool reports: a ``hazard`` (it cannot fix it; exit
    code 1) or a ``note`` (what it did, or what to pass; no effect on the
    exit code)."""
    line: int
    kind: str
    code: str
    message: str


@dataclasses.dataclass(frozen=True)
class Site:
    """A regularization site: a regularizer factory call, a collection read,
    or a ``*_regularizer=`` argument."""
    line: int
    kind: str
    name: str
    rewritten: bool


@dataclasses.dataclass
class Context:
    target: str
    names: Names
    module: cst.Module
    line_of: Callable[[cst.CSTNode], int]
    model_in_reach: Callable[[], Optional[str]] = lambda: None
    findings: List[Finding] = dataclasses.field(default_factory=list)
    sites: List[Site] = dataclasses.field(default_factory=list)
    imports: set = dataclasses.field(default_factory=set)
    comments: List[List[str]] = dataclasses.field(default_factory=list)

    def code(self, node: cst.CSTNode) -> str:
        return " ".join(self.module.code_for_node(node).split())

    def note(self, node: cst.CSTNode, code: str, message: str) -> None:
        self.findings.append(Finding(self.line_of(node), "note", code, message))

    def comment(self, text: str) -> None:
        if self.comments:
            self.comments[-1].append("# compat-reg: " + text)

    def compat_reg(self, name: str) -> str:
        if self.names.table.get("compat_reg") != "compat_reg":
            self.imports.add("compat_reg")
        return "compat_reg." + name

    def keras(self, name: str) -> str:
        if self.names.table.get("keras") not in ("keras", "tensorflow.keras",
                                                 "tf_keras"):
            self.imports.add("keras")
        return "keras.regularizers." + name


def bind(call: cst.Call,
         params: Sequence[str]) -> Optional[Dict[str, cst.BaseExpression]]:
    """Map a call's arguments to ``params``; None if that cannot be done
    without running the code (``*args``, ``**kwargs``, unknown keywords)."""
    bound: Dict[str, cst.BaseExpression] = {}
    for index, arg in enumerate(call.args):
        if arg.star:
            return None
        if arg.keyword is None:
            if index >= len(params):
                return None
            name = params[index]
        else:
            name = arg.keyword.value
            if name not in params or name in bound:
                return None
        bound[name] = arg.value
    return bound


def float_literal(node: Optional[cst.BaseExpression]) -> Optional[float]:
    if isinstance(node, cst.Float):
        return float(node.value)
    return None


def int_literal(node: Optional[cst.BaseExpression]) -> Optional[str]:
    """The source of an integer literal (``1``, ``-2``, ``True``), else None."""
    if isinstance(node, cst.UnaryOperation) and isinstance(
            node.operator, (cst.Minus, cst.Plus)):
        inner = int_literal(node.expression)
        if inner is not None:
            return ("-" if isinstance(node.operator, cst.Minus) else "") + inner
    if isinstance(node, cst.Integer):
        return node.value
    if isinstance(node, cst.Name) and node.value in ("True", "False"):
        return node.value
    return None


_ATOMS = (cst.Name, cst.Attribute, cst.Call, cst.Subscript, cst.Float,
          cst.Integer)


def halve(ctx: Context, node: cst.BaseExpression) -> str:
    """contrib's l2 scale as a Keras l2 factor: exactly half of it."""
    value = float_literal(node)
    if value is not None:
        return repr(value / 2)
    if isinstance(node, _ATOMS) and not (node.lpar or node.rpar):
        return "0.5 * " + ctx.code(node)
    return "0.5 * (%s)" % ctx.code(node)


def expr(code: str) -> cst.BaseExpression:
    return cst.parse_expression(code)


def qualify(ctx: Context, updated: cst.Call, name: str) -> cst.Call:
    """The drop-in: same arguments, ``compat_reg.<name>`` as the callee."""
    return updated.with_changes(func=expr(ctx.compat_reg(name)))


def scope_comment(ctx: Context, name: str,
                  scope: Optional[cst.BaseExpression]) -> None:
    if scope is not None and ctx.code(scope) != "None":
        ctx.comment(
            "%s(scope=%s) named its TF1 penalty op; Keras regularizers have "
            "no scope, so that name is gone (the penalty is unchanged)"
            % (name, ctx.code(scope)))
