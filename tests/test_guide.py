"""migration_guide.md and its appendices, docs/proving_parity.md and
docs/migration_details.md, are checked by running them.

How the examples run (the helper is tests/guide_claims.py):

* Every ```python block is executed, each in a fresh namespace: a block
  stands alone (its own imports) and runs as pasted. A block must print
  something (the number it talks about): a block that prints nothing fails,
  so success is never silence. All in-process blocks run in ONE child
  Python process (started once per test session), so the guide's global
  changes (``compat_reg.install()``, a mixed-precision policy, seeds) never
  leak into the rest of the suite, and the suite's state (thread settings,
  op determinism) never leaks into the guide. Each block is then one test
  here.
* ``<!-- tf1-graph -->`` before a block: it uses only ``tf.compat.v1`` graph
  mode inside ``with tf.Graph().as_default():``. On TF 1.x only these blocks
  run (each in a fresh namespace); on TF2 they run with their section.
* ``<!-- subprocess -->`` before a block: it runs alone in its own Python
  process (it sets logical devices or process-wide determinism).
* ``<!-- keras-optimizer-api -->`` before a block: it uses what only the
  Keras optimizer API of TF >= 2.11 / Keras 3 has (``weight_decay=``); it is
  skipped on TF 1.x and TF 2.0-2.10.
* ```sh blocks are not executed, but every ``compat-reg ...`` command the
  guide names must exist (``--help`` exits 0).
* Every relative link must resolve, and a link whose text names a test
  function must point at a file that defines it.

Runs in about a minute: one child process for the in-process blocks, one
per subprocess block (~7-10 s each).
"""

import json
import os
import re
import subprocess
import sys

import pytest

import guide_claims

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GUIDE = os.path.join(ROOT, "migration_guide.md")
APPENDIX = os.path.join(ROOT, "docs", "proving_parity.md")
DETAILS = os.path.join(ROOT, "docs", "migration_details.md")
DOCS = (GUIDE, APPENDIX, DETAILS)
GUIDE_BLOCKS = guide_claims.parse(GUIDE, "migration_guide.md")
BLOCKS = (GUIDE_BLOCKS + guide_claims.parse(APPENDIX, "docs/proving_parity.md")
          + guide_claims.parse(DETAILS, "docs/migration_details.md"))
PYTHON = [b for b in BLOCKS if b.lang == "python"]


def _text(path):
    with open(path) as handle:
        return handle.read()

try:
    import tensorflow as tf
    from compat_reg import _compat
    TF1 = _compat.TF1
    KERAS_OPTIMIZER_API = _compat.KERAS_OPTIMIZER_API
    # the guide is written for TF >= 2.4: tf.keras.regularizers.L1/L2 (2.3),
    # tf.config.list_physical_devices (2.1), mixed_precision.set_global_policy (2.4)
    GUIDE_APIS = _compat.TF1 or _compat.TF_VERSION >= (2, 4)
    COMPAT_V1 = _compat.v1 is not tf  # tf.compat.v1 came in TF 1.13
    from golden_support import tf_slim
    TF_SLIM = tf_slim() is not None  # tf_slim 1.1 needs TF >= 1.14
except ImportError:  # pragma: no cover
    tf = None
    TF1 = False
    KERAS_OPTIMIZER_API = True
    GUIDE_APIS = True
    COMPAT_V1 = True
    TF_SLIM = True


def _env():
    paths = [ROOT] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    return dict(os.environ, PYTHONPATH=os.pathsep.join(paths),
                TF_CPP_MIN_LOG_LEVEL="2")


@pytest.fixture(scope="module")
def in_process_results(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("guide") / "results.json")
    proc = subprocess.run(
        [sys.executable, os.path.join(ROOT, "tests", "guide_claims.py")] + list(DOCS)
        + ["--out", out],
        env=_env(), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        universal_newlines=True, timeout=600)
    if not os.path.exists(out):
        pytest.fail("guide runner crashed:\n" + proc.stdout[-3000:] + proc.stderr[-3000:])
    with open(out) as handle:
        return json.load(handle)


def _runs_here(block):
    if block.marker == "subprocess":
        return not TF1
    return block.marker == "tf1-graph" or not TF1


