"""Which images a benchmark run codes: Kodak, CamVid's test split, or a Cityscapes-style folder.

Images are found with :func:`train.codec.data.list_images` under :func:`train.codec.data.data_root`
(``$NEURALCODEC_DATA``, else ``../shared/data`` beside the repository).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from train.codec.data import data_root, list_images

__all__ = ["Dataset", "DATASETS", "resolve", "cityscapes_images"]

#: Named datasets: folder under the data root.
DATASETS = {"kodak": "kodak", "camvid": "camvid/test"}


@dataclass(frozen=True)
class Dataset:
    """A list of images and the name its reports are filed under."""

    name: str
    root: Path
    paths: tuple[Path, ...]


def cityscapes_images(root: Path, split: str) -> list[Path]:
    """``leftImg8bit/<split>/<city>/*.png`` below ``root`` (or ``root`` already at ``leftImg8bit``).

    Raises:
        FileNotFoundError: No such split folder.
    """
    base = root / "leftImg8bit" if (root / "leftImg8bit").is_dir() else root
    folder = base / split
    if not folder.is_dir():
        raise FileNotFoundError(f"no {folder}: expected a leftImg8bit/<split>/<city>/*.png tree")
    return [p for p in list_images(folder) if p.suffix.lower() == ".png"]


def resolve(
    dataset: str | None = None,
    dataset_dir: Path | None = None,
    split: str = "val",
    limit: int | None = None,
    name: str | None = None,
) -> Dataset:
    """The images to code.

    Args:
        dataset: A name in :data:`DATASETS`.
        dataset_dir: A Cityscapes-layout folder (``leftImg8bit/<split>/<city>/*.png``), used
            instead of ``dataset``.
        split: Split of ``dataset_dir``.
        limit: Keep the first ``limit`` images (sorted).
        name: Report folder name; defaults to the dataset name, or ``cityscapes-<split>``.

    Raises:
        ValueError: Neither or both of ``dataset`` and ``dataset_dir``, or an unknown name.
        FileNotFoundError: No images found.
    """
    if (dataset is None) == (dataset_dir is None):
        raise ValueError("give exactly one of --dataset and --dataset-dir")
    if dataset_dir is not None:
        root = Path(dataset_dir)
        paths = cityscapes_images(root, split)
        default_name = f"cityscapes-{split}"
    else:
        if dataset not in DATASETS:
            raise ValueError(f"unknown dataset {dataset!r}; known: {', '.join(DATASETS)}")
        root = data_root() / DATASETS[dataset]
        paths = list_images(root)
        default_name = str(dataset)
    if limit is not None:
        paths = paths[:limit]
    if not paths:
        raise FileNotFoundError(f"no images under {root}")
    return Dataset(name or default_name, root, tuple(paths))
