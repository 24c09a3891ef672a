"""Export a trained latent head to ``weights/heads/``: the only writer of head weight files.

``python -m train.heads.export_head CKPT [--out weights/heads] [--hardware "..."]``

Reads the Lightning checkpoint of ``train.heads.fit_task`` (a latent head), takes the codec, its
weights and the quality from the training bitstreams' ``dataset.json``, saves safetensors with
metadata (see :mod:`neuralcodec.heads.loading`), names the file
``<task>-on-<codec>-q<q>-<sha8>.safetensors``, writes a training record ``<stem>.json`` for
the model card, and prints the :class:`~neuralcodec.heads.HeadSpec` line to paste into
``HEADS`` in ``neuralcodec/registry.py``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from neuralcodec import registry
from neuralcodec.dataset import read_info
from neuralcodec.heads import HEAD_FORMAT, HeadConfig, build_head, head_file_name
from neuralcodec.heads.labels import (
    CAMVID_PALETTE,
    CITYSCAPES_CLASSES,
    CITYSCAPES_PALETTE,
    IMAGENETTE_CLASSES,
    IMAGENETTE_WNIDS,
)
from neuralcodec.weights import weights_dir
from train.codec.export import git_sha, save_hashed

__all__ = ["export_head", "class_names", "palette_for", "main"]

_PREFIX = "model."


def class_names(classes: list[str]) -> list[str]:
    """Readable names: Imagenette's WordNet ids become their words; others are kept."""
    if tuple(classes) == IMAGENETTE_WNIDS:
        return list(IMAGENETTE_CLASSES)
    return list(classes)


def palette_for(classes: list[str]) -> list[tuple[int, int, int]]:
    """Colours for a segmentation label set (CamVid or Cityscapes; else a fixed pseudo-random set)."""
    if len(classes) == len(CAMVID_PALETTE) and classes[0].lower() == "sky":
        return list(CAMVID_PALETTE)
    if tuple(classes) == CITYSCAPES_CLASSES:
        return list(CITYSCAPES_PALETTE)
    generator = torch.Generator().manual_seed(0)
    return [tuple(int(v) for v in torch.randint(0, 256, (3,), generator=generator)) for _ in classes]  # type: ignore[misc]


def export_head(checkpoint_path: Path, out_dir: Path, hardware: str, metrics: dict[str, float] | None = None) -> Path:
    """Write the head of ``checkpoint_path`` to ``out_dir``; return the file's path."""
    checkpoint = torch.load(checkpoint_path, map_location="cpu", weights_only=True)
    hp, data_hp = checkpoint["hyper_parameters"], checkpoint["datamodule_hyper_parameters"]
    config = HeadConfig(hp["task"], hp["input"], hp["num_classes"], hp["in_channels"], hp["width"],
                        hp["blocks"], hp["stages"], hp["dropout"])
    if config.input != "latent":
        raise ValueError(f"{checkpoint_path} is a {config.input} model; only latent heads ship")
    info = read_info(data_hp["root"])
    spec = registry.get(info.codec).release(info.weights_id)  # the release that made the bitstreams
    state = {k[len(_PREFIX):]: v for k, v in checkpoint["state_dict"].items() if k.startswith(_PREFIX)}
    model = build_head(config)
    model.load_state_dict(state, strict=True)
    classes = class_names(list(info.classes))
    metadata = {
        "format": HEAD_FORMAT,
        "task": config.task,
        "codec": spec.name,
        "codec_sha256": spec.sha256,
        "quality": f"{info.quality:g}",
        "config": config.to_json(),
        "classes": json.dumps(classes),
        "palette": json.dumps(palette_for(classes) if config.task == "segment" else []),
        "dataset": f"{Path(info.source_root).name} ({info.layout})",
        "steps": str(checkpoint["global_step"]),
        "git_sha": git_sha(),
    }
    final, digest = save_hashed(
        model.state_dict(), metadata, out_dir,
        lambda digest: head_file_name(config.task, spec.name, info.quality, digest),
    )
    record = {
        "weights_file": final.name, "sha256": digest, "task": config.task, "codec": spec.name,
        "codec_weights": spec.weights_file, "quality": info.quality, "config": json.loads(metadata["config"]),
        "train_data": {"bitstreams": data_hp["root"], "source": info.source_root,
                       "train_split": data_hp["train_split"], "val_split": data_hp["val_split"]},
        "steps": int(checkpoint["global_step"]), "epochs": int(checkpoint["epoch"]) + 1,
        "batch_size": data_hp["batch_size"], "crop": data_hp.get("crop"),
        "lr": hp["lr"], "weight_decay": hp["weight_decay"], "hardware": hardware,
        "metrics": metrics or {}, "git_sha": metadata["git_sha"], "checkpoint": str(checkpoint_path),
    }
    final.with_suffix(".json").write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {final}\nheads table: HeadSpec({config.task!r}, {spec.name!r}, {spec.version!r}, "
          f"{info.quality!r}, {final.name!r}, {digest!r}, {metadata['dataset']!r}),")
    return final


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--out", type=Path, default=weights_dir() / "heads")
    parser.add_argument("--hardware", default="unknown", help="where it was trained, for the card")
    parser.add_argument("--metrics", type=json.loads, default=None, help="measured metrics (JSON)")
    args = parser.parse_args(argv)
    export_head(args.checkpoint, args.out, args.hardware, args.metrics)


if __name__ == "__main__":
    main()
