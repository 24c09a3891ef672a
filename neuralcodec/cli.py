"""The ``neuralcodec`` command: compress, decompress, info, models.

User errors print one line to stderr and exit with status 2 (``--debug`` shows the
traceback). Outputs are written atomically: a temporary file in the target folder, renamed
into place, so a failure never leaves a partial file, and nothing is overwritten without ``-f``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from neuralcodec import api
from neuralcodec.errors import NeuralcodecError

__all__ = ["main"]

EXIT_USAGE = 2
_SUFFIX = ".ncc"


class _UserError(Exception):
    """An error that is reported as one line, not a traceback."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="neuralcodec", description="Learned image compression.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    commands = parser.add_subparsers(dest="command", required=True)

    compress = commands.add_parser("compress", help="images -> .ncc files")
    compress.add_argument("images", nargs="+", type=Path)
    rate = compress.add_mutually_exclusive_group()
    rate.add_argument("-q", "--quality", type=float, default=3.0, help="codec's range: 1..8 hyperprior, 1..3 gan; fractional ok (3)")
    rate.add_argument("--bpp", type=float, help="target bits per pixel (bisection on quality)")
    compress.add_argument("--codec", default=None, help="codec name (see `models`)")
    compress.add_argument("--encoder", default=None,
                          help="encoder variant instead of the codec's own (see `models`)")
    compress.add_argument(
        "--tile-size", type=int, default=None,
        help=f"tile side in pixels, a power of two >= 64: less memory, a few bytes per tile "
             f"({api.DEFAULT_TILE_SIZE}; larger when an image needs it)",
    )
    _add_common(compress)

    decompress = commands.add_parser("decompress", help=".ncc files -> images")
    decompress.add_argument("files", nargs="+", type=Path)
    decompress.add_argument("--reference", type=Path, help="original image: also print PSNR")
    decompress.add_argument("--format", default="png", help="output image format (png)")
    _add_common(decompress)

    info = commands.add_parser("info", help="show a file's header")
    info.add_argument("files", nargs="+", type=Path)

    commands.add_parser("models", help="list codecs and installed weights")

    classify = commands.add_parser("classify", help="top-5 classes of .ncc files, from their latents")
    classify.add_argument("files", nargs="+", type=Path)
    classify.add_argument("-k", "--top", type=int, default=5, help="classes to print (5)")

    segment = commands.add_parser("segment", help="class-id mask (palette PNG) of a .ncc file, from its latents")
    segment.add_argument("file", type=Path)
    segment.add_argument("-o", "--output", type=Path, required=True, help="mask PNG to write")
    segment.add_argument("-f", "--force", action="store_true", help="overwrite an existing output")

    export = commands.add_parser("export", help="a codec's encoder or decoder as an ONNX graph")
    export.add_argument("--part", required=True, help="encoder (g_a) or decoder (g_s)")
    export.add_argument("--format", default="onnx", help="onnx (the only one)")
    export.add_argument("--opset", type=int, default=None, help="ONNX opset version (18)")
    export.add_argument("--codec", default=None, help="codec name (see `models`)")
    export.add_argument("-o", "--output", type=Path, required=True, help="output file")
    export.add_argument("-f", "--force", action="store_true", help="overwrite an existing output")

    dataset = commands.add_parser("compress-dataset", help="a dataset tree -> .ncc files + manifest")
    dataset.add_argument("source", type=Path, help="image folder, class folders, CamVid or Cityscapes tree")
    dataset.add_argument("output", type=Path, help="output folder (re-run to resume)")
    dataset.add_argument("-q", "--quality", type=float, default=3.0, help="codec's range: 1..8 hyperprior, 1..3 gan; fractional ok (3)")
    dataset.add_argument("--codec", default=None, help="codec name (see `models`)")
    dataset.add_argument("--layout", default="auto", help="auto|folder|classes|camvid|cityscapes")
    dataset.add_argument("--split", nargs="+", default=None, help="only these splits")
    dataset.add_argument("--limit", type=int, help="only the first N images")
    dataset.add_argument("--devices", default="1", help="processes (CPU) or GPUs per node (1)")
    dataset.add_argument("--accelerator", default="cpu", help="cpu|gpu|auto (cpu)")
    dataset.add_argument("--strategy", default="auto", help="Lightning strategy (ddp when several)")
    dataset.add_argument("--num-nodes", type=int, default=1)
    dataset.add_argument("--num-workers", type=int, default=2, help="image-reading workers per process")
    dataset.add_argument("--threads", type=int, help="torch threads per process (CPU: cores/devices)")
    return parser


