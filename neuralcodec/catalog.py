"""What is registered and what is installed: codecs and encoder variants with their weight files.

What ``neuralcodec models`` lists. Reads the registry and looks for files; imports no torch.
"""

from __future__ import annotations

from typing import NamedTuple

from neuralcodec import registry, weights
from neuralcodec.errors import WeightsNotFoundError

__all__ = ["CodecInfo", "EncoderInfo", "available_codecs", "available_encoders"]


class CodecInfo(NamedTuple):
    """A registered codec and whether its weights are installed."""

    name: str
    codec_id: int
    architecture: str
    description: str
    weights: str
    installed: bool
    previous_weights: tuple[str, ...] = ()  # earlier releases still shipped (their files decode)


class EncoderInfo(NamedTuple):
    """A registered encoder variant and whether it can be loaded here."""

    name: str
    codec: str
    kind: str
    description: str
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
        previous = tuple(str(weights.weights_path(r)) for r in spec.releases()[1:])
        rows.append(CodecInfo(spec.name, spec.codec_id, spec.architecture, spec.description,
                              location, installed, previous))
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
        rows.append(EncoderInfo(spec.name, spec.codec or "any", spec.kind, spec.description,
                                location, installed))
    return rows
