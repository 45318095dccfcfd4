"""Rewrite one module: find the sites with CPython's AST, let each site's
plugin edit exact spans of the text, fix the imports, and report.

``migrate_source(data, target)`` takes bytes (or str) and gives a
``Result`` whose ``source`` is of the same type: the file's encoding, line
endings and every untouched byte are kept. A file CPython cannot parse
raises ``SyntaxError`` (or ``RecursionError``/``MemoryError`` for input
deeper than CPython handles); the caller reports it.
"""
from __future__ import annotations

import ast
import dataclasses
from typing import Dict, List, Tuple, Union

from compat_reg.migrate import _findings, _imports
from compat_reg.migrate._context import Context, Finding, Site
from compat_reg.migrate._names import FACTORIES, Names, Seen, contrib_factory
from compat_reg.migrate._plugins import site
from compat_reg.migrate._source import Source


@dataclasses.dataclass
class Result:
    source: Union[str, bytes]
    changed: bool
    findings: List[Finding]
    sites: List[Site]
    #: facts about the module that run-level findings are decided on
    facts: Dict[str, bool] = dataclasses.field(default_factory=dict)
    #: (first line, last line, their new text) of each changed run of lines
    changes: List[Tuple[int, int, str]] = dataclasses.field(default_factory=list)
    #: the text before (decoded)
    text: str = ""


def _reference(names: Names, node: ast.AST):
    """A contrib factory passed around uncalled (an argument, an alias)."""
    kind = type(node)
    if (kind is ast.Attribute and node.attr in FACTORIES) or (
            kind is ast.Name and node.id in names.table):
        return contrib_factory(names.resolve(node))
    return None


class _Relevant:
    """Which chunks of a module ``ast`` reads (the others are only checked
    by CPython and their bindings kept): those that may hold a site, an
    import or alias, a penalty read; and each note's trigger until a chunk
    with it has been read (a note names the first place only)."""
    ALWAYS = ("egulariz", "EGULARIZ", "contrib", "slim", "import", "keras",
              "compat_reg", "losses", "fit", "add_loss", "get_total_loss",
              "compile", "disable_v2_behavior", "disable_eager_execution",
              "l2_loss", "collection", "_variables(")
    ONCE = (("placeholder", "Session"), ("layers",), ("UPDATE_OPS",),
            ("AdamW", "MomentumW"))

    def __init__(self) -> None:
        self.pending = list(self.ONCE)

    def __call__(self, chunk: str) -> bool:
        if any(word in chunk for word in self.ALWAYS):
            found = True
        else:
            found = any(word in chunk for group in self.pending for word in group)
        if found:
            self.pending = [g for g in self.pending if not any(w in chunk for w in g)]
        return found


def migrate_source(data: Union[str, bytes], target: str = "compat_reg",
                   filename: str = "<source>") -> Result:
    source = Source(data, filename, _Relevant())
    names = Names(source.tree, source)
    ctx = Context(target, source, names)
    sites = []
    for seen in names.calls:
        found = site(names, seen.node)
        if found is not None:
            sites.append((seen, found[0], found[1]))
    references = []
    for seen in names.calls:
        for arg in seen.node.args:
            name = _reference(names, arg)
            if name is not None:
                references.append((Seen(arg, seen.stmt, seen.scope), name))
    for seen in names.keywords:
        name = _reference(names, seen.node.value)
        if name is not None:
            references.append((Seen(seen.node.value, seen.stmt, seen.scope), name))
    for seen in names.assigns:
        name = _reference(names, seen.node.value)
        if name is not None:
            references.append((Seen(seen.node.value, seen.stmt, seen.scope), name))

    # innermost first: an outer rewrite reads the text its insides became
    work = [(seen, plugin, name) for seen, plugin, name in sites] + \
        [(seen, None, name) for seen, name in references]
    work.sort(key=lambda item: -_size(source, item[0].node))
    for seen, plugin, name in reversed(work):
        if plugin is None:
            ctx.replace(seen.node, ctx.compat_reg(name))
            ctx.site(seen.node, "reference", name, True)
        else:
            done = plugin.rewrite(ctx, seen, name)
            ctx.site(seen.node, plugin.kind, name, bool(done))
    for seen in names.keywords:
        keyword = seen.node
        if keyword.arg and keyword.arg.endswith("regularizer"):
            span = source.span(keyword.value)
            ctx.site(keyword, "regularizer_argument", keyword.arg,
                     ctx.edits.render(*span) != source.text[span[0]:span[1]])

    report = _findings.Report(ctx, sites)
    findings = report.findings + ctx.findings
    out, changes = data, []
    ctx.flush_comments()
    _imports.remove_unused(ctx)
    if ctx.edits:
        _imports.add(ctx)
        out = source.encode(ctx.edits.apply())
        changes = ctx.edits.line_changes()
    findings = sorted(set(findings), key=lambda f: (f.line, f.kind, f.code))
    sites_ = sorted(dict.fromkeys(ctx.sites), key=lambda s: (s.line, s.kind))
    return Result(out, out != data, findings, sites_, report.facts, changes,
                  source.text)


def _size(source: Source, node: ast.AST) -> int:
    start, end = source.span(node)
    return end - start


__all__ = ["Result", "migrate_source"]
