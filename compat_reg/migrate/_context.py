"""What the rewrites share: the per-module context, findings and sites."""
from __future__ import annotations

import ast
import dataclasses
import io
import math
import tokenize
from collections import Counter
from typing import Dict, List, Optional, Sequence, Set, Tuple

from compat_reg import convention
from compat_reg.migrate._names import Names, Seen
from compat_reg.migrate._source import Edits, Source

# What ``from tensorflow import keras`` is bound to under --target keras
# when the file's ``keras`` is another Keras and no ``tf`` is in reach.
TF_KERAS_ALIAS = "tf_keras_api"


@dataclasses.dataclass(frozen=True)
class Finding:
    """Something the tool reports: a ``hazard`` (it cannot fix it; exit
    code 1) or a ``note`` (what it did, what to pass, or what still stands
    between the file and a TF2 run; no effect on the exit code). A ``mark``
    is never reported: a site that findings elsewhere in the run pair with.
    ``pair`` is (role, key, definite) for a finding decided over the run
    (``_findings.run_level``), else None."""
    line: int
    kind: str
    code: str
    message: str
    pair: Optional[Tuple[str, str, bool]] = None


@dataclasses.dataclass(frozen=True)
class Site:
    """A regularization site: a regularizer factory call, a collection read,
    a ``*_regularizer=`` argument, or a factory passed uncalled."""
    line: int
    kind: str
    name: str
    rewritten: bool


def name_tokens(text: str) -> Counter:
    """NAME tokens of an expression's text that read a name: not after a
    ``.`` and not a keyword argument's name."""
    count: Counter = Counter()
    try:
        tokens = [t for t in tokenize.generate_tokens(
            io.StringIO("(" + text + ")", newline=None).readline)
            if t.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT)]
    except (tokenize.TokenError, SyntaxError):
        return count
    for index, tok in enumerate(tokens):
        if tok.type != tokenize.NAME:
            continue
        if index and tokens[index - 1].string == ".":
            continue
        if index + 1 < len(tokens) and tokens[index + 1].string == "=":
            continue
        count[tok.string] += 1
    return count


class Context:
    def __init__(self, target: str, source: Source, names: Names) -> None:
        self.target = target
        self.source = source
        self.names = names
        self.edits = Edits(source)
        self.findings: List[Finding] = []
        self.sites: List[Site] = []
        self.imports: Set[str] = set()
        self._comments: Dict[int, List[str]] = {}
        self._keras: Optional[str] = None

    # --- positions and text ---------------------------------------------
    def text(self, node: ast.AST) -> str:
        """The node's source, with the edits already made inside it."""
        return self.edits.render(*self.source.span(node))

    def replace(self, node: ast.AST, text: str) -> None:
        self.edits.add(*self.source.span(node), text)

    def replace_call(self, seen: Seen, text: str, kept: Sequence[ast.AST]) -> None:
        """Replace a whole call; its comments outside the ``kept`` arguments
        (whose text ``text`` holds) are kept before its closing bracket."""
        start, end = self.source.span(seen.node)
        spans = [self.source.span(k) for k in kept if hasattr(k, "lineno")]
        lost = [c for off, c in self.source.comments(start, end)
                if not any(a <= off < b for a, b in spans)]
        if lost:
            indent = self.source.indent(seen.node.lineno)
            newline = self.source.newline
            if not text.endswith(")"):
                text = "(" + text + ")"
            text = text[:-1] + "  " + (newline + indent + "    ").join(lost) + \
                newline + indent + ")"
        self.edits.add(start, end, text)

    def note(self, node: ast.AST, code: str, message: str) -> None:
        self.findings.append(Finding(node.lineno, "note", code, message))

    def site(self, node: ast.AST, kind: str, name: str, rewritten: bool) -> None:
        self.sites.append(Site(node.lineno, kind, name, rewritten))

    def comment(self, seen: Seen, text: str) -> None:
        """``# compat-reg: text`` above the statement that holds ``seen``
        (a note instead where that statement does not start its line)."""
        stmt = seen.stmt
        indent = self.source.indent(stmt.lineno)
        if stmt.col_offset != len(indent.encode("utf-8")):
            self.note(seen.node, "comment", text)
            return
        self._comments.setdefault(stmt.lineno, [])
        line = indent + "# compat-reg: " + text + self.source.newline
        if line not in self._comments[stmt.lineno]:
            self._comments[stmt.lineno].append(line)

    def flush_comments(self) -> None:
        for lineno, lines in self._comments.items():
            at = self.source.line_start(lineno)
            self.edits.add(at, at, "".join(lines))

    # --- names the rewrites write ---------------------------------------
    def compat_reg(self, name: str) -> str:
        if self.names.table.get("compat_reg") != "compat_reg":
            self.imports.add("import compat_reg")
        return "compat_reg." + name

    def keras(self, name: str) -> str:
        """``<the Keras tf.keras is>.regularizers.<name>``: regularizers of
        another Keras than the one of the file's ``tf.keras`` layers would
        not serialize with them (``import keras`` is Keras 3 even where
        ``tf.keras`` is tf_keras, under ``TF_USE_LEGACY_KERAS=1``)."""
        if self._keras is None:
            self._keras = self._keras_module()
        return self._keras + ".regularizers." + name

    def _keras_module(self) -> str:
        table, bound = self.names.table, self.names.bound
        if table.get("keras") == "tensorflow.keras":
            return "keras"
        if "keras" not in bound:
            self.imports.add("from tensorflow import keras")
            return "keras"
        # ``keras`` is bound to something else (the standalone package, say):
        # leave it be, and reach tf.keras another way
        for local in sorted(table):
            if table[local] == "tensorflow.keras":
                return local
        tensorflow = sorted(local for local in table if table[local] == "tensorflow")
        if tensorflow:
            return ("tf" if "tf" in tensorflow else tensorflow[0]) + ".keras"
        alias, number = TF_KERAS_ALIAS, 1
        while alias in bound:
            number += 1
            alias = "%s_%d" % (TF_KERAS_ALIAS, number)
        self.imports.add("from tensorflow import keras as " + alias)
        return alias


