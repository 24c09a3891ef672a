"""Lightning training of task models: a latent head or its pixel baseline, one task each.

Classification logs ``{stage}/loss``, ``{stage}/top1`` and ``{stage}/top5``; segmentation logs
``{stage}/loss``, ``{stage}/miou`` and ``{stage}/pixel_acc`` (confusion matrix over the whole
validation set, the ignore label left out, synchronised across DDP processes by torchmetrics).
"""

from __future__ import annotations

import math

import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from torch import Tensor
from torchmetrics.classification import MulticlassAccuracy, MulticlassConfusionMatrix

from neuralcodec.heads import HeadConfig, build_head

__all__ = ["TaskModule", "miou_from_confusion"]


def miou_from_confusion(confusion: Tensor) -> tuple[float, Tensor]:
    """Mean IoU over classes present in the targets or predictions, and IoU per class (NaN if absent).

    Args:
        confusion: (K, K) counts, rows = target, columns = prediction.
    """
    confusion = confusion.double()
    tp = confusion.diag()
    union = confusion.sum(0) + confusion.sum(1) - tp
    iou = torch.where(union > 0, tp / union.clamp_min(1), torch.full_like(tp, float("nan")))
    present = ~iou.isnan()
    return (float(iou[present].mean()) if bool(present.any()) else 0.0), iou


class TaskModule(pl.LightningModule):
    """Trains one :class:`~neuralcodec.heads.HeadConfig` model with AdamW and a cosine schedule.

    Args:
        task: ``classify`` or ``segment``.
        input: ``latent`` (ungained y_hat) or ``pixel`` (original or decoded images).
        num_classes: Classes (segmentation: without the ignore label).
        ignore_index: Segmentation label to ignore (CamVid 11, Cityscapes 255).
        in_channels: M of the codec's latents.
        width: Trunk width.
        blocks: Residual blocks per stage.
        stages: Trunk stages.
        dropout: Dropout before the classifier.
        lr: Peak learning rate.
        weight_decay: AdamW weight decay.
        warmup_epochs: Linear warm-up before the cosine decay.
        label_smoothing: Classification label smoothing.
        latent_stats: Set the latent input's per-channel mean/std from the training set at
            the start of training (latent input only).
    """

    def __init__(
        self,
        task: str = "classify",
        input: str = "latent",
        num_classes: int = 10,
        ignore_index: int = 255,
        in_channels: int = 192,
        width: int = 64,
        blocks: int = 1,
        stages: int = 2,
        dropout: float = 0.2,
        lr: float = 2e-3,
        weight_decay: float = 0.05,
        warmup_epochs: float = 1.0,
        label_smoothing: float = 0.1,
        latent_stats: bool = True,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.config = HeadConfig(task, input, num_classes, in_channels, width, blocks, stages, dropout)
        self.model = build_head(self.config)
        if task == "classify":
            self.top1 = MulticlassAccuracy(num_classes, top_k=1, average="micro")
            self.top5 = MulticlassAccuracy(num_classes, top_k=min(5, num_classes), average="micro")
        else:
            self.confusion = MulticlassConfusionMatrix(num_classes, ignore_index=ignore_index)

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x)  # type: ignore[no-any-return]

    def _loss(self, scores: Tensor, y: Tensor) -> Tensor:
        if self.config.task == "classify":
            return F.cross_entropy(scores, y, label_smoothing=self.hparams.label_smoothing)
        return F.cross_entropy(scores, y, ignore_index=self.hparams.ignore_index)

    def _step(self, batch: dict[str, Tensor], stage: str) -> Tensor:
        x, y = batch["x"], batch["y"]
        scores = self(x)
        if self.config.task == "segment":
            scores = scores[..., : y.shape[-2], : y.shape[-1]]
        loss = self._loss(scores, y)
        self.log(f"{stage}/loss", loss, prog_bar=True, batch_size=len(y), sync_dist=stage != "train")
        if stage != "train":
            if self.config.task == "classify":
                self.top1.update(scores, y)
                self.top5.update(scores, y)
            else:
                self.confusion.update(scores.argmax(1), y)
        return loss

    def training_step(self, batch: dict[str, Tensor], batch_idx: int) -> Tensor:
        return self._step(batch, "train")

    def validation_step(self, batch: dict[str, Tensor], batch_idx: int) -> None:
        self._step(batch, "val")

    def test_step(self, batch: dict[str, Tensor], batch_idx: int) -> None:
        self._step(batch, "test")

    def _log_epoch_metrics(self, stage: str) -> None:
        if self.config.task == "classify":
            self.log(f"{stage}/top1", self.top1.compute(), prog_bar=True)
            self.log(f"{stage}/top5", self.top5.compute())
            self.top1.reset()
            self.top5.reset()
        else:
            confusion = self.confusion.compute()
            miou, _ = miou_from_confusion(confusion)
            pixel_acc = float(confusion.diag().sum() / confusion.sum().clamp_min(1))
            self.log(f"{stage}/miou", miou, prog_bar=True)
            self.log(f"{stage}/pixel_acc", pixel_acc)
            self.confusion.reset()

    def on_validation_epoch_end(self) -> None:
        self._log_epoch_metrics("val")

    def on_test_epoch_end(self) -> None:
        self._log_epoch_metrics("test")

    def on_fit_start(self) -> None:
        if self.config.input != "latent" or not self.hparams.latent_stats or self.current_epoch > 0:
            return
        # Per-channel statistics of the training latents (a resumed run keeps its buffers).
        data = self.trainer.datamodule.train_set.x  # type: ignore[attr-defined]
        sample = data[: min(len(data), 2048)].float()  # (n, M, h, w)
        mean = sample.mean(dim=(0, 2, 3))
        std = sample.std(dim=(0, 2, 3))
        mean, std = (self.trainer.strategy.broadcast(t) for t in (mean, std))
        self.model.front.set_statistics(mean.to(self.device), std.to(self.device))

    def configure_optimizers(self):  # type: ignore[no-untyped-def]
        decay = [p for p in self.parameters() if p.ndim > 1]
        no_decay = [p for p in self.parameters() if p.ndim <= 1]
        optimizer = torch.optim.AdamW(
            [{"params": decay, "weight_decay": self.hparams.weight_decay},
             {"params": no_decay, "weight_decay": 0.0}],
            lr=self.hparams.lr,
        )
        total = max(int(self.trainer.estimated_stepping_batches), 1)
        epochs = max(int(self.trainer.max_epochs or 1), 1)
        warmup = int(total * self.hparams.warmup_epochs / epochs)

        def schedule(step: int) -> float:
            if step < warmup:
                return (step + 1) / (warmup + 1)
            progress = (step - warmup) / max(total - warmup, 1)
            return 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))

        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}
