"""The command line through ``main([...])``: compress, decompress, info, models and their errors."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from neuralcodec_testing import (
    DATA,
    TINY,
    compress,
    decompress,
    make_tiny_image,
    no_leftovers,
    one_line_error,
    usage_error,
)
from PIL import Image

from neuralcodec import Codec, api, container, registry
from neuralcodec.cli import main


def test_compress_then_decompress(
    image_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], tiny_image: Image.Image
) -> None:
    encoded, decoded = tmp_path / "tiny.ncc", tmp_path / "out.png"
    assert compress(image_file, "-q", "3.5", "-o", encoded) == 0
    out = capsys.readouterr().out
    assert f"{image_file} -> {encoded}" in out and "bpp" in out
    data = encoded.read_bytes()
    header, streams = container.unpack(data)
    assert (header.codec_id, header.quality, header.width, header.height) == (0, 3.5, 67, 45)
    assert decompress(encoded, "-o", decoded) == 0
    assert f"{encoded} -> {decoded}" in capsys.readouterr().out
    with Image.open(decoded) as image:
        assert image.format == "PNG" and image.size == (67, 45) and image.mode == "RGB"
        pixels = np.asarray(image)
    # The same as the API with the same weights.
    codec = Codec(TINY)
    assert codec.encode(tiny_image, 3.5) == data
    assert np.array_equal(pixels, np.asarray(codec.decode(data)))
    no_leftovers(tmp_path)


def test_default_output_names(image_file: Path, tmp_path: Path) -> None:
    assert compress(image_file) == 0
    encoded = tmp_path / "tiny.ncc"
    assert container.unpack(encoded.read_bytes())[0].quality == 3.0  # the default quality
    encoded.rename(tmp_path / "other.ncc")
    assert decompress(tmp_path / "other.ncc") == 0
    assert (tmp_path / "other.png").is_file()


def test_reference_prints_psnr(image_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert compress(image_file, "-o", tmp_path / "a.ncc") == 0
    assert decompress(tmp_path / "a.ncc", "-o", tmp_path / "a.png", "--reference", image_file) == 0
    assert "PSNR" in capsys.readouterr().out


def test_info(image_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    encoded = tmp_path / "tiny.ncc"
    assert compress(image_file, "-q", "2", "-o", encoded) == 0
    capsys.readouterr()
    assert main(["info", str(encoded)]) == 0
    out = capsys.readouterr().out
    fields = dict(line.split(None, 1) for line in out.splitlines()[1:])
    assert out.splitlines()[0] == f"{encoded}:"
    assert fields["codec"] == TINY
    assert fields["quality"] == "2.0000"
    assert (fields["width"], fields["height"], fields["mode"]) == ("67", "45", "RGB")
    assert fields["num_bytes"] == str(encoded.stat().st_size)
    assert fields["weights_id"] == f"{Codec(TINY).weights_id:08x}"


def test_models(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    for spec in registry.CODECS:
        assert f"id={spec.codec_id}" in out and spec.name in out
    tiny_line = next(line for line in out.splitlines() if line.startswith(TINY))
    assert "installed" in tiny_line and "not installed" not in tiny_line


def test_missing_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A runtime error: status 1, one line naming the file."""
    missing = "No such file or directory"
    one_line_error(compress(tmp_path / "missing.png"), capsys, f"{tmp_path / 'missing.png'}: {missing}", status=1)
    one_line_error(decompress(tmp_path / "missing.ncc"), capsys, f"{tmp_path / 'missing.ncc'}: {missing}", status=1)
    one_line_error(main(["info", str(tmp_path / "missing.ncc")]), capsys, "missing.ncc", status=1)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("quality", ["0", "9", "nan", "-1"])
def test_bad_quality(image_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], quality: str) -> None:
    """A usage error: status 2."""
    one_line_error(compress(image_file, "-q", quality, "-o", tmp_path / "out.ncc"), capsys, "quality", status=2)
    assert not (tmp_path / "out.ncc").exists()
    no_leftovers(tmp_path)


