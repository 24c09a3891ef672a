"""The command line through ``main([...])``, with test-tiny registered with exported weights."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from neuralcodec_testing import DATA, TINY, make_tiny_image
from PIL import Image

from neuralcodec import Codec, api, container, registry
from neuralcodec.cli import main


@pytest.fixture(autouse=True)
def _tiny_installed(request: pytest.FixtureRequest) -> None:
    """Every test but the shipped-weights one sees test-tiny registered with exported weights."""
    if request.node.get_closest_marker("weights") is None:
        request.getfixturevalue("installed_tiny")


@pytest.fixture(autouse=True)
def _restore_formatwarning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(warnings, "formatwarning", warnings.formatwarning)  # main() replaces it


@pytest.fixture
def image_file(tmp_path: Path, tiny_image: Image.Image) -> Path:
    path = tmp_path / "tiny.png"
    tiny_image.save(path)
    return path


def compress(*args: object) -> int:
    return main(["compress", "--codec", TINY, *map(str, args)])


def decompress(*args: object) -> int:
    return main(["decompress", *map(str, args)])


def assert_user_error(code: int, capsys: pytest.CaptureFixture[str], match: str, progress: bool = False) -> str:
    """Exit status 2 and exactly one line on stderr, no traceback.

    ``progress``: several inputs show a progress bar first (redrawn with carriage returns).
    """
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" not in err
    if progress:
        err = err.rsplit("\r", 1)[-1].split("\n", 1)[-1]
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("neuralcodec: error: ")
    assert match in lines[0], lines[0]
    return lines[0]


def no_leftovers(folder: Path) -> None:
    assert not [p.name for p in folder.iterdir() if p.name.endswith(".part") or p.name.startswith(".")]


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
    assert_user_error(compress(tmp_path / "missing.png"), capsys, "no such file")
    assert_user_error(decompress(tmp_path / "missing.ncc"), capsys, "missing.ncc")
    assert_user_error(main(["info", str(tmp_path / "missing.ncc")]), capsys, "missing.ncc")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("quality", ["0", "9", "nan", "-1"])
def test_bad_quality(image_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], quality: str) -> None:
    assert_user_error(compress(image_file, "-q", quality, "-o", tmp_path / "out.ncc"), capsys, "quality")
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
    assert_user_error(compress(bad, "-o", tmp_path / "bad.ncc"), capsys, "cannot read")
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
    assert_user_error(decompress(encoded, "-o", tmp_path / "out.png"), capsys, message)
    assert not (tmp_path / "out.png").exists()
    assert_user_error(main(["info", str(encoded)]), capsys, message)
    no_leftovers(tmp_path)


def test_existing_output_is_not_touched(image_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    existing = tmp_path / "out.ncc"
    existing.write_bytes(b"precious")
    assert_user_error(compress(image_file, "-o", existing), capsys, "-f")
    assert existing.read_bytes() == b"precious"
    # decompress: tiny.ncc -> tiny.png, which is the original image.
    original = image_file.read_bytes()
    assert compress(image_file, "-o", tmp_path / "tiny.ncc") == 0
    capsys.readouterr()
    assert_user_error(decompress(tmp_path / "tiny.ncc"), capsys, "exists")
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
    assert_user_error(compress(image_file, "-o", existing), capsys, "exists")
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
    assert_user_error(compress(image_file, "-o", target), capsys, "exists")
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
    assert_user_error(decompress(encoded, "-o", encoded, "-f"), capsys, "its own input")
    assert encoded.read_bytes() == data


def test_missing_output_folder(image_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert_user_error(compress(image_file, "-o", tmp_path / "nowhere" / "out.ncc"), capsys, "does not exist")
    second = tmp_path / "second.png"
    make_tiny_image(seed=5).save(second)
    code = compress(image_file, second, "-o", tmp_path / "nowhere")
    assert_user_error(code, capsys, "existing folder", progress=True)
    assert not (tmp_path / "nowhere").exists()


def test_failed_write_leaves_no_partial_file(
    image_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    encoded = tmp_path / "tiny.ncc"
    assert compress(image_file, "-o", encoded) == 0
    capsys.readouterr()
    # The image is encoded inside the atomic writer: an unknown format fails mid-write.
    target = tmp_path / "out.xyz"
    assert_user_error(decompress(encoded, "-o", target, "--format", "xyz"), capsys, "xyz")
    assert not target.exists()
    no_leftovers(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.ncc", "tiny.png"]


def test_interrupted_write_leaves_no_partial_file(
    image_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(*args: object) -> bytes:
        raise KeyboardInterrupt

    monkeypatch.setattr("neuralcodec.cli._encode_image", interrupted)
    encoded = tmp_path / "tiny.ncc"
    assert compress(image_file, "-o", encoded) == 0
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


@pytest.mark.parametrize("bpp", ["0", "-1", "0.001"])
def test_impossible_bpp_target(
    image_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], bpp: str
) -> None:
    assert_user_error(compress(image_file, "--bpp", bpp, "-o", tmp_path / "out.ncc"), capsys, "bpp")
    assert not (tmp_path / "out.ncc").exists()


def test_quality_and_bpp_are_exclusive(image_file: Path) -> None:
    with pytest.raises(SystemExit) as caught:
        compress(image_file, "-q", "3", "--bpp", "1")
    assert caught.value.code == 2


def test_unknown_codec(image_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["compress", str(image_file), "--codec", "nope", "-o", str(tmp_path / "x.ncc")])
    assert_user_error(code, capsys, "unknown codec 'nope'")


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ncc"
    bad.write_bytes(b"garbage")
    with pytest.raises(container.ContainerError):
        main(["--debug", "decompress", str(bad)])


@pytest.mark.weights
def test_shipped_weights_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real hyperprior at q=3 on the sample photo: a sensible reconstruction."""
    monkeypatch.delenv("NEURALCODEC_WEIGHTS", raising=False)  # the repository's weights/
    sample = DATA / "sample.png"
    encoded, decoded = tmp_path / "sample.ncc", tmp_path / "sample.png"
    assert main(["compress", str(sample), "-q", "3", "-o", str(encoded)]) == 0
    assert api.read_info(encoded.read_bytes()).codec == "hyperprior"
    assert main(["decompress", str(encoded), "-o", str(decoded)]) == 0
    with Image.open(sample) as a, Image.open(decoded) as b:
        original = np.asarray(a.convert("RGB"), dtype=np.float64)
        result = np.asarray(b.convert("RGB"), dtype=np.float64)
    mse = np.mean((original - result) ** 2)
    assert 10 * np.log10(255**2 / mse) > 25
