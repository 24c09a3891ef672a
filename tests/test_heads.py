"""Task heads: shapes, ungaining, a tiny training run, head export and loading, classify/segment CLI.

Everything runs on the random-init ``test-tiny`` codec (M = 12) and generated images in the
real dataset layouts (class folders, CamVid, Cityscapes), so no weights are needed.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import neuralcodec
from neuralcodec import cli, heads, registry
from neuralcodec.errors import NotRegisteredError, WeightsChecksumError, WeightsError, WeightsNotFoundError
from neuralcodec.heads import HeadConfig, HeadSpec, build_head
from neuralcodec_testing import TINY, make_tiny_image

pytest.importorskip("pytorch_lightning", reason="training extras not installed")

from neuralcodec.dataset import compress_dataset  # noqa: E402
from train.heads import fit_task  # noqa: E402
from train.heads.export_head import export_head  # noqa: E402
from train.heads.task_data import TaskTensors, bitstream_cache, source_cache  # noqa: E402

TINY_M = 12
SIZE = (96, 72)  # (width, height): not multiples of 64


# ---------------------------------------------------------------- shapes and ungaining


@pytest.mark.parametrize("input_kind", ["latent", "pixel"])
def test_classifier_shapes(input_kind: str) -> None:
    model = build_head(HeadConfig("classify", input_kind, 7, in_channels=TINY_M, width=16)).eval()
    x = torch.randn(3, TINY_M, 5, 6) if input_kind == "latent" else torch.rand(3, 3, 72, 96)
    assert model(x).shape == (3, 7)


def test_segmenters_give_full_resolution_scores() -> None:
    latent = build_head(HeadConfig("segment", "latent", 5, in_channels=TINY_M, width=16)).eval()
    pixel = build_head(HeadConfig("segment", "pixel", 5, width=16)).eval()
    y = torch.randn(2, TINY_M, 8, 8)  # a 72x96 image padded to 128x128 by the codec
    assert latent(y).shape == (2, 5, 128, 128)
    assert latent(y, size=(72, 96)).shape == (2, 5, 72, 96)
    assert pixel(torch.rand(2, 3, 72, 96)).shape == (2, 5, 72, 96)


def test_latent_head_never_sees_pixels() -> None:
    """The latent models have no pixel stem: their first layer takes M channels."""
    model = build_head(HeadConfig("classify", "latent", 3, in_channels=TINY_M, width=16))
    first = next(m for m in model.modules() if isinstance(m, torch.nn.Conv2d))
    assert first.in_channels == TINY_M
    with pytest.raises(RuntimeError):
        model(torch.rand(1, 3, 64, 64))


def test_ungain_is_the_synthesis_input(tiny_codec: neuralcodec.Codec, tiny_image: Image.Image) -> None:
    data = tiny_codec.encode(tiny_image, quality=3.5)
    latents = tiny_codec.latents(data)
    ungained = latents.y_hat * tiny_codec.model.inverse_gain(3.5)
    torch.testing.assert_close(ungained, latents.y_hat * latents.inverse_gain)
    assert not torch.equal(tiny_codec.model.inverse_gain(1.0), tiny_codec.model.inverse_gain(8.0))


def test_head_config_json_round_trip() -> None:
    config = HeadConfig("segment", "latent", 19, in_channels=192, width=32)
    assert HeadConfig.from_json(config.to_json()) == config
    with pytest.raises(ValueError):
        HeadConfig.from_json('{"task": "detect"}')


def test_tensors_crop_latents_and_pixels_alike() -> None:
    """Segmentation windows are aligned to the latent grid: 16 pixels per latent cell."""
    cache = {"latent": torch.randn(2, TINY_M, 8, 8).half(), "decoded": torch.zeros(2, 3, 72, 96, dtype=torch.uint8),
             "target": torch.zeros(2, 72, 96, dtype=torch.uint8), "ignore_index": 11}
    latent = TaskTensors(cache, "latent", train=True, crop=4, ignore_index=11)[0]
    pixel = TaskTensors(cache, "decoded", train=True, crop=4, ignore_index=11)[0]
    assert latent["x"].shape == (TINY_M, 4, 4) and latent["y"].shape == (64, 64)
    assert pixel["x"].shape == (3, 64, 64) and pixel["y"].shape == (64, 64)
    whole = TaskTensors(cache, "decoded", train=False, ignore_index=11)[0]
    assert whole["y"].shape == (128, 128) and bool((whole["y"][72:] == 11).all())  # padding ignored


# ---------------------------------------------------------------- tiny datasets, training, export


def _write(path: Path, image: Image.Image) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)


def _classes_tree(root: Path) -> Path:
    for split in ("train", "val"):
        for c, wnid in enumerate(("n01", "n02")):
            for k in range(2):
                _write(root / split / wnid / f"img{k}.png", make_tiny_image(*SIZE, seed=10 * c + k))
    return root


def _labels(seed: int, values: list[int]) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.choice(np.array(values, dtype=np.uint8), size=(SIZE[1], SIZE[0])), "L")


def _camvid_tree(root: Path) -> Path:
    for split in ("train", "val"):
        for k in range(2):
            _write(root / split / f"0001TP_{k:06d}.png", make_tiny_image(*SIZE, seed=k))
            _write(root / f"{split}annot" / f"0001TP_{k:06d}.png", _labels(k, list(range(12))))
    return root


def _cityscapes_tree(root: Path) -> Path:
    """labelIds only (the loader maps them to train ids): 7 = road (0), 26 = car (13), 0 = ignore."""
    for split, city in (("train", "aachen"), ("val", "frankfurt")):
        stem = f"{city}_000000_000019"
        _write(root / "leftImg8bit" / split / city / f"{stem}_leftImg8bit.png", make_tiny_image(*SIZE, seed=3))
        _write(root / "gtFine" / split / city / f"{stem}_gtFine_labelIds.png", _labels(4, [0, 7, 26]))
    return root


def _fit(root: Path, runs: Path, task: str, features: str, extra: list[str]) -> Path:
    """One epoch of ``python -m train.heads.fit_task fit`` on batches of 2; returns last.ckpt."""
    config = "classify-imagenette.yaml" if task == "classify" else "segment-camvid.yaml"
    data = (["--data.source", str(root), "--data.root", "null"] if features == "original"
            else ["--data.root", str(root)])
    fit_task.main([
        "fit", "--config", f"train/configs/{config}", *data, "--data.features", features,
        "--data.cache_dir", str(runs / "cache"), "--data.batch_size", "2", "--model.width", "16",
        "--model.in_channels", str(TINY_M), "--trainer.max_epochs", "1",
        "--trainer.default_root_dir", str(runs / f"{task}-{features}"),
        "--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false",
        "--trainer.logger", "false", *extra,
    ])
    return runs / f"{task}-{features}" / "checkpoints" / "last.ckpt"


@pytest.fixture
def trained(installed_tiny, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A tiny classification and a segmentation head trained on tiny-codec bitstreams and
    exported to ``$NEURALCODEC_WEIGHTS/heads``; returns their heads-table entries."""
    monkeypatch.setattr("sys.argv", ["train.heads.fit_task"])
    torch.manual_seed(0)
    specs = []
    for task, tree, extra in (
        ("classify", _classes_tree(tmp_path / "classes"), ["--model.num_classes", "2"]),
        ("segment", _camvid_tree(tmp_path / "camvid"), ["--data.crop", "4"]),
    ):
        out = tmp_path / f"{task}-q2"
        compress_dataset(tree, out, quality=2.0, codec=TINY, num_workers=0, progress=False)
        checkpoint = _fit(out, tmp_path / "runs", task, "latent", extra)
        path = export_head(checkpoint, heads.loading.heads_dir(), "test")
        record = json.loads(path.with_suffix(".json").read_text())
        specs.append(HeadSpec(task, TINY, 1, 2.0, path.name, record["sha256"], "test"))
    return specs


