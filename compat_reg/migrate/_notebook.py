"""Jupyter notebooks (nbformat 4, and 3's ``worksheets``/``input``): the
code cells are migrated as one module (a name imported in one cell is used
in another); nothing else changes.

What is not Python is never read as Python:

* IPython lines (``%magic``, ``!shell``, ``x = !cmd``, ``obj?``, ``?obj``,
  the ``/ , ;`` autocall escapes), where a statement may start, are hidden
  behind a comment while the code is read and restored as they were; a
  ``%`` or ``!`` that continues an expression (``("%d" \\n % n)``) is code.
* A cell magic whose body IPython runs as the notebook's Python
  (``%%time``, ``%%timeit``, ``%%capture``, ``%%prun``, ``%%debug``) is
  read as such. A body that is a module of its own (``%%writefile x.py``,
  ``%%file x.py``, ``%%python``, ``%%python3``) is migrated as its own
  module: the imports it needs go into it. Any other cell magic
  (``%%bash``, ``%%html``, ``%%script``, ``%%writefile x.yaml``...) is
  left as it is, with a note (``cell-not-python``).
* A cell that still does not parse is left as it is, with a note
  (``cell-not-parsed``), a hazard if it mentions regularization (what it
  holds is not migrated); the other cells are migrated.
* A notebook whose kernel is not Python is left as it is, with a note.

Markdown, outputs, execution counts and metadata are left as they were,
and the JSON is written with the layout the file had (indent, key order,
ASCII escaping, trailing newline): if that layout cannot be reproduced
exactly, the notebook is reported and left alone.
"""
from __future__ import annotations

import dataclasses
import io
import json
import os
import re
import shlex
import tokenize
from typing import List, Optional, Tuple

from compat_reg.migrate._context import Finding
from compat_reg.migrate._core import Result, migrate_source
from compat_reg.migrate._files import FileError
from compat_reg.migrate._source import NOTHING, Source, mentions_regularization

# An IPython escape where a statement starts (IPython's inputtransformer2:
# EscapedCommand, assign_from_system/magic, HelpEnd).
_ESCAPE = re.compile(r"^([ \t]*)([%!?/,;].*|[\w.]+(?:[ \t]*,[ \t]*[\w.]+)*[ \t]*="
                     r"[ \t]*[%!].*|%{0,2}[\w*]+(?:\.[\w*]+)*\?\??\s*)$")
_CELL_MAGIC = re.compile(r"%%(\S*)[ \t]*(.*)")
# cell magics whose body IPython runs as the notebook's own Python
_NOTEBOOK_BODY = frozenset(("time", "timeit", "capture", "prun", "debug"))
# cell magics whose body is a module of its own (a file, a new interpreter)
_MODULE_BODY = frozenset(("python", "python3"))
_WRITE_BODY = frozenset(("writefile", "file"))
_TOKEN = "compat-reg-%s" % os.urandom(4).hex()
_HIDE = "# %s-ipython: " % _TOKEN
_HIDE_BLOCK = "pass  " + _HIDE   # an indented line: the block keeps a statement
_CELL = "# %s-cell %%d" % _TOKEN
_CELL_LINE = re.compile(r"^# %s-cell (\d+)\n" % re.escape(_TOKEN), re.M)
CONVERT = "jupyter nbconvert --to notebook --nbformat 4 NB.ipynb"


def _layout(raw: str, notebook) -> Optional[dict]:
    """The ``json.dumps`` options that give back ``raw`` exactly, if any."""
    trailing = raw[len(raw.rstrip("\n")):]
    for indent in (1, 2, 4, 0, None, "\t"):
        for ascii_ in (False, True):
            options = dict(indent=indent, ensure_ascii=ascii_)
            if indent is None:
                options["separators"] = (", ", ": ")
            elif indent is not None:
                options["separators"] = (",", ": ")
            if json.dumps(notebook, **options) + trailing == raw:
                return dict(options, trailing=trailing)
    return None


