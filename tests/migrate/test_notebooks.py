"""Notebooks, issue 30: what is not Python is never read as Python, a
module of its own gets its own imports, nbformat 3 is read.

Each class is crossed with where it sits and how it is spelled; the
expected notebook is built from the input by hand (the one rewrite of
``tf.contrib.layers.l2_regularizer`` -> ``compat_reg.l2_regularizer`` and
the added ``import compat_reg`` line), never from the tool's output.
"""
import ast
import builtins
import json
import subprocess
import sys

import pytest

from compat_reg.migrate.cli import main

IMPORT = "import tensorflow as tf\n"
READ = "loss = tf.losses.get_regularization_loss()\n"   # a consumer: no hazard
REG = "r = tf.contrib.layers.l2_regularizer(0.1)\n"
REG_DONE = "r = compat_reg.l2_regularizer(0.1)\n"
READ_DONE = "loss = compat_reg.get_regularization_loss()\n"


def _notebook(sources, **extra):
    cells = [{"cell_type": "markdown", "metadata": {}, "source": ["# title\n", REG]}]
    cells += [{"cell_type": "code", "execution_count": None, "metadata": {},
               "outputs": [], "source": s} for s in sources]
    return dict({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5},
                **extra)


def _dump(notebook):
    return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"


def _run(tmp_path, notebook, *args):
    path = tmp_path / "nb.ipynb"
    path.write_text(_dump(notebook), encoding="utf-8")
    code = main([str(path), "--write", *args])
    return code, json.loads(path.read_text(encoding="utf-8")), path


def _sources(notebook):
    return [c["source"] for c in notebook["cells"]]


def _first_cell_done():
    """cell 2 (the first code cell) as migrated: the import after tf's."""
    return IMPORT + "import compat_reg\n\n" + REG_DONE


NOT_PYTHON = {  # cell magic -> a body that is not Python
    "%%bash": "echo ( $HOME\n",
    "%%sh": "ls -l | wc -l\n",
    "%%script bash": "for i in 1 2; do echo $i; done\n",
    "%%html": "<b>tf.contrib.layers.l2_regularizer(0.1)</b>\n",
    "%%HTML": "<i>x</i>\n",
    "%%javascript": "var x = {a: 1};\n",
    "%%latex": "\\frac{1}{2}\n",
    "%%markdown": "# regularizer: l2\n",
    "%%writefile config.yaml": "regularizer: l2\nscale: 0.1\n",
    "%%file notes.txt": "l2_regularizer(0.1) is halved\n",
    "%%my_own_magic --flag": "some words: (unbalanced\n",
}


@pytest.mark.parametrize("blank", ["", "\n  \n"], ids=["first-line", "after-blank-lines"])
@pytest.mark.parametrize("magic", sorted(NOT_PYTHON))
def test_a_cell_magic_that_is_not_python_is_left_and_the_rest_migrated(
        tmp_path, capsys, magic, blank):
    other = blank + magic + "\n" + NOT_PYTHON[magic]
    code, after, _ = _run(tmp_path, _notebook([IMPORT + REG, other, READ]))
    assert code == 0, capsys.readouterr().err
    assert _sources(after)[1:] == [_first_cell_done(), other, READ_DONE]
    err = capsys.readouterr().err
    assert "nb.ipynb:cell 3:line 1: note[cell-not-python]: a %s cell " % (
        magic.split()[0]) in err, err
    assert "hazard[" not in err


HELP_AND_SHELL = [  # IPython lines where a statement may start
    "tf?", "tf.contrib.layers.l2_regularizer??", "?tf", "??tf.nn", "np.*load*?",
    "%pinfo tf", "%timeit?", "%matplotlib inline", "!pip install tf_slim",
    "!!ls (", "files = !ls", "a, b = %sx echo 1 2", "x.y = %env HOME",
    "/print 1, 2", ",print a b", ";print a b", "%load_ext autoreload",
]


@pytest.mark.parametrize("where", ["alone", "before", "after", "in-a-block"])
@pytest.mark.parametrize("line", HELP_AND_SHELL)
def test_ipython_lines_never_make_a_cell_unparseable(tmp_path, capsys, line, where):
    text = {"alone": line + "\n" + REG,
            "before": line + "\n" + REG + line,
            "after": REG + line + "\n",
            "in-a-block": "for i in range(2):\n    " + line + "\n" + REG}[where]
    code, after, _ = _run(tmp_path, _notebook([IMPORT, text, READ]))
    err = capsys.readouterr().err
    assert code == 0, err
    assert _sources(after)[1:] == [IMPORT + "import compat_reg\n",
                                   text.replace(REG, REG_DONE), READ_DONE]
    assert "cell-not" not in err and ": error:" not in err


