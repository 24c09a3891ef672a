"""Conversions between images and tensors: modes, alpha, palettes, padding and cropping.

Every Pillow mode is reduced to an RGB tensor plus what is needed to restore the original
mode: an alpha plane (kept losslessly) and a palette. 16-bit images are reduced to 8 bits with
a warning; EXIF orientation is applied when reading; animations and multi-page files are refused.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np
import numpy.typing as npt
import torch
import torch.nn.functional as F
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError
from torch import Tensor

from neuralcodec.errors import PixelLimitError, UnsupportedImageError

__all__ = [
    "ImageInput",
    "UInt8Array",
    "SplitImage",
    "open_image",
    "split_image",
    "merge_image",
    "pad_to_multiple",
    "crop",
    "to_uint8",
    "to_tensor",
    "to_array",
]

#: A PIL image, a uint8 array, an image file's path, its bytes, or a binary file object.
ImageInput = Image.Image | npt.NDArray[np.uint8] | str | Path | bytes | IO[bytes]
UInt8Array = npt.NDArray[np.uint8]

_SIXTEEN_BIT = ("I;16", "I;16B", "I;16L", "I;16N", "I")
_AS_RGB = ("CMYK", "YCbCr", "LAB", "HSV")


@dataclass(frozen=True)
class SplitImage:
    """An image reduced to what the codec codes plus what restores its mode.

    Attributes:
        rgb: uint8 array (H, W, 3).
        mode: Mode to restore on decode (one of ``container.MODES``).
        alpha: uint8 array (H, W) or None.
        palette: 768 palette bytes (mode ``"P"``) or None.
    """

    rgb: UInt8Array
    mode: str
    alpha: UInt8Array | None = None
    palette: bytes | None = None


def open_image(source: ImageInput, max_pixels: int | None = None) -> Image.Image:
    """A Pillow image from a file (path, bytes or binary file object), a uint8 array (H, W[, C])
    or an image; EXIF orientation applied.

    Args:
        source: What to read.
        max_pixels: Largest width x height accepted. For files it is checked on the header,
            before any pixel is decoded, so a small file declaring a huge image costs nothing.
            Pillow's own decompression-bomb limit (``PIL.Image.MAX_IMAGE_PIXELS``, errors above
            twice its value) applies to files as well; raise it to read larger files.

    Raises:
        UnsupportedImageError: The file cannot be read as an image (corrupt, truncated, a
            decompression bomb), is animated or has several pages, or the array has an
            unsupported shape or dtype.
        PixelLimitError: Over ``max_pixels``.
    """
    if isinstance(source, Image.Image):
        _check_pixels(source.width, source.height, max_pixels)
        return ImageOps.exif_transpose(source) or source
    if isinstance(source, np.ndarray):
        if source.dtype != np.uint8 or source.ndim not in (2, 3):
            raise UnsupportedImageError(
                f"arrays must be uint8 (H, W) or (H, W, C), got {source.dtype} {source.shape}"
            )
        if source.ndim == 3 and source.shape[2] not in (1, 3, 4):
            raise UnsupportedImageError(f"arrays need 1, 3 or 4 channels, got {source.shape[2]}")
        _check_pixels(source.shape[1], source.shape[0], max_pixels)
        return Image.fromarray(source.squeeze(2) if source.ndim == 3 and source.shape[2] == 1 else source)
    return _read_file(source, max_pixels)


def _read_file(source: str | Path | bytes | IO[bytes], max_pixels: int | None) -> Image.Image:
    """Decode an image file, checking its header first; errors name a path, never dump bytes."""
    name = str(source) if isinstance(source, (str, Path)) else "the image"
    try:
        with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as image:
            # Header only: nothing is decoded before these checks.
            _check_pixels(image.width, image.height, max_pixels)
            _check_still(image, name)
            if _reads_16_bit_colour(image):
                warnings.warn(f"16-bit {image.mode} image reduced to 8 bits per sample", stacklevel=4)
            image.load()
            return ImageOps.exif_transpose(image) or image
    except UnsupportedImageError:
        raise
    except Image.DecompressionBombError as error:
        # Pillow refuses above twice its limit; when that is within ours, the image is over ours.
        if max_pixels is not None and max_pixels <= 2 * (Image.MAX_IMAGE_PIXELS or 0):
            raise PixelLimitError(None, max_pixels) from None
        raise UnsupportedImageError(
            f"{name} is too large to read: {error} (raise PIL.Image.MAX_IMAGE_PIXELS to allow it)"
        ) from None
    except UnidentifiedImageError:
        raise UnsupportedImageError(f"cannot read {name}: not an image format Pillow reads") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise UnsupportedImageError(f"cannot read {name} as an image: {error}") from None


def _check_pixels(width: int, height: int, max_pixels: int | None) -> None:
    if max_pixels is not None and width * height > max_pixels:
        raise PixelLimitError((width, height), max_pixels)


def _check_still(image: ImageFile.ImageFile, name: str) -> None:
    """Refuse animations and multi-page files: coding the first frame alone would drop the rest.

    MPO files (camera JPEGs carrying previews or depth maps as extra frames) are read as their
    primary image, as every viewer shows them.
    """
    frames = getattr(image, "n_frames", 1)
    if frames > 1 and image.format != "MPO":
        raise UnsupportedImageError(
            f"{name} has {frames} frames (animated or multi-page); only still images are "
            "coded: extract the frame to code first"
        )


def _reads_16_bit_colour(image: ImageFile.ImageFile) -> bool:
    """Whether Pillow will decode this file's 16-bit colour samples to 8 bits (RGB, RGBA files)."""
    rawmodes = [args[0] if isinstance(args, tuple) else args for _, _, _, args, *_ in image.tile]
    return image.mode in ("RGB", "RGBA") and any(";16" in str(mode) for mode in rawmodes)


