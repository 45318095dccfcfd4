"""``compat-reg migrate PATH... [--write | --check] [--target compat_reg|keras] [--json]``."""

import argparse
import gc
import json
import os
import sys
from typing import Any, Dict, List, Optional


DESCRIPTION = """\
Rewrite TF1 regularization code (tf.contrib.layers / slim / tf_slim
l1/l2/l1_l2/sum regularizers, apply_regularization, and reads of the
REGULARIZATION_LOSSES collection) so that TF2 computes the same penalties.
Every import style is followed (tf.contrib.layers.X, slim aliases,
from-imports and re-exports, tf.compat.v1 spellings); names that only look
alike are left alone. tf_upgrade_v2's `tf.keras.regularizers.l2(l=...)`
(a TypeError on Keras 3) becomes `l2(l2=...)`, without halving again.
The other TF1 regularization idioms, which have no exact rewrite, are
reported at the site with the exact fix (see the notes below).
The code is read with CPython's own parser and edited in place: text the
tool does not change is kept byte for byte. It is never imported or run.
Files: *.py and Jupyter notebooks (*.ipynb, nbformat 4 and 3: code cells
only; IPython lines (%magic, !shell, obj?) left as they are; a cell magic
whose body is not Python (%%bash, %%html...) is left as it is, and a
%%writefile x.py body is migrated as a module of its own: its imports
go into it).

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
  PATH:LINE: hazard[CODE]: why   what the tool cannot fix: penalty-never-added
                                 (decided over the whole run), fit-double-count,
                                 integer-scale, weights-collection
  PATH:LINE: note[CODE]: what    what to pass (pass-source), or what still
                                 stands between the file and a TF2 run, with
                                 the fix: graph-mode, tf-layers, other-contrib,
                                 keras-layers-collection, update-ops, adamw;
                                 TF1 idioms that lose or corrupt the penalty
                                 under eager execution (the fix names
                                 compat_reg's helper): loss-collection (an add
                                 to, or a read of, 'losses' or a collection of
                                 the user's, paired across the files of the
                                 run), manual-add (to REGULARIZATION_LOSSES),
                                 collection-read (through a graph),
                                 get-total-loss, weight-decay (over
                                 tf.trainable_variables() and kin),
                                 arg-scope (slim), half-l2 (a Keras l2(s)
                                 where the run has s * tf.nn.l2_loss(w)),
                                 contrib-accessor (contrib's factory through
                                 a project's accessor of contrib);
                                 in a notebook, cell-not-python and
                                 cell-not-parsed (a hazard when the cell
                                 mentions regularization): that cell is left
                                 as it is, the others are migrated
  NB.ipynb:cell N:line M: ...    the same, in a notebook's code cell
  PATH: error: why               does not parse (and names regularization),
                                 binary, not UTF-8, unreadable file or
                                 directory, symlink loop: left untouched
  PATH: skipped: why             not a regular file (FIFO...), or a symlink
                                 out of the tree: never opened; or does not
                                 parse (Python 2) and names no regularizer:
                                 the idiom calls it holds are named
  Without --write a unified diff is printed on stdout and nothing is written;
  from the same directory, `patch -p0 < DIFF` or `git apply DIFF` applies it.
  --write replaces each changed file atomically (owner, group and mode
  kept). A second run changes nothing.

exit codes:
  0    nothing left to change and no hazards
  1    changes found (dry run), or hazards reported
  2    errors (files that could not be read or parsed), or bad usage
  130  interrupted (Ctrl-C): the summary says what was done until then
  With --check (a dry run for pre-commit and CI): 1 only when a file still
  holds code with an exact rewrite; notes and hazards are reported but do
  not fail it (a commit hands the hook only some files, so findings decided
  over the whole run, such as penalty-never-added, are not reliable there).

pre-commit (.pre-commit-hooks.yaml in this repository):
  - repo: <this repository>
    rev: <a tag>
    hooks:
      - id: compat-reg-migrate      # runs `compat-reg migrate --check FILE...`
"""

_PROGRESS_MIN_FILES = 200
# Bytes that say a file reads the penalties or leaves TF2 behaviour, for
# the run-level findings, in files that are not parsed (no regularizer).
_FACT_BYTES = {
    "consumes": (b".losses", b"add_loss", b".fit(", b".fit_generator(",
                 b".train_on_batch(", b"get_total_loss", b".compile("),
    "leaves_v2": (b"disable_v2_behavior", b"disable_eager_execution"),
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="compat-reg migrate", description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="+", metavar="PATH",
                        help="files, or directories to search for *.py and *.ipynb")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true",
                      help="rewrite the files in place (default: print a diff)")
    mode.add_argument("--check", action="store_true",
                      help="print the diff, write nothing, and exit 1 only when a "
                      "file still holds code with an exact rewrite (the pre-commit "
                      "hook; see 'exit codes' above)")
    parser.add_argument("--target", choices=("compat_reg", "keras"),
                        default="compat_reg", help="see 'targets' above")
    parser.add_argument("--json", action="store_true",
                        help="print a machine-readable report on stdout")
    return parser


