"""What the tool reports about a module, besides what it rewrote.

Hazards (it cannot fix them; exit code 1):

* ``penalty-never-added``: regularizers are created, but nothing reads the
  penalties (no collection read, ``get_regularization_loss``,
  ``get_total_loss``, ``.losses``, ``add_loss``, ``fit``/``compile``).
  Decided over the whole run (``RUN_LEVEL``): a model file whose penalty a
  ``train.py`` of the same run reads is fine.
* ``fit-double-count``: a Keras ``fit`` next to a hand-made sum of the
  regularization losses: ``fit`` adds them already.
* ``integer-scale``: ``l2_regularizer(1)``: TF1 raised ValueError here too.
* ``weights-collection``: ``apply_regularization`` over the ``WEIGHTS``
  collection, which nothing fills in TF2.

Notes (what still stands between the file and a TF2 run, with the fix; the
exit code does not change): ``graph-mode``, ``tf-layers``,
``other-contrib``, ``keras-layers-collection``, ``update-ops``,
``adamw``, and the TF1 idioms without an exact rewrite (``_idioms``).

``run_level`` decides, over every file of a run, the findings that depend
on other files: ``RUN_LEVEL``'s, and those that pair (``Finding.pair``).
"""
from __future__ import annotations

import ast
from typing import Any, Dict, List, Optional

from compat_reg.migrate import _idioms
from compat_reg.migrate._context import Context, Finding, bind
from compat_reg.migrate._names import (
    Names, compat_reg_factory, contrib_factory, keras_regularizer)
from compat_reg.migrate._plugins import callee, collection_reads, regularizer_calls

_CONSUMERS = frozenset((
    "get_regularization_loss", "get_regularization_losses", "get_total_loss",
    "losses", "add_loss", "fit", "fit_generator", "train_on_batch", "compile",
    "apply_regularization", "REGULARIZATION_LOSSES",
    "scale_regularization_loss", "add_to_collection", "add_to_collections",
    "get_losses"))
_FITS = frozenset(("fit", "fit_generator", "train_on_batch"))
_SUMS = frozenset(("sum", "add_n", "reduce_sum", "accumulate_n"))
_CREATORS = frozenset(regularizer_calls.NAMES) | {"sum_regularizer"}
_GRAPH_API = ("tensorflow.placeholder", "tensorflow.Session",
              "tensorflow.InteractiveSession")
_V1_SWITCHES = ("tensorflow.disable_v2_behavior",
                "tensorflow.disable_eager_execution")
_DECAYED = ("tensorflow.contrib.opt.AdamWOptimizer",
            "tensorflow.contrib.opt.MomentumWOptimizer")
_CONTRIB_MODULES = ("tensorflow.contrib", "tensorflow.contrib.layers",
                    "tensorflow.contrib.slim", "tensorflow.contrib.opt")

# The attribute names (and the homes) of what the notes name: only chains
# that hold one are resolved.
_NOTED = frozenset(
    [q.rpartition(".")[2] for q in _GRAPH_API + _V1_SWITCHES + _DECAYED]
    + ["layers", "contrib", "UPDATE_OPS", "REGULARIZATION_LOSSES", "WEIGHTS"])
_NOTED_HOMES = ("tensorflow.contrib", "tensorflow.layers", "tensorflow.keras.layers")

# Findings decided over the whole run: the code, and the fact about a file
# (in ``Result.facts``) which, if any file of the run has it, silences it.
RUN_LEVEL = {"penalty-never-added": "consumes", "graph-mode": "leaves_v2"}


def _spell(qualname: str) -> str:
    return "tf." + qualname[len("tensorflow."):] if qualname.startswith(
        "tensorflow.") else qualname


