"""Where weight files live, how they are verified, and how a model is loaded from them (offline).

Files are safetensors (no pickle) named ``<codec>-<sha256[:8]>.safetensors``. Their metadata
carries ``codec``, ``codec_id``, ``config`` (JSON), ``format`` and ``git_sha``; the loader checks
the sha256 and the metadata against the registry, then loads with ``strict=True``. A release
that shares tensors with an earlier one (the channel-conditional codec on a hyperprior's
transforms) may leave them out and name that file as its base (:func:`read_tensors`).

Every weight file the package loads (codecs, encoder variants, task heads) goes through the
same steps here: :func:`verify_file` (present, registered sha256), :func:`read_tensors`,
:func:`check_metadata` and :func:`load_state`.

The weights are installed with the package, as its data folder ``neuralcodec/_weights``: in a
source checkout that folder is a link to the top-level ``weights/``, and building a wheel
copies the files into it. Finding them (``neuralcodec models``) does not import torch.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from neuralcodec.errors import WeightsChecksumError, WeightsError, WeightsNotFoundError
from neuralcodec.registry import CodecSpec

if TYPE_CHECKING:
    from torch import Tensor, nn

    from neuralcodec.models import CodecModel

__all__ = [
    "WEIGHTS_FORMAT",
    "weights_dir",
    "weights_path",
    "heads_dir",
    "sha256_file",
    "weights_id",
    "verify_file",
    "read_tensors",
    "base_metadata",
    "check_metadata",
    "load_state",
    "load_model",
]

WEIGHTS_FORMAT = "neuralcodec-weights-1"
# Metadata of a file that takes tensors from a base release (see read_tensors, base_metadata).
_BASE, _BASE_SHA256, _BASE_TENSORS = "base", "base_sha256", "base_tensors"
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
            "train/codec/export.py (see weights/README.md)"
        )
    return weights_dir() / spec.weights_file


def heads_dir() -> Path:
    """Where the task heads' files live: ``weights_dir() / "heads"``."""
    return weights_dir() / "heads"


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


def verify_file(path: Path, sha256: str | None, what: str, how_to_get: str) -> Path:
    """``path``, once it is known to exist and to have the expected ``sha256``.

    Args:
        path: The weight file.
        sha256: Its expected hex sha256 (the registry's, or the one a file records of its base).
        what: What it holds, for messages (``"codec 'hyperprior'"``).
        how_to_get: How a user gets the file, appended to the not-found message.

    Raises:
        WeightsNotFoundError: The file is not there.
        WeightsChecksumError: Its sha256 differs from the expected one.
    """
    if not path.is_file():
        raise WeightsNotFoundError(
            f"weights of {what} not found at {path} (expected sha256 {sha256}); {how_to_get}"
        )
    digest = sha256_file(path)
    if sha256 is None or digest != sha256:
        raise WeightsChecksumError(f"{path} has sha256 {digest}, expected {sha256}")
    return path


def read_tensors(path: Path) -> tuple[dict[str, str], dict[str, Tensor]]:
    """The metadata and tensors of a safetensors weight file (no pickle), with its base's.

    A file exported with a base (``train.codec.export --base``) leaves out the tensors it shares
    bit for bit with an earlier release and names them in its metadata: ``base`` (a file in the
    same folder), ``base_sha256`` and ``base_tensors`` (JSON list of names). Those are read
    from the base, once its sha256 is verified; the result is the whole state.

    Raises:
        WeightsError: Not a readable safetensors file, or a base entry that is malformed or
            lacks a tensor it should hold.
        WeightsNotFoundError: The base file is not there.
        WeightsChecksumError: The base file's sha256 differs from the recorded one.
    """
    metadata, tensors = _read_file(path)
    if _BASE not in metadata:
        return metadata, tensors
    base, names = _base_entry(metadata, path)
    base_path = verify_file(
        path.parent / base, metadata[_BASE_SHA256], f"{path.name}'s base",
        "the base ships with the weights that name it; restore it from weights/",
    )
    _, shared = read_tensors(base_path)
    missing = sorted(set(names) - set(shared))
    if missing:
        raise WeightsError(f"{path}: its base {base} lacks {missing[:3]}")
    return metadata, {**{name: shared[name] for name in names}, **tensors}


def base_metadata(base: Path, names: Iterable[str]) -> dict[str, str]:
    """The metadata entries of a file that takes the tensors ``names`` from the release ``base``."""
    return {_BASE: base.name, _BASE_SHA256: sha256_file(base), _BASE_TENSORS: json.dumps(sorted(names))}


def _read_file(path: Path) -> tuple[dict[str, str], dict[str, Tensor]]:
    """The metadata and tensors stored in one safetensors file."""
    from safetensors import SafetensorError, safe_open
    from safetensors.torch import load_file  # torch: only when a model is loaded

    try:
        with safe_open(str(path), framework="pt") as f:
            metadata = f.metadata() or {}
        return metadata, load_file(str(path))
    except (SafetensorError, OSError) as error:
        raise WeightsError(f"{path} is not a readable safetensors file: {error}") from None


def _base_entry(metadata: dict[str, str], path: Path) -> tuple[str, list[str]]:
    """The base file name and the tensor names a weight file takes from it, checked."""
    base = metadata[_BASE]
    try:
        names = json.loads(metadata.get(_BASE_TENSORS, ""))
    except json.JSONDecodeError:
        names = None
    if (
        Path(base).name != base or not base.endswith(".safetensors")
        or _BASE_SHA256 not in metadata
        or not isinstance(names, list) or not all(isinstance(n, str) for n in names)
    ):
        raise WeightsError(f"{path}: malformed base entry in its metadata (base={base!r})")
    return base, names


def check_metadata(metadata: dict[str, str], expected: dict[str, str], path: Path | str) -> None:
    """Check that every key of ``expected`` has its value in ``metadata``.

    Raises:
        WeightsError: A key is missing or differs.
    """
    for key, value in expected.items():
        if metadata.get(key) != value:
            raise WeightsError(f"{path}: metadata {key}={metadata.get(key)!r}, expected {value!r}")


def load_state(module: nn.Module, tensors: dict[str, Tensor], path: Path, what: str) -> None:
    """``module.load_state_dict(tensors, strict=True)``, failing with a typed error.

    Raises:
        WeightsError: Missing, unexpected or mis-shaped tensors.
    """
    try:
        module.load_state_dict(tensors, strict=True)
    except RuntimeError as error:
        raise WeightsError(f"{path} does not fit {what}: {error}") from None


def load_model(spec: CodecSpec) -> tuple[CodecModel, int]:
    """Load ``spec``'s verified weights into a fresh model in eval mode, on the CPU.

    Returns:
        The model and its weights id.

    Raises:
        WeightsNotFoundError: The file is not there.
        WeightsChecksumError: Its sha256 differs from the registry's.
        WeightsError: Its metadata does not describe this codec.
    """
    what = f"codec {spec.name!r}"
    path = verify_file(
        weights_path(spec), spec.sha256, what,
        f"restore weights/ or set ${_ENV}, or export with train/codec/export.py",
    )
    metadata, tensors = read_tensors(path)
    check_metadata(metadata, {
        "format": WEIGHTS_FORMAT,
        "codec": spec.name,
        "codec_id": str(spec.codec_id),
        "config": json.dumps(spec.config_dict, sort_keys=True),
    }, path)
    model = spec.build()
    load_state(model, tensors, path, what)
    assert spec.sha256 is not None  # verify_file checked it
    return model.eval(), weights_id(spec.sha256)
