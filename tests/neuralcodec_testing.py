"""Helpers shared by the tests: golden files, the tiny image and model, weight export.

A module with a unique name rather than ``conftest``: several conftest.py files exist under
tests/, and ``from conftest import ...`` would pick whichever was imported last.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import struct
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import save_file

from neuralcodec import registry, weights
from neuralcodec.models import MeanScaleHyperprior
from neuralcodec.registry import CodecSpec

EXPECTED = Path(__file__).resolve().parent / "expected"
DATA = Path(__file__).resolve().parent / "data"
TINY = "test-tiny"
TINY_GAN = "test-tiny-gan"
TINY_WEIGHTS_ID = 0x01020304
TINY_SIZE = (67, 45)  # (width, height): odd, not multiples of 64


def regen() -> bool:
    """Whether golden files are being rewritten (``NEURALCODEC_REGEN=1``)."""
    return os.environ.get("NEURALCODEC_REGEN") == "1"


def check_golden(name: str, data: bytes) -> None:
    """Compare ``data`` with ``tests/expected/<name>``; rewrite it under ``NEURALCODEC_REGEN=1``."""
    path = EXPECTED / name
    if regen():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    if not path.is_file():
        pytest.fail(f"golden file {path} is missing; create it with NEURALCODEC_REGEN=1")
    expected = path.read_bytes()
    assert data == expected, f"bytes differ from {path} (rewrite with NEURALCODEC_REGEN=1 if intended)"


def make_tiny_image(width: int = TINY_SIZE[0], height: int = TINY_SIZE[1], seed: int = 0) -> Image.Image:
    """A deterministic RGB image with structure: gradients, a disc, an edge and seeded noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float64)
    xn, yn = xx / max(width - 1, 1), yy / max(height - 1, 1)
    disc = ((xn - 0.6) ** 2 + (yn - 0.4) ** 2 < 0.08).astype(np.float64)
    rgb = np.stack(
        [
            255 * xn,
            255 * yn * (1 - 0.5 * disc),
            128 + 100 * np.sin(6 * xn + 3 * yn) + 60 * (xn > 0.3),
        ],
        axis=-1,
    )
    rgb += rng.normal(0, 12, rgb.shape)
    return Image.fromarray(rgb.clip(0, 255).round().astype(np.uint8), "RGB")


def make_tiny_model(seed: int = 0, name: str = TINY) -> MeanScaleHyperprior:
    """``test-tiny`` (or another tiny codec, ``name``) with random init, CDFs built, in eval mode.

    A random g_a outputs latents of about 0.1, which all quantize to zero; the quality gains
    are raised 64x and h_a's output 8x so that y and z carry real symbols at every quality
    (the entropy coder, the exact h_s and the rate all get exercised).
    """
    torch.manual_seed(seed)
    model = registry.get(name).build()
    assert isinstance(model, MeanScaleHyperprior)
    with torch.no_grad():
        model.log_gain += math.log(64.0)
        model.h_a[-1].weight *= 8.0
    model.update(force=True)
    return model.eval()


def with_weights(spec: CodecSpec, *files: tuple[Path, str]) -> CodecSpec:
    """``spec`` shipping the weight ``files`` ((path, sha256), newest first) as its releases."""
    releases = (
        registry.WeightsRelease(len(files) - i, path.name, sha256) for i, (path, sha256) in enumerate(files)
    )
    return dataclasses.replace(spec, weights=tuple(releases))


