"""Encoder pruning, distillation (a two-step Lightning run) and export, on the tiny codec."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors import safe_open

pl = pytest.importorskip("pytorch_lightning", reason="training extras not installed")

from neuralcodec import edge, registry  # noqa: E402
from neuralcodec.models.encoders import EncoderConfig  # noqa: E402
from neuralcodec_testing import TINY, make_tiny_model, quiet_trainer  # noqa: E402
from train.codec.data import PhotoDataModule  # noqa: E402
from train.encoders.distill_module import EncoderDistillationModule  # noqa: E402
from train.encoders.export_encoder import export_encoder  # noqa: E402
from train.encoders.prune import prune_analysis  # noqa: E402

from neuralcodec_testing import write_photos  # noqa: E402


def test_pruning_that_keeps_every_channel_is_exact() -> None:
    g_a = make_tiny_model().g_a  # N=8, M=12
    crops = torch.rand(2, 3, 64, 64)
    same = prune_analysis(g_a, EncoderConfig(widths=(8, 8, 8), M=12), crops)
    with torch.no_grad():
        assert torch.equal(same(crops), g_a(crops))


def test_pruning_keeps_the_strongest_channels() -> None:
    g_a = make_tiny_model().g_a
    crops = torch.rand(2, 3, 64, 64)
    pruned = prune_analysis(g_a, registry.ENCODER_ARCHITECTURES["pruned-tiny"], crops)
    assert pruned[0].weight.shape == (4, 3, 5, 5) and pruned[6].weight.shape == (12, 4, 5, 5)
    with torch.no_grad():
        error = (pruned(crops) - g_a(crops)).square().mean()
        zeroed = g_a(crops).square().mean()  # the error of an encoder that outputs zeros
    assert error < zeroed


def test_distillation_runs_and_exports(
    installed_tiny: registry.CodecSpec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "data"
    write_photos(root / "photos", 3)
    write_photos(root / "val", 1, seed=1)
    monkeypatch.setenv("NEURALCODEC_DATA", str(root))
    torch.manual_seed(0)
    module = EncoderDistillationModule(encoder="pruned-tiny", codec=TINY, lr=1e-2)
    before = {k: v.detach().clone() for k, v in module.student.state_dict().items()}
    data = PhotoDataModule(val_dir="val", num_val_images=1, patch_size=64, batch_size=2, steps_per_epoch=2)
    trainer = quiet_trainer(tmp_path, max_steps=2, num_sanity_val_steps=0)
    trainer.fit(module, datamodule=data)
    assert trainer.global_step == 2
    assert not torch.equal(module.student[0].weight, before["0.weight"])
    assert all(not k.startswith("_teacher") for k in module.state_dict())  # student only
    checkpoint = tmp_path / "last.ckpt"
    trainer.save_checkpoint(checkpoint)
    path = export_encoder(checkpoint, "test-pruned", tmp_path / "out", "test", None)
    assert path.name.startswith(f"{TINY}-encoder-test-pruned-") and path.suffix == ".safetensors"
    with safe_open(str(path), framework="pt") as f:
        metadata = f.metadata()
    spec = registry.EncoderSpec("test-pruned", TINY, "torch", "pruned-tiny", None, None, "")
    for key, value in edge.encoder_metadata(spec, installed_tiny).items():
        assert metadata[key] == value
    assert json.loads(path.with_suffix(".json").read_text())["steps"] == 2