@pytest.mark.parametrize("block", PYTHON, ids=[b.id for b in PYTHON])
def test_python_block_runs(block, in_process_results):
    if not _runs_here(block):
        pytest.skip("TF2 example; on TF 1.x only <!-- tf1-graph --> blocks run")
    if not GUIDE_APIS:
        pytest.skip("the guide's TF2 examples use APIs of TF >= 2.4 (tf.keras.regularizers."
                    "L1/L2 classes, tf.config.list_physical_devices, mixed_precision "
                    "policies)")
    if "tf.compat.v1" in block.code and not COMPAT_V1:
        pytest.skip("the block spells tf.compat.v1, which came in TF 1.13")
    if "import tf_slim" in block.code and not TF_SLIM:
        pytest.skip("the block imports tf_slim, which needs TF >= 1.14")
    if block.marker == "keras-optimizer-api" and not KERAS_OPTIMIZER_API:
        pytest.skip("needs the Keras optimizer API of TF >= 2.11 (weight_decay=)")
    if block.marker == "subprocess":
        proc = subprocess.run([sys.executable, "-c", block.code], env=_env(), cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, timeout=300)
        assert proc.returncode == 0, (
            "%s:%d failed:\n%s" % (block.source, block.line, proc.stderr[-4000:]))
        assert proc.stdout.strip(), "%s:%d printed nothing" % (block.source, block.line)
        return
    assert block.id in in_process_results, "block was not run"
    result = in_process_results[block.id]
    assert result["error"] is None, "%s:%d failed:\n%s" % (
        block.source, block.line, result["error"])
    assert result["output"].strip(), "%s:%d printed nothing" % (block.source, block.line)


def test_every_example_checks_itself():
    """Examples assert their numbers, so a stated number that stops being
    true fails the suite, and print them, so a reader sees it."""
    assert len(PYTHON) >= 15
    for block in PYTHON:
        assert "assert" in block.code, "%s:%d asserts nothing" % (block.source, block.line)
        assert "print(" in block.code, "%s:%d prints nothing" % (block.source, block.line)


def test_every_example_stands_alone():
    """Each block runs in a fresh namespace, so it imports what it uses."""
    imports = {"np": r"^import numpy as np$", "tf": r"^import tensorflow as tf$"}
    for block in PYTHON:
        for name, statement in imports.items():
            if re.search(r"\b%s\." % name, block.code):
                assert re.search(statement, block.code, re.M), (
                    "%s:%d uses %s without importing it" % (block.source, block.line, name))


def test_tf1_graph_blocks_build_their_own_graph():
    tf1_blocks = [b for b in PYTHON if b.marker == "tf1-graph"]
    assert len(tf1_blocks) >= 3
    for block in tf1_blocks:
        assert ".as_default()" in block.code, block
        assert "tf.compat.v1" in block.code, block


def test_markers_are_known_and_attached():
    """Each marker line is a known marker and sits right before a block."""
    lines = [line for path in DOCS for line in _text(path).splitlines()]
    markers = [line.strip()[4:-3].strip() for line in lines
               if re.match(r"^<!--\s*[\w-]+\s*-->\s*$", line)]
    for name in markers:
        assert name in guide_claims.MARKERS, name
    for name in guide_claims.MARKERS:
        assert markers.count(name) == sum(b.marker == name for b in BLOCKS), name


# -- commands ---------------------------------------------------------------

def _commands():
    """(subcommand, sub-subcommand or None) of every `compat-reg ...` named."""
    text = "".join(_text(path) for path in DOCS)
    found = set()
    for match in re.finditer(r"compat-reg ([a-z]+)(?: ([a-z]+))?", text):
        sub, subsub = match.group(1), match.group(2)
        if sub == "parity" and subsub not in ("run", "record", "compare", "replay"):
            subsub = None
        if sub != "parity":
            subsub = None
        found.add((sub, subsub))
    return sorted(found, key=lambda c: (c[0], c[1] or ""))


COMMANDS = _commands()


def test_guide_names_the_commands():
    subs = set(sub for sub, _ in COMMANDS)
    assert {"check", "parity", "migrate"} <= subs, COMMANDS
    assert {s for _, s in COMMANDS if s} == {"run", "record", "compare", "replay"}


@pytest.mark.parametrize("sub,subsub", COMMANDS, ids=["%s-%s" % c for c in COMMANDS])
def test_command_exists(sub, subsub, capsys):
    if sub == "migrate" and sys.version_info < (3, 9):
        pytest.skip("compat-reg migrate needs Python >= 3.9")
    from compat_reg import cli
    argv = [sub] + ([subsub] if subsub else []) + ["--help"]
    try:
        code = cli.main(argv)
    except SystemExit as done:
        code = done.code
    assert code == 0, argv
    assert capsys.readouterr().out.strip()


def test_parity_options_in_the_guide_exist(capsys):
    """--plot, --optimizers keras, --port NAME, --backend, --workload."""
    from compat_reg import cli
    assert cli.main(["parity", "run", "--help"]) == 0
    text = capsys.readouterr().out
    for option in ("--plot", "--optimizers", "--port", "--backend", "--workload", "--all"):
        assert option in text
    for port in ("l2-unhalved", "no-penalty", "fit-double", "adam-eps-default", "fresh-init"):
        assert port in text
        assert port in _text(APPENDIX)


