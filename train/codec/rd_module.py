"""Rate-distortion training of the variable-rate hyperprior with PyTorch Lightning."""

from __future__ import annotations

from pathlib import Path

import pytorch_lightning as pl
import torch
from torch import Tensor

from neuralcodec import pixels, registry
from neuralcodec.metrics import psnr_from_mse
from neuralcodec.models import CodecModel
from neuralcodec.weights import read_tensors
from train.codec.checkpoints import AVERAGE_PREFIX, MODEL_PREFIX, restore_model
from train.codec.losses import bits_per_pixel
from train.codec.optim import WeightAverage, codec_parameters, scheduled_lr, step_codec
from train.codec.validation import coded_metrics

__all__ = ["RateDistortionModule"]


class RateDistortionModule(pl.LightningModule):
    """Trains every quality at once: each sample draws its own quality uniformly in the codec's range.

    Loss per sample: ``λ(q) · 255² · MSE + bpp``, with λ(q) the registry's log-linear
    interpolation of the codec's lambdas (CompressAI's MSE lambdas, ``registry.MSE_LAMBDAS``).
    Two optimizers (network, entropy-bottleneck quantiles), gradient clipping, a learning-rate
    schedule (:func:`train.codec.optim.scheduled_lr`) and, optionally, a weight average for export.
    Validation entropy-codes real bitstreams at ``val_qualities`` and logs their bpp and PSNR.

    Args:
        codec: Registry name; fixes the architecture.
        lr: Adam learning rate of the network (the peak, after warm-up).
        aux_lr: Adam learning rate of the quantiles.
        lr_drop_step: Step from which the learning rate is tenfold lower (without a cosine).
        warmup_steps: Linear learning-rate warm-up.
        cosine_steps: If set, a cosine decay of the learning rate that ends at this step.
        clip_norm: Gradient-norm clip.
        rounded_synthesis: g_s decodes the rounded latent (straight-through gradient) rather
            than the noisy one ("mixed quantization").
        average_decay: If set, keep an exponential moving average of the weights with this
            decay (``train.codec.export --average`` exports it).
        channels_last: Train in the channels-last memory format (faster convolutions on CPU).
        bf16: Run the transforms under bfloat16 autocast (the entropy models stay float32).
        compile: Compile the model's training pass with ``torch.compile`` (GPU runs).
        val_qualities: Qualities coded during validation.
        init_weights: Weights to start from with a fresh optimizer and step 0: a safetensors
            file (e.g. the shipped weights) or a Lightning checkpoint (its model and weight
            average). Use Lightning's ``--ckpt_path`` to resume a run with its optimizer. A list
            of safetensors files is loaded in order, each over the ones before (e.g. a codec's
            slice networks, then newer transforms from another file).
        init_partial: ``init_weights`` may lack some of the model's parameters (those start
            fresh), e.g. hyperprior weights for the channel-conditional codec; it must not hold
            any the model lacks.
        train_only: If set, only these top-level modules of the codec train (with the entropy
            bottleneck); the rest stays as loaded, e.g. ``[context, residual]`` to fit a new
            entropy model to trained transforms at a fraction of the cost.
    """

    def __init__(
        self,
        codec: str = registry.DEFAULT_CODEC,
        lr: float = 1e-4,
        aux_lr: float = 1e-3,
        lr_drop_step: int = 1_000_000,
        warmup_steps: int = 0,
        cosine_steps: int | None = None,
        clip_norm: float = 1.0,
        rounded_synthesis: bool = False,
        average_decay: float | None = None,
        channels_last: bool = False,
        bf16: bool = False,
        compile: bool = False,
        val_qualities: tuple[float, ...] = (1.0, 4.0, 8.0),
        init_weights: str | list[str] | None = None,
        init_partial: bool = False,
        train_only: tuple[str, ...] = (),
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.automatic_optimization = False
        self.spec = registry.get(codec)
        self.model: CodecModel = self.spec.build()
        self.model.rounded_synthesis_input = rounded_synthesis
        checkpoint = self._load_init_weights(init_weights, strict=not init_partial)
        if train_only:
            self._train_only({*train_only, "entropy_bottleneck"})
        if channels_last:
            self.model.to(memory_format=torch.channels_last)
        self.average = WeightAverage(self.model, average_decay) if average_decay else None
        if compile:  # compiles __call__ only: state-dict keys and compress/decompress unchanged
            self.model.compile()
        if self.average is not None and checkpoint is not None and any(
            k.startswith(AVERAGE_PREFIX) for k in checkpoint["state_dict"]
        ):
            restore_model(self.average.model, checkpoint, AVERAGE_PREFIX)

    def _load_init_weights(self, path: str | list[str] | None, strict: bool) -> dict | None:
        """Load ``init_weights`` into the model; return the checkpoint if it was one."""
        if not path:
            return None
        if isinstance(path, list) or path.endswith(".safetensors"):
            files = [path] if isinstance(path, str) else path
            if not all(f.endswith(".safetensors") for f in files):
                raise ValueError(f"init_weights: a list takes safetensors files only, got {files}")
            state = {}
            for file in files:
                state.update(read_tensors(Path(file))[1])
            if not strict:  # the parameters the files lack keep their fresh values
                state = {**self.model.state_dict(), **state}
            self.model.load_state_dict(state, strict=True)
            return None
        checkpoint: dict = torch.load(path, map_location="cpu", weights_only=True)
        restore_model(self.model, checkpoint, MODEL_PREFIX, strict=strict)
        return checkpoint

    def _train_only(self, modules: set[str]) -> None:
        """Freeze every parameter outside the top-level ``modules`` (the gains included)."""
        unknown = modules - {name for name, _ in self.model.named_children()}
        if unknown:
            raise ValueError(f"train_only: the codec has no modules {sorted(unknown)}")
        for name, parameter in self.model.named_parameters():
            parameter.requires_grad_(name.split(".", 1)[0] in modules)

    def _lambdas(self, quality: Tensor) -> Tensor:
        """λ of each sample's quality, from the registry's quality scale."""
        values = [self.spec.lambda_for_quality(q) for q in quality.tolist()]
        return torch.tensor(values, dtype=quality.dtype, device=quality.device)

    def rate_distortion(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Loss (scalar), bpp (N,) and MSE (N,) of a batch, each sample at a random quality."""
        n, _, h, w = x.shape
        if self.hparams.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        quality = torch.empty(n, device=x.device).uniform_(*self.spec.quality_range)
        with torch.autocast(x.device.type, torch.bfloat16, enabled=self.hparams.bf16):
            out = self.model(x, quality)
        bpp = bits_per_pixel(out.likelihoods, h * w)  # (N,)
        mse = (out.x_hat - x).square().flatten(1).mean(1)  # (N,)
        loss = (self._lambdas(quality) * 255**2 * mse + bpp).mean()
        return loss, bpp, mse

    def _step(self, x: Tensor, stage: str) -> Tensor:
        loss, bpp, mse = self.rate_distortion(x)
        self.log_dict(
            {
                f"{stage}/loss": loss,
                f"{stage}/bpp": bpp.mean(),
                f"{stage}/psnr": psnr_from_mse(mse).mean(),
            },
            prog_bar=stage == "train",
            batch_size=x.size(0),
        )
        return loss

    def training_step(self, batch: Tensor, batch_idx: int) -> None:
        net_opt, aux_opt = self.optimizers()  # type: ignore[misc]
        hp = self.hparams
        lr = scheduled_lr(
            self.global_step, hp.lr, hp.warmup_steps, hp.cosine_steps, drop_step=hp.lr_drop_step
        )
        for group in net_opt.param_groups:
            group["lr"] = lr
        loss = self._step(batch, "train")
        aux_loss = step_codec(self, self.model, loss, net_opt, aux_opt, hp.clip_norm)
        if self.average is not None:
            self.average.update(self.model)
        self.log_dict({"train/aux_loss": aux_loss, "train/lr": lr})

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        restore_model(self.model, checkpoint, MODEL_PREFIX)
        if self.average is not None:
            restore_model(self.average.model, checkpoint, AVERAGE_PREFIX)

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
