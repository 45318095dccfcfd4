"""The registry is the one list: every workload, backend, strategy and port
it names is accepted by the command line and listed in its help, and the
tables of docs/proving_parity.md are the registry's."""

import os

import pytest

from compat_reg.parity import cli, registry, runner

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))
PARSER = cli.build_parser()
# (option, the commands that take it, its names)
AXES = [
    ("--workload", ("run", "record"), list(registry.WORKLOADS)),
    ("--port", ("run", "record", "replay"), list(registry.PORTS)),
    ("--backend", ("run", "record", "replay"), list(registry.BACKENDS)),
    ("--strategy", ("run",), list(registry.DISTRIBUTED) + ["all"]),
]
CASES = [(option, command, name) for option, commands, names in AXES
         for command in commands for name in names]
NEEDS = {"record": ["--out-dir", "x", "--all"], "replay": ["sgd_l2"],
         "run": []}


def _argv(option, command, name):
    argv = [command, option, name] + NEEDS[command]
    if command == "record" and option == "--workload":
        argv.remove("--all")
    return argv


@pytest.mark.parametrize("option,command,name", CASES,
                         ids=["%s %s %s" % c for c in CASES])
def test_every_registered_name_is_accepted(option, command, name):
    args = PARSER.parse_args(_argv(option, command, name))
    value = getattr(args, option[2:])
    assert name in (value if isinstance(value, list) else [value])


def _help(command, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100000")  # no line breaks at hyphens
    sub = PARSER._subparsers._group_actions[0].choices[command]
    return " ".join(sub.format_help().split())


ENTRIES = [(kind, name) for kind, table in registry.TABLES.items()
           for name in table if kind != "strategy" or table[name].cls]


@pytest.mark.parametrize("kind,name", ENTRIES,
                         ids=["%s %s" % e for e in ENTRIES])
def test_run_help_describes_every_entry(kind, name, monkeypatch):
    described = "%s (%s)" % (name, registry.TABLES[kind][name].help)
    assert " ".join(described.split()) in _help("run", monkeypatch)


@pytest.mark.parametrize("option", ["--workload", "--port", "--backend",
                                    "--strategy"])
def test_an_unregistered_name_is_a_usage_error(option, capsys):
    assert cli.main(["run", option, "no-such-name"]) == 2
    assert "invalid choice: 'no-such-name'" in capsys.readouterr().err


@pytest.mark.parametrize("kind", list(registry.TABLES))
def test_docs_table_is_the_registry(kind):
    with open(os.path.join(ROOT, "docs", "proving_parity.md")) as handle:
        text = handle.read()
    assert registry.markdown(kind) in text


def test_strategy_backends_and_ports_are_registered():
    assert set(registry.STRATEGY_BACKENDS) <= set(registry.BACKENDS)
    assert registry.STRATEGIES["none"].cls is None
    assert all(registry.STRATEGIES[s].cls for s in registry.DISTRIBUTED)
    assert registry.UNSCALED_PORT in registry.PORTS
    # a port wrong only under a strategy trains as the correct one elsewhere
    for name, entry in registry.PORTS.items():
        for strategy in registry.STRATEGIES:
            for backend in registry.STRATEGY_BACKENDS:
                port = registry.port(name, strategy, backend)
                wrong = not entry.strategy or (
                    strategy != "none" and backend == "tf2-keras")
                assert port.name == (name if wrong else "correct")


@pytest.mark.parametrize("kind,name", [("workload", "mlp"), ("port", "x"),
                                       ("backend", "tf3"),
                                       ("strategy", "tpu")])
def test_check_refuses_an_unknown_name(kind, name):
    with pytest.raises(ValueError) as caught:
        registry.check(kind, name)
    assert "unknown %s %r" % (kind, name) in str(caught.value)


def test_run_refuses_an_unknown_strategy():
    with pytest.raises(ValueError) as caught:
        runner.run_workloads([], strategies=["tpu"])
    assert "unknown strategy 'tpu'" in str(caught.value)


def test_every_registered_workload_has_a_reference_under_a_strategy():
    """``parity run --strategy all`` trains every registered workload: an
    MLP against its one-device reference, a conv net against TF 1.15's own
    run under MirroredStrategy (``make_convnet_replicas``); a conv net
    without that recording is refused with the reason, and on a Keras whose
    strategy drops a weight's aggregation (Keras 3.0-3.6) every conv net
    with batch norm is, with that reason."""
    from compat_reg import _compat
    from compat_reg.parity import distributed, models, workloads
    aggregates = _compat.STRATEGY_AGGREGATES_KERAS_WEIGHTS
    conv = []
    for name in registry.WORKLOADS:
        work = workloads.builtin(name)
        if models.kind(work.config) == "mlp":
            assert distributed.unsupported(work) is None, name
            continue
        conv.append(name)
        assert distributed.reference(work).workload["name"] == name
        if aggregates:
            assert distributed.unsupported(work) is None, name
        else:
            assert "STRATEGY_AGGREGATES_KERAS_WEIGHTS = False" in (
                distributed.unsupported(work)), name
    assert "resume_momentum" in conv and "resume_adam" in conv
    unrecorded = workloads.builtin("resume_adam")
    unrecorded.name = "a_teams_convnet"
    reason = distributed.unsupported(unrecorded)
    assert reason.startswith("a_teams_convnet: " + (
        "--strategy proves a conv net" if aggregates else "Keras "))
    with pytest.raises(ValueError):
        distributed.reference(unrecorded)
