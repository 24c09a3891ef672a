"""Smaller analysis transforms (edge encoders) that replace a codec's ``g_a``, and GDN folding.

An *encoder variant* maps pixels to the latent ``y`` of a trained codec, before the quality gain:
``x (B, 3, H, W) in [0, 1] -> y (B, M, H/16, W/16)``. Everything after ``g_a`` (gain, ``h_a``,
entropy models, the integer ``h_s``, rANS) stays the codec's, so any variant pairs with the
codec's shipped decoder and the file format does not change.

Two families, both after Ballé et al. 2018's ``g_a`` (four 5x5 stride-2 convolutions with GDN):

- **pruned**: the same layers with fewer hidden channels (structured channel pruning of the
  teacher, ``train/encoders/prune.py``), widths ``(c1, c2, c3)``;
- **separable**: a distilled student whose 2nd-4th convolutions are depthwise-separable
  (5x5 depthwise stride 2, then 1x1 pointwise; Howard et al. 2017, MobileNets).

.. code-block:: none

    pruned:    x ─ conv5x5/2(3→c1) ─ GDN ─ conv5x5/2(c1→c2) ─ GDN ─ conv5x5/2(c2→c3) ─ GDN ─ conv5x5/2(c3→M) ─ y
    separable: x ─ conv5x5/2(3→N) ─ GDN ─ [dw5x5/2 ─ pw1x1](N→N) ─ GDN ─ [dw5x5/2 ─ pw1x1](N→N) ─ GDN
                 ─ [dw5x5/2 ─ pw1x1](N→M) ─ y
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from compressai.layers import GDN
from compressai.models.utils import conv
from torch import Tensor, nn

__all__ = ["EncoderConfig", "FoldedGDN", "build_encoder", "fold_gdn", "separable_conv"]


@dataclass(frozen=True)
class EncoderConfig:
    """Architecture of an encoder variant.

    Attributes:
        widths: Channels of the three hidden layers.
        M: Channels of the latent y (the codec's M).
        separable: Depthwise-separable 2nd-4th convolutions (else plain 5x5 convolutions).
    """

    widths: tuple[int, int, int]  # hidden channels after the 1st, 2nd and 3rd convolution
    M: int  # latent channels, equal to the codec's M
    separable: bool = False  # depthwise 5x5 stride 2 + pointwise 1x1 instead of a full 5x5


def separable_conv(in_channels: int, out_channels: int) -> nn.Sequential:
    """Depthwise 5x5 stride-2 convolution followed by a 1x1 pointwise one: (B, C, H, W) -> (B, C', H/2, W/2)."""
    return nn.Sequential(
        nn.Conv2d(in_channels, in_channels, 5, stride=2, padding=2, groups=in_channels),
        nn.Conv2d(in_channels, out_channels, 1),
    )


def build_encoder(config: EncoderConfig) -> nn.Sequential:
    """A randomly initialised encoder: (B, 3, H, W) -> (B, M, H/16, W/16).

    Layer indices match ``g_a`` (0, 2, 4, 6 convolutions; 1, 3, 5 GDN), so a pruned copy of
    the teacher loads with ``strict=True``.
    """
    c1, c2, c3 = config.widths
    block = separable_conv if config.separable else conv
    return nn.Sequential(
        conv(3, c1), GDN(c1), block(c1, c2), GDN(c2), block(c2, c3), GDN(c3), block(c3, config.M)
    )


class FoldedGDN(nn.Module):
    """GDN with its re-parametrised ``beta`` and ``gamma`` computed once (inference only).

    Gives the same float32 results as compressai's GDN (the same operations in the same order)
    without the lower-bound re-parametrisation, which ONNX exporters do not handle.
    """

    beta: Tensor
    gamma: Tensor

    def __init__(self, gdn: GDN) -> None:
        super().__init__()
        channels = gdn.beta.numel()
        self.inverse = gdn.inverse
        with torch.no_grad():
            self.register_buffer("beta", gdn.beta_reparam(gdn.beta).detach().clone())  # (C,)
            gamma = gdn.gamma_reparam(gdn.gamma).reshape(channels, channels, 1, 1)
            self.register_buffer("gamma", gamma.detach().clone())  # (C, C, 1, 1)

    def forward(self, x: Tensor) -> Tensor:
        norm = F.conv2d(x**2, self.gamma, self.beta)
        return x * (torch.sqrt(norm) if self.inverse else torch.rsqrt(norm))


def fold_gdn(module: nn.Module) -> nn.Module:
    """``module`` (an ``nn.Sequential`` tree) rebuilt with every GDN replaced by a :class:`FoldedGDN`.

    The other layers are shared with ``module``, not copied; the result is in eval mode.
    """
    if isinstance(module, GDN):
        return FoldedGDN(module)
    if isinstance(module, nn.Sequential):
        return nn.Sequential(*(fold_gdn(child) for child in module)).eval()
    return module
