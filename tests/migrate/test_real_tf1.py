"""Issue 25, "how it is checked": real TF1 files the tool was not written
against (``data/real_tf1``: modules and a notebook of ``tensorflow/models``,
byte for byte, with their provenance and the sites read off each file in
its README).

As one ``compat-reg migrate`` run over them, as a user runs it:

* every idiom site is reported with its note or rewritten, and nothing else
  is reported with an idiom's code;
* the sites of the README are exactly the lines an independent token lister
  flags (the idiom call spellings), less the ones the README says are not
  an idiom, with why: so a site the README forgot fails too;
* ``--check`` exits 1 (exact rewrites are left) and writes nothing;
* ``--write`` keeps every file (every notebook cell) that parsed parsing,
  leaves no contrib regularizer reference, leaves the files without a
  rewrite byte for byte, reports no error, and a second ``--write`` changes
  nothing.
"""
import ast
import io
import json
import os
import re
import tokenize

import pytest

from compat_reg.migrate.cli import main

from .test_idiom_projects import _CONTRIB
from .test_idiom_sites import IDIOM_CODES

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "real_tf1")
SUFFIX = ".txt"

# the idiom call spellings the lister flags (issue 25's idioms 1-6)
CALLS = {"add_to_collection", "add_to_collections", "get_collection", "get_collection_ref",
         "get_regularization_loss", "get_regularization_losses", "add_loss",
         "get_total_loss", "get_losses", "trainable_variables", "global_variables",
         "all_variables", "model_variables"}
# contrib's factories, called as an attribute (slim.l2_regularizer(...))
FACTORIES = {"l1_regularizer", "l2_regularizer", "l1_l2_regularizer", "sum_regularizer",
             "apply_regularization"}
# "LINE code", or "CELL:LINE code" in a notebook
_ITEM = re.compile(r"^\s*(\d+(?::\d+)?)\s+(\S+)")


def _table():
    """file -> (sites {place: {code}}, not sites {place}), from the README;
    a place is "LINE", or "CELL:LINE" in a notebook."""
    with open(os.path.join(DATA, "README.md"), encoding="utf-8") as f:
        rows = [line for line in f.read().splitlines() if line.startswith("| ")]
    header = [c.strip() for c in rows[0].strip("|").split("|")]
    table = {}
    for row in rows[2:]:
        cells = dict(zip(header, (c.strip() for c in row.strip("|").split("|"))))
        sites, not_sites = {}, set()
        for item in cells["sites"].split(";"):
            match = _ITEM.match(item)
            if match:
                sites.setdefault(match.group(1), set()).add(match.group(2))
        for item in cells["not sites"].split(";"):
            match = _ITEM.match(item)
            if match:
                not_sites.add(match.group(1))
        table[cells["file"]] = sites, not_sites
    return table


TABLE = _table()


def _listed(text):
    """Lines whose code (not comments, not strings) spells an idiom call:
    a call named in CALLS, REGULARIZATION_LOSSES, a contrib factory called
    as an attribute, an arg_scope given a *regularizer= other than None."""
    tokens = [t for t in tokenize.generate_tokens(io.StringIO(text).readline)
              if t.type in (tokenize.NAME, tokenize.OP)]

    def arguments(i):
        """The tokens of the call's parentheses opened at i + 1, at depth 1."""
        depth = 0
        for j in range(i + 1, len(tokens)):
            depth += {"(": 1, "[": 1, "{": 1, ")": -1, "]": -1, "}": -1}.get(
                tokens[j].string, 0)
            if depth == 0:
                return
            if depth == 1:
                yield j

    lines, inside = set(), set()      # a call's own arguments are that call
    for i, tok in enumerate(tokens):
        after = tokens[i + 1].string if i + 1 < len(tokens) else ""
        before = tokens[i - 1].string if i else ""
        if tok.type != tokenize.NAME or before == "def" or i in inside:
            continue
        name, line = tok.string, tok.start[0]
        if (name in CALLS and after == "(") or (
                name in FACTORIES and before == "." and after == "("):
            lines.add(line)
            inside.update(arguments(i))
        elif name == "REGULARIZATION_LOSSES":
            lines.add(line)
        elif name == "arg_scope" and after == "(" and any(
                tokens[j].string.endswith("regularizer") and tokens[j + 1].string == "="
                and tokens[j + 2].string != "None" for j in arguments(i)):
            lines.add(line)
    return lines