def test_unparsable_quality_is_a_usage_error(image_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        compress(image_file, "-q", "abc")
    assert caught.value.code == 2
    assert "Traceback" not in capsys.readouterr().err


def test_unreadable_image(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a png")
    one_line_error(compress(bad, "-o", tmp_path / "bad.ncc"), capsys, f"{bad}: cannot read", status=1)
    assert not (tmp_path / "bad.ncc").exists()


@pytest.mark.parametrize(
    ("corruption", "message"),
    [("garbage", "magic"), ("flipped", "corrupt"), ("truncated", "truncated"), ("empty", "shorter")],
)
def test_corrupt_ncc(
    image_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], corruption: str, message: str
) -> None:
    encoded = tmp_path / "tiny.ncc"
    assert compress(image_file, "-o", encoded) == 0
    data = bytearray(encoded.read_bytes())
    if corruption == "garbage":
        data = bytearray(b"garbage" * 10)
    elif corruption == "flipped":
        data[len(data) // 2] ^= 0x10
    elif corruption == "truncated":
        data = data[:-3]
    else:
        data = bytearray()
    encoded.write_bytes(bytes(data))
    capsys.readouterr()
    line = one_line_error(decompress(encoded, "-o", tmp_path / "out.png"), capsys, message, status=1)
    assert line.startswith(f"neuralcodec: error: {encoded}: ")  # the message names the file
    assert not (tmp_path / "out.png").exists()
    line = one_line_error(main(["info", str(encoded)]), capsys, message, status=1)
    assert line.startswith(f"neuralcodec: error: {encoded}: ")
    no_leftovers(tmp_path)


def test_existing_output_is_not_touched(image_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    existing = tmp_path / "out.ncc"
    existing.write_bytes(b"precious")
    one_line_error(compress(image_file, "-o", existing), capsys, "-f", status=1)
    assert existing.read_bytes() == b"precious"
    # decompress: tiny.ncc -> tiny.png, which is the original image.
    original = image_file.read_bytes()
    assert compress(image_file, "-o", tmp_path / "tiny.ncc") == 0
    capsys.readouterr()
    one_line_error(decompress(tmp_path / "tiny.ncc"), capsys, "exists", status=1)
    assert image_file.read_bytes() == original
    no_leftovers(tmp_path)


def test_existing_output_is_refused_before_encoding(
    image_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def never(*args: object, **kwargs: object) -> bytes:
        raise AssertionError("encoded although the output exists")

    monkeypatch.setattr(Codec, "encode", never)
    existing = tmp_path / "out.ncc"
    existing.write_bytes(b"precious")
    one_line_error(compress(image_file, "-o", existing), capsys, "exists", status=1)
    assert existing.read_bytes() == b"precious"


def test_output_appearing_during_encoding_is_not_overwritten(
    image_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "out.ncc"
    encode = Codec.encode

    def racing(self: Codec, *args: object, **kwargs: object) -> bytes:
        target.write_bytes(b"written meanwhile")
        return encode(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Codec, "encode", racing)
    one_line_error(compress(image_file, "-o", target), capsys, "exists", status=1)
    assert target.read_bytes() == b"written meanwhile"
    no_leftovers(tmp_path)


def test_force_overwrites(image_file: Path, tmp_path: Path) -> None:
    existing = tmp_path / "out.ncc"
    existing.write_bytes(b"old")
    assert compress(image_file, "-o", existing, "-f") == 0
    assert container.unpack(existing.read_bytes())[0].width == 67
    png = tmp_path / "out.png"
    png.write_bytes(b"old")
    assert decompress(existing, "-o", png, "--force") == 0
    with Image.open(png) as image:
        assert image.size == (67, 45)
    no_leftovers(tmp_path)


def test_output_cannot_replace_its_input(image_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    encoded = tmp_path / "tiny.ncc"
    assert compress(image_file, "-o", encoded) == 0
    data = encoded.read_bytes()
    capsys.readouterr()
    one_line_error(decompress(encoded, "-o", encoded, "-f"), capsys, "would overwrite the input", status=2)
    assert encoded.read_bytes() == data


def test_missing_output_folder(image_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = compress(image_file, "-o", tmp_path / "nowhere" / "out.ncc")
    one_line_error(code, capsys, "does not exist", status=1)
    second = tmp_path / "second.png"
    make_tiny_image(seed=5).save(second)
    one_line_error(compress(image_file, second, "-o", tmp_path / "nowhere"), capsys, "existing folder", status=2)
    assert not (tmp_path / "nowhere").exists()


def test_failed_output_leaves_no_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An image its format cannot hold (alpha in a JPEG) fails before anything is written."""
    source = tmp_path / "alpha.png"
    Image.new("RGBA", (20, 10), (10, 200, 30, 128)).save(source)
    assert compress(source, "-o", tmp_path / "alpha.ncc") == 0
    capsys.readouterr()
    one_line_error(decompress(tmp_path / "alpha.ncc", "-o", tmp_path / "out.jpg"), capsys, "RGBA", status=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["alpha.ncc", "alpha.png"]


def test_interrupted_write_leaves_no_partial_file(
    image_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    encoded = tmp_path / "tiny.ncc"
    assert compress(image_file, "-o", encoded) == 0

    def interrupted(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)  # after the temporary file is written
    assert decompress(encoded, "-o", tmp_path / "out.png") == 130
    assert not (tmp_path / "out.png").exists()
    no_leftovers(tmp_path)


def test_several_inputs_into_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sources = []
    for i, size in enumerate([(67, 45), (20, 31), (1, 1)]):
        path = tmp_path / f"img{i}.png"
        make_tiny_image(*size, seed=i).save(path)
        sources.append(path)
    encoded_dir, decoded_dir = tmp_path / "encoded", tmp_path / "decoded"
    encoded_dir.mkdir()
    decoded_dir.mkdir()
    assert compress(*sources, "-q", "2", "-o", encoded_dir) == 0
    encoded = sorted(encoded_dir.iterdir())
    assert [p.name for p in encoded] == ["img0.ncc", "img1.ncc", "img2.ncc"]
    assert decompress(*encoded, "-o", decoded_dir) == 0
    for i, size in enumerate([(67, 45), (20, 31), (1, 1)]):
        with Image.open(decoded_dir / f"img{i}.png") as image:
            assert image.size == size
    # A single input into an existing folder works the same way.
    single = tmp_path / "single"
    single.mkdir()
    assert compress(sources[0], "-q", "2", "-o", single) == 0
    assert (single / "img0.ncc").read_bytes() == (encoded_dir / "img0.ncc").read_bytes()


def test_bpp_target(image_file: Path, tmp_path: Path) -> None:
    lowest = Codec(TINY).encode(image_file, 1)
    highest = Codec(TINY).encode(image_file, 8)
    target = (len(lowest) + len(highest)) / 2 * 8 / (67 * 45)
    encoded = tmp_path / "target.ncc"
    assert compress(image_file, "--bpp", str(target), "-o", encoded) == 0
    info = api.read_info(encoded.read_bytes())
    assert info.bpp <= target and 1 < info.quality < 8


@pytest.mark.parametrize("bpp", ["0", "-1", "nan", "x"])
def test_bpp_must_be_positive(image_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], bpp: str) -> None:
    usage_error(capsys, "--bpp", "compress", "--codec", TINY, image_file, "--bpp", bpp, "-o", tmp_path / "out.ncc")
    assert not (tmp_path / "out.ncc").exists()


@pytest.mark.parametrize(("bpp", "quality"), [("0.001", 1), ("1000", 8)])
def test_bpp_out_of_reach(
    image_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], bpp: str, quality: int
) -> None:
    """Above the top quality's rate and below the lowest's behave alike: that end, a warning."""
    assert compress(image_file, "--bpp", bpp, "-o", tmp_path / "out.ncc") == 0
    assert api.read_info((tmp_path / "out.ncc").read_bytes()).quality == quality
    err = capsys.readouterr().err
    assert f"neuralcodec: warning: {image_file}: target {bpp} bpp is " in err
    assert f"coded at quality {quality}" in err


def test_quality_and_bpp_are_exclusive(image_file: Path) -> None:
    with pytest.raises(SystemExit) as caught:
        compress(image_file, "-q", "3", "--bpp", "1")
    assert caught.value.code == 2


def test_unknown_codec(image_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    usage_error(capsys, "invalid choice: 'nope'", "compress", image_file, "--codec", "nope", "-o", tmp_path / "x.ncc")


@pytest.mark.parametrize("where", ["before", "after"])
def test_debug_shows_the_traceback(tmp_path: Path, where: str) -> None:
    """``--debug`` goes before or after the command."""
    bad = tmp_path / "bad.ncc"
    bad.write_bytes(b"garbage")
    argv = ["--debug", "decompress", str(bad)] if where == "before" else ["decompress", str(bad), "--debug"]
    with pytest.raises(container.ContainerError):
        main(argv)


@pytest.mark.weights
def test_shipped_weights_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The default codec's shipped weights at q=3 on the sample photo: a sensible reconstruction."""
    monkeypatch.delenv("NEURALCODEC_WEIGHTS", raising=False)  # the repository's weights/
    sample = DATA / "sample.png"
    encoded, decoded = tmp_path / "sample.ncc", tmp_path / "sample.png"
    assert main(["compress", str(sample), "-q", "3", "-o", str(encoded)]) == 0
    assert api.read_info(encoded.read_bytes()).codec == registry.DEFAULT_CODEC
    assert main(["decompress", str(encoded), "-o", str(decoded)]) == 0
    with Image.open(sample) as a, Image.open(decoded) as b:
        original = np.asarray(a.convert("RGB"), dtype=np.float64)
        result = np.asarray(b.convert("RGB"), dtype=np.float64)
    mse = np.mean((original - result) ** 2)
    assert 10 * np.log10(255**2 / mse) > 25
