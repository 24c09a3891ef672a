"""Image-quality and rate measurements (pure functions, torchmetrics underneath)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from torch import Tensor

# torch and torchmetrics are imported inside the functions: the command line's light paths
# (``--reference`` PSNR, ``--help``) must not load them (tests/test_imports.py).

__all__ = ["bpp", "psnr", "psnr_from_mse", "psnr_uint8", "ms_ssim", "ms_ssim_db"]


def bpp(num_bytes: int, height: int, width: int) -> float:
    """Bits per pixel of a whole file (header included) for an image of ``height`` x ``width``."""
    return num_bytes * 8 / (height * width)


def psnr(x: Tensor, x_hat: Tensor) -> float:
    """PSNR in dB between images (N, C, H, W) in [0, 1], over all channels (PSNR-RGB)."""
    from torchmetrics.functional.image import peak_signal_noise_ratio

    return float(peak_signal_noise_ratio(x_hat.float(), x.float(), data_range=1.0))


def psnr_from_mse(mse: Tensor, peak: float = 1.0) -> Tensor:
    """PSNR in dB of each mean squared error (any shape); an MSE of 0 counts as 1e-10 · peak²."""
    import torch

    return 10 * torch.log10(peak**2 / mse.clamp_min(1e-10 * peak**2))


def psnr_uint8(a: npt.NDArray[np.uint8], b: npt.NDArray[np.uint8]) -> float:
    """PSNR-RGB in dB of two uint8 images of one shape (inf when identical).

    Summed in row blocks, so a gigapixel image needs no float copy of itself.
    """
    if a.shape != b.shape:
        raise ValueError(f"images of different shapes: {a.shape} and {b.shape}")
    total = 0.0
    for row in range(0, a.shape[0], 256):
        total += float(np.square(a[row : row + 256].astype(np.float64) - b[row : row + 256]).sum())
    mse = total / a.size
    return float("inf") if mse == 0 else 10 * math.log10(255**2 / mse)


def ms_ssim(x: Tensor, x_hat: Tensor) -> float:
    """MS-SSIM between images (N, C, H, W) in [0, 1].

    Images smaller than 161 px on a side (too small for five scales) use fewer scales.
    """
    from torchmetrics.functional.image import multiscale_structural_similarity_index_measure

    side = min(x.shape[-2:])
    scales = max(1, min(5, int(math.log2(side / 10)))) if side >= 11 else 0
    if scales == 0:
        raise ValueError(f"MS-SSIM needs images of at least 11 px, got {tuple(x.shape[-2:])}")
    betas = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)[:scales]
    return float(
        multiscale_structural_similarity_index_measure(
            x_hat.float().clamp(0, 1), x.float(), data_range=1.0, betas=betas
        )
    )


def ms_ssim_db(value: float) -> float:
    """MS-SSIM expressed in dB, ``-10 log10(1 - value)``."""
    return -10 * math.log10(max(1 - value, 1e-10))
