"""Typed outputs of codec models (NamedTuples, not dicts keyed by strings)."""

from __future__ import annotations

from typing import NamedTuple

from torch import Tensor

__all__ = ["RDOutput", "Compressed"]


class RDOutput(NamedTuple):
    """What ``forward`` returns during training and evaluation.

    Attributes:
        x_hat: Reconstruction, (N, 3, H, W), not clamped.
        likelihoods: Likelihoods of each latent, keyed ``"y"`` and ``"z"``.
    """

    x_hat: Tensor
    likelihoods: dict[str, Tensor]


class Compressed(NamedTuple):
    """What ``compress`` returns for one image.

    Attributes:
        streams: Entropy-coded byte strings, in the order ``decompress`` expects.
        latent_hw: Spatial size of the coded latent ``y``.
    """

    streams: list[bytes]
    latent_hw: tuple[int, int]
