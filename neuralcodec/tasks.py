"""Tasks straight from a file's latents, with the shipped heads: no pixel decoding.

Example:
    >>> from neuralcodec.tasks import classify
    >>> classify(open("dog.ncc", "rb").read())[0]  # doctest: +SKIP
    ('English springer', 0.71)
"""

from __future__ import annotations

from PIL import Image

from neuralcodec import heads
from neuralcodec.api import codec_for

__all__ = ["classify", "segment"]


def classify(data: bytes, top_k: int = 5) -> list[tuple[str, float]]:
    """Classify an image straight from its latents (no pixel decoding), with the shipped head.

    The head for the file's codec and weights whose training quality is nearest the file's
    is used (see ``HEADS`` in ``neuralcodec/registry.py``).

    Returns:
        Up to ``top_k`` (class name, probability) pairs, most probable first.

    Raises:
        NotRegisteredError: No classification head is shipped for the file's codec.
        BitstreamError, WeightsNotFoundError, WeightsChecksumError: As ``latents``.

    Example:
        >>> classify(open("dog.ncc", "rb").read())[0]  # doctest: +SKIP
        ('English springer', 0.71)
    """
    codec = codec_for(data)
    y = codec.latents(data)
    head = heads.shipped_head("classify", codec.spec, y.quality)
    return heads.top_classes(head, y.ungained, top_k)


def segment(data: bytes) -> Image.Image:
    """Semantic segmentation straight from the latents: a palette image of class ids, full size.

    Raises:
        NotRegisteredError: No segmentation head is shipped for the file's codec.
        BitstreamError, WeightsNotFoundError, WeightsChecksumError: As ``latents``.

    Example:
        >>> segment(open("street.ncc", "rb").read()).save("mask.png")  # doctest: +SKIP
    """
    codec = codec_for(data)
    y = codec.latents(data)
    head = heads.shipped_head("segment", codec.spec, y.quality)
    mask = heads.label_mask(head, y.ungained, y.height, y.width)
    return heads.mask_image(mask, head.palette)
