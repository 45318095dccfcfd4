"""One module's text: decoding, CPython's AST, exact spans, and edits.

The file is judged by CPython's own parser (``ast``); everything else works
on the text: a node's span is found from the AST's positions, an edit
replaces one span, and the text between edits is copied byte for byte. So
nothing the tool does not change is ever re-rendered (the approach of
pyupgrade and tokenize-rt).
"""
from __future__ import annotations

import ast
import bisect
import io
import re
import symtable
import tokenize
from typing import Callable, List, Set, Tuple

_NEWLINE = re.compile(r"\r\n|\r|\n")
# Where a top-level statement may start: a line that begins with a name or
# a decorator and does not continue a compound statement. A chunk cut at a
# place that is not a statement boundary (inside a string or brackets,
# between a decorator and its def) does not parse, and is joined to the next.
_TOP = re.compile(r"(?m)^(?=[A-Za-z_@])(?!(?:else|elif|except|finally)\b)")
CHUNK = 1 << 16
# ``relevant`` for a text that is only judged (no chunk read with ``ast``)


def NOTHING(chunk: str) -> bool:
    return False


def mentions_regularization(data: bytes) -> bool:
    """Whether the text (bytes) names regularization: the cheap scan's word,
    in the command line's walk and a notebook's cells alike."""
    return b"egulariz" in data or b"EGULARIZ" in data


_LINE = re.compile(rb"[^\r\n]*(?:\r\n|\r|\n)?")


def detect_encoding(data: bytes) -> str:
    """``tokenize.detect_encoding``, with the first two lines split as
    CPython's tokenizer splits them (a lone ``\r`` ends a line too)."""
    lines, at = [], 0
    for _ in range(2):
        match = _LINE.match(data, at)
        lines.append(match.group())
        at = match.end()
    feed = iter(lines + [b"", b""])
    encoding, _ = tokenize.detect_encoding(lambda: next(feed))
    return encoding


class Source:
    """``text`` (decoded), with ``encoding``, the first ``newline`` used,
    and offsets of every line start; ``tree`` is CPython's AST of it."""

    def __init__(self, data, filename: str = "<source>",
                 relevant: Callable[[str], bool] = lambda chunk: True) -> None:
        if isinstance(data, bytes):
            self.encoding = detect_encoding(data)
            self.text = data.decode(self.encoding)
        else:
            self.encoding, self.text = None, data
        text = self.text
        self.starts = [0] + [m.end() for m in _NEWLINE.finditer(text)]
        first = _NEWLINE.search(text)
        self.newline = first.group() if first else "\n"
        #: names bound, and read, in the chunks not given to ``ast``
        self.other_bound: Set[str] = set()
        self.other_read: Set[str] = set()
        self.tree = self._parse(filename, relevant)

    def _parse(self, filename: str, relevant: Callable[[str], bool]) -> ast.Module:
        """CPython judges the whole text, a chunk of top-level statements at
        a time: ``ast`` for the first chunk and those ``relevant`` says may
        hold a site, ``symtable`` (which keeps no syntax tree: a fraction of
        the memory) for the others, whose bindings are all that is kept.
        Chunks keep a big file's peak memory to that of one chunk."""
        text = self.text
        bounds = [0]
        for match in _TOP.finditer(text):
            if match.start() - bounds[-1] >= CHUNK:
                bounds.append(match.start())
        bounds.append(len(text))
        body: List[ast.stmt] = []
        i, last = 0, len(bounds) - 1
        while i < last:
            j = i + 1
            while True:
                chunk = text[bounds[i]:bounds[j]]
                shift = self.line_of(bounds[i]) - 1
                read = (i == 0 and relevant is not NOTHING) or relevant(chunk)
                try:
                    if read:
                        # blank lines before the chunk: CPython's own line numbers
                        tree = compile("\n" * shift + chunk, filename, "exec",
                                       ast.PyCF_ONLY_AST, dont_inherit=True)
                        body.extend(tree.body)
                    else:
                        self._bindings(symtable.symtable(chunk, filename, "exec"))
                    break
                except SyntaxError as e:
                    if j == last:
                        if e.lineno is not None and not read:  # symtable's own
                            e.lineno += shift
                        raise
                    j = min(last, j + (j - i))
            i = j
        return ast.Module(body=body, type_ignores=[])

    def _bindings(self, table) -> None:
        stack = [table]
        while stack:
            table = stack.pop()
            for symbol in table.get_symbols():
                if symbol.is_assigned() or symbol.is_imported() or \
                        symbol.is_parameter():
                    self.other_bound.add(symbol.get_name())
                if symbol.is_referenced():
                    self.other_read.add(symbol.get_name())
            stack.extend(table.get_children())

    def encode(self, text: str):
        return text if self.encoding is None else text.encode(self.encoding)

    # --- positions -------------------------------------------------------
    def offset(self, line: int, col: int) -> int:
        """The text offset of AST position (``line``, UTF-8 byte ``col``)."""
        start = self.starts[line - 1]
        end = self.starts[line] if line < len(self.starts) else len(self.text)
        segment = self.text[start:end]
        if segment.isascii():
            return start + col
        return start + len(segment.encode("utf-8")[:col].decode("utf-8", "replace"))

    def span(self, node: ast.AST) -> Tuple[int, int]:
        return (self.offset(node.lineno, node.col_offset),
                self.offset(node.end_lineno, node.end_col_offset))

    def line_of(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset)

    def line_start(self, line: int) -> int:
        return self.starts[line - 1]

    def line_end(self, line: int) -> int:
        """Offset just past the line's newline (or the end of the text)."""
        return self.starts[line] if line < len(self.starts) else len(self.text)

    def indent(self, line: int) -> str:
        start = self.starts[line - 1]
        text = self.text[start:self.line_end(line)]
        return text[:len(text) - len(text.lstrip(" \t\f"))]

    def comments(self, start: int, end: int) -> List[Tuple[int, str]]:
        """(offset, text) of the comments in a bracketed span of the text."""
        fragment = self.text[start:end]
        if "#" not in fragment:
            return []
        lines = [0] + [m.end() for m in _NEWLINE.finditer(fragment)]
        found = []
        try:
            readline = io.StringIO("(" + fragment + ")", newline=None).readline
            for tok in tokenize.generate_tokens(readline):
                if tok.type == tokenize.COMMENT:
                    row, col = tok.start
                    found.append((start + lines[row - 1] + col - (row == 1), tok.string))
        except (tokenize.TokenError, SyntaxError):  # pragma: no cover - parsed already
            pass
        return found


