"""The command line's grammar: commands, options, their help and checks that need no file.

Imports no torch: ``--help`` and ``--version`` answer at once.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from neuralcodec import __version__, container, registry
from neuralcodec.defaults import DEFAULT_MAX_PIXELS, DEFAULT_TILE_SIZE

__all__ = ["build_parser"]

_EXAMPLES = """\
examples:
  neuralcodec compress photo.png -q 3          # -> photo.ncc
  neuralcodec compress *.png --bpp 0.25 -o out/
  neuralcodec decompress photo.ncc -o decoded.png --reference photo.png
  cat a.png | neuralcodec compress - -o - | neuralcodec decompress - -o - > b.png
  neuralcodec info photo.ncc

'-' reads standard input; '-o -' writes standard output. --debug and --quiet go before or
after the command.

exit status: 0 success; 1 a runtime failure (a file that cannot be read, decoded or written,
missing weights; with several inputs, any of them: the others are still done); 2 a usage
error (bad option value, outputs that would overwrite an input or each other); 130
interrupted.
"""

_COMPRESS_EXAMPLES = """\
examples:
  neuralcodec compress photo.png -q 3.5              # -> photo.ncc
  neuralcodec compress photo.png --codec gan -q 1    # generative decoder, extreme rates
  neuralcodec compress a.png b.png --bpp 0.25 -o out/
  neuralcodec compress - -o - < photo.png > photo.ncc
"""

_DECOMPRESS_EXAMPLES = """\
examples:
  neuralcodec decompress photo.ncc                   # -> photo.png
  neuralcodec decompress photo.ncc -o decoded.jpg    # the extension picks the format
  neuralcodec decompress photo.ncc -o decoded.png --reference photo.png   # also prints PSNR
  neuralcodec decompress *.ncc -o decoded/ --format webp