CONTINUED = [  # Python whose lines look like IPython's: code, read as code
    's = ("%d items"\n     % n)\n',
    "t = (a\n     != b)\n",
    'u = """\n%not_a_magic\n!not_shell\nwhat?\n"""\n',
    "v = 1 + \\\n    2\n",
    "w = {1: 2,\n     }\n",
]


@pytest.mark.parametrize("python", CONTINUED)
def test_python_that_looks_like_ipython_is_read_as_python(tmp_path, capsys, python):
    code, after, _ = _run(tmp_path, _notebook([IMPORT, python + REG, READ]))
    err = capsys.readouterr().err
    assert code == 0, err
    assert _sources(after)[2] == python + REG_DONE
    assert "cell-not" not in err


@pytest.mark.parametrize("magic", ["%%time", "%%timeit -n 1 -r 1", "%%capture out",
                                   "%%prun -q", "%%debug"])
def test_a_cell_magic_whose_body_is_the_notebooks_python_is_migrated(tmp_path, capsys,
                                                                     magic):
    code, after, _ = _run(tmp_path, _notebook([IMPORT, magic + "\n" + REG, READ]))
    assert code == 0, capsys.readouterr().err
    assert _sources(after)[2] == magic + "\n" + REG_DONE


OWN_MODULE = ["%%writefile train.py", "%%writefile -a train.py", "%%file train.py",
              "%%writefile 'my train.py'", "%%python3", "%%python"]