class Edits:
    """Replacements of spans of one text, nested or apart (insertions are
    empty spans). An edit that contains others was made from their result
    (see ``render``), so only the outermost edits are applied; an insertion
    where a replacement starts goes before it."""

    def __init__(self, source: Source) -> None:
        self.source = source
        # (start, 0 for an insertion else 1, -end, text), sorted
        self.items: List[Tuple[int, int, int, str]] = []

    def __bool__(self) -> bool:
        return bool(self.items)

    def add(self, start: int, end: int, text: str) -> None:
        bisect.insort(self.items, (start, int(end > start), -end, text))

    def _outermost(self, start: int, end: int):
        index = bisect.bisect_left(self.items, (start,))
        reach = start
        for a, _, minus_b, text in self.items[index:]:
            b = -minus_b
            if a > end:
                break
            if a == end and (b > a or (start < end < len(self.source.text))):
                continue  # starts where the span ends: not inside it
            if a < reach or b > end:
                continue
            yield a, b, text
            reach = b

    def render(self, start: int, end: int) -> str:
        """The text of ``[start, end)`` with the edits inside it applied."""
        out, at = [], start
        for a, b, text in self._outermost(start, end):
            out.append(self.source.text[at:a])
            out.append(text)
            at = b
        out.append(self.source.text[at:end])
        return "".join(out)

    def line_changes(self):
        """(first line, last line, their new text) of each run of lines the
        edits touch, 1-based, in order. Lines here end at ``\\n`` only, as
        ``patch`` reads them (``_diff``), not at every newline CPython knows."""
        text, runs = self.source.text, []
        starts = [0] + [m.end() for m in re.finditer("\n", text)]

        def line_of(offset: int) -> int:
            return bisect.bisect_right(starts, offset)

        for a, b, _ in self._outermost(0, len(text)):
            first = line_of(a)
            if b > a:
                last = max(first, line_of(b - 1))
            elif a == starts[first - 1]:
                last = first - 1  # an insertion before line ``first``
            else:
                last = first
            if runs and first <= runs[-1][1] + 1:
                # joined to the run before: an insertion then shows with the
                # line it goes before
                runs[-1][1] = max(runs[-1][1], last, first if last < first else last)
            else:
                runs.append([first, last])
        return [(first, last, self.render(
            starts[first - 1], starts[last] if last < len(starts) else len(text)))
            for first, last in runs]

    def apply(self) -> str:
        return self.render(0, len(self.source.text))
