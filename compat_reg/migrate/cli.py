"""``compat-reg migrate PATH... [--write] [--target compat_reg|keras] [--json]``."""
from __future__ import annotations

import argparse
import ast
import concurrent.futures
import functools
import difflib
import io
import json
import os
import sys
import tokenize
from typing import Any, Dict, List, Optional

from compat_reg.migrate import _files

DESCRIPTION = """\
Rewrite TF1 regularization code (tf.contrib.layers / slim / tf_slim
l1/l2/l1_l2/sum regularizers, apply_regularization, and reads of the
REGULARIZATION_LOSSES collection) so that TF2 computes the same penalties.
Every import style is followed (tf.contrib.layers.X, slim aliases,
from-imports, tf.compat.v1 spellings); names that only look alike are left
alone. The code is read as text: it is never imported or run.

targets:
  compat_reg  (default) the exact drop-in: compat_reg.l2_regularizer(...),
              arguments untouched; `import compat_reg` is added and contrib
              imports left unused are removed.
  keras       native Keras with contrib's arithmetic: l2_regularizer(0.01)
              -> keras.regularizers.L2(0.005), l2_regularizer(x) -> L2(0.5 * x),
              l1_l2 -> L1L2(l1=a, l2=0.5 * b), sums folded; a scope becomes a
              comment. Regularizers already in Keras convention are not touched.
              `keras` is tf.keras's Keras (`from tensorflow import keras` is
              added; tf_keras under TF_USE_LEGACY_KERAS=1), never a second
              one; where the file's `keras` is another (`import keras`), it
              is reached as tf.keras (or `from tensorflow import keras as
              tf_keras_api` when tensorflow is not imported).
  Both turn collection reads into compat_reg.get_regularization_loss(es)(...).

report (stderr; or --json on stdout):
  PATH:LINE: hazard[CODE]: why   what the tool cannot fix: penalty-never-added,
                                 fit-double-count, integer-scale,
                                 weights-collection
  PATH:LINE: note[CODE]: what    e.g. pass-source: what to pass under eager
  PATH: error: why               not parseable (Python 2?), binary, not UTF-8,
                                 unreadable, symlink loop: left untouched
  Without --write a unified diff is printed on stdout and nothing is written.
  --write replaces each changed file atomically (mode kept). A second run
  changes nothing.

exit codes:
  0  nothing left to change and no hazards
  1  changes found (dry run), or hazards reported
  2  errors (files that could not be read or parsed)
"""

_PROGRESS_MIN_FILES = 200
_PARALLEL_MIN_FILES = 100


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="compat-reg migrate", description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="+", metavar="PATH",
                        help="files, or directories to search for *.py")
    parser.add_argument("--write", action="store_true",
                        help="rewrite the files in place (default: print a diff)")
    parser.add_argument("--target", choices=("compat_reg", "keras"),
                        default="compat_reg", help="see 'targets' above")
    parser.add_argument("--json", action="store_true",
                        help="print a machine-readable report on stdout")
    return parser


def _relevant(data: bytes) -> bool:
    """The cheap scan: only files that mention regularization are parsed."""
    return b"egulariz" in data or b"EGULARIZ" in data


def _text(data: bytes) -> str:
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    return data.decode(encoding)


def process(path: str, target: str, write: bool) -> Dict[str, Any]:
    """Everything about one file, as it goes into the --json report."""
    entry: Dict[str, Any] = {"path": path, "status": "unchanged",
                             "findings": [], "sites": []}
    try:
        data = _files.read(path)
    except _files.FileError as e:
        entry.update(status="error", error=str(e))
        return entry
    if not _relevant(data):
        entry["status"] = "skipped"
        return entry
    from compat_reg.migrate._core import migrate_source  # libcst: on demand
    import libcst
    try:
        result = migrate_source(data, target)
    except libcst.ParserSyntaxError as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else ""
        entry.update(status="error",
                     error="does not parse (Python 2 code?): %s" % first)
        return entry
    except RecursionError:
        entry.update(status="error", error="too deeply nested to parse")
        return entry
    entry["findings"] = [dict(line=f.line, kind=f.kind, code=f.code,
                              message=f.message) for f in result.findings]
    entry["sites"] = [dict(line=s.line, kind=s.kind, name=s.name,
                           rewritten=s.rewritten) for s in result.sites]
    if not result.changed:
        return entry
    try:
        compile(result.source, path, "exec", ast.PyCF_ONLY_AST,
                dont_inherit=True)
    except (SyntaxError, ValueError) as e:
        entry.update(status="error",
                     error="rewritten code would not compile (%s); left "
                           "untouched, please report" % e)
        return entry
    before, after = _text(data), _text(result.source)
    entry["diff"] = "".join(difflib.unified_diff(
        before.splitlines(True), after.splitlines(True), path, path))
    entry["status"] = "changed"
    if write:
        try:
            _files.write_atomic(path, result.source)
        except OSError as e:
            entry.update(status="error", error="cannot write: %s" % e)
            return entry
        entry["status"] = "written"
    return entry


def main(argv: Optional[List[str]] = None) -> int:
    args = _parser().parse_args(argv)
    files, seen = [], set()
    for path, _ in _files.discover(args.paths):
        key = os.path.realpath(path)
        if key not in seen:
            seen.add(key)
            files.append(path)
    progress = (sys.stderr.isatty() and not args.json
                and len(files) >= _PROGRESS_MIN_FILES)
    entries = []
    work = functools.partial(process, target=args.target, write=args.write)
    pool = None
    if len(files) >= _PARALLEL_MIN_FILES and (os.cpu_count() or 1) > 1:
        pool = concurrent.futures.ProcessPoolExecutor()
        results = pool.map(work, files, chunksize=16)
    else:
        results = map(work, files)
    for index, entry in enumerate(results, 1):
        entries.append(entry)
        if progress and (index % 50 == 0 or index == len(files)):
            sys.stderr.write("\rcompat-reg migrate: %d/%d files"
                             % (index, len(files)))
            sys.stderr.flush()
    if progress:
        sys.stderr.write("\n")
    if pool is not None:
        pool.shutdown()

    count = {s: sum(e["status"] == s for e in entries)
             for s in ("changed", "written", "error", "skipped")}
    hazards = sum(f["kind"] == "hazard" for e in entries
                  for f in e["findings"])
    if count["error"]:
        code = 2
    elif hazards or count["changed"]:
        code = 1
    else:
        code = 0
    summary = dict(files=len(entries), parsed=len(entries) - count["skipped"]
                   - count["error"], hazards=hazards, **count)

    if args.json:
        json.dump(dict(format="compat-reg-migrate/1", target=args.target,
                       write=args.write, exit_code=code, summary=summary,
                       files=[e for e in entries if e["status"] != "skipped"
                              or e["findings"]]),
                  sys.stdout, indent=2)
        sys.stdout.write("\n")
        return code
    for e in entries:
        if e["status"] == "changed":
            sys.stdout.write(e["diff"])
        elif e["status"] == "written":
            print("rewrote %s" % e["path"])
    for e in entries:
        if e["status"] == "error":
            print("%s: error: %s" % (e["path"], e["error"]), file=sys.stderr)
        for f in e["findings"]:
            print("%s:%d: %s[%s]: %s" % (e["path"], f["line"], f["kind"],
                                         f["code"], f["message"]),
                  file=sys.stderr)
    print("compat-reg migrate: %(files)d files, %(changed)d to change, "
          "%(written)d rewritten, %(hazards)d hazards, %(error)d errors"
          % summary, file=sys.stderr)
    return code
