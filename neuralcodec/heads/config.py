"""What a task model is: :class:`HeadConfig` (stored as JSON in every head's weight file) and
:func:`build_head`, which makes the model it describes."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from torch import nn

from neuralcodec.heads.blocks import TrunkConfig
from neuralcodec.heads.latent_task import LatentClassifier, LatentSegmenter
from neuralcodec.heads.pixel_baseline import PixelClassifier, PixelSegmenter

__all__ = ["TASKS", "INPUTS", "HeadConfig", "build_head"]

TASKS = ("classify", "segment")
INPUTS = ("latent", "pixel")


@dataclass(frozen=True)
class HeadConfig:
    """A task model: which task, on which input, and its size."""

    task: str = "classify"  # "classify" or "segment"
    input: str = "latent"  # "latent" (ungained y_hat) or "pixel" (x in [0, 1])
    num_classes: int = 10  # classes predicted (segmentation: without the ignore label)
    in_channels: int = 192  # M of the codec's latents (latent input only)
    width: int = 64  # trunk width (see TrunkConfig)
    blocks: int = 1  # residual blocks per trunk stage
    stages: int = 2  # trunk stages
    dropout: float = 0.2  # before the classifier's linear layer

    def __post_init__(self) -> None:
        if self.task not in TASKS or self.input not in INPUTS:
            raise ValueError(f"task must be one of {TASKS} and input one of {INPUTS}, got {self}")

    @property
    def trunk(self) -> TrunkConfig:
        """The trunk part of the configuration."""
        return TrunkConfig(self.width, self.blocks, self.stages, self.dropout)

    def to_json(self) -> str:
        """Canonical JSON (sorted keys), as stored in weight-file metadata."""
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> HeadConfig:
        """Inverse of :meth:`to_json`.

        Raises:
            ValueError: Not a valid configuration.
        """
        try:
            return cls(**json.loads(text))
        except (TypeError, json.JSONDecodeError) as error:
            raise ValueError(f"not a head configuration: {error}") from None


def build_head(config: HeadConfig) -> nn.Module:
    """A freshly initialised model for ``config``."""
    if config.input == "latent":
        latent_cls = LatentClassifier if config.task == "classify" else LatentSegmenter
        return latent_cls(config.num_classes, config.in_channels, config.trunk)
    pixel_cls = PixelClassifier if config.task == "classify" else PixelSegmenter
    return pixel_cls(config.num_classes, config.trunk)
