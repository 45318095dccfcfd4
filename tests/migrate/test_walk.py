"""_walk reads libcst internals for speed; these pin it to libcst itself.

If a libcst upgrade changes its visiting order or its code generation,
these fail rather than the rewriter silently resolving names wrongly.
"""
import glob
import inspect
import os

import libcst as cst
import pytest

from compat_reg.migrate import _walk

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE = os.path.join(os.path.dirname(os.path.dirname(HERE)), "compat_reg")
SOURCES = sorted(glob.glob(os.path.join(PACKAGE, "**", "*.py"), recursive=True))
SOURCES += [inspect.getsourcefile(inspect), inspect.getsourcefile(cst.Module)]


class _Recorder(cst.CSTVisitor):
    def __init__(self):
        super().__init__()
        self.seen = []

    def on_visit(self, node):
        if type(node) not in _walk._OPAQUE:
            self.seen.append(id(node))
        return True


class _WalkRecorder:
    def __init__(self):
        self.seen = []

    def __getattr__(self, name):
        if name.startswith("visit_"):
            return lambda node: self.seen.append(id(node))
        raise AttributeError(name)


@pytest.mark.parametrize("path", SOURCES, ids=os.path.basename)
def test_walk_visits_in_libcsts_order(path):
    with open(path, encoding="utf-8") as handle:
        module = cst.parse_module(handle.read())
    theirs = _Recorder()
    module.visit(theirs)
    ours = _WalkRecorder()
    _walk.walk(module, ours)
    assert ours.seen == theirs.seen


@pytest.mark.parametrize("path", SOURCES[:6], ids=os.path.basename)
def test_lines_match_position_provider(path):
    with open(path, encoding="utf-8") as handle:
        module = cst.parse_module(handle.read())
    wrapper = cst.metadata.MetadataWrapper(module, unsafe_skip_copy=True)
    positions = wrapper.resolve(cst.metadata.PositionProvider)
    lines = _walk.Lines(module)
    calls = [n for n in positions if isinstance(n, (cst.Call, cst.Name, cst.SimpleStatementLine))]
    assert calls
    for node in calls:
        assert lines(node) == positions[node].start.line
