"""Side-by-side crops at matched rates: every codec coded to (at most) the same bpp on one image.

Each codec's quality knob is bisected on the whole image for the highest quality whose file is at
most the target bpp; the decoded image is cropped and saved as PNG. ``crops.json`` lists the
files with the rate and PSNR each codec actually reached, and is all :mod:`eval.rd.report` reads.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from eval.rd.codecs import Codec, load_rgb, measure
from neuralcodec.metrics import bpp as bits_per_pixel

__all__ = ["DEFAULT_TARGETS", "default_crop", "make_crops"]

DEFAULT_TARGETS = (0.15, 0.4)
#: A detailed 256x256 window per known image (left, top, right, bottom): the red macaw's eye and beak.
_KNOWN_BOXES = {"kodim23.png": (384, 96, 640, 352)}


def default_crop(paths: Sequence[Path]) -> tuple[Path, tuple[int, int, int, int]]:
    """kodim23's macaw when present, else a centred 256x256 window of the first image."""
    for path in paths:
        if path.name in _KNOWN_BOXES:
            return path, _KNOWN_BOXES[path.name]
    path = paths[0]
    with Image.open(path) as image:
        width, height = image.size
    side_w, side_h = min(256, width), min(256, height)
    left, top = (width - side_w) // 2, (height - side_h) // 2
    return path, (left, top, left + side_w, top + side_h)


def _crop(rgb: np.ndarray, box: tuple[int, int, int, int]) -> Image.Image:
    left, top, right, bottom = box
    return Image.fromarray(rgb[top:bottom, left:right])


def make_crops(
    codecs: Iterable[Codec],
    image_path: Path,
    box: tuple[int, int, int, int],
    targets: Sequence[float],
    folder: Path,
) -> dict[str, Any]:
    """Code ``image_path`` with each codec at each target rate and save the crops.

    Entries of codecs not in ``codecs`` that are already in ``folder/crops.json`` (for the same
    image, box and targets) are kept, so one codec can be refreshed alone.

    Returns:
        The manifest written to ``folder/crops.json``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    rgb = load_rgb(image_path)
    height, width = rgb.shape[:2]
    _crop(rgb, box).save(folder / "original.png")
    manifest_path = folder / "crops.json"
    setting = {"image": image_path.name, "box": list(box), "targets": list(targets)}
    entries: list[dict[str, Any]] = []
    if manifest_path.is_file():
        old = json.loads(manifest_path.read_text())
        if all(old.get(k) == v for k, v in setting.items()):
            entries = old.get("entries", [])
    codecs = list(codecs)
    names = {codec.name for codec in codecs}
    entries = [e for e in entries if e["codec"] not in names]
    for codec in codecs:
        for target in targets:
            quality, coded = codec.encode_at_bpp(rgb, target)
            file_name = f"{codec.name}-{target:g}bpp.png"
            _crop(coded.rgb_hat, box).save(folder / file_name)
            quality_ = measure(rgb, coded.rgb_hat, with_lpips=codec.with_lpips)
            entries.append({
                "codec": codec.name,
                "label": codec.label,
                "target_bpp": target,
                "bpp": bits_per_pixel(len(coded.data), height, width),
                "quality": quality,
                "psnr-rgb": quality_.psnr_rgb,
                "ms-ssim-rgb-db": quality_.ms_ssim_db,
                "lpips": None if np.isnan(quality_.lpips) else quality_.lpips,
                "file": file_name,
            })
    order = {name: i for i, name in enumerate(sorted({e["codec"] for e in entries}))}
    entries.sort(key=lambda e: (e["target_bpp"], order[e["codec"]]))
    manifest = {**setting, "original": "original.png", "entries": entries}
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest
