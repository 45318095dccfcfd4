"""A unified diff that ``patch -p0`` and ``git apply`` apply, always.

They read a diff as lines ending in ``\\n``, so its lines are the file's
split after each ``\\n`` only (a ``\\r`` stays inside a line: a CR-only
file is one line), and a last line without one is followed by ``\\ No
newline at end of file``, as ``diff -u`` writes it. The printed diff is
bytes: the file's own, in its encoding, under a header in the file
system's (``header`` and ``encode``).

For a module the edits give the changed runs of lines, so no line matching
(``difflib``'s, quadratic on big files with many equal lines) is needed;
a notebook's JSON is matched with ``difflib``.
"""
from __future__ import annotations

import difflib
import os
import re
from typing import Iterator, List, Tuple

_LINE = re.compile(r"[^\n]*\n|[^\n]+\Z")
NO_NEWLINE = "\\ No newline at end of file\n"


def lines(text: str) -> List[str]:
    """``text`` split after each ``\\n``, ends kept (the last may have none)."""
    return _LINE.findall(text)


class _Known(difflib.SequenceMatcher):
    """A matcher whose opcodes are given: ``get_grouped_opcodes`` as is."""

    def __init__(self, opcodes) -> None:  # noqa: D107 - no matching to set up
        self.opcodes = opcodes

    def get_opcodes(self):
        return self.opcodes


def from_changes(old: List[str], changes: List[Tuple[int, int, str]]
                 ) -> Tuple[List[str], list]:
    """(new lines, difflib opcodes) from ``changes``: (first line, last
    line, their new text), 1-based, in order and apart."""
    codes, new, i = [], [], 0
    for first, last, text in changes:
        if first - 1 > i:
            codes.append(("equal", i, first - 1, len(new), len(new) + first - 1 - i))
            new.extend(old[i:first - 1])
        replacement = lines(text)
        codes.append(("replace", first - 1, last, len(new), len(new) + len(replacement)))
        new.extend(replacement)
        i = last
    if i < len(old):
        codes.append(("equal", i, len(old), len(new), len(new) + len(old) - i))
        new.extend(old[i:])
    return new, codes


def matched(old: List[str], new: List[str]) -> list:
    """difflib's opcodes (for a notebook's JSON)."""
    return difflib.SequenceMatcher(None, old, new).get_opcodes()


def _line(mark: str, line: str) -> str:
    return mark + line if line.endswith("\n") else mark + line + "\n" + NO_NEWLINE


def header(path: str) -> str:
    """``--- NAME`` and ``+++ NAME``. NAME is ``path`` from the directory
    the diff is printed in, after ``./``, so ``patch -p0`` and ``git apply``
    (``-p1``) find the file from there (a path outside it is given as it
    is); a tab ends a NAME with white space in it, as ``diff -u`` ends it."""
    try:
        name = os.path.relpath(path)
    except ValueError:  # another drive
        name = path
    name = path if name == os.pardir or name.startswith(os.pardir + os.sep) \
        else "./" + name.replace(os.sep, "/")
    if any(c.isspace() for c in name):
        name += "\t"
    return "--- %s\n+++ %s\n" % (name, name)


def unified(old: List[str], new: List[str], codes: list, n: int = 3) -> Iterator[str]:
    """The hunks (no header) of the change of ``old`` into ``new``."""
    for group in _Known(codes).get_grouped_opcodes(n):
        first, last = group[0], group[-1]
        yield "@@ -%s +%s @@\n" % (difflib._format_range_unified(first[1], last[2]),
                                   difflib._format_range_unified(first[3], last[4]))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                for line in old[i1:i2]:
                    yield _line(" ", line)
                continue
            for line in old[i1:i2]:
                yield _line("-", line)
            for line in new[j1:j2]:
                yield _line("+", line)


def encode(diff: str, path: str, encoding: str) -> bytes:
    """A file's diff (``header(path)`` + hunks) as bytes for ``patch``: the
    header in the file system's encoding, the hunks in the file's."""
    head = header(path)
    return os.fsencode(head) + diff[len(head):].encode(encoding)
