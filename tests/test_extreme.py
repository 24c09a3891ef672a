"""The GAN codec: same bitstream machinery as the hyperprior, a generator that tiles exactly."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from neuralcodec_testing import TINY_GAN, TINY_WEIGHTS_ID, make_tiny_image, make_tiny_model
from torch import Tensor

import neuralcodec
from neuralcodec import cli, pixels, registry
from neuralcodec.errors import QualityError
from neuralcodec.models import GenerativeHyperprior, HyperpriorConfig
from neuralcodec.models.extreme import ChannelNorm


@pytest.fixture(scope="module")
def model() -> GenerativeHyperprior:
    gan = make_tiny_model(name=TINY_GAN)
    assert isinstance(gan, GenerativeHyperprior)
    return gan


@pytest.fixture(scope="module")
def codec(model: GenerativeHyperprior) -> neuralcodec.Codec:
    return neuralcodec.Codec.from_model(registry.get(TINY_GAN), model, TINY_WEIGHTS_ID)


@pytest.fixture(scope="module")
def x() -> Tensor:
    return pixels.pad_to_multiple(pixels.to_tensor(np.asarray(make_tiny_image())), 64)


@pytest.mark.parametrize("quality", [1.0, 2.5, 3.0])
@torch.inference_mode()
def test_decoding_the_bitstream_matches_the_eval_forward(
    model: GenerativeHyperprior, x: Tensor, quality: float
) -> None:
    compressed = model.compress(x, quality, 1024)
    x_hat = model.decompress(compressed.streams, compressed.latent_hw, quality, 1024)
    forward = model(x, torch.tensor([quality]))
    # eval-mode forward rounds around the float h_s means, the coder around the exact ones.
    assert torch.allclose(x_hat, forward.x_hat, atol=1e-3)
    assert forward.y_hat.shape == (1, model.config.M, *compressed.latent_hw)


@torch.inference_mode()
def test_the_generator_gives_the_same_pixels_in_tiles(model: GenerativeHyperprior) -> None:
    x = pixels.to_tensor(np.asarray(make_tiny_image(200, 140, seed=3)))
    x = pixels.pad_to_multiple(x, 64)
    whole = model.compress(x, 2.0, 1024)
    tiled = model.compress(x, 2.0, 64)
    assert len(tiled.streams) > len(whole.streams)
    a = model.decompress(whole.streams, whole.latent_hw, 2.0, 1024)
    b = model.decompress(tiled.streams, tiled.latent_hw, 2.0, 64)
    assert torch.allclose(a, b, atol=1e-5)


def test_channel_norm_uses_no_statistics_across_images_or_positions() -> None:
    norm = ChannelNorm(5)
    batch = torch.randn(3, 5, 4, 6)
    one = norm(batch[1:2, :, 1:3, 2:5])
    assert torch.allclose(one, norm(batch)[1:2, :, 1:3, 2:5], atol=1e-6)
    assert torch.allclose(norm(batch).mean(1), torch.zeros(3, 4, 6), atol=1e-5)


def test_the_generative_model_needs_its_config() -> None:
    with pytest.raises(TypeError, match="GenerativeConfig"):
        GenerativeHyperprior(HyperpriorConfig(N=8, M=12, num_qualities=3), registry.GAN_LAMBDAS)


def test_api_round_trip_and_quality_range(codec: neuralcodec.Codec) -> None:
    image = make_tiny_image()
    data = codec.encode(image, quality=3)
    assert neuralcodec.api.read_info(data).codec == TINY_GAN
    decoded = codec.decode(data)
    assert decoded.size == image.size and decoded.mode == "RGB"
    with pytest.raises(QualityError, match=r"\[1, 3\]"):
        codec.encode(image, quality=4)


def test_cli_rejects_a_quality_outside_the_gan_range(
    tmp_path: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "in.png"  # type: ignore[operator]
    make_tiny_image().save(source)
    out = tmp_path / "out.ncc"  # type: ignore[operator]
    assert cli.main(["compress", str(source), "--codec", "gan", "-q", "5", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "gan quality must be in [1, 3]" in err
    assert not out.exists()
