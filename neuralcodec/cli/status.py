"""Exit statuses, and the errors the command line reports in one line instead of a traceback.

- 0: success.
- 1: a runtime failure: a file that cannot be read, decoded or written, missing weights, I/O.
  With several inputs, any failed file (the others are still done).
- 2: a usage error: the command line asks for something impossible (a bad option value, a
  quality out of the codec's range, outputs that would overwrite an input or each other).
  argparse's own errors exit with 2 as well.
- 130: interrupted (Ctrl-C).
"""

from __future__ import annotations

from neuralcodec.errors import NeuralcodecError, PixelLimitError, QualityError, TileSizeError

__all__ = [
    "EXIT_OK",
    "EXIT_FAILURE",
    "EXIT_USAGE",
    "EXIT_INTERRUPTED",
    "REPORTED",
    "CommandError",
    "UsageError",
    "describe",
    "exit_status",
]

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class UsageError(Exception):
    """The command line asks for something impossible (exit status 2)."""


class CommandError(Exception):
    """A file or the system refused what the command needs (exit status 1)."""


#: What is reported in one line; anything else is a bug and shows its traceback.
REPORTED = (UsageError, CommandError, NeuralcodecError, OSError)
#: The API's errors that come from an option's value rather than from a file.
_USAGE = (UsageError, QualityError, TileSizeError)


def exit_status(error: BaseException) -> int:
    """2 for a usage error, 1 for any other reported error."""
    return EXIT_USAGE if isinstance(error, _USAGE) else EXIT_FAILURE


def describe(error: BaseException) -> str:
    """The one-line message for ``error``, naming command-line flags where the API names arguments."""
    if isinstance(error, PixelLimitError):
        return error.describe("raise it with --max-pixels")
    return str(error)
