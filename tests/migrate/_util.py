"""Shared by the migrate tests: run a rewrite and check it is stable."""
import ast
import signal

from compat_reg.migrate._core import migrate_source


def migrated(src, target="compat_reg"):
    result = migrate_source(src, target)
    ast.parse(result.source)
    again = migrate_source(result.source, target)
    assert again.source == result.source, "second run changed something"
    return result.source


def codes(src, target="compat_reg", kind="hazard"):
    return [(f.line, f.code) for f in migrate_source(src, target).findings
            if f.kind == kind]


def default_sigint():
    """``preexec_fn`` of a CLI run that a test interrupts: a shell's
    background job (``tox ... &``, ``nohup``) inherits SIGINT ignored, and
    Python then installs no KeyboardInterrupt handler, so every SIGINT would
    leave the run untouched. The run under test gets SIGINT's default."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
