"""GAN training: both stages on generated photos, the rate controller, and the hyperprior start."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

pl = pytest.importorskip("pytorch_lightning", reason="training extras not installed")

from neuralcodec import registry  # noqa: E402
from neuralcodec.models import GenerativeHyperprior  # noqa: E402
from train.codec.data import PhotoDataModule  # noqa: E402
from train.codec.gan_init import from_hyperprior_state  # noqa: E402
from train.codec.losses import RateController, discriminator_loss, generator_loss  # noqa: E402

from neuralcodec_testing import quiet_trainer, write_photos  # noqa: E402


def _lpips_or_skip() -> None:
    from neuralcodec.perceptual import LpipsUnavailableError, lpips_alex

    try:
        lpips_alex()
    except LpipsUnavailableError as error:
        pytest.skip(str(error))


def test_rate_controller_steers_each_level_towards_its_target() -> None:
    controller = RateController((0.1, 0.4), initial_weight=1.0, step=0.5)
    levels = torch.tensor([[1.0, 0.0], [0.0, 1.0]])  # one sample at each level
    controller.update(levels, torch.tensor([0.2, 0.2]))  # level 1 over target, level 2 under
    weights = controller.weight(levels)
    assert weights[0] == pytest.approx(math.exp(0.5 * math.log(2)))
    assert weights[1] == pytest.approx(math.exp(0.5 * math.log(0.5)))
    half = torch.tensor([[0.5, 0.5]])
    assert float(controller.target(half)) == pytest.approx(0.2)  # log-linear between levels
    unchanged = controller.log_weight.clone()
    controller.update(torch.tensor([[1.0, 0.0]]), torch.tensor([0.1]))  # on target: no move
    assert torch.allclose(controller.log_weight, unchanged)


def test_gan_losses_reward_the_right_side() -> None:
    confident = torch.full((2, 1, 4, 4), 5.0)
    assert discriminator_loss(confident, -confident) < discriminator_loss(-confident, confident)
    assert generator_loss(confident) < generator_loss(-confident)


def test_starting_from_a_hyperprior_keeps_its_encoder_and_places_the_gains() -> None:
    torch.manual_seed(0)
    hyperprior = registry.get("test-tiny").build()
    gan = registry.get("test-tiny-gan").build()
    assert isinstance(gan, GenerativeHyperprior)
    trunk_before = {k: v.clone() for k, v in gan.g_s.trunk.state_dict().items()}
    state = hyperprior.state_dict()
    from_hyperprior_state(gan, state, registry.MSE_LAMBDAS, registry.GAN_LAMBDAS)
    assert torch.equal(gan.g_a[0].weight, hyperprior.g_a[0].weight)
    assert torch.equal(gan.h_s[0].weight, hyperprior.h_s[0].weight)
    assert torch.equal(gan.g_s.upsample[0].weight, hyperprior.g_s[0].weight)  # the MSE decoder
    assert all(torch.equal(v, trunk_before[k]) for k, v in gan.g_s.trunk.state_dict().items())
    # The trunk starts at identity: the generator decodes exactly as the hyperprior's g_s.
    y_hat = torch.randn(1, registry.ARCHITECTURES["generative-tiny"].config.M, 4, 4)
    assert torch.allclose(gan.g_s(y_hat), hyperprior.g_s(y_hat), atol=1e-6)
    step = 0.5 * math.log(registry.GAN_LAMBDAS[0] / registry.MSE_LAMBDAS[0])
    assert torch.allclose(gan.log_gain[0], hyperprior.log_gain[0] + step)
    assert torch.allclose(gan.log_inv_gain[0], hyperprior.log_inv_gain[0] - step)
    assert bool((gan.log_gain[0] < gan.log_gain[2]).all())  # quality 1 is the coarsest


def test_both_stages_train(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _lpips_or_skip()
    from train.codec.gan_module import GenerativeModule

    root = tmp_path / "data"
    write_photos(root / "photos", 3)
    write_photos(root / "kodak", 1, seed=1)
    monkeypatch.setenv("NEURALCODEC_DATA", str(root))
    torch.manual_seed(0)
    module = GenerativeModule(
        codec="test-tiny-gan",
        target_bpp=(0.05, 0.1, 0.2),
        adversarial_start_step=1,
        freeze_analysis=True,
        discriminator_widths=(4, 4, 4, 4),
        val_qualities=(1.0, 3.0),
    )
    with torch.no_grad():  # random-init latents all round to 0: raise the gains so they do not
        module.model.log_gain += math.log(64.0)
    codec_before = {k: v.detach().clone() for k, v in module.model.named_parameters()}
    d_before = {k: v.detach().clone() for k, v in module.discriminator.named_parameters()}
    rate_before = module.rate_controller.log_weight.clone()
    trainer = quiet_trainer(tmp_path, fast_dev_run=2)
    data = PhotoDataModule(num_val_images=1, patch_size=64, batch_size=2, steps_per_epoch=2)
    trainer.fit(module, datamodule=data)
    assert trainer.global_step == 2
    changed = {k for k, v in module.model.named_parameters() if not torch.equal(v, codec_before[k])}
    assert not any(k.startswith("g_a.") for k in changed)  # frozen
    assert {"g_s.trunk.0.body.0.weight", "log_gain"} <= changed and any(k.endswith("quantiles") for k in changed)
    # Step 0 is stage 1 only; step 1 trains the discriminator.
    assert any(not torch.equal(v, d_before[k]) for k, v in module.discriminator.named_parameters())
    assert not torch.equal(module.rate_controller.log_weight, rate_before)
    logged = trainer.callback_metrics
    assert {"val/bpp_q1", "val/psnr_q3", "val/lpips_q3"} <= set(logged)
