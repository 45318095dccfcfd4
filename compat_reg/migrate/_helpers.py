"""What the rewrites share: the per-file context and small CST helpers."""
from __future__ import annotations

import dataclasses
import functools
from typing import Callable, Dict, List, Optional, Sequence

import libcst as cst

from compat_reg.migrate._names import Names

TARGETS = ("compat_reg", "keras")
# What ``from tensorflow import keras`` is bound to under --target keras
# when the file's ``keras`` is another Keras and no ``tf`` is in reach.
TF_KERAS_ALIAS = "tf_keras_api"


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
    _keras: Optional[str] = None

    def code(self, node: cst.CSTNode) -> str:
        return " ".join(self.module.code_for_node(node).split())

    def note(self, node: cst.CSTNode, code: str, message: str) -> None:
        self.findings.append(Finding(self.line_of(node), "note", code, message))

    def comment(self, text: str) -> None:
        if self.comments:
            self.comments[-1].append("# compat-reg: " + text)

    def compat_reg(self, name: str) -> str:
        if self.names.table.get("compat_reg") != "compat_reg":
            self.imports.add("import compat_reg")
        return "compat_reg." + name

    def keras(self, name: str) -> str:
        """``<the Keras tf.keras is>.regularizers.<name>``: regularizers of
        another Keras than the one of the file's ``tf.keras`` layers would
        not serialize with them (``import keras`` is Keras 3 even where
        ``tf.keras`` is tf_keras, under ``TF_USE_LEGACY_KERAS=1``)."""
        if self._keras is None:
            self._keras = self._keras_module()
        return self._keras + ".regularizers." + name

    def _keras_module(self) -> str:
        table, bound = self.names.table, self.names.bound
        if table.get("keras") == "tensorflow.keras":
            return "keras"
        if "keras" not in bound:
            self.imports.add("from tensorflow import keras")
            return "keras"
        # ``keras`` is bound to something else (the standalone package, say):
        # leave it be, and reach tf.keras another way
        for local in sorted(table):
            if table[local] == "tensorflow.keras":
                return local
        tensorflow = sorted(local for local in table
                            if table[local] == "tensorflow")
        if tensorflow:
            return ("tf" if "tf" in tensorflow else tensorflow[0]) + ".keras"
        alias, number = TF_KERAS_ALIAS, 1
        while alias in bound:
            number += 1
            alias = "%s_%d" % (TF_KERAS_ALIAS, number)
        self.imports.add("from tensorflow import keras as " + alias)
        return alias


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


@functools.lru_cache(maxsize=4096)
def expr(code: str) -> cst.BaseExpression:
    """The expression ``code`` (nodes are immutable: parsed once each)."""
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
