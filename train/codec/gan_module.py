"""GAN training of the extreme-rate codec (HiFiC recipe) with PyTorch Lightning.

Two stages in one resumable run: until ``adversarial_start_step`` the codec learns rate, MSE and
LPIPS only; from then on a latent-conditioned discriminator joins, trained in alternation.
"""

from __future__ import annotations

from pathlib import Path

import pytorch_lightning as pl
import torch
from torch import Tensor

from neuralcodec import pixels, registry
from neuralcodec.metrics import psnr_from_mse
from neuralcodec.models import GenerativeHyperprior
from neuralcodec.weights import read_tensors
from train.codec.checkpoints import restore_model
from train.codec.discriminator import LatentConditionedDiscriminator
from train.codec.gan_init import from_hyperprior_state
from train.codec.losses import (
    PerceptualLoss,
    RateController,
    bits_per_pixel,
    discriminator_loss,
    generator_loss,
)
from train.codec.optim import codec_parameters, step_codec
from train.codec.validation import coded_metrics

__all__ = ["GenerativeModule"]


class GenerativeModule(pl.LightningModule):
    """Rate + MSE + LPIPS (+ adversarial) training of a :class:`GenerativeHyperprior`.

    Generator loss per sample, after HiFiC (Mentzer et al. 2020)::

        w(q) · bpp + mse_weight · MSE + lpips_weight · LPIPS + adversarial_weight · -log D(x_hat)

    with images in [0, 1] (HiFiC's k_M = 0.075 · 2⁻⁵ on a 0..255 scale is 152 here). The rate
    weight w(q) is set by a :class:`~train.codec.losses.RateController` so that each quality level
    reaches its ``target_bpp``, measured on the rounded latents (the rate of a file; the noisy
    training proxy is several times higher at these rates). Every sample draws its quality uniformly in the codec's range.
    Manual optimisation: codec step, entropy-bottleneck quantile step, then a discriminator step.

    Args:
        codec: Registry name of a generative codec; fixes the architecture.
        target_bpp: Target bits per pixel of each integer quality.
        mse_weight: Weight of the MSE term.
        lpips_weight: Weight of the LPIPS term.
        adversarial_weight: Weight of the generator's adversarial term (stage 2).
        adversarial_start_step: Global step at which the discriminator starts (stage 2).
        initial_rate_weight: Starting rate weight of every level.
        controller_step: The rate controller's step on the log-weights.
        lr: Adam learning rate of the codec.
        discriminator_lr: Adam learning rate of the discriminator.
        aux_lr: Adam learning rate of the entropy bottleneck's quantiles.
        lr_drop_step: Global step at which both learning rates drop tenfold.
        clip_norm: Gradient-norm clip of the codec.
        freeze_analysis: Keep g_a fixed (saves a third of the compute; for short or CPU runs).
        discriminator_widths: Channels of the discriminator's convolutions.
        val_qualities: Qualities coded during validation.
        init_weights: safetensors file to start from: this codec's own weights, or a
            hyperprior's (everything but g_s is taken over; see ``train/codec/gan_init.py``). Use
            Lightning's ``--ckpt_path`` to resume a run with its optimizers.
    """

    def __init__(
        self,
        codec: str = "gan",
        target_bpp: tuple[float, ...] = (0.04, 0.09, 0.19),
        mse_weight: float = 150.0,
        lpips_weight: float = 1.0,
        adversarial_weight: float = 0.15,
        adversarial_start_step: int = 50_000,
        initial_rate_weight: float = 2.0,
        controller_step: float = 0.02,
        lr: float = 1e-4,
        discriminator_lr: float = 1e-4,
        aux_lr: float = 1e-3,
        lr_drop_step: int = 1_000_000,
        clip_norm: float = 1.0,
        freeze_analysis: bool = False,
        discriminator_widths: tuple[int, ...] = (64, 128, 256, 512),
        val_qualities: tuple[float, ...] = (1.0, 2.0, 3.0),
        init_weights: str | None = None,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.automatic_optimization = False
        self.spec = registry.get(codec)
        if len(target_bpp) != len(self.spec.lambdas):
            raise ValueError(f"{len(target_bpp)} targets for {len(self.spec.lambdas)} quality levels")
        model = self.spec.build()
        if not isinstance(model, GenerativeHyperprior):
            raise ValueError(f"codec {codec!r} has no generative decoder")
        self.model = model
        if init_weights:
            self._load_initial(init_weights)
        self.model.g_a.requires_grad_(not freeze_analysis)
        self.discriminator = LatentConditionedDiscriminator(model.config.M, discriminator_widths)
        self.perceptual = PerceptualLoss()
        self.rate_controller = RateController(target_bpp, initial_rate_weight, controller_step)

    def _load_initial(self, path: str) -> None:
        metadata, state = read_tensors(Path(path))
        source = metadata.get("codec", self.spec.name)
        if source == self.spec.name:
            self.model.load_state_dict(state, strict=True)
        else:
            from_hyperprior_state(self.model, state, registry.get(source).lambdas, self.spec.lambdas)

    @property
    def adversarial(self) -> bool:
        """Whether the discriminator is in play (stage 2)."""
        return self.global_step >= self.hparams.adversarial_start_step

    def _generator_loss(self, x: Tensor, stage: str) -> tuple[Tensor, Tensor, Tensor]:
        """The codec's loss; also returns x_hat and y_hat for the discriminator step."""
        n, _, h, w = x.shape
        quality = torch.empty(n, device=x.device).uniform_(*self.spec.quality_range)
        levels = self.model.quality_weights(quality)  # (N, Q)
        out = self.model(x, quality)
        bpp = bits_per_pixel(out.likelihoods, h * w)  # (N,)
        mse = (out.x_hat - x).square().flatten(1).mean(1)  # (N,)
        lpips = self.perceptual(x, out.x_hat.clamp(0, 1))  # (N,)
        rate_weight = self.rate_controller.weight(levels)
        loss = (rate_weight * bpp + self.hparams.mse_weight * mse + self.hparams.lpips_weight * lpips).mean()
        logs = {"bpp": bpp.mean(), "lpips": lpips.mean(), "psnr": psnr_from_mse(mse).mean()}
        coded_bpp = bits_per_pixel(out.coded_likelihoods, h * w).detach()  # (N,) as a file would be
        logs["coded_bpp"] = coded_bpp.mean()
        if stage == "train":
            self.rate_controller.update(levels, coded_bpp)
            logs["rate_weight_q1"] = self.rate_controller.log_weight[0].exp()
        if self.adversarial:
            adversarial = generator_loss(self.discriminator(out.x_hat, out.y_hat.detach()))
            loss = loss + self.hparams.adversarial_weight * adversarial
            logs["g_adv"] = adversarial
        logs["loss"] = loss
        self.log_dict({f"{stage}/{k}": v for k, v in logs.items()}, prog_bar=stage == "train", batch_size=n)
        return loss, out.x_hat, out.y_hat

    def training_step(self, batch: Tensor, batch_idx: int) -> None:
        codec_opt, aux_opt, d_opt = self.optimizers()  # type: ignore[misc]
        scale = 0.1 if self.global_step >= self.hparams.lr_drop_step else 1.0
        for opt, lr in ((codec_opt, self.hparams.lr), (d_opt, self.hparams.discriminator_lr)):
            for group in opt.param_groups:
                group["lr"] = lr * scale
        loss, x_hat, y_hat = self._generator_loss(batch, "train")
        aux_loss = step_codec(self, self.model, loss, codec_opt, aux_opt, self.hparams.clip_norm)
        self.log("train/aux_loss", aux_loss)
        if self.adversarial:
            real = self.discriminator(batch, y_hat.detach())
            fake = self.discriminator(x_hat.detach(), y_hat.detach())
            d_loss = discriminator_loss(real, fake)
            d_opt.zero_grad()
            self.manual_backward(d_loss)
            d_opt.optimizer.step()  # the raw optimizer: global_step counts batches
            self.log("train/d_loss", d_loss, prog_bar=True)

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        restore_model(self.model, checkpoint)

    def on_validation_epoch_start(self) -> None:
        self.model.update(force=True)

    def validation_step(self, batch: Tensor, batch_idx: int) -> None:
        self._generator_loss(pixels.pad_to_multiple(batch, self.model.downsampling_factor), "val")
        coded = coded_metrics(self.model, batch, self.hparams.val_qualities, self.perceptual)
        self.log_dict({f"val/{k}": v for k, v in coded.items()}, batch_size=1)

    def configure_optimizers(self) -> list[torch.optim.Optimizer]:
        codec, aux = codec_parameters(self.model)
        return [
            torch.optim.Adam(codec, lr=self.hparams.lr),
            torch.optim.Adam(aux, lr=self.hparams.aux_lr),
            torch.optim.Adam(self.discriminator.parameters(), lr=self.hparams.discriminator_lr, betas=(0.5, 0.999)),
        ]
