"""What the names of a module refer to, read from its imports and aliases.

Nothing is imported or run: ``import tensorflow.contrib.slim as slim``,
``slim = tf.contrib.slim`` and ``from tensorflow.contrib import layers`` are
read from CPython's AST, and every dotted name is put in one canonical
spelling (``tensorflow.compat.v1.X`` -> ``tensorflow.X``, ``tf_slim.X`` ->
``tensorflow.contrib.slim.X``) so that the rewrites match one spelling only.
A name bound more than one way (a project's own ``l2_regularizer`` next to
an import of contrib's) is dropped: it is left alone rather than guessed.

One iterative walk (``Survey``) gathers the bindings, how often each name
is read, and the nodes the rewrites and the report look at, each with its
enclosing statement and scope; no recursion, so any depth CPython parses
is fine.
"""
from __future__ import annotations

import ast
from collections import Counter
from typing import Dict, Iterator, List, Optional, Set

from compat_reg import convention

_CANONICAL_PREFIXES = (
    ("tensorflow.compat.v1.", "tensorflow."),
    ("tf_slim.", "tensorflow.contrib.slim."),
)
FACTORIES = frozenset(convention.NAMES)
CONTRIB_HOMES = ("tensorflow.contrib.layers.", "tensorflow.contrib.slim.")
_KERAS_HOMES = ("keras.", "tensorflow.keras.", "tf_keras.")
KERAS_REGULARIZERS = frozenset(convention.KERAS_CLASSES) | frozenset(
    convention.KERAS_ALIASES)
_KERAS_MODELS = ("Model", "Sequential", "models.Model", "models.Sequential")
_KERAS_MODEL_BASES = _KERAS_MODELS + ("layers.Layer", "Layer")
OTHER = "<other>"


def canonical(dotted_name: str) -> str:
    """``tensorflow.compat.v1.losses`` -> ``tensorflow.losses``."""
    name = dotted_name + "."
    for old, new in _CANONICAL_PREFIXES:
        if name.startswith(old):
            name = new + name[len(old):]
    return name[:-1]


def contrib_factory(qualname: Optional[str]) -> Optional[str]:
    """``'l2_regularizer'`` if ``qualname`` is contrib's (or slim's) factory."""
    if qualname is None or not qualname.startswith(CONTRIB_HOMES):
        return None
    last = qualname.rpartition(".")[2]
    return last if last in FACTORIES else None


def compat_reg_factory(qualname: Optional[str]) -> Optional[str]:
    if qualname is None or not qualname.startswith("compat_reg."):
        return None
    last = qualname.rpartition(".")[2]
    return last if last in FACTORIES else None


def keras_regularizer(qualname: Optional[str]) -> Optional[str]:
    """The class or alias name if ``qualname`` is a Keras regularizer."""
    if qualname is None or not qualname.startswith(_KERAS_HOMES):
        return None
    module, _, last = qualname.rpartition(".")
    if module.endswith("keras.regularizers") and last in KERAS_REGULARIZERS:
        return last
    return None


def is_keras_model(qualname: Optional[str], bases: bool = False) -> bool:
    if qualname is None or not qualname.startswith(_KERAS_HOMES):
        return False
    suffixes = _KERAS_MODEL_BASES if bases else _KERAS_MODELS
    return any(qualname.endswith("keras." + s) for s in suffixes)


