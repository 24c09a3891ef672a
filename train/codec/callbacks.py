"""Lightning callbacks shared by the training recipes."""

from __future__ import annotations

from pathlib import Path

import pytorch_lightning as pl

__all__ = ["FinalCheckpoint"]


class FinalCheckpoint(pl.Callback):
    """Writes ``last.ckpt`` beside the ModelCheckpoint's files when training ends, however it ends.

    ModelCheckpoint saves every n steps only, so a run stopped by ``max_time`` (or Ctrl-C) would
    lose the steps since its last save; this saves the final step too.
    """

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._save(trainer)

    def on_exception(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException
    ) -> None:
        self._save(trainer)

    @staticmethod
    def _save(trainer: pl.Trainer) -> None:
        callback = trainer.checkpoint_callback
        if callback is None or getattr(callback, "dirpath", None) is None:
            return
        trainer.save_checkpoint(Path(callback.dirpath) / "last.ckpt")  # type: ignore[union-attr]
