"""The public API with the tiny random-init codec: round trips, modes, limits and errors."""

from __future__ import annotations

import dataclasses
import inspect
import math
import time
import warnings

import numpy as np
import pytest
import torch
from neuralcodec_testing import TINY_WEIGHTS_ID, make_tiny_image
from PIL import Image

import neuralcodec
from neuralcodec import Codec, api, catalog, container, errors, registry
from neuralcodec.errors import (
    BitstreamError,
    NeuralcodecError,
    QualityError,
    UnsupportedImageError,
    WeightsMismatchError,
    WeightsNotFoundError,
)


def decode_array(codec: Codec, data: bytes) -> np.ndarray:
    return np.asarray(codec.decode(data))


def repack(data: bytes, streams: list[bytes] | None = None, **changes: object) -> bytes:
    """The same file with header fields or streams replaced (CRCs valid)."""
    header, old = container.unpack(data)
    return container.pack(dataclasses.replace(header, **changes), old if streams is None else streams)  # type: ignore[arg-type]


# -- round trips --------------------------------------------------------------------------------


@pytest.mark.parametrize("quality", [1, 3.5, 8])
def test_round_trip(tiny_codec: Codec, tiny_image: Image.Image, quality: float) -> None:
    data = tiny_codec.encode(tiny_image, quality)
    assert tiny_codec.encode(tiny_image, quality) == data  # identical bytes from two encodes
    first, second = tiny_codec.decode(data), tiny_codec.decode(data)
    assert first.size == tiny_image.size and first.mode == "RGB"
    assert np.array_equal(np.asarray(first), np.asarray(second))  # identical pixels
    header, streams = container.unpack(data)
    assert header == container.Header(0, TINY_WEIGHTS_ID, float(quality), "RGB", 45, 67, 1024, 0)
    assert len(streams) == 2 and all(len(s) >= 8 and len(s) % 4 == 0 for s in streams)


def test_rate_grows_with_quality(tiny_codec: Codec, tiny_image: Image.Image) -> None:
    sizes = [len(tiny_codec.encode(tiny_image, q)) for q in (1, 3.5, 8)]
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1]


def test_decoded_pixels_depend_on_the_file(tiny_codec: Codec, tiny_image: Image.Image) -> None:
    low = decode_array(tiny_codec, tiny_codec.encode(tiny_image, 1))
    high = decode_array(tiny_codec, tiny_codec.encode(tiny_image, 8))
    other = decode_array(tiny_codec, tiny_codec.encode(make_tiny_image(seed=1), 8))
    assert not np.array_equal(low, high)
    assert not np.array_equal(high, other)
    assert high.std() > 1  # not a flat image


