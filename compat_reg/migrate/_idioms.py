"""TF1 regularization idioms without an exact rewrite: a note at each site,
naming the exact fix (issue 25).

What TF2 does to them, measured on TF 2.21 (``tests/test_idioms.py`` pins
it and proves each fix against TF 1.15's numbers):

* eagerly a collection is one global list that nothing clears:
  ``tf.compat.v1.add_to_collection`` (and slim's ``losses.add_loss``), run
  every step, appends again, so the sum read from it grows (a 0.06 penalty
  reads 0.06, 0.12, 0.18 on steps 0, 1, 2) and only the latest term has a
  gradient; ``tf.compat.v1.losses.add_loss`` adds nothing at all;
* ``tf.compat.v1.trainable_variables()`` and ``global_variables()`` are ``[]``;
* ``tf.compat.v1.losses.get_total_loss()`` raises (``tf.add_n`` of nothing).

In graph mode (``disable_v2_behavior``) each runs unchanged. The notes:

* ``loss-collection``: an add to a hand-made loss collection (``'losses'``,
  which is ``tf.GraphKeys.LOSSES``, or any key of the user's), and its read;
* ``manual-add``: an add to ``REGULARIZATION_LOSSES`` by hand;
* ``collection-read``: ``REGULARIZATION_LOSSES`` read in a way the
  collection-read rewrite cannot replace exactly (a graph's method,
  ``get_collection_ref``, a project's own ``get_collection*`` method, or a
  ``GraphKeys`` reached through a name it cannot resolve, such as a
  project's ``tfv1``);
* ``get-total-loss``: ``tf.losses.get_total_loss()``, ``slim.losses``';
* ``weight-decay``: a penalty over ``tf.trainable_variables()`` and kin,
  also where the list is given to a function of the module that computes it,
  where the penalty is a parameter of the function that sums it, and where
  the list comes from a module the tool cannot resolve (a project's ``tfv1``);
* ``arg-scope``: a regularizer given to many slim layers by ``arg_scope``;
* ``half-l2``: a Keras ``l2(s)`` next to ``s * tf.nn.l2_loss(w)``;
* ``contrib-accessor``: contrib's factory reached through a project's own
  accessor of contrib (``contrib.layers().l2_regularizer(s)``, where
  ``contrib`` is the project's module): a chain through ``layers`` from a
  name whose module path holds ``contrib``, which the rewrites cannot
  resolve.

An add and its read may be in two files (``model.py`` adds, ``train.py``
sums), so those findings carry a ``pair`` (role, key, definite) and are
decided over the run (``_findings.run_level``): a user key's add or read
is a loss collection's when some site of the run says so (a penalty added,
a sum read); each names where its partners are. ``half-l2`` is kept only
where the run also holds the ``s * tf.nn.l2_loss`` term (a ``mark``).
"""
from __future__ import annotations

import ast
from collections import Counter
from typing import Dict, Iterator, List, Optional, Tuple

from compat_reg.migrate._context import Context, Finding, bind
from compat_reg.migrate._names import (
    FACTORIES, Names, Scope, Seen, contrib_factory, dotted, keras_regularizer)
from compat_reg.migrate._plugins import callee
from compat_reg.migrate._plugins.collection_reads import COLLECTIONS, READERS, is_key

LOSSES, REGULARIZATION = "losses", "regularization_losses"
# TF's own values of the GraphKeys the idioms use (tf.GraphKeys.LOSSES is
# 'losses'); any other GraphKeys is TF's own business, not a loss collection
GRAPH_KEYS = {"LOSSES": LOSSES, "REGULARIZATION_LOSSES": REGULARIZATION,
              "TRAINABLE_VARIABLES": "trainable_variables",
              "GLOBAL_VARIABLES": "variables", "VARIABLES": "variables",
              "MODEL_VARIABLES": "model_variables"}
