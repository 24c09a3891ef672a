"""Report generation from tiny fake JSON (no codec runs), and the speed harness on a tiny model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from eval.rd import report, results


def _fake(name: str, scale: float, lpips: bool = True) -> dict:
    bpp = [0.1 * scale, 0.25 * scale, 0.5 * scale, 1.0 * scale]
    return {
        "name": name,
        "description": f"fake {name}",
        "versions": {"fake": "1"},
        "dataset": "kodak",
        "num_images": 2,
        "results": {
            "quality": [1.0, 2.0, 3.0, 4.0],
            "bpp": bpp,
            "psnr-rgb": [27.0, 30.0, 33.0, 36.0],
            "ms-ssim-rgb": [0.9, 0.95, 0.975, 0.99],
            "ms-ssim-rgb-db": [10.0, 13.0, 16.0, 20.0],
            "lpips": [0.4, 0.25, 0.12, 0.05] if lpips else [None] * 4,
            "encoding_time": [0.01] * 4,
            "decoding_time": [0.005] * 4,
        },
    }


@pytest.fixture()
def report_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "kodak"
    results.write_json(folder / "results" / "jpeg2000.json", _fake("JPEG 2000", 1.0))
    results.write_json(folder / "results" / "neuralcodec.json", _fake("neuralcodec", 0.8, lpips=False))
    crops = folder / "crops"
    crops.mkdir()
    tile = np.full((8, 8, 3), 128, np.uint8)
    for file in ("original.png", "jpeg2000-0.15bpp.png"):
        Image.fromarray(tile).save(crops / file)
    (crops / "crops.json").write_text(json.dumps({
        "image": "fake.png", "box": [0, 0, 8, 8], "targets": [0.15], "original": "original.png",
        "entries": [{"codec": "jpeg2000", "label": "JPEG 2000", "target_bpp": 0.15, "bpp": 0.149,
                     "quality": 0.15, "psnr-rgb": 29.0, "ms-ssim-rgb-db": 11.0, "lpips": 0.3,
                     "file": "jpeg2000-0.15bpp.png"}]}))
    (folder / "status.json").write_text(json.dumps({"skipped": {"hevc-444": "ffmpeg not found"}}))
    return folder


def test_report_from_json(report_folder: Path) -> None:
    written = report.build_report(report_folder, "kodak")
    md = written["markdown"].read_text()
    page = written["html"].read_text()
    for stem in ("rd-psnr", "rd-ms-ssim", "rd-lpips"):
        for suffix in (".png", ".svg"):
            assert (report_folder / "figures" / f"{stem}{suffix}").stat().st_size > 1000
    assert "## BD-rate" in md and "<table>" in page and "ffmpeg not found" in md
    assert "crops/jpeg2000-0.15bpp.png" in md and "crops/jpeg2000-0.15bpp.png" in page
    rows = {row["codec"]: row for row in json.loads(written["bd_rate"].read_text())["rows"]}
    # 0.8x the rate at every quality: -20 % against JPEG 2000 (ours), for PSNR and MS-SSIM.
    assert rows["neuralcodec"]["PSNR vs JPEG 2000 (ours)"] == pytest.approx(-20.0, abs=0.01)
    assert rows["neuralcodec"]["MS-SSIM vs JPEG 2000 (ours)"] == pytest.approx(-20.0, abs=0.01)
    assert rows["neuralcodec"]["LPIPS vs JPEG 2000 (ours)"] is None  # no LPIPS measured
    assert rows["jpeg2000"]["PSNR vs JPEG 2000 (ours)"] == pytest.approx(0.0)
    if results.anchor_dir("kodak").is_dir():
        assert rows["compressai-bmshj2018-hyperprior_mse_cpu.json"]["PSNR vs BPG444"] == pytest.approx(3.9, abs=0.2)


def test_report_without_anchors(report_folder: Path) -> None:
    written = report.build_report(report_folder, "no-such-dataset")
    md = written["markdown"].read_text()
    assert "PSNR vs JPEG 2000 (ours)" in md and "PSNR vs BPG444" not in md  # empty columns dropped
    assert report.main(["--dataset", "no-such-dataset", "--name", "kodak",
                        "--reports-dir", str(report_folder.parent)]) == 0


def test_report_needs_results(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        report.build_report(tmp_path, "kodak")


def test_speed_harness_on_a_tiny_model(small_rgb: np.ndarray) -> None:
    from eval.studies.speed import compressai_coder, time_coder

    row = time_coder(compressai_coder(N=8, M=12), small_rgb)
    assert row["enc_s"] > 0 and row["dec_s"] > 0 and row["bpp"] > 0


def test_rd_cli_end_to_end_and_refresh_one_codec(tmp_path: Path, small_rgb: np.ndarray) -> None:
    """A Cityscapes-layout folder through ``python -m eval.rd``; a second run adds one codec."""
    import torch

    from eval.rd.__main__ import main as rd_main

    city = tmp_path / "data" / "leftImg8bit" / "val" / "town"
    city.mkdir(parents=True)
    Image.fromarray(small_rgb).save(city / "town_000000_000001_leftImg8bit.png")
    out = tmp_path / "reports"
    threads = torch.get_num_threads()
    try:
        common = ["--dataset-dir", str(tmp_path / "data"), "--no-lpips", "--reports-dir", str(out),
                  "--crop-bpp", "1.0"]
        assert rd_main(common + ["--codecs", "jpeg-420"]) == 0
        folder = out / "cityscapes-val"
        first = (folder / "results" / "jpeg-420.json").read_text()
        assert rd_main(common + ["--codecs", "jpeg-444"]) == 0
    finally:
        torch.set_num_threads(threads)
    assert (folder / "results" / "jpeg-420.json").read_text() == first  # reused, not recomputed
    assert sorted(p.name for p in (folder / "results").glob("*.json")) == ["jpeg-420.json", "jpeg-444.json"]
    assert len((folder / "per_image" / "jpeg-444.csv").read_text().splitlines()) == 1 + 8
    manifest = json.loads((folder / "crops" / "crops.json").read_text())
    assert {e["codec"] for e in manifest["entries"]} == {"jpeg-420", "jpeg-444"}
    assert "JPEG 4:4:4" in (folder / "report.md").read_text()
