"""Reading images: files, bytes and file objects alike; animations refused; 16-bit warned."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from neuralcodec_testing import make_tiny_image, png_rgb16
from PIL import Image

from neuralcodec import pixels
from neuralcodec.errors import PixelLimitError, UnsupportedImageError


@pytest.fixture
def png(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.png"
    make_tiny_image().save(path)
    return path


def test_path_bytes_and_file_object_read_the_same(png: Path) -> None:
    expected = np.asarray(pixels.open_image(png))
    assert np.array_equal(np.asarray(pixels.open_image(png.read_bytes())), expected)
    with open(png, "rb") as f:
        assert np.array_equal(np.asarray(pixels.open_image(f)), expected)


@pytest.mark.parametrize("suffix", [".gif", ".tif", ".png", ".webp"])
def test_animations_and_multi_page_files_are_refused(tmp_path: Path, suffix: str) -> None:
    frames = [make_tiny_image(seed=i) for i in range(4)]
    path = tmp_path / f"many{suffix}"
    frames[0].save(path, save_all=True, append_images=frames[1:])
    with pytest.raises(UnsupportedImageError, match=f"{path} has 4 frames"):
        pixels.open_image(path)
    with pytest.raises(UnsupportedImageError, match="the image has 4 frames"):
        pixels.open_image(path.read_bytes())
    single = tmp_path / f"one{suffix}"
    frames[0].save(single)
    assert pixels.open_image(single).size == (67, 45)


def test_camera_mpo_is_read_as_its_primary_image(tmp_path: Path) -> None:
    """An MPO (a JPEG with a preview or depth frame) is one photo, not an animation."""
    path = tmp_path / "camera.mpo"
    make_tiny_image().save(path, format="MPO", save_all=True, append_images=[make_tiny_image(seed=1)])
    with Image.open(path) as image:
        assert image.format == "MPO" and getattr(image, "n_frames", 1) == 2
    assert pixels.open_image(path).size == (67, 45)


def test_16_bit_rgb_warns_like_16_bit_grey() -> None:
    rgb = np.random.default_rng(0).integers(0, 65536, (5, 7, 3), dtype=np.uint16)
    with pytest.warns(UserWarning, match="16-bit RGB image reduced to 8 bits per sample"):
        image = pixels.open_image(png_rgb16(rgb))
    assert image.mode == "RGB"
    assert np.abs(np.asarray(image).astype(int) - (rgb >> 8)).max() <= 1


def test_pixel_limit_error_carries_the_limit(png: Path) -> None:
    with pytest.raises(PixelLimitError) as caught:
        pixels.open_image(png, max_pixels=100)
    assert (caught.value.size, caught.value.limit) == ((67, 45), 100)
    assert str(caught.value) == "67x45 is over the 100-pixel limit (raise max_pixels)"
    assert caught.value.describe("use --max-pixels") == "67x45 is over the 100-pixel limit (use --max-pixels)"
    assert isinstance(caught.value, UnsupportedImageError)


def test_unreadable_bytes_are_named_not_dumped() -> None:
    with pytest.raises(UnsupportedImageError) as caught:
        pixels.open_image(io.BytesIO(b"NC\x02\x01 not an image"))
    assert str(caught.value) == "cannot read the image: not an image format Pillow reads"
