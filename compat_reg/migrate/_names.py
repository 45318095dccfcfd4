"""What the names in a module refer to, read from its imports and aliases.

Nothing is imported or run: ``import tensorflow.contrib.slim as slim``,
``slim = tf.contrib.slim`` and ``from tensorflow.contrib import layers`` are
read as text, and every dotted name is put in one canonical spelling
(``tensorflow.compat.v1.X`` -> ``tensorflow.X``, ``tf_slim.X`` ->
``tensorflow.contrib.slim.X``) so that the rewrites match one spelling only.
A name bound more than one way (a project's own ``l2_regularizer`` next to
an import of contrib's) is dropped: it is left alone rather than guessed.
"""
from __future__ import annotations

from collections import Counter
from typing import Dict, Iterator, List, Optional, Set

import libcst as cst

from compat_reg.migrate._walk import walk

_CANONICAL_PREFIXES = (
    ("tensorflow.compat.v1.", "tensorflow."),
    ("tf_slim.", "tensorflow.contrib.slim."),
)

FACTORIES = frozenset((
    "l1_regularizer", "l2_regularizer", "l1_l2_regularizer",
    "sum_regularizer", "apply_regularization",
))
_CONTRIB_HOMES = ("tensorflow.contrib.layers.", "tensorflow.contrib.slim.")
_KERAS_HOMES = ("keras.", "tensorflow.keras.", "tf_keras.")
KERAS_REGULARIZERS = frozenset(("L1", "L2", "L1L2", "l1", "l2", "l1_l2"))
_KERAS_MODELS = ("Model", "Sequential", "models.Model", "models.Sequential")
_KERAS_MODEL_BASES = _KERAS_MODELS + ("layers.Layer", "Layer")


def canonical(dotted: str) -> str:
    """``tensorflow.compat.v1.losses`` -> ``tensorflow.losses``."""
    name = dotted + "."
    for old, new in _CANONICAL_PREFIXES:
        if name.startswith(old):
            name = new + name[len(old):]
    return name[:-1]


def contrib_factory(qualname: Optional[str]) -> Optional[str]:
    """``'l2_regularizer'`` if ``qualname`` is contrib's (or slim's) factory."""
    if qualname is None or not qualname.startswith(_CONTRIB_HOMES):
        return None
    last = qualname.rpartition(".")[2]
    return last if last in FACTORIES else None


def compat_reg_factory(qualname: Optional[str]) -> Optional[str]:
    if qualname is None or not qualname.startswith("compat_reg."):
        return None
    last = qualname.rpartition(".")[2]
    return last if last in FACTORIES else None


def keras_regularizer(qualname: Optional[str]) -> bool:
    if qualname is None or not qualname.startswith(_KERAS_HOMES):
        return False
    module, _, last = qualname.rpartition(".")
    return module.endswith("keras.regularizers") and last in KERAS_REGULARIZERS


def is_keras_model(qualname: Optional[str], bases: bool = False) -> bool:
    if qualname is None or not qualname.startswith(_KERAS_HOMES):
        return False
    suffixes = _KERAS_MODEL_BASES if bases else _KERAS_MODELS
    return any(qualname.endswith("keras." + s) for s in suffixes)


