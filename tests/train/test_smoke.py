"""A two-step Lightning run of the rate-distortion module on generated photos, with validation."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

pl = pytest.importorskip("pytorch_lightning", reason="training extras not installed")

from neuralcodec_testing import quiet_trainer, with_weights  # noqa: E402
from train.codec.data import PhotoDataModule, RandomCrops, list_images  # noqa: E402
from train.codec.rd_module import RateDistortionModule  # noqa: E402


def test_fast_dev_run(data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEURALCODEC_DATA", str(data_root))
    torch.manual_seed(0)
    module = RateDistortionModule(codec="test-tiny", val_qualities=(1.0, 8.0))
    with torch.no_grad():  # random-init latents all round to 0: raise the gains so they do not
        module.model.log_gain += math.log(64.0)
    data = PhotoDataModule(num_val_images=1, patch_size=64, batch_size=2, steps_per_epoch=2)
    assert data.root == data_root
    before = {k: v.detach().clone() for k, v in module.model.named_parameters()}
    trainer = quiet_trainer(tmp_path, fast_dev_run=2)
    trainer.fit(module, datamodule=data)
    assert trainer.global_step == 2  # two batches, each one optimizer step (not two)
    changed = [k for k, v in module.model.named_parameters() if not torch.equal(v, before[k])]
    assert "g_a.0.weight" in changed and any(k.endswith("quantiles") for k in changed)
    metrics = trainer.callback_metrics
    for key in ("train/loss", "train/bpp", "val/loss", "val/bpp_q1", "val/psnr_q1", "val/bpp_q8"):
        assert key in metrics and bool(torch.isfinite(metrics[key])), key
    # Validation entropy-coded real files: a 200x200 image costs bytes, and more at q=8.
    assert 0 < float(metrics["val/bpp_q1"]) < float(metrics["val/bpp_q8"])


def test_random_crops(data_root: Path) -> None:
    paths = list_images(data_root / "photos")
    assert [p.name for p in paths] == ["photo0.png", "photo1.png", "photo2.png"]
    images = [torch.from_numpy(np.asarray(Image.open(p).convert("RGB")).copy()).permute(2, 0, 1) for p in paths]
    crops = RandomCrops(images, patch_size=64, length=5)
    assert len(crops) == 5
    crop = crops[0]
    assert crop.shape == (3, 64, 64) and crop.dtype == torch.float32
    assert 0 <= float(crop.min()) and float(crop.max()) <= 1
    with pytest.raises(ValueError, match="smaller"):
        RandomCrops(images, patch_size=256, length=1)


def test_resume_and_export(data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A checkpoint taken after validation (CDF tables built) resumes, and exports to weights."""
    from neuralcodec import registry, weights
    from train.codec.export import export

    monkeypatch.setenv("NEURALCODEC_DATA", str(data_root))

    def trainer(max_steps: int) -> pl.Trainer:
        return quiet_trainer(tmp_path, max_steps=max_steps, val_check_interval=2)

    def data() -> PhotoDataModule:
        return PhotoDataModule(num_val_images=1, patch_size=64, batch_size=2, steps_per_epoch=2)

    first = trainer(2)
    first.fit(RateDistortionModule(codec="test-tiny", val_qualities=(4.0,)), datamodule=data())
    checkpoint = tmp_path / "two.ckpt"
    first.save_checkpoint(checkpoint)
    second = trainer(3)
    second.fit(RateDistortionModule(codec="test-tiny", val_qualities=(4.0,)), datamodule=data(),
               ckpt_path=checkpoint)
    assert second.global_step == 3

    path = export(checkpoint, "test-tiny", tmp_path / "weights", hardware="test")
    spec = with_weights(registry.get("test-tiny"), (path, weights.sha256_file(path)))
    monkeypatch.setenv("NEURALCODEC_WEIGHTS", str(path.parent))
    _, weights_id = weights.load_model(spec)
    assert weights_id == int(path.name.split("-")[-1].split(".")[0], 16)
    assert (path.parent / f"{path.stem}.json").is_file()