def _add_common(command: argparse.ArgumentParser) -> None:
    command.add_argument("-o", "--output", type=Path, help="output file, or folder for several")
    command.add_argument("-f", "--force", action="store_true", help="overwrite existing outputs")
    command.add_argument("--device", default="cpu", help="torch device (cpu)")
    command.add_argument("--max-pixels", type=int, default=api.DEFAULT_MAX_PIXELS)


def _output_path(source: Path, output: Path | None, suffix: str, many: bool) -> Path:
    if output is None:
        return source.with_suffix(suffix)
    if many or output.is_dir():
        if not output.is_dir():
            raise _UserError(f"{output} must be an existing folder when giving several inputs")
        return output / (source.stem + suffix)
    return output


def _check_target(source: Path, target: Path, force: bool) -> None:
    """Refuse before any work: existing outputs without -f, missing folders, input == output."""
    if target.exists() and source.resolve() == target.resolve():
        raise _UserError(f"output {target} would replace its own input")
    if target.exists() and not force:
        raise _UserError(f"{target} exists (use -f to overwrite)")
    if not target.parent.is_dir():
        raise _UserError(f"folder {target.parent} does not exist")


@contextlib.contextmanager
def _atomic_writer(path: Path, force: bool) -> Iterator[Callable[[bytes], int]]:
    """Yield a function that writes bytes to a temp file; rename it to ``path`` on success."""
    if path.exists() and not force:
        raise _UserError(f"{path} exists (use -f to overwrite)")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f.write
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise _UserError(f"cannot read {path}: {error.strerror or error}") from None


def _progress(items: Sequence[Path], desc: str) -> Sequence[Path] | tqdm:
    return tqdm(items, desc=desc, unit="file", file=sys.stderr) if len(items) > 1 else items


def _compress(args: argparse.Namespace) -> int:
    # --max-pixels is the one limit: lift Pillow's decompression-bomb limit to it (the command
    # owns this process), since open_image checks max_pixels on the header before decoding.
    if Image.MAX_IMAGE_PIXELS is not None and args.max_pixels > Image.MAX_IMAGE_PIXELS:
        Image.MAX_IMAGE_PIXELS = args.max_pixels
    name = args.codec or api.DEFAULT_CODEC
    if args.bpp is None:
        api.coded_quality(args.quality, name)  # a bad quality fails before the weights load
    codec = api.Codec(name, args.device, args.max_pixels, args.encoder)
    many = len(args.images) > 1
    for source in _progress(args.images, "compress"):
        target = _output_path(source, args.output, _SUFFIX, many)
        if not source.is_file():
            raise _UserError(f"{source}: no such file")
        _check_target(source, target, args.force)
        start = time.perf_counter()
        if args.bpp is not None:  # not `if args.bpp`: --bpp 0 must fail, not fall back to -q
            data = codec.encode_to_bpp(source, args.bpp, args.tile_size)
        else:
            data = codec.encode(source, args.quality, args.tile_size)
        elapsed = time.perf_counter() - start
        with _atomic_writer(target, args.force) as write:
            write(data)
        info = api.read_info(data)
        print(f"{source} -> {target}: {info.num_bytes} bytes, {info.bpp:.4f} bpp, "
              f"q={info.quality:g}, {info.width}x{info.height}, {elapsed:.2f} s")
    return 0


def _decompress(args: argparse.Namespace) -> int:
    many = len(args.files) > 1
    if args.reference and many:
        raise _UserError("--reference takes a single input file")
    codecs: dict[str, api.Codec] = {}
    for source in _progress(args.files, "decompress"):
        target = _output_path(source, args.output, "." + args.format.lower(), many)
        data = _read(source)
        _check_target(source, target, args.force)
        info = api.read_info(data)
        if info.codec not in codecs:
            codecs[info.codec] = api.Codec(info.codec, args.device, args.max_pixels)
        start = time.perf_counter()
        image = codecs[info.codec].decode(data)
        elapsed = time.perf_counter() - start
        with _atomic_writer(target, args.force) as write:
            write(_encode_image(image, args.format))
        line = f"{source} -> {target}: {info.bpp:.4f} bpp, {info.width}x{info.height} {info.mode}"
        if args.reference:
            line += f", PSNR {_psnr(args.reference, image):.2f} dB"
        print(f"{line}, {elapsed:.2f} s")
    return 0


