"""Train a task head or a pixel baseline: ``python -m train.heads.fit_task fit --config train/configs/classify-imagenette.yaml``.

Pick what the model sees with ``--data.features latent|decoded|original`` (the model's input
kind follows: latent head or pixel baseline), and the bitstreams with ``--data.root``, e.g.
``--data.root build/datasets/imagenette-q2 --data.features decoded`` (pixels decoded from the
same files) or ``--data.source ../shared/data/imagenette --data.features original``.
``--ckpt_path last.ckpt`` resumes; ``--trainer.devices 4 --trainer.strategy ddp`` runs on
several GPUs; export the result with ``python -m train.heads.export_head``.
"""

from __future__ import annotations

from pytorch_lightning.cli import LightningCLI

from train.heads.task_data import TaskDataModule
from train.heads.task_module import TaskModule

__all__ = ["TaskCLI", "main", "model_input"]


def model_input(features: str) -> str:
    """The model's input kind for the data's features: ``latent`` or ``pixel``."""
    return "latent" if features == "latent" else "pixel"


class TaskCLI(LightningCLI):
    """LightningCLI where ``data.features`` sets ``model.input``."""

    def add_arguments_to_parser(self, parser) -> None:  # type: ignore[no-untyped-def]
        parser.link_arguments("data.features", "model.input", compute_fn=model_input)


def main(args: list[str] | None = None) -> None:
    """Run the Lightning CLI for :class:`TaskModule` on :class:`TaskDataModule`."""
    TaskCLI(TaskModule, TaskDataModule, args=args, save_config_kwargs={"overwrite": True})


if __name__ == "__main__":
    main()
