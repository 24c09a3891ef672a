"""BD-rate: synthetic cases and the anchors' published table."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from eval.rd.bdrate import bd_rate
from eval.rd.results import anchor_dir

KODAK = anchor_dir("kodak")

# From shared/anchors/README.md: BD-rate on Kodak, PSNR-RGB, pchip over the overlapping range.
TABLE = {
    "compressai-bmshj2018-factorized_mse_cpu.json": (32.6, 68.1, -14.7),
    "compressai-bmshj2018-hyperprior_mse_cpu.json": (3.9, 30.5, -32.7),
    "compressai-mbt2018-mean_mse_cpu.json": (-3.3, 21.3, -37.4),
    "compressai-mbt2018_mse_cpu.json": (-11.3, 11.0, -42.7),
    "compressai-cheng2020-anchor_mse_cpu.json": (-18.9, 3.7, -47.2),
    "paper-elic2022_mse.json": (-26.6, -7.0, -52.1),
}
REFERENCES = ("bpg_444_x265_ycbcr.json", "vtm.json", "jpeg2000.json")


def _curve(name: str) -> tuple[list[float], list[float]]:
    results = json.loads((KODAK / name).read_text())["results"]
    return results["bpp"], results["psnr-rgb"]


def test_constant_rate_ratio() -> None:
    psnr = [28.0, 31.0, 34.0, 37.0]
    bpp = [0.2, 0.4, 0.8, 1.6]
    assert bd_rate(bpp, psnr, [b * 0.8 for b in bpp], psnr) == pytest.approx(-20.0, abs=1e-9)
    assert bd_rate(bpp, psnr, [b * 1.25 for b in bpp], psnr) == pytest.approx(25.0, abs=1e-9)
    assert bd_rate(bpp, psnr, bpp, psnr) == pytest.approx(0.0, abs=1e-12)


def test_order_and_no_overlap() -> None:
    bpp, psnr = [0.2, 0.4, 0.8], [30.0, 33.0, 36.0]
    assert bd_rate(bpp[::-1], psnr[::-1], [b / 2 for b in bpp], psnr) == pytest.approx(-50.0)
    assert math.isnan(bd_rate(bpp, psnr, bpp, [40.0, 41.0, 42.0]))
    assert math.isnan(bd_rate(bpp, psnr, [0.3], [31.0]))


def test_inverse_is_consistent() -> None:
    rng = np.random.default_rng(1)
    bpp = np.sort(rng.uniform(0.1, 2, 6))
    psnr = 30 + 4 * np.log2(bpp) + rng.normal(0, 0.1, 6)
    psnr.sort()
    test_bpp = bpp * np.linspace(0.7, 0.9, 6)
    forward = bd_rate(bpp, psnr, test_bpp, psnr)
    backward = bd_rate(test_bpp, psnr, bpp, psnr)
    assert (1 + forward / 100) * (1 + backward / 100) == pytest.approx(1.0, abs=0.01)


@pytest.mark.skipif(not KODAK.is_dir(), reason="shared/anchors not present")
@pytest.mark.parametrize("model", sorted(TABLE))
def test_reproduces_anchor_table(model: str) -> None:
    test = _curve(model)
    for reference, expected in zip(REFERENCES, TABLE[model]):
        assert bd_rate(*_curve(reference), *test) == pytest.approx(expected, abs=0.2), reference


@pytest.mark.skipif(not KODAK.is_dir(), reason="shared/anchors not present")
def test_vtm_vs_bpg() -> None:
    assert bd_rate(*_curve("bpg_444_x265_ycbcr.json"), *_curve("vtm.json")) == pytest.approx(-18.0, abs=0.2)
