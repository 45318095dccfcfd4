"""tox.ini names only real envs (issue 30: `tox -a` listed a phantom
`TFenvname`, read from `description = TF {envname}: ...` as a factor
condition, and `tox -m all` then failed on it).

Two checks: tox itself, where tox >= 4.11 is installed (`tox -a` and each
label's list are exactly the envs of `env_list`); and, everywhere, the file
read with configparser: every env of `env_list` pins its TensorFlow or is
one of the envs that run none, and every factor condition in `[testenv]`
names only factors of those envs (tox makes an env of any other).
"""
import configparser
import importlib.util
import pathlib
import re
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
TOX_INI = ROOT / "tox.ini"
NON_TF = {"lint", "compare", "summary"}  # ruff/vermin; the two readers of traces
# tox's factor condition (tox/config/loader/ini/factor.py): what comes
# before a ":" followed by white space or the line's end, when it is made of
# names, braces, commas, "!" and "-" only
CONDITION = re.compile(r"^\s*([\w{},!.\- ]+):(?=\s|$)")

if not TOX_INI.exists():
    pytest.skip("no tox.ini beside the tests (an installed copy)", allow_module_level=True)


def _config():
    config = configparser.ConfigParser(interpolation=None)
    config.read(str(TOX_INI))
    return config


def _names(value):
    return [n.strip() for n in re.split(r"[,\s]+", value) if n.strip()]


def _expand(text):
    """tox's brace expansion: ``tf2{0,1}`` -> ``tf20``, ``tf21``."""
    match = re.search(r"{([^{}]*)}", text)
    if match is None:
        return [text]
    return [out for part in match.group(1).split(",")
            for out in _expand(text[:match.start()] + part.strip() + text[match.end():])]


def _groups(condition):
    """The comma-separated parts of a condition (commas in braces kept)."""
    return [g.strip() for g in re.split(r",(?![^{]*})", condition)]


def _env_list():
    return _names(_config()["tox"]["env_list"])


def test_every_env_pins_its_tensorflow_or_runs_none():
    config = _config()
    pinned = {}
    for line in config["testenv"]["deps"].splitlines():
        match = CONDITION.match(line)
        if match and re.search(r"^\s*tensorflow\s*==", line[match.end():]):
            for group in _groups(match.group(1)):
                for env in _expand(group):
                    pinned.setdefault(env, []).append(line[match.end():].strip())
    envs = _env_list()
    assert envs and len(set(envs)) == len(envs), envs
    for env in envs:
        pins = [p for factor in env.split("-") for p in pinned.get(factor, [])]
        assert (env in NON_TF) != (len(pins) == 1), (env, pins)
    labelled = {name for section in config.sections() if section.startswith("testenv")
                for name in _names(config[section].get("labels", ""))}
    assert labelled == {"all", "ci"}
    for section in config.sections():  # a section of its own names a real env
        if section.startswith("testenv:"):
            assert section[len("testenv:"):] in envs, section


def test_every_factor_condition_names_real_factors():
    config = _config()
    factors = {f for env in _env_list() for f in env.split("-")}
    for key, value in config["testenv"].items():
        for line in value.splitlines():
            match = CONDITION.match(line)
            if match is None:
                continue
            for group in _groups(match.group(1)):
                for combo in _expand(group):
                    named = {f.lstrip("!") for f in combo.split("-")}
                    assert named <= factors, "[testenv] %s: %r reads as a condition on " \
                        "%s, which no env has: tox would make a phantom env of it" % (
                            key, line.strip(), sorted(named - factors))


def _tox():
    if importlib.util.find_spec("tox") is not None:
        command = [sys.executable, "-m", "tox"]
    elif shutil.which("tox"):
        command = [shutil.which("tox")]
    else:
        pytest.skip("tox is not installed here")
    done = subprocess.run(command + ["--version"], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, timeout=120)
    version = re.match(r"(\d+)\.(\d+)", done.stdout.strip())
    if done.returncode or version is None or tuple(map(int, version.groups())) < (4, 11):
        pytest.skip("tox.ini needs tox >= 4.11 (found: %r)" % done.stdout[:40])
    return command


@pytest.mark.parametrize("args, label", [(["-a"], None), (["-l", "-m", "all"], "all"),
                                         (["-l", "-m", "ci"], "ci")])
def test_tox_lists_only_real_envs(args, label):
    command = _tox()
    done = subprocess.run(command + args + ["-c", str(TOX_INI)], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, timeout=300,
                          cwd=str(ROOT))
    assert done.returncode == 0, done.stderr
    listed = [line.split()[0] for line in done.stdout.splitlines()
              if line.strip() and not line.startswith((" ", "default", "additional"))]
    envs = _env_list()
    if label == "ci":
        assert set(listed) < set(envs) and "tf1" in listed
    else:
        assert sorted(listed) == sorted(envs)


def test_summary_orders_every_env_of_the_matrix(tmp_path, capsys):
    """`.ci/summary.py` prints one row per env that ran, for every env of
    `env_list` (the keras3 envs once crashed its ordering: CI failed after
    every env had passed), in TF order: TF 1.4 ... 1.15, 2.0 ... 2.21, the
    legacy flavour after its TF, the envs not named by a TF last."""
    spec = importlib.util.spec_from_file_location(
        "ci_summary", str(ROOT / ".ci" / "summary.py"))
    summary = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(summary)
    envs = [e for e in _env_list() if e not in NON_TF]
    for env in reversed(envs):
        (tmp_path / ("%s.json" % env)).write_text(
            '{"env": "%s", "python": "3.11", "passed": 1, "seconds": 60}' % env)
    assert summary.main(str(tmp_path)) == 0
    rows = [line.split()[0] for line in capsys.readouterr().out.splitlines()
            if line.split() and line.split()[0] in envs]

    def tf_order(env):  # tf1 is TF 1.15; tf221-legacy is TF 2.21's
        m = re.match(r"tf(\d)(\d*)(-.+)?$", env)
        if m is None:
            return (1, 0, 0, env)
        return (0, int(m.group(1)), int(m.group(2) or 15), m.group(3) or "")

    assert rows == sorted(envs, key=tf_order)
    assert rows[:3] == ["tf14", "tf15", "tf16"] and rows[-2:] == [
        "keras3-jax", "keras3-torch"]
