"""The model's coding path against its training path, determinism, and the exact h_s."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from compressai.layers import GDN
from neuralcodec_testing import make_tiny_image, make_tiny_model
from torch import Tensor, nn

from neuralcodec import pixels
from neuralcodec.errors import BitstreamError
from neuralcodec.models import MeanScaleHyperprior
from neuralcodec.models import fixed_point
from neuralcodec.models.fixed_point import ACTIVATION_BITS, WEIGHT_BITS, FixedPointNetwork

QUALITIES = [1.0, 2.25, 3.5, 8.0]
TILE = 1024  # one tile for the tiny image: the whole-image pass


@contextlib.contextmanager
def num_threads(n: int) -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@pytest.fixture(scope="module")
def x() -> Tensor:
    """The tiny image as a padded (1, 3, 64, 128) tensor."""
    return pixels.pad_to_multiple(pixels.to_tensor(np.asarray(make_tiny_image())), 64)


def encoder_y_hat(model: MeanScaleHyperprior, x: Tensor, quality: float) -> Tensor:
    """y_hat as the encoder quantizes it, recomputed step by step from compress()'s recipe."""
    y = model.g_a(x) * model.gain(quality).to(x.device)
    z = model.h_a(y)
    z_hat = model.entropy_bottleneck.decompress(model.entropy_bottleneck.compress(z), z.shape[-2:])
    _, means = model.exact_h_s(z_hat)
    return model.gaussian_conditional.quantize(y, "dequantize", means)


class _ExactHs(nn.Module):
    """h_s evaluated by the fixed-point network; FixedPointNetwork(self) still sees h_s's layers."""

    def __init__(self, h_s: nn.Module) -> None:
        super().__init__()
        self.inner = h_s

    def forward(self, z: Tensor) -> Tensor:
        return FixedPointNetwork(self.inner)(z)


