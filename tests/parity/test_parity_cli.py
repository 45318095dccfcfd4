"""The ``compat-reg parity`` command line, through ``cli.main``."""

import json
import os

import pytest

from compat_reg.parity import cli, trace, workloads
from parity_helpers import main, require


def test_help_exits_zero(capsys):
    assert cli.main(["--help"]) == 0
    text = capsys.readouterr().out
    for command in ("run", "record", "compare", "replay"):
        assert command in text
    assert "compat-reg parity" in text


def test_run_one_epoch_agrees(tmp_path):
    require("tf2-keras")
    report = str(tmp_path / "report.json")
    code, text, _ = main(["run", "--workload", "sgd_l2", "--epochs", "1",
                        "--backend", "tf1-graph", "--backend", "tf2-keras",
                        "--json", report])
    assert code == 0, text
    assert "0 failed" in text
    assert "pen0 ratio" in text
    with open(report) as handle:
        summary = json.load(handle)
    assert summary["ok"] is True
    # tf1-graph and tf2-keras vs golden, and tf2-keras vs tf1-graph
    assert len(summary["comparisons"]) == 3


def test_run_wrong_port_exits_one_with_cause():
    require("tf2-keras")
    code, text, _ = main(["run", "--workload", "sgd_l2", "--epochs", "1",
                        "--backend", "tf2-keras", "--port", "l2-unhalved"])
    assert code == 1
    assert "FAIL" in text and "without halving" in text


def test_record_compare_and_replay(tmp_path):
    require("tf2-keras")
    folder = tmp_path / "traces"
    for backend in ("tf1-graph", "tf2-keras"):
        code, text, _ = main(["record", "--backend", backend, "--workload",
                            "momentum_l1_l2", "--epochs", "1", "--out",
                            str(folder / (backend + ".json"))])
        assert code == 0, text
    golden = os.path.join(workloads.golden_dir(), "train_momentum_l1_l2.json")
    code, text, _ = main(["compare", str(folder), golden])
    assert code == 0, text
    assert "golden-tf1.15.5" in text  # the reference, named from its env
    assert text.count("momentum_l1_l2") >= 2
    code, text, _ = main(["replay", golden, "--backend", "tf2-keras",
                        "--epochs", "1"])
    assert code == 0, text


def test_compare_fails_on_a_tampered_trace(tmp_path):
    require("tf2-keras")
    path = str(tmp_path / "a.json")
    assert main(["record", "--backend", "tf2-keras", "--workload", "sgd_l2",
                 "--epochs", "1", "--out", path])[0] == 0
    tampered = trace.load(path)
    tampered.curves["total_loss"][10] *= 1.01  # 1e-2 > the 1e-3 bound
    tampered.env = dict(tampered.env, tox_env="tampered")
    tampered.save(str(tmp_path / "b.json"))
    code, text, _ = main(["compare", str(tmp_path)])
    assert code == 1
    assert "tampered" in text and "from step 10" in text


def test_plot_writes_png(tmp_path):
    pytest.importorskip("matplotlib")
    require("tf2-keras")
    png = str(tmp_path / "p.png")
    code, text, _ = main(["run", "--workload", "sgd_none", "--epochs", "1",
                        "--backend", "tf2-keras", "--plot", png])
    assert code == 0, text
    with open(png, "rb") as handle:
        assert handle.read(8) == b"\x89PNG\r\n\x1a\n"


def test_unknown_workload_file_is_a_usage_error(tmp_path):
    code, _, _ = main(["record", "--backend", "tf1-graph", "--workload",
                     "nope", "--out", str(tmp_path / "x.json")])
    assert code == 2