# variable collections, and whether they hold only the trainable ones
VARIABLE_KEYS = {"trainable_variables": True, "variables": False, "model_variables": False}
_CONTRIB_VARIABLES = ("tensorflow.contrib.framework.", "tensorflow.contrib.slim.")
# calls listing variables: (trainable only?, their parameters)
VARIABLE_LISTS = {
    "trainable_variables": (True, ("scope",)),
    "global_variables": (False, ("scope",)),
    "all_variables": (False, ()),
    "model_variables": (False, ("scope",)),
    "get_trainable_variables": (True, ("scope", "suffix")),
    "get_model_variables": (False, ("scope", "suffix")),
    "get_variables": (False, ("scope", "suffix", "collection")),
}
_PENALTY_OPS = frozenset(("l2_loss", "square", "abs", "norm"))
_SUMS = frozenset(("sum", "add_n", "reduce_sum", "accumulate_n"))
_PRODUCTS = frozenset(("multiply", "scalar_mul", "mul"))
_KERAS_L2 = {"l2": ("l2",), "L2": ("l2",), "l1_l2": ("l1", "l2"), "L1L2": ("l1", "l2")}
_ADDS = ("tensorflow.add_to_collection", "tensorflow.add_to_collections",
         "tensorflow.python.framework.ops.add_to_collection",
         "tensorflow.python.framework.ops.add_to_collections")
_REFS = ("tensorflow.get_collection_ref",
         "tensorflow.python.framework.ops.get_collection_ref")
# slim's layers and the Keras layers that replace them
_KERAS_LAYERS = {"conv1d": "Conv1D", "conv2d": "Conv2D", "convolution2d": "Conv2D",
                 "conv3d": "Conv3D", "conv2d_transpose": "Conv2DTranspose",
                 "separable_conv2d": "SeparableConv2D", "fully_connected": "Dense"}
_KERAS_KEYWORDS = {"weights_regularizer": "kernel_regularizer",
                   "biases_regularizer": "bias_regularizer"}

GRAPH = "in graph mode (disable_v2_behavior) it runs unchanged"
STALE = ("eagerly a collection is one global list that nothing clears: run every "
         "step, this appends again, so the sum read from it grows with the steps "
         "(a 0.06 penalty reads 0.06, 0.12, 0.18 on steps 0, 1, 2, where TF1 read "
         "it afresh each step) and only the latest term has a gradient")
STALE_READ = ("eagerly a collection is one global list that nothing clears: it "
              "holds the tensors added on every step so far, so its sum grows "
              "with the steps (a 0.06 penalty reads 0.06, 0.12, 0.18 on steps 0, "
              "1, 2, where TF1 read it afresh each step) and only the latest "
              "terms have a gradient")
DROPPED = ("eagerly tf.compat.v1.losses.add_loss adds nothing (TF2 skips the "
           "collection), so this term silently leaves the loss")
LOSSES_IS = (" 'losses' is tf.GraphKeys.LOSSES: tf.losses.get_total_loss() "
             "sums it too.")


def collection_key(names: Names, node: Optional[ast.AST]) -> Optional[str]:
    """The collection a key names: its string (a GraphKeys spelled out, a
    name bound once to a string), else ``<the name>``; ``""`` for TF's
    other GraphKeys, None for what cannot be told without running it."""
    if node is None:
        return None
    if type(node) is ast.Constant:
        return node.value if type(node.value) is str else None
    if type(node) is ast.Name and node.id in names.constants:
        return names.constants[node.id]
    qualname = names.resolve(node) or dotted(node)
    if qualname is None:
        return None
    home, _, attr = qualname.rpartition(".")
    return GRAPH_KEYS.get(attr, "") if home.endswith("GraphKeys") else "<%s>" % qualname


def _calls(node: ast.AST) -> Iterator[ast.Call]:
    return (n for n in ast.walk(node) if type(n) is ast.Call)


