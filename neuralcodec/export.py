"""ONNX export of a codec's transforms: the encoder ``g_a`` and the decoder ``g_s``.

The entropy coding (hyperprior, rANS, the integer hyper-decoder) stays in the package: the
graphs are the float transforms on either side of it.

- ``encoder``: input ``x`` (N, 3, H, W) in [0, 1], H and W multiples of 16; output ``y``
  (N, M, H/16, W/16), the latent *before* the quality gain. Feed ``y`` to
  :func:`neuralcodec.api.Codec` via an encoder variant (``Codec(name, encoder="onnx")``) or
  replace ``model.g_a`` with :class:`neuralcodec.edge.OnnxEncoder`.
- ``decoder``: inputs ``y_hat`` (N, M, h, w), the entropy-decoded latent in the gained domain
  (``Codec.decode_latents``), and ``inverse_gain`` (1, M, 1, 1) of the file's quality
  (``model.inverse_gain(quality)``); output ``x_hat`` (N, 3, 16h, 16w), not clamped.

Height and width are dynamic axes. GDN layers are exported with their re-parametrised
``beta``/``gamma`` folded into constants (:class:`~neuralcodec.models.encoders.FoldedGDN`).
The graph's metadata records the codec, its weights' sha256 prefix and the part.

Example:
    >>> from neuralcodec import Codec
    >>> from neuralcodec.export import export_onnx
    >>> export_onnx(Codec("hyperprior"), "encoder", "encoder.onnx")  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import io
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from torch import Tensor, nn

from neuralcodec.errors import ExportError, MissingDependencyError
from neuralcodec.models.encoders import fold_gdn

if TYPE_CHECKING:
    from neuralcodec.api import Codec

__all__ = ["PARTS", "FORMATS", "DEFAULT_OPSET", "codec_onnx", "export_onnx", "onnx_bytes", "part_module"]

PARTS = ("encoder", "decoder")
FORMATS = ("onnx",)
#: The lowest opset torch's ONNX exporter implements natively.
DEFAULT_OPSET = 18
_EXAMPLE_SIDE = 64  # example input side (pixels) traced by the exporter; any multiple of 16


class _Synthesis(nn.Module):
    """``g_s(y_hat * inverse_gain)``: the decoder graph."""

    def __init__(self, g_s: nn.Module) -> None:
        super().__init__()
        self.g_s = fold_gdn(g_s)

    def forward(self, y_hat: Tensor, inverse_gain: Tensor) -> Tensor:
        return self.g_s(y_hat * inverse_gain)  # type: ignore[no-any-return]


def part_module(g_a_or_g_s: nn.Module, part: str) -> nn.Module:
    """The module that is exported for ``part`` (GDN folded), in eval mode on the CPU.

    Raises:
        ExportError: ``part`` is not ``"encoder"`` or ``"decoder"``.
    """
    if part == "encoder":
        return fold_gdn(g_a_or_g_s).eval().cpu()
    if part == "decoder":
        return _Synthesis(g_a_or_g_s).eval().cpu()
    raise ExportError(f"unknown part {part!r}; known: {', '.join(PARTS)}")


def _transform(codec: Codec | nn.Module, part: str) -> tuple[nn.Module, dict[str, str]]:
    """The codec's transform for ``part`` and the metadata that identifies it."""
    metadata = {"part": part, "producer": "neuralcodec.export"}
    if isinstance(codec, nn.Module):
        model = codec
    else:
        model = codec.model
        metadata["codec"] = codec.spec.name
        metadata["weights_id"] = f"{codec.weights_id:08x}"
    if part not in PARTS:
        raise ExportError(f"unknown part {part!r}; known: {', '.join(PARTS)}")
    transform = model.g_a if part == "encoder" else model.g_s
    assert isinstance(transform, nn.Module)
    return transform, metadata


def _example_inputs(module: nn.Module, part: str) -> tuple[Tensor, ...]:
    if part == "encoder":
        return (torch.rand(1, 3, _EXAMPLE_SIDE, _EXAMPLE_SIDE),)
    channels = next(m for m in module.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)))
    latent_channels = channels.in_channels
    side = _EXAMPLE_SIDE // 16
    return torch.randn(1, latent_channels, side, side), torch.ones(1, latent_channels, 1, 1)


def onnx_bytes(
    transform: nn.Module, part: str, opset: int = DEFAULT_OPSET, metadata: dict[str, str] | None = None
) -> bytes:
    """Export ``transform`` (a ``g_a`` for ``"encoder"``, a ``g_s`` for ``"decoder"``) to ONNX bytes.

    Raises:
        ExportError: Unknown part, or the exporter failed.
        MissingDependencyError: ``onnx`` is not installed.
    """
    module = part_module(transform, part)
    try:
        import onnx
    except ImportError:
        raise MissingDependencyError("ONNX export needs onnx: pip install 'neuralcodec[edge]'") from None
    inputs = _example_inputs(module, part)
    if part == "encoder":
        names = (["x"], ["y"])
        axes = {"x": {0: "batch", 2: "height", 3: "width"}, "y": {0: "batch", 2: "h", 3: "w"}}
    else:
        names = (["y_hat", "inverse_gain"], ["x_hat"])
        axes = {"y_hat": {0: "batch", 2: "h", 3: "w"}, "x_hat": {0: "batch", 2: "height", 3: "width"}}
    buffer = io.BytesIO()
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            # The TorchScript-based exporter: a plain conv net needs nothing more, and it takes
            # well under a second where the torch.export-based one takes ~10 s.
            torch.onnx.export(
                module, inputs, buffer,  # type: ignore[arg-type]  # a file object works too
                input_names=names[0], output_names=names[1],
                opset_version=opset, dynamo=False, dynamic_axes=axes,
            )
    except Exception as error:  # the exporter raises many types; report one line
        raise ExportError(f"ONNX export of the {part} failed: {error}") from error
    graph = onnx.load_from_string(buffer.getvalue())
    for key, value in (metadata or {}).items():
        graph.metadata_props.add(key=key, value=value)
    data: bytes = graph.SerializeToString()
    return data


def codec_onnx(codec: Codec | nn.Module, part: str, opset: int = DEFAULT_OPSET) -> bytes:
    """``codec``'s encoder (``g_a``) or decoder (``g_s``) as ONNX bytes, with metadata.

    Args:
        codec: A loaded :class:`~neuralcodec.api.Codec` (its name and weights id go into the
            graph's metadata) or a codec model with ``g_a`` and ``g_s``.
        part: ``"encoder"`` or ``"decoder"`` (see the module docstring for inputs and outputs).
        opset: ONNX opset version.

    Raises:
        ExportError: Unknown part, or the exporter failed.
        MissingDependencyError: ``onnx`` is not installed.
    """
    transform, metadata = _transform(codec, part)
    metadata["opset"] = str(opset)
    return onnx_bytes(transform, part, opset, metadata)


def export_onnx(
    codec: Codec | nn.Module,
    part: str,
    path: str | os.PathLike[str],
    opset: int = DEFAULT_OPSET,
) -> Path:
    """Write :func:`codec_onnx` to ``path`` (whole or not at all); returns the path.

    Raises:
        ExportError: Unknown part, or the exporter failed.
        MissingDependencyError: ``onnx`` is not installed.
    """
    data = codec_onnx(codec, part, opset)
    target = Path(path)
    tmp = target.with_name(f".{target.name}.part")
    tmp.write_bytes(data)
    tmp.replace(target)
    return target