def _encode_image(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    try:
        image.save(buffer, format=fmt.upper())
    except (KeyError, ValueError, OSError) as error:
        raise _UserError(f"cannot write {image.mode} image as {fmt}: {error}") from None
    return buffer.getvalue()


def _psnr(reference: Path, image: Image.Image) -> float:
    try:
        with Image.open(reference) as original:
            a = np.asarray(original.convert("RGB"), dtype=np.float64)
    except OSError as error:
        raise _UserError(f"cannot read reference {reference}: {error}") from None
    b = np.asarray(image.convert("RGB"), dtype=np.float64)
    if a.shape != b.shape:
        raise _UserError(f"reference is {a.shape[1]}x{a.shape[0]}, decoded is {b.shape[1]}x{b.shape[0]}")
    mse = float(np.mean((a - b) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255**2 / mse)


def _info(args: argparse.Namespace) -> int:
    for path in args.files:
        info = api.read_info(_read(path))
        print(f"{path}:")
        for field, value in info._asdict().items():
            print(f"  {field:15} {value:.4f}" if isinstance(value, float) else f"  {field:15} {value}")
    return 0


def _models(args: argparse.Namespace) -> int:
    for row in api.available_codecs():
        state = "installed" if row.installed else "not installed"
        print(f"{row.name:14} id={row.codec_id:<3} {row.architecture:18} {state:14} {row.description}")
        print(f"{'':14} weights: {row.weights}")
    for enc in api.available_encoders():
        state = "installed" if enc.installed else "not installed"
        print(f"encoder {enc.name:16} for {enc.codec:10} {enc.kind:11} {state:14} {enc.description}")
        print(f"{'':12} weights: {enc.weights}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from neuralcodec import export  # torch.onnx loads only for this command

    if args.format not in export.FORMATS:
        raise _UserError(f"unsupported format {args.format!r}; supported: {', '.join(export.FORMATS)}")
    if args.part not in export.PARTS:
        raise _UserError(f"unknown part {args.part!r}; choose from {', '.join(export.PARTS)}")
    if args.output.exists() and not args.force:
        raise _UserError(f"{args.output} exists (use -f to overwrite)")
    if not args.output.parent.is_dir():
        raise _UserError(f"folder {args.output.parent} does not exist")
    codec = api.Codec(args.codec or api.DEFAULT_CODEC)
    data = export.codec_onnx(codec, args.part, args.opset or export.DEFAULT_OPSET)
    with _atomic_writer(args.output, args.force) as write:
        write(data)
    print(f"{codec.spec.name} {args.part} -> {args.output}: {len(data)} bytes, ONNX opset "
          f"{args.opset or export.DEFAULT_OPSET}, dynamic height and width")
    return 0


def _compress_dataset(args: argparse.Namespace) -> int:
    # Imported here: the subpackage is the dataset-scale API (Lightning loads only when it runs),
    # and `neuralcodec compress` should not pay for it.
    from neuralcodec.dataset import compress_dataset

    devices = int(args.devices) if args.devices.isdigit() else args.devices
    result = compress_dataset(
        args.source, args.output, args.quality, args.codec or api.DEFAULT_CODEC,
        layout=args.layout, splits=args.split, limit=args.limit, devices=devices,
        accelerator=args.accelerator, strategy=args.strategy, num_nodes=args.num_nodes,
        num_workers=args.num_workers, threads=args.threads,
    )
    if result is not None:  # global rank 0 reports; the other DDP ranks stay quiet
        print(f"{result.output}: {result.num_items} images ({result.encoded} coded, {result.skipped} "
              f"already done), {result.total_bytes} bytes, mean {result.mean_bpp:.4f} bpp; "
              f"{result.images_per_s:.2f} images/s over {result.seconds:.1f} s "
              f"({result.world_size} processes x {result.threads} threads)")
    return 0


def _classify(args: argparse.Namespace) -> int:
    for path in args.files:
        predictions = api.classify(_read(path), args.top)
        print(f"{path}:")
        for name, probability in predictions:
            print(f"  {probability:7.2%}  {name}")
    return 0


def _segment(args: argparse.Namespace) -> int:
    data = _read(args.file)
    _check_target(args.file, args.output, args.force)
    mask = api.segment(data)
    with _atomic_writer(args.output, args.force) as write:
        write(_encode_image(mask, "png"))
    counts = sorted(mask.getcolors(256) or [], reverse=True)[:3]
    print(f"{args.file} -> {args.output}: {mask.width}x{mask.height} class ids; most frequent "
          + ", ".join(f"{label} ({count / (mask.width * mask.height):.0%})" for count, label in counts))
    return 0


_COMMANDS = {
    "compress": _compress, "decompress": _decompress, "info": _info, "models": _models,
    "compress-dataset": _compress_dataset, "export": _export,
    "classify": _classify, "segment": _segment,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    warnings.formatwarning = lambda message, category, *_: f"warning: {message}\n"
    try:
        return _COMMANDS[args.command](args)
    except (_UserError, NeuralcodecError, KeyError, OSError) as error:
        if args.debug:
            raise
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        print(f"neuralcodec: error: {message}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("neuralcodec: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
