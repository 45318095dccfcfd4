"""Issue 25, "how it is checked": real TF1 files the tool was not written
against: modules of tf-slim, tensorpack, tensor2tensor and dm-sonnet,
fetched at test time from the package registry as pinned archives (no copy
is kept here; ``data/real_tf1/README.md`` has each file's package, archive
and file sha256 and the sites read off each file).

As one ``compat-reg migrate`` run over them, as a user runs it:

* every idiom site is reported with its note or rewritten, and nothing else
  is reported with an idiom's code;
* the sites of the README are exactly the lines an independent token lister
  flags (the idiom call spellings), less the ones the README says are not
  an idiom, with why, and the known gaps it lists (which must stay
  unreported): so a site the README forgot fails too;
* ``--check`` exits 1 (exact rewrites are left) and writes nothing;
* ``--write`` keeps every file parsing, leaves no contrib regularizer
  reference, leaves the files without a rewrite byte for byte, reports no
  error, and a second ``--write`` changes nothing.

No registry: failed when ``CI`` is set, skipped with the reason otherwise.
"""
import ast
import hashlib
import importlib.util
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tokenize
import zipfile

import pytest

from compat_reg.migrate.cli import main

from .test_idiom_projects import _CONTRIB
from .test_idiom_sites import IDIOM_CODES

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "real_tf1")
# the idiom call spellings the lister flags (issue 25's idioms 1-6)
CALLS = {"add_to_collection", "add_to_collections", "get_collection", "get_collection_ref",
         "get_regularization_loss", "get_regularization_losses", "add_loss",
         "get_total_loss", "get_losses", "trainable_variables", "global_variables",
         "all_variables", "model_variables"}
# contrib's factories, named as an attribute, called or not (slim.l2_regularizer)
FACTORIES = {"l1_regularizer", "l2_regularizer", "l1_l2_regularizer", "sum_regularizer",
             "apply_regularization"}
# "LINE code" (the code: an idiom note's, or rw:<kind> for an exact rewrite)
_ITEM = re.compile(r"^\s*(\d+)\s+(\S+)")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def _lines(cell):
    """{line: {code}} of a README cell of "LINE code (why)" items."""
    found = {}
    for item in cell.split(";"):
        match = _ITEM.match(item)
        if match:
            found.setdefault(int(match.group(1)), set()).add(match.group(2))
    return found


def _table():
    """file (its path in the archive) -> its README row: package, archive,
    the two sha256, and sites {line: {code}}, missed and not sites {line}."""
    with open(os.path.join(DATA, "README.md"), encoding="utf-8") as f:
        rows = [line for line in f.read().splitlines() if line.startswith("| ")]
    header = [c.strip() for c in rows[0].strip("|").split("|")]
    table = {}
    for row in rows[2:]:
        cells = dict(zip(header, (c.strip() for c in row.strip("|").split("|"))))
        assert _SHA256.match(cells["archive sha256"]) and _SHA256.match(cells["file sha256"])
        assert re.match(r"^[\w.-]+==[\w.]+$", cells["package"]), cells["package"]
        assert cells["archive"].endswith(".whl"), cells["archive"]  # no setup.py is run
        table[cells["file"]] = dict(
            cells, sites=_lines(cells["sites"]), missed=set(_lines(cells["missed"])),
            not_sites=set(_lines(cells["not sites"])))
    return table


TABLE = _table()
ARCHIVES = {(row["package"], row["archive"], row["archive sha256"]) for row in TABLE.values()}


def _listed(text):
    """Lines whose code (not comments, not strings) spells an idiom call:
    a call named in CALLS, REGULARIZATION_LOSSES, a contrib factory named
    as an attribute (called or bound), an arg_scope given a *regularizer= other than None."""
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
                name in FACTORIES and before == "."):
            lines.add(line)
            inside.update(arguments(i))
        elif name == "REGULARIZATION_LOSSES":
            lines.add(line)
        elif name == "arg_scope" and after == "(" and any(
                tokens[j].string.endswith("regularizer") and tokens[j + 1].string == "="
                and tokens[j + 2].string != "None" for j in arguments(i)):
            lines.add(line)
    return lines


def _parses(code):
    try:
        ast.parse(code)
    except SyntaxError:
        return False
    return True


def _code_only(text):
    """The names and operators of the code, without comments and strings
    (docstrings name contrib's regularizers), a space between two names."""
    code, last = "", None
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type in (tokenize.NAME, tokenize.OP):
            code += (" " if tok.type == last == tokenize.NAME else "") + tok.string
            last = tok.type
    return code


def _sha256(data):
    return hashlib.sha256(data).hexdigest()


def _pip():
    """The command that runs pip: this interpreter's, else the one on PATH
    (a tox env may have no pip of its own; wheels are fetched, not built)."""
    if importlib.util.find_spec("pip") is not None:
        return [sys.executable, "-m", "pip"]
    found = shutil.which("pip3") or shutil.which("pip")
    return [found] if found else None