# --- reading calls --------------------------------------------------------
def bind(call: ast.Call, params: Sequence[str]) -> Optional[Dict[str, ast.AST]]:
    """Map a call's arguments to ``params``; None if that cannot be done
    without running the code (``*args``, ``**kwargs``, unknown keywords)."""
    bound: Dict[str, ast.AST] = {}
    for index, arg in enumerate(call.args):
        if isinstance(arg, ast.Starred) or index >= len(params):
            return None
        bound[params[index]] = arg
    for keyword in call.keywords:
        if keyword.arg is None or keyword.arg not in params or keyword.arg in bound:
            return None
        bound[keyword.arg] = keyword.value
    return bound


def params(name: str) -> Tuple[str, ...]:
    return tuple(p for p, _ in convention.FACTORY[name].params)


def float_literal(node: Optional[ast.AST]) -> Optional[float]:
    if isinstance(node, ast.Constant) and type(node.value) is float:
        return node.value
    return None


def int_literal(node: Optional[ast.AST]) -> Optional[str]:
    """An integer literal (``1``, ``-2``, ``True``) as written, else None."""
    sign = ""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        sign = "-" if isinstance(node.op, ast.USub) else ""
        node = node.operand
    if isinstance(node, ast.Constant) and type(node.value) in (int, bool):
        return sign + repr(node.value)
    return None


_ATOMS = (ast.Name, ast.Attribute, ast.Call, ast.Subscript, ast.Constant)


def atom(text: str, node: Optional[ast.AST]) -> str:
    """``text`` as an operand of ``*`` or ``+``: parenthesized unless an atom."""
    return text if isinstance(node, _ATOMS) else "(%s)" % text


def scaled(ctx: Context, factor: float, node: Optional[ast.AST], text: str) -> str:
    """A contrib scale in Keras' convention: ``factor`` times it. A float
    literal is multiplied out when that is exact and finite; anything else
    (``1e400``, an expression) keeps its source text: ``0.5 * 1e400``."""
    if factor == 1.0:
        return text
    value = float_literal(node)
    if value is not None and math.isfinite(value):
        product = value * factor
        if math.isfinite(product) and product / factor == value and product != 0:
            return repr(product)
    return "%r * %s" % (factor, atom(text, node))
