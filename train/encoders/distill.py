"""Train an encoder variant against a codec's g_a: ``python -m train.encoders.distill fit --config train/configs/encoder-pruned-50.yaml``.

LightningCLI reads the YAML; ``--ckpt_path runs/.../last.ckpt`` resumes a run with its
optimizer state. Export the result with ``python -m train.encoders.export_encoder``.
"""

from __future__ import annotations

from pytorch_lightning.cli import LightningCLI

from train.codec.data import PhotoDataModule
from train.encoders.distill_module import EncoderDistillationModule

__all__ = ["main"]


def main() -> None:
    """Run the Lightning CLI for the encoder distillation module."""
    LightningCLI(EncoderDistillationModule, PhotoDataModule, save_config_kwargs={"overwrite": True})


if __name__ == "__main__":
    main()