def dotted(node: ast.AST) -> Optional[str]:
    """``a.b.c`` for a Name/Attribute chain, else None (no recursion)."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def target_names(node: ast.AST) -> Iterator[str]:
    stack = [node]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Name):
            yield node.id
        elif isinstance(node, (ast.Tuple, ast.List)):
            stack.extend(reversed(node.elts))
        elif isinstance(node, ast.Starred):
            stack.append(node.value)


class Scope:
    """A module, class or function body, for what is in reach of a call."""
    __slots__ = ("node", "parent")

    def __init__(self, node: ast.AST, parent: Optional["Scope"]) -> None:
        self.node, self.parent = node, parent


class Seen:
    """A node the rewrites or the report look at: with its innermost
    statement and its scope."""
    __slots__ = ("node", "stmt", "scope")

    def __init__(self, node, stmt, scope) -> None:
        self.node, self.stmt, self.scope = node, stmt, scope


_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)
_MATCH = hasattr(ast, "match_case")
# fields that never hold a node to walk (names, operators, contexts)
_NOT_WALKED = frozenset(("ctx", "op", "ops", "attr", "id", "arg", "name", "asname",
                         "module", "level", "names", "conversion", "kind",
                         "type_comment", "is_async", "simple"))
_FIELDS = {}


def _fields(kind):
    fields = _FIELDS.get(kind)
    if fields is None:
        fields = _FIELDS[kind] = tuple(f for f in kind._fields if f not in _NOT_WALKED)
    return fields


class Names:
    """Resolves expressions of one module to canonical dotted names, from
    one walk that also keeps the calls, attributes, keywords, strings and
    assignments the rewrites and the report look at."""

    def __init__(self, tree: ast.Module, source=None) -> None:
        imports: Dict[str, Set[str]] = {}
        aliases: Dict[str, List[ast.AST]] = {}
        uses: Counter = Counter()
        self.calls: List[Seen] = []
        self.keywords: List[Seen] = []      # keyword arguments
        self.assigns: List[Seen] = []       # single-target assignments
        self.attributes: List[ast.Attribute] = []  # outermost chains
        self.strings: List[str] = []
        self.imports: List[Seen] = []       # Import/ImportFrom statements

        def bind(name: str, value: str) -> None:
            imports.setdefault(name, set()).add(value)

        calls, keywords, strings = self.calls, self.keywords, self.strings
        attributes = self.attributes
        module_scope = Scope(tree, None)
        # statements, each with its scope; the expressions of each are then
        # walked without the bookkeeping (no recursion anywhere)
        statements = [(s, module_scope) for s in reversed(tree.body)]
        while statements:
            stmt, scope = statements.pop()
            kind = type(stmt)
            if kind is ast.Import:
                self.imports.append(Seen(stmt, stmt, scope))
                for alias in stmt.names:
                    if alias.asname is not None:
                        bind(alias.asname, canonical(alias.name))
                    else:
                        top = alias.name.partition(".")[0]
                        bind(top, canonical(top))
                continue
            if kind is ast.ImportFrom:
                self.imports.append(Seen(stmt, stmt, scope))
                module = stmt.module if not stmt.level and stmt.module else OTHER
                for alias in stmt.names:
                    if alias.name == "*":
                        if contrib_factory(canonical(module) + ".l2_regularizer"):
                            for name in FACTORIES:
                                bind(name, canonical(module + "." + name))
                        continue
                    value = OTHER if module == OTHER else canonical(
                        module + "." + alias.name)
                    bind(alias.asname or alias.name, value)
                continue
            if kind is ast.Assign:
                if len(stmt.targets) == 1 and type(stmt.targets[0]) is ast.Name:
                    aliases.setdefault(stmt.targets[0].id, []).append(stmt.value)
                    self.assigns.append(Seen(stmt, stmt, scope))
                else:
                    for target in stmt.targets:
                        for name in target_names(target):
                            bind(name, OTHER)
            elif kind in (ast.AnnAssign, ast.AugAssign, ast.For, ast.AsyncFor):
                for name in target_names(stmt.target):
                    bind(name, OTHER)
            elif kind in (ast.With, ast.AsyncWith):
                for item in stmt.items:
                    if item.optional_vars is not None:
                        for name in target_names(item.optional_vars):
                            bind(name, OTHER)
            inner = scope
            if kind in _SCOPES:
                bind(stmt.name, OTHER)
                inner = Scope(stmt, scope)
            expressions = []
            nested = []
            for field in _fields(kind):
                value = getattr(stmt, field)
                if type(value) is list:
                    for item in value:
                        if isinstance(item, ast.stmt):
                            nested.append((item, inner))
                        elif isinstance(item, (ast.excepthandler, ast.match_case)
                                        if _MATCH else ast.excepthandler):
                            if getattr(item, "name", None):
                                bind(item.name, OTHER)
                            expressions.append(getattr(item, "type", None)
                                               or getattr(item, "guard", None))
                            nested.extend((s, scope) for s in item.body)
                        else:
                            expressions.append(item)
                elif value is not None:
                    expressions.append(value)
            nested.reverse()
            statements.extend(nested)
            # decorators and defaults run in the enclosing scope, the rest in
            # the def's own; the report only needs the scope of calls
            call_scope = scope if kind is ast.ClassDef else inner
            while expressions:
                node = expressions.pop()
                if node is None:
                    continue
                k = type(node)
                if k is ast.Name:
                    if type(node.ctx) is ast.Load:
                        uses[node.id] += 1
                    continue
                if k is ast.Constant:
                    if type(node.value) is str:
                        strings.append(node.value)
                    continue
                if k is ast.Call:
                    calls.append(Seen(node, stmt, call_scope))
                elif k is ast.keyword:
                    keywords.append(Seen(node, stmt, call_scope))
                elif k is ast.Attribute:
                    attributes.append(node)
                    # the chain's inner attributes are read through this one
                    value = node.value
                    while type(value) is ast.Attribute:
                        value = value.value
                    expressions.append(value)
                    continue
                elif k is ast.arguments:
                    for arg in (node.posonlyargs + node.args + node.kwonlyargs
                                + [a for a in (node.vararg, node.kwarg) if a]):
                        bind(arg.arg, OTHER)
                        expressions.append(arg.annotation)
                    expressions.extend(node.defaults)
                    expressions.extend(node.kw_defaults)
                    continue
                elif k is ast.comprehension:
                    for name in target_names(node.target):
                        bind(name, OTHER)
                elif k is ast.NamedExpr:
                    bind(node.target.id, OTHER)
                for field in _fields(k):
                    value = getattr(node, field)
                    if type(value) is list:
                        expressions.extend(value)
                    elif value is not None:
                        expressions.append(value)

        for name in getattr(source, "other_bound", ()):
            bind(name, OTHER)
        for name in getattr(source, "other_read", ()):
            uses[name] += 1
        #: how often each name is read
        self.uses = uses
        self.bound = set(imports) | set(aliases)
        self.table: Dict[str, str] = {}
        for _ in range(4):  # aliases of aliases: tf_contrib = tf.contrib
            table = {}
            for name in self.bound:
                values = set(imports.get(name, ()))
                for value in aliases.get(name, ()):
                    values.add(self.resolve(value) or OTHER)
                if len(values) == 1 and OTHER not in values:
                    table[name] = values.pop()
            if table == self.table:
                break
            self.table = table
        #: names bound once, by an assignment, to a string (``KEY = 'losses'``)
        self.constants: Dict[str, str] = {
            name: values[0].value for name, values in aliases.items()
            if len(values) == 1 and name not in imports
            and type(values[0]) is ast.Constant and type(values[0].value) is str}
        self.module_scope = module_scope

    def resolve(self, node: ast.AST) -> Optional[str]:
        name = dotted(node)
        if name is None:
            return None
        head, dot, rest = name.partition(".")
        value = self.table.get(head)
        if value is None:
            return None
        return canonical(value + dot + rest)

    # --- what is in reach of a call: a Keras model ----------------------
    def _models(self, body) -> Set[str]:
        """Names bound in ``body`` (not nested defs) to a new Keras model."""
        found: Set[str] = set()
        for statement in body:
            if isinstance(statement, ast.Assign) and isinstance(
                    statement.value, ast.Call) and is_keras_model(
                        self.resolve(statement.value.func)):
                for target in statement.targets:
                    found.update(target_names(target))
        return found

    def model_in_reach(self, scope: Scope) -> Optional[str]:
        """``self`` in a method of a Keras Model/Layer subclass; the one
        model a function (or the module) builds; else None."""
        node = scope.node
        if isinstance(node, _FUNCS):
            parent = scope.parent.node if scope.parent else None
            params = node.args.posonlyargs + node.args.args
            if isinstance(parent, ast.ClassDef) and params and \
                    params[0].arg == "self" and any(
                        is_keras_model(self.resolve(b), bases=True)
                        for b in parent.bases):
                return "self"
            models = self._models(node.body)
        elif isinstance(node, ast.Module):
            models = self._models(node.body)
        else:
            return None
        return next(iter(models)) if len(models) == 1 else None
