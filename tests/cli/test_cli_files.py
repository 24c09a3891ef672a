"""No lost or wrong files: outputs that would overwrite inputs or each other, output formats and
modes, animations, failed files in a batch, and messages that name the right file."""

from __future__ import annotations

import io
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from neuralcodec_testing import (
    compress,
    decompress,
    make_tiny_image,
    no_leftovers,
    one_line_error,
    png_file,
    png_rgb16,
)
from PIL import Image

from neuralcodec import api
from neuralcodec.cli import files, main


@pytest.fixture
def encoded(image_file: Path, tmp_path: Path) -> Path:
    """``tiny.png`` compressed to ``tiny.ncc``."""
    path = tmp_path / "tiny.ncc"
    assert compress(image_file, "-o", path) == 0
    return path


@pytest.fixture
def umask_022() -> Iterator[None]:
    before = os.umask(0o022)
    yield
    os.umask(before)


def test_same_stem_in_a_batch_is_refused_before_writing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """a/x.png and b/x.png into one folder would both be out/x.ncc: refused, even with -f."""
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        make_tiny_image(seed=len(folder)).save(tmp_path / folder / "x.png")
    (tmp_path / "out").mkdir()
    code = compress(tmp_path / "a" / "x.png", tmp_path / "b" / "x.png", "-o", tmp_path / "out", "-f")
    line = one_line_error(code, capsys, "would both be written to", status=2)
    assert str(tmp_path / "a" / "x.png") in line and str(tmp_path / "b" / "x.png") in line
    assert list((tmp_path / "out").iterdir()) == []


