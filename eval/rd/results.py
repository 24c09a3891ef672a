"""Result files: per-image CSV, per-codec JSON in CompressAI's results schema, and the anchors.

A codec's JSON (``results/<codec>.json``) looks like CompressAI's published curves, so both can be
drawn and compared by the same code::

    {"name": "JPEG 4:2:0", "description": "...", "versions": {...}, "dataset": "kodak",
     "num_images": 24,
     "results": {"quality": [...], "bpp": [...], "psnr-rgb": [...], "ms-ssim-rgb": [...],
                 "ms-ssim-rgb-db": [...], "lpips": [...],
                 "encoding_time": [...], "decoding_time": [...]}}

One entry per quality setting, each the mean over the images (CompressAI's convention).
``psnr-rgb``, ``ms-ssim-rgb``, ``encoding_time`` and ``decoding_time`` are the anchors' own key
names; ``ms-ssim-rgb-db`` is ``-10 log10(1 - mean MS-SSIM)``, the same transform applied to an
anchor's ``ms-ssim-rgb``; ``lpips`` is ``null`` where it was not computed. Times are seconds per
image.
"""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from eval.rd.codecs import Record
from neuralcodec.metrics import ms_ssim_db

__all__ = [
    "METRIC_KEYS",
    "RESULT_KEYS",
    "SchemaError",
    "anchors_root",
    "anchor_dir",
    "load_anchor",
    "aggregate",
    "write_json",
    "read_json",
    "validate",
    "load_results",
    "write_csv",
    "read_csv",
    "metric",
]

#: Record field -> key in ``results`` (the anchors' names where they have the quantity).
METRIC_KEYS = {
    "bpp": "bpp",
    "psnr_rgb": "psnr-rgb",
    "ms_ssim": "ms-ssim-rgb",
    "lpips": "lpips",
    "enc_s": "encoding_time",
    "dec_s": "decoding_time",
}
#: Every list a results file has, in order.
RESULT_KEYS = ("quality", "bpp", "psnr-rgb", "ms-ssim-rgb", "ms-ssim-rgb-db", "lpips", "encoding_time",
               "decoding_time")
#: Anchors drawn on the plots (CompressAI's files), with their legend text.
PLOT_ANCHORS = {
    "vtm.json": "VTM (anchor)",
    "bpg_444_x265_ycbcr.json": "BPG 4:4:4 (anchor)",
    "compressai-bmshj2018-hyperprior_mse_cpu.json": "bmshj2018-hyperprior (anchor)",
    "compressai-mbt2018-mean_mse_cpu.json": "mbt2018-mean (anchor)",
}


class SchemaError(ValueError):
    """A results file does not follow the schema."""


def anchors_root() -> Path:
    """``$NEURALCODEC_ANCHORS`` if set, else ``../shared/anchors`` beside the repository."""
    env = os.environ.get("NEURALCODEC_ANCHORS")
    return Path(env) if env else Path(__file__).resolve().parents[3] / "shared" / "anchors"


def anchor_dir(dataset: str) -> Path:
    """Folder of CompressAI's published curves for ``dataset`` (may not exist)."""
    return anchors_root() / "compressai" / f"compressai-{dataset}"


def load_anchor(dataset: str, file_name: str) -> dict[str, Any] | None:
    """A published curve, with ``ms-ssim-rgb-db`` added, or None when there is none."""
    path = anchor_dir(dataset) / file_name
    if not path.is_file():
        return None
    doc: dict[str, Any] = json.loads(path.read_text())
    results = doc["results"]
    if "ms-ssim-rgb" in results and "ms-ssim-rgb-db" not in results:
        results["ms-ssim-rgb-db"] = [ms_ssim_db(v) for v in results["ms-ssim-rgb"]]
    return doc


def _mean(values: Iterable[float]) -> float | None:
    array = np.asarray(list(values), dtype=np.float64)
    if array.size == 0 or np.isnan(array).any():
        return None
    return float(array.mean())


