"""Jupyter notebooks: the code cells are migrated as one module (a name
imported in one cell is used in another); nothing else changes.

IPython lines (``%magic``, ``%%cell magic``, ``!shell``) are hidden behind a
comment while the code is read and restored as they were, so they never make
a cell unparseable. Markdown, outputs, execution counts and metadata are
left as they were, and the JSON is written with the layout the file had
(indent, key order, ASCII escaping, trailing newline): if that layout cannot
be reproduced exactly, the notebook is reported and left alone.
"""
from __future__ import annotations

import json
import os
import re
from typing import List, Optional, Tuple

from compat_reg.migrate._core import Result, migrate_source
from compat_reg.migrate._files import FileError

_MAGIC = re.compile(r"^([ \t]*)([%!].*|[\w., \t]+=[ \t]*[%!].*)$")
_TOKEN = "compat-reg-%s" % os.urandom(4).hex()
_HIDE = "# %s-ipython: " % _TOKEN
_CELL = "# %s-cell %%d" % _TOKEN
_CELL_LINE = re.compile(r"^# %s-cell (\d+)\n" % re.escape(_TOKEN), re.M)


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


def _text(source) -> str:
    return "".join(source) if isinstance(source, list) else source


def _hide(text: str) -> str:
    return "\n".join(_MAGIC.sub(lambda m: m.group(1) + _HIDE + m.group(2), line)
                     for line in text.split("\n"))


def _show(text: str) -> str:
    return text.replace(_HIDE, "")


def migrate_notebook(data: bytes, target: str, path: str
                     ) -> Tuple[bytes, Result, List[Tuple[int, int]]]:
    """(new bytes, the module's Result, (cell, line) of each module line)."""
    try:
        raw = data.decode("utf-8")
        notebook = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as e:
        raise FileError("not a notebook (JSON): %s" % e) from None
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise FileError("not a notebook: no 'cells' list")
    layout = _layout(raw, notebook)
    cells = [(i, c) for i, c in enumerate(notebook["cells"])
             if isinstance(c, dict) and c.get("cell_type") == "code"]
    parts, where = [], [(0, 0)]   # module line -> (cell number, line in it)
    for i, cell in cells:
        text = _text(cell.get("source", ""))
        if not text.endswith("\n"):
            text += "\n"
        parts.append(_CELL % i + "\n")
        where.append((i + 1, 0))
        parts.append(_hide(text))
        where.extend((i + 1, n + 1) for n in range(text.count("\n")))
    module = "".join(parts)
    result = migrate_source(module, target, path)
    if not result.changed:
        return data, result, where
    if layout is None:
        raise FileError("its JSON layout cannot be written back exactly; "
                        "left untouched (the changes are in the report)")
    new = _show(result.source)
    pieces = _CELL_LINE.split(new)
    by_cell = {int(pieces[k]): pieces[k + 1] for k in range(1, len(pieces), 2)}
    for i, cell in cells:
        old = _text(cell.get("source", ""))
        text = by_cell[i]
        if not old.endswith("\n"):
            text = text[:-1] if text.endswith("\n") else text
        if text == old:
            continue
        if isinstance(cell.get("source"), list):
            cell["source"] = text.splitlines(True)
        else:
            cell["source"] = text
    trailing = layout.pop("trailing")
    out = json.dumps(notebook, **layout) + trailing
    result.source = out
    return out.encode("utf-8"), result, where
