"""Train a codec: ``python -m train.fit fit --config train/configs/hyperprior.yaml``.

LightningCLI reads the YAML; every option can be overridden on the command line, e.g.
``--trainer.devices 4 --trainer.strategy ddp --trainer.precision bf16-mixed``, and
``--ckpt_path last.ckpt`` resumes a run with its optimizer state.
"""

from __future__ import annotations

from pytorch_lightning.cli import LightningCLI

from train.data import PhotoDataModule
from train.rd_module import RateDistortionModule

__all__ = ["main"]


def main() -> None:
    """Run the Lightning CLI for the rate-distortion module."""
    LightningCLI(RateDistortionModule, PhotoDataModule, save_config_kwargs={"overwrite": True})


if __name__ == "__main__":
    main()
