"""The GAN codec for extreme rates: the hyperprior's encoder and entropy model, a generator decoder.

Only what coding needs lives here; the discriminator and the losses are in ``train/``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from neuralcodec.models.hyperprior import HyperpriorConfig, MeanScaleHyperprior

__all__ = ["GenerativeConfig", "ChannelNorm", "ResidualBlock", "generator", "GenerativeHyperprior"]


@dataclass(frozen=True)
class GenerativeConfig(HyperpriorConfig):
    """Architecture of :class:`GenerativeHyperprior`: the hyperprior's fields plus the generator's."""

    num_qualities: int = 3  # gain vectors; quality is continuous in [1, num_qualities]
    channels: int = 192  # channels of the generator's residual trunk, at the latent's resolution
    residual_blocks: int = 6  # residual blocks in that trunk
    widths: tuple[int, ...] = (128, 96, 64, 32)  # channels after each of the 4 x2 upsamplings


class ChannelNorm(nn.Module):
    """Normalisation over the channels of each pixel, with a learned affine (HiFiC's ChannelNorm).

    Unlike batch or instance norm it uses no statistics across images or positions, so one image
    (or one tile of it) decodes exactly as in training.
    """

    def __init__(self, channels: int, eps: float = 1e-3) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(1, channels, 1, 1))
        self.bias = nn.Parameter(torch.zeros(1, channels, 1, 1))

    def forward(self, x: Tensor) -> Tensor:
        mean = x.mean(1, keepdim=True)  # (N, 1, H, W)
        var = x.var(1, keepdim=True, unbiased=False)
        return (x - mean) * torch.rsqrt(var + self.eps) * self.weight + self.bias


class ResidualBlock(nn.Module):
    """conv3x3 - norm - ReLU - conv3x3 - norm, plus the input."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1),
            ChannelNorm(channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, 3, padding=1),
            ChannelNorm(channels),
        )

    def forward(self, x: Tensor) -> Tensor:
        residual: Tensor = self.body(x)
        return x + residual


class _Generator(nn.Module):
    """(B, M, h, w) -> (B, 3, 16h, 16w): a residual trunk with a global skip, then 4 upsamplings."""

    def __init__(self, config: GenerativeConfig) -> None:
        super().__init__()
        if len(config.widths) != 4:
            raise ValueError(f"the generator upsamples 4 times, got widths {config.widths}")
        c = config.channels
        self.head = nn.Sequential(nn.Conv2d(config.M, c, 3, padding=1), ChannelNorm(c))
        self.trunk = nn.Sequential(*(ResidualBlock(c) for _ in range(config.residual_blocks)))
        layers: list[nn.Module] = []
        for c_in, c_out in zip((c, *config.widths), config.widths):
            layers += [
                nn.ConvTranspose2d(c_in, c_out, 3, stride=2, padding=1, output_padding=1),
                ChannelNorm(c_out),
                nn.ReLU(inplace=True),
            ]
        layers.append(nn.Conv2d(config.widths[-1], 3, 7, padding=3))
        self.upsample = nn.Sequential(*layers)

    def forward(self, y_hat: Tensor) -> Tensor:
        h = self.head(y_hat)  # (B, C, h, w)
        x_hat: Tensor = self.upsample(h + self.trunk(h))  # (B, 3, 16h, 16w)
        return x_hat


def generator(config: GenerativeConfig) -> nn.Module:
    """The generator decoder for ``config`` (HiFiC's layout, scaled by ``channels`` and ``widths``)."""
    return _Generator(config)


class GenerativeHyperprior(MeanScaleHyperprior):
    r"""Mean-scale hyperprior with a generative decoder, for GAN training at extreme rates.

    After Agustsson et al. 2019, "Generative adversarial networks for extreme learned image
    compression", and Mentzer et al. 2020, "High-fidelity generative image compression"
    (HiFiC): the encoder, hyper-prior, gains and entropy coding are those of
    :class:`MeanScaleHyperprior` (same bitstream layout, same integer-exact hyper-decoder);
    only g_s is replaced by a generator of residual blocks and transposed convolutions with
    :class:`ChannelNorm`, trained with MSE, LPIPS and an adversarial loss (``train/gan_module.py``).

    .. code-block:: none

            x ──►── g_a ──► ×gain ──► Q ──► y_hat ──► ×inv_gain ──► generator ──►── x_hat
                                      ▲       (rANS, scales and means from the
                                      │        hyperprior h_a / Q / h_s)
                               (as MeanScaleHyperprior)

        generator: conv3x3 + norm ─► 6 × residual block (+ skip) ─► 4 × (deconv ×2, norm, ReLU) ─► conv7x7
    """

    def __init__(self, config: HyperpriorConfig, lambdas: tuple[float, ...]) -> None:
        if not isinstance(config, GenerativeConfig):
            raise TypeError(f"GenerativeHyperprior needs a GenerativeConfig, got {type(config).__name__}")
        super().__init__(config, lambdas)

    @staticmethod
    def _synthesis(config: HyperpriorConfig) -> nn.Module:
        assert isinstance(config, GenerativeConfig)
        return generator(config)

    @property
    def synthesis_margin(self) -> int:
        """Over the generator's reach in latents: 1 + 2 per residual block + under 2 upsampling."""
        assert isinstance(self.config, GenerativeConfig)
        return 2 * self.config.residual_blocks + 4
