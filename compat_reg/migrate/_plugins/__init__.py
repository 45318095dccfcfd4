"""One module per rewrite, registered the way pyupgrade's ``_plugins`` are.

A rewrite module decorates its functions with ``register``: the callee
names (the last dotted part) it looks at, a ``match`` that says whether a
call is its site (and which name it is), and a ``rewrite`` that edits the
text through the ``Context``. ``site()`` is the one predicate: the report
and the rewriting both ask it. Every module here is imported once, so a new
rewrite is a new file.
"""
from __future__ import annotations

import ast
import importlib
import pkgutil
from typing import Callable, Dict, List, NamedTuple, Optional, Tuple

from compat_reg.migrate._names import Names


class Plugin(NamedTuple):
    kind: str              # what the site is called in the report
    match: Callable        # (names, qualname, call) -> canonical name or None
    rewrite: Callable      # (ctx, seen, name) -> rewritten?


_BY_CALLEE: Dict[str, List[Plugin]] = {}


def register(kind: str, callees, match: Callable) -> Callable:
    """Decorate ``rewrite(ctx, seen, name)`` as the rewrite of the calls
    whose callee ends in one of ``callees`` and that ``match``."""
    def decorate(rewrite: Callable) -> Callable:
        plugin = Plugin(kind, match, rewrite)
        for callee in callees:
            _BY_CALLEE.setdefault(callee, []).append(plugin)
        return rewrite
    return decorate


def callee(names: Names, call: ast.Call) -> Optional[str]:
    """The last part of the callee's name, through an alias (``l2(0.1)``
    after ``from ... import l2_regularizer as l2`` is ``l2_regularizer``)."""
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return names.table.get(func.id, func.id).rpartition(".")[2]
    return None


def site(names: Names, call: ast.Call) -> Optional[Tuple[Plugin, str]]:
    """The plugin whose site ``call`` is, and the name it goes by."""
    plugins = _BY_CALLEE.get(callee(names, call))
    if not plugins:
        return None
    qualname = names.resolve(call.func)
    if qualname is None:
        return None
    for plugin in plugins:
        name = plugin.match(names, qualname, call)
        if name is not None:
            return plugin, name
    return None


for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(__name__ + "." + _module.name)
