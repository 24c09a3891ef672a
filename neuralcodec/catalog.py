"""What is registered and what is installed: codecs, encoder variants and task heads with their files.

What ``neuralcodec models`` lists. Reads the registry and looks for files; imports no torch.
"""

from __future__ import annotations

from typing import NamedTuple

from neuralcodec import registry, weights
from neuralcodec.errors import WeightsNotFoundError

__all__ = [
    "CodecInfo",
    "EncoderInfo",
    "HeadInfo",
    "available_codecs",
    "available_encoders",
    "available_heads",
]


class CodecInfo(NamedTuple):
    """A registered codec and whether its weights are installed."""

    name: str
    codec_id: int
    architecture: str
    description: str
    weights: str
    installed: bool
    version: int | None = None  # release number of the current weights
    previous_weights: tuple[str, ...] = ()  # earlier releases still shipped (their files decode)


class EncoderInfo(NamedTuple):
    """A registered encoder variant and whether it can be loaded here."""

    name: str
    codec: str  # "hyperprior v1": the codec release whose decoder reads its files, or "any"
    kind: str
    description: str
    weights: str
    installed: bool


class HeadInfo(NamedTuple):
    """A registered task head and whether its file is installed."""

    task: str
    codec: str  # "hyperprior v1": the codec release whose latents it reads
    quality: float
    dataset: str
    weights: str
    installed: bool


def available_codecs() -> list[CodecInfo]:
    """Every registered codec, with the path of its weights and whether the file is present."""
    rows = []
    for spec in registry.CODECS:
        try:
            path = weights.weights_path(spec)
            location, installed = str(path), path.is_file()
        except WeightsNotFoundError:
            location, installed = "(none shipped)", False
        previous = tuple(f"v{r.version} {weights.weights_path(r)}" for r in spec.releases()[1:])
        rows.append(CodecInfo(spec.name, spec.codec_id, spec.architecture, spec.description,
                              location, installed, spec.version, previous))
    return rows


def available_encoders() -> list[EncoderInfo]:
    """Every registered encoder variant, with its file and whether that file is present."""
    rows = []
    for spec in registry.ENCODERS:
        if spec.weights_file is None:
            location, installed = "(made at load time)", True
        else:
            path = weights.weights_dir() / spec.weights_file
            location, installed = str(path), path.is_file()
        codec = f"{spec.codec} v{spec.codec_version}" if spec.codec else "any"
        rows.append(EncoderInfo(spec.name, codec, spec.kind, spec.description, location, installed))
    return rows


def available_heads() -> list[HeadInfo]:
    """Every registered task head, with its file and whether that file is present."""
    rows = []
    for spec in registry.HEADS:
        path = weights.heads_dir() / spec.weights_file
        rows.append(HeadInfo(spec.task, f"{spec.codec} v{spec.codec_version}", spec.quality,
                             spec.dataset, str(path), path.is_file()))
    return rows
