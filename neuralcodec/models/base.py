"""The contract every neuralcodec codec model fulfils, on top of compressai's CompressionModel."""

from __future__ import annotations

from abc import abstractmethod
from typing import ClassVar

from compressai.models import CompressionModel
from torch import Tensor

from neuralcodec.models.outputs import Compressed, DecodedLatents, RDOutput

__all__ = ["CodecModel"]


class CodecModel(CompressionModel):  # type: ignore[misc]  # compressai is untyped
    """A learned codec: ``forward`` for training, ``compress``/``decompress`` for real bitstreams.

    Every model is built as ``Model(config, lambdas)`` (the registry's table of architectures)
    and codes a variable rate: ``quality`` is a float in ``[1, num_qualities]`` and one network
    serves every quality, through a gain on the latent before quantization and an inverse gain
    after. What the container needs from a model is :attr:`downsampling_factor` (images are
    padded to it), :meth:`latent_hw` and :meth:`num_streams` (to check a file's stream count
    before decoding).
    """

    #: Pixels per latent of y along each side: y is (1, M, H / latent_stride, W / latent_stride).
    latent_stride: ClassVar[int] = 16

    @property
    @abstractmethod
    def downsampling_factor(self) -> int:
        """Input height and width must be multiples of this (a multiple of :attr:`latent_stride`)."""

    @property
    @abstractmethod
    def num_qualities(self) -> int:
        """Quality is continuous in ``[1, num_qualities]``."""

    @abstractmethod
    def gain(self, quality: float) -> Tensor:
        """The gain (1, M, 1, 1) applied to y before quantization when coding at ``quality``."""

    @abstractmethod
    def inverse_gain(self, quality: float) -> Tensor:
        """The inverse gain (1, M, 1, 1) that maps y_hat at ``quality`` to the synthesis input."""

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
        """Latent size for an image of ``height`` x ``width`` (padded to :attr:`downsampling_factor`)."""
        f, s = self.downsampling_factor, self.latent_stride
        return -(-height // f) * (f // s), -(-width // f) * (f // s)

    def latent_tile(self, tile_size: int) -> int:
        """The side, in latents, of a ``tile_size``-pixel tile.

        Raises:
            ValueError: ``tile_size`` is not a positive multiple of :attr:`downsampling_factor`.
        """
        if tile_size <= 0 or tile_size % self.downsampling_factor:
            raise ValueError(f"tile size {tile_size} is not a multiple of {self.downsampling_factor}")
        return tile_size // self.latent_stride