@torch.inference_mode()
@pytest.mark.parametrize("quality", QUALITIES)
def test_decompress_compress_matches_forward_in_eval_mode(x: Tensor, quality: float) -> None:
    """Coding == the eval forward (medians, means, gains, inverse gains) once both use the same h_s.

    The float forward's h_s differs from the exact one by ~1e-3, which can move a y within 1e-3 of
    a rounding boundary to the other bin; the next test bounds that effect on the real forward.
    """
    model = make_tiny_model()
    compressed = model.compress(x, quality, TILE)
    x_hat = model.decompress(compressed.streams, compressed.latent_hw, quality, TILE)
    model.h_s = _ExactHs(model.h_s)
    out = model(x, torch.tensor([quality]))
    assert out.x_hat.shape == x_hat.shape == x.shape
    assert compressed.latent_hw == (x.shape[-2] // 16, x.shape[-1] // 16)
    torch.testing.assert_close(x_hat, out.x_hat, atol=1e-3, rtol=0)
    assert sum(len(s) for s in compressed.streams) > 50  # the latents are not all zero


@torch.inference_mode()
@pytest.mark.parametrize("quality", QUALITIES)
def test_decoded_latents_match_the_float_forward(x: Tensor, tiny_model: MeanScaleHyperprior, quality: float) -> None:
    """Against the float forward: y_hat equal up to the exact-vs-float means, or one whole bin."""
    captured: list[Tensor] = []
    hook = tiny_model.gaussian_conditional.register_forward_hook(lambda m, i, o: captured.append(o[0]))
    try:
        out = tiny_model(x, torch.tensor([quality]))
    finally:
        hook.remove()
    compressed = tiny_model.compress(x, quality, TILE)
    y_hat = tiny_model.decompress_latents(compressed.streams, compressed.latent_hw, TILE).y_hat
    diff = (captured[0] - y_hat).abs()
    near = diff < 5e-3
    assert near.float().mean() > 0.97
    assert torch.allclose(diff[~near], diff[~near].round(), atol=5e-3)  # whole-bin flips only
    assert diff[~near].le(1 + 5e-3).all()
    x_hat = tiny_model.decompress(compressed.streams, compressed.latent_hw, quality, TILE)
    mse = float((x_hat - out.x_hat).square().mean())
    assert mse < 1e-4, mse  # > 40 dB apart


@torch.inference_mode()
@pytest.mark.parametrize("quality", QUALITIES)
def test_decompress_latents_is_what_the_encoder_quantized(
    x: Tensor, tiny_model: MeanScaleHyperprior, quality: float
) -> None:
    compressed = tiny_model.compress(x, quality, TILE)
    y_hat = tiny_model.decompress_latents(compressed.streams, compressed.latent_hw, TILE).y_hat
    expected = encoder_y_hat(tiny_model, x, quality)
    assert y_hat.shape == (1, tiny_model.config.M, *compressed.latent_hw)
    assert torch.equal(y_hat, expected)
    assert bool((y_hat != 0).any())


@torch.inference_mode()
def test_compress_is_deterministic_across_thread_counts(tiny_model: MeanScaleHyperprior) -> None:
    image = pixels.to_tensor(np.asarray(make_tiny_image(200, 130, seed=3)))
    image = pixels.pad_to_multiple(image, 64)
    results = {}
    for n in (1, 2):
        with num_threads(n):
            assert torch.get_num_threads() == n
            streams = [tiny_model.compress(image, q, TILE).streams for q in (1.0, 3.5, 8.0)]
            decoded = [tiny_model.decompress(s, (image.shape[-2] // 16, image.shape[-1] // 16), q, TILE)
                       for s, q in zip(streams, (1.0, 3.5, 8.0))]
        results[n] = streams, [pixels.to_uint8(d) for d in decoded]
    assert results[1][0] == results[2][0]  # identical bytes
    for one, two in zip(results[1][1], results[2][1]):
        assert torch.equal(one, two)  # identical pixels


def test_quality_weights_interpolate_between_levels(tiny_model: MeanScaleHyperprior) -> None:
    levels = tiny_model.config.num_qualities
    q = torch.linspace(1, levels, 57, dtype=torch.float64)
    weights = tiny_model.quality_weights(q)
    assert weights.shape == (57, levels)
    assert torch.allclose(weights.sum(1), torch.ones(57, dtype=torch.float64), atol=1e-12)
    assert bool((weights >= 0).all())
    assert bool(((weights > 0).sum(1) <= 2).all())  # at most the two neighbouring levels
    # The weighted level is the quality itself (linear interpolation in the level index).
    assert torch.allclose(weights @ torch.arange(1, levels + 1, dtype=torch.float64), q, atol=1e-12)
    for level in range(1, levels + 1):
        one_hot = tiny_model.quality_weights(torch.tensor([float(level)]))
        assert torch.equal(one_hot[0], F.one_hot(torch.tensor(level - 1), levels).float())


def test_integer_quality_uses_its_own_gain_vector(tiny_model: MeanScaleHyperprior) -> None:
    for level in (1, 4, 8):
        gain = tiny_model.gain(float(level))
        expected = torch.exp(tiny_model.log_gain[level - 1].detach().double()).float()
        assert torch.equal(gain.flatten(), expected)
    halfway = tiny_model.gain(2.5).flatten().double()
    geometric = torch.exp(tiny_model.log_gain[1:3].detach().double().mean(0))
    assert torch.allclose(halfway, geometric, rtol=1e-6)


@pytest.mark.parametrize("quality", [0.0, 0.99, 8.01, float("nan")])
def test_quality_weights_reject_out_of_range(tiny_model: MeanScaleHyperprior, quality: float) -> None:
    with pytest.raises(ValueError):
        tiny_model.quality_weights(torch.tensor([3.0, quality]))


def test_forward_outputs(x: Tensor, tiny_model: MeanScaleHyperprior) -> None:
    with torch.no_grad():
        out = tiny_model(torch.cat([x, x.flip(-1)]), torch.tensor([1.0, 7.5]))
    M, N = tiny_model.config.M, tiny_model.config.N
    assert out.x_hat.shape == (2, *x.shape[1:])
    assert out.likelihoods["y"].shape == (2, M, x.shape[-2] // 16, x.shape[-1] // 16)
    assert out.likelihoods["z"].shape == (2, N, x.shape[-2] // 64, x.shape[-1] // 64)
    for likelihood in out.likelihoods.values():
        assert bool(((likelihood > 0) & (likelihood <= 1)).all())


def test_latent_hw(tiny_model: MeanScaleHyperprior) -> None:
    assert tiny_model.downsampling_factor == 64
    assert tiny_model.latent_hw(1, 1) == (4, 4)
    assert tiny_model.latent_hw(45, 67) == (4, 8)
    assert tiny_model.latent_hw(64, 128) == (4, 8)
    assert tiny_model.latent_hw(513, 769) == (36, 52)


@torch.inference_mode()
def test_coding_errors(x: Tensor, tiny_model: MeanScaleHyperprior) -> None:
    with pytest.raises(ValueError, match="one image"):
        tiny_model.compress(torch.cat([x, x]), 3.0, TILE)
    streams = tiny_model.compress(x, 3.0, TILE).streams
    with pytest.raises(BitstreamError, match="streams"):
        tiny_model.decompress_latents(streams[:1], (4, 8), TILE)
    for bad in (b"", b"\x00" * 4, b"\x00" * 9, streams[1][:-1]):
        with pytest.raises(BitstreamError, match="length"):
            tiny_model.decompress_latents([streams[0], bad], (4, 8), TILE)


# -- FixedPointNetwork ------------------------------------------------------------------------


def _reference(network: nn.Sequential, x: Tensor) -> Tensor:
    """The fixed-point recipe written independently, with F.conv2d on integer float64 tensors.

    A different summation order than FixedPointNetwork's im2col: the results can only agree
    bit for bit if every partial sum is exact.
    """
    a = torch.round(x.double() * 2**ACTIVATION_BITS)
    limit = fixed_point.ACTIVATION_LIMIT * 2**ACTIVATION_BITS
    for layer in network:
        if isinstance(layer, nn.Conv2d):
            w = torch.round(layer.weight.detach().double().clamp(-8, 8) * 2**WEIGHT_BITS)
            b = torch.round(layer.bias.detach().double().clamp(-1024, 1024) * 2 ** (WEIGHT_BITS + ACTIVATION_BITS))
            a = torch.floor(F.conv2d(a, w, b, padding=layer.padding) / 2**WEIGHT_BITS + 0.5)
            a = a.clamp(-limit, limit)
        elif isinstance(layer, nn.ReLU):
            a = a.clamp(min=0)
        elif isinstance(layer, nn.PixelShuffle):
            a = F.pixel_shuffle(a, layer.upscale_factor)
        else:  # compressai's subpel_conv3x3 is a Sequential(Conv2d, PixelShuffle)
            a = torch.round(_reference(layer, a / 2**ACTIVATION_BITS).double() * 2**ACTIVATION_BITS)
    return (a / 2**ACTIVATION_BITS).float()


@pytest.fixture(scope="module")
def z_batch() -> Tensor:
    """Six integer hyper-latents (like z_hat) for the tiny h_s, values in [-6, 6]."""
    generator = torch.Generator().manual_seed(1)
    return torch.randint(-6, 7, (6, 8, 3, 5), generator=generator).double()


@torch.no_grad()
def test_fixed_point_h_s_matches_an_independent_exact_computation(
    tiny_model: MeanScaleHyperprior, z_batch: Tensor
) -> None:
    out = FixedPointNetwork(tiny_model.h_s)(z_batch)
    assert out.dtype == torch.float32
    assert out.shape == (6, 2 * tiny_model.config.M, 12, 20)
    assert torch.equal(out, _reference(tiny_model.h_s, z_batch))
    assert torch.equal(out * 2**ACTIVATION_BITS, (out * 2**ACTIVATION_BITS).round())  # on the grid


@torch.no_grad()
def test_fixed_point_is_independent_of_batching_order_and_threads(
    tiny_model: MeanScaleHyperprior, z_batch: Tensor
) -> None:
    network = FixedPointNetwork(tiny_model.h_s)
    full = network(z_batch)
    for size in (1, 2, 4):
        parts = [network(z_batch[i : i + size]) for i in range(0, len(z_batch), size)]
        assert torch.equal(torch.cat(parts), full)
    permutation = torch.randperm(len(z_batch), generator=torch.Generator().manual_seed(2))
    assert torch.equal(network(z_batch[permutation]), full[permutation])
    assert torch.equal(network(z_batch.float()), full)  # float32 input of integers: same grid
    with num_threads(2):
        assert torch.equal(network(z_batch), full)


@torch.no_grad()
def test_fixed_point_transposed_problem_gives_the_transposed_result() -> None:
    torch.manual_seed(5)
    net = nn.Sequential(
        nn.Conv2d(8, 16, (3, 5), padding=(1, 2)), nn.ReLU(), nn.Conv2d(16, 6, (5, 3), padding=(2, 1))
    )
    transposed = nn.Sequential(
        nn.Conv2d(8, 16, (5, 3), padding=(2, 1)), nn.ReLU(), nn.Conv2d(16, 6, (3, 5), padding=(1, 2))
    )
    for src, dst in zip(net, transposed):
        if isinstance(src, nn.Conv2d):
            dst.weight.copy_(src.weight.transpose(-1, -2))
            dst.bias.copy_(src.bias)
    x = torch.randn(3, 8, 9, 14, dtype=torch.float64, generator=torch.Generator().manual_seed(6)) * 4
    out = FixedPointNetwork(net)(x)
    out_t = FixedPointNetwork(transposed)(x.transpose(-1, -2).contiguous())
    assert torch.equal(out_t, out.transpose(-1, -2))
    assert torch.equal(out, _reference(net, x))


@torch.no_grad()
def test_fixed_point_is_exact_at_its_limits() -> None:
    """Weights, biases and activations near their clamps and a wide fan-in: partial sums reach
    2**47, where float32 (or any inexact step) would lose the low bits that decide rounding."""
    torch.manual_seed(7)
    net = nn.Sequential(nn.Conv2d(64, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 4, 3, padding=1))
    with torch.no_grad():
        for conv in (net[0], net[2]):
            conv.weight.uniform_(-8, 8)
            conv.bias.uniform_(-1000, 1000)
    generator = torch.Generator().manual_seed(8)
    x = (torch.rand(2, 64, 6, 7, generator=generator, dtype=torch.float64) * 2 - 1) * 2000
    out = FixedPointNetwork(net)(x)
    assert torch.equal(out, _reference(net, x))
    assert out.abs().max() >= 2**10  # large values: the clamp at 2**11 is reached or nearly
    with num_threads(2):
        assert torch.equal(FixedPointNetwork(net)(x[[1, 0]]), out[[1, 0]])


@torch.no_grad()
def test_fixed_point_matches_the_float_network(tiny_model: MeanScaleHyperprior, z_batch: Tensor) -> None:
    exact = FixedPointNetwork(tiny_model.h_s)(z_batch)
    floating = tiny_model.h_s(z_batch.float())
    assert floating.abs().max() > 0.1  # a non-trivial output
    torch.testing.assert_close(exact, floating, atol=1e-2, rtol=0)


@pytest.mark.parametrize(
    "layer",
    [
        nn.Conv2d(4, 4, 3, stride=2, padding=1),
        nn.Conv2d(4, 4, 3, stride=(1, 2), padding=1),
        nn.Conv2d(4, 4, 3, dilation=2, padding=2),
        nn.Conv2d(4, 4, 3, groups=2, padding=1),
        nn.Conv2d(4, 4, 3, padding=1, padding_mode="reflect"),
        nn.Conv2d(4, 4, 3, padding="same"),
        nn.Conv2d(4096, 1, 3, padding=1),  # fan-in too large for exact float64 sums
    ],
    ids=["stride2", "stride1x2", "dilated", "grouped", "reflect", "same", "fan-in"],
)
def test_fixed_point_rejects_inexact_convolutions(layer: nn.Module) -> None:
    with pytest.raises(ValueError):
        FixedPointNetwork(nn.Sequential(layer))


@pytest.mark.parametrize(
    "layer",
    [nn.ConvTranspose2d(4, 4, 5, stride=2, padding=2, output_padding=1), nn.LeakyReLU(), GDN(4)],
    ids=["fractional-stride", "leaky-relu", "gdn"],
)
def test_fixed_point_rejects_layers_without_an_exact_version(layer: nn.Module) -> None:
    with pytest.raises(TypeError, match="no exact fixed-point version"):
        FixedPointNetwork(nn.Sequential(nn.Conv2d(4, 4, 3, padding=1), layer))


@torch.no_grad()
def test_fixed_point_never_lags_behind_changed_weights() -> None:
    """The integer weights are reused across constructions only while the float weights are
    bit-identical: every way of changing them, version-counted or not, is seen."""
    torch.manual_seed(9)
    net = nn.Sequential(nn.Conv2d(4, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 4, 3, padding=1))
    x = torch.randn(2, 4, 6, 7, generator=torch.Generator().manual_seed(10)) * 3
    original = {k: v.clone() for k, v in net.state_dict().items()}
    before = FixedPointNetwork(net)
    first = before(x)
    assert torch.equal(FixedPointNetwork(net)(x), first)  # reused: the same result

    changes = {
        "load_state_dict": lambda: net.load_state_dict({k: v * 1.5 for k, v in original.items()}),
        "write through .data (no version bump)": lambda: net[2].weight.data.mul_(1.5),
        "assign .data": lambda: setattr(net[2].bias, "data", net[2].bias.data + 1),
        "in-place edit": lambda: net[2].bias.add_(0.25),
    }
    for name, change in changes.items():
        net.load_state_dict(original)
        assert torch.equal(FixedPointNetwork(net)(x), first), name
        change()
        changed = FixedPointNetwork(net)(x)
        assert torch.equal(changed, _reference(net, x)) and not torch.equal(changed, first), name
    assert torch.equal(before(x), first)  # a network built earlier keeps the weights it read
    net.double()
    assert torch.equal(FixedPointNetwork(net)(x), _reference(net, x))  # new dtype, derived again


@torch.no_grad()
def test_fixed_point_sees_a_one_ulp_weight_change() -> None:
    conv = nn.Conv2d(1, 1, 1, bias=False)
    conv.weight.fill_(2.0 ** -(WEIGHT_BITS + 1))  # half a step: rounds to 0 (half to even)
    x = torch.full((1, 1, 1, 1), 16.0)  # 2**14 on the activation grid
    assert FixedPointNetwork(nn.Sequential(conv))(x).item() == 0
    conv.weight.data.copy_(torch.nextafter(conv.weight.data, torch.tensor(1.0)))  # now rounds to 1
    assert FixedPointNetwork(nn.Sequential(conv))(x).item() == 2.0**-ACTIVATION_BITS
