"""Where the command's messages go: data, result lines, warnings, errors and the progress bar.

Data (``info``, ``models``, ``classify``) goes to stdout. Result lines (one per file written) go
to stdout too, or to stderr when stdout carries a file (``-o -``); ``--quiet`` drops them.
Warnings and errors go to stderr. The progress bar is drawn on stderr for several files, only
when stderr is a terminal, and every line is written through it so the two never overlap.
"""

from __future__ import annotations

import contextlib
import sys
import warnings
from collections.abc import Iterator, Sequence
from typing import Any, TextIO, TypeVar

__all__ = ["Console"]

_Item = TypeVar("_Item")
_PROGRAM = "neuralcodec"


class Console:
    """The messages of one command run.

    Args:
        quiet: Print no result lines and no progress bar (warnings and errors still show).
    """

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self._results_to_stderr = False
        self._bar: Any = None  # the active tqdm bar

    def reserve_stdout(self) -> None:
        """Keep stdout for the data the command writes there: result lines go to stderr."""
        self._results_to_stderr = True

    def output(self, text: str) -> None:
        """Print what the command was asked to show (not affected by ``--quiet``)."""
        self._write(text, sys.stdout)

    def result(self, line: str) -> None:
        """Report a file written (unless quiet)."""
        if not self.quiet:
            self._write(line, sys.stderr if self._results_to_stderr else sys.stdout)

    def warning(self, message: str) -> None:
        """Print a warning on stderr."""
        self._write(f"{_PROGRAM}: warning: {message}", sys.stderr)

    def error(self, message: str) -> None:
        """Print an error on stderr."""
        self._write(f"{_PROGRAM}: error: {message}", sys.stderr)

    def show_warning(self, message: Warning | str, *args: object, **kwargs: object) -> None:
        """A :func:`warnings.showwarning` replacement: one line, no source location."""
        self.warning(str(message))

    @contextlib.contextmanager
    def warnings_about(self, name: str) -> Iterator[None]:
        """Show the warnings raised inside, prefixed with ``name`` (the file they concern)."""
        # catch_warnings resets the once-per-location registry: each file gets its warnings.
        with warnings.catch_warnings(record=True) as caught:
            try:
                yield
            finally:
                for warning in caught:
                    self.warning(f"{name}: {warning.message}")

    def progress(self, items: Sequence[_Item], description: str) -> Iterator[_Item]:
        """Iterate over ``items``, with a progress bar when it helps and stderr is a terminal."""
        if self.quiet or len(items) < 2 or not sys.stderr.isatty():
            yield from items
            return
        from tqdm import tqdm  # only when a bar is drawn

        with tqdm(total=len(items), desc=description, unit="file", file=sys.stderr, leave=False) as bar:
            self._bar = bar
            try:
                for item in items:
                    yield item
                    bar.update()
            finally:
                self._bar = None

    def _write(self, text: str, stream: TextIO) -> None:
        if self._bar is not None:
            self._bar.write(text, file=stream)  # clears the bar, writes, redraws it
        else:
            print(text, file=stream, flush=True)
