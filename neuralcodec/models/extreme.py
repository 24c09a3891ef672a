"""The GAN codec for extreme rates: the hyperprior's encoder and entropy model, a generator decoder.

Only what coding needs lives here; the discriminator and the losses are in ``train/``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from neuralcodec.models.hyperprior import HyperpriorConfig, MeanScaleHyperprior
from neuralcodec.models.transforms import synthesis

__all__ = ["GenerativeConfig", "ChannelNorm", "ResidualBlock", "Generator", "GenerativeHyperprior"]


@dataclass(frozen=True)
class GenerativeConfig(HyperpriorConfig):
    """Architecture of :class:`GenerativeHyperprior`: the hyperprior's fields plus the generator's."""

    num_qualities: int = 3  # gain vectors; quality is continuous in [1, num_qualities]
    residual_blocks: int = 6  # residual blocks (M channels) at the latent's resolution


class ChannelNorm(nn.Module):
    """Normalisation over the channels of each pixel, with a learned affine (HiFiC's ChannelNorm).

    Unlike batch or instance norm it uses no statistics across images or positions, so one image
    (or one tile of it) decodes exactly as in training.

    Args:
        channels: Channels normalised together.
        scale: Initial value of the affine scale (0 makes a residual branch start as identity).
        eps: Added to the variance.
    """

    def __init__(self, channels: int, scale: float = 1.0, eps: float = 1e-3) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.full((1, channels, 1, 1), scale))
        self.bias = nn.Parameter(torch.zeros(1, channels, 1, 1))

    def forward(self, x: Tensor) -> Tensor:
        mean = x.mean(1, keepdim=True)  # (N, 1, H, W)
        var = x.var(1, keepdim=True, unbiased=False)
        return (x - mean) * torch.rsqrt(var + self.eps) * self.weight + self.bias


class ResidualBlock(nn.Module):
    """x + norm(conv3x3(ReLU(norm(conv3x3(x))))); the last norm starts at 0, so the block at identity."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1),
            ChannelNorm(channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, 3, padding=1),
            ChannelNorm(channels, scale=0.0),
        )

    def forward(self, x: Tensor) -> Tensor:
        residual: Tensor = self.body(x)
        return x + residual


class Generator(nn.Module):
    """(B, M, h, w) -> (B, 3, 16h, 16w): residual blocks on the latent, then the synthesis stack.

    The residual trunk works at the latent's resolution (HiFiC's layout, with M channels); the
    four x2 transposed convolutions with inverse GDN are the MSE codec's ``g_s`` layers, so the
    generator can start from a trained MSE decoder: with the trunk at identity it *is* that
    decoder, and GAN training adds texture from there.
    """

    def __init__(self, config: GenerativeConfig) -> None:
        super().__init__()
        self.trunk = nn.Sequential(*(ResidualBlock(config.M) for _ in range(config.residual_blocks)))
        self.upsample = synthesis(config.N, config.M)

    def forward(self, y_hat: Tensor) -> Tensor:
        x_hat: Tensor = self.upsample(self.trunk(y_hat))  # (B, 3, 16h, 16w)
        return x_hat


class GenerativeHyperprior(MeanScaleHyperprior):
    r"""Mean-scale hyperprior with a generative decoder, for GAN training at extreme rates.

    After Agustsson et al. 2019, "Generative adversarial networks for extreme learned image
    compression", and Mentzer et al. 2020, "High-fidelity generative image compression"
    (HiFiC): the encoder, hyper-prior, gains and entropy coding are those of
    :class:`MeanScaleHyperprior` (same bitstream layout, same integer-exact hyper-decoder);
    g_s is a :class:`Generator` trained with MSE, LPIPS and an adversarial loss
    (``train/codec/gan_module.py``). In training the generator decodes the rounded latent (straight-
    through gradient), the latent it gets from a file, while the rate uses the noisy proxy.

    .. code-block:: none

            x ──►── g_a ──► ×gain ──► Q ──► y_hat ──► ×inv_gain ──► generator ──►── x_hat
                                      ▲       (rANS, scales and means from the
                                      │        hyperprior h_a / Q / h_s)
                               (as MeanScaleHyperprior)

        generator: 6 × residual block (ChannelNorm) ─► 4 × (deconv ×2, inverse GDN) ─► RGB
    """

    def __init__(self, config: HyperpriorConfig, lambdas: tuple[float, ...]) -> None:
        if not isinstance(config, GenerativeConfig):
            raise TypeError(f"GenerativeHyperprior needs a GenerativeConfig, got {type(config).__name__}")
        super().__init__(config, lambdas)
        self.rounded_synthesis_input = True

    @staticmethod
    def _synthesis(config: HyperpriorConfig) -> nn.Module:
        assert isinstance(config, GenerativeConfig)
        return Generator(config)

    @property
    def synthesis_margin(self) -> int:
        """Over the generator's reach in latents: 2 per residual block, then g_s's 2."""
        assert isinstance(self.config, GenerativeConfig)
        return 2 * self.config.residual_blocks + 4
