"""What is fuzzed: the container parser, the full decode path, and the image loader + encoder.

Each :class:`Target` names the calls it makes on one input, the exceptions those calls may
raise (anything else is a crash), a mutator, and the seed files, which are made at run time by
encoding small synthetic and real images, so no binaries are committed.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from eval.fuzz.mutators import mutate_container, mutate_image
from eval.fuzz.target import OracleError, Target
from neuralcodec import api, catalog, container, errors, registry
from neuralcodec.api import Codec
from neuralcodec.models import MeanScaleHyperprior

__all__ = ["TARGETS", "build_target", "tiny_codec", "load_codecs", "seed_images"]

#: A real photo shipped with the tests; crops of it seed the image and decode targets.
SAMPLE = Path(__file__).resolve().parents[2] / "tests" / "data" / "sample.png"
TINY_WEIGHTS_ID = 0x01020304


def tiny_codec(max_pixels: int) -> Codec:
    """The random-init ``test-tiny`` codec, built as tests/conftest.py's ``tiny_codec``."""
    torch.manual_seed(0)
    model = registry.get("test-tiny").build()
    assert isinstance(model, MeanScaleHyperprior)
    with torch.no_grad():  # make y and z carry real symbols (see tests/neuralcodec_testing.py)
        model.log_gain.add_(math.log(64.0))
        model.h_a[-1].weight.mul_(8.0)  # type: ignore[operator]
    model.update(force=True)
    return Codec.from_model(registry.get("test-tiny"), model.eval(), TINY_WEIGHTS_ID, max_pixels=max_pixels)


def load_codecs(max_pixels: int, real: bool = True) -> dict[int, Codec]:
    """Codecs by codec id: always ``test-tiny``; ``hyperprior`` too when its weights are installed."""
    codecs = {0: tiny_codec(max_pixels)}
    if real and any(row.name == "hyperprior" and row.installed for row in catalog.available_codecs()):
        codecs[registry.get("hyperprior").codec_id] = Codec("hyperprior", max_pixels=max_pixels)
    return codecs


# -- seed images -----------------------------------------------------------------------------------


def _synthetic(width: int, height: int, seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width]
    rgb = np.stack([xx * 255 / max(width, 1), yy * 255 / max(height, 1), (xx + yy) % 64 * 4], -1)
    rgb = rgb + rng.normal(0, 10, rgb.shape)
    return Image.fromarray(rgb.clip(0, 255).astype(np.uint8), "RGB")


def seed_images() -> list[Image.Image]:
    """Small images in every mode the container restores, from synthetic data and the sample photo."""
    photo = Image.open(SAMPLE).convert("RGB") if SAMPLE.is_file() else _synthetic(512, 384, 9)
    crop = photo.crop((100, 80, 230, 150))  # 130 x 70: more than one 64-pixel tile
    rgba = crop.copy()
    rgba.putalpha(Image.fromarray((np.arange(130 * 70).reshape(70, 130) % 256).astype(np.uint8)))
    return [
        _synthetic(67, 45, 0),
        crop,
        Image.new("RGB", (1, 1), (200, 10, 30)),
        crop.convert("L"),
        rgba,
        rgba.convert("LA"),
        crop.convert("P", palette=Image.Palette.ADAPTIVE, colors=16),
        crop.convert("1"),
    ]


def container_seeds(codecs: dict[int, Codec]) -> list[bytes]:
    """Files encoded by every codec, in every mode, at low, fractional and high quality."""
    seeds = []
    for codec in codecs.values():
        for i, image in enumerate(seed_images()):
            for quality in (1.0, 3.5, 8.0) if i < 2 else (2.25,):
                seeds.append(codec.encode(image, quality))
            if image.width > 64:  # several tiles, so several y streams
                seeds.append(codec.encode(image, 3.0, tile_size=64))
    return seeds


