"""``train.codec.export --half g_s``: g_s in float16, the same bitstream."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from neuralcodec import registry
from neuralcodec_testing import TINY_GAN, make_tiny_model
from train.codec.checkpoints import MODEL_PREFIX
from train.codec.export import export


def test_half_synthesis_halves_g_s_and_keeps_the_bitstream(tmp_path: Path) -> None:
    trained = make_tiny_model(name=TINY_GAN)
    checkpoint = tmp_path / "last.ckpt"
    state = {MODEL_PREFIX + k: v for k, v in trained.state_dict().items()}
    torch.save({"state_dict": state, "global_step": 2}, checkpoint)
    files = {half: export(checkpoint, TINY_GAN, tmp_path / str(half), "test", half=("g_s",) if half else ())
             for half in (False, True)}
    full, half = (load_file(str(files[h])) for h in (False, True))
    assert {k for k, v in half.items() if v.dtype == torch.float16} == {
        k for k, v in full.items() if k.startswith("g_s.") and v.is_floating_point()}
    assert files[True].stat().st_size < files[False].stat().st_size
    x = torch.rand(1, 3, 64, 64)
    streams = []
    for tensors in (full, half):
        model = registry.get(TINY_GAN).build()
        model.load_state_dict(tensors, strict=True)
        model.eval()
        with torch.inference_mode():
            streams.append(model.compress(x, 2.0, 1024).streams)
        assert model.g_s.trunk[0].body[0].weight.dtype == torch.float32  # loaded back as float32
    assert streams[0] == streams[1]


def test_half_refuses_other_parts(tmp_path: Path) -> None:
    checkpoint = tmp_path / "last.ckpt"
    state = {MODEL_PREFIX + k: v for k, v in make_tiny_model().state_dict().items()}
    torch.save({"state_dict": state, "global_step": 2}, checkpoint)
    with pytest.raises(ValueError, match="entropy_bottleneck"):
        export(checkpoint, "test-tiny", tmp_path, "test", half=("entropy_bottleneck",))
