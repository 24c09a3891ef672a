"""Codec models: nn.Modules and their entropy-coding logic."""

from neuralcodec.models.base import CodecModel
from neuralcodec.models.extreme import GenerativeConfig, GenerativeHyperprior
from neuralcodec.models.hyperprior import HyperpriorConfig, MeanScaleHyperprior
from neuralcodec.models.outputs import Compressed, DecodedLatents, RDOutput

__all__ = [
    "CodecModel",
    "Compressed",
    "DecodedLatents",
    "GenerativeConfig",
    "GenerativeHyperprior",
    "HyperpriorConfig",
    "MeanScaleHyperprior",
    "RDOutput",
]