# -- links and figures --------------------------------------------------------

README = os.path.join(ROOT, "tests", "README.md")


def _prose(path):
    """The file's text without its fenced code (code is not links)."""
    return re.sub(r"^```.*?^```", "", _text(path), flags=re.M | re.S)


LINKS = [(path, text, target, anchor) for path in DOCS + (README,) for text, target, anchor
         in re.findall(r"\[([^\]]+)\]\(([^)#\s]*)(#[^)]*)?\)", _prose(path))]


def _slug(heading):
    heading = heading.lower().replace("`", "")
    return re.sub(r"[^\w\- ]", "", heading).replace(" ", "-")


def _anchors(path):
    return set(_slug(h) for h in re.findall(r"^##+ (.+)$", _text(path), re.M))


def test_links_resolve():
    """Relative links resolve from the file that holds them; a link whose
    text names a test function points at a file that defines it; anchors
    name a heading of the file they point at."""
    local = [link for link in LINKS if "://" not in link[2]]
    assert len(local) >= 30
    for path, text, target, anchor in local:
        where = os.path.normpath(os.path.join(os.path.dirname(path), target)) if target else path
        assert os.path.exists(where), (path, target)
        name = text.strip("`").split("::")[-1]
        if re.match(r"^test_\w+$", name) and target.endswith(".py"):
            assert re.search(r"^\s*def %s\(" % name, _text(where), re.M), (
                "%s does not define %s" % (target, name))
        if anchor and where.endswith(".md"):
            assert anchor[1:] in _anchors(where), (path, target + anchor)


def test_the_guide_leaves_its_tests_to_tests_readme():
    """The guide is for the migrating team: no "Tests:" lines and no links
    into tests/ but the TF1 records its blocks read; tests/README.md lists
    each numbered section's tests, linking the section."""
    guide = _prose(GUIDE)
    assert not re.search(r"^Tests:", guide, re.M)
    assert not re.search(r"\]\(tests/(?!data/)", guide)
    readme = _text(README)
    for heading in re.findall(r"^## (\d+\. .+)$", _text(GUIDE), re.M):
        if "](../migration_guide.md#%s)" % _slug(heading) not in readme:
            assert heading.startswith(("8.", "10.", "11.")), heading  # no test file of their own


@pytest.mark.parametrize("name", ["parity_sgd_l2.png", "parity_sgd_none.png"])
def test_figures_are_committed_pngs(name):
    path = os.path.join(ROOT, "docs", "figures", name)
    assert "](figures/" + name in _text(APPENDIX)
    with open(path, "rb") as handle:
        assert handle.read(8) == b"\x89PNG\r\n\x1a\n"


# -- claims about tf_upgrade_v2 -------------------------------------------------

TF1_SOURCE = '''\
import tensorflow as tf
w = tf.get_variable("w", [784, 10], regularizer=tf.contrib.layers.l2_regularizer(scale=0.01))
r1 = tf.contrib.layers.l1_regularizer(0.01)
r3 = tf.contrib.layers.l1_l2_regularizer(0.01, 0.02)
r4 = tf.contrib.layers.sum_regularizer([r1, r3])
p = tf.contrib.layers.apply_regularization(r1, [w])
loss = tf.losses.get_regularization_loss()
entries = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
'''


def test_tf_upgrade_v2_rewrites_as_documented(tmp_path):
    """Section 14's table: what TF's own upgrade script writes."""
    upgrade = os.path.join(os.path.dirname(sys.executable), "tf_upgrade_v2")
    if TF1 or not os.path.exists(upgrade):
        pytest.skip("tf_upgrade_v2 is not installed here")
    source, target = tmp_path / "tf1.py", tmp_path / "tf2.py"
    source.write_text(TF1_SOURCE)
    subprocess.run([upgrade, "--infile", str(source), "--outfile", str(target)],
                   check=True, cwd=str(tmp_path), stdout=subprocess.PIPE,
                   stderr=subprocess.PIPE, env=_env())
    out = target.read_text()
    assert "tf.keras.regularizers.l2(l=0.5 * (0.01))" in out
    assert "tf.keras.regularizers.l1(0.01)" in out
    for untouched in ("tf.contrib.layers.l1_l2_regularizer(0.01, 0.02)",
                      "tf.contrib.layers.sum_regularizer([r1, r3])",
                      "tf.contrib.layers.apply_regularization(r1, [w])"):
        assert untouched in out
    assert "tf.compat.v1.losses.get_regularization_loss()" in out
    assert "tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.REGULARIZATION_LOSSES)" in out
    report = open(GUIDE).read()
    assert "`tf.keras.regularizers.l2(l=0.5 * (0.01))`" in report
