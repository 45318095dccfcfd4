"""Issue 25: ``compat-reg migrate`` as a pre-commit hook.

``.pre-commit-hooks.yaml`` declares it as pyupgrade and ruff declare theirs.
pre-commit installs the repository (``language: python``), then runs
``entry`` + ``args`` + the staged file names, from the repository's root.
Here that command is run the same way, in a subprocess, with the console
script ``compat-reg`` spelled as ``pyproject.toml`` defines it: the hook
fails (exit 1) while a file still holds code with an exact rewrite, passes
(0) on notes and hazards alone, reports files it cannot parse (2; a
Python 2 file naming no regularizer is skipped with the reason), and
never writes.
"""
import os
import shlex
import subprocess
import sys

import pytest

from compat_reg.migrate.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# kind -> (source, exit code of the hook given that file alone)
FILES = {
    "contrib regularizer": (
        "import tensorflow as tf\nr = tf.contrib.layers.l2_regularizer(0.1)\n"
        "loss = tf.losses.get_regularization_loss()\n", 1),
    "collection read": (
        "import tensorflow.compat.v1 as tf\n"
        "r = tf.add_n(tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES))\n", 1),
    "notes only (cifar10's collection)": (
        "import tensorflow as tf\n"
        "tf.add_to_collection('losses', 0.004 * tf.nn.l2_loss(w))\n"
        "total = tf.add_n(tf.get_collection('losses'))\n", 0),
    "hazard only (never added)": (
        "import compat_reg\nr = compat_reg.l2_regularizer(0.1)\n", 0),
    "migrated": (
        "import compat_reg\n\n\ndef step(model, ce):\n"
        "    return ce + compat_reg.get_regularization_loss(model)\n", 0),
    "no regularization": ("import os\nprint(os.getcwd())\n", 0),
    "python 2": ("import tensorflow as tf\nr = tf.contrib.layers.l2_regularizer(0.1)\n"
                 "print 'l2', r\n", 2),
    "python 2 without a regularizer": (
        "import tensorflow as tf\nprint 'losses', tf.get_collection('losses')\n", 0),
}


def _flat_yaml(text):
    """The YAML this file is written in (a list of flat mappings of plain
    scalars, ``true`` and ``[a, b]`` lists), for envs without PyYAML;
    checked against PyYAML where it is installed."""
    hooks = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line.startswith("-"):
            hooks.append({})
            line = line[1:]
        key, _, value = line.strip().partition(": ")
        if value.startswith("["):
            value = [v.strip() for v in value.strip("[]").split(",")]
        elif value in ("true", "false"):
            value = value == "true"
        hooks[-1][key] = value
    return hooks


def _hook():
    with open(os.path.join(ROOT, ".pre-commit-hooks.yaml")) as f:
        (hook,) = _flat_yaml(f.read())
    return hook


def test_the_hooks_file_reads_the_same_with_pyyaml():
    yaml = pytest.importorskip("yaml")
    with open(os.path.join(ROOT, ".pre-commit-hooks.yaml")) as f:
        assert yaml.safe_load(f) == [_hook()]


def _command(hook):
    """The hook's command with the console script as pyproject defines it."""
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        scripts = tomllib.load(f)["project"]["scripts"]
    program, *rest = shlex.split(hook["entry"])
    module, _, function = scripts[program].partition(":")
    script = "import sys; from %s import %s; sys.exit(%s())" % (module, function, function)
    return [sys.executable, "-c", script] + rest + hook.get("args", [])


def _run(tmp_path, names):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [ROOT] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    return subprocess.run(_command(_hook()) + names, cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)


def _stage(tmp_path, kinds):
    names = []
    for number, kind in enumerate(kinds):
        name = "f%d.py" % number
        (tmp_path / name).write_text(FILES[kind][0])
        names.append(name)
    return names


def test_the_hook_is_declared_as_pre_commit_reads_it():
    hook = _hook()
    assert hook["id"] == "compat-reg-migrate"
    assert hook["entry"] == "compat-reg migrate"
    assert hook["language"] == "python" and hook["types"] == ["python"]
    assert hook["args"] == ["--check"]
    assert hook["require_serial"] is True   # one run pairs model.py with train.py


@pytest.mark.parametrize("kind", sorted(FILES))
def test_the_entry_on_one_staged_file(tmp_path, kind):
    names = _stage(tmp_path, [kind])
    before = (tmp_path / names[0]).read_bytes()
    proc = _run(tmp_path, names)
    assert proc.returncode == FILES[kind][1], proc.stderr
    assert (tmp_path / names[0]).read_bytes() == before      # a hook run never writes
    if proc.returncode == 1:
        assert proc.stdout.startswith("--- ./f0.py\n+++ ./f0.py\n")  # what to change
    if kind.startswith("notes"):
        assert "note[loss-collection]" in proc.stderr
    if kind == "python 2 without a regularizer":
        assert "f0.py: skipped: does not parse (Python 2 code?)" in proc.stderr
    if kind.startswith("hazard"):
        assert "hazard[penalty-never-added]" in proc.stderr


def test_the_entry_on_every_file_of_a_commit(tmp_path):
    """pre-commit passes every staged file at once: 2 wins over 1 over 0."""
    names = _stage(tmp_path, sorted(FILES))
    assert _run(tmp_path, names).returncode == 2
    names.remove("f%d.py" % sorted(FILES).index("python 2"))
    assert _run(tmp_path, names).returncode == 1


@pytest.mark.parametrize("kind", sorted(k for k, (_, code) in FILES.items() if code == 1))
def test_the_hook_passes_once_the_rewrite_is_made(tmp_path, capsys, kind):
    names = _stage(tmp_path, [kind])
    assert main([str(tmp_path / names[0]), "--write"]) == 0
    capsys.readouterr()
    assert _run(tmp_path, names).returncode == 0


def test_check_keeps_the_dry_run_exit_codes_but_for_hazards(tmp_path, capsys):
    """--check differs from the dry run only there: a hazard alone is 1
    without it, 0 with it; and --check cannot be combined with --write."""
    (tmp_path / "h.py").write_text(FILES["hazard only (never added)"][0])
    assert main([str(tmp_path / "h.py")]) == 1
    assert main([str(tmp_path / "h.py"), "--check"]) == 0
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_:
        main([str(tmp_path / "h.py"), "--check", "--write"])
    assert exit_.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err
