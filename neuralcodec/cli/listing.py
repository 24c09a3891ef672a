"""``info`` and ``models``: what a file's header says and what is installed (no torch)."""

from __future__ import annotations

import argparse

from neuralcodec.catalog import available_codecs, available_encoders, available_heads
from neuralcodec.cli import files
from neuralcodec.cli.batch import run_batch
from neuralcodec.cli.console import Console
from neuralcodec.cli.files import Job
from neuralcodec.cli.status import EXIT_OK
from neuralcodec.fileinfo import read_info

__all__ = ["info", "models"]


def info(args: argparse.Namespace, console: Console) -> int:
    """Print the header fields of each ``.ncc`` input; returns the exit status."""

    def one(job: Job) -> None:
        fields = read_info(files.read_input(job.source))._asdict()
        console.output("\n".join([f"{job.name}:"] + [
            f"  {field:15} {value:.4f}" if isinstance(value, float) else f"  {field:15} {value}"
            for field, value in fields.items()
        ]))

    return run_batch(files.inputs(args.inputs), one, console, "info", args.debug)


def models(args: argparse.Namespace, console: Console) -> int:
    """List the registered codecs, encoder variants and task heads, and whether their weights are installed."""
    for row in available_codecs():
        state = "installed" if row.installed else "not installed"
        console.output(f"{row.name:14} id={row.codec_id:<3} {row.architecture:18} {state:14} {row.description}")
        version = f"v{row.version} " if row.version else ""
        console.output(f"{'':14} weights: {version}{row.weights}")
        for release in row.previous_weights:
            console.output(f"{'':14} earlier weights (their files decode; --weights vN): {release}")
    for enc in available_encoders():
        state = "installed" if enc.installed else "not installed"
        console.output(f"encoder {enc.name:16} for {enc.codec:14} {enc.kind:11} {state:14} {enc.description}")
        console.output(f"{'':12} weights: {enc.weights}")
    for head in available_heads():
        state = "installed" if head.installed else "not installed"
        console.output(f"head {head.task:19} on {head.codec:14} q{head.quality:<8g} {state:14} {head.dataset}")
        console.output(f"{'':12} weights: {head.weights}")
    return EXIT_OK
