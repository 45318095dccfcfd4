"""Traces survive a save/load round trip bit for bit."""

import shutil

import numpy as np
import pytest

from compat_reg import golden_files
from compat_reg.parity import trace


def test_round_trip(runs, tmp_path):
    original = runs.get("sgd_l2", "tf1-graph", epochs=1)
    path = str(tmp_path / "t.json")
    original.save(path)
    loaded = trace.load(path)
    assert loaded.curves == original.curves
    assert loaded.env == original.env
    assert list(loaded.final_weights) == list(original.final_weights)
    for key, value in original.final_weights.items():
        assert loaded.final_weights[key].dtype == value.dtype
        np.testing.assert_array_equal(loaded.final_weights[key], value)
    assert loaded.dumps() == original.dumps()


def test_collect_reads_folders_and_skips_only_known_non_traces(runs, tmp_path):
    runs.get("sgd_l2", "tf1-graph", epochs=1).save(str(tmp_path / "t.json"))
    # the golden folder's penalties.json and a --json report are not runs
    shutil.copy(golden_files.path("penalties.json"), str(tmp_path))
    # (this version's, and /1's from before the stated differences' rename)
    for version in (trace.REPORT_FORMAT, "compat-reg-report/1"):
        (tmp_path / ("report%s.json" % version[-1])).write_text(
            '{"format": "%s"}' % version)
    found = trace.collect([str(tmp_path)])
    assert [t.backend for t in found] == ["tf1-graph"]
    # any other JSON is a broken trace, named, never skipped
    (tmp_path / "other.json").write_text('{"cases": []}')
    with pytest.raises(golden_files.InputError, match="other.json: field 'format'"):
        trace.collect([str(tmp_path)])
