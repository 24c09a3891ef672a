"""Model cards are written from measured JSON only: the GAN card quotes eval.studies.gan's table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.studies import model_card
from neuralcodec import registry

RECORD = {
    "weights_file": "gan-00000000.safetensors", "sha256": "0" * 64, "git_sha": "test", "steps": 3000,
    "batch_size": 8, "patch_size": 128, "train_dirs": ["photos"], "num_train_images": 562, "lr": 2e-4,
    "lr_drop_step": 100000, "lambda_range": [0.0003, 0.0015], "hardware": "test CPU", "wall_time_s": 3600.0,
    "init_weights": "weights/hyperprior.safetensors",
    "module": {"target_bpp": [0.04, 0.09, 0.19], "mse_weight": 150.0, "lpips_weight": 1.0,
               "adversarial_weight": 0.15, "adversarial_start_step": 500, "freeze_analysis": True},
}
RESULTS = {"results": {"quality": [1.0, 3.0], "bpp": [0.03, 0.15], "psnr-rgb": [18.0, 21.5],
                       "ms-ssim-rgb": [0.6, 0.8], "lpips": [0.65, 0.5]}}


def test_gan_card_quotes_the_matched_rate_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [
        {"quality": 1.0, "bpp": 0.03, "lpips": 0.65, "references": {"hevc-444": {"lpips@2x": None}}},
        {"quality": 3.0, "bpp": 0.09, "lpips": 0.30, "references": {"hevc-444": {"lpips@2x": 0.25}}},
    ]
    (tmp_path / "table.json").write_text(json.dumps({"rows": rows, "grid": None}))
    monkeypatch.setattr(model_card, "GAN_REPORT", tmp_path)
    text = model_card.card(registry.get("gan"), RECORD, RESULTS)
    assert "| 1 | 0.0300 | 18.00 | 0.6000 | 0.650 |" in text  # Kodak table with LPIPS
    assert "| 1 | 0.0300 | 0.650 | below range | n/a |" in text
    assert "| 3 | 0.0900 | 0.300 | 0.250 | NOT lower |" in text
    assert "rate controlled to [0.04, 0.09, 0.19] bpp" in text and "g_a frozen" in text
    assert "BD-rate" not in text  # PSNR BD-rates mean little for a GAN decoder