def test_export_classify_and_segment_cli(trained, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(registry, "HEADS", tuple(trained))
    heads.predict._load_cached.cache_clear()
    ncc = tmp_path / "image.ncc"
    ncc.write_bytes(neuralcodec.encode(make_tiny_image(*SIZE, seed=5), quality=2.6, codec=TINY))
    assert cli.main(["classify", str(ncc)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"{ncc}:" and len(lines) == 3  # two classes
    probabilities = [float(line.split("%")[0]) for line in lines[1:]]
    assert probabilities == sorted(probabilities, reverse=True) and abs(sum(probabilities) - 100) < 0.1
    assert {line.split("%")[1].strip() for line in lines[1:]} == {"n01", "n02"}

    mask_path = tmp_path / "mask.png"
    assert cli.main(["segment", str(ncc), "-o", str(mask_path)]) == 0
    with Image.open(mask_path) as mask:
        assert mask.mode == "P" and mask.size == SIZE
        assert int(np.asarray(mask).max()) < 11
        assert mask.getpalette()[:6] == [128, 128, 128, 128, 0, 0]  # CamVid colours
    assert cli.main(["segment", str(ncc), "-o", str(mask_path)]) == 1  # exists, no -f
    assert "exists" in capsys.readouterr().err


def test_cli_without_a_head(installed_tiny, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                            capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(registry, "HEADS", ())
    ncc = tmp_path / "image.ncc"
    ncc.write_bytes(neuralcodec.encode(make_tiny_image(*SIZE), quality=2, codec=TINY))
    assert cli.main(["classify", str(ncc)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{ncc}: no 'classify' head" in err
    assert cli.main(["segment", str(ncc), "-o", str(tmp_path / "m.png")]) == 1
    assert not (tmp_path / "m.png").exists()


def test_head_weights_are_verified(trained, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    spec = trained[0]
    path = heads.loading.head_path(spec)
    assert heads.load_head(spec).config.in_channels == TINY_M
    with pytest.raises(WeightsNotFoundError, match="export_head"):
        heads.load_head(dataclasses.replace(spec, weights_file="missing.safetensors"))
    with pytest.raises(WeightsChecksumError):
        heads.load_head(dataclasses.replace(spec, sha256="0" * 64))
    with pytest.raises(WeightsError, match="quality"):  # the file says q2
        heads.load_head(dataclasses.replace(spec, quality=5.0))
    with pytest.raises(NotRegisteredError, match="v2"):  # names a release that is not shipped
        heads.load_head(dataclasses.replace(spec, codec_version=2))
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF  # a flipped bit in the tensors
    path.write_bytes(bytes(data))
    with pytest.raises(WeightsChecksumError):
        heads.load_head(spec)


def test_nearest_quality_head(monkeypatch: pytest.MonkeyPatch) -> None:
    table = tuple(HeadSpec("classify", "hyperprior", 1, q, f"f{q}", "x", "d") for q in (2.0, 5.0))
    monkeypatch.setattr(registry, "HEADS", table)
    v1 = registry.get("hyperprior").release_version(1)
    assert heads.find_head("classify", v1, 3.4).quality == 2.0
    assert heads.find_head("classify", v1, 3.5).quality == 5.0  # ties go up
    with pytest.raises(NotRegisteredError, match="--weights v1"):
        heads.find_head("classify", registry.get("hyperprior").release_version(2), 2.0)


def test_cityscapes_training_and_decoded_baseline(installed_tiny, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """The Cityscapes layout (labelIds mapped to the 19 train ids) trains and validates the pixel
    baseline on pixels decoded from the bitstreams (latent heads: :func:`trained`); the
    original-pixel cache maps labels the same way."""
    tree = _cityscapes_tree(tmp_path / "cityscapes")
    out = tmp_path / "cityscapes-q2"
    compress_dataset(tree, out, quality=2.0, codec=TINY, num_workers=0, progress=False)
    cache = bitstream_cache(out, "val", tmp_path / "cache")
    original = source_cache(tree, "val", tmp_path / "cache")
    assert set(torch.unique(cache["target"]).tolist()) <= {0, 13, 255}
    torch.testing.assert_close(cache["target"], original["target"])
    assert cache["decoded"].shape == original["original"].shape == (1, 3, SIZE[1], SIZE[0])
    assert cache["latent"].shape == (1, TINY_M, 8, 8)
    monkeypatch.setattr("sys.argv", ["train.heads.fit_task"])
    extra = ["--model.num_classes", "19", "--model.ignore_index", "255", "--data.crop", "4", "--data.batch_size", "1"]
    assert _fit(out, tmp_path / "runs", "segment", "decoded", extra).is_file()


# ---------------------------------------------------------------- the shipped heads, end to end


#: The hyperprior release the shipped heads were trained on (retrained heads follow new weights).
HEAD_WEIGHTS = "583ecc69"


@pytest.mark.weights
def test_shipped_heads_classify_and_segment(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``neuralcodec classify`` / ``segment`` with the shipped codec and head weights."""
    ncc = tmp_path / "sample.ncc"
    codec = neuralcodec.Codec("hyperprior", weights=HEAD_WEIGHTS)  # the release the heads know
    ncc.write_bytes(codec.encode(Path(__file__).parent / "data" / "sample.png", quality=2))
    assert cli.main(["classify", str(ncc)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 6 and all(line.split("%")[1].strip() in heads.labels.IMAGENETTE_CLASSES for line in lines[1:])
    assert cli.main(["segment", str(ncc), "-o", str(tmp_path / "mask.png")]) == 0
    with Image.open(tmp_path / "mask.png") as mask, Image.open(Path(__file__).parent / "data" / "sample.png") as image:
        assert mask.mode == "P" and mask.size == image.size
