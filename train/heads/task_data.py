"""Task data: a compressed dataset decoded once into a tensor cache, then served with augmentation.

Entropy decoding (and, for the decoded-pixel baseline, the synthesis transform) costs more than
a training step of a latent head, so each split is decoded once into ``<cache_dir>/*.pt``:

- from a ``compress-dataset`` folder (:func:`bitstream_cache`): ``latent``, the ungained y_hat
  (N, M, h, w) float16, i.e. ``y_hat * inverse_gain(quality)`` (see
  :mod:`neuralcodec.heads.latent_task`); ``decoded``, uint8 (N, 3, H, W) pixels that the
  codec's synthesis transform makes from that same y_hat (what ``api.decode`` computes, here
  batched); ``num_bytes`` (N,) of each bitstream;
- from the source tree (:func:`source_cache`): ``original``, uint8 (N, 3, H, W);
- both: ``label`` (N,) int64 or ``target`` (N, H, W) uint8, ``keys``, ``classes``, ``ignore_index``.

Images of a split must share one size (Imagenette 224x224, CamVid 360x480, Cityscapes).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from neuralcodec import pixels
from neuralcodec.dataset import BitstreamDataset, scan
from neuralcodec.dataset.sources import CITYSCAPES_IGNORE, CITYSCAPES_TRAIN_IDS

__all__ = ["INPUTS", "bitstream_cache", "source_cache", "TaskTensors", "TaskDataModule"]

INPUTS = ("latent", "decoded", "original")
_DECODE_BATCH = 16


def _cache_file(cache_dir: Path, folder: Path, kind: str, split: str) -> Path:
    tag = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:8]
    return cache_dir / f"{folder.name}-{tag}-{kind}-{split}.pt"


def _save(cache: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    torch.save(cache, tmp)
    tmp.replace(path)


def _rgb_uint8(path: Path) -> Tensor:
    rgb = np.asarray(pixels.open_image(path).convert("RGB"))  # EXIF orientation applied, as coded
    return torch.from_numpy(rgb.copy()).permute(2, 0, 1).contiguous()  # (3, H, W)


def _target(path: Path, cityscapes_label_ids: bool) -> Tensor:
    with Image.open(path) as image:
        target = np.asarray(image, dtype=np.uint8)
    if cityscapes_label_ids:
        lut = np.full(256, CITYSCAPES_IGNORE, dtype=np.uint8)
        for label_id, train_id in CITYSCAPES_TRAIN_IDS.items():
            lut[label_id] = train_id
        target = lut[target]
    return torch.from_numpy(target.copy())


def source_cache(source: Path, split: str, cache_dir: Path, layout: str = "auto") -> dict[str, Any]:
    """Original pixels and labels of one split of a source tree (built once, then loaded)."""
    path = _cache_file(cache_dir, source, "original", split)
    if path.is_file():
        return torch.load(path, weights_only=True)  # type: ignore[no-any-return]
    tree = scan(source, layout, splits=[split])
    images, labels, targets = [], [], []
    for item in tqdm(tree.items, desc=f"read {source.name}/{split}", unit="img"):
        images.append(_rgb_uint8(tree.root / item.source))
        if item.label is not None:
            labels.append(item.label)
        if item.target is not None:
            targets.append(_target(tree.root / item.target, item.target_map == "cityscapes-labelIds"))
    cache: dict[str, Any] = {"original": torch.stack(images)}
    if labels:
        cache["label"] = torch.tensor(labels)
    if targets:
        cache["target"] = torch.stack(targets)
    cache.update(keys=[i.key for i in tree.items], classes=list(tree.classes),
                 ignore_index=tree.ignore_index)
    _save(cache, path)
    return cache


@torch.inference_mode()
def bitstream_cache(root: Path, split: str, cache_dir: Path, decoded: bool = True) -> dict[str, Any]:
    """Latents, decoded pixels and labels of one split of a compressed dataset (built once).

    Args:
        decoded: Also run the synthesis transform (the decoded-pixel baseline needs it; it
            costs far more than entropy decoding).
    """
    path = _cache_file(cache_dir, root, "bitstreams", split)
    if path.is_file():
        cache: dict[str, Any] = torch.load(path, weights_only=True)
        if "decoded" in cache or not decoded:
            return cache
    dataset = BitstreamDataset(root, splits=[split], inputs=["latents"])
    model = dataset.codec.model
    inverse_gain = model.inverse_gain(dataset.info.quality).cpu()[0]  # (M, 1, 1)
    latents, labels, targets, sizes = [], [], [], set()
    for index in tqdm(range(len(dataset)), desc=f"decode {root.name}/{split}", unit="img"):
        sample = dataset[index]
        latents.append(sample["latents"] * inverse_gain)  # (M, h, w), ungained
        sizes.add((dataset.records[index].height, dataset.records[index].width))
        if "label" in sample:
            labels.append(sample["label"])
        if "target" in sample:
            targets.append(sample["target"].to(torch.uint8))
    if len(sizes) != 1:
        raise ValueError(f"{root}/{split} mixes image sizes {sorted(sizes)}")
    (height, width), images = sizes.pop(), []
    for start in tqdm(range(0, len(latents) if decoded else 0, _DECODE_BATCH), desc="synthesis", unit="batch"):
        y = torch.stack(latents[start : start + _DECODE_BATCH]).to(next(model.parameters()).device)
        x_hat = pixels.crop(model.g_s(y), height, width)  # (n, 3, H, W)
        images.append(pixels.to_uint8(x_hat).cpu())
    cache = {
        "latent": torch.stack(latents).half(),
        "num_bytes": torch.tensor([r.num_bytes for r in dataset.records]),
        "quality": float(dataset.info.quality),
        "keys": [r.key for r in dataset.records],
        "classes": list(dataset.classes),
        "ignore_index": dataset.ignore_index,
    }
    if images:
        cache["decoded"] = torch.cat(images)
    if labels:
        cache["label"] = torch.stack(labels)
    if targets:
        cache["target"] = torch.stack(targets)
    _save(cache, path)
    return cache


class TaskTensors(Dataset[dict[str, Tensor]]):
    """Samples ``{"x", "y"}`` from a cache: x is ungained latents (float) or pixels in [0, 1].

    Augmentation (``train=True``), identical in spirit for both inputs: a random shift of up to
    one latent cell (16 pixels) and, optionally, a horizontal flip (for latents a flip is only
    approximately the latents of the flipped image, so it is off by default for them).
    Segmentation crops a random window of ``crop`` latent cells (16 * crop pixels), aligned to
    the latent grid so that latents and pixels see the same region.

    Args:
        cache: A loaded cache.
        input: One of :data:`INPUTS`.
        train: Augment.
        crop: Segmentation training window in latent cells (None: whole frames).
        flip: Horizontal flips (pixels always may; latents only when asked).
        ignore_index: Target value of padded areas.
    """

    def __init__(
        self,
        cache: dict[str, Any],
        input: str,
        train: bool,
        crop: int | None = None,
        flip: bool = True,
        ignore_index: int = 255,
    ) -> None:
        if input not in INPUTS:
            raise ValueError(f"input must be one of {INPUTS}, got {input!r}")
        self.x = cache[input]
        self.y = cache["label"] if "label" in cache else cache["target"]
        self.segment = "target" in cache
        self.input, self.train, self.crop, self.flip = input, train, crop, flip
        self.ignore_index = ignore_index

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        x = self.x[index].float()
        if self.input != "latent":
            x = x / 255
        y = self.y[index].long()
        if self.segment:
            x, y = self._segment_sample(x, y)
        elif self.train:
            x = self._shift(x)
        if self.train and self.flip and bool(torch.rand(()) < 0.5):
            x = x.flip(-1)
            y = y.flip(-1) if self.segment else y
        return {"x": x, "y": y}

    def _shift(self, x: Tensor) -> Tensor:
        """Shift by up to one latent cell (16 px), replicate-padded, same size out."""
        pad = 1 if self.input == "latent" else 16
        h, w = x.shape[-2:]
        padded = F.pad(x[None], (pad, pad, pad, pad), mode="replicate")[0]
        top, left = (int(v) for v in torch.randint(0, 2 * pad + 1, (2,)))
        return padded[:, top : top + h, left : left + w]

    def _segment_sample(self, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        """Pad pixels/targets to the latent grid (16 x cells); crop a window when training."""
        height, width = y.shape
        cells_h, cells_w = -(-height // 64) * 4, -(-width // 64) * 4  # the codec's latent grid
        y = F.pad(y, (0, 16 * cells_w - width, 0, 16 * cells_h - height), value=self.ignore_index)
        if self.input != "latent":
            x = F.pad(x, (0, 16 * cells_w - width, 0, 16 * cells_h - height))
        if not self.train:
            return x, y
        crop_h, crop_w = min(self.crop or cells_h, cells_h), min(self.crop or cells_w, cells_w)
        top = int(torch.randint(0, cells_h - crop_h + 1, ()))
        left = int(torch.randint(0, cells_w - crop_w + 1, ()))
        y = y[16 * top : 16 * (top + crop_h), 16 * left : 16 * (left + crop_w)]
        if self.input == "latent":
            x = x[:, top : top + crop_h, left : left + crop_w]
        else:
            x = x[:, 16 * top : 16 * (top + crop_h), 16 * left : 16 * (left + crop_w)]
        return x, y


class TaskDataModule(pl.LightningDataModule):
    """Train / validation loaders over a compressed dataset, for one input kind.

    Args:
        root: The ``compress-dataset`` output folder (e.g. ``build/datasets/imagenette-q2``),
            for ``latent`` and ``decoded`` inputs.
        source: The source tree (e.g. ``../shared/data/imagenette``), for ``original``.
        features: What the model sees: ``latent``, ``decoded`` or ``original``.
        layout: Source-tree layout (``auto``, ``classes``, ``camvid``, ``cityscapes``).
        train_split: Split to train on.
        val_split: Split to validate on.
        batch_size: Training batch size (validation uses the same).
        crop: Segmentation training window in latent cells (16 * crop pixels).
        latent_flip: Also flip latents when augmenting.
        cache_dir: Where decoded splits are cached.
        num_workers: DataLoader workers.
    """

    def __init__(
        self,
        root: str | None = None,
        source: str | None = None,
        features: str = "latent",
        layout: str = "auto",
        train_split: str = "train",
        val_split: str = "val",
        batch_size: int = 64,
        crop: int | None = None,
        latent_flip: bool = False,
        cache_dir: str = "build/tasks/cache",
        num_workers: int = 0,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        self._data: dict[str, TaskTensors] = {}
        self.info: dict[str, Any] = {}

    def _tensors(self, split: str, train: bool) -> TaskTensors:
        hp = self.hparams
        cache_dir = Path(hp.cache_dir)
        if hp.features == "original":
            if hp.source is None:
                raise ValueError("features 'original' need data.source (the source tree)")
            cache = source_cache(Path(hp.source), split, cache_dir, hp.layout)
        else:
            if hp.root is None:
                raise ValueError(f"features {hp.features!r} need data.root (a compress-dataset folder)")
            cache = bitstream_cache(Path(hp.root), split, cache_dir, decoded=hp.features == "decoded")
        ignore = cache["ignore_index"]
        self.info = {k: cache.get(k) for k in ("quality", "classes", "ignore_index")}
        flip = hp.latent_flip or hp.features != "latent"
        return TaskTensors(cache, hp.features, train, hp.crop, flip, 255 if ignore is None else ignore)

    def setup(self, stage: str | None = None) -> None:
        if "train" not in self._data and stage in (None, "fit"):
            self._data["train"] = self._tensors(self.hparams.train_split, train=True)
        if "val" not in self._data:
            self._data["val"] = self._tensors(self.hparams.val_split, train=False)

    @property
    def train_set(self) -> TaskTensors:
        """The training samples (after :meth:`setup`)."""
        return self._data["train"]

    def _loader(self, name: str, shuffle: bool) -> DataLoader[dict[str, Tensor]]:
        return DataLoader(
            self._data[name],
            batch_size=self.hparams.batch_size,
            shuffle=shuffle,
            num_workers=self.hparams.num_workers,
            drop_last=shuffle,
        )

    def train_dataloader(self) -> DataLoader[dict[str, Tensor]]:
        return self._loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader[dict[str, Tensor]]:
        return self._loader("val", shuffle=False)
