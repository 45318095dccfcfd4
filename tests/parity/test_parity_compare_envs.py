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