class Report:
    """The findings of one module: ``hazards``, ``notes`` and ``facts``."""

    def __init__(self, ctx: Context, sites) -> None:
        self.ctx = ctx
        self.names: Names = ctx.names
        self.findings: List[Finding] = []
        self.facts: Dict[str, bool] = {}
        self._qualnames()
        self._hazards(sites)
        self._notes(sites)
        self.findings += _idioms.Idioms(
            ctx, {id(seen.node) for seen, _, _ in sites}).findings

    def hazard(self, line: int, code: str, message: str) -> None:
        self.findings.append(Finding(line, "hazard", code, message))

    def note(self, line: int, code: str, message: str) -> None:
        self.findings.append(Finding(line, "note", code, message))

    def _qualnames(self) -> None:
        """First line of each canonical name the module reads (attribute
        chains and imported names), and the attribute names it reads."""
        names = self.names
        first: Dict[str, int] = {}
        attrs = set()
        # heads whose chains the notes look at whatever their attributes
        heads = {local for local, value in names.table.items()
                 if value.startswith(_NOTED_HOMES)}
        for node in names.attributes:
            head, chain = node, []
            while type(head) is ast.Attribute:
                chain.append(head.attr)
                head = head.value
            attrs.update(chain)
            if type(head) is ast.Name and head.id in names.table and (
                    head.id in heads or not _NOTED.isdisjoint(chain)):
                qualname = names.resolve(node)
                if qualname and qualname not in first:
                    first[qualname] = node.lineno
        self.first = first
        self.attrs = attrs

    def _hazards(self, sites) -> None:
        names = self.names
        created: List[int] = []
        fits: List[int] = []
        manual: List[int] = []
        for seen in names.calls:
            call = seen.node
            func = call.func
            last = callee(names, call)
            if last is None:
                continue
            if last in _FITS and isinstance(func, ast.Attribute):
                fits.append(call.lineno)
            if last in _SUMS and any(isinstance(a, ast.Attribute) and a.attr == "losses"
                                     for a in call.args):
                manual.append(call.lineno)
            if last not in _CREATORS and last not in ("apply_regularization",) \
                    and not last.startswith("get_regularization_loss") \
                    and last.lower() not in ("l1", "l2", "l1_l2", "l1l2"):
                continue
            qualname = names.resolve(func)
            factory = contrib_factory(qualname) or compat_reg_factory(qualname)
            if factory in _CREATORS or keras_regularizer(qualname):
                created.append(call.lineno)
            if factory in regularizer_calls.NAMES:
                literal = regularizer_calls.int_literal_scale(factory, call)
                if literal is not None:
                    self.hazard(call.lineno, "integer-scale",
                                "%s(%s): an integer scale; TF1 raised ValueError "
                                "on it too, write %s.0" % (factory, literal, literal))
            if factory == "apply_regularization":
                self._apply(call)
            if (qualname or "").startswith("compat_reg.get_regularization_"):
                manual.append(call.lineno)
        manual += [seen.node.lineno for seen, plugin, _ in sites
                   if plugin.kind == "collection_read"]
        consumes = bool(
            _CONSUMERS.intersection(names.uses) or _CONSUMERS.intersection(self.attrs)
            or "regularization_losses" in names.strings)
        self.facts["consumes"] = consumes
        if created and not consumes:
            self.hazard(min(created), "penalty-never-added",
                        "regularizers are created but no penalty is ever added "
                        "to a loss (no get_regularization_loss, "
                        "REGULARIZATION_LOSSES read, .losses, add_loss or fit)")
        if fits and manual:
            for line in sorted(set(manual)):
                self.hazard(line, "fit-double-count",
                            "regularization losses added by hand next to fit "
                            "(line %d), which adds model.losses itself: counted "
                            "twice" % min(fits))

    def _weights_collection(self, node: Optional[ast.AST]) -> bool:
        if not isinstance(node, ast.Call) or \
                self.names.resolve(node.func) not in collection_reads.COLLECTIONS:
            return False
        key = node.args[0] if node.args else None
        qualname = self.names.resolve(key) if key is not None else None
        return (qualname or "").endswith("GraphKeys.WEIGHTS") or (
            isinstance(key, ast.Constant) and key.value == "weights")

    def _apply(self, call: ast.Call) -> None:
        args = bind(call, ("regularizer", "weights_list"))
        if args is None:
            return
        weights = args.get("weights_list")
        weights_names = {s.node.targets[0].id for s in self.names.assigns
                         if self._weights_collection(s.node.value)}
        if weights is None or (isinstance(weights, ast.Constant) and weights.value is None):
            why = "no weights_list, so"
        elif self._weights_collection(weights) or (
                isinstance(weights, ast.Name) and weights.id in weights_names):
            why = "weights_list is"
        else:
            return
        self.hazard(call.lineno, "weights-collection",
                    "apply_regularization: %s the WEIGHTS collection, which "
                    "nothing fills in TF2 (only contrib layers did); pass the "
                    "weights, e.g. model.trainable_weights" % why)

    def _notes(self, sites) -> None:
        first, names = self.first, self.names
        # imported names read directly (``from tensorflow.contrib... import X``)
        for local, value in names.table.items():
            if names.uses.get(local) and value not in first:
                first[value] = next(
                    (s.node.lineno for s in names.imports
                     if any((a.asname or a.name).partition(".")[0] == local
                            for a in s.node.names)), 1)

        def at(prefixes) -> List[str]:
            return sorted((q for q in first if q.startswith(prefixes)),
                          key=lambda q: first[q])

        graph = [q for q in first if q in _GRAPH_API]
        switches = [q for q in first if q in _V1_SWITCHES]
        self.facts["leaves_v2"] = bool(switches)
        if graph and not switches:
            self.note(min(first[q] for q in graph), "graph-mode",
                      "%s need graph mode, which TF2 leaves off: call "
                      "tf.compat.v1.disable_v2_behavior() right after importing "
                      "TensorFlow (TF's own first step: `import "
                      "tensorflow.compat.v1 as tf; tf.disable_v2_behavior()`), "
                      "or port the code to eager execution"
                      % ", ".join(sorted(_spell(q) for q in graph)))
        layers = at(("tensorflow.layers.",))
        if layers:
            self.note(first[layers[0]], "tf-layers",
                      "%s: tf.layers is tf.compat.v1.layers in TF2 (spell it so) "
                      "and runs only on Keras 2: on TF >= 2.16 `pip install "
                      "tf_keras` and set TF_USE_LEGACY_KERAS=1 before TensorFlow "
                      "is imported, or port to tf.keras.layers"
                      % ", ".join(map(_spell, layers[:3])))
        decayed = [q for q in first if q in _DECAYED]
        if decayed:
            self.note(min(first[q] for q in decayed), "adamw",
                      "%s: contrib is gone in TF2; Keras' AdamW/SGD weight_decay "
                      "is not multiplied by the learning rate as contrib's was: "
                      "pass weight_decay = wd / lr (and keep it off the biases "
                      "as before)" % ", ".join(sorted(map(_spell, decayed))))
        rewritten = {"tensorflow.contrib.layers." + n for n in
                     regularizer_calls.NAMES} | {
            "tensorflow.contrib.layers.sum_regularizer",
            "tensorflow.contrib.layers.apply_regularization"}
        # tf_slim's names are read as tensorflow.contrib.slim's (one API):
        # where the file never spells contrib, they came from tf_slim, which
        # TF2 has
        spelled = "contrib" in self.ctx.source.text
        other = [q for q in at(("tensorflow.contrib.",))
                 if q not in _CONTRIB_MODULES and q not in _DECAYED
                 and q.replace(".slim.", ".layers.", 1) not in rewritten
                 and ".losses." not in q
                 and (spelled or not q.startswith("tensorflow.contrib.slim."))]
        if other:
            self.note(first[other[0]], "other-contrib",
                      "%s: tf.contrib is gone in TF2 and this tool rewrites only "
                      "its regularization; run tf_upgrade_v2 (it maps some, e.g. "
                      "xavier_initializer) or port the rest (tf_slim for slim)"
                      % ", ".join(map(_spell, other[:6])) +
                      (" and %d more" % (len(other) - 6) if len(other) > 6 else ""))
        reads = [seen.node.lineno for seen, plugin, _ in sites
                 if plugin.kind == "collection_read"]
        keras_layers = at(("tensorflow.keras.layers.",))
        if reads and keras_layers:
            self.note(min(reads), "keras-layers-collection",
                      "tf.keras layers (line %d) never put their penalties in "
                      "the REGULARIZATION_LOSSES collection, in TF1 as in TF2: "
                      "this read misses them; add model.losses (or pass "
                      "source=<the model>)" % first[keras_layers[0]])
        update_ops = [q for q in first if q.endswith("GraphKeys.UPDATE_OPS")]
        if update_ops:
            self.note(first[update_ops[0]], "update-ops",
                      "UPDATE_OPS is empty under TF2 eager execution, so batch-"
                      "norm moving averages would silently stop updating: keep "
                      "graph mode (disable_v2_behavior) or use Keras "
                      "BatchNormalization called with training=True, which "
                      "updates them itself")


