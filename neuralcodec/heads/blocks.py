"""The network pieces shared by the latent heads and their pixel baselines.

Both families are one ResNet cut in two: a *front* that brings its input to 1/16 resolution
with ``width`` channels (a pixel stem for images, a 1x1 adapter for codec latents, which are
already at 1/16), and the same residual *trunk* and task *output* after it. So a latent head
and its pixel baseline differ only in what the front sees (after Torfason et al. 2018,
"Towards image understanding from deep compression without decoding").
"""

from __future__ import annotations

from dataclasses import dataclass

import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    "TrunkConfig",
    "BasicBlock",
    "Trunk",
    "ClassifierOutput",
    "SegmenterOutput",
    "PixelStem",
    "conv_bn_relu",
]


@dataclass(frozen=True)
class TrunkConfig:
    """Size of the residual trunk at 1/16 resolution (shared by latent and pixel models)."""

    width: int = 128  # channels of the first trunk stage (and of every front's output)
    blocks: int = 1  # residual blocks per stage
    stages: int = 2  # stage i has width * 2**i channels (classification) or width (segmentation)
    dropout: float = 0.2  # before the classifier's linear layer


def conv_bn_relu(in_ch: int, out_ch: int, kernel: int = 3, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    """Convolution (no bias), batch norm, ReLU; 'same' padding for odd kernels."""
    padding = dilation * (kernel // 2)
    return nn.Sequential(
        nn.Conv2d(in_ch, out_ch, kernel, stride, padding, dilation=dilation, bias=False),
        nn.BatchNorm2d(out_ch),
        nn.ReLU(inplace=True),
    )


class BasicBlock(nn.Module):
    """ResNet basic block (He et al. 2016): two 3x3 convolutions and a shortcut.

    Args:
        in_ch: Input channels.
        out_ch: Output channels.
        stride: 2 halves the resolution (the shortcut becomes a strided 1x1 convolution).
        dilation: Dilation of both convolutions (segmentation keeps 1/16 and dilates instead).
    """

    def __init__(self, in_ch: int, out_ch: int, stride: int = 1, dilation: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, stride, dilation, dilation=dilation, bias=False)
        self.bn1 = nn.BatchNorm2d(out_ch)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, 1, dilation, dilation=dilation, bias=False)
        self.bn2 = nn.BatchNorm2d(out_ch)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_ch != out_ch:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_ch, out_ch, 1, stride, bias=False), nn.BatchNorm2d(out_ch)
            )

    def forward(self, x: Tensor) -> Tensor:
        out = F.relu(self.bn1(self.conv1(x)), inplace=True)
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x), inplace=True)


class Trunk(nn.Module):
    """Residual stages after the front, at 1/16 resolution and below.

    Classification halves the resolution and doubles the channels at each new stage;
    segmentation keeps 1/16 and the width, dilating later stages instead (DeepLab-style).

    Args:
        config: Width, stages and blocks.
        dense: Keep the resolution (segmentation) instead of downsampling.
    """

    def __init__(self, config: TrunkConfig, dense: bool = False) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        in_ch = config.width
        for stage in range(config.stages):
            out_ch = config.width if dense else config.width * 2**stage
            for block in range(config.blocks):
                first = block == 0 and stage > 0
                stride = 2 if first and not dense else 1
                dilation = 2**stage if dense else 1
                layers.append(BasicBlock(in_ch, out_ch, stride, dilation))
                in_ch = out_ch
        self.layers = nn.Sequential(*layers)
        self.out_channels = in_ch

    def forward(self, x: Tensor) -> Tensor:
        return self.layers(x)  # type: ignore[no-any-return]


class ClassifierOutput(nn.Module):
    """Global average pooling, dropout and a linear layer: (N, C, h, w) -> logits (N, K)."""

    def __init__(self, in_ch: int, num_classes: int, dropout: float) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(in_ch, num_classes)

    def forward(self, features: Tensor) -> Tensor:
        pooled = features.mean(dim=(2, 3))  # (N, C)
        return self.fc(self.dropout(pooled))  # type: ignore[no-any-return]


class SegmenterOutput(nn.Module):
    """FCN-style output: 3x3 conv, 1x1 to class scores at 1/16, bilinear x16 upsampling.

    The same output serves latent and pixel models, so neither gets a skip connection from
    high-resolution features (which latents do not have).
    """

    def __init__(self, in_ch: int, num_classes: int, hidden: int = 64) -> None:
        super().__init__()
        self.conv = conv_bn_relu(in_ch, hidden)
        self.classify = nn.Conv2d(hidden, num_classes, 1)

    def forward(self, features: Tensor, size: tuple[int, int]) -> Tensor:
        """Scores (N, K, *size) from trunk features (N, C, h, w); ``size`` <= 16 (h, w)."""
        scores = self.classify(self.conv(features))  # (N, K, h, w)
        h, w = scores.shape[-2:]
        up = F.interpolate(scores, size=(16 * h, 16 * w), mode="bilinear", align_corners=False)
        return up[..., : size[0], : size[1]]  # the image sits top-left of its padded grid


class PixelStem(nn.Module):
    """A ResNet stem from RGB to 1/16 resolution: four stride-2 convolutions, with a residual
    block at 1/4 and 1/8 (channels ``width/4``, ``width/4``, ``width/2``, ``width``).

    Args:
        width: Output channels (the trunk's width).
    """

    def __init__(self, width: int) -> None:
        super().__init__()
        c1, c2, c3 = max(width // 5, 8), width // 4, width // 2
        self.layers = nn.Sequential(
            conv_bn_relu(3, c1, stride=2),  # 1/2
            conv_bn_relu(c1, c2, stride=2),  # 1/4
            BasicBlock(c2, c2),
            conv_bn_relu(c2, c3, stride=2),  # 1/8
            BasicBlock(c3, c3),
            conv_bn_relu(c3, width, stride=2),  # 1/16
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.layers(x)  # type: ignore[no-any-return]
