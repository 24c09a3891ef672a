"""Training-recipe options: learning-rate schedule, weight average, bf16 / channels-last steps,
rounded synthesis input, the final checkpoint and starting from a checkpoint."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

pl = pytest.importorskip("pytorch_lightning", reason="training extras not installed")

from neuralcodec import registry  # noqa: E402
from neuralcodec_testing import TINY, make_tiny_model, quiet_trainer  # noqa: E402
from train.codec.callbacks import FinalCheckpoint  # noqa: E402
from train.codec.checkpoints import AVERAGE_PREFIX  # noqa: E402
from train.codec.data import PhotoDataModule  # noqa: E402
from train.codec.optim import WeightAverage, scheduled_lr  # noqa: E402
from train.codec.rd_module import RateDistortionModule  # noqa: E402


def test_schedule_warms_up_then_follows_a_cosine_to_its_floor() -> None:
    rates = [scheduled_lr(s, 1e-3, warmup_steps=10, cosine_steps=110, final_ratio=0.01) for s in range(130)]
    assert rates[0] == pytest.approx(1e-4) and rates[9] == pytest.approx(1e-3)
    assert all(a < b for a, b in zip(rates[:10], rates[1:10]))  # rising during warm-up
    assert all(a >= b for a, b in zip(rates[10:], rates[11:]))  # then never rising
    assert rates[60] == pytest.approx(1e-3 * (0.01 + 0.99 * 0.5))  # half-way down the cosine
    assert rates[110] == rates[129] == pytest.approx(1e-5)


def test_schedule_without_cosine_keeps_the_tenfold_drop() -> None:
    assert scheduled_lr(99, 2e-4, drop_step=100) == 2e-4
    assert scheduled_lr(100, 2e-4, drop_step=100) == pytest.approx(2e-5)


def test_weight_average_moves_by_one_minus_decay() -> None:
    model = torch.nn.Linear(2, 2)
    average = WeightAverage(model, decay=0.9)
    before = model.weight.detach().clone()
    with torch.no_grad():
        model.weight += 1.0
    average.update(model)
    assert torch.allclose(average.model.weight, before + 0.1)
    assert not average.model.weight.requires_grad


def test_rounded_synthesis_input_decodes_the_rounded_latent() -> None:
    model = make_tiny_model().train()
    y = torch.randn(1, 12, 4, 4, requires_grad=True)
    rounded = torch.round(y.detach())
    assert torch.equal(model._synthesis_input(y, y + 0.3, rounded), y + 0.3)  # default: noisy
    model.rounded_synthesis_input = True
    decoded = model._synthesis_input(y, y + 0.3, rounded)
    assert torch.allclose(decoded, rounded, atol=1e-6)
    decoded.sum().backward()
    assert torch.equal(y.grad, torch.ones_like(y))  # straight-through gradient


def test_bf16_forward_keeps_the_rate_in_float32() -> None:
    model = make_tiny_model().train()
    x = torch.rand(2, 3, 64, 64)
    with torch.autocast("cpu", torch.bfloat16):
        out = model(x, torch.tensor([1.0, 8.0]))
    assert out.x_hat.dtype == torch.float32
    assert all(lk.dtype == torch.float32 for lk in out.likelihoods.values())
    assert all(lk.dtype == torch.float32 for lk in out.coded_likelihoods.values())


def _module(**options: object) -> RateDistortionModule:
    module = RateDistortionModule(codec=TINY, val_qualities=(4.0,), **options)  # type: ignore[arg-type]
    with torch.no_grad():  # random-init latents all round to 0: raise the gains so they do not
        module.model.log_gain += math.log(64.0)
    return module


def test_fast_recipe_trains_saves_its_last_step_and_restarts_from_it(
    data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """bf16 + channels-last + schedule + average; the final step is saved though no
    ModelCheckpoint save falls on it, and a new run starts from that checkpoint at step 0."""
    monkeypatch.setenv("NEURALCODEC_DATA", str(data_root))
    torch.manual_seed(0)
    options = dict(channels_last=True, bf16=True, warmup_steps=1, cosine_steps=5,
                   average_decay=0.5, rounded_synthesis=True, lr=1e-3)
    module = _module(**options)
    data = PhotoDataModule(num_val_images=1, patch_size=64, batch_size=2, steps_per_epoch=3)
    checkpoints = pl.callbacks.ModelCheckpoint(dirpath=tmp_path / "ckpt", every_n_train_steps=100)
    trainer = quiet_trainer(tmp_path, max_steps=3, limit_val_batches=0, enable_checkpointing=True,
                            callbacks=[checkpoints, FinalCheckpoint()])
    trainer.fit(module, datamodule=data)
    last = torch.load(tmp_path / "ckpt" / "last.ckpt", map_location="cpu", weights_only=True)
    assert last["global_step"] == 3
    averaged = {k: v for k, v in last["state_dict"].items() if k.startswith(AVERAGE_PREFIX)}
    key = AVERAGE_PREFIX + "g_a.0.weight"
    assert key in averaged and not torch.equal(averaged[key], last["state_dict"]["model.g_a.0.weight"])
    assert float(trainer.callback_metrics["train/lr"]) < 1e-3  # the cosine has begun

    restarted = RateDistortionModule(codec=TINY, init_weights=str(tmp_path / "ckpt" / "last.ckpt"),
                                     average_decay=0.5)
    assert torch.equal(restarted.model.g_a[0].weight, last["state_dict"]["model.g_a.0.weight"])
    assert restarted.average is not None
    assert torch.equal(restarted.average.model.g_a[0].weight, averaged[key])


def test_export_of_the_average(data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from safetensors.torch import load_file

    from train.codec.export import export

    monkeypatch.setenv("NEURALCODEC_DATA", str(data_root))
    module = _module(average_decay=0.9)
    trainer = quiet_trainer(tmp_path, max_steps=2, limit_val_batches=0)
    trainer.fit(module, datamodule=PhotoDataModule(num_val_images=1, patch_size=64, batch_size=2,
                                                   steps_per_epoch=2))
    ckpt = tmp_path / "run.ckpt"
    trainer.save_checkpoint(ckpt)
    path = export(ckpt, TINY, tmp_path / "out", "test CPU", average=True)
    state = load_file(str(path))
    assert torch.equal(state["g_a.0.weight"], module.average.model.g_a[0].weight)  # type: ignore[union-attr]
    assert not torch.equal(state["g_a.0.weight"], module.model.g_a[0].weight)
    assert registry.get(TINY).build().load_state_dict(state, strict=True) is not None


def test_channel_conditional_starts_from_hyperprior_weights(tmp_path: Path) -> None:
    """init_partial: the hyperprior's file fills every shared tensor; train_only freezes the rest;
    a list of files loads in order (slice networks of one, transforms of the next)."""
    from safetensors.torch import load_file, save_file

    hyperprior = make_tiny_model(seed=3)
    save_file(hyperprior.state_dict(), str(tmp_path / "hyperprior.safetensors"))
    module = RateDistortionModule(codec="test-tiny-cc", init_weights=str(tmp_path / "hyperprior.safetensors"),
                                  init_partial=True, train_only=("context", "residual"))
    assert torch.equal(module.model.g_s[0].weight, hyperprior.g_s[0].weight)
    trainable = {name.split(".", 1)[0] for name, p in module.model.named_parameters() if p.requires_grad}
    assert trainable == {"context", "residual", "entropy_bottleneck"}
    with pytest.raises(RuntimeError):  # without init_partial the slice networks are missing
        RateDistortionModule(codec="test-tiny-cc", init_weights=str(tmp_path / "hyperprior.safetensors"))
    with pytest.raises(ValueError, match="no modules"):
        RateDistortionModule(codec="test-tiny-cc", train_only=("contexts",))

    cc = module.model.state_dict()
    cc["context.0.4.bias"] = torch.full_like(cc["context.0.4.bias"], 0.25)
    save_file({k: v.contiguous() for k, v in cc.items()}, str(tmp_path / "cc.safetensors"))
    newer = make_tiny_model(seed=4)
    save_file(newer.state_dict(), str(tmp_path / "newer.safetensors"))
    merged = RateDistortionModule(codec="test-tiny-cc", init_partial=True,
                                  init_weights=[str(tmp_path / "cc.safetensors"), str(tmp_path / "newer.safetensors")])
    assert torch.equal(merged.model.g_a[0].weight, newer.g_a[0].weight)
    assert bool((merged.model.context[0][4].bias == 0.25).all())
    assert load_file(str(tmp_path / "cc.safetensors")).keys() == merged.model.state_dict().keys()
