"""Export a distillation checkpoint to an encoder weight file: the only writer of ``weights/*-encoder-*.safetensors``.

``python -m train.encoders.export_encoder CKPT [--name NAME] [--out weights] [--hardware "..."] [--wall-time-s S]``

Loads the checkpoint of ``train/encoders/distill.py``, keeps the student (``student.`` prefix), saves
safetensors with the metadata :func:`neuralcodec.edge.encoder_metadata` checks, names the file
``<codec>-encoder-<name>-<sha256[:8]>.safetensors``, writes a training record ``<stem>.json``
for the card and prints the registry line to paste into ``neuralcodec/registry.py``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from neuralcodec import edge, registry
from neuralcodec.models.encoders import build_encoder
from neuralcodec.weights import weights_dir
from train.codec.export import git_sha, save_hashed

__all__ = ["export_encoder", "main"]

_PREFIX = "student."


def export_encoder(
    checkpoint_path: Path, name: str | None, out_dir: Path, hardware: str, wall_time_s: float | None
) -> Path:
    """Write ``<codec>-encoder-<name>-<sha8>.safetensors`` (+ ``.json``) to ``out_dir``; return its path."""
    checkpoint = torch.load(checkpoint_path, map_location="cpu", weights_only=True)
    hparams = checkpoint["hyper_parameters"]
    architecture, codec = hparams["encoder"], registry.get(hparams["codec"])
    name = name or architecture
    state = {k[len(_PREFIX):]: v for k, v in checkpoint["state_dict"].items() if k.startswith(_PREFIX)}
    build_encoder(registry.ENCODER_ARCHITECTURES[architecture]).load_state_dict(state, strict=True)
    spec = registry.EncoderSpec(name, codec.name, "torch", architecture, None, None, "")
    metadata = edge.encoder_metadata(spec, codec)
    metadata.update(git_sha=git_sha(), steps=str(checkpoint["global_step"]))
    final, digest = save_hashed(
        state, metadata, out_dir, lambda digest: f"{codec.name}-encoder-{name}-{digest[:8]}.safetensors"
    )
    data = checkpoint.get("datamodule_hyper_parameters", {})
    record = {
        "encoder": name,
        "architecture": architecture,
        "codec": codec.name,
        "teacher_sha256": codec.sha256,
        "steps": int(checkpoint["global_step"]),
        "batch_size": data.get("batch_size"),
        "patch_size": data.get("patch_size"),
        "train_dirs": list(data.get("train_dirs", ())),
        "val_dir": data.get("val_dir"),
        "lr": hparams.get("lr"),
        "lr_drop_step": hparams.get("lr_drop_step"),
        "init_weights": hparams.get("init_weights"),
        "loss": "mean squared error between student and teacher latents y (before the gain)",
        "hardware": hardware,
        "wall_time_s": wall_time_s,
        "weights_file": final.name,
        "sha256": digest,
        "git_sha": metadata["git_sha"],
    }
    final.with_suffix(".json").write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {final}\nregistry: weights_file={final.name!r}, sha256={digest!r}")
    return final


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--name", help="encoder name (default: the architecture)")
    parser.add_argument("--out", type=Path, default=weights_dir())
    parser.add_argument("--hardware", default="unknown", help="where it was trained, for the card")
    parser.add_argument("--wall-time-s", type=float, help="training wall time, for the card")
    args = parser.parse_args(argv)
    export_encoder(args.checkpoint, args.name, args.out, args.hardware, args.wall_time_s)


if __name__ == "__main__":
    main()
