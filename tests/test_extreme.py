"""The GAN codec: same bitstream machinery as the hyperprior, a generator that tiles exactly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from neuralcodec_testing import DATA, TINY_GAN, TINY_WEIGHTS_ID, make_tiny_image, make_tiny_model
from PIL import Image
from torch import Tensor

import neuralcodec
from neuralcodec import cli, pixels, registry
from neuralcodec.errors import QualityError
from neuralcodec.models import GenerativeHyperprior, HyperpriorConfig
from neuralcodec.models.extreme import ChannelNorm

SAMPLE = DATA / "sample.png"
#: A floor far under the shipped model's PSNR on the sample at q 1 (see weights/gan-*.md): it
#: catches a broken decoder (wrong weights, colours, tiling), not a small regression.
MIN_PSNR_DB = 18.0


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
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "in.png"
    make_tiny_image().save(source)
    out = tmp_path / "out.ncc"
    assert cli.main(["compress", str(source), "--codec", "gan", "-q", "5", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "gan quality must be in [1, 3]" in err
    assert not out.exists()


def test_coded_likelihoods_are_those_of_the_rounded_latent(model: GenerativeHyperprior, x: Tensor) -> None:
    with torch.inference_mode():
        out = model(x, torch.tensor([2.0]))  # eval mode: the entropy model rounds as well
    assert torch.equal(out.coded_likelihoods["y"], out.likelihoods["y"])


def test_training_decodes_the_rounded_latent_with_a_straight_through_gradient(x: Tensor) -> None:
    torch.manual_seed(0)
    gan = registry.get(TINY_GAN).build().train()
    y = torch.randn(1, 12, 4, 4, requires_grad=True)
    means = torch.randn(1, 12, 4, 4)
    rounded = torch.round(y - means) + means
    decoded = gan._synthesis_input(y, y + 0.3, rounded)
    assert torch.allclose(decoded, rounded, atol=1e-6)  # not the noisy y_hat
    decoded.sum().backward()
    assert torch.equal(y.grad, torch.ones_like(y))  # gradient passes straight through
    out = gan(x, torch.tensor([1.0]))
    out.x_hat.mean().backward()
    assert gan.g_a[0].weight.grad is not None and bool(gan.g_a[0].weight.grad.abs().sum() > 0)


def _gan_installed() -> bool:
    return any(c.name == "gan" and c.installed for c in neuralcodec.catalog.available_codecs())


@pytest.mark.weights
@pytest.mark.skipif(not _gan_installed(), reason="needs the shipped gan weights")
def test_shipped_gan_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`neuralcodec compress --codec gan -q 1` on the sample photo: an extreme-rate file that decodes."""
    monkeypatch.delenv("NEURALCODEC_WEIGHTS", raising=False)  # the repository's weights/
    encoded, decoded = tmp_path / "sample.ncc", tmp_path / "sample.png"
    assert cli.main(["compress", str(SAMPLE), "--codec", "gan", "-q", "1", "-o", str(encoded)]) == 0
    info = neuralcodec.api.read_info(encoded.read_bytes())
    assert info.codec == "gan" and info.bpp < 0.1
    assert cli.main(["decompress", str(encoded), "-o", str(decoded)]) == 0
    with Image.open(SAMPLE) as a, Image.open(decoded) as b:
        assert a.size == b.size
        original = np.asarray(a.convert("RGB"), dtype=np.float64)
        result = np.asarray(b.convert("RGB"), dtype=np.float64)
    mse = np.mean((original - result) ** 2)
    assert 10 * np.log10(255**2 / mse) > MIN_PSNR_DB
