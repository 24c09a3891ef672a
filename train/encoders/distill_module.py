"""Encoder distillation: train a small ``g_a`` to reproduce a trained codec's latents.

The student maps pixels to the teacher's latent ``y`` (before the quality gain), so it pairs
with the teacher's hyperprior, entropy models and decoder unchanged. The loss is the mean
squared error between the two latents, ``mean((g_a_student(x) - g_a_teacher(x))²)``: the
latent a decoder sees is ``round(y · gain(q))``, so an error much smaller than the quantisation
step ``1 / gain(q)`` changes few symbols. The same module fine-tunes a pruned copy of the
teacher (``init_weights`` from ``train/encoders/prune.py``) and trains a new architecture from scratch.
"""

from __future__ import annotations

import pytorch_lightning as pl
import torch
from safetensors.torch import load_file
from torch import Tensor, nn

from neuralcodec import pixels, registry, weights
from neuralcodec.models.encoders import build_encoder

__all__ = ["EncoderDistillationModule"]


class EncoderDistillationModule(pl.LightningModule):
    """Student-teacher latent regression for an encoder variant.

    Args:
        encoder: Key of :data:`neuralcodec.registry.ENCODER_ARCHITECTURES` (the student).
        codec: The teacher codec (its shipped weights are loaded and frozen).
        init_weights: safetensors file with the student's initial weights (e.g. the pruned
            teacher written by ``train/encoders/prune.py``); random initialisation when None. Use
            Lightning's ``--ckpt_path`` to resume a run with its optimizer.
        lr: Adam learning rate.
        lr_drop_step: Global step at which the learning rate drops tenfold.
        clip_norm: Gradient-norm clip.
    """

    def __init__(
        self,
        encoder: str = "pruned-50",
        codec: str = "hyperprior",
        init_weights: str | None = None,
        lr: float = 1e-4,
        lr_drop_step: int = 1_000_000,
        clip_norm: float = 1.0,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.student = build_encoder(registry.ENCODER_ARCHITECTURES[encoder])
        if init_weights:
            self.student.load_state_dict(load_file(init_weights), strict=True)
        teacher, _ = weights.load_model(registry.get(codec))
        # Kept out of the state dict and the optimizer: only the student is trained and saved.
        self._teacher: list[nn.Module] = [teacher.g_a.eval().requires_grad_(False)]

    @property
    def teacher(self) -> nn.Module:
        """The frozen teacher ``g_a``."""
        return self._teacher[0]

    def on_fit_start(self) -> None:
        self.teacher.to(self.device)

    def _step(self, x: Tensor, stage: str) -> Tensor:
        with torch.no_grad():
            y_teacher = self.teacher(x)  # (N, M, H/16, W/16)
        y_student = self.student(x)
        loss = (y_student - y_teacher).square().mean()
        # Relative error: the fraction of the teacher's latent energy the student misses.
        relative = loss / y_teacher.square().mean().clamp_min(1e-12)
        self.log_dict(
            {f"{stage}/latent_mse": loss, f"{stage}/relative_mse": relative},
            prog_bar=True,
            batch_size=x.size(0),
        )
        return loss

    def training_step(self, batch: Tensor, batch_idx: int) -> Tensor:
        lr = self.hparams.lr * (0.1 if self.global_step >= self.hparams.lr_drop_step else 1.0)
        for group in self.optimizers().param_groups:  # type: ignore[union-attr]
            group["lr"] = lr
        return self._step(batch, "train")

    def validation_step(self, batch: Tensor, batch_idx: int) -> None:
        self._step(pixels.pad_to_multiple(batch, 16), "val")

    def configure_gradient_clipping(
        self, optimizer: torch.optim.Optimizer, gradient_clip_val: float | None = None,
        gradient_clip_algorithm: str | None = None,
    ) -> None:
        self.clip_gradients(optimizer, gradient_clip_val=self.hparams.clip_norm)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.Adam(self.student.parameters(), lr=self.hparams.lr)
