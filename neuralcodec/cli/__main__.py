"""``python -m neuralcodec.cli``: the command line."""

import sys

from neuralcodec.cli.app import main

if __name__ == "__main__":
    sys.exit(main())
