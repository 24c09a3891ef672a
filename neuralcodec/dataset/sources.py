"""Source trees: enumerate the images of a dataset folder, with their labels or annotations.

Layouts (``layout="auto"`` picks the first that matches, in this order):

- ``cityscapes``: ``leftImg8bit/<split>/<city>/<name>_leftImg8bit.png``, annotations
  ``gtFine/<split>/<city>/<name>_gtFine_labelTrainIds.png`` (19 train ids, 255 = ignore), or
  ``..._gtFine_labelIds.png`` mapped to train ids with :data:`CITYSCAPES_TRAIN_IDS`.
- ``camvid``: ``<split>/*.png|jpg`` with ``<split>annot/<stem>.png`` label maps (SegNet layout:
  11 classes, 11 = void).
- ``classes``: ImageNet style, ``<split>/<class>/*`` (``auto`` needs split folders named
  train / val / test); ``--layout classes`` also takes ``<class>/*``. Class indexes are the
  sorted class-folder names over *all* splits, so train and val agree whatever ``splits`` says.
- ``folder``: every image below the root, no labels.

Every item gets a ``key``: its path below the root without the suffix; outputs are named from
it (``<key>.ncc``), so two sources with the same key (``a.png`` and ``a.jpg``) are refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from neuralcodec.errors import DatasetError

__all__ = [
    "IMAGE_SUFFIXES",
    "LAYOUTS",
    "CAMVID_CLASSES",
    "CAMVID_IGNORE",
    "CITYSCAPES_CLASSES",
    "CITYSCAPES_IGNORE",
    "CITYSCAPES_TRAIN_IDS",
    "Item",
    "SourceTree",
    "detect_layout",
    "scan",
]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".ppm")
LAYOUTS = ("auto", "folder", "classes", "camvid", "cityscapes")
_CLASS_SPLITS = ("train", "val", "test")

CAMVID_CLASSES = (
    "Sky", "Building", "Pole", "Road", "Pavement", "Tree", "SignSymbol", "Fence", "Car",
    "Pedestrian", "Bicyclist",
)
CAMVID_IGNORE = 11

CITYSCAPES_CLASSES = (
    "road", "sidewalk", "building", "wall", "fence", "pole", "traffic light", "traffic sign",
    "vegetation", "terrain", "sky", "person", "rider", "car", "truck", "bus", "train",
    "motorcycle", "bicycle",
)
CITYSCAPES_IGNORE = 255
#: Cityscapes labelId -> trainId (cityscapesScripts ``labels.py``); ids not listed map to 255.
CITYSCAPES_TRAIN_IDS: dict[int, int] = {
    7: 0, 8: 1, 11: 2, 12: 3, 13: 4, 17: 5, 19: 6, 20: 7, 21: 8, 22: 9, 23: 10, 24: 11, 25: 12,
    26: 13, 27: 14, 28: 15, 31: 16, 32: 17, 33: 18,
}


class Item(NamedTuple):
    """One image of a source tree.

    Attributes:
        key: Path below the root without the suffix (``train/n01440764/ILSVRC..._0002138``).
        source: The image's path below the root.
        split: Split folder (``train``, ``val``...), or None for a ``folder`` tree.
        label: Class index (``classes`` layout), else None.
        target: Annotation path below the root (``camvid``, ``cityscapes``), else None.
        target_out: Where the annotation goes below the output root (a Cityscapes labelIds map
            is written converted, as ``..._gtFine_labelTrainIds.png``), else None.
        target_map: ``"cityscapes-labelIds"`` when the annotation must be mapped to train ids
            on the way, else None (copied unchanged).
    """

    key: str
    source: str
    split: str | None
    label: int | None = None
    target: str | None = None
    target_out: str | None = None
    target_map: str | None = None


@dataclass(frozen=True)
class SourceTree:
    """A scanned source folder.

    Attributes:
        root: The folder (absolute).
        layout: One of :data:`LAYOUTS` other than ``auto``.
        task: ``"classification"``, ``"segmentation"`` or None (``folder``).
        classes: Class names, indexed by label / train id (empty for ``folder``).
        ignore_index: Label value to ignore in segmentation targets, else None.
        items: The images, sorted by key.
    """

    root: Path
    layout: str
    task: str | None
    classes: tuple[str, ...]
    ignore_index: int | None
    items: tuple[Item, ...]


def _is_image(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith(".")


def _images(folder: Path, recursive: bool = False) -> list[Path]:
    paths = folder.rglob("*") if recursive else folder.iterdir()
    return sorted(p for p in paths if _is_image(p))


def _subdirs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def _camvid_splits(root: Path) -> list[str]:
    return [d.name for d in _subdirs(root) if (root / f"{d.name}annot").is_dir()]


def detect_layout(root: Path) -> str:
    """The layout of ``root`` (see the module docstring for the rules).

    Raises:
        DatasetError: ``root`` is not a folder.
    """
    if not root.is_dir():
        raise DatasetError(f"{root} is not a folder")
    if (root / "leftImg8bit").is_dir():
        return "cityscapes"
    if _camvid_splits(root):
        return "camvid"
    splits = [d for d in _subdirs(root) if d.name in _CLASS_SPLITS]
    if splits and all(_subdirs(s) and not _images(s) for s in splits):
        return "classes"
    return "folder"


def _key(relative: Path) -> str:
    return relative.with_suffix("").as_posix()


def _scan_folder(root: Path) -> tuple[list[Item], tuple[str, ...]]:
    return [Item(_key(p.relative_to(root)), p.relative_to(root).as_posix(), None)
            for p in _images(root, recursive=True)], ()


def _scan_classes(root: Path, splits: Sequence[str] | None) -> tuple[list[Item], tuple[str, ...]]:
    split_dirs = [d for d in _subdirs(root) if d.name in _CLASS_SPLITS and not _images(d)]
    class_dirs: dict[tuple[str | None, str], Path]
    if split_dirs:  # <split>/<class>/*
        class_dirs = {(s.name, c.name): c for s in split_dirs for c in _subdirs(s)}
    else:  # <class>/*
        if splits:
            raise DatasetError(f"{root} has no split folders ({', '.join(_CLASS_SPLITS)}) to select")
        class_dirs = {(None, c.name): c for c in _subdirs(root)}
    classes = tuple(sorted({name for _, name in class_dirs}))
    if not classes:
        raise DatasetError(f"{root} has no class folders")
    index = {name: i for i, name in enumerate(classes)}
    items = []
    for (split, name), folder in sorted(class_dirs.items(), key=lambda kv: (kv[0][0] or "", kv[0][1])):
        for path in _images(folder, recursive=True):
            rel = path.relative_to(root)
            items.append(Item(_key(rel), rel.as_posix(), split, label=index[name]))
    return items, classes


def _scan_camvid(root: Path) -> tuple[list[Item], tuple[str, ...]]:
    items = []
    for split in _camvid_splits(root):
        for path in _images(root / split):
            annot = Path(f"{split}annot") / f"{path.stem}.png"
            target = annot.as_posix() if (root / annot).is_file() else None
            rel = path.relative_to(root)
            items.append(Item(_key(rel), rel.as_posix(), split, target=target, target_out=target))
    return items, CAMVID_CLASSES


_LEFT = "_leftImg8bit"


def _scan_cityscapes(root: Path) -> tuple[list[Item], tuple[str, ...]]:
    items = []
    images = root / "leftImg8bit"
    for split_dir in _subdirs(images):
        for path in _images(split_dir, recursive=True):
            rel = path.relative_to(root)
            stem = path.stem[: -len(_LEFT)] if path.stem.endswith(_LEFT) else path.stem
            gt = Path("gtFine") / path.parent.relative_to(images) / stem
            train_ids = gt.parent / f"{gt.name}_gtFine_labelTrainIds.png"
            label_ids = gt.parent / f"{gt.name}_gtFine_labelIds.png"
            target = target_map = None
            if (root / train_ids).is_file():
                target = train_ids.as_posix()
            elif (root / label_ids).is_file():
                target, target_map = label_ids.as_posix(), "cityscapes-labelIds"
            items.append(Item(
                _key(rel), rel.as_posix(), split_dir.name, target=target,
                target_out=train_ids.as_posix() if target else None, target_map=target_map,
            ))
    return items, CITYSCAPES_CLASSES


def scan(
    root: str | Path,
    layout: str = "auto",
    splits: Sequence[str] | None = None,
    limit: int | None = None,
) -> SourceTree:
    """Enumerate the images of a source tree.

    Args:
        root: The dataset folder.
        layout: One of :data:`LAYOUTS`.
        splits: Keep only these splits (None: all). Not allowed for ``folder`` trees.
        limit: Keep the first ``limit`` items (after the split filter, in key order).

    Returns:
        The tree, its task and classes, and its items sorted by key.

    Raises:
        DatasetError: Not a folder, unknown layout or split, no images, or two images with the
            same key.

    Example:
        >>> tree = scan("../shared/data/camvid", splits=["test"])  # doctest: +SKIP
        >>> tree.layout, len(tree.items), tree.items[0].target  # doctest: +SKIP
        ('camvid', 233, 'testannot/0001TP_008550.png')
    """
    root = Path(root).resolve()
    if layout not in LAYOUTS:
        raise DatasetError(f"unknown layout {layout!r}; known: {', '.join(LAYOUTS)}")
    if layout == "auto":
        layout = detect_layout(root)
    elif not root.is_dir():
        raise DatasetError(f"{root} is not a folder")
    if layout == "folder":
        if splits:
            raise DatasetError("a folder tree has no splits (use --layout classes/camvid/cityscapes)")
        items, classes = _scan_folder(root)
        task, ignore = None, None
    elif layout == "classes":
        items, classes = _scan_classes(root, splits)
        task, ignore = "classification", None
    elif layout == "camvid":
        items, classes = _scan_camvid(root)
        task, ignore = "segmentation", CAMVID_IGNORE
    else:
        items, classes = _scan_cityscapes(root)
        task, ignore = "segmentation", CITYSCAPES_IGNORE
    if splits:
        known = sorted({i.split for i in items if i.split is not None})
        unknown = [s for s in splits if s not in known]
        if unknown:
            raise DatasetError(f"no split {unknown[0]!r} in {root} (found: {', '.join(known) or 'none'})")
        items = [i for i in items if i.split in splits]
    items.sort(key=lambda i: i.key)
    keys = [i.key for i in items]
    duplicate = next((a for a, b in zip(keys, keys[1:]) if a == b), None)
    if duplicate is not None:
        raise DatasetError(f"two images map to {duplicate}.ncc (same name, different suffix)")
    if limit is not None:
        items = items[: max(limit, 0)]
    if not items:
        raise DatasetError(f"no images found in {root} (layout {layout})")
    return SourceTree(root, layout, task, classes, ignore, tuple(items))
