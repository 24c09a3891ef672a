"""The compress-dataset job with the tiny codec: outputs, manifest, resume, refusals, CLI."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import neuralcodec
from neuralcodec import api
from neuralcodec.cli import main
from neuralcodec.dataset import DatasetError, compress_dataset, read_info, read_manifest

pytest.importorskip("pytorch_lightning")

ROOT = Path(__file__).resolve().parents[2]


def _run(source: Path, output: Path, codec: neuralcodec.Codec, **kwargs: object):  # type: ignore[no-untyped-def]
    kwargs.setdefault("num_workers", 0)
    return compress_dataset(source, output, 2.5, codec, progress=False, **kwargs)  # type: ignore[arg-type]


def _tree(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` (hidden ones included) with its bytes."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


class _Killed(Exception):
    pass


class _KilledAt(neuralcodec.Codec):
    """A codec whose n-th encode dies, as a run killed mid-way (not KeyboardInterrupt: Lightning
    turns that into SystemExit and ignores SIGINT afterwards)."""

    calls = 0
    kill_at = 3

    def encode(self, image, quality=3.0, *args, **kwargs):  # type: ignore[no-untyped-def,override]
        type(self).calls += 1
        if type(self).calls == self.kill_at:
            raise _Killed
        return super().encode(image, quality, *args, **kwargs)


def test_outputs_and_manifest(tmp_path: Path, classes_tree: Path, tiny_codec: neuralcodec.Codec) -> None:
    out = tmp_path / "out"
    result = _run(classes_tree, out, tiny_codec)
    assert result is not None
    assert (result.num_items, result.encoded, result.skipped, result.world_size) == (10, 10, 0, 1)
    info = read_info(out)
    assert (info.layout, info.task, info.classes, info.codec, info.quality, info.num_items) == (
        "classes", "classification", ["n01", "n02", "n03"], "test-tiny", 2.5, 10
    )
    assert info.source_root == str(classes_tree.resolve()) and info.splits == ["train", "val"]
    records = read_manifest(out)
    assert [r.key for r in records] == sorted(r.key for r in records)
    assert len(records) == 10 and result.total_bytes == sum(r.num_bytes for r in records)
    for record in records:
        data = (out / record.bitstream).read_bytes()
        assert record.bitstream == record.key + ".ncc"
        assert record.num_bytes == len(data) and record.bpp == pytest.approx(len(data) * 8 / (70 * 40), abs=1e-6)
        assert (record.height, record.width, record.quality, record.codec) == (40, 70, 2.5, "test-tiny")
        assert record.weights_id == f"{tiny_codec.weights_id:08x}"
        assert record.label == ["n01", "n02", "n03"].index(record.key.split("/")[1])
        assert tiny_codec.decode(data).size == (70, 40)
    # Same bytes as the single-image API.
    first = records[0]
    assert (out / first.bitstream).read_bytes() == tiny_codec.encode(classes_tree / first.source, 2.5)
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []  # no shards, no temp files
    assert len(read_manifest(out, splits=["val"])) == 4


def test_killed_run_resumes_to_the_same_tree(
    tmp_path: Path, camvid_tree: Path, tiny_codec: neuralcodec.Codec
) -> None:
    clean = tmp_path / "clean"
    _run(camvid_tree, clean, tiny_codec)
    resumed = tmp_path / "resumed"
    killer = _KilledAt.from_model(tiny_codec.spec, tiny_codec.model, tiny_codec.weights_id)
    with pytest.raises(_Killed):
        _run(camvid_tree, resumed, killer)
    assert not (resumed / "manifest.jsonl").exists()
    done = {p: p.stat().st_mtime_ns for p in resumed.rglob("*.ncc")}
    assert len(done) == 2  # the third encode died
    (resumed / "test" / ".0001TP_000001.ncc.abc.part").write_bytes(b"half a file")  # a killed write
    result = _run(camvid_tree, resumed, tiny_codec)
    assert result is not None and (result.encoded, result.skipped) == (3, 2)
    assert {p: p.stat().st_mtime_ns for p in done} == done  # finished files were not rewritten
    assert _tree(resumed) == _tree(clean)
    # Resuming a finished tree codes nothing and changes nothing.
    again = _run(camvid_tree, resumed, tiny_codec)
    assert again is not None and (again.encoded, again.skipped) == (0, 5)
    assert _tree(resumed) == _tree(clean)


def test_camvid_targets_are_copied(tmp_path: Path, camvid_tree: Path, tiny_codec: neuralcodec.Codec) -> None:
    out = tmp_path / "out"
    _run(camvid_tree, out, tiny_codec, splits=["train"], num_workers=1)
    records = read_manifest(out)
    assert [r.target for r in records] == [f"trainannot/0001TP_{k:06d}.png" for k in range(3)]
    for record in records:
        assert (out / record.target).read_bytes() == (camvid_tree / record.target).read_bytes()
    assert read_info(out).ignore_index == 11 and read_info(out).splits == ["train"]


def test_cityscapes_targets_are_train_ids(
    tmp_path: Path, cityscapes_tree: Path, tiny_codec: neuralcodec.Codec
) -> None:
    out = tmp_path / "out"
    _run(cityscapes_tree, out, tiny_codec)
    records = {r.split: r for r in read_manifest(out)}
    assert records["train"].target == "gtFine/train/aachen/aachen_000000_000019_gtFine_labelTrainIds.png"
    assert (out / records["train"].target).is_file()
    assert not (out / "gtFine/train/aachen/aachen_000000_000019_gtFine_labelIds.png").exists()
    assert records["test"].target is None
    assert records["val"].bitstream == "leftImg8bit/val/frankfurt/frankfurt_000000_000294_leftImg8bit.ncc"


def test_refuses_other_settings(tmp_path: Path, classes_tree: Path, tiny_codec: neuralcodec.Codec) -> None:
    out = tmp_path / "out"
    _run(classes_tree, out, tiny_codec, limit=2)
    with pytest.raises(DatasetError, match="quality"):
        compress_dataset(classes_tree, out, 4, tiny_codec, num_workers=0, progress=False)
    with pytest.raises(neuralcodec.QualityError):
        compress_dataset(classes_tree, tmp_path / "q", 9, tiny_codec, num_workers=0, progress=False)
    # A file that parses but was made at another quality is refused, not overwritten.
    record = read_manifest(out)[0]
    other = tiny_codec.encode(classes_tree / record.source, 5)
    (out / record.bitstream).write_bytes(other)
    with pytest.raises(DatasetError, match="q=5"):
        _run(classes_tree, out, tiny_codec, limit=2)
    assert (out / record.bitstream).read_bytes() == other


def test_one_run_per_output_folder(tmp_path: Path, classes_tree: Path, tiny_codec: neuralcodec.Codec) -> None:
    out = tmp_path / "out"
    _run(classes_tree, out, tiny_codec, limit=2)
    before = _tree(out)
    with open(out / ".lock", "a") as held:  # another run holds the folder
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(DatasetError, match="another compress-dataset run"):
            _run(classes_tree, out, tiny_codec, limit=3)
        assert {k: v for k, v in _tree(out).items() if k != ".lock"} == before  # untouched
    result = _run(classes_tree, out, tiny_codec, limit=3)  # released: runs, and removes the lock
    assert result is not None and (result.encoded, result.skipped) == (1, 2)
    assert not (out / ".lock").exists() and len(read_manifest(out)) == 3


def test_cli_compress_dataset(
    tmp_path: Path, camvid_tree: Path, installed_tiny: object, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    argv = ["compress-dataset", str(camvid_tree), str(out), "--codec", "test-tiny", "-q", "3",
            "--split", "test", "--num-workers", "0"]
    assert main(argv) == 0
    assert "2 images (2 coded, 0 already done)" in capsys.readouterr().out
    assert [r.quality for r in read_manifest(out)] == [3.0, 3.0]
    assert main(argv) == 0
    assert "(0 coded, 2 already done)" in capsys.readouterr().out
    for bad, message, status in (  # 2: usage errors, 1: what the files or folders refuse
        (["compress-dataset", str(tmp_path / "nope"), str(out)], "is not a folder", 1),
        (argv[:3] + ["--codec", "test-tiny", "--layout", "coco"], "unknown layout", 2),
        (argv[:3] + ["--codec", "test-tiny", "--split", "val"], "no split 'val'", 1),
        (argv[:3] + ["--codec", "test-tiny", "-q", "5", "--split", "test"], "quality=3.0", 1),
        (argv[:3] + ["--codec", "test-tiny", "-q", "9"], "quality must be in [1, 8]", 2),
    ):
        assert main(bad) == status
        err = capsys.readouterr().err
        assert err.startswith("neuralcodec: error: ") and message in err and err.count("\n") == 1


_DDP_SCRIPT = """
    import json, sys
    from pathlib import Path
    sys.path.insert(0, {tests!r})
    import neuralcodec
    from neuralcodec import registry
    from neuralcodec.dataset import compress_dataset
    from neuralcodec_testing import TINY, TINY_WEIGHTS_ID, make_tiny_model

    codec = neuralcodec.Codec.from_model(registry.get(TINY), make_tiny_model(), TINY_WEIGHTS_ID)
    result = compress_dataset({source!r}, {output!r}, 2.5, codec, devices=2, strategy="ddp",
                              num_workers=0, threads=1, progress=False)
    if result is not None:
        print("RESULT", json.dumps([result.world_size, result.encoded, result.num_items]))
"""


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("NEURALCODEC_DDP_TEST") != "1",
    reason="starts 2 fresh interpreters (about 1 min on a busy 2-core machine); NEURALCODEC_DDP_TEST=1 runs it",
)
def test_two_process_ddp_run_matches_one_process(
    tmp_path: Path, camvid_tree: Path, tiny_codec: neuralcodec.Codec
) -> None:
    """``strategy="ddp"`` with 2 CPU processes (Lightning re-launches the script) gives the same tree."""
    single = tmp_path / "single"
    _run(camvid_tree, single, tiny_codec, threads=1)
    double = tmp_path / "double"
    script = tmp_path / "ddp_run.py"
    script.write_text(textwrap.dedent(_DDP_SCRIPT).format(
        tests=str(ROOT / "tests"), source=str(camvid_tree), output=str(double)
    ))
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    line = next(l for l in done.stdout.splitlines() if l.startswith("RESULT"))
    assert json.loads(line.split(" ", 1)[1]) == [2, 5, 5]
    assert _tree(double) == _tree(single)
    assert api.read_info((double / "train/0001TP_000000.ncc").read_bytes()).codec == "test-tiny"
