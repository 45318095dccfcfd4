"""Rewrite one module's source: dispatch each call to its rewrite, then fix
the imports and collect what could not be fixed.

One parse, then one cheap read-only walk (``_walk.walk``) that both looks
for hazards and marks the nodes on the way to something to rewrite; the
libcst transformer then enters only those, and line numbers are generated
only when a site or a finding needs one."""
from __future__ import annotations

import dataclasses
from collections import Counter
from typing import Dict, List, Optional, Set, Union

import libcst as cst

from compat_reg.migrate import _hazards
from compat_reg.migrate._helpers import Context, Finding, Site, expr
from compat_reg.migrate._names import (
    Names, contrib_factory, is_keras_model, target_names)
from compat_reg.migrate._rewrites import (
    apply_regularization, collection_reads, imports, regularizer_calls,
    sum_regularizer)
from compat_reg.migrate._rewrites.imports import uses
from compat_reg.migrate._walk import Lines, walk

REWRITES = (regularizer_calls, sum_regularizer, apply_regularization,
            collection_reads)
_BY_NAME = {name: rewrite for rewrite in REWRITES for name in rewrite.NAMES}


@dataclasses.dataclass
class Result:
    source: Union[str, bytes]
    changed: bool
    findings: List[Finding]
    sites: List[Site]


class _Survey(_hazards.Scan):
    """The hazard scan, which also marks (by id) every node the transformer
    has to enter: the calls, ``*_regularizer=`` arguments and references to
    rewrite, and their ancestors."""

    def __init__(self, names: Names, line_of) -> None:
        super().__init__(names, line_of)
        self.path: List[cst.CSTNode] = []
        self.hot: Set[int] = set()

    def _mark(self, node: cst.CSTNode) -> None:
        self.hot.add(id(node))
        for ancestor in reversed(self.path):
            if id(ancestor) in self.hot:
                break
            self.hot.add(id(ancestor))

    def _reference(self, value: cst.BaseExpression) -> bool:
        return isinstance(value, (cst.Name, cst.Attribute)) and \
            contrib_factory(self.names.resolve(value)) is not None

    def visit_Call(self, node: cst.Call) -> None:
        super().visit_Call(node)
        qualname = self.names.resolve(node.func)
        if contrib_factory(qualname) is not None or collection_reads.reader(
                self, qualname, node) is not None:
            self._mark(node)

    def visit_Arg(self, node: cst.Arg) -> None:
        if (node.keyword is not None and node.keyword.value.endswith(
                "regularizer")) or self._reference(node.value):
            self._mark(node)

    def visit_Assign(self, node: cst.Assign) -> None:
        super().visit_Assign(node)
        if self._reference(node.value):
            self._mark(node)


