"""Imports stay at module top where nothing forces them down (issue 24).

An import inside a function hides coupling that reading the module's top
does not show. Some are forced: ``compat-reg --help``/``parity --help`` and
``compat_reg.parity.registry`` load no TensorFlow and no numpy
(tests/test_cli_no_tf.py), a parity worker sets its devices before
TensorFlow starts, matplotlib is optional, ``migrate`` needs Python >= 3.9.
Each such import says so on its line: a trailing ``# deferred: <why>``.
The walk is by ``ast`` over every module of ``compat_reg/`` but
``migrate/`` (Python >= 3.9 only: it does not parse on 3.6).

The loaders themselves are checked in subprocesses, as a user starts them:
what each leaves in ``sys.modules``.
"""
import ast
import io
import json
import os
import pathlib
import subprocess
import sys
import tokenize

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "compat_reg"
MARK = "# deferred:"


def undeferred(source):
    """``[(line, statement)]``: the imports inside a function (or a method,
    or a function in one) of ``source`` whose lines carry no
    ``# deferred: <why>`` comment (a reason after the colon)."""
    comments = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            comments[token.start[0]] = token.string
    lines = source.splitlines()
    found = []

    def walk(node, in_function):
        for child in ast.iter_child_nodes(node):
            if in_function and isinstance(child, (ast.Import, ast.ImportFrom)):
                last = getattr(child, "end_lineno", None) or child.lineno
                reasons = [comments.get(n, "").partition(MARK)[2].strip()
                           for n in range(child.lineno, last + 1)]
                if not any(reasons):
                    found.append((child.lineno, lines[child.lineno - 1].strip()))
            walk(child, in_function or isinstance(
                child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))

    walk(ast.parse(source), False)
    return found


def _modules():
    return sorted(p.relative_to(ROOT).as_posix() for p in PACKAGE.rglob("*.py")
                  if "migrate" not in p.relative_to(PACKAGE).parts)


@pytest.mark.parametrize("module", _modules())
def test_function_level_imports_say_what_defers_them(module):
    with open(str(ROOT / module), encoding="utf-8") as handle:
        found = undeferred(handle.read())
    assert not found, "%s: imports inside functions without '%s <why>' " \
        "(move them to the top, or say what forces them down):\n%s" % (
            module, MARK, "\n".join("  line %d: %s" % f for f in found))


# The checker on generated code: where the import is x how it is written x
# its comment. Flagged exactly when it is in a function and the comment does
# not give a reason after "# deferred:".
PLACES = {  # name -> (template with {import} at 4 spaces where indented, in a function)
    "module": ("{import}\n", False),
    "module_if": ("if True:\n    {import}\n", False),
    "class_body": ("class C(object):\n    {import}\n", False),
    "function": ("def f():\n    {import}\n", True),
    "method": ("class C(object):\n    def f(self):\n        {import}\n", True),
    "nested": ("def f():\n    def g():\n        {import}\n    return g\n", True),
    "function_try": ("def f():\n    try:\n        {import}\n"
                     "    except ImportError:\n        pass\n", True),
}
STATEMENTS = {  # name -> (first line, rest) of the import
    "import": ("import os.path as p{comment}", ""),
    "from": ("from os import path{comment}", ""),
    "parenthesized": ("from os import (path,{comment}", "sep)"),
}
COMMENTS = {"none": ("", False), "reason": ("  # deferred: a cycle", True),
            "empty_reason": ("  # deferred:", False),
            "other": ("  # noqa: F401", False)}


@pytest.mark.parametrize("comment", sorted(COMMENTS))
@pytest.mark.parametrize("statement", sorted(STATEMENTS))
@pytest.mark.parametrize("place", sorted(PLACES))
def test_the_checker_flags_exactly_unexplained_imports_in_functions(
        place, statement, comment):
    template, in_function = PLACES[place]
    first, rest = STATEMENTS[statement]
    text, explained = COMMENTS[comment]
    indent = template.split("{import}")[0].rsplit("\n", 1)[-1]
    code = first.format(comment=text) + ("\n" + indent + rest if rest else "")
    source = "x = 1\n" + template.replace("{import}", code)
    line = source.splitlines().index(indent + first.format(comment=text)) + 1
    want = [(line, first.format(comment=text))] if (
        in_function and not explained) else []
    assert undeferred(source) == want


# What a start must leave out of sys.modules: -c code run in a fresh Python.
PROBE = ("import json, sys\n{run}\nprint(json.dumps(sorted(m for m in "
         "('tensorflow', 'numpy', 'keras', 'tf_keras') if m in sys.modules)))")
STARTS = {
    "import compat_reg": "import compat_reg",
    "import compat_reg.parity.registry": "import compat_reg.parity.registry",
    "import compat_reg.parity.cli": "import compat_reg.parity.cli",
    "compat-reg --help": "from compat_reg.cli import main\nmain(['--help'])",
    "compat-reg parity --help":
        "from compat_reg.cli import main\nmain(['parity', '--help'])",
    "compat-reg parity run --help":
        "from compat_reg.cli import main\nmain(['parity', 'run', '--help'])",
}


@pytest.mark.parametrize("start", sorted(STARTS))
def test_help_and_the_registry_load_no_tensorflow_or_numpy(start):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(run=STARTS[start])],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        universal_newlines=True, env=env, cwd=str(ROOT), timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == [], done.stdout[-300:]
