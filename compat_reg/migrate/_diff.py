"""A unified diff made from the edits themselves: the lines each edit
touched are known, so no line matching (``difflib``'s, quadratic on big
files with many equal lines) is needed. The output is ``difflib``'s."""
from __future__ import annotations

import difflib
import io
from typing import Iterator, List, Tuple


def lines(text: str) -> List[str]:
    """Lines as Python splits source (\\n, \\r\\n, \\r), ends kept."""
    return io.StringIO(text, newline="").readlines()


class _Known(difflib.SequenceMatcher):
    """A matcher whose opcodes are given: ``get_grouped_opcodes`` as is."""

    def __init__(self, opcodes) -> None:  # noqa: D107 - no matching to set up
        self.opcodes = opcodes

    def get_opcodes(self):
        return self.opcodes


def opcodes(changes: List[Tuple[int, int, str]], old_count: int
            ) -> Tuple[list, List[str]]:
    """``changes``: (first line, last line, their new text), 1-based, in
    order and apart. -> (difflib opcodes, the new text's changed lines)."""
    codes, new_lines, i, j = [], [], 0, 0
    for first, last, text in changes:
        new = lines(text)
        if first - 1 > i:
            codes.append(("equal", i, first - 1, j, j + first - 1 - i))
            j += first - 1 - i
        codes.append(("replace", first - 1, last, j, j + len(new)))
        new_lines.append((j, new))
        i, j = last, j + len(new)
    if i < old_count:
        codes.append(("equal", i, old_count, j, j + old_count - i))
    return codes, new_lines


def unified(path: str, old: List[str], changes: List[Tuple[int, int, str]],
            n: int = 3) -> Iterator[str]:
    codes, pieces = opcodes(changes, len(old))
    new_at = {}
    for j, new in pieces:
        for k, line in enumerate(new):
            new_at[j + k] = line

    def new_line(j: int) -> str:
        if j in new_at:
            return new_at[j]
        for tag, i1, _, j1, j2 in codes:  # an equal line
            if tag == "equal" and j1 <= j < j2:
                return old[i1 + j - j1]
        raise IndexError(j)

    started = False
    for group in _Known(codes).get_grouped_opcodes(n):
        if not started:
            started = True
            yield "--- %s\n" % path
            yield "+++ %s\n" % path
        first, last = group[0], group[-1]
        yield "@@ -%s +%s @@\n" % (difflib._format_range_unified(first[1], last[2]),
                                   difflib._format_range_unified(first[3], last[4]))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                for line in old[i1:i2]:
                    yield " " + line
                continue
            for line in old[i1:i2]:
                yield "-" + line
            for j in range(j1, j2):
                yield "+" + new_line(j)
