"""The channel-conditional codec: coding against its training pass, tiling, exactness, start-up."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from neuralcodec_testing import make_tiny_image, make_tiny_model
from torch import Tensor

import neuralcodec
from neuralcodec import pixels, registry
from neuralcodec.errors import BitstreamError
from neuralcodec.models import ChannelConditionalHyperprior, MeanScaleHyperprior

CC = "test-tiny-cc"
QUALITIES = [1.0, 3.5, 8.0]


@pytest.fixture(scope="module")
def model() -> ChannelConditionalHyperprior:
    """``test-tiny-cc`` with its slice networks switched on (they start at zero)."""
    model = make_tiny_model(seed=2, name=CC)
    assert isinstance(model, ChannelConditionalHyperprior)
    with torch.no_grad():
        for network in [*model.context, *model.residual]:
            network[-1].weight.normal_(std=0.2)
            network[-1].bias.normal_(std=0.2)
    model.update(force=True)
    return model.eval()


@pytest.fixture(scope="module")
def x() -> Tensor:
    """A (1, 3, 192, 128) padded image: 12 x 8 latents, six tiles of 64 pixels."""
    image = np.asarray(make_tiny_image(120, 190, seed=4))
    return pixels.pad_to_multiple(pixels.to_tensor(image), 64)


@torch.inference_mode()
@pytest.mark.parametrize("quality", QUALITIES)
def test_tiles_code_the_same_latents_as_one_tile(model: ChannelConditionalHyperprior, x: Tensor,
                                                 quality: float) -> None:
    """Each slice is decoded over the whole image before the next: tiles see their full context."""
    whole = model.compress(x, quality, 1024)
    tiled = model.compress(x, quality, 64)
    assert len(whole.streams) == 1 + 3 and len(tiled.streams) == 1 + 3 * 6
    assert model.num_streams(tiled.latent_hw, 64) == len(tiled.streams)
    y_whole = model.decompress_latents(whole.streams, whole.latent_hw, 1024).y_hat
    y_tiled = model.decompress_latents(tiled.streams, tiled.latent_hw, 64).y_hat
    assert torch.equal(y_whole, y_tiled) and bool((y_whole != 0).any())
    x_whole = model.decompress(whole.streams, whole.latent_hw, quality, 1024)
    x_tiled = model.decompress(tiled.streams, tiled.latent_hw, quality, 64)
    torch.testing.assert_close(x_whole, x_tiled, atol=1e-5, rtol=0)


@torch.inference_mode()
@pytest.mark.parametrize("quality", QUALITIES)
def test_decoded_latents_match_the_float_forward(model: ChannelConditionalHyperprior, x: Tensor,
                                                 quality: float) -> None:
    """Against the float training pass: y_hat equal up to the exact-vs-float means, or a whole bin.

    A flip in one slice also moves the means of the slices after it, so a few more elements
    differ than in the hyperprior (tests/test_models.py).
    """
    captured: list[Tensor] = []
    hook = model.gaussian_conditional.register_forward_hook(lambda m, i, o: captured.append(o[0]))
    try:
        out = model(x, torch.tensor([quality]))
    finally:
        hook.remove()
    compressed = model.compress(x, quality, 1024)
    y_hat = model.decompress_latents(compressed.streams, compressed.latent_hw, 1024).y_hat
    diff = (torch.cat(captured, 1) - y_hat).abs()
    near = diff < 5e-3
    assert near.float().mean() > 0.95
    x_hat = model.decompress(compressed.streams, compressed.latent_hw, quality, 1024)
    assert float((x_hat - out.x_hat).square().mean()) < 1e-4  # > 40 dB apart: LRP included


@torch.inference_mode()
def test_context_and_residual_change_the_coding(model: ChannelConditionalHyperprior, x: Tensor) -> None:
    """The slice networks take part: zeroed, the model codes exactly like its hyperprior."""
    plain = make_tiny_model(seed=2, name=CC)  # slice networks at zero
    hyperprior = make_tiny_model(seed=2)
    assert isinstance(hyperprior, MeanScaleHyperprior)
    shared = {k: v for k, v in plain.state_dict().items() if not k.startswith(("context.", "residual."))}
    assert set(shared) == set(hyperprior.state_dict())
    hyperprior.load_state_dict(shared)
    hyperprior.update(force=True)
    ours, theirs = plain.compress(x, 3.0, 1024), hyperprior.compress(x, 3.0, 1024)
    y_ours = plain.decompress_latents(ours.streams, ours.latent_hw, 1024).y_hat
    y_theirs = hyperprior.decompress_latents(theirs.streams, theirs.latent_hw, 1024).y_hat
    assert torch.equal(y_ours, y_theirs)
    trained = model.compress(x, 3.0, 1024)
    assert trained.streams[1:] != ours.streams[1:]


@torch.inference_mode()
def test_codec_round_trip_and_hostile_streams(model: ChannelConditionalHyperprior) -> None:
    """Through the public Codec: a real file, and typed errors for cut or swapped streams."""
    codec = neuralcodec.Codec.from_model(registry.get(CC), model, 0x0C0C0C0C)
    image = make_tiny_image(90, 70, seed=1)
    data = codec.encode(image, quality=4.0, tile_size=64)
    decoded = codec.decode(data)
    assert decoded.size == image.size and decoded.mode == image.mode
    assert codec.latents(data).y_hat.shape == (1, 12, 8, 8)
    with pytest.raises(BitstreamError):
        codec.decode(data[:-7])
