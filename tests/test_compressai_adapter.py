"""The compressai view of a codec, run through compressai's own evaluation code."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from neuralcodec_testing import make_tiny_image
from PIL import Image

from neuralcodec import Codec, container, pixels
from neuralcodec.compressai_adapter import CompressAIAdapter
from neuralcodec.errors import QualityError

eval_model = pytest.importorskip("compressai.utils.eval_model.__main__")  # also needs pytorch_msssim


@pytest.fixture(scope="module", autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)  # importing compressai's evaluation module sets this; keep it explicit


def as_tensor(image: Image.Image) -> torch.Tensor:
    """(3, H, W) in [0, 1], as compressai's ``read_image`` gives."""
    return pixels.to_tensor(np.asarray(image.convert("RGB")))[0]


def test_inference_codes_what_the_codec_codes(tiny_codec: Codec) -> None:
    """compressai's ``inference``: the codec's own streams, and its bpp without our header."""
    image = make_tiny_image(256, 192)  # multiples of 64: no padding on either side; MS-SSIM needs > 160
    adapter = CompressAIAdapter(tiny_codec, quality=3.5)
    result = eval_model.inference(adapter, as_tensor(image))
    _, streams = container.unpack(tiny_codec.encode(image, 3.5))
    assert result["bpp"] == pytest.approx(sum(map(len, streams)) * 8 / (256 * 192))
    decoded = np.asarray(tiny_codec.decode(tiny_codec.encode(image, 3.5)), dtype=np.float64)
    mse = np.mean((decoded - np.asarray(image, dtype=np.float64)) ** 2)
    assert result["psnr-rgb"] == pytest.approx(10 * np.log10(255**2 / mse), abs=0.01)
    assert 0 < result["ms-ssim-rgb"] <= 1


def test_entropy_estimation_and_eval_model(tiny_codec: Codec, tmp_path: Path) -> None:
    """``inference_entropy_estimation`` (``model(x)``) and the ``eval_model`` loop over a folder."""
    adapter = CompressAIAdapter(tiny_codec, quality=2)
    x = as_tensor(make_tiny_image(193, 171))  # padded inside, cropped back
    estimate = eval_model.inference_entropy_estimation(adapter, x)
    coded = eval_model.inference(adapter, x)
    assert 0.5 < estimate["bpp"] / coded["bpp"] < 2
    assert abs(estimate["psnr-rgb"] - coded["psnr-rgb"]) < 1
    for i in range(2):
        make_tiny_image(171, 165, seed=i).save(tmp_path / f"img{i}.png")
    paths = eval_model.collect_images(str(tmp_path))
    for entropy_estimation in (False, True):
        metrics = eval_model.eval_model(adapter, tmp_path, tmp_path, paths, entropy_estimation,
                                        architecture="neuralcodec", half=False, per_image=False)
        assert set(metrics) >= {"psnr-rgb", "ms-ssim-rgb", "bpp", "encoding_time", "decoding_time"}
        assert metrics["bpp"] > 0 and np.isfinite(metrics["psnr-rgb"])


def test_adapter_checks_its_inputs(tiny_codec: Codec) -> None:
    with pytest.raises(QualityError):
        CompressAIAdapter(tiny_codec, quality=9)
    with pytest.raises(ValueError, match="one image at a time"):
        CompressAIAdapter(tiny_codec, quality=2).compress(torch.rand(2, 3, 64, 64))