def aggregate(
    records: Sequence[Record],
    *,
    name: str,
    description: str,
    versions: dict[str, str],
    dataset: str,
) -> dict[str, Any]:
    """The results document of one codec: per quality, the mean over images.

    Raises:
        ValueError: Not every quality was measured on the same images.
    """
    by_quality: dict[float, list[Record]] = {}
    for record in records:
        by_quality.setdefault(record.quality, []).append(record)
    image_sets = {frozenset(r.image for r in group) for group in by_quality.values()}
    if len(image_sets) > 1:
        raise ValueError("qualities were measured on different image sets")
    results: dict[str, list[Any]] = {key: [] for key in RESULT_KEYS}
    # Ordered by rate, as the anchors are (low to high or high to low doesn't matter to readers).
    groups = sorted(by_quality.items(), key=lambda item: _mean(r.bpp for r in item[1]) or 0.0)
    for quality, group in groups:
        results["quality"].append(quality)
        for field, key in METRIC_KEYS.items():
            results[key].append(_mean(getattr(r, field) for r in group))
        mean_ms_ssim = results["ms-ssim-rgb"][-1]
        results["ms-ssim-rgb-db"].append(None if mean_ms_ssim is None else ms_ssim_db(mean_ms_ssim))
    return {
        "name": name,
        "description": description,
        "versions": versions,
        "dataset": dataset,
        "num_images": len(next(iter(image_sets))) if image_sets else 0,
        "results": results,
    }


def validate(doc: dict[str, Any]) -> None:
    """Check a results document against the schema.

    Raises:
        SchemaError: A key is missing, a list has the wrong length, or a value is not a number.
    """
    for key, kind in (("name", str), ("description", str), ("versions", dict), ("results", dict)):
        if not isinstance(doc.get(key), kind):
            raise SchemaError(f"{key!r} missing or not a {kind.__name__}")
    results = doc["results"]
    missing = [key for key in RESULT_KEYS if key not in results]
    if missing:
        raise SchemaError(f"results lack {missing}")
    lengths = {key: len(results[key]) for key in RESULT_KEYS}
    if len(set(lengths.values())) != 1:
        raise SchemaError(f"results lists differ in length: {lengths}")
    for key in RESULT_KEYS:
        for value in results[key]:
            if value is None and key == "lpips":
                continue
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
                raise SchemaError(f"{key!r} holds {value!r}")


def write_json(path: Path, doc: dict[str, Any]) -> None:
    """Validate and write a results document (stable key order, 2-space indent)."""
    validate(doc)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2) + "\n")


def read_json(path: Path) -> dict[str, Any]:
    """Read and validate a results document."""
    doc: dict[str, Any] = json.loads(Path(path).read_text())
    validate(doc)
    return doc


def load_results(folder: Path) -> dict[str, dict[str, Any]]:
    """Every ``<codec>.json`` in ``folder``, keyed by file stem, in name order."""
    return {path.stem: read_json(path) for path in sorted(Path(folder).glob("*.json"))}


def write_csv(path: Path, records: Sequence[Record]) -> None:
    """Per-image rows, one per (image, quality)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(Record._fields)
        for record in records:
            writer.writerow([f"{v:.7g}" if isinstance(v, float) else v for v in record])


def read_csv(path: Path) -> list[Record]:
    """The records of a per-image CSV."""
    types = {"codec": str, "image": str, "height": int, "width": int, "num_bytes": int}
    with open(path, newline="") as f:
        return [
            Record(**{k: types.get(k, float)(v) for k, v in row.items()})  # type: ignore[operator]
            for row in csv.DictReader(f)
        ]


def metric(doc: dict[str, Any], key: str) -> tuple[list[float], list[float]]:
    """(bpp, values) of ``key`` in a results document, skipping missing values."""
    results = doc["results"]
    pairs = [
        (b, v) for b, v in zip(results.get("bpp", []), results.get(key, []))
        if b is not None and v is not None
    ]
    return [b for b, _ in pairs], [v for _, v in pairs]
