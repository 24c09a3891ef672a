"""Image files ``decompress`` writes and reads besides the codec's: output formats, the
``--reference`` image and its PSNR."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from neuralcodec import metrics, pixels
from neuralcodec.cli.status import CommandError, UsageError, describe
from neuralcodec.errors import UnsupportedImageError

__all__ = ["encode_image", "output_format", "psnr", "read_reference", "suffix_for"]

#: The format of outputs whose name says none (standard output, default names, folders).
_DEFAULT_FORMAT = "png"
_COMMON = ".png, .jpg, .webp, .tiff, .bmp"


def _pillow_format(extension: str) -> str:
    """The Pillow format that writes files with ``extension`` (``.jpg`` -> ``JPEG``).

    Raises:
        UsageError: Pillow cannot write it.
    """
    fmt = Image.registered_extensions().get(extension.lower())
    if fmt is None or fmt not in Image.SAVE:
        raise UsageError(f"cannot write {extension!r} images; use an extension such as {_COMMON}")
    return fmt


def suffix_for(requested: str | None) -> str:
    """The extension of outputs named after their input, for ``--format`` (``jpg`` -> ``.jpg``).

    Raises:
        UsageError: Pillow cannot write that format.
    """
    suffix = "." + (requested or _DEFAULT_FORMAT).lower().lstrip(".")
    _pillow_format(suffix)
    return suffix


def output_format(target: Path | None, requested: str | None) -> str:
    """The Pillow format to write ``target`` in: its extension's, else ``--format``'s, else PNG.

    Raises:
        UsageError: Pillow cannot write the extension, or it contradicts ``--format``.
    """
    asked = _pillow_format(suffix_for(requested))
    if target is None or not target.suffix:
        return asked
    named = _pillow_format(target.suffix)
    if requested is not None and named != asked:
        raise UsageError(f"output {target} is a {named} name, but --format asks for {asked}")
    return named


def encode_image(image: Image.Image, fmt: str) -> bytes:
    """``image`` as a file of Pillow format ``fmt`` (Pillow's default settings).

    A mode the format cannot hold is converted to RGB, except alpha, which is never dropped.

    Raises:
        CommandError: The format cannot hold the image (alpha in a JPEG, say).
    """
    buffer = io.BytesIO()
    try:
        image.save(buffer, format=fmt)
    except (OSError, ValueError, KeyError) as error:
        if image.mode in ("RGB", "RGBA", "LA"):
            raise CommandError(f"cannot write a {image.mode} image as {fmt}: {error}") from None
        return encode_image(image.convert("RGB"), fmt)  # palette or bilevel: no loss in RGB
    return buffer.getvalue()


def read_reference(path: Path, max_pixels: int) -> pixels.UInt8Array:
    """The ``--reference`` image as uint8 RGB (H, W, 3), oriented as the encoder read it.

    Raises:
        CommandError: It cannot be read.
    """
    try:
        return np.asarray(pixels.open_image(path, max_pixels).convert("RGB"))
    except UnsupportedImageError as error:
        raise CommandError(f"--reference: {describe(error)}") from None


def psnr(reference: pixels.UInt8Array, image: Image.Image) -> float:
    """PSNR-RGB in dB of ``image`` against ``reference`` (inf when identical)."""
    return metrics.psnr_uint8(reference, np.asarray(image.convert("RGB")))
