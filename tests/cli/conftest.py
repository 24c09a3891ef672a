"""Fixtures of the command-line tests: test-tiny registered with exported weights, an image file."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image


@pytest.fixture(autouse=True)
def _tiny_installed(request: pytest.FixtureRequest) -> None:
    """Every test but the shipped-weights ones sees test-tiny registered with exported weights."""
    if request.node.get_closest_marker("weights") is None:
        request.getfixturevalue("installed_tiny")


@pytest.fixture(autouse=True)
def _restore_pillow_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """``compress --max-pixels`` may raise Pillow's limit for the process it runs in."""
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", Image.MAX_IMAGE_PIXELS)


@pytest.fixture
def image_file(tmp_path: Path, tiny_image: Image.Image) -> Path:
    """The tiny image as a PNG file, ``tmp_path / "tiny.png"``."""
    path = tmp_path / "tiny.png"
    tiny_image.save(path)
    return path
