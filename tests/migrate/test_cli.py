import json
import os
import stat
import sys

import pytest

from compat_reg.migrate.cli import main

SRC = ("import tensorflow as tf\n\nr = tf.contrib.layers.l2_regularizer(0.1)\n"
       "loss = tf.losses.get_regularization_loss()\n")


@pytest.fixture
def tree(tmp_path):
    (tmp_path / "a.py").write_text(SRC)
    os.chmod(tmp_path / "a.py", 0o640)
    (tmp_path / "clean.py").write_text("import os\n")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "b.py").write_text(
        "import tf_slim as slim\nr = slim.l1_regularizer(0.1)\nl = m.losses\n")
    (tmp_path / "notes.txt").write_text("l2_regularizer\n")  # not *.py
    return tmp_path


def _files(root):
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in root.rglob("*") if p.is_file()}


def test_dry_run_prints_a_diff_and_writes_nothing(tree, capsys):
    before = _files(tree)
    assert main([str(tree)]) == 1
    out, err = capsys.readouterr()
    assert "+r = compat_reg.l2_regularizer(0.1)" in out
    assert "+r = compat_reg.l1_regularizer(0.1)" in out
    assert "2 to change" in err
    assert _files(tree) == before


def test_write_then_second_run_is_a_no_op(tree, capsys):
    assert main([str(tree), "--write"]) == 0
    assert "rewrote" in capsys.readouterr().out
    after = _files(tree)
    assert after["a.py"] == SRC.replace(
        "tf\n\nr = tf.contrib.layers", "tf\nimport compat_reg\n\nr = compat_reg"
    ).replace("tf.losses.", "compat_reg.").encode()
    assert stat.S_IMODE(os.stat(tree / "a.py").st_mode) == 0o640
    assert set(after) == set(_files(tree))  # no temporary files left
    assert main([str(tree)]) == 0
    assert capsys.readouterr().out == ""
    assert _files(tree) == after


def test_json_report(tree, capsys):
    assert main([str(tree), "--json", "--target", "keras"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["exit_code"] == 1 and report["target"] == "keras"
    assert report["summary"]["changed"] == 2
    a = next(f for f in report["files"] if f["path"].endswith("a.py"))
    assert a["status"] == "changed" and "L2(0.05)" in a["diff"]
    assert {"line": 3, "kind": "regularizer", "name": "l2_regularizer",
            "rewritten": True} in a["sites"]
    assert [f["code"] for f in a["findings"]] == ["pass-source"]


def test_hazard_alone_gives_exit_1(tmp_path, capsys):
    path = tmp_path / "h.py"
    path.write_text("import compat_reg\nr = compat_reg.l2_regularizer(0.1)\n")
    assert main([str(path)]) == 1
    assert "%s:2: hazard[penalty-never-added]" % path in capsys.readouterr().err


@pytest.mark.parametrize(("name", "content", "why"), (
    ("py2.py", b"import tensorflow as tf\nprint 'l2_regularizer'\n",
     "does not parse"),
    ("bin.py", b"\x00\x01regularizer\xff", "binary"),
    ("latin.py", "r = 'r\xe9gularizer l2_regularizer'\n".encode("latin-1"),
     "not UTF-8"),
))
def test_bad_files_are_reported_and_untouched(tmp_path, capsys, name, content,
                                              why):
    path = tmp_path / name
    path.write_bytes(content)
    assert main([str(path), "--write"]) == 2
    assert why in capsys.readouterr().err
    assert path.read_bytes() == content


@pytest.mark.parametrize("idiom", ("tf.add_n(tf.get_collection('losses'))",
                                   "0.1 * tf.nn.l2_loss(w)", "tf.trainable_variables()",
                                   "tf.losses.get_total_loss()"))
def test_python2_without_a_regularizer_is_skipped_with_the_reason(tmp_path, capsys,
                                                                   idiom):
    """As before the idioms were looked for (only files naming
    regularization were parsed): not an error, the reason said."""
    content = ("import tensorflow as tf\nprint 'loss', %s\n" % idiom).encode()
    path = tmp_path / "py2.py"
    path.write_bytes(content)
    assert main([str(path), "--write"]) == 0
    err = capsys.readouterr().err
    assert "py2.py: skipped: does not parse (Python 2 code?)" in err, err
    assert "1 files, 0 to change, 0 rewritten, 0 hazards, 0 errors" in err
    assert path.read_bytes() == content


def test_declared_encoding_is_kept(tmp_path):
    src = ("# -*- coding: latin-1 -*-\nimport tensorflow as tf\n# caf\xe9\n"
           "r = tf.contrib.layers.l2_regularizer(0.1)\nl = m.losses\n")
    path = tmp_path / "enc.py"
    path.write_bytes(src.encode("latin-1"))
    assert main([str(path), "--write"]) == 0
    assert b"# caf\xe9\n" in path.read_bytes()
    assert b"compat_reg.l2_regularizer(0.1)" in path.read_bytes()


def test_symlink_loop_and_empty_file(tmp_path, capsys):
    os.symlink("loop.py", tmp_path / "loop.py")
    (tmp_path / "empty.py").write_text("")  # what tf_upgrade_v2 --intree leaves
    assert main([str(tmp_path)]) == 2
    assert "symlink loop" in capsys.readouterr().err


def test_symlinked_file_is_written_through(tmp_path):
    (tmp_path / "real.py").write_text(SRC)
    os.symlink("real.py", tmp_path / "link.py")
    assert main([str(tmp_path / "link.py"), "--write"]) == 0
    assert os.path.islink(tmp_path / "link.py")
    assert "compat_reg.l2_regularizer" in (tmp_path / "real.py").read_text()


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0,
                    reason="root reads anything")
def test_unreadable(tmp_path, capsys):
    path = tmp_path / "secret.py"
    path.write_text(SRC)
    os.chmod(path, 0)
    assert main([str(path)]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_help_explains_targets_exit_codes_and_report(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert out.startswith("usage: compat-reg migrate")
    for word in ("targets:", "exit codes:", "report", "--write", "keras"):
        assert word in out


def test_no_progress_when_stderr_is_not_a_tty(tmp_path, capsys):
    for i in range(250):
        (tmp_path / ("m%d.py" % i)).write_text("x = %d\n" % i)
    assert main([str(tmp_path)]) == 0
    assert "\r" not in capsys.readouterr().err


def test_module_entry_point_does_not_import_tensorflow(tmp_path):
    import subprocess
    (tmp_path / "a.py").write_text(SRC)
    code = ("import sys; from compat_reg.migrate.cli import main; "
            "rc = main([sys.argv[1]]); "
            "assert 'tensorflow' not in sys.modules, 'tensorflow imported'; "
            "sys.exit(rc)")
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path)],
                          capture_output=True, text=True,
                          cwd=os.path.dirname(os.path.dirname(os.path.dirname(
                              os.path.abspath(__file__)))))
    assert proc.returncode == 1, proc.stderr
