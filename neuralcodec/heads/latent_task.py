"""Task heads on codec latents: :class:`LatentClassifier` and :class:`LatentSegmenter`.

They take the entropy-decoded latents ``y_hat`` (N, M, H/16, W/16), never pixels, so no
synthesis transform runs. What they take exactly: ``y_hat`` *ungained*, i.e. multiplied by
the codec's inverse gain vector for the file's quality (:func:`ungain`), which is what the
synthesis transform ``g_s`` sees. The per-quality gains only rescale channels, so after
ungaining every quality lies on one scale (a coarser quality is a coarser quantization of the
same representation). Each head then standardises its input per channel with statistics of
its training set, stored in the head (``channel_mean`` / ``channel_std`` buffers).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from neuralcodec.heads.blocks import ClassifierOutput, SegmenterOutput, Trunk, TrunkConfig

__all__ = ["LatentInput", "LatentClassifier", "LatentSegmenter"]


class LatentInput(nn.Module):
    """Per-channel standardisation, then a 1x1 convolution to the trunk width.

    Args:
        in_channels: M, the codec's latent channels.
        width: Output channels.
    """

    # Buffers, declared so that mypy sees Tensors (nn.Module.__getattr__ returns Tensor | Module).
    channel_mean: Tensor  # (M,)
    channel_std: Tensor  # (M,)

    def __init__(self, in_channels: int, width: int) -> None:
        super().__init__()
        self.register_buffer("channel_mean", torch.zeros(in_channels))
        self.register_buffer("channel_std", torch.ones(in_channels))
        self.adapt = nn.Sequential(
            nn.Conv2d(in_channels, width, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True)
        )

    @torch.no_grad()
    def set_statistics(self, mean: Tensor, std: Tensor) -> None:
        """Store the training set's per-channel mean and std (M,) of the ungained latents."""
        self.channel_mean.copy_(mean)
        self.channel_std.copy_(std.clamp_min(1e-3))

    def forward(self, y: Tensor) -> Tensor:
        y = (y - self.channel_mean[:, None, None]) / self.channel_std[:, None, None]
        return self.adapt(y)  # type: ignore[no-any-return]


class LatentClassifier(nn.Module):
    """Image classifier on ungained codec latents.

    Args:
        num_classes: Number of classes K.
        in_channels: M, the codec's latent channels (192 for ``hyperprior``).
        trunk: Trunk size, shared with :class:`~neuralcodec.heads.pixel_baseline.PixelClassifier`.

    Example:
        >>> head = LatentClassifier(10, in_channels=192)
        >>> head(torch.zeros(2, 192, 14, 14)).shape
        torch.Size([2, 10])
    """

    def __init__(self, num_classes: int, in_channels: int = 192, trunk: TrunkConfig = TrunkConfig()) -> None:
        super().__init__()
        self.front = LatentInput(in_channels, trunk.width)
        self.trunk = Trunk(trunk)
        self.output = ClassifierOutput(self.trunk.out_channels, num_classes, trunk.dropout)

    def forward(self, y: Tensor) -> Tensor:
        """Logits (N, K) from ungained latents (N, M, h, w)."""
        return self.output(self.trunk(self.front(y)))  # type: ignore[no-any-return]


class LatentSegmenter(nn.Module):
    """Semantic segmentation on ungained codec latents, upsampled to full resolution.

    Args:
        num_classes: Number of classes K (the ignore label is not a class).
        in_channels: M, the codec's latent channels.
        trunk: Trunk size; segmentation keeps 1/16 resolution and dilates.

    Example:
        >>> head = LatentSegmenter(11, in_channels=192)
        >>> head(torch.zeros(1, 192, 24, 32), size=(360, 480)).shape
        torch.Size([1, 11, 360, 480])
    """

    def __init__(self, num_classes: int, in_channels: int = 192, trunk: TrunkConfig = TrunkConfig()) -> None:
        super().__init__()
        self.front = LatentInput(in_channels, trunk.width)
        self.trunk = Trunk(trunk, dense=True)
        self.output = SegmenterOutput(self.trunk.out_channels, num_classes)

    def forward(self, y: Tensor, size: tuple[int, int] | None = None) -> Tensor:
        """Scores (N, K, H, W) from latents (N, M, h, w); ``size`` defaults to (16h, 16w)."""
        size = size or (16 * y.shape[-2], 16 * y.shape[-1])
        return self.output(self.trunk(self.front(y)), size)  # type: ignore[no-any-return]
