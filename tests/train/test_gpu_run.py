"""The GPU run's plumbing: packed photos, state in shards under the size limit, and back."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image

pytest.importorskip("pytorch_lightning", reason="training extras not installed")

from neuralcodec_testing import make_tiny_model, write_photos  # noqa: E402
from train.codec.checkpoints import AVERAGE_PREFIX, MODEL_PREFIX, restore_model  # noqa: E402
from train.codec.gpu import load_shards, pack_photos, save_shards  # noqa: E402


def test_pack_photos_downscales_to_jpeg(tmp_path: Path) -> None:
    write_photos(tmp_path / "photos", 2, size=300)
    total = pack_photos(tmp_path / "photos", tmp_path / "packed", long_side=128, quality=90)
    packed = sorted((tmp_path / "packed").glob("*.jpg"))
    assert len(packed) == 2 and total == sum(p.stat().st_size for p in packed)
    with Image.open(packed[0]) as image:
        assert image.format == "JPEG" and max(image.size) == 128


def _checkpoint(with_average: bool) -> dict:
    model, average = make_tiny_model(seed=0), make_tiny_model(seed=1)
    state = {MODEL_PREFIX + k: v for k, v in model.state_dict().items()}
    if with_average:
        state |= {AVERAGE_PREFIX + k: v for k, v in average.state_dict().items()}
    return {"state_dict": state, "global_step": 7, "hyper_parameters": {"lr": 5e-4},
            "datamodule_hyper_parameters": {"patch_size": 256, "batch_size": 64}}


@pytest.mark.parametrize("with_average", [True, False])
def test_shards_stay_under_the_limit_and_join_to_the_weights_to_keep(tmp_path: Path, with_average: bool) -> None:
    checkpoint = _checkpoint(with_average)
    limit = 900_000  # the tiny model: 0.95 MB, of which its CDF table is 0.8 MB: two files
    paths = save_shards(checkpoint, tmp_path, max_bytes=limit)
    assert len(paths) > 1 and all(p.stat().st_size <= limit for p in paths)
    joined = load_shards(tmp_path)
    assert joined["global_step"] == 7 and joined["hyper_parameters"] == {"lr": 5e-4}
    assert joined["datamodule_hyper_parameters"]["batch_size"] == 64
    kept = AVERAGE_PREFIX if with_average else MODEL_PREFIX  # the average travels as the model
    model = make_tiny_model(seed=2)
    restore_model(model, joined, MODEL_PREFIX)
    for key, value in model.state_dict().items():
        assert torch.equal(value, checkpoint["state_dict"][kept + key]), key


def test_a_tensor_over_the_limit_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="exceeds"):
        save_shards(_checkpoint(False), tmp_path, max_bytes=1000)


@pytest.mark.weights
@pytest.mark.slow  # about 25 s on a busy 2-core machine
def test_gpu_command_dry_run_on_the_cpu(tmp_path: Path) -> None:
    """``DRY_RUN=1 bash train/codec/gpu_run.sh``: the device command itself, two tiny CPU steps."""
    import os
    import subprocess
    import sys

    from neuralcodec import registry
    from neuralcodec.weights import weights_path

    if not weights_path(registry.get("hyperprior")).is_file():
        pytest.skip("shipped hyperprior weights not installed")
    repo = Path(__file__).resolve().parents[2]
    write_photos(tmp_path / "data" / "photos", 2)
    env = {**os.environ, "DRY_RUN": "1", "PYTHON": sys.executable, "OUT": str(tmp_path / "out"),
           "RUN": str(tmp_path / "run"), "NEURALCODEC_DATA": str(tmp_path / "data")}
    done = subprocess.run(["bash", "train/codec/gpu_run.sh"], cwd=repo, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    shards = sorted((tmp_path / "out").glob("state-*.safetensors"))
    assert shards and all(p.stat().st_size < 16 * 2**20 for p in shards)
    assert (tmp_path / "out" / "metrics.csv").is_file()
    assert load_shards(tmp_path / "out")["global_step"] == 2
