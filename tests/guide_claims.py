"""Extract and run the fenced examples of migration_guide.md.

Used by tests/test_guide.py, and runnable by hand:

    PYTHONPATH=. python tests/guide_claims.py migration_guide.md [RESULTS.json]

runs every in-process block (all ```python blocks not marked
``<!-- subprocess -->``) section by section and prints one line per block.

Rules (also stated at the top of test_guide.py):

* the blocks of one ``## `` section share one namespace, in order; each
  section starts from an empty namespace;
* a block preceded by ``<!-- tf1-graph -->`` uses only ``tf.compat.v1``
  graph mode; on TF 1.x these are the only blocks run, each in a fresh
  namespace;
* a block preceded by ``<!-- subprocess -->`` runs alone in its own Python
  process (test_guide.py does that, not this module);
* a block preceded by ``<!-- keras-optimizer-api -->`` uses what only the
  Keras optimizer API of TF >= 2.11 / Keras 3 has (``weight_decay=``...);
  where ``_compat.KERAS_OPTIMIZER_API`` is false it is not run (skipped).
"""

from __future__ import absolute_import, division, print_function

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

    def __init__(self, lang, code, line, section, marker):
        self.lang = lang
        self.code = code
        self.line = line          # 1-based line of the opening fence
        self.section = section    # the "## " heading it is under
        self.marker = marker      # one of MARKERS, or None

    @property
    def id(self):
        return "line%d" % self.line

    def __repr__(self):
        return "Block(%s, %s, line %d, %r)" % (self.lang, self.marker,
                                               self.line, self.section)


def parse(path):
    """Every fenced block of the markdown file ``path``, in order."""
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
                                start, section, marker))
            marker = None
        elif line.strip():
            marker = None  # a marker applies to the block right after it
        i += 1
    return blocks


def python_blocks(path):
    return [b for b in parse(path) if b.lang == "python"]


def run_in_process(blocks, tf1=False, keras_optimizer_api=True):
    """Run ``blocks`` (not subprocess ones, nor ``keras-optimizer-api`` ones
    without that API); return ``{block id: error}`` where error is None on
    success or the traceback text.

    After a failure the rest of that section is reported as not run, since
    it may depend on the failed block.
    """
    results, namespaces, broken = {}, {}, {}
    for block in blocks:
        if block.marker == "subprocess":
            continue
        if block.marker == "keras-optimizer-api" and not keras_optimizer_api:
            continue
        if tf1 and block.marker != "tf1-graph":
            continue
        if tf1:
            namespace = {"__name__": "__guide__"}
        else:
            namespace = namespaces.setdefault(block.section,
                                              {"__name__": "__guide__"})
        if block.section in broken and not tf1:
            results[block.id] = "not run: block %s of this section failed" % (
                broken[block.section])
            continue
        try:
            code = compile(block.code, "migration_guide.md:%d" % block.line,
                           "exec")
            exec(code, namespace)
            results[block.id] = None
        except BaseException:  # report everything, SystemExit included
            results[block.id] = traceback.format_exc()
            broken[block.section] = block.id
    return results


def main(argv):
    path = argv[1]
    out = argv[2] if len(argv) > 2 else None
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from compat_reg import _compat
    tf1 = _compat.TF1
    results = run_in_process(python_blocks(path), tf1=tf1,
                             keras_optimizer_api=_compat.KERAS_OPTIMIZER_API)
    for block_id, error in sorted(results.items()):
        print("%s %s" % (block_id, "ok" if error is None else "FAILED"))
        if error:
            print(error)
    if out:
        with open(out, "w") as handle:
            json.dump(results, handle)
    return 1 if any(results.values()) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