def test_output_is_never_the_reference(
    encoded: Path, image_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``decompress x.ncc -o x.png --reference x.png -f`` would overwrite the original."""
    original = image_file.read_bytes()
    code = decompress(encoded, "-o", image_file, "--reference", image_file, "-f")
    one_line_error(code, capsys, "would overwrite the --reference image", status=2)
    assert image_file.read_bytes() == original
    # Through another name for the same file, too.
    link = image_file.with_name("link.png")
    link.symlink_to(image_file)
    code = decompress(encoded, "-o", link, "--reference", image_file, "-f")
    one_line_error(code, capsys, "would overwrite the --reference image", status=2)
    assert image_file.read_bytes() == original


def test_output_is_never_an_input(
    image_file: Path, encoded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Several inputs into a folder, where one's output is another input: refused, even with -f."""
    data = encoded.read_bytes()
    code = compress(image_file, encoded, "-o", tmp_path, "-f")
    one_line_error(code, capsys, f"output {encoded} would overwrite the input {encoded}", status=2)
    assert encoded.read_bytes() == data


def test_reference_of_the_wrong_size_leaves_no_output(
    encoded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = tmp_path / "wrong.png"
    make_tiny_image(20, 20).save(wrong)
    out = tmp_path / "out.png"
    one_line_error(decompress(encoded, "-o", out, "--reference", wrong), capsys, "--reference is 20x20", status=1)
    unreadable = tmp_path / "unreadable.png"
    unreadable.write_bytes(b"not an image")
    one_line_error(decompress(encoded, "-o", out, "--reference", unreadable), capsys, "--reference", status=1)
    assert not out.exists()
    no_leftovers(tmp_path)


@pytest.mark.parametrize("kind", ["gif", "tiff", "apng"])
def test_animations_and_multi_page_files_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    frames = [make_tiny_image(seed=i) for i in range(3)]
    source = tmp_path / f"many.{'png' if kind == 'apng' else kind}"
    frames[0].save(source, save_all=True, append_images=frames[1:])
    one_line_error(compress(source), capsys, f"{source}: the image has 3 frames", status=1)
    assert not source.with_suffix(".ncc").exists()


@pytest.mark.parametrize(("name", "fmt"), [("out.jpg", "JPEG"), ("out.JPEG", "JPEG"), ("out.webp", "WEBP"),
                                           ("out.tif", "TIFF"), ("out.png", "PNG"), ("out", "PNG")])
def test_the_extension_picks_the_format(encoded: Path, tmp_path: Path, name: str, fmt: str) -> None:
    assert decompress(encoded, "-o", tmp_path / name) == 0
    with Image.open(tmp_path / name) as image:
        assert image.format == fmt and image.size == (67, 45)


def test_format_option(encoded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``--format`` names the default output and folder outputs; it must agree with -o's name."""
    assert decompress(encoded, "--format", "webp") == 0
    with Image.open(tmp_path / "tiny.webp") as image:
        assert image.format == "WEBP"
    one_line_error(decompress(encoded, "-o", tmp_path / "x.png", "--format", "jpg"), capsys,
                   "is a PNG name, but --format asks for JPEG", status=2)
    one_line_error(decompress(encoded, "--format", "xyz"), capsys, "cannot write '.xyz' images", status=2)
    one_line_error(decompress(encoded, "-o", tmp_path / "out.xyz"), capsys, "cannot write '.xyz'", status=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.ncc", "tiny.png", "tiny.webp"]


def test_palette_image_to_jpeg_is_converted(tmp_path: Path) -> None:
    source = tmp_path / "palette.png"
    make_tiny_image().quantize(16).save(source)
    assert compress(source, "-o", tmp_path / "palette.ncc") == 0
    assert decompress(tmp_path / "palette.ncc", "-o", tmp_path / "palette.jpg") == 0
    with Image.open(tmp_path / "palette.jpg") as image:
        assert image.format == "JPEG" and image.mode == "RGB"


@pytest.mark.usefixtures("umask_022")
def test_new_files_follow_the_umask_and_replaced_files_keep_their_mode(image_file: Path, tmp_path: Path) -> None:
    new = tmp_path / "new.ncc"
    assert compress(image_file, "-o", new) == 0
    assert stat.S_IMODE(new.stat().st_mode) == 0o644
    kept = tmp_path / "kept.ncc"
    kept.write_bytes(b"old")
    kept.chmod(0o640)
    assert compress(image_file, "-o", kept, "-f") == 0
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640 and kept.read_bytes() != b"old"
    assert decompress(kept, "-o", tmp_path / "kept.png") == 0
    assert stat.S_IMODE((tmp_path / "kept.png").stat().st_mode) == 0o644


def test_unwritable_folder_names_the_output(
    image_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The error names the output, not the temporary file (simulated: root may write anywhere)."""

    def refuse(path: Path, *args: object) -> io.BufferedWriter:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(files, "open", refuse, raising=False)
    target = tmp_path / "out.ncc"
    line = one_line_error(compress(image_file, "-o", target), capsys, f"cannot write {target}: Permission denied",
                          status=1)
    assert ".part" not in line
    no_leftovers(tmp_path)


def test_a_batch_goes_on_after_a_failure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Each failure names its file; the others are done; a summary; status 1."""
    good = [tmp_path / "a.png", tmp_path / "c.png"]
    for i, path in enumerate(good):
        make_tiny_image(seed=i).save(path)
    bad = tmp_path / "b.png"
    bad.write_bytes(b"not an image")
    out = tmp_path / "out"
    out.mkdir()
    assert compress(good[0], bad, good[1], "-o", out) == 1
    captured = capsys.readouterr()
    assert sorted(p.name for p in out.iterdir()) == ["a.ncc", "c.ncc"]
    assert captured.err.splitlines() == [
        f"neuralcodec: error: {bad}: cannot read the image: not an image format Pillow reads",
        f"neuralcodec: error: 1 of 3 files failed: {bad}",
    ]
    assert len(captured.out.splitlines()) == 2
    # decompress too: a corrupt file among good ones.
    (out / "b.ncc").write_bytes(b"NC garbage")
    assert decompress(out / "a.ncc", out / "b.ncc", out / "c.ncc", "-o", out) == 1
    assert sorted(p.name for p in out.glob("*.png")) == ["a.png", "c.png"]
    assert f"error: {out / 'b.ncc'}: " in capsys.readouterr().err


def test_huge_png_gets_our_limit_and_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A 100k x 100k PNG header: our limit and --max-pixels, not Pillow's advice."""
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_file(100_000, 100_000, 8, b""))
    line = one_line_error(compress(bomb), capsys, f"over the {2**26}-pixel limit (raise it with --max-pixels)",
                          status=1)
    assert "MAX_IMAGE_PIXELS" not in line and "decompression bomb" not in line


def test_16_bit_rgb_warns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """As 16-bit grey does: the samples are reduced to 8 bits."""
    rng = np.random.default_rng(0)
    source = tmp_path / "deep.png"
    source.write_bytes(png_rgb16(rng.integers(0, 65536, (9, 11, 3), dtype=np.uint16)))
    grey = tmp_path / "grey.png"
    Image.fromarray(rng.integers(0, 65536, (9, 11), dtype=np.uint16).astype(np.int32), "I").convert("I;16").save(grey)
    assert compress(source, grey, "-o", tmp_path) == 0
    err = capsys.readouterr().err
    assert f"neuralcodec: warning: {source}: 16-bit RGB image reduced to 8 bits per sample" in err
    assert f"neuralcodec: warning: {grey}: I;16 image reduced to 8 bits per sample" in err
    assert api.read_info((tmp_path / "deep.ncc").read_bytes()).mode == "RGB"


@pytest.mark.parametrize("command", ["info", "decompress"])
def test_ncc_messages_name_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str) -> None:
    truncated = tmp_path / "short.ncc"
    truncated.write_bytes(b"NC\x02")
    one_line_error(main([command, str(truncated)]), capsys, f"{truncated}: file is 3 bytes", status=1)
