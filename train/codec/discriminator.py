"""The discriminator of GAN training (never shipped: decoding needs only the generator)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm

__all__ = ["LatentConditionedDiscriminator"]


class LatentConditionedDiscriminator(nn.Module):
    """HiFiC's conditional PatchGAN: the image and the upsampled latent in, one logit per 16x16 patch.

    Conditioning on y_hat (Mentzer et al. 2020) lets the discriminator judge whether texture
    fits what was coded, not only whether it looks real. Spectral norm on every convolution.

    Args:
        latent_channels: Channels M of y_hat.
        widths: Channels of the four stride-2 4x4 convolutions.
        latent_features: Channels the latent is projected to before upsampling.
    """

    def __init__(
        self,
        latent_channels: int,
        widths: tuple[int, ...] = (64, 128, 256, 512),
        latent_features: int = 12,
    ) -> None:
        super().__init__()
        self.latent = spectral_norm(nn.Conv2d(latent_channels, latent_features, 3, padding=1))
        layers: list[nn.Module] = []
        c_in = 3 + latent_features
        for c_out in widths:
            layers += [spectral_norm(nn.Conv2d(c_in, c_out, 4, stride=2, padding=1)), nn.LeakyReLU(0.2)]
            c_in = c_out
        layers.append(spectral_norm(nn.Conv2d(c_in, 1, 1)))
        self.body = nn.Sequential(*layers)

    def forward(self, x: Tensor, y_hat: Tensor) -> Tensor:
        """Logits (N, 1, H/16, W/16) for images x (N, 3, H, W) in [0, 1] given y_hat (N, M, H/16, W/16)."""
        latent = F.leaky_relu(self.latent(y_hat), 0.2)
        latent = F.interpolate(latent, size=x.shape[-2:], mode="nearest")  # (N, 12, H, W)
        return self.body(torch.cat([x * 2 - 1, latent], dim=1))