# (role of a paired finding) -> (the role it pairs with, the words naming them)
PARTNERS = {"add": ("sum", "summed at"), "sum": ("add", "added at"),
            "keras_l2": ("l2_loss", "the l2_loss term at")}


def where(entry: Dict[str, Any], finding: Dict[str, Any]) -> str:
    """``PATH:LINE``, or ``NB.ipynb:cell N:line M``."""
    if "cell" in finding:
        return "%s:cell %d:line %d" % (entry["path"], finding["cell"], finding["line"])
    return "%s:%d" % (entry["path"], finding["line"])


def run_level(entries: List[Dict[str, Any]]) -> None:
    """Decide, over every file of the run (the report's entries), the
    findings that depend on other files: a ``RUN_LEVEL`` finding goes when
    a file of the run has its fact; a paired one stays when its key is
    live (a definite site of it in the run) and names its partners there;
    marks go."""
    looked_at = [e["path"] for e in entries if "facts" in e]
    paired = [(e, f) for e in entries for f in e["findings"] if f.get("pair")]
    live = {f["pair"][1] for _, f in paired if f["pair"][2]}
    at: Dict[tuple, List[str]] = {}
    for e, f in paired:
        at.setdefault(tuple(f["pair"][:2]), []).append(where(e, f))
    holders = {code: any(e.get("facts", {}).get(fact) for e in entries)
               for code, fact in RUN_LEVEL.items()}
    for e in entries:
        kept = []
        for f in e["findings"]:
            pair = f.pop("pair", None)
            if f["code"] in RUN_LEVEL and holders[f["code"]]:
                continue
            if f["code"] == "penalty-never-added":
                f["message"] += "; looked at the %d files of this run: %s" % (
                    len(looked_at), ", ".join(looked_at[:5])
                    + (", ..." if len(looked_at) > 5 else ""))
            if pair is not None:
                role, key, _ = pair
                if f["kind"] == "mark" or key not in live:
                    continue
                partner, words = PARTNERS[role]
                there = at.get((partner, key), [])
                if there:
                    f["message"] += "; %s %s" % (words, ", ".join(there[:3])
                                                 + (", ..." if len(there) > 3 else ""))
            kept.append(f)
        e["findings"] = kept
