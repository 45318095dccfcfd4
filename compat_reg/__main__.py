"""``python -m compat_reg``: the compat-reg command line."""
import sys

from compat_reg.cli import main

sys.exit(main())
