"""The contract every neuralcodec codec model fulfils, on top of compressai's CompressionModel."""

from __future__ import annotations

from abc import abstractmethod

from compressai.models import CompressionModel
from torch import Tensor

from neuralcodec.models.outputs import Compressed, RDOutput

__all__ = ["CodecModel"]


class CodecModel(CompressionModel):  # type: ignore[misc]  # compressai is untyped
    """A learned codec: ``forward`` for training, ``compress``/``decompress`` for real bitstreams.

    ``quality`` is a float in ``[1, num_qualities]``; one network serves every quality.
    """

    @property
    @abstractmethod
    def downsampling_factor(self) -> int:
        """Input height and width must be multiples of this."""

    @property
    @abstractmethod
    def num_streams(self) -> int:
        """How many byte strings ``compress`` produces."""

    @abstractmethod
    def forward(self, x: Tensor, quality: Tensor) -> RDOutput:
        """Noisy (training) or rounded (eval) pass; ``quality`` has shape (N,)."""

    @abstractmethod
    def compress(self, x: Tensor, quality: float) -> Compressed:
        """Entropy-code one padded image (1, 3, H, W) at ``quality``."""

    @abstractmethod
    def decompress(
        self, streams: list[bytes], latent_hw: tuple[int, int], quality: float
    ) -> Tensor:
        """Decode streams from :meth:`compress` back to x_hat (1, 3, H, W)."""

    @abstractmethod
    def decompress_latents(
        self, streams: list[bytes], latent_hw: tuple[int, int]
    ) -> Tensor:
        """Entropy-decode the quantized latent y_hat without running the synthesis transform."""

    def latent_hw(self, height: int, width: int) -> tuple[int, int]:
        """Latent size for an image of ``height`` x ``width`` (before padding)."""
        f = self.downsampling_factor
        return -(-height // f) * (f // 16), -(-width // f) * (f // 16)