class _Transformer(cst.CSTTransformer):
    """Enters only the nodes in ``hot`` (their ``leave_`` runs either way):
    nothing else can change."""

    def __init__(self, target: str, names: Names, module: cst.Module,
                 line_of, hot: Set[int]) -> None:
        super().__init__()
        self.ctx = Context(target, names, module, line_of,
                           model_in_reach=self._model_in_reach)
        self._line = line_of
        self.hot = hot
        self.names = names
        self.scopes: List[Dict[str, object]] = [
            {"models": _models(module.body, names), "keras_class": False}]
        self.arguments: Dict[int, str] = {}
        self.changed = False
        #: name counts of the rewritten module minus those of the original
        self.uses: Counter = Counter()

    # --- where a model is in reach -------------------------------------
    def _model_in_reach(self) -> Optional[str]:
        scope = self.scopes[-1]
        if scope.get("self"):
            return "self"
        models = scope["models"]
        return next(iter(models)) if len(models) == 1 else None

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        keras = any(is_keras_model(self.names.resolve(b.value), bases=True)
                    for b in node.bases)
        self.scopes.append({"models": set(), "keras_class": keras})

    def leave_ClassDef(self, original, updated):
        self.scopes.pop()
        return self._with_comments(updated)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        params = node.params.params
        method_of_keras = self.scopes[-1].get("keras_class") and params and \
            params[0].name.value == "self"
        body = node.body.body if isinstance(node.body, cst.IndentedBlock) \
            else ()
        self.scopes.append({"models": _models(body, self.names),
                            "self": method_of_keras})
        self.ctx.comments.append([])

    def leave_FunctionDef(self, original, updated):
        self.scopes.pop()
        return self._with_comments(updated)

    # --- scope comments go above the statement holding the call ---------
    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, (cst.SimpleStatementLine, cst.BaseCompoundStatement)
                      ) and not isinstance(node, cst.FunctionDef):
            self.ctx.comments.append([])
        return super().on_visit(node) and id(node) in self.hot

    def on_leave(self, original, updated):
        result = super().on_leave(original, updated)
        if isinstance(original, (cst.SimpleStatementLine,
                                 cst.BaseCompoundStatement)) and not \
                isinstance(original, (cst.FunctionDef, cst.ClassDef)):
            result = self._with_comments(result)
        return result

    def _with_comments(self, node):
        comments = self.ctx.comments.pop() if self.ctx.comments else []
        if not comments or not hasattr(node, "leading_lines"):
            return node
        lines = [cst.EmptyLine(comment=cst.Comment(c))
                 for c in dict.fromkeys(comments)]
        return node.with_changes(leading_lines=[*node.leading_lines, *lines])

    # --- the rewrites ----------------------------------------------------
    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None and node.keyword.value.endswith(
                "regularizer"):
            self.arguments[id(node.value)] = node.keyword.value

    def leave_Arg(self, original: cst.Arg, updated: cst.Arg) -> cst.Arg:
        keyword = self.arguments.get(id(original.value))
        if keyword is not None:
            self.ctx.sites.append(Site(
                self._line(original), "regularizer_argument", keyword,
                not updated.value.deep_equals(original.value)))
        return updated.with_changes(value=self._reference(original.value,
                                                          updated.value))

    def leave_Assign(self, original: cst.Assign, updated: cst.Assign):
        return updated.with_changes(value=self._reference(original.value,
                                                          updated.value))

    def _reference(self, original: cst.BaseExpression,
                   updated: cst.BaseExpression) -> cst.BaseExpression:
        """A factory passed around uncalled: the drop-in, on both targets."""
        if not isinstance(original, (cst.Name, cst.Attribute)):
            return updated
        name = contrib_factory(self.names.resolve(original))
        if name is None:
            return updated
        self.ctx.sites.append(Site(self._line(original), "reference", name,
                                   True))
        self.changed = True
        return self._replaced(updated, expr(self.ctx.compat_reg(name)))

    def _replaced(self, old: cst.CSTNode, new: cst.CSTNode) -> cst.CSTNode:
        """Keep ``uses``: how the name counts of ``Names.uses`` change."""
        self.uses.update(uses(new))
        self.uses.subtract(uses(old))
        return new

    def leave_Call(self, original: cst.Call,
                   updated: cst.Call) -> cst.BaseExpression:
        qualname = self.names.resolve(original.func)
        name = contrib_factory(qualname)
        if name is None:
            name = (qualname or "").rpartition(".")[2]
            if collection_reads.reader(self.ctx, qualname, original) is None:
                return updated
        new = _BY_NAME[name].rewrite(self.ctx, name, original, updated)
        kind = "collection_read" if _BY_NAME[name] is collection_reads \
            else "regularizer"
        self.ctx.sites.append(Site(self._line(original), kind, name,
                                   new is not None))
        if new is None:
            return updated
        self.changed = True
        return self._replaced(updated, new)


def _models(body, names: Names) -> Set[str]:
    """Names bound in ``body`` (not nested defs) to a new Keras model."""
    found: Set[str] = set()
    for statement in body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.Assign) and isinstance(
                    small.value, cst.Call) and is_keras_model(
                        names.resolve(small.value.func)):
                for target in small.targets:
                    found.update(target_names(target.target))
    return found


def migrate_source(source: Union[str, bytes], target: str = "compat_reg"
                   ) -> Result:
    """Rewrite one module. Raises ``libcst.ParserSyntaxError`` if it does
    not parse. Bytes in, bytes out (the file's encoding is kept)."""
    module = cst.parse_module(source)
    line_of = Lines(module)
    names = Names(module)
    survey = _Survey(names, line_of)
    walk(module, survey, survey.path)
    transformer = _Transformer(target, names, module, line_of, survey.hot)
    new = module.visit(transformer) if survey.hot else module
    findings = survey.report()
    ctx = transformer.ctx
    if transformer.changed:
        new = imports.remove_unused(new, names, transformer.uses)
        new = imports.add(new, ctx.imports)
        out = new.bytes if isinstance(source, bytes) else new.code
    else:
        out = source  # what libcst would generate from the unchanged tree
    findings = sorted(set(findings) | set(ctx.findings),
                      key=lambda f: (f.line, f.kind, f.code))
    sites = sorted(dict.fromkeys(ctx.sites), key=lambda s: (s.line, s.kind))
    return Result(out, out != source, findings, sites)
