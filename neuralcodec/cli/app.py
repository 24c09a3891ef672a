"""The entry point: parse the command line, run the command, turn errors into exit statuses."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import warnings
from collections.abc import Callable, Sequence

from neuralcodec.cli.console import Console
from neuralcodec.cli.parser import build_parser
from neuralcodec.cli.status import EXIT_FAILURE, EXIT_INTERRUPTED, REPORTED, describe, exit_status

__all__ = ["main"]

#: Each command's function, as ``module:function`` in this package. A command's module is
#: imported only when it runs, so ``info`` and ``models`` never load torch.
_COMMANDS = {
    "compress": "coding:compress",
    "decompress": "coding:decompress",
    "info": "listing:info",
    "models": "listing:models",
    "classify": "tasks:classify",
    "segment": "tasks:segment",
    "export": "exporting:export",
    "compress-dataset": "datasets:compress_dataset",
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (see :mod:`neuralcodec.cli.status`)."""
    args = build_parser().parse_args(argv)
    console = Console(args.quiet)
    with warnings.catch_warnings():
        warnings.showwarning = console.show_warning
        try:
            return _command(args.command)(args, console)
        except BrokenPipeError:
            # The reader of stdout has gone (`neuralcodec models | head -1`): stop quietly, and
            # point stdout at /dev/null so the interpreter's last flush cannot fail again.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return EXIT_FAILURE
        except REPORTED as error:
            if args.debug:
                raise
            console.error(describe(error))
            return exit_status(error)
        except KeyboardInterrupt:
            console.error("interrupted")
            return EXIT_INTERRUPTED


def _command(name: str) -> Callable[[argparse.Namespace, Console], int]:
    module, function = _COMMANDS[name].split(":")
    command: Callable[[argparse.Namespace, Console], int] = getattr(
        importlib.import_module(f"neuralcodec.cli.{module}"), function
    )
    return command
