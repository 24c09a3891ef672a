"""Validation on real bitstreams: code, decode and measure, as a user's file would be."""

from __future__ import annotations

from collections.abc import Callable

from torch import Tensor

from neuralcodec import metrics, pixels
from neuralcodec.api import DEFAULT_TILE_SIZE
from neuralcodec.models import CodecModel

__all__ = ["coded_metrics"]


def coded_metrics(
    model: CodecModel,
    x: Tensor,
    qualities: tuple[float, ...],
    perceptual: Callable[[Tensor, Tensor], Tensor] | None = None,
) -> dict[str, float]:
    """bpp (real stream bytes) and PSNR, plus LPIPS if ``perceptual`` is given, of one image per quality.

    Args:
        model: A codec whose CDF tables are current (``update(force=True)``).
        x: One image (1, 3, H, W) in [0, 1], any size.
        qualities: Qualities to code it at.
        perceptual: Maps (x, x_hat) to a per-image distance, e.g. ``train.codec.losses.PerceptualLoss``.

    Returns:
        ``{"bpp_q<q>": ..., "psnr_q<q>": ..., ["lpips_q<q>": ...]}``.
    """
    _, _, h, w = x.shape
    x_pad = pixels.pad_to_multiple(x, model.downsampling_factor)
    out: dict[str, float] = {}
    for q in qualities:
        compressed = model.compress(x_pad, q, DEFAULT_TILE_SIZE)
        x_hat = model.decompress(compressed.streams, compressed.latent_hw, q, DEFAULT_TILE_SIZE)
        x_hat = pixels.to_uint8(pixels.crop(x_hat, h, w)).float() / 255
        num_bytes = sum(len(s) for s in compressed.streams)
        out[f"bpp_q{q:g}"] = metrics.bpp(num_bytes, h, w)
        out[f"psnr_q{q:g}"] = metrics.psnr(x, x_hat)
        if perceptual is not None:
            out[f"lpips_q{q:g}"] = float(perceptual(x, x_hat).mean())
    return out
