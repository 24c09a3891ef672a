"""The GPU run: pack what travels to the device machine, and move training state back in shards.

The device machine receives the working tree (64 MiB at most) and returns files of 16 MiB at
most, so:

- ``pack`` writes the training photos, downscaled and re-encoded as JPEG, to an ignored folder
  that travels (``build/gpu/data/photos``), and reports the size;
- ``shards`` (run there, after training) splits a Lightning checkpoint's weights (the model and
  its weight average, not the optimizer) into safetensors files under the size limit;
- ``collect`` (run here) joins them into a checkpoint that ``train.codec.export`` reads and
  ``--model.init_weights`` continues from.

``train/codec/gpu_run.sh`` is the one command that runs there; ``make gpu-pack`` and
``make gpu-dry-run`` prepare and rehearse it on the CPU.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

import torch
from PIL import Image
from safetensors import safe_open
from safetensors.torch import save_file
from torch import Tensor
from tqdm import tqdm

from train.codec.checkpoints import AVERAGE_PREFIX, MODEL_PREFIX
from train.codec.data import data_root, list_images

__all__ = ["pack_photos", "save_shards", "load_shards", "main"]

#: Largest file the device machine hands back is 16 MiB; stay clear of it.
MAX_SHARD_BYTES = 15 * 2**20
_SHARD_GLOB = "state-*.safetensors"


def pack_photos(source: Path, dest: Path, long_side: int, quality: int) -> int:
    """Write every image under ``source`` to ``dest`` as JPEG (4:2:0), long side at most ``long_side``.

    Returns:
        Total bytes written.
    """
    dest.mkdir(parents=True, exist_ok=True)
    total = 0
    for index, path in enumerate(tqdm(list_images(source), desc="packing photos")):
        with Image.open(path) as image:
            rgb = image.convert("RGB")
        rgb.thumbnail((long_side, long_side), Image.Resampling.LANCZOS)
        target = dest / f"{index:05d}.jpg"
        rgb.save(target, quality=quality, subsampling=2)
        total += target.stat().st_size
    return total


def _weights_to_keep(state: dict[str, Tensor]) -> dict[str, Tensor]:
    """The weight average, stored as the model, if the run kept one; else the model.

    Both together would pass the 64 MiB that the device machine hands back; the average is
    the one to export and to continue from.
    """
    averaged = {k[len(AVERAGE_PREFIX) :]: v for k, v in state.items() if k.startswith(AVERAGE_PREFIX)}
    if averaged:
        return {MODEL_PREFIX + k: v for k, v in averaged.items()}
    return {k: v for k, v in state.items() if k.startswith(MODEL_PREFIX)}


def save_shards(checkpoint: dict, folder: Path, max_bytes: int = MAX_SHARD_BYTES) -> list[Path]:
    """Split a checkpoint's weights into safetensors files of at most ``max_bytes`` each.

    Only the weight average (as the model) or else the model travels, not the optimizer. The
    step and the module and data hyper-parameters go into every file's metadata.
    """
    folder.mkdir(parents=True, exist_ok=True)
    metadata = {
        "global_step": str(checkpoint["global_step"]),
        "hyper_parameters": json.dumps(checkpoint.get("hyper_parameters", {}), default=str),
        "datamodule_hyper_parameters": json.dumps(
            checkpoint.get("datamodule_hyper_parameters", {}), default=str
        ),
    }
    groups: list[dict[str, Tensor]] = [{}]
    size = 0
    for name, tensor in _weights_to_keep(checkpoint["state_dict"]).items():
        nbytes = tensor.numel() * tensor.element_size()
        if nbytes > max_bytes:
            raise ValueError(f"{name} alone ({nbytes} bytes) exceeds {max_bytes} bytes")
        if size + nbytes > max_bytes - 2**16:  # room for the header
            groups.append({})
            size = 0
        groups[-1][name] = tensor.detach().cpu().contiguous()
        size += nbytes
    paths = []
    for index, group in enumerate(groups):
        path = folder / f"state-{index:02d}.safetensors"
        save_file(group, str(path), metadata=metadata)
        paths.append(path)
    return paths


def load_shards(folder: Path) -> dict:
    """The checkpoint (state dict, step, hyper-parameters) that :func:`save_shards` split."""
    paths = sorted(folder.glob(_SHARD_GLOB))
    if not paths:
        raise FileNotFoundError(f"no {_SHARD_GLOB} in {folder}")
    state: dict[str, Tensor] = {}
    metadata: dict[str, str] = {}
    for path in paths:
        with safe_open(str(path), framework="pt") as f:
            metadata = f.metadata() or {}
            state.update({key: f.get_tensor(key) for key in f.keys()})
    return {
        "state_dict": state,
        "global_step": int(metadata["global_step"]),
        "hyper_parameters": json.loads(metadata["hyper_parameters"]),
        "datamodule_hyper_parameters": json.loads(metadata["datamodule_hyper_parameters"]),
    }


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m train.codec.gpu pack|shards|collect``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    pack = commands.add_parser("pack", help="training photos -> JPEGs that travel")
    pack.add_argument("--source", type=Path, default=None, help="photos folder (data root/photos)")
    pack.add_argument("--dest", type=Path, default=Path("build/gpu/data/photos"))
    pack.add_argument("--long-side", type=int, default=512, help="largest side in pixels (512)")
    pack.add_argument("--quality", type=int, default=90, help="JPEG quality (90)")
    shards = commands.add_parser("shards", help="checkpoint -> safetensors files under 16 MiB")
    shards.add_argument("checkpoint", type=Path)
    shards.add_argument("folder", type=Path)
    collect = commands.add_parser("collect", help="shards -> a checkpoint for export / init_weights")
    collect.add_argument("folder", type=Path)
    collect.add_argument("checkpoint", type=Path)
    args = parser.parse_args(argv)
    if args.command == "pack":
        total = pack_photos(args.source or data_root() / "photos", args.dest, args.long_side, args.quality)
        print(f"{args.dest}: {total / 2**20:.1f} MiB")
    elif args.command == "shards":
        checkpoint = torch.load(args.checkpoint, map_location="cpu", weights_only=True)
        for path in save_shards(checkpoint, args.folder):
            print(f"{path}: {path.stat().st_size / 2**20:.1f} MiB")
    else:
        args.checkpoint.parent.mkdir(parents=True, exist_ok=True)
        torch.save(load_shards(args.folder), args.checkpoint)
        print(f"wrote {args.checkpoint}")


if __name__ == "__main__":
    main()
