"""Command-line conventions: --version, python -m, pipes (- and -o -), --quiet, options after the
command, help for every argument, exit statuses and a progress bar that overwrites nothing."""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from neuralcodec_testing import TINY, compress, decompress, make_tiny_image, one_line_error, usage_error
from PIL import Image

import neuralcodec
from neuralcodec import Codec
from neuralcodec.cli import main
from neuralcodec.cli.parser import build_parser

ROOT = Path(__file__).resolve().parents[2]


class Stream(io.TextIOWrapper):
    """A text stream over bytes, like sys.stdin / sys.stdout, that may claim to be a terminal."""

    def __init__(self, data: bytes = b"", tty: bool = False) -> None:
        super().__init__(io.BytesIO(data), encoding="utf-8", write_through=True)
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty

    def data(self) -> bytes:
        self.flush()
        return self.buffer.getvalue()  # type: ignore[attr-defined, no-any-return]

    def text(self) -> str:
        return self.data().decode()


def run_piped(argv: list[str], data: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[int, bytes]:
    """``main(argv)`` with ``data`` on standard input; returns the status and standard output."""
    stdout = Stream()
    monkeypatch.setattr(sys, "stdin", Stream(data))
    monkeypatch.setattr(sys, "stdout", stdout)
    code = main(argv)
    return code, stdout.data()


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--version"])
    assert caught.value.code == 0
    assert capsys.readouterr().out.strip() == f"neuralcodec {neuralcodec.__version__}"


@pytest.mark.parametrize("module", ["neuralcodec", "neuralcodec.cli"])
def test_python_dash_m(module: str) -> None:
    result = subprocess.run([sys.executable, "-m", module, "--version"], cwd=ROOT, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.strip() == f"neuralcodec {neuralcodec.__version__}"


def test_closed_stdout_stops_quietly() -> None:
    """``neuralcodec models | head -1``: no traceback and no per-file error when the reader goes."""
    child = subprocess.Popen([sys.executable, "-m", "neuralcodec", "models"], cwd=ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert child.stdout is not None and child.stderr is not None
    child.stdout.readline()
    child.stdout.close()  # the reader has gone before the listing is written out
    assert child.wait(timeout=60) in (0, 1)
    assert child.stderr.read() == b""


def test_pipe_round_trip(
    image_file: Path, tiny_image: Image.Image, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``cat a.png | neuralcodec compress - -o - | neuralcodec decompress - -o - > b.png``."""
    code, ncc = run_piped(["compress", "--codec", TINY, "-", "-o", "-", "-q", "4"], image_file.read_bytes(),
                          monkeypatch)
    assert code == 0 and ncc == Codec(TINY).encode(tiny_image, 4)
    assert capsys.readouterr().err.startswith("<stdin> -> <stdout>: ")  # the result line is not in the data
    code, png = run_piped(["decompress", "-", "-o", "-"], ncc, monkeypatch)
    assert code == 0
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG"
        assert np.array_equal(np.asarray(image), np.asarray(Codec(TINY).decode(ncc)))
    # Standard input's output defaults to standard output; --format picks its format.
    code, webp = run_piped(["decompress", "-", "--format", "webp"], ncc, monkeypatch)
    assert code == 0 and Image.open(io.BytesIO(webp)).format == "WEBP"
    # Standard input to a named file.
    code, _ = run_piped(["decompress", "-", "-o", str(image_file.with_name("b.png"))], ncc, monkeypatch)
    assert code == 0 and image_file.with_name("b.png").is_file()


def test_stdin_and_stdout_misuse(image_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    one_line_error(compress("-", image_file), capsys, "'-' (standard input) must be the only input", status=2)
    second = tmp_path / "second.png"
    make_tiny_image(seed=3).save(second)
    one_line_error(compress(image_file, second, "-o", "-"), capsys, "takes a single input", status=2)
    monkeypatch.setattr(sys, "stdin", Stream(tty=True))
    one_line_error(compress("-", "-o", tmp_path / "x.ncc"), capsys, "standard input is a terminal", status=2)
    monkeypatch.setattr(sys, "stdout", Stream(tty=True))
    one_line_error(compress(image_file, "-o", "-"), capsys, "standard output is a terminal", status=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["second.png", "tiny.png"]


@pytest.mark.parametrize("where", ["before", "after"])
def test_quiet(image_file: Path, capsys: pytest.CaptureFixture[str], where: str) -> None:
    """--quiet drops the result lines and keeps -q for the quality, before or after the command."""
    argv = ["compress", "--codec", TINY, str(image_file), "-q", "5"]
    argv = ["--quiet", *argv] if where == "before" else [*argv, "--quiet"]
    assert main(argv) == 0
    assert capsys.readouterr() == ("", "")
    assert neuralcodec.api.read_info(image_file.with_suffix(".ncc").read_bytes()).quality == 5
    assert main(["--quiet", "info", str(image_file.with_suffix(".ncc"))]) == 0
    assert "quality" in capsys.readouterr().out  # what was asked for still shows


def test_help_for_every_argument() -> None:
    """Every option and positional of every command has a help text; the top level has examples."""
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, command in [("", parser), *subparsers.choices.items()]:
        for action in command._actions:
            assert action.help, f"{name} {action.option_strings or action.dest} has no help"
    top = parser.format_help()
    assert "examples:" in top and "compress - -o - | neuralcodec decompress - -o -" in top
    assert "exit status: 0 success; 1" in top and "2 a usage" in top
    assert "{onnx,fp16,pruned-50}" in subparsers.choices["compress"].format_help()  # choices listed


def test_exit_statuses(image_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """2 for usage errors (argparse's and ours), 1 for runtime errors, 0 for success."""
    usage_error(capsys, "invalid choice", "compress", image_file, "--codec", "nope")
    usage_error(capsys, "required", "decompress")
    one_line_error(compress(image_file, "-q", "12"), capsys, "quality must be in [1, 8]", status=2)
    one_line_error(compress(tmp_path / "none.png"), capsys, "No such file", status=1)
    one_line_error(compress(image_file, "--device", "nonsense"), capsys, "--device nonsense: ", status=2)
    assert compress(image_file) == 0


def test_no_progress_bar_without_a_terminal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sources = []
    for i in range(3):
        sources.append(tmp_path / f"img{i}.png")
        make_tiny_image(seed=i).save(sources[-1])
    assert compress(*sources) == 0
    out, err = capsys.readouterr()
    assert err == "" and "\r" not in out and len(out.splitlines()) == 3


def test_progress_bar_and_result_lines_do_not_overlap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a terminal (stdout and stderr one screen) every result line starts a line of its own."""
    sources = []
    for i in range(3):
        sources.append(tmp_path / f"img{i}.png")
        make_tiny_image(seed=i).save(sources[-1])
    screen = Stream(tty=True)
    monkeypatch.setattr(sys, "stdout", screen)
    monkeypatch.setattr(sys, "stderr", screen)
    assert decompress(*[p for p in sources], "-o", tmp_path, "--format", "bmp") == 1  # not .ncc files
    assert compress(*sources, "-q", "2") == 0
    text = screen.text()
    assert "compress" in text and "file" in text  # the bar was drawn
    fragments = [f for line in text.split("\n") for f in line.split("\r")]
    for source in sources:
        assert any(f.startswith(f"{source} -> {source.with_suffix('.ncc')}: ") for f in fragments), text
        assert any(f.startswith(f"neuralcodec: error: {source}: ") for f in fragments), text
