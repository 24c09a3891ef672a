"""Training data: random crops of photos, decoded once and kept in memory."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

__all__ = ["data_root", "list_images", "load_uint8", "photo_crops", "RandomCrops", "FixedImages", "PhotoDataModule"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


def data_root() -> Path:
    """``$NEURALCODEC_DATA`` if set, else ``../shared/data`` beside the repository."""
    env = os.environ.get("NEURALCODEC_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[3] / "shared" / "data"


def list_images(folder: Path) -> list[Path]:
    """Every image below ``folder``, sorted for reproducibility."""
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)


def load_uint8(path: Path) -> Tensor:
    """An image file as a uint8 RGB tensor (3, H, W)."""
    with Image.open(path) as image:
        array = np.asarray(image.convert("RGB"))
    return torch.from_numpy(array.copy()).permute(2, 0, 1)  # (3, H, W) uint8


class RandomCrops(Dataset[Tensor]):
    """Random crops with random down-scaling and flips, from images held in memory.

    Down-scaling by a random factor in ``[min_scale, 1]`` before cropping removes camera noise
    and JPEG artefacts that a codec would otherwise spend bits on.

    Args:
        images: uint8 tensors (3, H, W).
        patch_size: Side of the square crops.
        length: Samples per epoch.
        min_scale: Smallest down-scaling factor.
    """

    def __init__(
        self, images: list[Tensor], patch_size: int, length: int, min_scale: float = 0.5
    ) -> None:
        small = [tuple(i.shape[1:]) for i in images if min(i.shape[1:]) < patch_size]
        if small:
            raise ValueError(f"{len(small)} images are smaller than the {patch_size}px patch")
        self.images, self.patch_size, self.length, self.min_scale = (
            images, patch_size, length, min_scale
        )

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> Tensor:
        image = self.images[int(torch.randint(len(self.images), ()))]
        _, h, w = image.shape
        max_scale_down = min(h, w) / self.patch_size
        low = max(self.min_scale, 1 / max_scale_down)
        scale = float(torch.empty(()).uniform_(low, 1.0))
        side = min(round(self.patch_size / scale), h, w)
        top = int(torch.randint(h - side + 1, ()))
        left = int(torch.randint(w - side + 1, ()))
        crop = image[:, top : top + side, left : left + side].float()[None] / 255
        if side != self.patch_size:
            crop = F.interpolate(
                crop, size=self.patch_size, mode="bilinear", antialias=True, align_corners=False
            )
        crop = crop[0].clamp(0, 1)
        if bool(torch.rand(()) < 0.5):
            crop = crop.flip(-1)
        return crop


def photo_crops(count: int, patch_size: int, seed: int = 0) -> Tensor:
    """``count`` random crops (count, 3, p, p) in [0, 1] from the training photos (never Kodak).

    For calibration and pruning statistics: the same seed gives the same crops.

    Raises:
        FileNotFoundError: No photos under the data root.
    """
    paths = list_images(data_root() / "photos")
    if not paths:
        raise FileNotFoundError(f"no photos under {data_root() / 'photos'}")
    generator = torch.Generator().manual_seed(seed)
    chosen = torch.randperm(len(paths), generator=generator)[:count].tolist()
    images = [load_uint8(paths[i]) for i in chosen]
    images = [i for i in images if min(i.shape[1:]) >= patch_size]
    torch.manual_seed(seed)
    crops = RandomCrops(images, patch_size, count)
    return torch.stack([crops[i] for i in range(count)])


class FixedImages(Dataset[Tensor]):
    """Whole images as float tensors (3, H, W) in [0, 1], for validation."""

    def __init__(self, paths: list[Path]) -> None:
        self.paths = paths

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> Tensor:
        return load_uint8(self.paths[index]).float() / 255


class PhotoDataModule(pl.LightningDataModule):
    """Photos for training, a few Kodak images for validation.

    Args:
        train_dirs: Folders under the data root with training photos.
        val_dir: Folder under the data root with validation images.
        num_val_images: How many validation images (the first, sorted).
        patch_size: Training crop size.
        batch_size: Training batch size.
        steps_per_epoch: Samples per epoch = ``steps_per_epoch * batch_size``.
        num_workers: DataLoader workers.
        root: Data root; defaults to :func:`data_root`.
    """

    def __init__(
        self,
        train_dirs: tuple[str, ...] = ("photos",),
        val_dir: str = "kodak",
        num_val_images: int = 2,
        patch_size: int = 256,
        batch_size: int = 16,
        steps_per_epoch: int = 1000,
        num_workers: int = 0,
        root: str | None = None,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.root = Path(root) if root else data_root()
        self._train: RandomCrops | None = None
        self._val: FixedImages | None = None

    def setup(self, stage: str) -> None:
        hp = self.hparams
        if self.trainer is not None and self.trainer.world_size > 1:
            # Crops and qualities are drawn from the global RNG, which seed_everything seeds alike
            # on every rank: offset it so DDP ranks see different samples.
            torch.manual_seed(torch.initial_seed() + self.trainer.global_rank)
        if self._train is None and stage == "fit":
            paths = [p for d in hp.train_dirs for p in list_images(self.root / d)]
            if not paths:
                raise FileNotFoundError(f"no training images under {self.root} / {hp.train_dirs}")
            images = [load_uint8(p) for p in tqdm(paths, desc="loading photos", leave=False)]
            images = [i for i in images if min(i.shape[1:]) >= hp.patch_size]
            self._train = RandomCrops(images, hp.patch_size, hp.steps_per_epoch * hp.batch_size)
        if self._val is None:
            self._val = FixedImages(list_images(self.root / hp.val_dir)[: hp.num_val_images])

    def train_dataloader(self) -> DataLoader[Tensor]:
        assert self._train is not None
        return DataLoader(
            self._train,
            batch_size=self.hparams.batch_size,
            num_workers=self.hparams.num_workers,
            persistent_workers=self.hparams.num_workers > 0,
            drop_last=True,
        )

    def val_dataloader(self) -> DataLoader[Tensor]:
        assert self._val is not None
        return DataLoader(self._val, batch_size=1)
