"""Running a command over several files: one failure is reported and the rest still run."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from neuralcodec.cli.console import Console
from neuralcodec.cli.files import Job
from neuralcodec.cli.status import EXIT_FAILURE, EXIT_OK, REPORTED, describe

__all__ = ["run_batch"]


def run_batch(
    jobs: Sequence[Job], work: Callable[[Job], None], console: Console, description: str, debug: bool
) -> int:
    """Run ``work`` on each job; report each failure with its file's name, then a summary.

    Args:
        jobs: The files, in order.
        work: Does one file and prints its own lines.
        console: Where messages go.
        description: The progress bar's label (the command).
        debug: Raise the first failure (with its traceback) instead of going on.

    Returns:
        ``EXIT_OK``, or ``EXIT_FAILURE`` when any file failed.
    """
    failed: list[str] = []
    for job in console.progress(jobs, description):
        try:
            with console.warnings_about(job.name):
                work(job)
        except BrokenPipeError:
            raise  # the reader of stdout has gone (`| head`): not this file's fault, stop
        except REPORTED as error:
            if debug:
                raise
            console.error(f"{job.name}: {describe(error)}")
            failed.append(job.name)
    if failed and len(jobs) > 1:
        console.error(f"{len(failed)} of {len(jobs)} files failed: {', '.join(failed)}")
    return EXIT_FAILURE if failed else EXIT_OK