def _code(path, data):
    """(place prefix, code) of each piece of Python: the file, or each code
    cell of a notebook ("CELL:")."""
    if not path.endswith(".ipynb"):
        return [("", data.decode("utf-8"))]
    cells = json.loads(data.decode("utf-8"))["cells"]
    return [("%d:" % number, "".join(cell["source"]))
            for number, cell in enumerate(cells, 1) if cell["cell_type"] == "code"]


def _parses(code):
    try:
        ast.parse(code)
    except SyntaxError:
        return False
    return True


def _sources():
    """file (as in the README) -> its bytes."""
    found = {}
    for project in sorted(os.listdir(DATA)):
        if os.path.isdir(os.path.join(DATA, project)):
            for name in sorted(os.listdir(os.path.join(DATA, project))):
                with open(os.path.join(DATA, project, name), "rb") as f:
                    found["%s/%s" % (project, name[:-len(SUFFIX)])] = f.read()
    return found


SOURCES = _sources()


def test_every_file_has_its_provenance_row_and_parses():
    assert set(SOURCES) == set(TABLE)
    names = [path.rpartition("/")[2] for path in SOURCES]
    assert len(set(names)) == len(names)       # the report is keyed by file name
    for path, data in SOURCES.items():
        assert any(_parses(code) for _, code in _code(path, data)), path


@pytest.mark.parametrize("path", sorted(SOURCES))
def test_the_readme_lists_every_line_that_spells_an_idiom(path):
    sites, not_sites = TABLE[path]
    assert not set(sites) & not_sites
    listed = {prefix + str(line) for prefix, code in _code(path, SOURCES[path])
              for line in _listed(code)}
    assert listed == set(sites) | not_sites


def _tree(tmp_path):
    for path, data in SOURCES.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(data)


def _bytes(root):
    return {path: (root / path).read_bytes() for path in SOURCES}


def _report(root, capsys):
    """(exit code, report, {(file name, place): {code}}) of one --json run:
    the idiom notes, and "rw:<kind>" for each site rewritten."""
    code = main([str(root), "--json"])
    report = json.loads(capsys.readouterr().out)
    found = {}
    for entry in report["files"]:
        name = entry["path"].rpartition("/")[2]
        for item in entry["findings"] + entry["sites"]:
            place = "%d:%d" % (item["cell"], item["line"]) if "cell" in item else \
                str(item["line"])
            if item.get("code") in IDIOM_CODES:
                found.setdefault((name, place), set()).add(item["code"])
            elif "rewritten" in item and item["kind"] != "regularizer_argument":
                assert item["rewritten"], item
                found.setdefault((name, place), set()).add("rw:" + item["kind"])
    return code, report, found


def test_every_site_is_reported_or_rewritten_and_write_keeps_the_guarantees(
        tmp_path, capsys):
    _tree(tmp_path)
    expected = {(path.rpartition("/")[2], place): codes
                for path, (sites, _) in TABLE.items() for place, codes in sites.items()}
    code, report, found = _report(tmp_path, capsys)
    assert found == expected
    assert report["summary"]["error"] == 0
    rewritten = {path for path, (sites, _) in TABLE.items()
                 if any(c.startswith("rw:") for codes in sites.values() for c in codes)}
    assert code == (1 if rewritten else 0)

    before = _bytes(tmp_path)
    assert main([str(tmp_path), "--check"]) == (1 if rewritten else 0)
    capsys.readouterr()
    assert _bytes(tmp_path) == before                      # --check never writes

    assert main([str(tmp_path), "--write"]) == 0
    out = capsys.readouterr()
    assert ": error:" not in out.err
    after = _bytes(tmp_path)
    for path in SOURCES:
        old, new = _code(path, before[path]), _code(path, after[path])
        assert [prefix for prefix, _ in old] == [prefix for prefix, _ in new]
        for (_, was), (_, now) in zip(old, new):
            if _parses(was):
                assert _parses(now), path                  # still parses
            code_only = "\n".join(line.partition("#")[0] for line in now.splitlines())
            assert not _CONTRIB.search(code_only), path    # 0 contrib references left
        if path in rewritten:
            assert after[path] != before[path], path
        else:
            assert after[path] == before[path], path       # byte for byte
    assert main([str(tmp_path), "--write"]) == 0
    assert "rewrote" not in capsys.readouterr().out
    assert _bytes(tmp_path) == after                       # idempotent
