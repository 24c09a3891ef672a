"""Tiny source trees in the real directory layouts: class folders, CamVid and Cityscapes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from neuralcodec_testing import make_tiny_image

SIZE = (70, 40)  # (width, height): not multiples of 64


def _image(path: Path, seed: int, size: tuple[int, int] = SIZE) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = make_tiny_image(*size, seed=seed)
    image.save(path, quality=95) if path.suffix == ".jpg" else image.save(path)


def _labels(path: Path, values: list[int], seed: int, size: tuple[int, int] = SIZE) -> np.ndarray:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    labels = rng.choice(np.array(values, dtype=np.uint8), size=(size[1], size[0]))
    Image.fromarray(labels, "L").save(path)
    return labels


@pytest.fixture
def classes_tree(tmp_path: Path) -> Path:
    """ImageNet style: ``{train,val}/{n01,n02,n03}/*.png|jpg``; val lacks class n03."""
    root = tmp_path / "classes"
    seed = 0
    for split, names in (("train", ("n01", "n02", "n03")), ("val", ("n01", "n02"))):
        for name in names:
            for k in range(2):
                seed += 1
                _image(root / split / name / f"img{k}.{'png' if k else 'jpg'}", seed)
    return root


@pytest.fixture
def camvid_tree(tmp_path: Path) -> Path:
    """SegNet CamVid layout: ``{train,test}/*.jpg`` + ``{train,test}annot/*.png`` (0..11)."""
    root = tmp_path / "camvid"
    for split, count in (("train", 3), ("test", 2)):
        for k in range(count):
            _image(root / split / f"0001TP_{k:06d}.jpg", 10 + k)
            _labels(root / f"{split}annot" / f"0001TP_{k:06d}.png", list(range(12)), k)
    return root


@pytest.fixture
def cityscapes_tree(tmp_path: Path) -> Path:
    """Cityscapes layout: one frame with labelTrainIds, one with labelIds only, one test frame
    without annotations."""
    root = tmp_path / "cityscapes"
    frames = {"val": ("frankfurt", "frankfurt_000000_000294"), "train": ("aachen", "aachen_000000_000019")}
    for split, (city, stem) in frames.items():
        _image(root / "leftImg8bit" / split / city / f"{stem}_leftImg8bit.png", 20 + len(split))
    gt = root / "gtFine"
    _labels(gt / "val/frankfurt/frankfurt_000000_000294_gtFine_labelTrainIds.png", [0, 1, 5, 18, 255], 1)
    _labels(gt / "train/aachen/aachen_000000_000019_gtFine_labelIds.png", [0, 1, 7, 8, 26, 33], 2)
    _image(root / "leftImg8bit/test/berlin/berlin_000000_000019_leftImg8bit.png", 30)
    return root
