"""The results schema (CompressAI-shaped JSON), CSV round trip and dataset resolution."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from eval.rd import datasets, results
from eval.rd.codecs import Record


def _records() -> list[Record]:
    rows = []
    for quality, bpp, psnr in ((10, 0.2, 28.0), (50, 0.6, 33.0)):
        for image, shift in (("a.png", 0.0), ("b.png", 1.0)):
            rows.append(Record("jpeg-420", image, float(quality), 64, 96, int(bpp * 64 * 96 / 8),
                               bpp + shift / 10, psnr + shift, 0.95 + shift / 100, 13.0, 0.2 - shift / 10,
                               0.01, 0.002))
    return rows


def _doc() -> dict:
    return results.aggregate(_records(), name="JPEG 4:2:0", description="test", versions={"pillow": "x"},
                             dataset="fake")


def test_aggregate_means_per_quality() -> None:
    doc = _doc()
    results.validate(doc)
    r = doc["results"]
    assert list(r) == list(results.RESULT_KEYS)
    assert r["quality"] == [10.0, 50.0]
    assert r["bpp"] == pytest.approx([0.25, 0.65])
    assert r["psnr-rgb"] == pytest.approx([28.5, 33.5])
    assert r["ms-ssim-rgb-db"][0] == pytest.approx(-10 * math.log10(1 - 0.955))
    assert r["lpips"] == pytest.approx([0.15, 0.15])
    assert doc["num_images"] == 2


def test_keys_match_the_anchors() -> None:
    """The quantities the anchors also have use the anchors' key names, so curves compare."""
    anchor = results.anchor_dir("kodak") / "jpeg.json"
    if not anchor.is_file():
        pytest.skip("shared/anchors not present")
    anchor_keys = set(json.loads(anchor.read_text())["results"])
    assert {"bpp", "psnr-rgb", "ms-ssim-rgb", "encoding_time", "decoding_time"} <= anchor_keys
    assert anchor_keys <= set(_doc()["results"])


def test_validate_rejects_bad_documents() -> None:
    doc = _doc()
    del doc["results"]["lpips"]
    with pytest.raises(results.SchemaError):
        results.validate(doc)
    doc = _doc()
    doc["results"]["bpp"].append(1.0)
    with pytest.raises(results.SchemaError):
        results.validate(doc)
    doc = _doc()
    doc["results"]["psnr-rgb"][0] = float("nan")
    with pytest.raises(results.SchemaError):
        results.validate(doc)
    doc = _doc()
    doc["results"]["lpips"] = [None, None]  # LPIPS not computed: allowed
    results.validate(doc)


def test_json_and_csv_round_trip(tmp_path: Path) -> None:
    results.write_json(tmp_path / "results" / "jpeg-420.json", _doc())
    assert results.load_results(tmp_path / "results") == {"jpeg-420": _doc()}
    results.write_csv(tmp_path / "jpeg-420.csv", _records())
    back = results.read_csv(tmp_path / "jpeg-420.csv")
    assert [r.image for r in back] == [r.image for r in _records()]
    assert back[0].bpp == pytest.approx(_records()[0].bpp)
    assert back[0].num_bytes == _records()[0].num_bytes


def test_cityscapes_layout() -> None:
    root = datasets.data_root() / "cityscapes_samples"
    if not root.is_dir():
        pytest.skip("shared/data not present")
    data = datasets.resolve(dataset_dir=root, split="val")
    assert data.name == "cityscapes-val"
    assert [p.name for p in data.paths] == ["frankfurt_000000_000294_leftImg8bit.png"]
    with pytest.raises(FileNotFoundError):
        datasets.resolve(dataset_dir=root, split="test")


def test_named_datasets() -> None:
    if not (datasets.data_root() / "kodak").is_dir():
        pytest.skip("shared/data not present")
    assert len(datasets.resolve("kodak").paths) == 24
    camvid = datasets.resolve("camvid", limit=3)
    assert camvid.name == "camvid" and len(camvid.paths) == 3
    with pytest.raises(ValueError):
        datasets.resolve("nope")
    with pytest.raises(ValueError):
        datasets.resolve()
