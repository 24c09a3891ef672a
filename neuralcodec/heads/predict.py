"""Running a loaded head on ungained latents: class probabilities and label masks."""

from __future__ import annotations

import functools

import numpy as np
import numpy.typing as npt
import torch
from PIL import Image
from torch import Tensor

from neuralcodec.heads.loading import LoadedHead, load_head
from neuralcodec.registry import CodecSpec, HeadSpec, find_head

__all__ = ["shipped_head", "top_classes", "label_mask", "mask_image"]


@functools.lru_cache(maxsize=8)
def _load_cached(spec: HeadSpec) -> LoadedHead:
    return load_head(spec)


def shipped_head(task: str, codec: CodecSpec, quality: float) -> LoadedHead:
    """The verified shipped head for ``task`` on this release of ``codec`` nearest to ``quality``, loaded once.

    Raises:
        NotRegisteredError: None is shipped for this task and codec.
        WeightsNotFoundError, WeightsChecksumError, WeightsError: As :func:`load_head`.
    """
    return _load_cached(find_head(task, codec, quality))


@torch.inference_mode()
def top_classes(head: LoadedHead, y: Tensor, top_k: int = 5) -> list[tuple[str, float]]:
    """The ``top_k`` (class name, probability) pairs, most probable first.

    Args:
        head: A classification head.
        y: Ungained latents (1, M, h, w).
    """
    probs = torch.softmax(head.model(y.float()), dim=1)[0]  # (K,)
    values, indexes = probs.topk(min(top_k, probs.numel()))
    return [(head.classes[int(i)], float(v)) for v, i in zip(values, indexes)]


@torch.inference_mode()
def label_mask(head: LoadedHead, y: Tensor, height: int, width: int) -> npt.NDArray[np.uint8]:
    """Class ids (height, width) uint8 of the most probable class per pixel.

    Args:
        head: A segmentation head.
        y: Ungained latents (1, M, h, w) of an image of ``height`` x ``width``.
    """
    scores = head.model(y.float(), size=(height, width))  # (1, K, H, W)
    mask: npt.NDArray[np.uint8] = scores[0].argmax(0).to(torch.uint8).cpu().numpy()  # (H, W)
    return mask


def mask_image(mask: npt.NDArray[np.uint8], palette: tuple[tuple[int, int, int], ...]) -> Image.Image:
    """A palette ("P") image whose pixel values are the class ids of ``mask``."""
    image = Image.fromarray(mask, mode="P")
    flat = [v for rgb in palette for v in rgb]
    image.putpalette(flat + [0] * (768 - len(flat)))
    return image
