"""Imports: ``import compat_reg`` / ``from tensorflow import keras`` are
added after the module's leading imports where a rewrite needs them, and contrib
imports and aliases the rewrites left unused are removed::

    from tensorflow.contrib.layers import l2_regularizer, xavier_initializer
    -> from tensorflow.contrib.layers import xavier_initializer

    slim = tf.contrib.slim        # removed once nothing uses slim

Only names that were used before the rewrite and are unused after it are
removed, so a second run removes nothing, and an import the file never
used is none of this tool's business.
"""
from __future__ import annotations

import functools
from collections import Counter
from typing import Iterable, Iterator, List, Set

import libcst as cst

from compat_reg.migrate._names import Names, Uses
from compat_reg.migrate._walk import walk

NAMES: frozenset = frozenset()


def uses(module: cst.Module) -> Counter:
    visitor = Uses()
    walk(module, visitor)
    return visitor.count


def _contrib(value: str) -> bool:
    return value == "tensorflow.contrib" or value.startswith(
        "tensorflow.contrib.")


class _Remove(cst.CSTTransformer):
    def __init__(self, unused: Set[str]) -> None:
        super().__init__()
        self.unused = unused
        self.emptied: Set[int] = set()

    def on_visit(self, node: cst.CSTNode) -> bool:
        """Only statements change: expressions and the insides of simple
        statements are not entered (their ``leave_`` still runs)."""
        super().on_visit(node)
        return not isinstance(node, (cst.BaseExpression,
                                     cst.BaseSmallStatement))

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


def remove_unused(after: cst.Module, names: Names,
                  change: Counter) -> cst.Module:
    """Drop contrib imports/aliases that ``after`` no longer uses: ``names``
    are those of the module before the rewrite (``names.uses`` its name
    counts), ``change`` how the rewrite changed those counts."""
    unused = {
        name for name, value in names.table.items()
        if _contrib(value) and names.uses[name] and
        not names.uses[name] + change[name]}
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


def _bindings(statement: cst.CSTNode) -> Iterator[str]:
    """The import statements a leading import line amounts to, one binding
    each, spelled as ``add`` takes them."""
    for small in statement.body:
        if isinstance(small, cst.Import):
            for alias in small.names:
                if alias.asname is None:
                    yield "import " + cst.Module([]).code_for_node(alias.name)
        elif isinstance(small, cst.ImportFrom) and not isinstance(
                small.names, cst.ImportStar) and small.module is not None \
                and not small.relative:
            module = cst.Module([]).code_for_node(small.module)
            for alias in small.names:
                name = cst.Module([]).code_for_node(alias.name)
                if alias.asname is not None:
                    name += " as " + cst.Module([]).code_for_node(
                        alias.asname.name)
                yield "from %s import %s" % (module, name)


@functools.lru_cache(maxsize=64)
def _statement(code: str) -> cst.SimpleStatementLine:
    return cst.parse_statement(code + "\n")


def order(statements: Iterable[str]) -> List[str]:
    """``import x`` lines first, then ``from x import y`` (as isort)."""
    return sorted(statements, key=lambda s: (s.startswith("from "), s))


def add(module: cst.Module, statements: Iterable[str]) -> cst.Module:
    """Import statements (``import compat_reg``, ``from tensorflow import
    keras``) after the last of the module's leading imports."""
    body = list(module.body)
    already = {b for s in body if _is_import_line(s) for b in _bindings(s)}
    new = [_statement(statement) for statement in order(statements)
           if statement not in already]
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
