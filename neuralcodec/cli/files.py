"""Inputs and outputs of the commands: file names, standard input and output, safe writes.

Every output is planned before any work, and refused when it would overwrite one of the
command's inputs (or its ``--reference``) or another output of the same run. Files are
written to a temporary file in the target's folder and renamed into place, so a failure
never leaves a partial file; nothing is overwritten without ``-f``. New files get the mode the
umask gives; a replaced file keeps its mode. ``-`` names standard input or output.
"""

from __future__ import annotations

import os
import secrets
import stat
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from neuralcodec.cli.status import CommandError, UsageError

__all__ = ["STDIO", "Job", "check_target", "inputs", "plan", "read_input", "write_output"]

#: The name of standard input (as an input) and standard output (as ``-o``).
STDIO = "-"


@dataclass(frozen=True)
class Job:
    """One input of a command and where its result goes.

    Attributes:
        source: The input file; None for standard input.
        target: The output file; None for standard output (or for commands that only read).
    """

    source: Path | None
    target: Path | None = None

    @property
    def name(self) -> str:
        """The input as messages name it."""
        return "<stdin>" if self.source is None else str(self.source)

    @property
    def target_name(self) -> str:
        """The output as messages name it."""
        return "<stdout>" if self.target is None else str(self.target)


def inputs(names: Sequence[str]) -> list[Job]:
    """Jobs that only read ``names`` (``-``: standard input, alone).

    Raises:
        UsageError: ``-`` among other inputs, or standard input is a terminal.
    """
    if STDIO in names:
        if len(names) > 1:
            raise UsageError("'-' (standard input) must be the only input")
        if sys.stdin.isatty():
            raise UsageError("standard input is a terminal: pipe a file into it, or name the file")
    return [Job(None if name == STDIO else Path(name)) for name in names]


def plan(
    names: Sequence[str], output: str | None, suffix: str, protected: Sequence[Path] = ()
) -> list[Job]:
    """Pair each input with its output, refusing what would lose a file before any work.

    Args:
        names: Input files (``-``: standard input, alone).
        output: ``-o``: a file, a folder (required for several inputs), ``-`` for standard
            output, or None for the input's name with ``suffix`` (standard output for ``-``).
        suffix: The outputs' extension, with its dot.
        protected: Further files the command reads (``--reference``), never to be overwritten.

    Raises:
        UsageError: As :func:`inputs`; standard output for several inputs or to a terminal;
            several inputs without an output folder; two outputs in one place; an output
            that is an input or a protected file.
    """
    jobs = [Job(job.source, _target(job.source, output, suffix, len(names) > 1)) for job in inputs(names)]
    if any(job.target is None for job in jobs):
        if len(jobs) > 1:
            raise UsageError("'-o -' (standard output) takes a single input")
        if sys.stdout.isatty():
            raise UsageError("standard output is a terminal: redirect it, or name a file with -o")
    _check_distinct(jobs, protected)
    return jobs


def _target(source: Path | None, output: str | None, suffix: str, many: bool) -> Path | None:
    if output is None:
        return None if source is None else source.with_suffix(suffix)
    if output == STDIO:
        return None
    folder = Path(output)
    if not (many or folder.is_dir()):
        return folder
    if not folder.is_dir():
        raise UsageError(f"{folder} must be an existing folder when giving several inputs")
    if source is None:
        raise UsageError("standard input has no name: give its output file with -o")
    return folder / (source.stem + suffix)


def _check_distinct(jobs: Sequence[Job], protected: Sequence[Path]) -> None:
    """Refuse outputs that are inputs, protected files, or the output of another input."""
    read = {_identity(job.source): f"the input {job.name}" for job in jobs if job.source is not None}
    read.update({_identity(path): f"the --reference image {path}" for path in protected})
    written: dict[object, Job] = {}
    for job in jobs:
        if job.target is None:
            continue
        key = _identity(job.target)
        if key in read:
            raise UsageError(f"output {job.target} would overwrite {read[key]}")
        if key in written:
            raise UsageError(
                f"{written[key].name} and {job.name} would both be written to {job.target}; "
                "give them distinct names or separate output folders"
            )
        written[key] = job


def _identity(path: Path) -> object:
    """What makes two paths one file: device and inode when it exists (links), else the path."""
    try:
        status = path.stat()
    except OSError:
        return path.resolve()
    return status.st_dev, status.st_ino


def read_input(source: Path | None) -> bytes:
    """The bytes of an input file, or of standard input (None).

    Raises:
        CommandError: The file cannot be read (the message leaves naming it to the caller).
    """
    if source is None:
        return sys.stdin.buffer.read()
    try:
        return source.read_bytes()
    except OSError as error:
        raise CommandError(error.strerror or str(error)) from None


def check_target(target: Path | None, force: bool) -> None:
    """Refuse an output before the work that makes it: one that exists (without ``force``), or
    whose folder does not.

    Raises:
        CommandError: Either case.
    """
    if target is None:
        return
    if target.exists() and not force:
        raise CommandError(f"{target} exists (use -f to overwrite)")
    if not target.parent.is_dir():
        raise CommandError(f"folder {target.parent} does not exist")


def write_output(target: Path | None, data: bytes, force: bool) -> None:
    """Write ``data`` to ``target`` (atomically) or to standard output (None).

    Raises:
        CommandError: The target exists (without ``force``) or cannot be written.
    """
    if target is None:
        _write_stdout(data)
    else:
        _write_file(target, data, force)


def _write_file(path: Path, data: bytes, force: bool) -> None:
    check_target(path, force)  # again: the file may have appeared while the data was made
    mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else None
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
    created = False
    try:
        with open(temporary, "xb") as f:  # mode 0o666 less the umask, like any new file
            created = True
            f.write(data)
            if mode is not None:
                os.fchmod(f.fileno(), mode)
        os.replace(temporary, path)
    except BaseException as error:
        if created:
            temporary.unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise CommandError(f"cannot write {path}: {error.strerror or error}") from None
        raise


def _write_stdout(data: bytes) -> None:
    try:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    except BrokenPipeError:
        # The reader is gone; point stdout at /dev/null so the exit-time flush stays quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise CommandError("standard output was closed (broken pipe)") from None
