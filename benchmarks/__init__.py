"""``python -m benchmarks``: one table of ratios, each the median over
interleaved rounds with its spread, and a JSON record.

Every module of this package is imported. A process row is a function
registered with ``@row`` (``rows_migrate.py``): it gets a scratch directory and returns
a ``Row``: the command measured (A), the yardstick (B, or None for a row
that reports A's time and memory alone), and what to redo before each run
(``reset``, e.g. a fresh copy of a tree that ``--write`` rewrites). Every
command runs in a fresh process, timed from outside (wall seconds and the
child's peak RSS from ``wait4``); A and B alternate, A B A B..., so a drift
of the machine's speed hits both. The ratio is B's time over A's, per round.

In-process rows (``runtime.py``) are a module function ``rows(rounds)``
(and ``tf1_vs_tf2(rounds)``) returning records of the same keys; they run
after the process rows. Adding either kind is adding a module.
"""
import collections

Row = collections.namedtuple("Row", "a b reset note")
Row.__new__.__defaults__ = (None, None, "")

ROWS = collections.OrderedDict()


def row(name):
    """Register ``make(workdir) -> Row`` as the row called ``name``."""
    def register(make):
        ROWS[name] = make
        return make
    return register
