"""The contract every neuralcodec codec model fulfils, on top of compressai's CompressionModel."""

from __future__ import annotations

from abc import abstractmethod

from compressai.models import CompressionModel
from torch import Tensor

from neuralcodec.models.outputs import Compressed, DecodedLatents, RDOutput

__all__ = ["CodecModel"]


class CodecModel(CompressionModel):  # type: ignore[misc]  # compressai is untyped
    """A learned codec: ``forward`` for training, ``compress``/``decompress`` for real bitstreams.

    ``quality`` is a float in ``[1, num_qualities]``; one network serves every quality.
    """

    @property
    @abstractmethod
    def downsampling_factor(self) -> int:
        """Input height and width must be multiples of this."""

    @abstractmethod
    def num_streams(self, latent_hw: tuple[int, int], tile_size: int) -> int:
        """How many byte strings ``compress`` produces for this latent size and tiling."""

    @abstractmethod
    def forward(self, x: Tensor, quality: Tensor) -> RDOutput:
        """Noisy (training) or rounded (eval) pass; ``quality`` has shape (N,)."""

    @abstractmethod
    def compress(self, x: Tensor, quality: float, tile_size: int) -> Compressed:
        """Entropy-code one padded image (1, 3, H, W) at ``quality``.

        The transforms run on tiles of ``tile_size`` pixels (a multiple of
        ``downsampling_factor``) with context around each, so memory stays bounded; each tile
        of the latent is coded as its own stream.
        """

    @abstractmethod
    def decompress(
        self, streams: list[bytes], latent_hw: tuple[int, int], quality: float, tile_size: int
    ) -> Tensor:
        """Decode streams from :meth:`compress` back to x_hat (1, 3, H, W)."""

    @abstractmethod
    def decompress_latents(
        self, streams: list[bytes], latent_hw: tuple[int, int], tile_size: int
    ) -> DecodedLatents:
        """Entropy-decode the quantized latents without running the synthesis transform."""

    def latent_hw(self, height: int, width: int) -> tuple[int, int]:
        """Latent size for an image of ``height`` x ``width`` (before padding)."""
        f = self.downsampling_factor
        return -(-height // f) * (f // 16), -(-width // f) * (f // 16)