def _complete(text: str) -> bool:
    """Whether ``text`` ends where a statement may start (no open bracket,
    string or ``\\`` continuation), as CPython's tokenizer sees it."""
    try:
        for _ in tokenize.generate_tokens(io.StringIO(text).readline):
            pass
    except tokenize.TokenError:  # EOF in a multi-line statement or string
        return False
    except SyntaxError:  # not Python: the cell's parse will say so
        return True
    return True


def _hide(text: str) -> str:
    out, pending = [], []  # pending: the lines since a statement could start
    for line in text.split("\n"):
        match = _ESCAPE.match(line)
        if match and (not pending or _complete("".join(pending))):
            indent = match.group(1)
            out.append(indent + (_HIDE_BLOCK if indent else _HIDE) + match.group(2))
            pending = []
            continue
        out.append(line)
        pending.append(line + "\n")
    return "\n".join(out)


def _show(text: str) -> str:
    return text.replace(_HIDE_BLOCK, "").replace(_HIDE, "")


@dataclasses.dataclass
class _Cell:
    number: int          # 1-based among all the cells, as the report names it
    cell: dict
    key: str             # "source" (nbformat 4) or "input" (3)
    old: str
    kind: str = "notebook"   # or "module" (a module of its own), "skip"
    head: str = ""           # a module cell's magic line(s), kept as they are
    body: str = ""
    # why it is skipped: a finding's kind, code and message
    finding: str = "note"
    code: str = ""
    why: str = ""


def _cells(notebook) -> Tuple[List[Tuple[int, dict, str]], str]:
    """(number, code cell, its text key) in order, and the notebook's
    language."""
    if not isinstance(notebook, dict):
        raise FileError("not a notebook: the JSON is not an object")
    if isinstance(notebook.get("cells"), list):
        cells, key = notebook["cells"], "source"
    elif isinstance(notebook.get("worksheets"), list) and all(
            isinstance(w, dict) and isinstance(w.get("cells"), list)
            for w in notebook["worksheets"]):
        cells, key = [c for w in notebook["worksheets"] for c in w["cells"]], "input"
    else:
        raise FileError("not a notebook (nbformat 4, or 3): no 'cells' or "
                        "'worksheets' list; convert an older one with: " + CONVERT)
    meta = notebook.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    language = "python"
    for holder, field in (("language_info", "name"), ("kernelspec", "language")):
        value = meta.get(holder)
        if isinstance(value, dict) and isinstance(value.get(field), str):
            language = value[field]
            break
    return [(n, c, key) for n, c in enumerate(cells, 1)
            if isinstance(c, dict) and c.get("cell_type") == "code"], language


def _text(cell: dict, key: str, number: int) -> str:
    source = cell.get(key, "")
    if isinstance(source, list) and all(isinstance(s, str) for s in source):
        return "".join(source)
    if isinstance(source, str):
        return source
    raise FileError("not a notebook: cell %d's %r is not text" % (number, key))


def _skip(c: _Cell, code: str, why: str, hazard: bool = False) -> None:
    c.kind, c.finding, c.code, c.why = "skip", "hazard" if hazard else "note", code, why


def _classify(c: _Cell) -> None:
    """A cell magic (IPython reads it after any blank lines) decides."""
    c.body = c.old
    lines = c.old.split("\n")
    at = next((n for n, line in enumerate(lines) if line.strip()), 0)
    magic = _CELL_MAGIC.match(lines[at])
    if magic is None or magic.group(1) in _NOTEBOOK_BODY:
        return  # Python; a magic's line is hidden like any other
    name, args = magic.groups()
    target = None
    if name in _WRITE_BODY:
        try:
            words = shlex.split(args)
        except ValueError:
            words = []
        target = next((w for w in reversed(words) if not w.startswith("-")), None)
    if name in _MODULE_BODY or (target or "").endswith(".py"):
        c.kind = "module"
        c.head = "".join(line + "\n" for line in lines[:at + 1])
        c.body = c.old[len(c.head):]
        return
    _skip(c, "cell-not-python", "a %%%%%s cell %s not Python; left as it is"
          % (name, "writes %s," % target if target else "is"))


