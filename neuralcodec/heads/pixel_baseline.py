"""Pixel-domain baselines of the latent heads: the same trunk and output behind a pixel stem.

:class:`PixelClassifier` and :class:`PixelSegmenter` take images x (N, 3, H, W) in [0, 1]
(original pixels, or pixels decoded from the same bitstreams as the latents). They exist to
measure what the latent heads gain or lose; only the latent heads are shipped.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from neuralcodec.heads.blocks import ClassifierOutput, PixelStem, SegmenterOutput, Trunk, TrunkConfig

__all__ = ["PixelInput", "PixelClassifier", "PixelSegmenter"]

_MEAN, _STD = 0.45, 0.25  # fixed image normalisation (no dataset statistics needed)


class PixelInput(nn.Module):
    """Normalise, pad to a multiple of 16 (bottom/right), run the stem to 1/16 resolution."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.stem = PixelStem(width)

    def forward(self, x: Tensor) -> Tensor:
        h, w = x.shape[-2:]
        x = F.pad((x - _MEAN) / _STD, (0, -w % 16, 0, -h % 16))
        return self.stem(x)  # type: ignore[no-any-return]


class PixelClassifier(nn.Module):
    """The pixel baseline of :class:`~neuralcodec.heads.latent_task.LatentClassifier`.

    Example:
        >>> import torch
        >>> PixelClassifier(10)(torch.zeros(2, 3, 224, 224)).shape
        torch.Size([2, 10])
    """

    def __init__(self, num_classes: int, trunk: TrunkConfig = TrunkConfig()) -> None:
        super().__init__()
        self.front = PixelInput(trunk.width)
        self.trunk = Trunk(trunk)
        self.output = ClassifierOutput(self.trunk.out_channels, num_classes, trunk.dropout)

    def forward(self, x: Tensor) -> Tensor:
        """Logits (N, K) from images (N, 3, H, W) in [0, 1]."""
        return self.output(self.trunk(self.front(x)))  # type: ignore[no-any-return]


class PixelSegmenter(nn.Module):
    """The pixel baseline of :class:`~neuralcodec.heads.latent_task.LatentSegmenter`.

    Example:
        >>> import torch
        >>> PixelSegmenter(11)(torch.zeros(1, 3, 360, 480)).shape
        torch.Size([1, 11, 360, 480])
    """

    def __init__(self, num_classes: int, trunk: TrunkConfig = TrunkConfig()) -> None:
        super().__init__()
        self.front = PixelInput(trunk.width)
        self.trunk = Trunk(trunk, dense=True)
        self.output = SegmenterOutput(self.trunk.out_channels, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        """Scores (N, K, H, W) from images (N, 3, H, W) in [0, 1]."""
        return self.output(self.trunk(self.front(x)), (x.shape[-2], x.shape[-1]))  # type: ignore[no-any-return]