"""


def build_parser() -> argparse.ArgumentParser:
    """The ``neuralcodec`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="neuralcodec",
        description="Learned image compression: images to .ncc files and back.",
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _add_reporting(parser, default=False)
    # The same options after the command; SUPPRESS keeps them from resetting the ones given before.
    reporting = argparse.ArgumentParser(add_help=False)
    _add_reporting(reporting, default=argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                     help="one of these; `neuralcodec COMMAND --help` lists its options")

    def command(name: str, summary: str, examples: str | None = None) -> argparse.ArgumentParser:
        return commands.add_parser(
            name, parents=[reporting], help=summary, description=summary, epilog=examples,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    compress = command("compress", "Compress images into .ncc files.", _COMPRESS_EXAMPLES)
    compress.add_argument("inputs", nargs="+", metavar="IMAGE",
                          help="image files (any format Pillow reads), or - for standard input")
    rate = compress.add_mutually_exclusive_group()
    rate.add_argument("-q", "--quality", type=float, default=3.0,
                      help=f"quality in the codec's range, fractional allowed: {_ranges()} "
                           "(default: %(default)g)")
    rate.add_argument("--bpp", type=_positive_float,
                      help="target bits per pixel instead of a quality: the highest quality whose "
                           "file is at most this (the nearest end of the range, with a warning, "
                           "when out of reach)")
    _add_codec(compress)
    compress.add_argument("--encoder", choices=[e.name for e in registry.ENCODERS],
                          help="encoder variant to use instead of the codec's own; files decode "
                               "as usual (see `neuralcodec models`)")
    compress.add_argument("--weights", metavar="RELEASE",
                          help="an earlier release of the codec's weights, by version (v1) or id "
                               "(the first hex digits of its sha256; see `neuralcodec models`), e.g. "
                               "to make files for task heads trained on it (default: the current weights)")
    low, high = container.TILE_LOG2_RANGE
    compress.add_argument("--tile-size", type=_tile_size, metavar="PIXELS",
                          help=f"tile side, a power of two in [{2**low}, {2**high}]: smaller tiles use "
                               f"less memory and cost a few bytes each (default: {DEFAULT_TILE_SIZE}, "
                               "larger when an image needs it)")
    _add_output(compress, "output .ncc file, folder (required for several inputs) or - for "
                          "standard output (default: the input's name with .ncc; - for standard input)")
    _add_coding(compress)

    decompress = command("decompress", "Decode .ncc files into images.", _DECOMPRESS_EXAMPLES)
    decompress.add_argument("inputs", nargs="+", metavar="FILE",
                            help=".ncc files, or - for standard input")
    decompress.add_argument("--reference", type=Path, metavar="IMAGE",
                            help="the original image: also print the PSNR (one input only; never "
                                 "overwritten)")
    decompress.add_argument("--format", metavar="FORMAT",
                            help="image format where -o names no extension (standard output, "
                                 "folders, default names): png (default), jpg, webp, tiff, bmp or "
                                 "any other Pillow writes, with Pillow's default settings")
    _add_output(decompress, "output image (its extension picks the format), folder (required for "
                            "several inputs) or - for standard output (default: the input's name "
                            "with .png; - for standard input)")
    _add_coding(decompress)

    info = command("info", "Show the header of .ncc files: codec, quality, size, bpp, streams.")
    info.add_argument("inputs", nargs="+", metavar="FILE", help=".ncc files, or - for standard input")

    command("models", "List the codecs and encoder variants, and which weights are installed.")

    classify = command("classify", "Top classes of .ncc files, read from their latents (no pixel decoding).")
    classify.add_argument("inputs", nargs="+", metavar="FILE", help=".ncc files, or - for standard input")
    classify.add_argument("-k", "--top", type=_positive_int, default=5,
                          help="classes to print (default: %(default)s)")

    segment = command("segment", "Class-id mask (palette PNG) of a .ncc file, from its latents.")
    segment.add_argument("input", metavar="FILE", help=".ncc file, or - for standard input")
    segment.add_argument("-o", "--output", required=True,
                         help="mask PNG to write, or - for standard output")
    segment.add_argument("-f", "--force", action="store_true", help="overwrite an existing output")

    export = command("export", "Write a codec's encoder or decoder as an ONNX graph.")
    export.add_argument("--part", required=True,
                        help="encoder (g_a: pixels to latents) or decoder (g_s: latents to pixels)")
    export.add_argument("--format", default="onnx", help="onnx, the only one (default: %(default)s)")
    export.add_argument("--opset", type=_positive_int,
                        help="ONNX opset version (default: the lowest torch exports natively)")
    _add_codec(export)
    export.add_argument("-o", "--output", type=Path, required=True, help="file to write")
    export.add_argument("-f", "--force", action="store_true", help="overwrite an existing output")

    dataset = command("compress-dataset", "Compress a dataset tree into .ncc files and a manifest "
                                          "(resumable; Lightning, several processes or GPUs).")
    dataset.add_argument("source", type=Path, help="image folder, class folders, CamVid or Cityscapes tree")
    dataset.add_argument("output", type=Path, help="output folder (run again to resume)")
    dataset.add_argument("-q", "--quality", type=float, default=3.0,
                         help=f"quality in the codec's range: {_ranges()} (default: %(default)g)")
    _add_codec(dataset)
    dataset.add_argument("--layout", default="auto",
                         help="auto, folder, classes, camvid or cityscapes (default: %(default)s)")
    dataset.add_argument("--split", nargs="+", default=None, help="only these splits (default: all)")
    dataset.add_argument("--limit", type=_positive_int, help="only the first N images")
    dataset.add_argument("--devices", default="1",
                         help="processes (CPU) or GPUs per node, as Lightning's devices (default: %(default)s)")
    dataset.add_argument("--accelerator", default="cpu", help="cpu, gpu or auto (default: %(default)s)")
    dataset.add_argument("--strategy", default="auto",
                         help="Lightning strategy; auto is ddp for several processes (default: %(default)s)")
    dataset.add_argument("--num-nodes", type=_positive_int, default=1,
                         help="nodes; the output folder must be shared (default: %(default)s)")
    dataset.add_argument("--num-workers", type=int, default=2,
                         help="image-reading workers per process (default: %(default)s)")
    dataset.add_argument("--threads", type=_positive_int,
                         help="torch threads per process (default: CPU cores / devices)")
    return parser


def _add_reporting(parser: argparse.ArgumentParser, default: object) -> None:
    parser.add_argument("--debug", action="store_true", default=default,
                        help="show a traceback instead of a one-line error")
    parser.add_argument("--quiet", action="store_true", default=default,
                        help="print no result lines and no progress bar (warnings and errors still "
                             "show; -q is --quality)")


def _ranges() -> str:
    """The quality range of each codec with shipped weights: ``1..8 for hyperprior, ...``."""
    return ", ".join(
        f"{spec.quality_range[0]:g}..{spec.quality_range[1]:g} for {spec.name}"
        for spec in registry.CODECS if spec.weights_file is not None
    )


def _add_codec(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--codec", choices=[spec.name for spec in registry.CODECS],
                        default=registry.DEFAULT_CODEC, metavar="NAME",
                        help="codec: " + ", ".join(spec.name for spec in registry.CODECS)
                             + " (default: %(default)s; see `neuralcodec models`)")


def _add_output(parser: argparse.ArgumentParser, help_text: str) -> None:
    parser.add_argument("-o", "--output", metavar="OUTPUT", help=help_text)
    parser.add_argument("-f", "--force", action="store_true",
                        help="overwrite existing outputs (never an input of the command)")


def _add_coding(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default="cpu",
                        help="torch device for the transforms, e.g. cpu, cuda, cuda:1; files decode "
                             "the same on any device (default: %(default)s)")
    parser.add_argument("--max-pixels", type=_positive_int, default=DEFAULT_MAX_PIXELS, metavar="N",
                        help="largest image accepted, checked on headers before decoding "
                             "(default: %(default)s)")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:  # also NaN
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def _tile_size(text: str) -> int:
    value = _positive_int(text)
    problem = container.tile_size_problem(value)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return value
