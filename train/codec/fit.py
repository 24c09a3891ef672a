"""Train a codec: ``python -m train.codec.fit fit --config train/configs/hyperprior.yaml``.

LightningCLI reads the YAML, whose ``model.class_path`` picks the training module
(``train.codec.rd_module.RateDistortionModule`` for the MSE codec, ``train.codec.gan_module.GenerativeModule``
for the GAN codec). Every option can be overridden on the command line, e.g.
``--trainer.devices 4 --trainer.strategy ddp --trainer.precision bf16-mixed``, and
``--ckpt_path last.ckpt`` resumes a run with its optimizer state.
"""

from __future__ import annotations

from pytorch_lightning.cli import LightningCLI

from train.codec.data import PhotoDataModule

__all__ = ["main"]


def main() -> None:
    """Run the Lightning CLI; the config names the LightningModule."""
    LightningCLI(
        datamodule_class=PhotoDataModule,
        subclass_mode_model=True,
        save_config_kwargs={"overwrite": True},
    )


if __name__ == "__main__":
    main()