# What the idioms without the word hold (cifar10's `tf.add_to_collection(
# 'losses', wd * tf.nn.l2_loss(var))`, a weight decay over the variables).
_IDIOM_BYTES = (b"l2_loss", b"add_to_collection", b"get_collection",
                b"get_total_loss", b"get_losses", b"add_loss", b"_variables(")


def _byte_facts(data: bytes) -> Dict[str, bool]:
    """The run-level facts of a file that is not parsed."""
    return {fact: any(b in data for b in needles) for fact, needles in _FACT_BYTES.items()}


def worth_parsing(data: bytes) -> bool:
    """The cheap scan: only files that may hold a site are parsed."""
    # here, not at the top: `migrate --help` runs on Python 3.6 (it says
    # migrate needs 3.9), and _source uses 3.7+ syntax
    from compat_reg.migrate._source import mentions_regularization
    return mentions_regularization(data) or any(b in data for b in _IDIOM_BYTES)


def process(path: str, target: str, write: bool, diff: bool = True) -> Dict[str, Any]:
    """Everything about one file, as it goes into the --json report."""
    from compat_reg.migrate import _diff, _files
    from compat_reg.migrate._source import (
        NOTHING, Source, detect_encoding, mentions_regularization)
    entry: Dict[str, Any] = {"path": path, "status": "unchanged",
                             "findings": [], "sites": []}
    try:
        data = _files.read(path)
        notebook = path.endswith(".ipynb")
        if not notebook:
            _files.check_python(data)
    except _files.Skip as e:
        entry.update(status="skipped", reason=str(e))
        return entry
    except _files.FileError as e:
        entry.update(status="error", error=str(e))
        return entry
    if not worth_parsing(data):
        entry.update(status="skipped", facts=_byte_facts(data))
        return entry
    where = None
    try:
        if notebook:
            from compat_reg.migrate._notebook import migrate_notebook
            new, result, where = migrate_notebook(data, target, path)
        else:
            from compat_reg.migrate._core import migrate_source
            result = migrate_source(data, target, path)
            new = result.source
    except _files.FileError as e:
        entry.update(status="error", error=str(e))
        return entry
    except SyntaxError as e:
        why = "does not parse (Python 2 code?): %s @ %s:%s" % (e.msg, e.lineno, e.offset)
        if mentions_regularization(data):
            entry.update(status="error", error=why)
        else:
            # no regularizer to rewrite, as before the idioms were looked
            # for: skipped, and the idiom calls it holds named
            entry.update(status="skipped", facts=_byte_facts(data), reason=(
                "%s; it names no regularizer, but holds %s: TF1 idioms there "
                "are looked at once it is Python 3" % (why, ", ".join(
                    b.decode().replace("_variables(", "*_variables()")
                    for b in _IDIOM_BYTES if b in data))))
        return entry
    except (RecursionError, MemoryError):
        entry.update(status="error", error="too deeply nested for CPython's parser")
        return entry
    except Exception as e:  # noqa: BLE001 - one file's failure is its own
        entry.update(status="error", error="internal error, left untouched "
                     "(please report): %s: %s" % (type(e).__name__, e))
        return entry
    entry["facts"] = result.facts
    entry["findings"] = [dict(line=f.line, kind=f.kind, code=f.code, message=f.message,
                              **({"pair": f.pair} if f.pair else {}))
                         for f in result.findings]
    entry["sites"] = [dict(line=s.line, kind=s.kind, name=s.name, rewritten=s.rewritten)
                      for s in result.sites]
    if where is not None:
        for item in entry["findings"] + entry["sites"]:
            item["cell"], item["line"] = where[item["line"]]
    if not result.changed:
        return entry
    if not notebook:
        try:
            Source(new, path, relevant=NOTHING)  # CPython's verdict, no AST kept
        except (SyntaxError, ValueError, RecursionError, MemoryError) as e:
            entry.update(status="error", error="rewritten code would not compile "
                         "(%s); left untouched, please report" % e)
            return entry
    if diff:
        if notebook:
            encoding = "utf-8"
            old, changed = (_diff.lines(d.decode(encoding)) for d in (data, new))
            codes = _diff.matched(old, changed)
        else:
            encoding = detect_encoding(data)
            old = _diff.lines(result.text)
            changed, codes = _diff.from_changes(old, result.changes)
        entry["diff"] = _diff.header(path) + "".join(_diff.unified(old, changed, codes))
        entry["encoding"] = encoding
    entry["status"] = "changed"
    if write:
        try:
            _files.write_atomic(path, new)
        except OSError as e:
            entry.update(status="error", error="cannot write: %s" % e)
            return entry
        entry["status"] = "written"
    return entry


