"""The files that describe a compressed dataset: ``dataset.json`` and ``manifest.jsonl``.

An output tree looks like this (CamVid shown)::

    DST/dataset.json              # tree-level settings, written first
    DST/manifest.jsonl            # one JSON object per image, written last: its presence = complete
    DST/train/0001TP_006690.ncc   # <key>.ncc, one bitstream per image
    DST/trainannot/0001TP_006690.png   # annotations copied (Cityscapes labelIds mapped to train ids)

``dataset.json`` (:class:`DatasetInfo`)::

    {"format": "neuralcodec-dataset/1", "layout": "camvid", "task": "segmentation",
     "classes": ["Sky", ...], "ignore_index": 11, "codec": "hyperprior", "weights_id": "583ecc69",
     "quality": 2.0, "source_root": "/work/shared/data/camvid", "splits": ["test", "train", "val"],
     "num_items": 701}

``manifest.jsonl`` (:class:`Record`, one line per image, sorted by key)::

    {"key": "train/0001TP_006690", "source": "train/0001TP_006690.jpg",
     "bitstream": "train/0001TP_006690.ncc", "split": "train", "label": null,
     "target": "trainannot/0001TP_006690.png", "height": 360, "width": 480, "num_bytes": 4645,
     "bpp": 0.21505, "quality": 2.0, "codec": "hyperprior", "weights_id": "583ecc69"}

Paths in ``bitstream`` and ``target`` are relative to the output folder, ``source`` to
``source_root``. Both files are deterministic (no times), so a resumed run gives the same bytes.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from neuralcodec.errors import DatasetError

__all__ = [
    "FORMAT",
    "INFO_NAME",
    "MANIFEST_NAME",
    "DatasetInfo",
    "Record",
    "write_atomic",
    "write_info",
    "read_info",
    "write_manifest",
    "read_manifest",
]

FORMAT = "neuralcodec-dataset/1"
INFO_NAME = "dataset.json"
MANIFEST_NAME = "manifest.jsonl"


class DatasetInfo(NamedTuple):
    """Tree-level settings of a compressed dataset (``dataset.json``).

    Attributes:
        format: :data:`FORMAT`.
        layout: Source layout (``folder``, ``classes``, ``camvid``, ``cityscapes``).
        task: ``classification``, ``segmentation`` or None.
        classes: Class names indexed by label / train id.
        ignore_index: Ignored value in segmentation targets, or None.
        codec: Codec name.
        weights_id: First 4 bytes of the weights' sha256, hex.
        quality: Coding quality.
        source_root: Absolute path of the source tree.
        splits: The splits present, sorted (empty for ``folder``).
        num_items: Number of images.
    """

    format: str
    layout: str
    task: str | None
    classes: list[str]
    ignore_index: int | None
    codec: str
    weights_id: str
    quality: float
    source_root: str
    splits: list[str]
    num_items: int


class Record(NamedTuple):
    """One image of a compressed dataset (a line of ``manifest.jsonl``).

    Attributes:
        key: Source path below its root, without suffix.
        source: Source image, relative to ``DatasetInfo.source_root``.
        bitstream: The ``.ncc`` file, relative to the output folder.
        split: Split name or None.
        label: Class index or None.
        target: Annotation PNG relative to the output folder, or None.
        height: Image height in pixels.
        width: Image width in pixels.
        num_bytes: Size of the bitstream file (header included).
        bpp: ``num_bytes * 8 / (height * width)``.
        quality: Coded quality.
        codec: Codec name.
        weights_id: Weights id (hex) written in the file.
    """

    key: str
    source: str
    bitstream: str
    split: str | None
    label: int | None
    target: str | None
    height: int
    width: int
    num_bytes: int
    bpp: float
    quality: float
    codec: str
    weights_id: str


@functools.cache
def _umask() -> int:
    mask = os.umask(0o022)  # reading the umask means setting it: put it straight back
    os.umask(mask)
    return mask


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temp file in the same folder, fsync and rename.

    A reader (or a resumed run) sees either no file or the whole file, never part of it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _dumps(obj: dict[str, Any]) -> str:
    return json.dumps(obj, sort_keys=False, ensure_ascii=False)


def write_info(root: Path, info: DatasetInfo) -> None:
    """Write ``root/dataset.json``."""
    write_atomic(root / INFO_NAME, (json.dumps(info._asdict(), indent=1) + "\n").encode())


def read_info(root: str | Path) -> DatasetInfo:
    """Read ``root/dataset.json``.

    Raises:
        DatasetError: Missing, unreadable, or another format.
    """
    path = Path(root) / INFO_NAME
    try:
        data = json.loads(path.read_text())
        info = DatasetInfo(**data)
    except FileNotFoundError:
        raise DatasetError(f"{path} not found: not a compressed dataset (run compress-dataset)") from None
    except (OSError, ValueError, TypeError) as error:
        raise DatasetError(f"cannot read {path}: {error}") from None
    if info.format != FORMAT:
        raise DatasetError(f"{path} has format {info.format!r}, expected {FORMAT!r}")
    return info


def write_manifest(root: Path, records: Iterable[Record]) -> None:
    """Write ``root/manifest.jsonl`` (atomically), one record per line in the given order."""
    text = "".join(_dumps(r._asdict()) + "\n" for r in records)
    write_atomic(root / MANIFEST_NAME, text.encode())


def read_manifest(root: str | Path, splits: Sequence[str] | None = None) -> list[Record]:
    """The records of ``root/manifest.jsonl``, optionally only those of ``splits``.

    Raises:
        DatasetError: No manifest (the compress job has not finished) or a malformed line.
    """
    path = Path(root) / MANIFEST_NAME
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        raise DatasetError(f"{path} not found: the compress-dataset run has not finished") from None
    records = []
    for number, line in enumerate(lines, 1):
        try:
            records.append(Record(**json.loads(line)))
        except (ValueError, TypeError) as error:
            raise DatasetError(f"{path}:{number}: malformed record: {error}") from None
    if splits is not None:
        known = {r.split for r in records}
        unknown = [s for s in splits if s not in known]
        if unknown:
            raise DatasetError(f"no split {unknown[0]!r} in {path}")
        records = [r for r in records if r.split in splits]
    return records
