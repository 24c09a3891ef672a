"""``export``: a codec's encoder or decoder as an ONNX graph."""

from __future__ import annotations

import argparse

from neuralcodec import api
from neuralcodec import export as onnx_export
from neuralcodec.cli import files
from neuralcodec.cli.console import Console
from neuralcodec.cli.status import EXIT_OK, UsageError

__all__ = ["export"]


def export(args: argparse.Namespace, console: Console) -> int:
    """Write the ONNX graph of ``--part`` to ``-o``; returns the exit status."""
    if args.format not in onnx_export.FORMATS:
        raise UsageError(f"unsupported format {args.format!r}; supported: {', '.join(onnx_export.FORMATS)}")
    if args.part not in onnx_export.PARTS:
        raise UsageError(f"unknown part {args.part!r}; choose from {', '.join(onnx_export.PARTS)}")
    opset = args.opset or onnx_export.DEFAULT_OPSET
    files.check_target(args.output, args.force)  # before the work
    codec = api.Codec(args.codec)
    data = onnx_export.codec_onnx(codec, args.part, opset)
    files.write_output(args.output, data, args.force)
    console.result(f"{codec.spec.name} {args.part} -> {args.output}: {len(data)} bytes, ONNX opset "
                   f"{opset}, dynamic height and width")
    return EXIT_OK