def _free_names(text):
    """Names a module reads and never binds (builtins aside)."""
    tree = ast.parse(text)
    bound = {a.asname or a.name.split(".")[0] for n in ast.walk(tree)
             if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}
    bound |= {n.id for n in ast.walk(tree)
              if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    read = {n.id for n in ast.walk(tree)
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return read - bound - set(dir(builtins))


@pytest.mark.parametrize("target", ["compat_reg", "keras"])
@pytest.mark.parametrize("magic", OWN_MODULE)
def test_a_module_of_its_own_gets_its_own_imports(tmp_path, capsys, magic, target):
    body = IMPORT + REG + "print(float(tf.reduce_sum(r(tf.constant([[1.0, -2.0]])))))\n"
    # model.fit reads the penalties (no hazard) and is not rewritten
    code, after, _ = _run(tmp_path, _notebook([IMPORT + "x = 1\n", magic + "\n" + body,
                                               "model.fit(data)\n"]), "--target", target)
    assert code == 0, capsys.readouterr().err
    written = _sources(after)[2]
    head, _, new_body = written.partition("\n")
    assert head == magic
    # the file it writes reads no name it does not bind (the bug: compat_reg)
    assert _free_names(new_body) == set(), new_body
    assert "contrib" not in new_body
    # cell 2 has nothing to migrate and gets no import: the body needed it
    assert _sources(after)[1] == IMPORT + "x = 1\n"


@pytest.mark.parametrize("target", ["compat_reg", "keras"])
def test_the_written_file_runs_and_gives_contribs_penalty(tmp_path, capsys, target):
    pytest.importorskip("tensorflow")
    body = IMPORT + REG + "print(float(tf.reduce_sum(r(tf.constant([[1.0, -2.0]])))))\n"
    _run(tmp_path, _notebook([IMPORT, "%%writefile train.py\n" + body, READ]),
         "--target", target)
    capsys.readouterr()
    after = json.loads((tmp_path / "nb.ipynb").read_text())
    (tmp_path / "train.py").write_text(_sources(after)[2].partition("\n")[2])
    done = subprocess.run([sys.executable, "train.py"], cwd=str(tmp_path),
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    # contrib's l2: 0.1 * (1 + 4) / 2
    assert abs(float(done.stdout.split()[-1]) - 0.25) <= 1e-6


def test_a_module_of_its_own_without_its_import_is_left_alone(tmp_path, capsys):
    # the notebook's tf is not the file's: tf is not bound in train.py
    cell = "%%writefile train.py\n" + REG
    code, after, _ = _run(tmp_path, _notebook([IMPORT, cell, READ]))
    assert code == 0, capsys.readouterr().err
    assert _sources(after)[2] == cell


@pytest.mark.parametrize("mentions", [True, False], ids=["regularizer", "no-regularizer"])
def test_a_cell_that_does_not_parse_is_left_and_the_rest_migrated(tmp_path, capsys,
                                                                   mentions):
    bad = "print 'python 2'\n" + (REG if mentions else "x = 1\n")
    code, after, _ = _run(tmp_path, _notebook([IMPORT + REG, bad, READ]))
    err = capsys.readouterr().err
    assert _sources(after)[1:] == [_first_cell_done(), bad, READ_DONE]
    kind = "hazard" if mentions else "note"
    assert "nb.ipynb:cell 3:line 1: %s[cell-not-parsed]: the cell does not parse" % (
        kind) in err, err
    assert code == (1 if mentions else 0)


def test_a_notebook_whose_kernel_is_not_python_is_left(tmp_path, capsys):
    notebook = _notebook([IMPORT + REG], metadata={"kernelspec": {"language": "R"}})
    code, after, path = _run(tmp_path, notebook)
    assert path.read_text(encoding="utf-8") == _dump(notebook)
    assert "note[cell-not-python]: the notebook's language is R" in capsys.readouterr().err
    assert code == 0


def _v3(notebook, sheets=1):
    """The same notebook in nbformat 3 (as nbconvert --nbformat 3 writes it)."""
    cells = []
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            cells.append({"cell_type": "code", "collapsed": False, "input": cell["source"],
                          "language": "python", "metadata": {}, "outputs": []})
        else:
            cells.append(cell)
    cut = len(cells) // 2 if sheets == 2 else len(cells)
    parts = [cells[:cut], cells[cut:]][:sheets]
    return {"metadata": {"name": ""}, "nbformat": 3, "nbformat_minor": 0,
            "worksheets": [{"cells": part, "metadata": {}} for part in parts]}


@pytest.mark.parametrize("sheets", [1, 2])
@pytest.mark.parametrize("as_list", [True, False], ids=["lines", "string"])
def test_nbformat_3_is_migrated_in_its_own_layout(tmp_path, capsys, as_list, sheets):
    def text(s):
        return s.splitlines(True) if as_list else s
    before = _notebook([text(IMPORT + REG), text("%%bash\necho (\n"), text(READ)])
    code, after, path = _run(tmp_path, _v3(before, sheets))
    err = capsys.readouterr().err
    assert code == 0, err
    expected = _notebook([text(_first_cell_done()), text("%%bash\necho (\n"),
                          text(READ_DONE)])
    assert path.read_text(encoding="utf-8") == _dump(_v3(expected, sheets))
    assert "nb.ipynb:cell 3:line 1: note[cell-not-python]" in err


NOT_NOTEBOOKS = {  # JSON -> what the one error line says
    "v2-shape": ({"nbformat": 2, "worksheets": "no"},
                 "convert an older one with: jupyter nbconvert --to notebook --nbformat 4"),
    "cells-not-a-list": ({"nbformat": 1, "cells": {}}, "no 'cells' or 'worksheets' list"),
    "a-list": ([1, 2], "the JSON is not an object"),
    "a-string": ("text", "the JSON is not an object"),
    "source-a-number": ({"nbformat": 4, "cells": [{"cell_type": "code", "source": 3}]},
                        "cell 1's 'source' is not text"),
    "input-not-text": ({"nbformat": 3, "worksheets": [{"cells": [
        {"cell_type": "markdown", "source": "#"},
        {"cell_type": "code", "input": ["a", 1]}]}]}, "cell 2's 'input' is not text"),
}


@pytest.mark.parametrize("name", sorted(NOT_NOTEBOOKS))
def test_what_is_not_a_notebook_is_one_error_line(tmp_path, capsys, name):
    notebook, says = NOT_NOTEBOOKS[name]
    # it mentions regularization, or it would not be read at all
    if isinstance(notebook, dict):
        notebook = dict(notebook, note="regularizer")
    else:
        notebook = [notebook, "regularizer"] if isinstance(notebook, str) else \
            notebook + ["regularizer"]
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(notebook))
    before = path.read_bytes()
    assert main([str(path), "--write"]) == 2
    err = capsys.readouterr().err
    assert "nb.ipynb: error: not a notebook" in err and says in err, err
    assert "Traceback" not in err
    assert path.read_bytes() == before