def _parses(c: _Cell, text: str) -> bool:
    """Whether CPython parses ``text``; if not, ``c`` is skipped, and why."""
    try:
        Source(text, relevant=NOTHING)
        return True
    except SyntaxError as e:
        why = "%s (line %s)" % (e.msg, e.lineno)
    except (ValueError, RecursionError, MemoryError) as e:
        why = str(e) or type(e).__name__
    hazard = mentions_regularization(c.old.encode("utf-8"))
    _skip(c, "cell-not-parsed", "the cell does not parse (%s); left as it is%s" % (
        why, ", and the regularization in it is not migrated" if hazard else ""), hazard)
    return False


def migrate_notebook(data: bytes, target: str, path: str
                     ) -> Tuple[bytes, Result, List[Tuple[int, int]]]:
    """(new bytes, the Result, (cell, line) of each line the Result's
    findings and sites name)."""
    try:
        raw = data.decode("utf-8")
        notebook = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as e:
        raise FileError("not a notebook (JSON): %s" % e) from None
    found, language = _cells(notebook)
    cells = [_Cell(n, cell, key, _text(cell, key, n)) for n, cell, key in found]
    for c in cells:
        _classify(c)
    if language.lower() not in ("python", "python3"):
        for c in cells:
            c.kind = "skip"
        if cells:
            cells[0].code = "cell-not-python"
            cells[0].why = "the notebook's language is %s, not Python; no cell " \
                "is read" % language
    # the notebook's module: its cells, each after a line naming it
    parts, where = [], [(0, 0)]   # module line -> (cell number, line in it)
    for c in cells:
        if c.kind != "notebook":
            continue
        text = _hide(c.body if c.body.endswith("\n") else c.body + "\n")
        if not _parses(c, text):
            continue
        parts.append(_CELL % c.number + "\n")
        where.append((c.number, 0))
        parts.append(text)
        where.extend((c.number, n + 1) for n in range(text.count("\n")))
    result = migrate_source("".join(parts), target, path)
    new_text = {}
    if result.changed:
        pieces = _CELL_LINE.split(_show(result.source))
        new_text = {int(pieces[k]): pieces[k + 1] for k in range(1, len(pieces), 2)}
    findings, sites = list(result.findings), list(result.sites)
    for c in cells:  # the modules of their own, then what is skipped
        base = len(where) - 1
        if c.kind == "module" and _parses(c, c.body):
            own = migrate_source(c.body, target, path)
            findings += [dataclasses.replace(f, line=f.line + base) for f in own.findings]
            sites += [dataclasses.replace(s, line=s.line + base) for s in own.sites]
            for fact, value in own.facts.items():
                result.facts[fact] = result.facts.get(fact, False) or value
            first = c.head.count("\n")
            where.extend((c.number, first + n) for n in range(1, c.body.count("\n") + 2))
            if own.changed:
                new_text[c.number] = c.head + own.source
        elif c.why:
            findings.append(Finding(base + 1, c.finding, c.code, c.why))
            where.append((c.number, 1))
    result.findings = sorted(findings, key=lambda f: where[f.line])
    result.sites = sorted(sites, key=lambda s: where[s.line])
    edits = []
    for c in cells:
        text = new_text.get(c.number)
        if text is None:
            continue
        if not c.old.endswith("\n") and text.endswith("\n"):
            text = text[:-1]
        if text != c.old:
            edits.append((c, text))
    result.changed = bool(edits)
    if not edits:
        result.source = data
        return data, result, where
    layout = _layout(raw, notebook)
    if layout is None:
        raise FileError("its JSON layout cannot be written back exactly; "
                        "left untouched (the changes are in the report)")
    for c, text in edits:
        c.cell[c.key] = text.splitlines(True) if isinstance(c.cell.get(c.key), list) else text
    trailing = layout.pop("trailing")
    out = json.dumps(notebook, **layout) + trailing
    result.source = out
    return out.encode("utf-8"), result, where
