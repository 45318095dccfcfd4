"""The tox `compare` step: traces from other envs that went wrong are caught,
with a message naming the env, the workload and the likely cause.

Each bad trace is a real trace edited the way its wrong port would have
recorded it (the curves are the only thing `compare` sees of another env).
"""

import copy

import pytest

from compat_reg.parity import cli, trace
from parity_helpers import require


def _compare(tmp_path, edit, env_name):
    require("tf2-keras")
    good = str(tmp_path / "good.json")
    assert cli.main(["record", "--backend", "tf2-keras", "--workload", "sgd_l2",
                     "--epochs", "1", "--out", good], out=_Sink()) == 0
    bad = copy.deepcopy(trace.load(good))
    edit(bad.curves)
    bad.env = dict(bad.env, tox_env=env_name)
    folder = tmp_path / "envs"
    bad.save(str(folder / env_name / "sgd_l2__tf2-keras.json"))
    sink = _Sink()
    code = cli.main(["compare", str(folder), "--golden"], out=sink)
    return code, sink.text


class _Sink(object):
    def __init__(self):
        self.text = ""

    def write(self, text):
        self.text += text

    def flush(self):
        pass


def _doubled(curves):  # an unhalved Keras l2: twice the penalty, minimised
    curves["reg_loss"] = [2 * r for r in curves["reg_loss"]]
    curves["total_loss"] = [d + r for d, r in zip(curves["data_loss"], curves["reg_loss"])]


def _missing(curves):  # no regularizer attached at all
    curves["reg_loss"] = [0.0 for _ in curves["reg_loss"]]
    curves["total_loss"] = list(curves["data_loss"])


def _drifting(curves):  # right at step 0, then 5e-3 off from step 20
    curves["total_loss"] = [t * (1.005 if i >= 20 else 1.0)
                            for i, t in enumerate(curves["total_loss"])]


@pytest.mark.parametrize("edit,env,cause", [
    (_doubled, "env-doubled", "without halving"),
    (_missing, "env-missing", "no penalty"),
    (_drifting, "env-drifting", "from step 20"),
])
def test_bad_env_fails_with_env_workload_and_cause(tmp_path, edit, env, cause):
    code, text = _compare(tmp_path, edit, env)
    assert code == 1, text
    failing = [line for line in text.splitlines() if env in line and " vs " in line]
    assert failing and "sgd_l2" in failing[0], text
    assert cause in text, text


def test_good_env_passes(tmp_path):
    code, text = _compare(tmp_path, lambda curves: None, "env-good")
    assert code == 0, text
    assert "env-good" in text and "golden-tf1.15.5" in text


def _relabelled(folder, env, tensorflow, name="sgd_l2", backend="tf2-keras"):
    """A golden run saved as ``folder/env/<name>__<backend>.json``, as if the
    project had recorded it under TensorFlow ``tensorflow`` (no training)."""
    import os
    from compat_reg import golden_files
    t = trace.load(golden_files.path("train_sgd_l2.json"))
    t.env = dict(t.env, backend=backend, golden=False, tox_env=env,
                 tensorflow=tensorflow)
    if name == "adam_l2":  # same arrays, the adam_l2 config
        from compat_reg.parity import workloads
        config = workloads.builtin("adam_l2").config
        t.workload = {"name": name, "config": config}
        t.port = dict(t.port, optimizer=trace.spec_hparams(config))
    path = os.path.join(str(folder), env, "%s__%s.json" % (name, backend))
    t.save(path)
    return path


