"""Imports after a rewrite (not a rewrite itself): ``import compat_reg`` /
``from tensorflow import keras`` are added after the module's leading
imports where a rewrite needs them, and contrib imports and aliases the
rewrites left unused are removed::

    from tensorflow.contrib.layers import l2_regularizer, xavier_initializer
    -> from tensorflow.contrib.layers import xavier_initializer

    slim = tf.contrib.slim        # removed once nothing uses slim

Only names that were read before the rewrite and are not after it are
removed, so a second run removes nothing, and an import the file never
used is none of this tool's business. Only the statements concerned are
edited; a block left empty gets ``pass``, and a ``try`` left with nothing
but emptied blocks goes.
"""
from __future__ import annotations

import ast
import re
from collections import Counter
from typing import Dict, Iterable, List, Set

from compat_reg.migrate._context import Context, name_tokens
from compat_reg.migrate._names import canonical, contrib_factory

_AFTER = re.compile(r"[ \t\f]*;[ \t\f]*")
_BEFORE = re.compile(r";[ \t\f]*$")


def _contrib(value: str) -> bool:
    return value == "tensorflow.contrib" or value.startswith("tensorflow.contrib.")


def unused(ctx: Context) -> Set[str]:
    """contrib-bound names read before the edits and not after them."""
    uses = ctx.names.uses
    watched = [name for name, value in ctx.names.table.items()
               if _contrib(value) and uses[name]]
    if not watched:
        return set()
    change: Counter = Counter()
    text = ctx.source.text
    for start, end, new in ctx.edits._outermost(0, len(text)):
        old = text[start:end]
        if any(name in old or name in new for name in watched):
            change.update(name_tokens(new))
            change.subtract(name_tokens(old))
    return {name for name in watched if not uses[name] + change[name]}


def _blocks(tree: ast.Module):
    """(owner, [stmt lists]) for every statement that holds blocks, inner
    ones first."""
    out, stack = [], [tree]
    while stack:
        node = stack.pop()
        lists = []
        for field in ("body", "orelse", "finalbody"):
            value = getattr(node, field, None)
            if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
                lists.append(value)
        for handler in getattr(node, "handlers", ()) or ():
            lists.append(handler.body)
        for case in getattr(node, "cases", ()) or ():
            lists.append(case.body)
        out.append((node, lists))
        for body in lists:
            stack.extend(s for s in body if not isinstance(s, (ast.Import, ast.ImportFrom)))
    out.reverse()
    return out


def _render(node, keep: List[ast.alias]) -> str:
    names = ", ".join(a.name + (" as " + a.asname if a.asname else "") for a in keep)
    if isinstance(node, ast.Import):
        return "import " + names
    return "from %s%s import %s" % ("." * node.level, node.module or "", names)


def _exported(ctx: Context, node: ast.stmt, alias: ast.alias) -> bool:
    """A contrib factory imported and never read here: a re-export (a
    ``regularizers.py`` that other modules import it from)."""
    if not isinstance(node, ast.ImportFrom) or node.level or not node.module:
        return False
    local = alias.asname or alias.name
    return bool(contrib_factory(canonical(node.module + "." + alias.name))) and \
        not ctx.names.uses[local] and ctx.names.table.get(local) is not None


