"""Hostile input: size limits checked on headers before any pixel is decoded, decompression
bombs, truncated and corrupt images, and regressions for what the fuzzer (eval/fuzz) found."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

import numpy as np
import pytest
from neuralcodec_testing import TINY_WEIGHTS_ID
from PIL import Image, ImageFile

from neuralcodec import Codec, pixels
from neuralcodec.cli import main
from neuralcodec.errors import PixelLimitError, UnsupportedImageError

ROOT = Path(__file__).resolve().parent.parent


def png_header_only(width: int, height: int) -> bytes:
    """A well-formed PNG declaring ``width`` x ``height`` RGB, with a few bytes of pixel data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
            + chunk(b"IEND", b""))


@pytest.fixture
def no_pixel_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to decode pixels from a file fails the test."""

    def refuse(self: ImageFile.ImageFile) -> None:
        raise AssertionError(f"pixels of a {self.size} image were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)


def small_codec(tiny_codec: Codec, max_pixels: int) -> Codec:
    return Codec.from_model(tiny_codec.spec, tiny_codec.model, TINY_WEIGHTS_ID, max_pixels=max_pixels)


# -- image size limits -----------------------------------------------------------------------------


@pytest.mark.usefixtures("no_pixel_decoding")
@pytest.mark.parametrize("pillow_limit", ["default", "disabled"])
def test_huge_png_header_is_refused_before_decoding(
    tiny_codec: Codec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pillow_limit: str
) -> None:
    """A 100k x 100k PNG of 100 bytes: refused on its header, by Pillow's bomb check or ours;
    either way the error is our limit's (Pillow's is below twice ours)."""
    if pillow_limit == "disabled":
        monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    path = tmp_path / "bomb.png"
    path.write_bytes(png_header_only(100_000, 100_000))
    with pytest.raises(PixelLimitError, match=f"over the {2**26}-pixel limit \\(raise max_pixels\\)") as caught:
        tiny_codec.encode(path, 3)
    assert caught.value.limit == 2**26
    with pytest.raises(UnsupportedImageError):
        pixels.open_image(io.BytesIO(path.read_bytes()), max_pixels=2**26)  # type: ignore[arg-type]


@pytest.mark.usefixtures("no_pixel_decoding")
def test_max_pixels_is_checked_on_the_file_header(tiny_codec: Codec, tmp_path: Path) -> None:
    path = tmp_path / "wide.png"
    path.write_bytes(png_header_only(300, 200))
    with pytest.raises(UnsupportedImageError, match="300x200 is over the 59999-pixel limit"):
        small_codec(tiny_codec, 300 * 200 - 1).encode(path, 3)
    with pytest.raises(UnsupportedImageError, match="limit"):
        small_codec(tiny_codec, 300 * 200 - 1).encode_to_bpp(path, 1.0)


def test_max_pixels_on_arrays_and_images(tiny_codec: Codec) -> None:
    array = np.zeros((20, 30, 3), np.uint8)
    for source in (array, Image.fromarray(array)):
        with pytest.raises(UnsupportedImageError, match="limit"):
            pixels.open_image(source, max_pixels=599)
        assert pixels.open_image(source, max_pixels=600).size == (30, 20)
    assert pixels.open_image(array).size == (30, 20)  # no limit by default


def test_pillow_decompression_bomb_error_is_typed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big.png"
    Image.new("RGB", (100, 100)).save(path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # errors above 2x this
    with pytest.raises(UnsupportedImageError, match="MAX_IMAGE_PIXELS"):
        pixels.open_image(path)


def test_cli_max_pixels_applies_to_compress(
    tmp_path: Path, tiny_image: Image.Image, capsys: pytest.CaptureFixture[str], installed_tiny: object
) -> None:
    source, target = tmp_path / "tiny.png", tmp_path / "tiny.ncc"
    tiny_image.save(source)  # 67 x 45
    code = main(["compress", "--codec", "test-tiny", str(source), "-o", str(target), "--max-pixels", "3014"])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1
    assert f"{source}: 67x45 is over the 3014-pixel limit (raise it with --max-pixels)" in err
    assert not target.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["tiny.png"]
    code = main(["compress", "--codec", "test-tiny", str(source), "-o", str(target), "--max-pixels", "3015"])
    assert code == 0 and target.is_file()
    code = main(["decompress", str(target), "-o", str(tmp_path / "out.png"), "--max-pixels", "3014"])
    assert code == 1 and "limit (raise it with --max-pixels)" in capsys.readouterr().err


# -- corrupt images --------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated_and_corrupt_images_raise_typed_errors(tiny_codec: Codec, tiny_image: Image.Image, fmt: str) -> None:
    buffer = io.BytesIO()
    tiny_image.save(buffer, format=fmt)
    data = buffer.getvalue()
    rng = np.random.default_rng(0)
    corrupt = [data[:cut] for cut in range(0, len(data), max(1, len(data) // 40))]
    for _ in range(20):
        flipped = bytearray(data)
        flipped[rng.integers(8, len(data))] ^= 0xFF
        corrupt.append(bytes(flipped))
    for sample in corrupt:
        try:
            tiny_codec.encode(io.BytesIO(sample), 3)  # type: ignore[arg-type]
        except UnsupportedImageError:
            pass


# -- decode path -------------------------------------------------------------------------------------

_SHORT_STREAM = textwrap.dedent(
    """
    import numpy as np, torch
    from neuralcodec import Codec, container, registry
    from neuralcodec.errors import NeuralcodecError
    from neuralcodec_testing import TINY, TINY_WEIGHTS_ID, make_tiny_model
    torch.set_num_threads(1)
    codec = Codec.from_model(registry.get(TINY), make_tiny_model(), TINY_WEIGHTS_ID)
    header, streams = container.unpack(codec.encode(np.full((2048, 2048, 3), 128, np.uint8), 3.0))
    hostile = container.pack(header, [bytes(8)] + streams[1:])  # z: 8 zero bytes for 8192 symbols
    try:
        codec.decode_latents(hostile)
    except NeuralcodecError as error:
        print("typed error:", error)
    """
)


def test_short_entropy_stream_for_a_large_image_does_not_crash() -> None:
    """A valid file with an 8-byte z stream and a 2048x2048 header used to segfault the decoder.

    compressai's ``RansDecoder.decode_with_indexes`` has no bounds check: each symbol may
    renormalise by reading the next 32-bit word, so 8192 z symbols read ~32 KB past 8 bytes.
    Fixed by zero-padding streams to the decoder's read bound (models/hyperprior.py ``_bounded``).
    Run in a subprocess: a regression is a segfault.
    """
    result = subprocess.run([sys.executable, "-c", _SHORT_STREAM], cwd=ROOT, capture_output=True,
                            text=True, timeout=300, env={"PYTHONPATH": f"{ROOT}:{ROOT / 'tests'}",
                                                         "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, f"decoder died with status {result.returncode}: {result.stderr[-500:]}"


#: Found by ``python -m eval.fuzz --target decode`` (build/fuzz-final, 2026-11-23): a 58-byte
#: hyperprior file, 513x129 (mode 1, one 65536-pixel tile), an 8-byte z stream and a 12-byte y
#: stream. Decoding 9x33x192 y symbols from 12 bytes ran compressai's rANS decoder ~200 KB
#: past the end of the stream: segfault in GaussianConditional.decompress (fixed by ``models.coding.bounded``).
_FUZZ_CRASH_58 = bytes.fromhex(
    "4e430201583ecc690300050000000081000002011002000000080000000cb0aba8c2b4be9f34eb38f1fcb2c306"
    "00caf2d9d0ae340100ecdfb6ff"
)


@pytest.mark.weights
def test_fuzzer_crash_with_shipped_weights_is_a_typed_error(tmp_path: Path) -> None:
    """The CLI decodes the file (to garbage) or refuses it with one line; it never dies."""
    path = tmp_path / "crash.ncc"
    path.write_bytes(_FUZZ_CRASH_58)
    result = subprocess.run([sys.executable, "-m", "neuralcodec.cli", "decompress", str(path), "-o",
                             str(tmp_path / "out.png")], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode in (0, 1), f"decoder died with status {result.returncode}: {result.stderr[-500:]}"


@pytest.mark.usefixtures("installed_tiny")
def test_cli_max_pixels_above_pillows_bomb_limit(tmp_path: Path, tiny_image: Image.Image,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """``--max-pixels`` is the one limit: Pillow's (lower) bomb limit does not refuse the file."""
    source, target = tmp_path / "tiny.png", tmp_path / "tiny.ncc"
    tiny_image.save(source)  # 67 x 45 = 3015 pixels, over 2x a bomb limit of 1000
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    with pytest.raises(UnsupportedImageError, match="MAX_IMAGE_PIXELS"):
        pixels.open_image(source)
    assert main(["compress", "--codec", "test-tiny", str(source), "-o", str(target), "--max-pixels", "4000"]) == 0
    assert target.is_file()
