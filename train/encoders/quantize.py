"""Post-training quantization of an encoder (``g_a``) with onnxruntime: int8 (static) and fp16.

``python -m train.encoders.quantize --mode int8 [--codec hyperprior] [--name int8] [--images 32] -o FILE.onnx``

- **int8**: ``g_a`` exported to ONNX (fp32), then onnxruntime's static quantization in QDQ
  format: weights int8 per output channel (symmetric), activations uint8 with ranges calibrated
  on random crops of the training photos (never Kodak). Every convolution is quantized, GDN's
  1x1 ones included (keeping those in float gave no smaller latent error in a trial on one
  image: 9.2e-3 vs 9.1e-3 relative MSE); squares, rsqrt and products stay in float.
- **fp16**: the same graph with weights and arithmetic in float16 (inputs and outputs stay
  float32), with onnxconverter-common.

The graph carries the metadata :func:`neuralcodec.edge.encoder_metadata` checks, so the file
can be registered in ``neuralcodec/registry.py`` (``ENCODERS``, kind ``"onnx"``) and shipped as
``weights/<codec>-encoder-<name>-<sha8>.onnx``; pass ``--ship`` to name it so in ``weights/``.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Iterator
from pathlib import Path

import onnx
from torch import Tensor

from neuralcodec import edge, registry, weights
from neuralcodec.export import onnx_bytes
from train.codec.data import photo_crops

__all__ = ["MODES", "quantize_int8", "convert_fp16", "main"]

MODES = ("int8", "fp16")


class _Crops:
    """onnxruntime's CalibrationDataReader protocol over a stack of crops, one per call."""

    def __init__(self, crops: Tensor, input_name: str) -> None:
        self._items: Iterator[Tensor] = iter(crops)
        self._name = input_name

    def get_next(self) -> dict[str, object] | None:
        crop = next(self._items, None)
        return None if crop is None else {self._name: crop[None].numpy()}


def quantize_int8(fp32: bytes, crops: Tensor) -> onnx.ModelProto:
    """Static int8 (QDQ) quantization of an exported encoder graph, calibrated on ``crops``."""
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    model = onnx.load_from_string(fp32)
    with tempfile.TemporaryDirectory() as folder:
        raw, prepared, quantized = (Path(folder) / f"{n}.onnx" for n in ("raw", "pre", "int8"))
        raw.write_bytes(fp32)
        quant_pre_process(str(raw), str(prepared), skip_symbolic_shape=True)
        quantize_static(
            str(prepared), str(quantized), _Crops(crops, model.graph.input[0].name),
            quant_format=QuantFormat.QDQ, activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8, per_channel=True, op_types_to_quantize=["Conv"],
            calibrate_method=CalibrationMethod.MinMax,
        )
        return onnx.load(str(quantized))


def convert_fp16(fp32: bytes) -> onnx.ModelProto:
    """The encoder graph in float16, with float32 inputs and outputs."""
    from onnxconverter_common import float16

    model: onnx.ModelProto = float16.convert_float_to_float16(
        onnx.load_from_string(fp32), keep_io_types=True
    )
    return model


def quantized_encoder(codec: str, mode: str, crops: Tensor | None = None) -> onnx.ModelProto:
    """``codec``'s shipped g_a, exported and quantized (``mode`` in :data:`MODES`).

    Raises:
        ValueError: Unknown mode, or int8 without calibration crops.
    """
    model, _ = weights.load_model(registry.get(codec))
    fp32 = onnx_bytes(model.g_a, "encoder")
    if mode == "int8":
        if crops is None:
            raise ValueError("int8 needs calibration crops")
        return quantize_int8(fp32, crops)
    if mode == "fp16":
        return convert_fp16(fp32)
    raise ValueError(f"unknown mode {mode!r}; known: {', '.join(MODES)}")


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=MODES, required=True)
    parser.add_argument("--codec", default="hyperprior")
    parser.add_argument("--name", help="encoder name for the metadata (default: the mode)")
    parser.add_argument("--images", type=int, default=32, help="calibration crops (int8)")
    parser.add_argument("--patch-size", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("-o", "--output", type=Path, help="output .onnx file")
    target.add_argument("--ship", action="store_true",
                        help="write weights/<codec>-encoder-<name>-<sha8>.onnx")
    args = parser.parse_args(argv)
    name = args.name or args.mode
    crops = photo_crops(args.images, args.patch_size, args.seed) if args.mode == "int8" else None
    model = quantized_encoder(args.codec, args.mode, crops)
    spec = registry.EncoderSpec(name, args.codec, "onnx", None, None, None, "")
    for key, value in edge.encoder_metadata(spec, registry.get(args.codec)).items():
        model.metadata_props.add(key=key, value=value)
    model.metadata_props.add(key="quantization", value=args.mode)
    if args.mode == "int8":
        model.metadata_props.add(key="calibration", value=f"{args.images} random {args.patch_size}px "
                                 f"crops of photos/ (seed {args.seed})")
    data = model.SerializeToString()
    if args.ship:
        out_dir = weights.weights_dir()
        tmp = out_dir / f".{name}.onnx.part"
        tmp.write_bytes(data)
        digest = weights.sha256_file(tmp)
        final = out_dir / f"{args.codec}-encoder-{name}-{digest[:8]}.onnx"
        tmp.replace(final)
        print(f"wrote {final}\nregistry: weights_file={final.name!r}, sha256={digest!r}")
    else:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_bytes(data)
        print(f"wrote {args.output} ({len(data)} bytes)")


if __name__ == "__main__":
    main()