def test_with_a_tf1_folder_everything_is_measured_against_tf1(tmp_path):
    import json
    for name in ("sgd_l2", "adam_l2"):
        # "env-a" sorts before "tf1": the reference is chosen by what a trace
        # is (TF 1.x), not by the order the files are read
        _relabelled(tmp_path, "env-a", "2.12.0", name)
        _relabelled(tmp_path, "env-a", "2.12.0", name, "tf1-graph")
        _relabelled(tmp_path, "tf1", "1.15.5", name, "tf1-graph")
    out = str(tmp_path / "report.json")
    sink = _Sink()
    code = cli.main(["compare", str(tmp_path), "--golden", "--json", out],
                    out=sink)
    assert code == 0, sink.text
    with open(out) as handle:
        rows = [(r["workload"], r["env"].get("tox_env") or "golden",
                 r["backend"], r["reference"])
                for r in json.load(handle)["comparisons"]]
    assert sorted(rows) == [
        ("adam_l2", "env-a", "tf1-graph", "tf1/tf1-graph"),
        ("adam_l2", "env-a", "tf2-keras", "tf1/tf1-graph"),
        ("sgd_l2", "env-a", "tf1-graph", "tf1/tf1-graph"),
        ("sgd_l2", "env-a", "tf2-keras", "tf1/tf1-graph"),
        ("sgd_l2", "tf1", "tf1-graph", "golden-tf1.15.5/golden"),
    ]
    assert "reference for adam_l2, sgd_l2: tf1/tf1-graph" in sink.text
    assert "no TF 1.x run" not in sink.text


def test_every_tf1_minor_against_the_tf_1_15_run_and_the_golden(tmp_path):
    """tf14 ... tf114 beside tf1: the reference is the run on the golden's
    TF (1.15), whatever order the folders are read in ("tf110" sorts before
    "tf1/" in some listings), for adam_l2 (no golden trace) too, and each
    other TF 1.x run is measured against it and against the golden trace."""
    import json
    minors = [("tf110", "1.10.1"), ("tf14", "1.4.1"), ("tf1", "1.15.5")]
    for name in ("sgd_l2", "adam_l2"):
        for env, version in minors:
            _relabelled(tmp_path, env, version, name, "tf1-graph")
    out = str(tmp_path / "report.json")
    sink = _Sink()
    assert cli.main(["compare", str(tmp_path), "--golden", "--json", out],
                    out=sink) == 0, sink.text
    with open(out) as handle:
        rows = [(r["workload"], r["env"].get("tox_env") or "golden", r["reference"])
                for r in json.load(handle)["comparisons"]]
    golden = "golden-tf1.15.5/golden"
    assert sorted(rows) == sorted(
        [(name, env, "tf1/tf1-graph") for name in ("sgd_l2", "adam_l2")
         for env in ("tf110", "tf14")]
        + [("sgd_l2", env, golden) for env in ("tf1", "tf110", "tf14")])


def test_without_a_tf1_folder_it_falls_back_and_says_so(tmp_path):
    _relabelled(tmp_path, "env-a", "2.12.0", "adam_l2", "tf1-graph")
    _relabelled(tmp_path, "env-a", "2.12.0", "adam_l2")
    sink = _Sink()
    assert cli.main(["compare", str(tmp_path), "--golden"], out=sink) == 0
    assert "reference for adam_l2: env-a/tf1-graph" in sink.text
    assert "no TF 1.x run of this project among the traces" in sink.text


def test_compare_figure_rows_are_envs_in_tf_order_and_cells_say_fail(tmp_path):
    pytest.importorskip("matplotlib")
    from compat_reg.parity import pairing, plot
    envs = [("tf221-legacy", "2.21.0"), ("tf210", "2.10.0"), ("tf29", "2.9.0"),
            ("tf1", "1.15.5")]
    for env, version in envs:
        _relabelled(tmp_path, env, version, "sgd_l2", "tf1-graph")
    bad = _relabelled(tmp_path, "tf29", "2.9.0", "sgd_l2", "tf2-keras")
    broken = trace.load(bad)
    _doubled(broken.curves)
    broken.save(bad)
    results, pairs = pairing.run(pairing.plans(trace.collect([str(tmp_path)])))
    rows, columns, cells = plot.layout(results)
    assert rows == ["tf1", "tf29", "tf210", "tf221-legacy"]  # not "tf210" < "tf29"
    assert columns == ["sgd_l2\ntf1-graph", "sgd_l2\ntf2-keras"]
    assert not cells[("tf29", "sgd_l2\ntf2-keras")].ok
    # a copy of the reference's curves: exactly 0, drawn as such
    assert cells[("tf210", "sgd_l2\ntf1-graph")].max_curve == 0.0
    png = str(tmp_path / "m.png")
    plot.plot(results, png, pairs=pairs)
    with open(png, "rb") as handle:
        assert handle.read(8) == b"\x89PNG\r\n\x1a\n"