def test_input_types_agree(tiny_codec: Codec, tiny_image: Image.Image, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "tiny.png"
    tiny_image.save(path)
    from_image = tiny_codec.encode(tiny_image, 2)
    assert tiny_codec.encode(np.asarray(tiny_image), 2) == from_image
    assert tiny_codec.encode(path, 2) == from_image
    assert tiny_codec.encode(str(path), 2) == from_image


def test_fractional_quality_is_coded_on_the_container_grid(tiny_codec: Codec, tiny_image: Image.Image) -> None:
    data = tiny_codec.encode(tiny_image, 3.3)
    coded = round(3.3 * 256) / 256
    assert container.unpack(data)[0].quality == coded
    assert tiny_codec.encode(tiny_image, coded) == data
    # The encoder codes at the rounded quality, the one the decoder reads: almost half a step
    # off, an unrounded gain would move some of the 9216 latents to another bin.
    image = make_tiny_image(256, 192, seed=6)
    quality = 7 + 1.49 / 256
    assert tiny_codec.encode(image, quality) == tiny_codec.encode(image, 7 + 1 / 256)


@pytest.mark.parametrize("size", [(1, 1), (17, 33), (33, 17), (64, 64), (65, 1)])
def test_odd_sizes(tiny_codec: Codec, size: tuple[int, int]) -> None:
    image = make_tiny_image(*size, seed=2)
    data = tiny_codec.encode(image, 5)
    decoded = tiny_codec.decode(data)
    assert decoded.size == size
    assert np.array_equal(np.asarray(decoded), decode_array(tiny_codec, data))


def test_large_odd_size(tiny_codec: Codec) -> None:
    image = make_tiny_image(513, 769, seed=4)
    data = tiny_codec.encode(image, 3)
    decoded = tiny_codec.decode(data)
    assert decoded.size == (513, 769)
    assert np.array_equal(np.asarray(decoded), decode_array(tiny_codec, data))
    assert tiny_codec.decode_latents(data).shape == (1, 12, 13 * 4, 9 * 4)


# -- image modes --------------------------------------------------------------------------------


def test_gray(tiny_codec: Codec, tiny_image: Image.Image) -> None:
    gray = tiny_image.convert("L")
    decoded = tiny_codec.decode(tiny_codec.encode(gray, 3))
    assert decoded.mode == "L" and decoded.size == gray.size
    # Coded as RGB with three equal planes.
    assert tiny_codec.encode(gray, 3) == repack(tiny_codec.encode(gray.convert("RGB"), 3), mode="L")


def _alpha(size: tuple[int, int]) -> Image.Image:
    rng = np.random.default_rng(9)
    return Image.fromarray(rng.integers(0, 256, (size[1], size[0]), dtype=np.uint8), "L")


def test_rgba_alpha_is_lossless(tiny_codec: Codec, tiny_image: Image.Image) -> None:
    rgba = tiny_image.copy()
    rgba.putalpha(_alpha(rgba.size))
    data = tiny_codec.encode(rgba, 3)
    decoded = tiny_codec.decode(data)
    assert decoded.mode == "RGBA" and decoded.size == rgba.size
    assert np.array_equal(np.asarray(decoded.getchannel("A")), np.asarray(rgba.getchannel("A")))
    header, streams = container.unpack(data)
    assert header.flags == container.FLAG_ALPHA and len(streams) == 3
    # The colour planes are coded as for the RGB image.
    assert streams[:2] == container.unpack(tiny_codec.encode(tiny_image, 3))[1]


def test_la_alpha_is_lossless(tiny_codec: Codec, tiny_image: Image.Image) -> None:
    la = tiny_image.convert("L")
    la.putalpha(_alpha(la.size))
    decoded = tiny_codec.decode(tiny_codec.encode(la, 3))
    assert decoded.mode == "LA" and decoded.size == la.size
    assert np.array_equal(np.asarray(decoded.getchannel("A")), np.asarray(la.getchannel("A")))


def test_palette_mode_and_palette_are_restored(tiny_codec: Codec, tiny_image: Image.Image) -> None:
    paletted = tiny_image.quantize(colors=16, dither=Image.Dither.NONE)
    palette = paletted.getpalette()
    data = tiny_codec.encode(paletted, 8)
    decoded = tiny_codec.decode(data)
    assert decoded.mode == "P" and decoded.size == paletted.size
    assert decoded.getpalette()[: len(palette)] == palette
    assert container.unpack(data)[0].flags == container.FLAG_PALETTE
    # Only the image's own colours: the palette's padding adds none (it once added black).
    colours = {tuple(c) for c in np.asarray(decoded.convert("RGB")).reshape(-1, 3)}
    assert colours <= {tuple(palette[i : i + 3]) for i in range(0, len(palette), 3)}


def test_palette_with_transparency_becomes_rgba(tiny_codec: Codec, tiny_image: Image.Image) -> None:
    paletted = tiny_image.quantize(colors=8, dither=Image.Dither.NONE)
    paletted.info["transparency"] = 0
    expected_alpha = np.asarray(paletted.convert("RGBA").getchannel("A"))
    decoded = tiny_codec.decode(tiny_codec.encode(paletted, 3))
    assert decoded.mode == "RGBA"
    assert np.array_equal(np.asarray(decoded.getchannel("A")), expected_alpha)


def test_bilevel_mode_is_restored(tiny_codec: Codec, tiny_image: Image.Image) -> None:
    bilevel = tiny_image.convert("L").convert("1", dither=Image.Dither.NONE)
    decoded = tiny_codec.decode(tiny_codec.encode(bilevel, 3))
    assert decoded.mode == "1" and decoded.size == bilevel.size


def _sixteen_bit() -> tuple[Image.Image, Image.Image]:
    """A 16-bit image and its expected 8-bit reduction (round(v / 257))."""
    values = np.asarray(make_tiny_image().convert("L"), dtype=np.uint16) * 257
    values = values + np.arange(values.size, dtype=np.uint16).reshape(values.shape) % 200
    image = Image.fromarray(values)
    assert image.mode == "I;16"
    return image, Image.fromarray(np.round(values / 257).astype(np.uint8), "L")


def test_sixteen_bit_is_decoded_as_gray_with_a_warning(tiny_codec: Codec, tmp_path) -> None:  # type: ignore[no-untyped-def]
    image, eight_bit = _sixteen_bit()
    with pytest.warns(UserWarning, match="8 bits"):
        data = tiny_codec.encode(image, 3)
    assert data == tiny_codec.encode(eight_bit, 3)
    decoded = tiny_codec.decode(data)
    assert decoded.mode == "L" and decoded.size == image.size
    path = tmp_path / "sixteen.png"  # Pillow opens 16-bit PNGs as I;16 or I
    image.save(path)
    with pytest.warns(UserWarning, match="8 bits"):
        assert tiny_codec.encode(path, 3) == data


def test_other_colour_spaces_are_coded_as_rgb(tiny_codec: Codec, tiny_image: Image.Image) -> None:
    decoded = tiny_codec.decode(tiny_codec.encode(tiny_image.convert("CMYK"), 3))
    assert decoded.mode == "RGB" and decoded.size == tiny_image.size


def test_arrays(tiny_codec: Codec, tiny_image: Image.Image) -> None:
    rgb = np.asarray(tiny_image)
    assert tiny_codec.decode(tiny_codec.encode(rgb[..., 0], 3)).mode == "L"
    assert tiny_codec.encode(rgb[..., :1], 3) == tiny_codec.encode(rgb[..., 0], 3)
    rgba = np.dstack([rgb, np.full(rgb.shape[:2], 7, np.uint8)])
    decoded = tiny_codec.decode(tiny_codec.encode(rgba, 3))
    assert decoded.mode == "RGBA" and set(np.unique(np.asarray(decoded)[..., 3])) == {7}


@pytest.mark.parametrize(
    "array",
    [
        np.zeros((4, 4, 3), np.float32),
        np.zeros((4, 4, 3), np.uint16),
        np.zeros((4, 4, 2), np.uint8),
        np.zeros((4,), np.uint8),
        np.zeros((2, 4, 4, 3), np.uint8),
    ],
    ids=["float", "uint16", "2-channel", "1-d", "4-d"],
)
def test_unsupported_arrays(tiny_codec: Codec, array: np.ndarray) -> None:
    with pytest.raises(UnsupportedImageError):
        tiny_codec.encode(array, 3)


def test_exif_orientation_is_applied(tiny_codec: Codec, tiny_image: Image.Image, tmp_path) -> None:  # type: ignore[no-untyped-def]
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    path = tmp_path / "rotated.png"
    tiny_image.save(path, exif=exif)
    upright = tiny_image.transpose(Image.Transpose.ROTATE_270)
    assert upright.size == (45, 67)
    data = tiny_codec.encode(path, 3)
    assert data == tiny_codec.encode(upright, 3)
    assert tiny_codec.decode(data).size == (45, 67)
    with Image.open(path) as opened:  # an already-open image, too
        assert tiny_codec.encode(opened, 3) == data


# -- errors -------------------------------------------------------------------------------------


def test_other_weights_are_refused(tiny_codec: Codec, tiny_image: Image.Image) -> None:
    data = tiny_codec.encode(tiny_image, 3)
    other = Codec.from_model(tiny_codec.spec, tiny_codec.model, TINY_WEIGHTS_ID + 1)
    with pytest.raises(WeightsMismatchError, match="weights"):
        other.decode(data)
    with pytest.raises(WeightsMismatchError):
        other.decode_latents(data)
    assert other.decode(other.encode(tiny_image, 3)).size == tiny_image.size


def test_other_codec_is_refused(tiny_codec: Codec, tiny_image: Image.Image) -> None:
    data = repack(tiny_codec.encode(tiny_image, 3), codec_id=1)
    with pytest.raises(WeightsMismatchError, match="codec id 1"):
        tiny_codec.decode(data)
    impostor = Codec.from_model(registry.get("hyperprior"), tiny_codec.model, TINY_WEIGHTS_ID)
    with pytest.raises(WeightsMismatchError):
        impostor.decode(tiny_codec.encode(tiny_image, 3))


def test_module_level_decode_uses_the_header_codec(tiny_codec: Codec, tiny_image: Image.Image) -> None:
    data = tiny_codec.encode(tiny_image, 3)
    with pytest.raises(WeightsNotFoundError):  # test-tiny ships no weights
        neuralcodec.decode(data)
    with pytest.raises(BitstreamError, match="unknown codec id 200"):
        neuralcodec.decode(repack(data, codec_id=200))
    with pytest.raises(BitstreamError, match="unknown codec id 200"):
        api.read_info(repack(data, codec_id=200))


@pytest.mark.parametrize("quality", [0, 0.5, 9, 8.01, -3, math.nan, math.inf, "abc", None])
def test_quality_errors(tiny_codec: Codec, tiny_image: Image.Image, quality: object) -> None:
    with pytest.raises(QualityError):
        tiny_codec.encode(tiny_image, quality)  # type: ignore[arg-type]


def test_quality_outside_the_range_in_a_file(tiny_codec: Codec, tiny_image: Image.Image) -> None:
    for quality in (0.0, 0.5, 9.0, 255.0):
        data = repack(tiny_codec.encode(tiny_image, 3), quality=quality)
        with pytest.raises(BitstreamError, match="quality"):  # a corrupt file, not a bad argument
            tiny_codec.decode(data)


def test_unreadable_files(tiny_codec: Codec, tiny_image: Image.Image, tmp_path) -> None:  # type: ignore[no-untyped-def]
    garbage = tmp_path / "garbage.png"
    garbage.write_bytes(b"this is not an image")
    good = tmp_path / "good.png"
    tiny_image.save(good)
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(good.read_bytes()[:200])
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    for path in (garbage, truncated, empty, tmp_path / "missing.png", tmp_path):
        with pytest.raises(UnsupportedImageError):
            tiny_codec.encode(path, 3)


def test_float_and_empty_images(tiny_codec: Codec, tiny_image: Image.Image) -> None:
    with pytest.raises(UnsupportedImageError, match="mode F"):
        tiny_codec.encode(tiny_image.convert("F"), 3)
    with pytest.raises(UnsupportedImageError, match="empty"):
        tiny_codec.encode(Image.new("RGB", (0, 5)), 3)


def test_max_pixels_on_encode(tiny_codec: Codec, tiny_image: Image.Image) -> None:
    limit = 67 * 45
    small = Codec.from_model(tiny_codec.spec, tiny_codec.model, TINY_WEIGHTS_ID, max_pixels=limit - 1)
    with pytest.raises(UnsupportedImageError, match="limit"):
        small.encode(tiny_image, 3)
    with pytest.raises(UnsupportedImageError, match="limit"):
        small.encode_to_bpp(tiny_image, 2.0)
    exact = Codec.from_model(tiny_codec.spec, tiny_codec.model, TINY_WEIGHTS_ID, max_pixels=limit)
    assert exact.encode(tiny_image, 3) == tiny_codec.encode(tiny_image, 3)


def test_max_pixels_on_decode(tiny_codec: Codec, tiny_image: Image.Image) -> None:
    data = tiny_codec.encode(tiny_image, 3)
    small = Codec.from_model(tiny_codec.spec, tiny_codec.model, TINY_WEIGHTS_ID, max_pixels=67 * 45 - 1)
    with pytest.raises(UnsupportedImageError, match="limit"):
        small.decode(data)
    with pytest.raises(UnsupportedImageError, match="limit"):
        small.decode_latents(data)


def test_huge_header_is_refused_before_decoding(
    tiny_codec: Codec, tiny_image: Image.Image, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 2**62-pixel header must fail on the limit, before any latent or pixel is allocated."""

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("decoding started")

    huge = repack(tiny_codec.encode(tiny_image, 3), height=2**31 - 1, width=2**31 - 1)
    monkeypatch.setattr(tiny_codec.model, "decompress", never)
    monkeypatch.setattr(tiny_codec.model, "decompress_latents", never)
    monkeypatch.setattr(torch, "zeros", never)
    monkeypatch.setattr(torch, "empty", never)
    start = time.perf_counter()
    with pytest.raises(UnsupportedImageError, match="limit"):
        tiny_codec.decode(huge)
    with pytest.raises(UnsupportedImageError, match="limit"):
        tiny_codec.decode_latents(huge)
    assert time.perf_counter() - start < 1
    assert api.DEFAULT_MAX_PIXELS == tiny_codec.max_pixels == 2**26


def test_encode_to_bpp(tiny_codec: Codec, tiny_image: Image.Image) -> None:
    pixels = 67 * 45
    low = len(tiny_codec.encode(tiny_image, 1)) * 8 / pixels
    high = len(tiny_codec.encode(tiny_image, 8)) * 8 / pixels
    assert low < high
    target = (low + high) / 2
    data = tiny_codec.encode_to_bpp(tiny_image, target)
    quality = container.unpack(data)[0].quality
    assert len(data) * 8 / pixels <= target
    assert 1 < quality < 8
    assert tiny_codec.encode(tiny_image, quality) == data  # an ordinary file at that quality
    assert tiny_codec.decode(data).size == tiny_image.size
    # A looser target never picks a smaller file.
    looser = tiny_codec.encode_to_bpp(tiny_image, (target + high) / 2)
    assert len(looser) >= len(data)
    assert len(tiny_codec.encode_to_bpp(tiny_image, low)) * 8 / pixels <= low


@pytest.mark.parametrize(("target", "quality"), [(0.01, 1), ("top", 8), ("100 x top", 8)])
def test_encode_to_bpp_out_of_reach(
    tiny_codec: Codec, tiny_image: Image.Image, target: float | str, quality: int
) -> None:
    """Both ends alike: the nearest end of the quality range, with a warning that says so."""
    top = len(tiny_codec.encode(tiny_image, 8)) * 8 / (67 * 45)
    bpp = {"top": top, "100 x top": 100 * top}.get(target, target)  # type: ignore[call-overload]
    side = "below the lowest" if quality == 1 else "at or above the highest"
    with pytest.warns(UserWarning, match=f"{side} quality's .* bpp; coded at quality {quality}$"):
        assert tiny_codec.encode_to_bpp(tiny_image, bpp) == tiny_codec.encode(tiny_image, quality)


@pytest.mark.parametrize("bpp", [0.0, -1.0, math.nan])
def test_encode_to_bpp_needs_a_positive_target(tiny_codec: Codec, tiny_image: Image.Image, bpp: float) -> None:
    with pytest.raises(QualityError, match="positive"):
        tiny_codec.encode_to_bpp(tiny_image, bpp)


@pytest.mark.parametrize("size", [(1, 1), (67, 45), (17, 33), (129, 64)])
def test_decode_latents_shape(tiny_codec: Codec, size: tuple[int, int]) -> None:
    width, height = size
    data = tiny_codec.encode(make_tiny_image(width, height), 4)
    y_hat = tiny_codec.decode_latents(data)
    assert y_hat.shape == (1, 12, math.ceil(height / 64) * 4, math.ceil(width / 64) * 4)
    assert y_hat.dtype == torch.float32 and bool(torch.isfinite(y_hat).all())


def test_every_exception_is_a_neuralcodec_error() -> None:
    classes = [getattr(errors, name) for name in errors.__all__] + [container.ContainerError]
    assert len(classes) >= 8
    for cls in classes:
        assert issubclass(cls, NeuralcodecError), cls
    public = [obj for _, obj in inspect.getmembers(neuralcodec, inspect.isclass) if issubclass(obj, Exception)]
    assert all(issubclass(cls, NeuralcodecError) for cls in public)
    assert issubclass(WeightsNotFoundError, FileNotFoundError)  # callers may catch either
    for cls in (BitstreamError, QualityError, UnsupportedImageError):
        assert issubclass(cls, ValueError)


def test_truncated_and_flipped_files(tiny_codec: Codec, tiny_image: Image.Image) -> None:
    data = tiny_codec.encode(tiny_image, 3)
    for cut in (0, 10, len(data) // 2, len(data) - 1):
        with pytest.raises(BitstreamError):
            tiny_codec.decode(data[:cut])
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0x40
    with pytest.raises(BitstreamError):
        tiny_codec.decode(bytes(flipped))


def test_corrupt_streams_with_valid_crc(tiny_codec: Codec, tiny_image: Image.Image) -> None:
    """Random entropy-coded bytes (valid rANS lengths) in the z or the y stream: a BitstreamError
    or an image from finite samples, never a crash, a hang or NaN pixels."""
    data = tiny_codec.encode(tiny_image, 3)
    _, streams = container.unpack(data)
    outcomes: dict[int, set[str]] = {0: set(), 1: set()}
    for which in (0, 1):
        for seed in range(12):
            rng = np.random.default_rng(seed)
            corrupt = list(streams)
            corrupt[which] = rng.bytes(4 * int(rng.integers(2, 300)))
            start = time.perf_counter()
            try:
                decoded = tiny_codec.decode(repack(data, corrupt))
            except BitstreamError:
                outcomes[which].add("error")
            else:
                assert decoded.size == tiny_image.size and decoded.mode == "RGB"
                # An image only comes from finite samples (NaN -> uint8 is undefined behaviour).
                x_hat = tiny_codec.model.decompress(corrupt, (4, 8), 3.0, 1024)
                assert bool(torch.isfinite(x_hat).all())
                outcomes[which].add("image")
            try:
                y_hat = tiny_codec.decode_latents(repack(data, corrupt))
            except BitstreamError:
                pass
            else:
                assert bool(torch.isfinite(y_hat).all())
            assert time.perf_counter() - start < 5
    # Both outcomes are exercised: a corrupt z typically gives non-finite samples, a corrupt y
    # a (wrong) finite image.
    assert outcomes[0] | outcomes[1] == {"error", "image"}, outcomes


@pytest.mark.parametrize(
    "streams",
    [
        lambda s: [s[0]],  # a stream missing
        lambda s: [*s, b"\x00" * 8],  # one too many
        lambda s: [s[0], s[1][:5]],  # length impossible for rANS
        lambda s: [b"", s[1]],
    ],
    ids=["missing", "extra", "odd-length", "empty"],
)
def test_wrong_streams(tiny_codec: Codec, tiny_image: Image.Image, streams) -> None:  # type: ignore[no-untyped-def]
    data = tiny_codec.encode(tiny_image, 3)
    bad = repack(data, streams(container.unpack(data)[1]))
    with pytest.raises(BitstreamError):
        tiny_codec.decode(bad)


def test_missing_extra_streams(tiny_codec: Codec, tiny_image: Image.Image) -> None:
    rgba = tiny_image.copy()
    rgba.putalpha(_alpha(rgba.size))
    data = tiny_codec.encode(rgba, 3)
    header, streams = container.unpack(data)
    with pytest.raises(BitstreamError):  # RGBA without its alpha plane
        tiny_codec.decode(container.pack(dataclasses.replace(header, flags=0), streams[:2]))
    with pytest.raises(BitstreamError, match="alpha"):  # an alpha plane of the wrong size
        tiny_codec.decode(repack(data, [*streams[:2], __import__("zlib").compress(b"\x00" * 10)]))
    with pytest.raises(BitstreamError, match="alpha"):  # not zlib
        tiny_codec.decode(repack(data, [*streams[:2], b"not zlib"]))
    paletted = tiny_codec.encode(tiny_image.quantize(colors=4), 3)
    header, streams = container.unpack(paletted)
    with pytest.raises(BitstreamError, match="palette"):
        tiny_codec.decode(repack(paletted, [*streams[:2], b"\x00" * 767]))


def test_read_info(tiny_codec: Codec, tiny_image: Image.Image) -> None:
    data = tiny_codec.encode(tiny_image, 2.5)
    info = api.read_info(data)
    assert info.codec == "test-tiny" and info.quality == 2.5
    assert (info.width, info.height, info.mode) == (67, 45, "RGB")
    assert info.weights_id == "01020304"
    assert info.num_bytes == len(data) and info.bpp == len(data) * 8 / (67 * 45)
    assert sum(info.stream_bytes) + container.header_size(2) == len(data)
    assert info.format_version == 2 and info.tile_size == api.DEFAULT_TILE_SIZE


def test_available_codecs_lists_the_registry() -> None:
    rows = catalog.available_codecs()
    assert [(r.name, r.codec_id) for r in rows] == [(s.name, s.codec_id) for s in registry.CODECS]
    tiny = next(r for r in rows if r.name == "test-tiny")
    assert not tiny.installed and tiny.weights == "(none shipped)"


def test_no_warnings_for_ordinary_images(tiny_codec: Codec, tiny_image: Image.Image) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tiny_codec.decode(tiny_codec.encode(tiny_image, 3))
