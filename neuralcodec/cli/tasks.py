"""``classify`` and ``segment``: the shipped task heads, run on a file's latents (no pixel decoding)."""

from __future__ import annotations

import argparse

from neuralcodec import tasks
from neuralcodec.cli import files, images
from neuralcodec.cli.batch import run_batch
from neuralcodec.cli.console import Console
from neuralcodec.cli.files import Job

__all__ = ["classify", "segment"]


def classify(args: argparse.Namespace, console: Console) -> int:
    """Print the most probable classes of each ``.ncc`` input; returns the exit status."""

    def one(job: Job) -> None:
        predictions = tasks.classify(files.read_input(job.source), args.top)
        console.output("\n".join([f"{job.name}:"] + [
            f"  {probability:7.2%}  {name}" for name, probability in predictions
        ]))

    return run_batch(files.inputs(args.inputs), one, console, "classify", args.debug)


def segment(args: argparse.Namespace, console: Console) -> int:
    """Write the class-id mask of a ``.ncc`` input as a palette PNG; returns the exit status."""
    jobs = files.plan([args.input], args.output, ".png")
    if jobs[0].target is None:
        console.reserve_stdout()

    def one(job: Job) -> None:
        files.check_target(job.target, args.force)
        mask = tasks.segment(files.read_input(job.source))
        files.write_output(job.target, images.encode_image(mask, "PNG"), args.force)
        counts = sorted(mask.getcolors(256) or [], reverse=True)[:3]
        console.result(
            f"{job.name} -> {job.target_name}: {mask.width}x{mask.height} class ids; most frequent "
            + ", ".join(f"{label} ({count / (mask.width * mask.height):.0%})" for count, label in counts)
        )

    return run_batch(jobs, one, console, "segment", args.debug)