def _unreachable(why):
    message = "the package registry could not be reached for the real TF1 files: " + why
    if os.environ.get("CI"):
        pytest.fail(message + " (CI is set: this check must run)")
    pytest.skip(message)


def _fetch(cache, package, archive, sha256):
    """The bytes of the pinned archive: from the cache, or pip download."""
    path = os.path.join(cache, archive)
    if not os.path.exists(path):
        pip = _pip()
        if pip is None:
            _unreachable("no pip")
        run = subprocess.run(
            pip + ["download", "--no-deps", "--only-binary", ":all:", "--dest", cache,
                   "--quiet", "--disable-pip-version-check", package],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
            timeout=600)
        if run.returncode or not os.path.exists(path):
            _unreachable("pip download %s -> %s: %s" % (
                package, run.returncode, run.stdout.strip()[-400:]))
    with open(path, "rb") as f:
        data = f.read()
    assert _sha256(data) == sha256, (archive, "not the pinned archive")
    return data


@pytest.fixture(scope="session")
def sources(tmp_path_factory):
    """file (as in the README) -> its bytes, out of the pinned archives."""
    cache = os.environ.get("COMPAT_REG_CACHE") or str(tmp_path_factory.mktemp("real_tf1"))
    os.makedirs(cache, exist_ok=True)
    found = {}
    for package, archive, sha256 in sorted(ARCHIVES):
        with zipfile.ZipFile(io.BytesIO(_fetch(cache, package, archive, sha256))) as z:
            for path, row in TABLE.items():
                if row["archive"] == archive:
                    found[path] = z.read(path)
                    assert _sha256(found[path]) == row["file sha256"], path
    return found


def test_every_file_is_the_pinned_one_and_parses(sources):
    assert set(sources) == set(TABLE)
    for path, data in sources.items():
        assert _parses(data.decode("utf-8")), path


@pytest.mark.parametrize("path", sorted(TABLE))
def test_the_readme_lists_every_line_that_spells_an_idiom(path, sources):
    row = TABLE[path]
    parts = [set(row["sites"]), row["missed"], row["not_sites"]]
    assert sum(len(part) for part in parts) == len(set().union(*parts))   # disjoint
    assert _listed(sources[path].decode("utf-8")) == set().union(*parts)


def _tree(root, sources):
    for path, data in sources.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)


def _bytes(root, sources):
    return {path: (root / path).read_bytes() for path in sources}


def _report(root, capsys):
    """(exit code, report, {(file, line): {code}}) of one --json run: the
    idiom notes, and "rw:<kind>" for each site rewritten."""
    code = main([str(root), "--json"])
    report = json.loads(capsys.readouterr().out)
    found = {}
    for entry in report["files"]:
        path = os.path.relpath(entry["path"], str(root)).replace(os.sep, "/")
        for item in entry["findings"] + entry["sites"]:
            if item.get("code") in IDIOM_CODES:
                found.setdefault((path, item["line"]), set()).add(item["code"])
            elif "rewritten" in item and item["kind"] != "regularizer_argument":
                assert item["rewritten"], item
                found.setdefault((path, item["line"]), set()).add("rw:" + item["kind"])
    return code, report, found


def test_every_site_is_reported_or_rewritten_and_write_keeps_the_guarantees(
        tmp_path, capsys, sources):
    _tree(tmp_path, sources)
    expected = {(path, line): codes
                for path, row in TABLE.items() for line, codes in row["sites"].items()}
    code, report, found = _report(tmp_path, capsys)
    assert found == expected
    assert not {(path, line) for path, row in TABLE.items() for line in row["missed"]} & set(found)
    assert report["summary"]["error"] == 0
    rewritten = {path for path, row in TABLE.items()
                 if any(c.startswith("rw:") for codes in row["sites"].values() for c in codes)}
    assert code == (1 if rewritten else 0)

    before = _bytes(tmp_path, sources)
    assert main([str(tmp_path), "--check"]) == (1 if rewritten else 0)
    capsys.readouterr()
    assert _bytes(tmp_path, sources) == before              # --check never writes

    assert main([str(tmp_path), "--write"]) == 0
    out = capsys.readouterr()
    assert ": error:" not in out.err
    after = _bytes(tmp_path, sources)
    for path in sources:
        now = after[path].decode("utf-8")
        assert _parses(now), path                          # still parses
        assert not _CONTRIB.search(_code_only(now)), path  # 0 contrib references left
        if path in rewritten:
            assert after[path] != before[path], path
        else:
            assert after[path] == before[path], path       # byte for byte
    assert main([str(tmp_path), "--write"]) == 0
    assert "rewrote" not in capsys.readouterr().out
    assert _bytes(tmp_path, sources) == after              # idempotent