def export_weights(
    model: torch.nn.Module,
    spec: CodecSpec,
    folder: Path,
    metadata: dict[str, str] | None = None,
    tensors: dict[str, torch.Tensor] | None = None,
) -> tuple[Path, str]:
    """Write ``model`` as train/codec/export.py does; returns the path and its sha256.

    Args:
        metadata: Overrides of the metadata entries (a value of ``None`` drops the key).
        tensors: The tensors to save instead of the model's state dict.
    """
    meta = {
        "format": weights.WEIGHTS_FORMAT,
        "codec": spec.name,
        "codec_id": str(spec.codec_id),
        "config": json.dumps(spec.config_dict, sort_keys=True),
        "git_sha": "test",
        "steps": "0",
    }
    for key, value in (metadata or {}).items():
        if value is None:
            meta.pop(key, None)
        else:
            meta[key] = value
    if tensors is None:
        tensors = {k: v.contiguous() for k, v in model.state_dict().items()}
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{spec.name}.part"
    save_file(tensors, str(tmp), metadata=meta)
    digest = hashlib.sha256(tmp.read_bytes()).hexdigest()
    path = folder / f"{spec.name}-{digest[:8]}.safetensors"
    tmp.replace(path)
    return path, digest


def png_file(width: int, height: int, bit_depth: int, pixel_rows: bytes) -> bytes:
    """An RGB PNG file written by hand: any declared size (the rows may be missing) or 16 bits."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, bit_depth, 2, 0, 0, 0)
    data = chunk(b"IDAT", zlib.compress(pixel_rows)) if pixel_rows else b""
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + data + chunk(b"IEND", b"")


def png_rgb16(rgb: np.ndarray) -> bytes:
    """A 16-bit-per-sample RGB PNG of ``rgb`` (H, W, 3) uint16 (Pillow writes none)."""
    rows = b"".join(b"\x00" + row.astype(">u2").tobytes() for row in rgb)
    return png_file(rgb.shape[1], rgb.shape[0], 16, rows)


def write_photos(folder: Path, count: int, size: int = 200, seed: int = 0) -> None:
    """Write ``count`` synthetic photos (gradients and noise, ``size`` px square) as PNG."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    for i in range(count):
        base = np.stack([xx * 255, yy * 255, (xx + yy) * 127], axis=-1) * rng.uniform(0.3, 1.0)
        image = (base + rng.normal(0, 15, base.shape)).clip(0, 255).astype(np.uint8)
        Image.fromarray(image).save(folder / f"photo{i}.png")


def quiet_trainer(root: Path, **options: object) -> Any:
    """A CPU Lightning ``Trainer`` for tests: no logger, checkpoints, progress bar or summary.

    Args:
        root: ``default_root_dir`` (a tmp_path).
        **options: Further ``Trainer`` arguments (``fast_dev_run``, ``max_steps``, ...).
    """
    import pytorch_lightning as pl  # only the training tests need Lightning

    defaults: dict[str, object] = dict(
        accelerator="cpu", devices=1, logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False, default_root_dir=root,
    )
    return pl.Trainer(**{**defaults, **options})


def compress(*args: object) -> int:
    """``neuralcodec compress --codec test-tiny ARGS``; returns the exit status."""
    from neuralcodec.cli import main

    return main(["compress", "--codec", TINY, *map(str, args)])


def decompress(*args: object) -> int:
    """``neuralcodec decompress ARGS``; returns the exit status."""
    from neuralcodec.cli import main

    return main(["decompress", *map(str, args)])


def no_leftovers(folder: Path) -> None:
    """No temporary files are left in ``folder``."""
    assert not [p.name for p in folder.iterdir() if p.name.endswith(".part") or p.name.startswith(".")]


def one_line_error(code: int, capsys: pytest.CaptureFixture[str], match: str, status: int) -> str:
    """Check a command's exit ``status`` and its one ``neuralcodec: error:`` line on stderr
    (containing ``match``, no traceback); returns that line."""
    err = capsys.readouterr().err
    assert code == status, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("neuralcodec: error: ") and match in lines[0], lines[0]
    return lines[0]


def usage_error(capsys: pytest.CaptureFixture[str], match: str, *argv: object) -> None:
    """Check that argparse refuses ``neuralcodec *argv``: status 2, ``match`` in its message."""
    from neuralcodec.cli import main

    with pytest.raises(SystemExit) as caught:
        main([str(arg) for arg in argv])
    err = capsys.readouterr().err
    assert caught.value.code == 2 and "Traceback" not in err
    assert match in err.strip().splitlines()[-1], err