def image_seeds() -> list[bytes]:
    """PNG and JPEG files in the usual variants: modes, 16 bits, interlaced, progressive, EXIF."""
    images = seed_images()
    crop = images[1].crop((0, 0, 48, 32))
    variants: list[tuple[Image.Image, str, dict[str, object]]] = [
        (crop, "PNG", {}),
        (crop, "PNG", {"optimize": True}),
        (crop.convert("RGBA"), "PNG", {}),
        (crop.convert("L"), "PNG", {}),
        (crop.convert("LA"), "PNG", {}),
        (crop.convert("P", palette=Image.Palette.ADAPTIVE, colors=8), "PNG", {"transparency": 0}),
        (crop.convert("1"), "PNG", {}),
        (Image.fromarray((np.arange(48 * 32).reshape(32, 48) * 40).astype(np.uint16)), "PNG", {}),
        (crop, "JPEG", {"quality": 80}),
        (crop, "JPEG", {"quality": 50, "progressive": True, "subsampling": 0}),
        (crop.convert("L"), "JPEG", {}),
        (crop.convert("CMYK"), "JPEG", {}),
    ]
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90
    variants.append((crop, "JPEG", {"exif": exif.tobytes()}))
    seeds = []
    for image, fmt, options in variants:
        buffer = io.BytesIO()
        image.save(buffer, format=fmt, **options)
        seeds.append(buffer.getvalue())
    return seeds


# -- targets ---------------------------------------------------------------------------------------


def _container_target(codecs: dict[int, Codec]) -> Target:
    def run(data: bytes, note: Callable[[str], None]) -> None:
        header, streams = container.unpack(data)
        note("parsed")
        if container.pack(header, streams) != data:
            raise OracleError("pack(unpack(data)) != data")

    return Target("container", run, (container.ContainerError,), mutate_container,
                  container_seeds(codecs), [c.spec.name for c in codecs.values()])


def _decode_target(codecs: dict[int, Codec]) -> Target:
    fallback = codecs[0]

    def run(data: bytes, note: Callable[[str], None]) -> None:
        info = api.read_info(data)
        note("parsed")
        codec = next((c for c in codecs.values() if c.spec.name == info.codec), fallback)
        y_hat = codec.decode_latents(data)
        if not bool(torch.isfinite(y_hat).all()):
            raise OracleError("decode_latents returned non-finite values")
        note("latents")
        image = codec.decode(data)
        if image.size != (info.width, info.height) or image.mode != info.mode:
            raise OracleError(f"decoded {image.mode} {image.size}, header says "
                              f"{info.mode} {(info.width, info.height)}")
        note("decoded")

    # Any typed error: BitstreamError for corrupt files, WeightsMismatchError for another
    # codec's files, UnsupportedImageError for a size over max_pixels.
    return Target("decode", run, (errors.NeuralcodecError,), mutate_container, container_seeds(codecs),
                  [c.spec.name for c in codecs.values()])


def _image_target(codecs: dict[int, Codec]) -> Target:
    codec = codecs[0]

    def run(data: bytes, note: Callable[[str], None]) -> None:
        encoded = codec.encode(io.BytesIO(data), 3.0)  # type: ignore[arg-type]
        note("encoded")
        info = api.read_info(encoded)
        if info.width * info.height > codec.max_pixels:
            raise OracleError(f"encoded {info.width}x{info.height}, over max_pixels")
        image = codec.decode(encoded)
        if image.size != (info.width, info.height):
            raise OracleError("decoded size differs from the encoded header")
        note("decoded")

    return Target("image", run, (errors.UnsupportedImageError,), mutate_image, image_seeds(),
                  [codec.spec.name])


TARGETS: dict[str, Callable[[dict[int, Codec]], Target]] = {
    "container": _container_target,
    "decode": _decode_target,
    "image": _image_target,
}


def build_target(name: str, max_pixels: int, real: bool = True) -> Target:
    """The target ``name`` with its codecs loaded and its seeds encoded.

    Args:
        name: A key of :data:`TARGETS`.
        max_pixels: Limit given to every codec: keeps a hostile header from asking for a
            decode that is legal but slow (the limit itself is what is being tested).
        real: Also use the shipped ``hyperprior`` weights when present (``decode`` target).
    """
    codecs = load_codecs(max_pixels, real=real and name == "decode")
    return TARGETS[name](codecs)
