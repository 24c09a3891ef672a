"""Fixtures for the benchmark tests; puts the repository root on sys.path for ``import eval``."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


@pytest.fixture(scope="session")
def small_rgb() -> np.ndarray:
    """A deterministic 96x64 photo-like image: smooth gradients, an edge and mild texture."""
    rng = np.random.default_rng(0)
    h, w = 64, 96
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 80 + 100 * xx / w + 20 * np.sin(yy / 5)
    g = 60 + 120 * yy / h
    b = 140 + 60 * np.cos(xx / 9) * (xx > 40)
    rgb = np.stack([r, g, b], -1) + rng.normal(0, 3, (h, w, 3))
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)


@pytest.fixture()
def small_png(tmp_path: Path, small_rgb: np.ndarray) -> Path:
    """``small_rgb`` saved as PNG."""
    from PIL import Image

    path = tmp_path / "small.png"
    Image.fromarray(small_rgb).save(path)
    return path
