import sys

from compat_reg.migrate.cli import main

if __name__ == "__main__":
    sys.exit(main())
