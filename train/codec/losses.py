"""Losses of GAN training: bits per pixel, LPIPS, the non-saturating GAN losses and a rate controller."""

from __future__ import annotations

import copy
import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from neuralcodec.perceptual import lpips_alex

__all__ = ["bits_per_pixel", "PerceptualLoss", "discriminator_loss", "generator_loss", "RateController"]


def bits_per_pixel(likelihoods: dict[str, Tensor], num_pixels: int) -> Tensor:
    """Estimated rate of each image (N,) from the entropy models' likelihoods."""
    bits = sum(torch.log2(lk).flatten(1).sum(1) for lk in likelihoods.values())
    return -bits / num_pixels  # type: ignore[operator]


class PerceptualLoss(nn.Module):
    """LPIPS (AlexNet) per image, differentiable in its inputs; the network is frozen.

    A private copy of :func:`neuralcodec.perceptual.lpips_alex` (offline weights), so it moves
    with the training module to its device.
    """

    def __init__(self) -> None:
        super().__init__()
        self.net = copy.deepcopy(lpips_alex()).requires_grad_(False)

    def forward(self, x: Tensor, x_hat: Tensor) -> Tensor:
        """LPIPS (N,) between x and x_hat (N, 3, H, W) in [0, 1]."""
        return self.net(x * 2 - 1, x_hat * 2 - 1).flatten()

    def train(self, mode: bool = True) -> PerceptualLoss:
        super().train(mode)
        self.net.eval()  # LPIPS has dropout layers: keep them off
        return self


def discriminator_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """Non-saturating GAN loss of the discriminator: -log D(x) - log(1 - D(x_hat))."""
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def generator_loss(fake_logits: Tensor) -> Tensor:
    """Non-saturating GAN loss of the generator: -log D(x_hat)."""
    return F.softplus(-fake_logits).mean()


class RateController(nn.Module):
    """Per-level rate weights that are steered until each level's bpp meets its target.

    Dual ascent on the constraint bpp(q) <= target(q): after each batch, the log-weight of every
    level moves by ``step * log(bpp / target)``, averaged over the samples near that level (hat
    weights). A level over its target gets a heavier rate term, one under it a lighter one, so
    the rate settles at the target whatever the distortion terms weigh. The weights are a buffer
    saved in checkpoints, so a resumed run keeps its balance; the targets come from the config.

    Args:
        target_bpp: Target bits per pixel of each integer quality, increasing.
        initial_weight: Starting rate weight of every level.
        step: Dual-ascent step on the log-weights.
    """

    def __init__(self, target_bpp: tuple[float, ...], initial_weight: float = 1.0, step: float = 0.02) -> None:
        super().__init__()
        self.step = step
        log_target = torch.tensor([math.log(t) for t in target_bpp])
        self.register_buffer("log_target", log_target, persistent=False)
        self.register_buffer("log_weight", torch.full((len(target_bpp),), math.log(initial_weight)))

    def weight(self, levels: Tensor) -> Tensor:
        """Rate weight of each sample (N,) for hat weights over the levels (N, Q)."""
        return torch.exp(levels @ self.log_weight)

    def target(self, levels: Tensor) -> Tensor:
        """Target bpp of each sample (N,), log-linear between the levels."""
        return torch.exp(levels @ self.log_target)

    @torch.no_grad()
    def update(self, levels: Tensor, bpp: Tensor) -> None:
        """Move the log-weights by the samples' log(bpp / target), levels (N, Q), bpp (N,)."""
        error = torch.log(bpp.clamp_min(1e-6)) - torch.log(self.target(levels))  # (N,)
        share = levels.sum(0)  # (Q,)
        mean_error = (levels * error[:, None]).sum(0) / share.clamp_min(1e-6)
        self.log_weight += self.step * torch.where(share > 0, mean_error, torch.zeros_like(mean_error))
