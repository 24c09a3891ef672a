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
    rate.add_argument("-q", "--quality", type=float, default=3.0, help="1..8, fractional ok (3)")
    rate.add_argument("--bpp", type=float, help="target bits per pixel (bisection on quality)")
    compress.add_argument("--codec", default=None, help="codec name (see `models`)")
    _add_common(compress)

    decompress = commands.add_parser("decompress", help=".ncc files -> images")
    decompress.add_argument("files", nargs="+", type=Path)
    decompress.add_argument("--reference", type=Path, help="original image: also print PSNR")
    decompress.add_argument("--format", default="png", help="output image format (png)")
    _add_common(decompress)

    info = commands.add_parser("info", help="show a file's header")
    info.add_argument("files", nargs="+", type=Path)

    commands.add_parser("models", help="list codecs and installed weights")
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
    codec = api.Codec(args.codec or api.DEFAULT_CODEC, args.device, args.max_pixels)
    many = len(args.images) > 1
    for source in _progress(args.images, "compress"):
        target = _output_path(source, args.output, _SUFFIX, many)
        if not source.is_file():
            raise _UserError(f"{source}: no such file")
        _check_target(source, target, args.force)
        start = time.perf_counter()
        if args.bpp is not None:  # not `if args.bpp`: --bpp 0 must fail, not fall back to -q
            data = codec.encode_to_bpp(source, args.bpp)
        else:
            data = codec.encode(source, args.quality)
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
        print(f"{row.name:12} id={row.codec_id:<3} {row.architecture:18} {state:14} {row.description}")
        print(f"{'':12} weights: {row.weights}")
    return 0


_COMMANDS = {"compress": _compress, "decompress": _decompress, "info": _info, "models": _models}


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