class Idioms:
    """The idioms' findings of one module (``findings``)."""

    def __init__(self, ctx: Context, rewritten) -> None:
        self.ctx, self.names = ctx, ctx.names
        self.rewritten = rewritten          # ids of the calls a plugin rewrote
        self.findings: List[Finding] = []
        counts = Counter((id(s.scope.node), s.node.targets[0].id)
                         for s in self.names.assigns)
        #: (scope, name) -> the value of a name assigned once in that scope,
        #: or None where it is assigned more than once
        self.assigned: Dict[Tuple[int, str], Optional[ast.AST]] = {
            (id(s.scope.node), s.node.targets[0].id): s.node.value
            if counts[(id(s.scope.node), s.node.targets[0].id)] == 1 else None
            for s in self.names.assigns}
        self._marked = set()
        defs = Counter(getattr(s, "name", None) for s in ctx.source.tree.body)
        #: module-level functions defined once, by name
        self.functions: Dict[str, ast.FunctionDef] = {
            s.name: s for s in ctx.source.tree.body
            if type(s) is ast.FunctionDef and defs[s.name] == 1}
        self.scopes: Dict[int, Scope] = {id(s.node): s.scope for s in self.names.calls}
        handlers = {"add_to_collection": self._add, "add_to_collections": self._add,
                    "add_loss": self._add_loss, "get_collection": self._read,
                    "get_collection_ref": self._read, "get_losses": self._get_losses,
                    "get_total_loss": self._total, "arg_scope": self._arg_scope,
                    "l2_loss": self._l2_mark}
        handlers.update(dict.fromkeys(VARIABLE_LISTS, self._variables))
        handlers.update(dict.fromkeys(_KERAS_L2, self._keras_l2))
        handlers.update(dict.fromkeys(FACTORIES, self._accessor))
        for seen in self.names.calls:
            name = callee(self.names, seen.node) or ""
            handler = handlers.get(name) or (
                self._read_method if name.startswith("get_collection") else None)
            if handler is not None:
                handler(seen, self.names.resolve(seen.node.func))

    # --- helpers ---------------------------------------------------------
    def note(self, seen: Seen, code: str, message: str, pair=None) -> None:
        self.findings.append(Finding(seen.node.lineno, "note", code, message, pair))

    def text(self, node: ast.AST, edited: bool = True) -> str:
        """The node's text on one line (as rewritten, unless ``edited`` is
        False), shortened past 70 characters."""
        if edited:
            text = self.ctx.text(node)
        else:
            start, end = self.ctx.source.span(node)
            text = self.ctx.source.text[start:end]
        text = " ".join(text.split())
        return text if len(text) <= 70 else text[:67] + "..."

    def model(self, seen: Seen) -> str:
        return self.names.model_in_reach(seen.scope) or "model"

    def _traced(self, node: ast.AST, scope: Scope) -> ast.AST:
        """A name assigned once, in the innermost scope that assigns it
        (the function, else the module), stands for its value."""
        while type(node) is ast.Name and scope is not None:
            key = (id(scope.node), node.id)
            if key in self.assigned:
                return self.assigned[key] or node
            scope = scope.parent
        return node

    def _penalizes(self, node: ast.AST) -> bool:
        """Whether ``node`` computes a penalty: l2_loss, square, abs, norm,
        or a regularizer (``regularizer(w)``, ``apply_regularization``)."""
        for call in _calls(node):
            last = callee(self.names, call) or ""
            if last in _PENALTY_OPS or "regulariz" in last.lower():
                return True
        return False

    def _l2_product(self, node: ast.AST) -> Optional[Tuple[ast.AST, ast.AST]]:
        """(scale, factor with tf.nn.l2_loss) of ``s * <l2_loss ...>``, either
        order, or ``tf.multiply``/``tf.scalar_mul``."""
        if type(node) is ast.BinOp and type(node.op) is ast.Mult:
            sides = (node.left, node.right)
        elif type(node) is ast.Call and len(node.args) == 2 and \
                callee(self.names, node) in _PRODUCTS:
            sides = (node.args[0], node.args[1])
        else:
            return None
        holds = [any(callee(self.names, c) == "l2_loss" for c in _calls(s)) for s in sides]
        if holds == [False, True]:
            return sides
        if holds == [True, False]:
            return sides[1], sides[0]
        return None

    def _summed(self, seen: Seen) -> bool:
        """Whether the call is in an argument of a sum (``tf.add_n(<it>)``,
        ``tf.add_n(<it> + more)``), or is assigned to a name that is, in
        its scope (``losses = <it>`` ... ``tf.add_n(losses + more)``)."""
        stmt, within = seen.stmt, seen.stmt
        if type(stmt) is ast.Assign and stmt.value is seen.node and \
                type(stmt.targets[0]) is ast.Name:
            name, within = stmt.targets[0].id, seen.scope.node

            def is_it(node):
                return type(node) is ast.Name and node.id == name
        else:
            def is_it(node):
                return node is seen.node
        return any(callee(self.names, c) in _SUMS and any(
            is_it(n) for a in c.args for n in ast.walk(a)) for c in _calls(within))

    def _fix(self, value: ast.AST, then: str, scope: Scope) -> str:
        """The exact fix for one term added to a collection."""
        term = self._traced(value, scope)
        product = self._l2_product(term)
        if product is not None:
            scale, factor = product
            if type(factor) is ast.Call and callee(self.names, factor) == "l2_loss" \
                    and len(factor.args) == 1:
                s, w = self.text(scale), self.text(factor.args[0])
                return ("%s * tf.nn.l2_loss(%s) is compat_reg.l2_regularizer(%s)(%s) "
                        "exactly (l2_loss halves, as contrib's l2 did): give the "
                        "layer that makes %s kernel_regularizer=compat_reg."
                        "l2_regularizer(%s) instead, and %s" % (s, w, s, w, w, s, then))
        if type(term) is ast.Call and len(term.args) == 1 and not term.keywords and (
                "regulariz" in (callee(self.names, term) or "").lower()
                or self._penalizes(self._traced(term.func, scope))):
            w = self.text(term.args[0])
            return ("give the layer that makes %s kernel_regularizer=%s instead, and %s"
                    % (w, self.text(term.func), then))
        return "add it to the loss in the training step itself, not to a collection, " \
            "and " + then

    # --- (2), (3): adds to a collection ------------------------------------
    def _add(self, seen: Seen, qualname: Optional[str]) -> None:
        call = seen.node
        if not (qualname in _ADDS or (qualname is None and type(call.func) is ast.Attribute)):
            return
        many = callee(self.names, call) == "add_to_collections"
        args = bind(call, ("names" if many else "name", "value"))
        if args is None or "value" not in args:
            return
        keys = args.get("names" if many else "name")
        nodes = keys.elts if many and type(keys) in (ast.List, ast.Tuple) else [keys]
        for node in nodes:
            self._added(seen, collection_key(self.names, node), node, args["value"], STALE)

    def _add_loss(self, seen: Seen, qualname: Optional[str]) -> None:
        if not (qualname or "").startswith(READERS):
            return
        args = bind(seen.node, ("loss", "loss_collection"))
        if args is None or "loss" not in args:
            return
        node = args.get("loss_collection")
        key = LOSSES if node is None else collection_key(self.names, node)
        eager = DROPPED if qualname.startswith("tensorflow.losses.") else STALE
        self._added(seen, key, node, args["loss"], eager)

    def _added(self, seen: Seen, key: Optional[str], node, value, eager: str) -> None:
        if not key or key in VARIABLE_KEYS:
            return
        call, model = self.text(seen.node), self.model(seen)
        if key == REGULARIZATION:
            self.note(seen, "manual-add", "%s adds to REGULARIZATION_LOSSES by hand: %s, "
                      "and compat_reg.get_regularization_loss(%s), which the "
                      "collection's reads become, reads the model's penalties, not the "
                      "collection; %s. Fix: %s" % (
                          call, eager, model, GRAPH, self._fix(
                              value, "read compat_reg.get_regularization_loss(%s)" % model,
                              seen.scope)))
            return
        spelled = "'losses'" if node is None else self.text(node)
        then = "where the collection is summed, compat_reg.get_total_loss(%s, " \
            "[<the data losses>]) (the penalties read from the model)" % model
        self.note(seen, "loss-collection", "%s adds to the collection %s: %s; %s.%s Fix: %s"
                  % (call, spelled, eager, GRAPH, LOSSES_IS if key == LOSSES else "",
                     self._fix(value, then, seen.scope)),
                  ("add", "collection:" + key,
                   key == LOSSES or self._penalizes(self._traced(value, seen.scope))))

    # --- (1), (2): reads ---------------------------------------------------
    def _read(self, seen: Seen, qualname: Optional[str]) -> None:
        call = seen.node
        if id(call) in self.rewritten or not (
                qualname in COLLECTIONS or qualname in _REFS
                or (qualname is None and type(call.func) is ast.Attribute)):
            return
        args = bind(call, ("key", "scope"))
        if args is None:
            return
        node = args.get("key")
        if is_key(self.names, node) or collection_key(self.names, node) == REGULARIZATION:
            scope = ", scope=%s" % self.text(args["scope"]) if "scope" in args else ""
            model = self.model(seen)
            self.note(seen, "collection-read", "%s reads REGULARIZATION_LOSSES from a "
                      "graph: eagerly it is empty, or holds stale tensors added by "
                      "hand; %s. Fix: compat_reg.get_regularization_losses(%s%s) "
                      "(their sum: compat_reg.get_regularization_loss(%s%s))"
                      % (self.text(call), GRAPH, model, scope, model, scope))
            return
        key = collection_key(self.names, node)
        if key in VARIABLE_KEYS:
            self._weight_decay(seen, VARIABLE_KEYS[key], args.get("scope"))
        elif key:
            self._loss_read(seen, key, self.text(node))

    def _read_method(self, seen: Seen, qualname: Optional[str]) -> None:
        """A project's own ``get_collection*`` method
        (``ctx.get_collection_in_tower(key)``): noted where it reads
        REGULARIZATION_LOSSES only."""
        call = seen.node
        if qualname is None and type(call.func) is ast.Attribute and call.args and \
                collection_key(self.names, call.args[0]) == REGULARIZATION:
            self._read(seen, qualname)

    def _get_losses(self, seen: Seen, qualname: Optional[str]) -> None:
        if (qualname or "").startswith(READERS):
            self._loss_read(seen, LOSSES, "'losses'")

    def _loss_read(self, seen: Seen, key: str, spelled: str) -> None:
        summed = self._summed(seen)
        self.note(seen, "loss-collection", "%s %s the collection %s: %s; %s.%s Fix: "
                  "compat_reg.get_total_loss(%s, [<the data losses>]): the data losses "
                  "given, the penalties read from the model (each term added to the "
                  "collection moved onto its layer: see the notes where it is added)"
                  % (self.text(seen.node), "sums" if summed else "reads", spelled,
                     STALE_READ, GRAPH, LOSSES_IS if key == LOSSES else "",
                     self.model(seen)),
                  ("sum", "collection:" + key, key == LOSSES or summed))

    # --- (4) ---------------------------------------------------------------
    def _total(self, seen: Seen, qualname: Optional[str]) -> None:
        if not (qualname or "").startswith(READERS):
            return
        core = qualname.startswith("tensorflow.losses.")
        args = bind(seen.node, ("add_regularization_losses", "name", "scope")
                    if core else ("add_regularization_losses", "name")) or {}
        extra = "".join(", %s=%s" % (k, self.text(args[k]))
                        for k in ("add_regularization_losses", "scope") if k in args)
        data = sorted({s.node.lineno for s in self.names.calls if (
            self.names.resolve(s.node.func) or "").startswith(READERS)
            and not (callee(self.names, s.node) or "").startswith(("get_", "add_loss"))})
        eager = ("eagerly tf.compat.v1.losses.* add nothing to LOSSES, so it raises "
                 "ValueError (tf.add_n of nothing), or sums only what was added by "
                 "hand: stale tensors of every earlier step" if core else
                 "eagerly slim's losses still append to the one global LOSSES list, "
                 "every step, so it sums the stale tensors of every earlier step too "
                 "(only the latest with a gradient)")
        self.note(seen, "get-total-loss", "%s sums the LOSSES collection (each "
                  "tf.losses.* loss added itself there) and REGULARIZATION_LOSSES: "
                  "%s; %s. Fix: compat_reg.get_total_loss(%s, [<the data losses>%s]%s): "
                  "the data losses given, the penalties read from the model"
                  % (self.text(seen.node), eager, GRAPH, self.model(seen),
                     ": the tf.losses calls of line%s %s" % (
                         "s" if len(data) > 1 else "", ", ".join(map(str, data[:6])))
                     if data else "", extra),
                  ("sum", "collection:" + LOSSES, True))

    # --- (5) ---------------------------------------------------------------
    def _variables(self, seen: Seen, qualname: Optional[str]) -> None:
        last = callee(self.names, seen.node)
        if qualname not in ("tensorflow." + last, "tensorflow.python.ops.variables."
                            + last) and not (qualname or "").startswith(_CONTRIB_VARIABLES) \
                and not (qualname is None and type(seen.node.func) is ast.Attribute):
            return
        trainable, params = VARIABLE_LISTS[last]
        args = bind(seen.node, params) or {}
        self._weight_decay(seen, trainable, args.get("scope"))

    def _penalized_over(self, root: ast.AST, is_it, depth: int = 0, owner=None) -> bool:
        """Whether a loop or comprehension in ``root`` over what ``is_it``
        says computes a penalty of each item, or a regularizer is given it
        (``apply_regularization(reg, <it>)``), or a function of this module
        is given it (or a comprehension over it) as an argument and does so
        with that parameter (``weight_decay(rate, [v for v in <it>])``; two
        calls deep at most); ``owner``: the function ``root`` is in, whose
        parameters may be the penalty (``root`` itself by default)."""
        owner = owner or root
        for node in ast.walk(root):
            kind = type(node)
            if kind in (ast.For, ast.AsyncFor):
                if is_it(node.iter) and any(self._penalizes(s) or self._given_penalty(
                        owner, s, node.target) for s in node.body):
                    return True
            elif kind in (ast.ListComp, ast.SetComp, ast.GeneratorExp):
                if any(is_it(g.iter) for g in node.generators) and (
                        self._penalizes(node.elt) or any(self._given_penalty(
                            owner, node.elt, g.target) for g in node.generators)):
                    return True
            elif kind is ast.Call and any(is_it(a) for a in node.args) and \
                    "regulariz" in (callee(self.names, node) or "").lower():
                return True
            elif kind is ast.Call and depth < 2 and self._passed_to(node, is_it, depth):
                return True
        return False

    def _given_penalty(self, root: ast.AST, node: ast.AST, item: ast.AST) -> bool:
        """Whether ``node`` calls a parameter of the function ``root`` on
        the loop's ``item`` and ``root`` sums (``regloss = func(p)`` ...
        ``tf.add_n(costs)``): a penalty given by the caller."""
        if type(root) not in (ast.FunctionDef, ast.AsyncFunctionDef) or type(item) is not ast.Name:
            return False
        params = {a.arg for a in root.args.posonlyargs + root.args.args + root.args.kwonlyargs}
        return any(type(c.func) is ast.Name and c.func.id in params and any(
            type(a) is ast.Name and a.id == item.id for a in c.args) for c in _calls(node)) \
            and any(callee(self.names, c) in _SUMS for c in _calls(root))

    def _passed_to(self, call: ast.Call, is_it, depth: int) -> bool:
        """Whether ``call`` gives what ``is_it`` says (or a comprehension
        over it, or a name assigned one in ``root``) to a module-level
        function of this file that penalizes each item of that parameter."""
        func = self.functions.get(call.func.id) if type(call.func) is ast.Name else None
        if func is None:
            return False
        params = [a.arg for a in func.args.posonlyargs + func.args.args]
        given = list(zip(params, call.args)) + [
            (k.arg, k.value) for k in call.keywords if k.arg in params]
        for param, value in given:
            traced = self._traced(value, self.scopes.get(id(call)))
            if is_it(value) or (type(traced) in (ast.ListComp, ast.GeneratorExp) and any(
                    is_it(g.iter) for g in traced.generators)):
                if self._penalized_over(func, lambda node, name=param: type(
                        node) is ast.Name and node.id == name, depth + 1):
                    return True
        return False

    def _weight_decay(self, seen: Seen, trainable: bool, scope) -> None:
        stmt, call = seen.stmt, seen.node
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return
        if not self._penalized_over(stmt, lambda node: node is call, owner=seen.scope.node):
            if not (type(stmt) is ast.Assign and stmt.value is call
                    and type(stmt.targets[0]) is ast.Name):
                return
            name = stmt.targets[0].id
            if not self._penalized_over(seen.scope.node, lambda node: type(
                    node) is ast.Name and node.id == name):
                return
        options = "".join((", scope=%s" % self.text(scope) if scope is not None else "",
                           "" if trainable else ", trainable=False"))
        self.note(seen, "weight-decay", "%s in a hand-written weight decay: eagerly "
                  "tf.compat.v1's variable lists are [] (TF2 has no collections), so "
                  "it sums nothing (tf.add_n of nothing raises, a guarded sum is 0); "
                  "%s. Fix: iterate `for name, v in compat_reg.tf1_variables(%s%s)` "
                  "and filter on name where the code reads v.name: TF1's names "
                  "(fc1/kernel:0) on every Keras, where Keras 3's own v.name is only "
                  "kernel" % (self.text(seen.node), GRAPH, self.model(seen), options))

    # --- (6) ---------------------------------------------------------------
    def _arg_scope(self, seen: Seen, qualname: Optional[str]) -> None:
        call = seen.node
        if not (qualname or "").startswith("tensorflow.contrib."):
            return
        given = [k for k in call.keywords if k.arg and k.arg.endswith("regularizer")
                 and not (type(k.value) is ast.Constant and k.value.value is None)]
        ops = call.args[0] if call.args else next(
            (k.value for k in call.keywords if k.arg == "list_ops_or_scope"), None)
        if not given or type(ops) not in (ast.List, ast.Tuple):
            return
        wanted = {self.names.resolve(op) for op in ops.elts} - {None}
        lines = []
        if isinstance(seen.stmt, (ast.With, ast.AsyncWith)):
            lines = sorted({c.lineno for s in seen.stmt.body for c in _calls(s)
                            if self.names.resolve(c.func) in wanted})
        layers = sorted({_KERAS_LAYERS.get(op.rpartition(".")[2], "Keras layer")
                         for op in wanted})
        fix = ", ".join("%s=%s" % (_KERAS_KEYWORDS.get(k.arg, k.arg), self.text(k.value))
                        for k in given)
        self.note(seen, "arg-scope", "%s gives %s to every %s called in its block (%s) "
                  "and in what that calls, without it appearing at those calls; they "
                  "add the penalties to REGULARIZATION_LOSSES, which "
                  "compat_reg.get_regularization_loss() reads in graph mode (tf_slim "
                  "with disable_v2_behavior: unchanged). Keras has no arg_scope: pass "
                  "%s to each %s that replaces them, and read "
                  "compat_reg.get_regularization_loss(%s) (fit adds it itself)"
                  % (self.text(call.func), ", ".join(k.arg for k in given),
                     ", ".join(self.text(op) for op in ops.elts),
                     "line%s %s" % ("s" if len(lines) > 1 else "",
                                    ", ".join(map(str, lines[:6]))) if lines else
                     "none here: where the scope it returns is entered",
                     fix, " / ".join(layers), self.model(seen)))

    # --- (7) ---------------------------------------------------------------
    def _l2_mark(self, seen: Seen, qualname: Optional[str]) -> None:
        """A mark per ``s * tf.nn.l2_loss(...)`` term, for ``half-l2``."""
        if id(seen.stmt) in self._marked or qualname not in (
                "tensorflow.nn.l2_loss", "tensorflow.math.l2_loss"):
            return
        self._marked.add(id(seen.stmt))
        for node in ast.walk(seen.stmt):
            product = self._l2_product(node)
            if product is not None:
                self.findings.append(Finding(
                    node.lineno, "mark", "half-l2", self.text(node, edited=False),
                    ("l2_loss", "l2:" + self.text(product[0], edited=False), True)))

    def _keras_l2(self, seen: Seen, qualname: Optional[str]) -> None:
        name = keras_regularizer(qualname)
        if name not in _KERAS_L2:
            return
        call = seen.node
        keywords = {k.arg: k.value for k in call.keywords}
        at = _KERAS_L2[name].index("l2")
        scale = keywords.get("l2", keywords.get("l"))
        if scale is None and len(call.args) > at:
            scale = call.args[at]
        if scale is None:
            return
        s = self.text(scale, edited=False)
        self.note(seen, "half-l2", "%s is %s * sum(w ** 2), but %s * tf.nn.l2_loss(w) "
                  "is %s * sum(w ** 2) / 2 (l2_loss halves): moved into Keras' l2 as "
                  "it is, the penalty doubles. Write compat_reg.l2_regularizer(%s) "
                  "(equal to %s * tf.nn.l2_loss(w)) or %s(0.5 * %s), and keep one of "
                  "the two: both in one loss count it twice"
                  % (self.text(call, edited=False), s, s, s, s, s, name, s),
                  ("keras_l2", "l2:" + s, False))

    # --- (8) ---------------------------------------------------------------
    def _accessor(self, seen: Seen, qualname: Optional[str]) -> None:
        """``contrib.layers().l2_regularizer(s)``: the factory of a chain
        (attributes and calls) whose last module is ``layers`` and whose
        root name, or a part of the chain, is ``contrib``'s."""
        call = seen.node
        if contrib_factory(qualname) or type(call.func) is not ast.Attribute:
            return
        parts, node = [], call.func.value
        while type(node) in (ast.Attribute, ast.Call):
            if type(node) is ast.Attribute:
                parts.append(node.attr)
                node = node.value
            else:
                node = node.func
        if type(node) is not ast.Name or not parts or parts[0] != "layers":
            return
        root = self.names.table.get(node.id, node.id).split(".")
        if "contrib" not in root + parts:
            return
        name = call.func.attr
        self.note(seen, "contrib-accessor", "%s is contrib's %s reached through %s, "
                  "which this tool cannot resolve, so it is not rewritten; TF2 has "
                  "no contrib. Fix: compat_reg.%s(...) with the same arguments (the "
                  "exact drop-in)" % (self.text(call, edited=False), name,
                                      self.text(call.func.value, edited=False), name))
