"""The GAN report's matched-rate table and its plots, from fake results (no codec runs)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from eval.rd import results
from eval.studies import gan


def _doc(name: str, bpp: list[float], lpips: list[float], psnr: list[float]) -> dict:
    return {
        "name": name, "description": name, "versions": {}, "dataset": "kodak", "num_images": 24,
        "results": {
            "quality": [float(i + 1) for i in range(len(bpp))], "bpp": bpp, "psnr-rgb": psnr,
            "ms-ssim-rgb": [0.9] * len(bpp), "ms-ssim-rgb-db": [10.0] * len(bpp), "lpips": lpips,
            "encoding_time": [0.1] * len(bpp), "decoding_time": [0.1] * len(bpp),
        },
    }


def test_interpolate_is_linear_in_log_rate_and_refuses_to_extrapolate() -> None:
    assert gan.interpolate([0.1, 0.4], [0.5, 0.3], 0.2) == pytest.approx(0.4)  # log-midpoint
    assert gan.interpolate([0.4, 0.1], [0.3, 0.5], 0.1) == pytest.approx(0.5)  # any order
    assert gan.interpolate([0.1, 0.4], [0.5, 0.3], 0.05) is None
    assert gan.interpolate([0.1, 0.4], [0.5, 0.3], 0.41) is None
    assert gan.interpolate([], [], 0.1) is None


def test_table_reads_references_at_one_and_two_times_the_rate(tmp_path: Path) -> None:
    docs = {
        gan.GAN: _doc("gan", [0.03, 0.06], [0.30, 0.22], [22.0, 23.0]),
        "hevc-444": _doc("hevc", [0.06, 0.12, 0.24], [0.45, 0.35, 0.25], [24.0, 26.0, 28.0]),
    }
    rows = gan.matched_rate_table(docs)
    assert [r["bpp"] for r in rows] == [0.03, 0.06]
    hevc_low, hevc_high = rows[0]["references"]["hevc-444"], rows[1]["references"]["hevc-444"]
    assert hevc_low["lpips@1x"] is None  # 0.03 is below HEVC's lowest rate
    assert hevc_low["lpips@2x"] == pytest.approx(0.45)
    assert hevc_high["lpips@1x"] == pytest.approx(0.45) and hevc_high["psnr-rgb@2x"] == pytest.approx(26.0)
    assert hevc_low["lowest_bpp"] == 0.06
    assert "neuralcodec-hyperprior" not in rows[0]["references"]  # not run: left out, not invented
    for name, doc in docs.items():
        results.write_json(tmp_path / "results" / f"{name}.json", doc)
    assert gan.main(["--results", str(tmp_path), "--out", str(tmp_path / "gan"), "--no-grid"]) == 0
    text = (tmp_path / "gan" / "report.md").read_text()
    assert "| 1 | 0.0300 | 22.00 | 10.00 | 0.300 | below range / 0.450 | not run | not run |" in text
    assert (tmp_path / "gan" / "rd-lpips.png").is_file()
    assert not math.isnan(rows[1]["lpips"])


def test_missing_gan_results_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    results.write_json(tmp_path / "results" / "hevc-444.json", _doc("hevc", [0.1], [0.4], [25.0]))
    with pytest.raises(SystemExit) as exit_info:
        gan.main(["--results", str(tmp_path), "--out", str(tmp_path / "gan")])
    assert exit_info.value.code == 2
    assert "python -m eval.rd --dataset kodak --codecs neuralcodec-gan" in capsys.readouterr().err
