"""A fast read-only walk over a libcst tree, and cheap line numbers.

libcst's own visitors rebuild every node they pass (about 12 ms for a
200-line module, per pass); the analyses here only read the tree, so they
walk it directly: ``walk(module, visitor)`` calls ``visitor.visit_<Type>``
(a false result skips the children) and ``leave_<Type>`` in the same
order as ``module.visit(visitor)`` would.

``Lines`` gives the start line of a node as ``PositionProvider`` does,
from one code-generation pass run only when the first line is asked for.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable, Dict, List, Optional, Tuple

import libcst as cst
from libcst._nodes.internal import CodegenState

_FIELDS: Dict[type, Tuple[str, ...]] = {}

def _fields(kind: type) -> Tuple[str, ...]:
    """The node-holding fields of ``kind``, in the order libcst visits
    them: the order its ``_visit_and_replace_children`` names them in
    (source order, which is not always declaration order)."""
    names = [f.name for f in dataclasses.fields(kind)]
    code = getattr(kind._visit_and_replace_children, "__code__", None)
    order = [c for c in (code.co_consts if code else ())
             if isinstance(c, str) and c in names]
    order = list(dict.fromkeys(order))
    return tuple(order + [n for n in names if n not in order])


# Leaves that hold no name, call or statement (whitespace, comments and
# punctuation): ``walk`` never enters them, so visitors of these types are
# not called. Most of a tree's nodes are of these types.
_OPAQUE = frozenset(
    kind for kind in vars(cst).values() if isinstance(kind, type) and issubclass(
        kind, (cst.BaseParenthesizableWhitespace, cst.TrailingWhitespace,
               cst.Newline, cst.EmptyLine, cst.Comment, cst.Dot, cst.Comma,
               cst.Colon, cst.Semicolon, cst.AssignEqual, cst.LeftParen,
               cst.RightParen, cst.LeftSquareBracket, cst.RightSquareBracket,
               cst.LeftCurlyBrace, cst.RightCurlyBrace, cst.ImportStar,
               cst.BaseBinaryOp, cst.BaseBooleanOp, cst.BaseCompOp,
               cst.BaseUnaryOp, cst.BaseAugOp)))


def children(node: cst.CSTNode) -> List[cst.CSTNode]:
    """The direct children ``walk`` enters, in the order libcst visits them."""
    kind = type(node)
    fields = _FIELDS.get(kind)
    if fields is None:
        fields = _FIELDS[kind] = _fields(kind)
    out: List[cst.CSTNode] = []
    for field in fields:
        value = getattr(node, field)
        kind = type(value)
        if kind is tuple or kind is list:
            for item in value:
                if type(item) not in _OPAQUE and isinstance(item,
                                                            cst.CSTNode):
                    out.append(item)
        elif kind not in _OPAQUE and isinstance(value, cst.CSTNode):
            out.append(value)
    return out


def walk(node: cst.CSTNode, visitor: Any,
         path: Optional[List[cst.CSTNode]] = None) -> None:
    """Call ``visitor.visit_<Type>(node)`` (a false result skips the
    children) and ``visitor.leave_<Type>(node)`` over the tree, in libcst's
    order. With ``path``, it holds the ancestors of the node visited."""
    handlers: Dict[type, Tuple[Optional[Callable], Optional[Callable]]] = {}

    def visit(current: cst.CSTNode) -> None:
        kind = type(current)
        handler = handlers.get(kind)
        if handler is None:
            name = kind.__name__
            handler = handlers[kind] = (
                getattr(visitor, "visit_" + name, None),
                getattr(visitor, "leave_" + name, None))
        if handler[0] is not None and handler[0](current) is False:
            if handler[1] is not None:
                handler[1](current)
            return
        if path is not None:
            path.append(current)
        for child in children(current):
            visit(child)
        if path is not None:
            path.pop()
        if handler[1] is not None:
            handler[1](current)

    visit(node)


class _Record:
    __slots__ = ("state", "node", "start_node", "start")

    def __init__(self, state: "_LineState", node: cst.CSTNode,
                 start_node: Optional[cst.CSTNode]) -> None:
        self.state = state
        self.node = node
        self.start_node = start_node

    def __enter__(self) -> None:
        self.start = self.state.line

    def __exit__(self, *exc: object) -> None:
        starts = self.state.starts
        starts[self.node] = (starts[self.start_node] if self.start_node
                             is not None else self.start)


class _LineState(CodegenState):
    """Code generation that only counts lines: the start line of the nodes
    libcst records a syntactic position for (calls, arguments, names,
    attributes, statements...), as ``PositionProvider`` has them; with
    ``every``, that of the other nodes too (including their leading
    whitespace, as ``PositionProvider`` too)."""

    def __init__(self, module: cst.Module, every: bool) -> None:
        super().__init__(default_indent=module.default_indent,
                         default_newline=module.default_newline)
        self.line = 1
        self.starts: Dict[cst.CSTNode, int] = {}
        self.stack: List[int] = []
        if not every:
            self.before_codegen = self.after_codegen = _nothing

    def add_token(self, value: str) -> None:
        self.tokens.append(value)
        if "\n" in value or "\r" in value:
            self.line += value.count("\n") + value.count("\r") - \
                value.count("\r\n")

    def before_codegen(self, node: cst.CSTNode) -> None:
        self.stack.append(self.line)

    def after_codegen(self, node: cst.CSTNode) -> None:
        start = self.stack.pop()
        if node not in self.starts:
            self.starts[node] = start

    def record_syntactic_position(self, node: cst.CSTNode, *,
                                  start_node: Optional[cst.CSTNode] = None,
                                  end_node: Optional[cst.CSTNode] = None
                                  ) -> _Record:
        return _Record(self, node, start_node)


def _nothing(node: cst.CSTNode) -> None:
    pass


class Lines:
    """``lines(node)``: the start line of a node of ``module`` (0 for a node
    not in it), as ``PositionProvider`` gives it. Made on the first call,
    for the nodes with a syntactic position; for the others, on the first
    call that needs one."""

    def __init__(self, module: cst.Module) -> None:
        self.module = module
        self._starts: Optional[Dict[cst.CSTNode, int]] = None
        self._every = False

    def _make(self, every: bool) -> None:
        state = _LineState(self.module, every)
        self.module._codegen(state)
        self._starts, self._every = state.starts, every

    def __call__(self, node: cst.CSTNode) -> int:
        if self._starts is None:
            self._make(every=False)
        line = self._starts.get(node)
        if line is None and not self._every:
            self._make(every=True)
            line = self._starts.get(node)
        return line or 0
