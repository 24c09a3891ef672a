"""Typed outputs of codec models (NamedTuples, not dicts keyed by strings)."""

from __future__ import annotations

from typing import NamedTuple

from torch import Tensor

__all__ = ["RDOutput", "Compressed", "DecodedLatents"]


class RDOutput(NamedTuple):
    """What ``forward`` returns during training and evaluation.

    Attributes:
        x_hat: Reconstruction, (N, 3, H, W), not clamped.
        likelihoods: Likelihoods of each latent, keyed ``"y"`` and ``"z"``.
        y_hat: The synthesis input (N, M, H/16, W/16): the noisy or rounded latent times the
            inverse gain (what a latent-conditioned discriminator sees).
        coded_likelihoods: Likelihoods of y rounded around its means, as coded in a file
            (and of z as in ``likelihoods``): a rate estimate without the training noise.
    """

    x_hat: Tensor
    likelihoods: dict[str, Tensor]
    y_hat: Tensor
    coded_likelihoods: dict[str, Tensor]


class Compressed(NamedTuple):
    """What ``compress`` returns for one image.

    Attributes:
        streams: Entropy-coded byte strings, in the order ``decompress`` expects.
        latent_hw: Spatial size of the coded latent ``y``.
    """

    streams: list[bytes]
    latent_hw: tuple[int, int]


class DecodedLatents(NamedTuple):
    """The entropy-decoded latents of one image, before any synthesis transform.

    Attributes:
        y_hat: Quantized latent (1, M, h, w), in the quality-gained domain.
        z_hat: Quantized hyper-latent (1, N, h/4, w/4).
    """

    y_hat: Tensor
    z_hat: Tensor
