"""Encoder variants at run time: load and verify one, and put it in place of a codec's ``g_a``.

An encoder variant (``registry.ENCODERS``) is an ``nn.Module`` mapping pixels to the codec's
latent ``y`` before the gain. It is either a torch network (a pruned or distilled ``g_a``,
safetensors weights) or an ONNX graph run by onnxruntime (:class:`OnnxEncoder`: the exported
``g_a`` in fp32, or a quantized copy). :func:`with_encoder` gives a codec model whose
``compress`` uses it; decoding still uses the codec's own model, so files decode with the
shipped weights.

Files are verified like codec weights: sha256 against the registry, then metadata (the
codec they were made for and the sha256 of its weights).
"""

from __future__ import annotations

import copy
import json
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from neuralcodec import registry, weights
from neuralcodec.errors import (
    MissingDependencyError,
    WeightsError,
    WeightsMismatchError,
    WeightsNotFoundError,
)
from neuralcodec.models import CodecModel
from neuralcodec.models.encoders import build_encoder, fold_gdn
from neuralcodec.registry import CodecSpec, EncoderSpec

__all__ = [
    "ENCODER_FORMAT",
    "OnnxEncoder",
    "encoder_metadata",
    "load_encoder",
    "with_encoder",
]

#: ``format`` metadata of encoder weight files (safetensors and ONNX).
ENCODER_FORMAT = "neuralcodec-encoder-1"


def _onnxruntime() -> Any:
    try:
        import onnxruntime
    except ImportError:
        raise MissingDependencyError(
            "ONNX encoders need onnxruntime: pip install 'neuralcodec[edge]'"
        ) from None
    return onnxruntime


class OnnxEncoder(nn.Module):
    """An ONNX ``g_a`` run by onnxruntime's CPU provider, as an ``nn.Module`` (inference only).

    Args:
        model: The ONNX graph, as bytes or a file path. Its input is ``x`` (N, 3, H, W); float16
            graphs are fed float16 and their output is returned as float32.
        threads: onnxruntime intra-op threads; default ``torch.get_num_threads()``, so it uses
            the same CPU share as the torch transforms.

    Raises:
        MissingDependencyError: onnxruntime is not installed.
    """

    def __init__(self, model: bytes | str, threads: int | None = None) -> None:
        super().__init__()
        ort = _onnxruntime()
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or torch.get_num_threads()
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
        first = self.session.get_inputs()[0]
        self._input = first.name
        self._dtype = np.float16 if first.type == "tensor(float16)" else np.float32

    @property
    def metadata(self) -> dict[str, str]:
        """The graph's metadata properties."""
        return dict(self.session.get_modelmeta().custom_metadata_map)

    def forward(self, x: Tensor) -> Tensor:
        array = x.detach().cpu().numpy().astype(self._dtype, copy=False)
        y = self.session.run(None, {self._input: array})[0]
        return torch.from_numpy(np.ascontiguousarray(y, dtype=np.float32)).to(x.device)


def encoder_metadata(spec: EncoderSpec, codec: CodecSpec) -> dict[str, str]:
    """The metadata an encoder file for ``spec`` carries (written by train/, checked here)."""
    metadata = {
        "format": ENCODER_FORMAT,
        "encoder": spec.name,
        "codec": codec.name,
        "codec_sha256": codec.sha256 or "",
    }
    if spec.architecture is not None:
        config = registry.ENCODER_ARCHITECTURES[spec.architecture]
        metadata["architecture"] = spec.architecture
        metadata["config"] = json.dumps({"widths": list(config.widths), "M": config.M,
                                         "separable": config.separable}, sort_keys=True)
    return metadata


def load_encoder(spec: EncoderSpec, codec: CodecSpec, model: CodecModel) -> nn.Module:
    """The verified encoder variant ``spec`` for ``codec`` (whose loaded model is ``model``).

    Raises:
        WeightsMismatchError: ``spec`` was made for another codec.
        WeightsNotFoundError: Its file is not installed.
        WeightsChecksumError: Its sha256 differs from the registry's.
        WeightsError: Its metadata does not match.
        MissingDependencyError: An ONNX variant without onnxruntime (or, for ``onnx-export``, onnx).
    """
    if spec.codec is not None and spec.codec != codec.name:
        raise WeightsMismatchError(
            f"encoder {spec.name!r} is for codec {spec.codec!r}, not {codec.name!r}"
        )
    if spec.kind == "onnx-export":
        from neuralcodec.export import onnx_bytes  # torch.onnx is only imported when needed

        return OnnxEncoder(onnx_bytes(model.g_a, "encoder"))
    if spec.weights_file is None:
        raise WeightsNotFoundError(f"encoder {spec.name!r} has no weights file")
    what = f"encoder {spec.name!r}"
    path = weights.verify_file(
        weights.weights_dir() / spec.weights_file, spec.sha256, what,
        "restore weights/ or set $NEURALCODEC_WEIGHTS",
    )
    expected = encoder_metadata(spec, codec)
    if spec.kind == "onnx":
        encoder = OnnxEncoder(str(path))
        weights.check_metadata(encoder.metadata, expected, path)
        return encoder
    if spec.kind != "torch" or spec.architecture is None:
        raise WeightsError(f"encoder {spec.name!r} has unknown kind {spec.kind!r}")
    metadata, tensors = weights.read_tensors(path)
    weights.check_metadata(metadata, expected, path)
    network = build_encoder(registry.ENCODER_ARCHITECTURES[spec.architecture])
    weights.load_state(network, tensors, path, what)
    return fold_gdn(network.eval().requires_grad_(False))


def with_encoder(model: CodecModel, g_a: nn.Module) -> CodecModel:
    """A shallow copy of ``model`` whose ``g_a`` is ``g_a``; ``model`` itself is unchanged.

    Everything else (gains, ``h_a``, entropy models, ``h_s``, ``g_s``) is shared, not copied.
    """
    clone = copy.copy(model)
    clone._modules = dict(model._modules)  # a table of its own, so the swap does not leak back
    clone._modules["g_a"] = g_a
    return clone
