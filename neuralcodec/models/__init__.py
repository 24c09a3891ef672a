"""Codec models: nn.Modules and their entropy-coding logic."""

from neuralcodec.models.base import CodecModel
from neuralcodec.models.channel_conditional import (
    ChannelConditionalConfig,
    ChannelConditionalHyperprior,
)
from neuralcodec.models.extreme import GenerativeConfig, GenerativeHyperprior
from neuralcodec.models.hyperprior import HyperpriorConfig, MeanScaleHyperprior
from neuralcodec.models.outputs import Compressed, DecodedLatents, RDOutput

__all__ = [
    "ChannelConditionalConfig",
    "ChannelConditionalHyperprior",
    "CodecModel",
    "Compressed",
    "DecodedLatents",
    "GenerativeConfig",
    "GenerativeHyperprior",
    "HyperpriorConfig",
    "MeanScaleHyperprior",
    "RDOutput",
]
