"""Imports: ``import compat_reg`` / ``import keras`` are added after the
module's leading imports where a rewrite needs them, and contrib
imports and aliases the rewrites left unused are removed::

    from tensorflow.contrib.layers import l2_regularizer, xavier_initializer
    -> from tensorflow.contrib.layers import xavier_initializer

    slim = tf.contrib.slim        # removed once nothing uses slim

Only names that were used before the rewrite and are unused after it are
removed, so a second run removes nothing, and an import the file never
used is none of this tool's business.
"""
from __future__ import annotations

from collections import Counter
from typing import Set

import libcst as cst

from compat_reg.migrate._names import Names

NAMES: frozenset = frozenset()


class _Uses(cst.CSTVisitor):
    """How often each name is read (not bound, not imported)."""

    def __init__(self) -> None:
        self.count: Counter = Counter()

    def visit_Name(self, node: cst.Name) -> None:
        self.count[node.value] += 1

    def visit_Import(self, node) -> bool:
        return False

    def visit_ImportFrom(self, node) -> bool:
        return False

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        node.value.visit(self)
        return False

    def visit_Arg(self, node: cst.Arg) -> bool:
        node.value.visit(self)
        return False

    def visit_AssignTarget(self, node: cst.AssignTarget) -> bool:
        return not isinstance(node.target, cst.Name)


def uses(module: cst.Module) -> Counter:
    visitor = _Uses()
    module.visit(visitor)
    return visitor.count


def _contrib(value: str) -> bool:
    return value == "tensorflow.contrib" or value.startswith(
        "tensorflow.contrib.")


class _Remove(cst.CSTTransformer):
    def __init__(self, unused: Set[str]) -> None:
        super().__init__()
        self.unused = unused
        self.emptied: Set[int] = set()

    def _keep(self, alias: cst.ImportAlias) -> bool:
        if alias.asname is not None:
            return getattr(alias.asname.name, "value", None) not in self.unused
        return alias.name.value not in self.unused if isinstance(
            alias.name, cst.Name) else True

    def _filter(self, updated):
        names = [a for a in updated.names if self._keep(a)]
        if not names:
            return cst.RemoveFromParent()
        if len(names) == len(updated.names):
            return updated
        names[-1] = names[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        return updated.with_changes(names=names)

    def leave_Import(self, original, updated):
        return self._filter(updated)

    def leave_ImportFrom(self, original, updated):
        if isinstance(updated.names, cst.ImportStar):
            return updated
        new = self._filter(updated)
        if isinstance(new, cst.ImportFrom) and len(new.names) == 1:
            new = new.with_changes(lpar=None, rpar=None)
        return new

    def leave_Assign(self, original, updated):
        if len(updated.targets) == 1 and isinstance(
                updated.targets[0].target, cst.Name) and \
                updated.targets[0].target.value in self.unused:
            return cst.RemoveFromParent()
        return updated

    def leave_SimpleStatementLine(self, original, updated):
        if not updated.body:
            return cst.RemoveFromParent()
        return updated

    def leave_IndentedBlock(self, original, updated):
        if updated.body:
            return updated
        emptied = updated.with_changes(  # keeps ``try:``/``if:`` valid
            body=[cst.SimpleStatementLine([cst.Pass()])])
        self.emptied.add(id(emptied))
        return emptied

    def leave_Try(self, original, updated):
        """``try: import contrib... except ImportError: import tf_slim``."""
        blocks = [updated.body] + [h.body for h in updated.handlers]
        if updated.orelse is None and updated.finalbody is None and all(
                id(block) in self.emptied for block in blocks):
            return cst.RemoveFromParent()
        return updated


def remove_unused(before: cst.Module, after: cst.Module,
                  names: Names) -> cst.Module:
    """Drop contrib imports/aliases that ``after`` no longer uses."""
    used_before, used_after = uses(before), uses(after)
    unused = {
        name for name, value in names.table.items()
        if _contrib(value) and used_before[name] and not used_after[name]}
    if not unused:
        return after
    return after.visit(_Remove(unused))


def _is_import_line(statement: cst.CSTNode) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and all(
        isinstance(s, (cst.Import, cst.ImportFrom)) for s in statement.body)


def _is_docstring(statement: cst.CSTNode) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and isinstance(
        statement.body[0], cst.Expr) and isinstance(
            statement.body[0].value, (cst.SimpleString,
                                      cst.ConcatenatedString))


def add(module: cst.Module, names) -> cst.Module:
    """``import <name>`` after the last of the module's leading imports."""
    body = list(module.body)
    already = {a.name.value for s in body if _is_import_line(s)
               for i in s.body if isinstance(i, cst.Import)
               for a in i.names if isinstance(a.name, cst.Name)
               and a.asname is None}
    new = [cst.SimpleStatementLine([cst.Import([cst.ImportAlias(
        cst.Name(name))])]) for name in names if name not in already]
    if not new:
        return module
    at = 0
    for index, statement in enumerate(body):
        if _is_import_line(statement) or (index == 0 and
                                          _is_docstring(statement)):
            at = index + 1
        else:
            break
    if at == 0 and body:  # no imports: keep comments/blank lines on top
        new[0] = new[0].with_changes(leading_lines=body[0].leading_lines)
        body[0] = body[0].with_changes(leading_lines=[cst.EmptyLine()])
    elif at < len(body) and not body[at].leading_lines:
        body[at] = body[at].with_changes(leading_lines=[cst.EmptyLine()])
    return module.with_changes(body=body[:at] + new + body[at:])
