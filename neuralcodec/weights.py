"""Where weight files live, how they are verified, and how a model is loaded from them (offline).

Files are safetensors (no pickle) named ``<codec>-<sha256[:8]>.safetensors``. Their metadata
carries ``codec``, ``codec_id``, ``config`` (JSON), ``format`` and ``git_sha``; the loader checks
the sha256 and the metadata against the registry, then loads with ``strict=True``.

The weights are installed with the package, as its data folder ``neuralcodec/_weights``: in a
source checkout that folder is a link to the top-level ``weights/``, and building a wheel
copies the files into it. Finding them (``neuralcodec models``) does not import torch.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from neuralcodec.errors import WeightsChecksumError, WeightsError, WeightsNotFoundError
from neuralcodec.registry import CodecSpec

if TYPE_CHECKING:
    from neuralcodec.models import CodecModel

__all__ = ["WEIGHTS_FORMAT", "weights_dir", "weights_path", "sha256_file", "weights_id", "load_model"]

WEIGHTS_FORMAT = "neuralcodec-weights-1"
_ENV = "NEURALCODEC_WEIGHTS"
_PACKAGE_DATA = "_weights"


def weights_dir() -> Path:
    """``$NEURALCODEC_WEIGHTS`` if set, else the weights installed with the package."""
    env = os.environ.get(_ENV)
    if env:
        return Path(env)
    # A wheel installs regular files, so the traversable is a real folder.
    return Path(str(importlib.resources.files("neuralcodec") / _PACKAGE_DATA)).resolve()


def weights_path(spec: CodecSpec) -> Path:
    """Path of ``spec``'s weight file.

    Raises:
        WeightsNotFoundError: The codec has no shipped weights.
    """
    if spec.weights_file is None:
        raise WeightsNotFoundError(
            f"no weights are installed for codec {spec.name!r}; train and export them with "
            "train/export.py (see weights/README.md)"
        )
    return weights_dir() / spec.weights_file


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def weights_id(sha256_hex: str) -> int:
    """The 4-byte id a container stores: the first 8 hex digits of the sha256."""
    return int(sha256_hex[:8], 16)


def load_model(spec: CodecSpec) -> tuple[CodecModel, int]:
    """Load ``spec``'s verified weights into a fresh model in eval mode, on the CPU.

    Returns:
        The model and its weights id.

    Raises:
        WeightsNotFoundError: The file is not there.
        WeightsChecksumError: Its sha256 differs from the registry's.
        WeightsError: Its metadata does not describe this codec.
    """
    from safetensors import safe_open
    from safetensors.torch import load_file  # torch: only when a model is loaded

    path = weights_path(spec)
    if not path.is_file():
        raise WeightsNotFoundError(
            f"weights for codec {spec.name!r} not found at {path} (expected sha256 "
            f"{spec.sha256}); restore weights/ or set ${_ENV}, or export with train/export.py"
        )
    digest = sha256_file(path)
    if spec.sha256 is None or digest != spec.sha256:
        raise WeightsChecksumError(f"{path} has sha256 {digest}, registry expects {spec.sha256}")
    with safe_open(str(path), framework="pt") as f:
        metadata = f.metadata() or {}
    _check_metadata(spec, metadata, path)
    model = spec.build()
    try:
        model.load_state_dict(load_file(str(path)), strict=True)
    except RuntimeError as error:  # missing, unexpected or mis-shaped tensors
        raise WeightsError(f"{path} does not fit codec {spec.name!r}: {error}") from None
    return model.eval(), weights_id(digest)


def _check_metadata(spec: CodecSpec, metadata: dict[str, str], path: Path) -> None:
    expected = {
        "format": WEIGHTS_FORMAT,
        "codec": spec.name,
        "codec_id": str(spec.codec_id),
        "config": json.dumps(spec.config_dict, sort_keys=True),
    }
    for key, value in expected.items():
        if metadata.get(key) != value:
            raise WeightsError(
                f"{path}: metadata {key}={metadata.get(key)!r} but the registry says {value!r}"
            )
