"""A one-line progress bar on stderr, shown only on a terminal."""

from __future__ import absolute_import, division, print_function

import sys


class Progress(object):
    """``with Progress(total) as bar: bar.step("label")``; silent if not a tty."""

    def __init__(self, total, stream=None, width=30):
        self.total = max(int(total), 1)
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.done = 0
        isatty = getattr(self.stream, "isatty", None)
        self.enabled = bool(isatty and isatty())

    def _draw(self, label):
        filled = int(self.width * self.done / self.total)
        self.stream.write("\r[%s%s] %d/%d %s\x1b[K" % (
            "#" * filled, "." * (self.width - filled), self.done, self.total,
            label))
        self.stream.flush()

    def start(self, label):
        """Show ``label`` as the task now running."""
        if self.enabled:
            self._draw(label)

    def step(self, label=""):
        """Count one finished task."""
        self.done += 1
        if self.enabled:
            self._draw(label)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.enabled:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
        return False
