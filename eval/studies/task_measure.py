"""Measurements for the task report: accuracy, FLOPs, input bytes, training memory, speed.

Every function measures one thing on real data or real models; :mod:`eval.studies.tasks` puts them
together. Conventions:

- FLOPs: ``torch.utils.flop_counter.FlopCounterMode`` (a multiply-add counts 2), one image,
  eval mode. Convolutions and matrix products only: GDN's and the entropy coder's work is not
  counted (the exact hyper-decoder's float64 products are).
- Bytes: the ``.ncc`` file (header included); a PNG of the original pixels (Pillow,
  ``optimize=False``, level 6); the source JPEG; the float32 tensor the model takes.
- Peak training memory: a fresh subprocess builds the model and a batch, then runs training
  steps; we report the growth of its peak resident set size (``ru_maxrss``) over the RSS just
  before the first step, i.e. activations + gradients + optimizer state, on the CPU.
- Speed: single thread, median over repeats (the machine is shared, so medians).
"""

from __future__ import annotations

import io
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch import Tensor, nn
from torch.utils.data import DataLoader
from torch.utils.flop_counter import FlopCounterMode

from neuralcodec.heads import HeadConfig
from train.heads.task_data import TaskTensors
from train.heads.task_module import TaskModule, miou_from_confusion

__all__ = [
    "count_flops",
    "evaluate",
    "png_bytes",
    "train_memory",
    "images_per_s",
    "load_model",
]


def count_flops(fn: Any, *args: Any, frozen: nn.Module | None = None, **kwargs: Any) -> int:
    """FLOPs of ``fn(*args, **kwargs)`` under ``FlopCounterMode`` (no grad).

    Args:
        frozen: A module whose parameters are set not to require grad while counting (the
            counter's module tracker fails on parameters that require grad in inference mode,
            as in ``Codec.latents``); restored afterwards.
    """
    flags = [(p, p.requires_grad) for p in frozen.parameters()] if frozen is not None else []
    for p, _ in flags:
        p.requires_grad_(False)
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            fn(*args, **kwargs)
    finally:
        for p, flag in flags:
            p.requires_grad_(flag)
    return int(counter.get_total_flops())


def load_model(checkpoint: Path) -> tuple[nn.Module, HeadConfig, dict[str, Any]]:
    """The trained model of a ``train.heads.fit_task`` checkpoint, eval mode, with its config and data hparams."""
    module = TaskModule.load_from_checkpoint(checkpoint, map_location="cpu")
    ckpt = torch.load(checkpoint, map_location="cpu", weights_only=True)
    return module.model.eval(), module.config, ckpt["datamodule_hyper_parameters"]


@torch.inference_mode()
def evaluate(model: nn.Module, config: HeadConfig, cache: dict[str, Any], features: str,
             batch_size: int = 32) -> dict[str, float]:
    """Top-1 / top-5 (classification) or mIoU / pixel accuracy (segmentation) on a cached split."""
    ignore = cache.get("ignore_index")
    data = TaskTensors(cache, features, train=False, ignore_index=255 if ignore is None else ignore)
    loader = DataLoader(data, batch_size=batch_size)
    if config.task == "classify":
        correct1 = correct5 = total = 0
        for batch in loader:
            top = model(batch["x"]).topk(min(5, config.num_classes), dim=1).indices  # (N, 5)
            correct1 += int((top[:, 0] == batch["y"]).sum())
            correct5 += int((top == batch["y"][:, None]).any(1).sum())
            total += len(batch["y"])
        return {"top1": correct1 / total, "top5": correct5 / total, "num_images": total}
    k = config.num_classes
    confusion = torch.zeros(k, k, dtype=torch.int64)
    for batch in loader:
        y = batch["y"]
        prediction = model(batch["x"])[..., : y.shape[-2], : y.shape[-1]].argmax(1)
        valid = y != data.ignore_index
        confusion += torch.bincount(y[valid] * k + prediction[valid], minlength=k * k).view(k, k)
    miou, iou = miou_from_confusion(confusion)
    return {"miou": miou, "pixel_acc": float(confusion.diag().sum() / confusion.sum()),
            "iou": [None if np.isnan(v) else float(v) for v in iou.tolist()], "num_images": len(data)}


def png_bytes(images: Tensor) -> list[int]:
    """Sizes of lossless PNGs (Pillow defaults) of uint8 images (N, 3, H, W)."""
    sizes = []
    for image in images:
        buffer = io.BytesIO()
        Image.fromarray(image.permute(1, 2, 0).numpy()).save(buffer, format="PNG")
        sizes.append(len(buffer.getvalue()))
    return sizes


def images_per_s(fn: Any, batch: Tensor, repeats: int = 5) -> float:
    """Inference images/s of ``fn(batch)``: median over ``repeats`` timed calls, after a warm-up."""
    with torch.inference_mode():
        fn(batch)
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            fn(batch)
            times.append(time.perf_counter() - start)
    return len(batch) / statistics.median(times)


_MEMORY_PROBE = """
import json, resource, sys, time, torch
import torch.nn.functional as F
from neuralcodec.heads import HeadConfig, build_head
torch.set_num_threads(1)
torch.manual_seed(0)
config = HeadConfig.from_json(sys.argv[1]); batch = int(sys.argv[2]); shape = json.loads(sys.argv[3])
model = build_head(config).train()
opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
x = torch.randn(batch, *shape)
if config.task == "classify":
    y = torch.randint(0, config.num_classes, (batch,))
else:
    side = 16 * shape[-1] if config.input == "latent" else shape[-1]
    y = torch.randint(0, config.num_classes, (batch, side, side))
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096
before = rss()
times = []
for step in range(3):
    start = time.perf_counter()
    out = model(x)
    loss = F.cross_entropy(out, y)
    opt.zero_grad(); loss.backward(); opt.step()
    times.append(time.perf_counter() - start)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
times = sorted(times[1:])
print(json.dumps({"peak_growth_bytes": peak - before, "rss_before_bytes": before,
                  "train_images_per_s": batch / times[len(times) // 2]}))
"""


def train_memory(config: HeadConfig, batch_size: int, input_shape: tuple[int, ...]) -> dict[str, float]:
    """Peak-RSS growth and training images/s of a few steps at ``batch_size``, in a fresh process.

    Args:
        config: The model.
        batch_size: The fixed batch.
        input_shape: One sample's input (C, H, W) (segmentation: square windows).
    """
    out = subprocess.run(
        [sys.executable, "-c", _MEMORY_PROBE, config.to_json(), str(batch_size), json.dumps(list(input_shape))],
        capture_output=True, text=True, check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]