def _files_of(paths: List[str], entries: List[Dict[str, Any]]) -> List[str]:
    from compat_reg.migrate import _files
    files, seen = [], set()
    for path, problem in _files.discover(paths):
        if problem:
            kind, _, why = problem.partition(": ")
            entries.append({"path": path, "status": "error" if kind == "error"
                            else "skipped", "error" if kind == "error" else "reason": why,
                            "findings": [], "sites": []})
            continue
        key = os.path.realpath(path)
        if key not in seen:
            seen.add(key)
            files.append(path)
    return files


def main(argv: Optional[List[str]] = None) -> int:
    args = _parser().parse_args(argv)
    if sys.version_info < (3, 9):
        print("compat-reg migrate: needs Python >= 3.9 (CPython's ast end "
              "positions); run it with a newer Python, the code it rewrites "
              "may target any", file=sys.stderr)
        return 2
    # Syntax trees are millions of small objects and make no reference
    # cycles: the cyclic collector would walk them again and again (a third
    # of the time on a 5 MB module) for nothing. Plain reference counting
    # frees each module's tree when it is done.
    gc.disable()
    entries: List[Dict[str, Any]] = []
    interrupted = False
    try:
        files = _files_of(args.paths, entries)
        progress = (sys.stderr.isatty() and not args.json
                    and len(files) >= _PROGRESS_MIN_FILES)
        for index, path in enumerate(files, 1):
            entries.append(process(path, args.target, args.write,
                                   diff=args.json or not args.write))
            if index % 200 == 0:
                gc.collect()  # the odd cycle (a caught exception's frames)
            if progress and (index % 50 == 0 or index == len(files)):
                sys.stderr.write("\rcompat-reg migrate: %d/%d files" % (index, len(files)))
                sys.stderr.flush()
        if progress:
            sys.stderr.write("\n")
    except KeyboardInterrupt:
        interrupted = True
    try:
        return _report(args, entries, interrupted)
    except BrokenPipeError:
        # the reader went away (``| head``): say nothing more
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return 130 if interrupted else _code(entries, args.check)


def _code(entries: List[Dict[str, Any]], check: bool = False) -> int:
    if any(e["status"] == "error" for e in entries):
        return 2
    if any(e["status"] == "changed" for e in entries) or (not check and any(
            f["kind"] == "hazard" for e in entries for f in e["findings"])):
        return 1
    return 0


def _report(args, entries: List[Dict[str, Any]], interrupted: bool) -> int:
    from compat_reg.migrate._findings import run_level, where
    run_level(entries)
    count = {s: sum(e["status"] == s for e in entries)
             for s in ("changed", "written", "error", "skipped")}
    hazards = sum(f["kind"] == "hazard" for e in entries for f in e["findings"])
    code = 130 if interrupted else _code(entries, args.check)
    summary = dict(files=len(entries), parsed=len(entries) - count["skipped"]
                   - count["error"], hazards=hazards, **count)
    if args.json:
        for e in entries:
            e.pop("facts", None)
            e.pop("encoding", None)
        json.dump(dict(format="compat-reg-migrate/1", target=args.target,
                       write=args.write, check=args.check, exit_code=code, interrupted=interrupted,
                       summary=summary,
                       files=[e for e in entries if e["status"] != "skipped"
                              or e["findings"] or e.get("reason")]),
                  sys.stdout, indent=2)
        sys.stdout.write("\n")
        sys.stdout.flush()
        return code
    from compat_reg.migrate._diff import encode
    out = getattr(sys.stdout, "buffer", None)
    for e in entries:
        if e["status"] == "changed":
            if out is None:  # a text-only stream
                sys.stdout.write(e["diff"])
                continue
            sys.stdout.flush()
            out.write(encode(e["diff"], e["path"], e["encoding"]))
            out.flush()
        elif e["status"] == "written":
            sys.stdout.write("rewrote %s\n" % e["path"])
    sys.stdout.flush()
    for e in entries:
        if e["status"] == "error":
            print("%s: error: %s" % (e["path"], e["error"]), file=sys.stderr)
        elif e.get("reason"):
            print("%s: skipped: %s" % (e["path"], e["reason"]), file=sys.stderr)
        for f in e["findings"]:
            print("%s: %s[%s]: %s" % (where(e, f), f["kind"], f["code"], f["message"]),
                  file=sys.stderr)
    print("compat-reg migrate: %s%d files, %d to change, %d rewritten, %d hazards, "
          "%d errors" % ("interrupted after " if interrupted else "", summary["files"],
                         count["changed"], count["written"], hazards, count["error"]),
          file=sys.stderr)
    return code
