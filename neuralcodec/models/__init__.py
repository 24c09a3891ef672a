"""Codec models: nn.Modules and their entropy-coding logic."""

from neuralcodec.models.base import CodecModel
from neuralcodec.models.hyperprior import HyperpriorConfig, MeanScaleHyperprior
from neuralcodec.models.outputs import Compressed, DecodedLatents, RDOutput

__all__ = ["CodecModel", "Compressed", "DecodedLatents", "HyperpriorConfig", "MeanScaleHyperprior", "RDOutput"]
