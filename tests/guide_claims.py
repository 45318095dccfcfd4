"""Extract and run the fenced examples of migration_guide.md.

Used by tests/test_guide.py, and runnable by hand:

    PYTHONPATH=. python tests/guide_claims.py migration_guide.md \
        docs/proving_parity.md [--out RESULTS.json]

runs every in-process block (all ```python blocks not marked
``<!-- subprocess -->``) of those files, in order, and prints one line per
block with what it printed.

Rules (also stated at the top of test_guide.py):

* every block stands alone: it runs in a fresh namespace, so it has its own
  imports and runs as pasted; what it prints is recorded, and a block that
  prints nothing fails (success must not be silence);
* a block preceded by ``<!-- tf1-graph -->`` uses only ``tf.compat.v1``
  graph mode; on TF 1.x these are the only blocks run;
* a block preceded by ``<!-- subprocess -->`` runs alone in its own Python
  process (test_guide.py does that, not this module);
* a block preceded by ``<!-- keras-optimizer-api -->`` uses what only the
  Keras optimizer API of TF >= 2.11 / Keras 3 has (``weight_decay=``...);
  where ``_compat.KERAS_OPTIMIZER_API`` is false it is not run (skipped).
"""

from __future__ import absolute_import, division, print_function

import contextlib
import io
import json
import os
import re
import sys
import traceback

MARKERS = ("tf1-graph", "subprocess", "keras-optimizer-api")
_FENCE = re.compile(r"^```(\w*)\s*$")
_MARKER = re.compile(r"^<!--\s*([\w-]+)\s*-->\s*$")


class Block(object):
    """One fenced code block of the guide."""

    def __init__(self, lang, code, line, section, marker, source="migration_guide.md"):
        self.source = source      # the markdown file, relative to the repository
        self.lang = lang
        self.code = code
        self.line = line          # 1-based line of the opening fence
        self.section = section    # the "## " heading it is under
        self.marker = marker      # one of MARKERS, or None

    @property
    def id(self):
        if self.source == "migration_guide.md":
            return "line%d" % self.line
        return "%s-line%d" % (os.path.splitext(os.path.basename(self.source))[0], self.line)

    def __repr__(self):
        return "Block(%s, %s, line %d, %r)" % (self.lang, self.marker,
                                               self.line, self.section)


def parse(path, source=None):
    """Every fenced block of the markdown file ``path``, in order; ``source``
    names the file in block ids and tracebacks (default: its base name)."""
    source = source or os.path.basename(path)
    with open(path) as handle:
        lines = handle.read().splitlines()
    blocks, section, marker = [], "", None
    i = 0
    while i < len(lines):
        line = lines[i]
        fence = _FENCE.match(line)
        if line.startswith("## "):
            section = line[3:].strip()
        elif _MARKER.match(line):
            name = _MARKER.match(line).group(1)
            if name in MARKERS:
                marker = name
        elif fence:
            start, body = i + 1, []
            i += 1
            while i < len(lines) and lines[i].rstrip() != "```":
                body.append(lines[i])
                i += 1
            blocks.append(Block(fence.group(1), "\n".join(body) + "\n",
                                start, section, marker, source))
            marker = None
        elif line.strip():
            marker = None  # a marker applies to the block right after it
        i += 1
    return blocks


def python_blocks(path, source=None):
    return [b for b in parse(path, source) if b.lang == "python"]


def run_in_process(blocks, tf1=False, keras_optimizer_api=True):
    """Run ``blocks`` (not subprocess ones, nor ``keras-optimizer-api`` ones
    without that API), each in a fresh namespace; return ``{block id:
    {"error": None or the traceback text, "output": what it printed}}``.
    """
    results = {}
    for block in blocks:
        if block.marker == "subprocess":
            continue
        if block.marker == "keras-optimizer-api" and not keras_optimizer_api:
            continue
        if tf1 and block.marker != "tf1-graph":
            continue
        namespace = {"__name__": "__guide__"}
        printed = io.StringIO()
        error = None
        try:
            code = compile(block.code, "%s:%d" % (block.source, block.line),
                           "exec")
            with contextlib.redirect_stdout(printed):
                exec(code, namespace)
        except BaseException:  # report everything, SystemExit included
            error = traceback.format_exc()
        results[block.id] = {"error": error, "output": printed.getvalue()}
    return results


def main(argv):
    args, out = list(argv[1:]), None
    if "--out" in args:
        out = args[args.index("--out") + 1]
        del args[args.index("--out"):args.index("--out") + 2]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from compat_reg import _compat
    blocks = []
    for path in args:
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        blocks += python_blocks(path, os.path.relpath(os.path.abspath(path), root))
    results = run_in_process(blocks, tf1=_compat.TF1,
                             keras_optimizer_api=_compat.KERAS_OPTIMIZER_API)
    for block_id, result in sorted(results.items()):
        print("%s %s" % (block_id, "ok" if result["error"] is None else "FAILED"))
        for line in result["output"].splitlines():
            print("    " + line)
        if result["error"]:
            print(result["error"])
    if out:
        with open(out, "w") as handle:
            json.dump(results, handle)
    return 1 if any(r["error"] or not r["output"].strip()
                    for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
