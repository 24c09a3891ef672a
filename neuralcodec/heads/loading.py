"""Head weight files: their metadata, and loading them offline with a sha256 check.

Files live in ``<weights_dir()>/heads/`` (see :func:`neuralcodec.weights.weights_dir`) and are
named ``<task>-on-<codec>-q<quality>-<sha256[:8]>.safetensors``. Their metadata carries
``format``, ``task``, ``codec``, ``codec_sha256``, ``quality``, ``config`` (a
:class:`~neuralcodec.heads.config.HeadConfig` as JSON), ``classes`` (JSON list of names),
``palette`` (JSON list of RGB triples, segmentation), ``dataset``, ``steps`` and ``git_sha``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

from torch import nn

from neuralcodec import weights
from neuralcodec.weights import heads_dir
from neuralcodec.errors import WeightsError
from neuralcodec.heads.config import HeadConfig, build_head
from neuralcodec.registry import HeadSpec

__all__ = ["HEAD_FORMAT", "LoadedHead", "heads_dir", "head_path", "head_file_name", "load_head"]

HEAD_FORMAT = "neuralcodec-head-1"


class LoadedHead(NamedTuple):
    """A verified head in eval mode, with what it predicts."""

    model: nn.Module
    config: HeadConfig
    classes: tuple[str, ...]
    palette: tuple[tuple[int, int, int], ...]
    spec: HeadSpec


def head_path(spec: HeadSpec) -> Path:
    """Where ``spec``'s file is expected."""
    return heads_dir() / spec.weights_file


def head_file_name(task: str, codec: str, quality: float, sha256_hex: str) -> str:
    """``<task>-on-<codec>-q<quality>-<sha8>.safetensors`` (the STYLE.md section 6 name)."""
    return f"{task}-on-{codec}-q{quality:g}-{sha256_hex[:8]}.safetensors"


def load_head(spec: HeadSpec) -> LoadedHead:
    """Load and verify a shipped head (offline; no pickle; ``strict=True``).

    Raises:
        WeightsNotFoundError: The file is not there.
        WeightsChecksumError: Its sha256 differs from the table's.
        WeightsError: Unreadable, or its metadata or tensors do not describe this head.
    """
    path = weights.verify_file(
        head_path(spec), spec.sha256, f"the {spec.task} head",
        "restore weights/heads/ or set $NEURALCODEC_WEIGHTS, or export with train/heads/export_head.py",
    )
    metadata, tensors = weights.read_tensors(path)
    config, classes, palette = _check_metadata(spec, metadata, path)
    model = build_head(config)
    weights.load_state(model, tensors, path, "its configuration")
    return LoadedHead(model.eval(), config, classes, palette, spec)


def _check_metadata(
    spec: HeadSpec, metadata: dict[str, str], path: Path
) -> tuple[HeadConfig, tuple[str, ...], tuple[tuple[int, int, int], ...]]:
    expected = {
        "format": HEAD_FORMAT,
        "task": spec.task,
        "codec": spec.codec,
        "codec_sha256": spec.codec_sha256,
        "quality": f"{spec.quality:g}",
    }
    weights.check_metadata(metadata, expected, path)
    try:
        config = HeadConfig.from_json(metadata["config"])
        classes = tuple(str(c) for c in json.loads(metadata["classes"]))
        palette = tuple(tuple(int(v) for v in rgb) for rgb in json.loads(metadata.get("palette", "[]")))
    except (KeyError, ValueError, TypeError) as error:
        raise WeightsError(f"{path}: bad head metadata: {error}") from None
    if config.task != spec.task or config.input != "latent" or len(classes) != config.num_classes:
        raise WeightsError(f"{path}: its configuration {config} does not match {spec.task!r} "
                           f"on latents with {len(classes)} class names")
    return config, classes, palette  # type: ignore[return-value]