def dotted(node: cst.BaseExpression) -> Optional[str]:
    """``a.b.c`` for a Name/Attribute chain, else None."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = dotted(node.value)
        return None if base is None else base + "." + node.attr.value
    return None


def target_names(node: cst.BaseExpression) -> Iterator[str]:
    if isinstance(node, cst.Name):
        yield node.value
    elif isinstance(node, (cst.Tuple, cst.List)):
        for element in node.elements:
            yield from target_names(element.value)
    elif isinstance(node, cst.StarredElement):
        yield from target_names(node.value)


_OTHER = "<other>"


class Uses:
    """How often each name is read (not bound, not imported): every Name
    but an attribute's or keyword's name, a plain assignment target, and
    those in imports. Run by ``_walk.walk``."""

    def __init__(self) -> None:
        self.count: Counter = Counter()
        self.skip: Set[int] = set()

    def visit_Name(self, node: cst.Name) -> None:
        if id(node) not in self.skip:
            self.count[node.value] += 1

    def visit_Import(self, node: cst.Import) -> bool:
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        return False

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.skip.add(id(node.attr))

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self.skip.add(id(node.keyword))

    def visit_AssignTarget(self, node: cst.AssignTarget) -> bool:
        return not isinstance(node.target, cst.Name)


class _Bindings(Uses):
    """Every way each name is bound: an import path, an alias expression,
    or something else (a def, a parameter, a loop variable...); and, in the
    same walk, the ``Uses`` (which enters no import either)."""

    def __init__(self) -> None:
        super().__init__()
        self.imports: Dict[str, Set[str]] = {}
        self.aliases: Dict[str, List[cst.BaseExpression]] = {}

    def _bind(self, name: str, value: str) -> None:
        self.imports.setdefault(name, set()).add(value)

    def visit_Import(self, node: cst.Import) -> bool:
        for alias in node.names:
            module = dotted(alias.name) or _OTHER
            if alias.asname is not None:
                for name in target_names(alias.asname.name):
                    self._bind(name, canonical(module))
            else:
                top = module.partition(".")[0]
                self._bind(top, canonical(top))
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        module = dotted(node.module) if node.module is not None else None
        if node.relative or module is None:
            module = _OTHER
        if isinstance(node.names, cst.ImportStar):
            if contrib_factory(canonical(module) + ".l2_regularizer"):
                for name in FACTORIES:
                    self._bind(name, canonical(module + "." + name))
            return False
        for alias in node.names:
            imported = dotted(alias.name) or _OTHER
            local = imported
            if alias.asname is not None:
                local = next(target_names(alias.asname.name), imported)
            value = _OTHER if module == _OTHER else canonical(
                module + "." + imported)
            self._bind(local, value)
        return False

    def visit_Assign(self, node: cst.Assign) -> None:
        if len(node.targets) == 1 and isinstance(node.targets[0].target,
                                                 cst.Name):
            name = node.targets[0].target.value
            self.aliases.setdefault(name, []).append(node.value)
            return
        for target in node.targets:
            for name in target_names(target.target):
                self._bind(name, _OTHER)

    def _others(self, node: Optional[cst.CSTNode]) -> None:
        if isinstance(node, cst.BaseExpression):
            for name in target_names(node):
                self._bind(name, _OTHER)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._others(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._others(node.target)

    def visit_For(self, node: cst.For) -> None:
        self._others(node.target)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._others(node.target)

    def visit_AsName(self, node: cst.AsName) -> None:
        self._others(node.name)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._others(node.target)

    def visit_Param(self, node: cst.Param) -> None:
        self._bind(node.name.value, _OTHER)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._bind(node.name.value, _OTHER)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._bind(node.name.value, _OTHER)


class Names:
    """Resolves expressions of one module to canonical dotted names."""

    def __init__(self, module: cst.Module) -> None:
        bindings = _Bindings()
        walk(module, bindings)
        #: how often each name is read (see ``Uses``)
        self.uses: Counter = bindings.count
        self.bound = set(bindings.imports) | set(bindings.aliases)
        self.table: Dict[str, str] = {}
        self.alias_names: Set[str] = set()
        for _ in range(4):  # aliases of aliases: tf_contrib = tf.contrib
            table = {}
            for name in self.bound:
                values = set(bindings.imports.get(name, ()))
                for expr in bindings.aliases.get(name, ()):
                    values.add(self.resolve(expr) or _OTHER)
                if len(values) == 1 and _OTHER not in values:
                    table[name] = values.pop()
            if table == self.table:
                break
            self.table = table
        self.alias_names = {
            name for name in bindings.aliases if name in self.table}

    def resolve(self, node: cst.BaseExpression) -> Optional[str]:
        name = dotted(node)
        if name is None:
            return None
        head, dot, rest = name.partition(".")
        value = self.table.get(head)
        if value is None:
            return None
        return canonical(value + dot + rest)
