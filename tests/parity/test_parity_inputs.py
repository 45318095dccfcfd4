"""Broken and hostile inputs: every one is an error naming the file (and the
field), exit 2 on stderr; none is dropped silently or passes.

The good traces here are the golden files themselves re-saved as trace files
of a made-up TF2 env (no training needed): their curves equal the golden
ones, so `compare` of a good folder passes with max difference 0. The table
in tests/parity/README.md lists every case.
"""

import json
import os
import shutil
import sys

import numpy as np
import pytest

from compat_reg import cli as top_cli
from compat_reg import golden_files
from compat_reg.parity import cli
from parity_helpers import golden_copy, good_trace, main

def _record(path):
    with open(path) as handle:
        return json.load(handle)


def _write(path, record):
    with open(path, "w") as handle:
        json.dump(record, handle)


def test_a_good_folder_passes_with_zero_difference(tmp_path, capsys):
    good_trace(tmp_path)
    code, out, err = main(["compare", str(tmp_path), "--golden"], capsys)
    assert code == 0, out + err
    # the golden curves against themselves: 0 on every curve, shown as such
    assert "0.00e+00" in out and "1 comparisons, 0 failed" in out
    assert err == ""


def _truncated(path):
    with open(path) as handle:
        text = handle.read()
    with open(path, "w") as handle:
        handle.write(text[:len(text) // 2])


def _edit(change):
    def apply(path):
        record = _record(path)
        change(record)
        _write(path, record)
    return apply


def _set_curves(value):
    def change(record):
        record["curves"] = value
    return change


def _empty_curve(record):
    record["curves"]["data_loss"] = []


def _bad_dtype(record):
    record["final_weights"]["dense_0/kernel"]["dtype"] = "float99"


def _short_weights(record):
    record["final_weights"]["dense_0/bias"]["base64"] = "AAAA"


def _one_step(record):
    for key in record["curves"]:
        record["curves"][key] = record["curves"][key][:1]


def _one_step_one_epoch(record):
    _one_step(record)
    for key in record["per_epoch"]:
        record["per_epoch"][key] = record["per_epoch"][key][:1]
    record["workload"]["config"]["epochs"] = 1
    record["port"]["batch_order"] = record["port"]["batch_order"][:1]


def _other_config(record):
    record["workload"]["config"]["lr"] = 0.2


def _replace(text):
    def apply(path):
        with open(path, "wb") as handle:
            handle.write(text)
    return apply


# (fault, what the error must name): each broken file sits beside a good one.
TRACE_FAULTS = [
    ("truncated", _truncated, "not JSON"),
    ("empty", _replace(b""), "not JSON"),
    ("binary", _replace(bytes(range(256))), "not JSON"),
    ("json-list", _replace(b"[1, 2]"), "top level is a JSON list"),
    ("wrong-format", _edit(lambda r: r.update(format="compat-reg-trace/9")),
     "field 'format'"),
    ("no-format", _replace(b'{"curves": {}}'), "field 'format'"),
    ("curves-null", _edit(_set_curves(None)), "field 'curves'"),
    ("curves-empty", _edit(_set_curves({})), "field 'curves.data_loss'"),
    ("curve-empty-list", _edit(_empty_curve), "field 'curves.data_loss'"),
    ("dtype-float99", _edit(_bad_dtype),
     "field 'final_weights.dense_0/kernel.dtype'"),
    ("weights-short", _edit(_short_weights),
     "field 'final_weights.dense_0/bias.base64'"),
    ("one-step", _edit(_one_step), "steps do not split into 5 epochs"),
    ("one-step-one-epoch", _edit(_one_step_one_epoch), "1 steps per epoch"),
    ("other-config", _edit(_other_config), "lr 0.2 vs 0.1"),
]


@pytest.mark.parametrize("name,fault,names",
                         TRACE_FAULTS, ids=[f[0] for f in TRACE_FAULTS])
def test_a_broken_trace_beside_good_ones_is_an_error(tmp_path, capsys, name,
                                                     fault, names):
    good_trace(tmp_path, "tf298")
    broken = good_trace(tmp_path, "tf299")
    fault(broken)
    code, out, err = main(["compare", str(tmp_path), "--golden"], capsys)
    assert code == 2, out + err
    assert "0 failed" not in out
    assert err.startswith("compat-reg parity compare: error: ")
    assert names in err, err
    if name not in ("other-config", "one-step-one-epoch"):
        assert broken in err  # the file itself is named
    assert "Traceback" not in err


@pytest.mark.parametrize("paths", [["empty-dir"], ["no-such-dir"]])
def test_nothing_to_read_is_an_error(tmp_path, capsys, paths):
    (tmp_path / "empty-dir").mkdir()
    code, out, err = main(["compare"] + [str(tmp_path / p) for p in paths],
                           capsys)
    assert code == 2 and out == ""
    assert str(tmp_path / paths[0]) in err


def test_only_references_is_an_error_not_a_pass(capsys):
    code, out, err = main(["compare", golden_files.GOLDEN_DIR], capsys)
    assert code == 2
    assert "nothing to compare" in err


def _corrupt_crc(path):
    with open(path, "rb") as handle:
        data = bytearray(handle.read())
    data[len(data) // 2] ^= 0xFF  # inside an array's stored bytes
    with open(path, "wb") as handle:
        handle.write(bytes(data))


def _npz_truncated(path):
    with open(path, "rb") as handle:
        data = handle.read()
    with open(path, "wb") as handle:
        handle.write(data[:len(data) // 3])


def _order_out_of_range(path):
    arrays = golden_files.read_npz(path)
    arrays["batch_order"] = arrays["batch_order"].copy()
    arrays["batch_order"][0, 0, 0] = 1437  # x_train has rows 0..1436
    np.savez(path, **arrays)


NPZ_FAULTS = [
    ("npz-truncated", _npz_truncated, "not a readable .npz"),
    ("npz-empty", lambda p: open(p, "wb").close(), "not a readable .npz"),
    ("npz-crc", _corrupt_crc, "not a readable .npz"),
    ("batch-order-out-of-range", _order_out_of_range,
     "field 'batch_order': indices 0..1437 are out of range for 1437 rows"),
]


@pytest.mark.parametrize("name,fault,names",
                         NPZ_FAULTS, ids=[f[0] for f in NPZ_FAULTS])
def test_replay_of_a_broken_npz_is_an_error(tmp_path, capsys, name, fault,
                                            names):
    golden, arrays = golden_copy(tmp_path)
    fault(arrays)
    code, out, err = main(["replay", golden, "--backend", "tf1-graph"], capsys)
    assert code == 2, out + err
    assert arrays in err and names in err, err
    assert "Traceback" not in err


@pytest.mark.parametrize("epochs", ["0", "-1", "x"])
def test_epochs_must_be_positive(capsys, epochs):
    code, out, err = main(["run", "--workload", "sgd_none", "--epochs",
                            epochs], capsys)
    assert code == 2 and out == ""
    assert "--epochs" in err


def test_check_without_golden_folder_is_an_error(tmp_path, monkeypatch,
                                                 capsys):
    monkeypatch.setattr(golden_files, "GOLDEN_DIR", str(tmp_path / "gone"))
    assert top_cli.main(["check"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "penalties.json: cannot read" in captured.err


def test_check_with_truncated_penalties_is_an_error(tmp_path, monkeypatch,
                                                    capsys):
    shutil.copy(golden_files.path("penalty_inputs.npz"), str(tmp_path))
    with open(golden_files.path("penalties.json")) as handle:
        text = handle.read()
    (tmp_path / "penalties.json").write_text(text[:1000])
    monkeypatch.setattr(golden_files, "GOLDEN_DIR", str(tmp_path))
    assert top_cli.main(["check"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # nothing printed before the input was read
    assert "penalties.json: not JSON" in captured.err


def test_no_arguments_is_usage_on_stderr(capsys):
    assert top_cli.main([]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("usage: compat-reg")


def test_help_lists_each_command_once(capsys):
    assert top_cli.main(["--help"]) == 0
    text = capsys.readouterr().out
    for command in ("doctor", "check", "parity", "migrate"):
        assert len([line for line in text.splitlines()
                    if line.strip().startswith(command + " ")]) == 1, text
    assert "exit status" in text


def test_parity_help_has_no_rst_and_only_installed_paths(capsys):
    assert cli.main(["--help"]) == 0
    text = capsys.readouterr().out
    assert "``" not in text
    assert "compat_reg/golden" not in text
    assert "1 a difference" in text and "2 an error" in text


def test_console_command_prints_no_native_log_lines(tmp_path):
    """`compat-reg check` and `parity run --workload sgd_none` as a user runs
    them: no TF C++ / absl lines (they start like ``I0000 00:00:...``)."""
    import re
    import subprocess
    env = dict(os.environ)
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    native = re.compile(r"^([IWEF]\d{4} |WARNING: All log messages before absl)")
    for argv in (["check"], ["parity", "run", "--workload", "sgd_none",
                             "--epochs", "1", "--backend", "tf1-graph"]):
        done = subprocess.run(
            [sys.executable, "-m", "compat_reg"] + argv, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            universal_newlines=True, cwd=str(tmp_path), timeout=600)
        assert done.returncode == 0, done.stdout + done.stderr
        lines = (done.stdout + done.stderr).splitlines()
        assert not [line for line in lines if native.match(line)], done.stderr
