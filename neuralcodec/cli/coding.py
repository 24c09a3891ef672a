"""``compress`` and ``decompress``: images to ``.ncc`` files and back, for files, folders or pipes."""

from __future__ import annotations

import argparse
import time
import warnings

import torch
from PIL import Image

from neuralcodec import api, registry
from neuralcodec.cli import files, images
from neuralcodec.cli.batch import run_batch
from neuralcodec.cli.console import Console
from neuralcodec.cli.files import Job
from neuralcodec.cli.status import CommandError, UsageError
from neuralcodec.fileinfo import read_info

__all__ = ["compress", "decompress"]

_SUFFIX = ".ncc"


def compress(args: argparse.Namespace, console: Console) -> int:
    """Compress each input into a ``.ncc`` file; returns the exit status."""
    if args.bpp is None:
        registry.get(args.codec).check_quality(args.quality)  # before the weights load
    jobs = files.plan(args.inputs, args.output, _SUFFIX)
    if jobs[0].target is None:
        console.reserve_stdout()
    _use_max_pixels_only(args.max_pixels)
    codec = api.Codec(args.codec, _device(args.device), args.max_pixels, args.encoder, args.weights)

    def one(job: Job) -> None:
        files.check_target(job.target, args.force)  # before the work
        image = files.read_input(job.source)
        start = time.perf_counter()
        if args.bpp is not None:
            data = codec.encode_to_bpp(image, args.bpp, args.tile_size)
        else:
            data = codec.encode(image, args.quality, args.tile_size)
        elapsed = time.perf_counter() - start
        files.write_output(job.target, data, args.force)
        info = read_info(data)
        console.result(f"{job.name} -> {job.target_name}: {info.num_bytes} bytes, {info.bpp:.4f} bpp, "
                       f"q={info.quality:g}, {info.width}x{info.height}, {elapsed:.2f} s")

    return run_batch(jobs, one, console, "compress", args.debug)


def _device(name: str) -> torch.device:
    """``--device`` as a torch device that works on this machine.

    Raises:
        UsageError: torch does not know the device, or cannot use it here (no driver, say).
    """
    try:
        device = torch.device(name)
        torch.empty(0, device=device)
    except (RuntimeError, AssertionError) as error:  # torch asserts when built without CUDA
        raise UsageError(f"--device {name}: {str(error).splitlines()[0]}") from None
    return device


def _use_max_pixels_only(max_pixels: int) -> None:
    """Make ``--max-pixels`` the one size limit of this process.

    Pillow's decompression-bomb limit is lifted to it when lower, and its warning (for images
    between its limit and twice that) is silenced: the image's header is checked against
    ``--max-pixels`` before any pixel is decoded.
    """
    if Image.MAX_IMAGE_PIXELS is not None and max_pixels > Image.MAX_IMAGE_PIXELS:
        Image.MAX_IMAGE_PIXELS = max_pixels
    warnings.simplefilter("ignore", Image.DecompressionBombWarning)


def decompress(args: argparse.Namespace, console: Console) -> int:
    """Decode each ``.ncc`` input to an image file; returns the exit status."""
    if args.reference is not None and len(args.inputs) > 1:
        raise UsageError("--reference takes a single input file")
    protected = [args.reference] if args.reference is not None else []
    jobs = files.plan(args.inputs, args.output, images.suffix_for(args.format), protected)
    formats = {job: images.output_format(job.target, args.format) for job in jobs}
    if jobs[0].target is None:
        console.reserve_stdout()
    device = _device(args.device)
    reference = None if args.reference is None else images.read_reference(args.reference, args.max_pixels)
    codecs: dict[tuple[str, str], api.Codec] = {}

    def one(job: Job) -> None:
        files.check_target(job.target, args.force)  # before the work
        data = files.read_input(job.source)
        info = read_info(data)
        if reference is not None and reference.shape[:2] != (info.height, info.width):
            raise CommandError(f"--reference is {reference.shape[1]}x{reference.shape[0]}, "
                               f"the file {info.width}x{info.height}")
        key = (info.codec, info.weights_id)  # the weights that made the file, current or earlier
        if key not in codecs:
            release = api.weights_release(*key)
            codecs[key] = api.Codec(info.codec, device, args.max_pixels, weights=release)
        start = time.perf_counter()
        image = codecs[key].decode(data)
        elapsed = time.perf_counter() - start
        files.write_output(job.target, images.encode_image(image, formats[job]), args.force)
        line = f"{job.name} -> {job.target_name}: {info.bpp:.4f} bpp, {info.width}x{info.height} {info.mode}"
        if reference is not None:
            line += f", PSNR {images.psnr(reference, image):.2f} dB"
        console.result(f"{line}, {elapsed:.2f} s")

    return run_batch(jobs, one, console, "decompress", args.debug)
