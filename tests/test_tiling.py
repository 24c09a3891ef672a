"""Tiled coding: transforms tile by tile equal the whole-image pass; one y stream per tile."""

from __future__ import annotations

import dataclasses
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch
from neuralcodec_testing import make_tiny_image, make_tiny_model, usage_error
from torch import Tensor

from neuralcodec import container, pixels
from neuralcodec.api import Codec
from neuralcodec.errors import BitstreamError, TileSizeError
from neuralcodec.models import MeanScaleHyperprior
from neuralcodec.models.fixed_point import FixedPointNetwork
from neuralcodec.models.tiling import (
    Window,
    map_window,
    num_tiles,
    tile_windows,
    tiled_map,
    window_map,
)

WIDTH, HEIGHT = 300, 200  # 5 x 4 tiles of 64 pixels once padded to 320 x 256


@pytest.fixture(scope="module")
def model() -> MeanScaleHyperprior:
    return make_tiny_model(seed=1)


@pytest.fixture(scope="module")
def x() -> Tensor:
    image = np.asarray(make_tiny_image(WIDTH, HEIGHT, seed=5))
    return pixels.pad_to_multiple(pixels.to_tensor(image), 64)


def test_windows_cover_the_grid_once() -> None:
    windows = list(tile_windows(10, 7, 4))
    assert len(windows) == num_tiles(10, 7, 4) == 6
    covered = np.zeros((10, 7), dtype=int)
    for w in windows:
        covered[w.top : w.bottom, w.left : w.right] += 1
    assert (covered == 1).all()
    assert windows[-1] == Window(8, 10, 4, 7)


def test_window_scaling_must_land_on_the_grid() -> None:
    assert Window(4, 8, 0, 12).scaled(Fraction(1, 4)) == Window(1, 2, 0, 3)
    with pytest.raises(ValueError, match="grid"):
        Window(2, 8, 0, 12).scaled(Fraction(1, 4))


@torch.inference_mode()
@pytest.mark.parametrize(
    ("part", "scale", "tile", "margin"),
    [("g_a", Fraction(1, 16), 64, 64), ("h_a", Fraction(1, 4), 4, 8), ("g_s", Fraction(16), 4, 4)],
)
def test_tiled_transforms_equal_the_whole_image_pass(
    model: MeanScaleHyperprior, x: Tensor, part: str, scale: Fraction, tile: int, margin: int
) -> None:
    transform = getattr(model, part)
    inputs = {"g_a": x, "h_a": model.g_a(x), "g_s": model.g_a(x)}[part]
    whole = transform(inputs)
    tiled = tiled_map(transform, inputs, scale, tile, margin)
    torch.testing.assert_close(tiled, whole, atol=1e-5, rtol=1e-5)
    # Without context the tiles would see zero padding at every seam: the margin matters.
    seams = tiled_map(transform, inputs, scale, tile, 0)
    assert not torch.allclose(seams, whole, atol=1e-3)


@torch.inference_mode()
def test_tiled_exact_hyper_decoder_is_bit_identical(model: MeanScaleHyperprior, x: Tensor) -> None:
    z_hat = torch.round(model.h_a(model.g_a(x)))  # (1, N, 4, 5)
    h_s = FixedPointNetwork(model.h_s)
    assert torch.equal(tiled_map(h_s, z_hat, Fraction(4), 2, 4), h_s(z_hat))


@torch.inference_mode()
@pytest.mark.parametrize(("tile", "calls"), [(3, 1), (2, 5 * 6)], ids=["whole-z", "per-window"])
def test_window_map_gives_the_windows_of_map_window(
    model: MeanScaleHyperprior, tile: int, calls: int
) -> None:
    """h_s runs once on the whole z when it fits in a tile with its context (9 x 11 in 3 + 2 * 4),
    else once per window; either way every window is bit-identical to map_window's."""
    generator = torch.Generator().manual_seed(3)
    z_hat = torch.randint(-6, 7, (1, model.config.N, 9, 11), generator=generator).float()
    h_s = FixedPointNetwork(model.h_s)
    inputs: list[Tensor] = []

    def counted(z: Tensor) -> Tensor:
        inputs.append(z)
        return h_s(z)

    at = window_map(counted, z_hat, Fraction(4), tile, 4)
    for window in tile_windows(*z_hat.shape[-2:], tile):
        assert torch.equal(at(window), map_window(h_s, z_hat, window, Fraction(4), 4))
    assert len(inputs) == calls


@pytest.fixture(scope="module")
def codec(model: MeanScaleHyperprior) -> Codec:
    from neuralcodec import registry

    return Codec.from_model(registry.get("test-tiny"), model, weights_id=7)


def test_tiled_file_has_one_y_stream_per_tile_and_decodes(codec: Codec) -> None:
    image = make_tiny_image(WIDTH, HEIGHT, seed=5)
    whole, tiled = codec.encode(image, 3.0), codec.encode(image, 3.0, tile_size=64)
    header, streams = container.unpack(tiled)
    assert header.tile_size == 64 and len(streams) == 1 + 5 * 4
    assert len(container.unpack(whole)[1]) == 2
    # Same latents apart from float summation order; per-tile coding costs a few bytes a tile.
    y_whole, y_tiled = codec.decode_latents(whole), codec.decode_latents(tiled)
    assert (y_whole != y_tiled).float().mean() < 1e-3
    assert 0 < len(tiled) - len(whole) < 20 * 20
    a = np.asarray(codec.decode(whole), dtype=float)
    b = np.asarray(codec.decode(tiled), dtype=float)
    assert np.abs(a - b).mean() < 0.05  # no seams: the decoder's tiles have context too


def test_tile_size_is_checked(codec: Codec) -> None:
    image = make_tiny_image(64 * 260, 1)
    with pytest.raises(TileSizeError, match="power of two"):
        codec.encode(image, 3.0, tile_size=100)
    with pytest.raises(TileSizeError, match="too many tiles"):
        codec.encode(image, 3.0, tile_size=64)
    assert container.unpack(codec.encode(image, 3.0))[0].tile_size == 1024


def test_a_stream_count_that_disagrees_with_the_tiling_is_rejected(codec: Codec) -> None:
    header, streams = container.unpack(codec.encode(make_tiny_image(WIDTH, HEIGHT), 3.0))
    relabelled = container.pack(dataclasses.replace(header, tile_size=64), streams)
    with pytest.raises(BitstreamError, match="64-pixel tiles"):
        codec.decode(relabelled)


def test_cli_tile_size(tmp_path: Path, codec: Codec, monkeypatch: pytest.MonkeyPatch,
                       capsys: pytest.CaptureFixture[str]) -> None:
    from neuralcodec import api, cli

    monkeypatch.setattr(api, "Codec", lambda *args, **kwargs: codec)
    source = tmp_path / "image.png"
    make_tiny_image(WIDTH, HEIGHT).save(source)
    assert cli.main(["compress", str(source), "--tile-size", "64"]) == 0
    assert container.unpack((tmp_path / "image.ncc").read_bytes())[0].tile_size == 64
    usage_error(capsys, "48 is not a power of two", "compress", source, "-f", "--tile-size", "48")
