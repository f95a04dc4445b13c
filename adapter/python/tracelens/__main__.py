# Entry point of `python -m tracelens`: hands the command line to cli.main.
# Nothing else lives here, so the traced program never sees this module's globals.
import sys

from tracelens.cli import main

if __name__ == "__main__":
    sys.exit(main())
