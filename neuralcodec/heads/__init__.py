"""Task heads that learn from codec latents, their pixel baselines, and shipped head weights.

The heads (:mod:`~neuralcodec.heads.latent_task`) take ungained y_hat, never pixels; the
baselines (:mod:`~neuralcodec.heads.pixel_baseline`) share their trunk and output layers.
"""

from neuralcodec.heads.blocks import TrunkConfig
from neuralcodec.heads.config import HeadConfig, build_head
from neuralcodec.heads.latent_task import LatentClassifier, LatentSegmenter
from neuralcodec.heads.loading import HEAD_FORMAT, LoadedHead, head_file_name, load_head
from neuralcodec.heads.pixel_baseline import PixelClassifier, PixelSegmenter
from neuralcodec.heads.predict import label_mask, mask_image, shipped_head, top_classes
from neuralcodec.registry import HEADS, HeadSpec, find_head

__all__ = [
    "HEADS",
    "HEAD_FORMAT",
    "HeadConfig",
    "HeadSpec",
    "LatentClassifier",
    "LatentSegmenter",
    "LoadedHead",
    "PixelClassifier",
    "PixelSegmenter",
    "TrunkConfig",
    "build_head",
    "find_head",
    "head_file_name",
    "label_mask",
    "load_head",
    "mask_image",
    "shipped_head",
    "top_classes",
]