def split_image(image: Image.Image) -> SplitImage:
    """Reduce ``image`` to RGB plus alpha / palette, remembering its mode.

    Raises:
        UnsupportedImageError: Empty images and float (``F``) images.
    """
    if image.width < 1 or image.height < 1:
        raise UnsupportedImageError(f"image is empty ({image.width}x{image.height})")
    mode = image.mode
    if mode in _SIXTEEN_BIT:
        warnings.warn(f"{mode} image reduced to 8 bits per sample", stacklevel=3)
        wide = np.asarray(image, dtype=np.float64)
        if mode == "I":  # 32-bit: Pillow opens 16-bit PNGs as I with values up to 65535
            wide = wide.clip(0, 65535)
        image, mode = Image.fromarray(np.round(wide / 257).astype(np.uint8)), "L"
    if mode == "F":
        raise UnsupportedImageError("floating-point (mode F) images are not supported")
    if mode == "P":
        if "transparency" in image.info:
            image, mode = image.convert("RGBA"), "RGBA"
        else:
            palette = bytes(image.getpalette() or [0, 0, 0])
            # Pad with the last colour, not black: decoding maps pixels to the nearest entry, and
            # padding must not add a colour the image never had.
            palette = (palette + palette[-3:] * 256)[:768]
            return SplitImage(np.asarray(image.convert("RGB")), "P", palette=palette)
    if mode in ("RGBA", "LA", "RGBa", "La", "PA"):
        restored = "LA" if mode in ("LA", "La") else "RGBA"
        rgba = image.convert("RGBA")
        alpha = np.asarray(rgba.getchannel("A"))
        return SplitImage(np.asarray(rgba.convert("RGB")), restored, alpha=alpha)
    if mode in ("L", "1"):
        return SplitImage(np.asarray(image.convert("RGB")), mode)
    if mode != "RGB" and mode not in _AS_RGB:
        raise UnsupportedImageError(f"image mode {mode!r} is not supported")
    return SplitImage(np.asarray(image.convert("RGB")), "RGB")


def merge_image(
    rgb: UInt8Array, mode: str, alpha: UInt8Array | None = None, palette: bytes | None = None
) -> Image.Image:
    """Inverse of :func:`split_image`: an image in ``mode`` from decoded RGB and the extras."""
    image = Image.fromarray(rgb, "RGB")
    if mode == "RGB":
        return image
    if mode in ("L", "1"):
        gray = image.convert("L")
        return gray if mode == "L" else gray.convert("1", dither=Image.Dither.NONE)
    if mode == "P":
        assert palette is not None
        reference = Image.new("P", (1, 1))
        reference.putpalette(palette)
        return image.quantize(palette=reference, dither=Image.Dither.NONE)
    assert alpha is not None and mode in ("RGBA", "LA")
    base = image if mode == "RGBA" else image.convert("L")
    base.putalpha(Image.fromarray(alpha, "L"))
    return base


def to_tensor(rgb: UInt8Array) -> Tensor:
    """uint8 (H, W, 3) -> float (1, 3, H, W) in [0, 1]."""
    return torch.from_numpy(np.array(rgb)).permute(2, 0, 1)[None].float() / 255


def to_array(x: Tensor) -> UInt8Array:
    """float (1, 3, H, W) -> uint8 (H, W, 3), rounded."""
    return to_uint8(x)[0].permute(1, 2, 0).cpu().numpy()


def pad_to_multiple(x: Tensor, multiple: int) -> Tensor:
    """Pad (N, C, H, W) on the bottom and right to multiples of ``multiple``.

    Replicate padding keeps the padded area cheap to code; 1-pixel images are repeated.
    """
    pad_h, pad_w = -x.size(-2) % multiple, -x.size(-1) % multiple
    # Replicate padding wider than the image is not allowed: grow it step by step.
    while pad_h or pad_w:
        step_h, step_w = min(pad_h, x.size(-2)), min(pad_w, x.size(-1))
        x = F.pad(x, (0, step_w, 0, step_h), mode="replicate")
        pad_h, pad_w = pad_h - step_h, pad_w - step_w
    return x


def crop(x: Tensor, height: int, width: int) -> Tensor:
    """The top-left ``height`` x ``width`` region of (N, C, H, W)."""
    return x[..., :height, :width]


def to_uint8(x: Tensor) -> Tensor:
    """Float [0, 1] -> uint8 with rounding (round half to even, deterministic)."""
    return torch.round(x.clamp(0, 1) * 255).to(torch.uint8)
