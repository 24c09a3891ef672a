"""``compress-dataset``: a dataset tree to ``.ncc`` files and a manifest (Lightning, resumable)."""

from __future__ import annotations

import argparse
import sys

from neuralcodec import dataset, registry
from neuralcodec.cli.console import Console
from neuralcodec.cli.status import EXIT_OK, UsageError

__all__ = ["compress_dataset"]


def compress_dataset(args: argparse.Namespace, console: Console) -> int:
    """Compress a dataset tree; returns the exit status."""
    if args.layout not in dataset.LAYOUTS:
        raise UsageError(f"unknown layout {args.layout!r}; choose from {', '.join(dataset.LAYOUTS)}")
    registry.get(args.codec).check_quality(args.quality)  # before Lightning starts
    devices = int(args.devices) if args.devices.isdigit() else args.devices
    result = dataset.compress_dataset(
        args.source, args.output, args.quality, args.codec,
        layout=args.layout, splits=args.split, limit=args.limit, devices=devices,
        accelerator=args.accelerator, strategy=args.strategy, num_nodes=args.num_nodes,
        num_workers=args.num_workers, threads=args.threads,
        progress=not args.quiet and sys.stderr.isatty(),
    )
    if result is not None:  # global rank 0 reports; the other DDP ranks stay quiet
        console.result(f"{result.output}: {result.num_items} images ({result.encoded} coded, {result.skipped} "
                       f"already done), {result.total_bytes} bytes, mean {result.mean_bpp:.4f} bpp; "
                       f"{result.images_per_s:.2f} images/s over {result.seconds:.1f} s "
                       f"({result.world_size} processes x {result.threads} threads)")
    return EXIT_OK
