"""What the tool cannot fix, reported with the line and a one-line why.

* ``penalty-never-added``: regularizers are created, but nothing in the file
  ever reads the penalties (no collection read, ``get_regularization_loss``,
  ``get_total_loss``, ``.losses``, ``add_loss``, ``fit``/``compile``).
* ``fit-double-count``: a Keras ``fit`` next to a hand-made sum of the
  regularization losses: ``fit`` adds them already.
* ``integer-scale``: ``l2_regularizer(1)``: TF1 raised ValueError here too.
* ``weights-collection``: ``apply_regularization`` over the ``WEIGHTS``
  collection, which nothing fills in TF2.
"""
from __future__ import annotations

from typing import Callable, List, Optional, Set

import libcst as cst

from compat_reg.migrate._helpers import Finding, bind
from compat_reg.migrate._names import (
    Names, compat_reg_factory, contrib_factory, dotted, keras_regularizer)
from compat_reg.migrate._rewrites import collection_reads, regularizer_calls
from compat_reg.migrate._walk import walk

_CONSUMERS = frozenset((
    "get_regularization_loss", "get_regularization_losses", "get_total_loss",
    "losses", "add_loss", "fit", "fit_generator", "train_on_batch", "compile",
    "apply_regularization", "REGULARIZATION_LOSSES",
    "scale_regularization_loss"))
_FITS = frozenset(("fit", "fit_generator", "train_on_batch"))
_SUMS = frozenset(("sum", "add_n", "reduce_sum", "accumulate_n"))


class Scan:
    """Run by ``_walk.walk`` over the original module; ``report()`` then
    gives the findings. Lines are looked up only for what is reported."""

    def __init__(self, names: Names,
                 line_of: Callable[[cst.CSTNode], int]) -> None:
        self.names = names
        self.line_of = line_of
        self.findings: List[Finding] = []
        self.created: List[cst.CSTNode] = []
        self.consumed = False
        self.fits: List[cst.CSTNode] = []
        self.manual: List[cst.CSTNode] = []
        self.weights_names: Set[str] = set()

    def hazard(self, node: cst.CSTNode, code: str, message: str) -> None:
        self.findings.append(Finding(self.line_of(node), "hazard", code,
                                     message))

    def visit_Name(self, node: cst.Name) -> None:
        if node.value in _CONSUMERS:
            self.consumed = True

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        if node.value.strip("'\"") == "regularization_losses":
            self.consumed = True

    def visit_Assign(self, node: cst.Assign) -> None:
        if self._weights_collection(node.value):
            for target in node.targets:
                if isinstance(target.target, cst.Name):
                    self.weights_names.add(target.target.value)

    def _weights_collection(self, node: Optional[cst.BaseExpression]) -> bool:
        if not isinstance(node, cst.Call):
            return False
        if self.names.resolve(node.func) not in (
                "tensorflow.get_collection",
                "tensorflow.python.framework.ops.get_collection"):
            return False
        key = node.args[0].value if node.args else None
        qualname = self.names.resolve(key) if key is not None else None
        return (qualname or "").endswith("GraphKeys.WEIGHTS") or (
            isinstance(key, cst.SimpleString) and
            key.evaluated_value == "weights")

    def visit_Call(self, node: cst.Call) -> None:
        qualname = self.names.resolve(node.func)
        factory = contrib_factory(qualname) or compat_reg_factory(qualname)
        if factory in regularizer_calls.NAMES or factory == "sum_regularizer":
            self.created.append(node)
        elif keras_regularizer(qualname):
            self.created.append(node)
        if factory in regularizer_calls.NAMES:
            literal = regularizer_calls.int_literal_scale(factory, node)
            if literal is not None:
                self.hazard(node, "integer-scale",
                            "%s(%s): an integer scale; TF1 raised ValueError "
                            "on it too, write %s.0" % (factory, literal,
                                                       literal))
        if factory == "apply_regularization":
            self._apply(node)
        func = dotted(node.func) or ""
        last = func.rpartition(".")[2]
        if isinstance(node.func, cst.Attribute) and last in _FITS:
            self.fits.append(node)
        if collection_reads.reader(_Names(self.names), qualname, node) or (
                qualname or "").startswith("compat_reg.get_regularization_"):
            self.manual.append(node)
        if last in _SUMS and any(
                isinstance(a.value, cst.Attribute) and
                a.value.attr.value == "losses" for a in node.args):
            self.manual.append(node)

    def _apply(self, node: cst.Call) -> None:
        args = bind(node, ("regularizer", "weights_list"))
        weights = None if args is None else args.get("weights_list")
        if args is None:
            return
        if weights is None or (isinstance(weights, cst.Name) and
                               weights.value == "None"):
            why = "no weights_list, so"
        elif self._weights_collection(weights) or (
                isinstance(weights, cst.Name) and
                weights.value in self.weights_names):
            why = "weights_list is"
        else:
            return
        self.hazard(node, "weights-collection",
                    "apply_regularization: %s the WEIGHTS collection, which "
                    "nothing fills in TF2 (only contrib layers did); pass the "
                    "weights, e.g. model.trainable_weights" % why)

    def report(self) -> List[Finding]:
        findings = list(self.findings)
        if self.created and not self.consumed:
            findings.append(Finding(
                self.line_of(self.created[0]), "hazard", "penalty-never-added",
                "regularizers are created but no penalty is ever added to a "
                "loss in this file (no get_regularization_loss, "
                "REGULARIZATION_LOSSES read, .losses, add_loss or fit)"))
        if self.fits and self.manual:
            fit = self.line_of(self.fits[0])
            for node in self.manual:
                findings.append(Finding(
                    self.line_of(node), "hazard", "fit-double-count",
                    "regularization losses added by hand next to fit (line "
                    "%d), which adds model.losses itself: counted twice"
                    % fit))
        return sorted(set(findings), key=lambda f: (f.line, f.code))


class _Names:
    """The bit of the rewrite context ``collection_reads.reader`` uses."""

    def __init__(self, names: Names) -> None:
        self.names = names


def scan(module: cst.Module, names: Names,
         line_of: Callable[[cst.CSTNode], int]) -> List[Finding]:
    visitor = Scan(names, line_of)
    walk(module, visitor)
    return visitor.report()
