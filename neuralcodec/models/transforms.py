"""Analysis and synthesis transforms, built from compressai's layers.

``g_a``/``g_s`` follow Ballé et al. 2018 (four 5x5 stride-2 convolutions with GDN). ``h_a``
follows Minnen et al. 2018. ``h_s`` uses sub-pixel convolutions and ReLU only, so that
:class:`~neuralcodec.models.fixed_point.FixedPointNetwork` can evaluate it exactly.
"""

from __future__ import annotations

from compressai.layers import GDN, conv3x3, subpel_conv3x3
from compressai.models.utils import conv, deconv
from torch import nn

__all__ = ["analysis", "synthesis", "hyper_analysis", "hyper_synthesis"]


def analysis(N: int, M: int) -> nn.Sequential:
    """g_a: (B, 3, H, W) -> (B, M, H/16, W/16)."""
    return nn.Sequential(
        conv(3, N), GDN(N), conv(N, N), GDN(N), conv(N, N), GDN(N), conv(N, M)
    )


def synthesis(N: int, M: int) -> nn.Sequential:
    """g_s: (B, M, H/16, W/16) -> (B, 3, H, W)."""
    return nn.Sequential(
        deconv(M, N),
        GDN(N, inverse=True),
        deconv(N, N),
        GDN(N, inverse=True),
        deconv(N, N),
        GDN(N, inverse=True),
        deconv(N, 3),
    )


def hyper_analysis(N: int, M: int) -> nn.Sequential:
    """h_a: (B, M, H/16, W/16) -> (B, N, H/64, W/64)."""
    return nn.Sequential(
        conv(M, N, stride=1, kernel_size=3),
        nn.LeakyReLU(inplace=True),
        conv(N, N, stride=2, kernel_size=5),
        nn.LeakyReLU(inplace=True),
        conv(N, N, stride=2, kernel_size=5),
    )


def hyper_synthesis(N: int, M: int) -> nn.Sequential:
    """h_s: (B, N, H/64, W/64) -> (B, 2M, H/16, W/16), scales then means.

    Only stride-1 convolutions, ReLU and PixelShuffle: the layers with exact integer versions.
    """
    return nn.Sequential(
        conv3x3(N, M),
        nn.ReLU(),
        subpel_conv3x3(M, M, 2),
        nn.ReLU(),
        subpel_conv3x3(M, M * 3 // 2, 2),
        nn.ReLU(),
        conv3x3(M * 3 // 2, M * 2),
    )
