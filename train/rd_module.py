"""Rate-distortion training of the variable-rate hyperprior with PyTorch Lightning."""

from __future__ import annotations

import pytorch_lightning as pl
import torch
from safetensors.torch import load_file
from torch import Tensor

from neuralcodec import pixels, registry
from neuralcodec.models import CodecModel
from train.checkpoints import restore_model
from train.losses import bits_per_pixel
from train.optim import codec_parameters, step_codec
from train.validation import coded_metrics

__all__ = ["RateDistortionModule"]


class RateDistortionModule(pl.LightningModule):
    """Trains every quality at once: each sample draws its own quality uniformly in the codec's range.

    Loss per sample: ``λ(q) · 255² · MSE + bpp``, with λ(q) the registry's log-linear
    interpolation of the codec's lambdas (CompressAI's MSE lambdas, ``registry.MSE_LAMBDAS``). Two optimizers (network, entropy-bottleneck
    quantiles), gradient clipping, and an LR drop at ``lr_drop_step``. Validation entropy-codes
    real bitstreams at ``val_qualities`` and logs their bpp and PSNR.

    Args:
        codec: Registry name; fixes the architecture.
        lr: Adam learning rate of the network.
        aux_lr: Adam learning rate of the quantiles.
        lr_drop_step: Global step at which the learning rate drops tenfold.
        clip_norm: Gradient-norm clip.
        val_qualities: Qualities coded during validation.
        init_weights: safetensors file to start from (e.g. the shipped weights); a fresh
            optimizer. Use Lightning's ``--ckpt_path`` to resume a run with its optimizer.
    """

    def __init__(
        self,
        codec: str = registry.DEFAULT_CODEC,
        lr: float = 1e-4,
        aux_lr: float = 1e-3,
        lr_drop_step: int = 1_000_000,
        clip_norm: float = 1.0,
        val_qualities: tuple[float, ...] = (1.0, 4.0, 8.0),
        init_weights: str | None = None,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.automatic_optimization = False
        self.spec = registry.get(codec)
        self.model: CodecModel = self.spec.build()
        if init_weights:
            self.model.load_state_dict(load_file(init_weights), strict=True)

    def _lambdas(self, quality: Tensor) -> Tensor:
        """λ of each sample's quality, from the registry's quality scale."""
        values = [self.spec.lambda_for_quality(q) for q in quality.tolist()]
        return torch.tensor(values, dtype=quality.dtype, device=quality.device)

    def _step(self, x: Tensor, stage: str) -> Tensor:
        n, _, h, w = x.shape
        quality = torch.empty(n, device=x.device).uniform_(*self.spec.quality_range)
        out = self.model(x, quality)
        bpp = bits_per_pixel(out.likelihoods, h * w)  # (N,)
        mse = (out.x_hat - x).square().flatten(1).mean(1)  # (N,)
        loss = (self._lambdas(quality) * 255**2 * mse + bpp).mean()
        self.log_dict(
            {
                f"{stage}/loss": loss,
                f"{stage}/bpp": bpp.mean(),
                f"{stage}/psnr": (-10 * torch.log10(mse.clamp_min(1e-10))).mean(),
            },
            prog_bar=stage == "train",
            batch_size=n,
        )
        return loss

    def training_step(self, batch: Tensor, batch_idx: int) -> None:
        net_opt, aux_opt = self.optimizers()  # type: ignore[misc]
        lr = self.hparams.lr * (0.1 if self.global_step >= self.hparams.lr_drop_step else 1.0)
        for group in net_opt.param_groups:
            group["lr"] = lr
        loss = self._step(batch, "train")
        aux_loss = step_codec(self, self.model, loss, net_opt, aux_opt, self.hparams.clip_norm)
        self.log("train/aux_loss", aux_loss)

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        restore_model(self.model, checkpoint)

    def on_validation_epoch_start(self) -> None:
        self.model.update(force=True)

    def validation_step(self, batch: Tensor, batch_idx: int) -> None:
        x = pixels.pad_to_multiple(batch, self.model.downsampling_factor)
        self._step(x, "val")
        coded = coded_metrics(self.model, batch, self.hparams.val_qualities)
        self.log_dict({f"val/{k}": v for k, v in coded.items()}, batch_size=1)

    def configure_optimizers(self) -> list[torch.optim.Optimizer]:
        net, aux = codec_parameters(self.model)
        return [
            torch.optim.Adam(net, lr=self.hparams.lr),
            torch.optim.Adam(aux, lr=self.hparams.aux_lr),
        ]