def remove_unused(ctx: Context) -> None:
    """Drop contrib imports the edits left unused, and point re-exported
    contrib factories at compat_reg's (``from compat_reg import
    l2_regularizer as l2``: the exact drop-in, on both targets, since what
    the importers pass it is a contrib scale)."""
    gone = unused(ctx) if ctx.edits else set()
    source = ctx.source
    removed: Set[int] = set()
    partial: Dict[int, str] = {}
    for seen in ctx.names.imports:
        node = seen.node
        exported = [a for a in node.names if _exported(ctx, node, a)]
        keep = [a for a in node.names if a not in exported and (
            (a.asname or a.name.partition(".")[0]) not in gone or a.name == "*")]
        if not keep and not exported:
            removed.add(id(node))
        elif len(keep) < len(node.names):
            comments = "".join("  " + c for _, c in source.comments(*source.span(node)))
            lines = [_render(node, keep)] if keep else []
            if exported:
                lines.append("from compat_reg import " + ", ".join(
                    a.name + (" as " + a.asname if a.asname else "") for a in exported))
                for a in exported:
                    ctx.site(node, "re_export", a.name, True)
            lines[0] += comments
            partial[id(node)] = (source.newline + source.indent(node.lineno)).join(lines)
    for seen in ctx.names.assigns:
        if seen.node.targets[0].id in gone:
            removed.add(id(seen.node))
    if not removed and not partial:
        return
    pass_for: Set[int] = set()
    blocks = _blocks(source.tree)
    for owner, lists in blocks:
        if isinstance(owner, ast.Try) and not owner.orelse and not owner.finalbody \
                and lists and all(all(id(s) in removed for s in body) for body in lists):
            removed.add(id(owner))
            continue
        for body in lists:
            if owner is not source.tree and all(id(s) in removed for s in body):
                pass_for.add(id(body[0]))
    for _, lists in blocks:
        for body in lists:
            for stmt in body:
                if id(stmt) in pass_for and id(stmt) in removed:
                    ctx.edits.add(*source.span(stmt), "pass")
                elif id(stmt) in removed:
                    _remove(ctx, stmt)
                elif id(stmt) in partial:
                    ctx.edits.add(*source.span(stmt), partial[id(stmt)])


def _remove(ctx: Context, stmt: ast.stmt) -> None:
    source, text = ctx.source, ctx.source.text
    start, end = source.span(stmt)
    first, last = stmt.lineno, stmt.end_lineno
    before = text[source.line_start(first):start]
    after = text[end:source.line_end(last)]
    if not before.strip() and (not after.strip() or after.strip().startswith("#")):
        ctx.edits.add(source.line_start(first), source.line_end(last), "")
        return
    match = _AFTER.match(text, end)
    if match:
        ctx.edits.add(start, match.end(), "")
        return
    match = _BEFORE.search(before)
    if match:
        ctx.edits.add(source.line_start(first) + match.start(), end, "")
        return
    ctx.edits.add(start, end, "pass")


def _bindings(node: ast.stmt) -> Iterable[str]:
    """The import statements a leading import amounts to, one binding each,
    spelled as ``add`` takes them."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.asname is None:
                yield "import " + alias.name
    elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
        for alias in node.names:
            yield "from %s import %s" % (
                node.module, alias.name + (" as " + alias.asname if alias.asname else ""))


def order(statements: Iterable[str]) -> List[str]:
    """``import x`` lines first, then ``from x import y`` (as isort)."""
    return sorted(statements, key=lambda s: (s.startswith("from "), s))


def _first_line(stmt: ast.stmt) -> int:
    decorators = getattr(stmt, "decorator_list", None)
    return min([stmt.lineno] + [d.lineno for d in decorators or ()])


def add(ctx: Context) -> None:
    """The imports the rewrites need, after the module's leading imports."""
    source, body = ctx.source, ctx.source.tree.body
    at = 0
    for index, stmt in enumerate(body):
        if isinstance(stmt, (ast.Import, ast.ImportFrom)) or (
                index == 0 and isinstance(stmt, ast.Expr) and isinstance(
                    stmt.value, ast.Constant) and isinstance(stmt.value.value, str)):
            at = index + 1
        else:
            break
    already = {b for s in body[:at] for b in _bindings(s)}
    new = [s for s in order(ctx.imports) if s not in already]
    if not new or not body:
        return
    nl = source.newline
    text = "".join(s + nl for s in new)
    if at == 0:
        offset = source.line_start(_first_line(body[0]))
        ctx.edits.add(offset, offset, text + nl)
        return
    previous = body[at - 1]
    if at < len(body) and body[at].lineno == previous.end_lineno:  # a; b
        offset = source.line_start(previous.lineno)
        if source.span(previous)[0] != offset + len(source.indent(previous.lineno)):
            offset = source.line_start(_first_line(body[0]))
        ctx.edits.add(offset, offset, text)
        return
    offset = source.line_end(previous.end_lineno)
    if offset == len(source.text) and not source.text.endswith(("\n", "\r")):
        text = nl + text
    if at < len(body):
        following = source.text[offset:source.line_end(source.line_of(offset))]
        if following.strip() and not following.lstrip().startswith("#"):
            text += nl
    ctx.edits.add(offset, offset, text)
