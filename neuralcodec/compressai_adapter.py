"""A codec at one quality, seen as a compressai model, for compressai's own tools.

compressai's tools (``compressai.utils.eval_model``: ``inference``,
``inference_entropy_estimation``, ``eval_model``) call ``model(x)`` ->
``{"x_hat", "likelihoods"}``, ``model.compress(x)`` -> ``{"strings", "shape"}`` and
``model.decompress(strings, shape)`` -> ``{"x_hat"}``, and read the device from
``model.parameters()``. :class:`CompressAIAdapter` answers them with a loaded codec's model at
a fixed quality. Its strings are the codec's entropy-coded streams (z, then y per tile), not a
``.ncc`` file, so compressai's bpp counts them without our container header (38 bytes for one
tile), as it does for its own models.

Example:
    >>> from compressai.utils.eval_model.__main__ import inference
    >>> model = CompressAIAdapter(Codec("hyperprior"), quality=3)  # doctest: +SKIP
    >>> inference(model, x)["psnr-rgb"]  # x: (3, H, W) in [0, 1]  # doctest: +SKIP
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from neuralcodec import pixels
from neuralcodec.api import Codec, coded_quality
from neuralcodec.defaults import DEFAULT_TILE_SIZE

__all__ = ["CompressAIAdapter"]


class CompressAIAdapter(nn.Module):
    """compressai's model interface over ``codec`` at ``quality``.

    The adapter shares the codec's model (in eval mode; do not train it through the adapter).
    Inputs of any size are padded (replicate) to the model's multiple; ``forward`` crops its
    output back, while ``decompress``, like compressai's models, returns the padded size.

    Args:
        codec: A loaded codec.
        quality: In the codec's range; rounded to the container's 1/256 step, as in files.
        tile_size: Tile side in pixels for ``compress`` and ``decompress``.

    Raises:
        QualityError: ``quality`` is outside the codec's range.
    """

    def __init__(self, codec: Codec, quality: float, tile_size: int = DEFAULT_TILE_SIZE) -> None:
        super().__init__()
        self.model = codec.model
        self.quality = coded_quality(quality, codec.spec.name)
        self.tile_size = tile_size

    def forward(self, x: Tensor) -> dict[str, Tensor | dict[str, Tensor]]:
        """Rate-distortion pass (rounded latents in eval mode) on (N, 3, H, W) in [0, 1].

        Returns:
            ``{"x_hat": (N, 3, H, W), "likelihoods": {"y": ..., "z": ...}}``.
        """
        height, width = x.shape[-2:]
        x_pad = pixels.pad_to_multiple(x, self.model.downsampling_factor)
        out = self.model(x_pad, torch.full((x.size(0),), self.quality, device=x.device))
        return {"x_hat": pixels.crop(out.x_hat, height, width), "likelihoods": out.likelihoods}

    @torch.inference_mode()
    def compress(self, x: Tensor) -> dict[str, list[list[bytes]] | tuple[int, int]]:
        """Entropy-code one image (1, 3, H, W) in [0, 1].

        Returns:
            ``{"strings": [[z], [y of tile 1], ...], "shape": (h, w)}``: one list per stream
            holding the image's string, as compressai's models give; ``shape`` is the latent's.

        Raises:
            ValueError: A batch of more than one image.
        """
        if x.size(0) != 1:
            raise ValueError(f"compress codes one image at a time, got a batch of {x.size(0)}")
        x_pad = pixels.pad_to_multiple(x, self.model.downsampling_factor)
        compressed = self.model.compress(x_pad, self.quality, self.tile_size)
        return {"strings": [[stream] for stream in compressed.streams], "shape": compressed.latent_hw}

    @torch.inference_mode()
    def decompress(self, strings: list[list[bytes]], shape: tuple[int, int]) -> dict[str, Tensor]:
        """Decode :meth:`compress`'s output to ``{"x_hat": (1, 3, H, W)}`` in [0, 1] (padded size)."""
        streams = [per_image[0] for per_image in strings]
        x_hat = self.model.decompress(streams, (int(shape[0]), int(shape[1])), self.quality, self.tile_size)
        return {"x_hat": x_hat.clamp(0, 1)}
