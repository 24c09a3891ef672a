"""Golden ``.ncc`` files made with the shipped weights keep decoding to the same latents and pixels.

The files in ``tests/golden/`` (see ``make_golden.py`` there) guard what users keep on disk
against changes to the container, the decoder, the registry's weight releases (a file
stamped with an earlier release decodes with that release) and compressai / torch upgrades.
The entropy-decoded latents must be bit-exact: the hyper-decoder that selects every CDF runs
in exact fixed point. The pixels come out of the float synthesis transform g_s, whose
rounding depends on the BLAS kernels and thread count: they may differ by
:data:`PIXEL_TOLERANCE`, the bound measured across CPU thread and oneDNN settings in
``eval/reports/determinism/README.md`` (and stated in the README).
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import neuralcodec
from golden.make_golden import CASES, GOLDEN, GoldenCase
from neuralcodec.fileinfo import read_info

#: Largest difference allowed per decoded 8-bit sample ("max difference 1 in 255" between
#: decoder settings: eval/reports/determinism/README.md). Alpha planes are lossless: exact.
PIXEL_TOLERANCE = 1

case_params = pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])


def _data(case: GoldenCase) -> bytes:
    return (GOLDEN / f"{case.name}.ncc").read_bytes()


def test_every_golden_file_has_a_case() -> None:
    """No golden file goes unchecked, and none of a case is missing."""
    expected = {f"{c.name}{suffix}" for c in CASES for suffix in (".ncc", ".latents.npz", ".png")}
    present = {p.name for p in GOLDEN.iterdir() if p.suffix in (".ncc", ".npz", ".png")}
    assert present == expected


@case_params
def test_header(case: GoldenCase) -> None:
    info = read_info(_data(case))
    x0, y0, x1, y1 = case.box
    assert (info.codec, info.weights_id, info.quality) == (case.codec, case.weights_id, case.quality)
    assert (info.mode, info.width, info.height) == (case.mode, x1 - x0, y1 - y0)


@pytest.mark.weights
@case_params
def test_latents_are_exact(case: GoldenCase) -> None:
    latents = neuralcodec.latents(_data(case))
    with np.load(GOLDEN / f"{case.name}.latents.npz") as expected:
        for name in ("y_hat", "z_hat"):
            actual = getattr(latents, name).numpy()
            assert actual.dtype == expected[name].dtype == np.float32, name
            assert actual.shape == expected[name].shape, name
            assert np.array_equal(actual, expected[name]), f"{name} differs from the golden latents"
    x0, y0, x1, y1 = case.box
    assert (latents.quality, latents.width, latents.height) == (case.quality, x1 - x0, y1 - y0)


@pytest.mark.weights
@case_params
def test_pixels_within_tolerance(case: GoldenCase) -> None:
    image = neuralcodec.decode(_data(case))
    with Image.open(GOLDEN / f"{case.name}.png") as stored:
        expected = np.asarray(stored.convert(case.mode))
    assert (image.mode, image.size) == (case.mode, (expected.shape[1], expected.shape[0]))
    actual = np.asarray(image)
    diff = np.abs(actual.astype(np.int16) - expected.astype(np.int16))
    assert int(diff[..., :3].max()) <= PIXEL_TOLERANCE, f"max difference {int(diff.max())}"
    assert not diff[..., 3:].any(), "the alpha plane is lossless"
