"""``python -m compat_reg.parity``: the ``compat-reg parity`` command."""

from __future__ import absolute_import, division, print_function

import sys

from compat_reg.parity.cli import main

if __name__ == "__main__":
    sys.exit(main())
