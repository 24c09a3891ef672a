"""Export a Lightning checkpoint to a release weight file: the only writer of ``weights/``.

``python -m train.codec.export CKPT [--codec hyperprior] [--out weights] [--hardware "..."] [--average] [--half g_a,g_s] [--base weights/<release>]``

Loads the checkpoint, strips the ``model.`` prefix, refits the entropy bottleneck's quantiles
and bakes the CDF tables (``update(force=True, update_quantiles=True)``),
saves safetensors with metadata, names the file ``<codec>-<sha256[:8]>.safetensors``, writes
a training record ``<stem>.json`` for the model card, and prints the registry line to paste
into ``neuralcodec/registry.py``. After CompressAI's ``utils/update_model``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

import torch
from safetensors.torch import save_file
from torch import Tensor

from neuralcodec import registry
from neuralcodec.weights import WEIGHTS_FORMAT, base_metadata, read_tensors, sha256_file, weights_dir
from train.codec.checkpoints import AVERAGE_PREFIX, MODEL_PREFIX, restore_model
from train.codec.data import data_root, list_images

__all__ = ["HALF_PARTS", "export", "git_sha", "save_hashed", "main"]

#: Networks whose weights may be stored in float16 (the entropy models stay float32): the
#: transforms, and the channel-conditional codec's slice networks.
HALF_PARTS = ("g_a", "g_s", "h_a", "h_s", "context", "residual")


def git_sha() -> str:
    """The repository's short commit id, or "unknown" outside a git checkout."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out.stdout.strip()


def _training_record(
    checkpoint: dict, spec: registry.CodecSpec, hardware: str, wall_time_s: float | None
) -> dict:
    data = checkpoint.get("datamodule_hyper_parameters", {})
    model = checkpoint.get("hyper_parameters", {})
    root = Path(data["root"]) if data.get("root") else data_root()
    train_dirs = list(data.get("train_dirs", ()))
    return {
        "codec": spec.name,
        "steps": int(checkpoint["global_step"]),
        "batch_size": data.get("batch_size"),
        "patch_size": data.get("patch_size"),
        "train_dirs": train_dirs,
        "num_train_images": sum(len(list_images(root / d)) for d in train_dirs),
        "lr": model.get("lr"),
        "lr_drop_step": model.get("lr_drop_step"),
        "lambda_range": [min(spec.lambdas), max(spec.lambdas)],
        "hardware": hardware,
        "wall_time_s": wall_time_s,
        "init_weights": model.get("init_weights"),
        "module": {k: v for k, v in model.items() if isinstance(v, (str, int, float, list, tuple))},
    }


def save_hashed(
    tensors: dict[str, Tensor],
    metadata: dict[str, str],
    out_dir: Path,
    file_name: Callable[[str], str],
) -> tuple[Path, str]:
    """Save safetensors atomically under a name derived from the file's sha256.

    Args:
        tensors: The state dict to save.
        metadata: safetensors metadata (strings).
        out_dir: Destination folder (created if missing).
        file_name: Maps the hex sha256 to the file name.

    Returns:
        The final path and the hex sha256.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / f".{os.getpid()}.safetensors.part"
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(tmp), metadata=metadata)
    digest = sha256_file(tmp)
    final = out_dir / file_name(digest)
    tmp.replace(final)
    final.chmod(0o644)
    return final, digest


def export(
    checkpoint_path: Path,
    codec: str,
    out_dir: Path,
    hardware: str,
    wall_time_s: float | None = None,
    half: Sequence[str] = (),
    average: bool = False,
    base: Path | None = None,
) -> Path:
    """Write ``<codec>-<sha8>.safetensors`` (+ ``.json`` training record) to ``out_dir``; return its path.

    ``half`` names the transforms (``g_a``, ``g_s``, ``h_a``, ``h_s``) stored in float16 and
    loaded back as float32: half their bytes. g_s takes no part in entropy coding, so storing it
    in float16 leaves the bitstream untouched; the others change the weights the coder uses
    (the file is self-consistent, its rate-distortion within a measured tolerance). ``average``
    exports the run's weight average (``train.codec.optim.WeightAverage``) instead of its last weights.
    ``base`` (a release in ``out_dir``) makes the file leave out the tensors identical to the
    base's and name them instead (:func:`neuralcodec.weights.read_tensors`): a channel-conditional
    release on a shipped hyperprior's fixed transforms stores only its own networks.
    """
    spec = registry.get(codec)
    checkpoint = torch.load(checkpoint_path, map_location="cpu", weights_only=True)
    model = spec.build()
    restore_model(model, checkpoint, AVERAGE_PREFIX if average else MODEL_PREFIX)
    with torch.no_grad():  # quantiles refit by bisection on the learned CDF, then CDFs baked
        model.update(force=True, update_quantiles=True)
    metadata = {
        "format": WEIGHTS_FORMAT,
        "codec": spec.name,
        "codec_id": str(spec.codec_id),
        "config": json.dumps(spec.config_dict, sort_keys=True),
        "git_sha": git_sha(),
        "steps": str(checkpoint["global_step"]),
        "weight_average": str(average).lower(),
    }
    unknown = set(half) - set(HALF_PARTS)
    if unknown:
        raise ValueError(f"cannot store {sorted(unknown)} in float16; choose from {HALF_PARTS}")
    state = {
        k: v.half() if k.split(".", 1)[0] in half and v.is_floating_point() else v
        for k, v in model.state_dict().items()
    }
    if base is not None:
        state = _without_shared(state, base, out_dir)
        metadata.update(base_metadata(base, set(model.state_dict()) - set(state)))
    final, digest = save_hashed(
        state, metadata, out_dir, lambda digest: f"{spec.name}-{digest[:8]}.safetensors"
    )
    record = _training_record(checkpoint, spec, hardware, wall_time_s)
    record.update(weights_file=final.name, sha256=digest, git_sha=metadata["git_sha"],
                  base=base.name if base is not None else None)
    final.with_suffix(".json").write_text(json.dumps(record, indent=2) + "\n")
    version = (spec.version or 0) + 1
    print(f"wrote {final}\nregistry (first in {spec.name}'s weights): "
          f"WeightsRelease({version}, {final.name!r}, {digest!r})")
    return final


def _without_shared(state: dict[str, Tensor], base: Path, out_dir: Path) -> dict[str, Tensor]:
    """``state`` less the tensors equal (dtype, shape, values) to those of the weight file ``base``.

    Raises:
        ValueError: ``base`` is not in ``out_dir``, where the loader looks for it.
    """
    if base.resolve().parent != out_dir.resolve():
        raise ValueError(f"the base {base} must be in the output folder {out_dir}")
    _, shared = read_tensors(base)
    return {
        k: v for k, v in state.items()
        if not (k in shared and shared[k].dtype == v.dtype and torch.equal(shared[k], v))
    }


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--codec", default=registry.DEFAULT_CODEC)
    parser.add_argument("--out", type=Path, default=weights_dir())
    parser.add_argument("--hardware", default="unknown", help="where it was trained, for the card")
    parser.add_argument("--wall-time-s", type=float, help="training wall time, for the card")
    parser.add_argument("--half", default="", help=f"transforms stored in float16, comma-separated, from {HALF_PARTS} (none)")
    parser.add_argument("--average", action="store_true", help="export the weight average (EMA)")
    parser.add_argument("--base", type=Path, help="a release in --out whose identical tensors the file leaves out")
    args = parser.parse_args(argv)
    export(
        args.checkpoint, args.codec, args.out, args.hardware, args.wall_time_s,
        [part for part in args.half.split(",") if part], args.average, args.base,
    )


if __name__ == "__main__":
    main()
