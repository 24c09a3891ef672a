"""The one table of codecs: stable ids, architectures, weight files and the quality scale.

Pure data, no I/O. A ``codec_id`` is written into every file and is never reused or renumbered.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from neuralcodec.errors import QualityError
from neuralcodec.models import CodecModel, HyperpriorConfig, MeanScaleHyperprior

__all__ = [
    "MSE_LAMBDAS",
    "QUALITY_MIN",
    "QUALITY_MAX",
    "ARCHITECTURES",
    "CodecSpec",
    "CODECS",
    "DEFAULT_CODEC",
    "get",
    "get_by_id",
    "lambda_for_quality",
    "check_quality",
]

#: λ of the integer qualities 1..8: CompressAI's MSE models, so the scales match.
MSE_LAMBDAS = (0.0018, 0.0035, 0.0067, 0.0130, 0.0250, 0.0483, 0.0932, 0.18)
QUALITY_MIN = 1.0
QUALITY_MAX = float(len(MSE_LAMBDAS))

#: Architectures by name, with their sizes.
ARCHITECTURES: dict[str, HyperpriorConfig] = {
    "mean-scale-tiny": HyperpriorConfig(N=8, M=12),  # unit tests only
    "mean-scale": HyperpriorConfig(N=128, M=192),  # Minnen 2018 low-rate size
    "mean-scale-large": HyperpriorConfig(N=192, M=320),  # Minnen 2018 high-rate size
}


@dataclass(frozen=True)
class CodecSpec:
    """A registered codec.

    Attributes:
        name: Name used by the CLI and API (kebab-case).
        codec_id: Stable id stored in every file.
        architecture: Key of :data:`ARCHITECTURES`.
        weights_file: File name under ``weights/``, or None when none is shipped.
        sha256: Hex sha256 of the weights file.
        description: One line for ``neuralcodec models``.
    """

    name: str
    codec_id: int
    architecture: str
    weights_file: str | None
    sha256: str | None
    description: str

    @property
    def config(self) -> HyperpriorConfig:
        """The architecture's configuration."""
        return ARCHITECTURES[self.architecture]

    @property
    def config_dict(self) -> dict[str, int]:
        """The configuration as plain data (stored in the weights' metadata)."""
        return asdict(self.config)

    def build(self) -> CodecModel:
        """A randomly initialised model of this codec's architecture."""
        return MeanScaleHyperprior(self.config, MSE_LAMBDAS)


CODECS: tuple[CodecSpec, ...] = (
    CodecSpec(
        name="test-tiny",
        codec_id=0,
        architecture="mean-scale-tiny",
        weights_file=None,
        sha256=None,
        description="tiny random-init model for unit tests; no weights",
    ),
    CodecSpec(
        name="hyperprior",
        codec_id=1,
        architecture="mean-scale",
        weights_file="hyperprior-583ecc69.safetensors",
        sha256="583ecc698008def09681e1857b9cd1b66736dabb8390b31eecfe5fdcb0015d65",
        description="variable-rate mean-scale hyperprior, MSE-optimised, q in [1, 8]",
    ),
)
DEFAULT_CODEC = "hyperprior"


def get(name: str) -> CodecSpec:
    """The codec registered under ``name``.

    Raises:
        KeyError: No such codec (the message lists the known names).
    """
    spec = next((s for s in CODECS if s.name == name), None)
    if spec is None:
        raise KeyError(f"unknown codec {name!r}; known: {', '.join(s.name for s in CODECS)}")
    return spec


def get_by_id(codec_id: int) -> CodecSpec:
    """The codec with the stable id ``codec_id``.

    Raises:
        KeyError: No codec has that id.
    """
    spec = next((s for s in CODECS if s.codec_id == codec_id), None)
    if spec is None:
        raise KeyError(f"unknown codec id {codec_id}")
    return spec


def check_quality(quality: float) -> float:
    """Validate a quality and return it as float.

    Raises:
        QualityError: Not a finite number in [QUALITY_MIN, QUALITY_MAX].
    """
    try:
        q = float(quality)
    except (TypeError, ValueError):
        raise QualityError(f"quality must be a number, got {quality!r}") from None
    if not QUALITY_MIN <= q <= QUALITY_MAX:  # also rejects NaN
        raise QualityError(f"quality must be in [{QUALITY_MIN:g}, {QUALITY_MAX:g}], got {quality}")
    return q


def lambda_for_quality(quality: float) -> float:
    """λ for a (fractional) quality, interpolated log-linearly between the integer levels."""
    q = check_quality(quality)
    low = min(int(q), len(MSE_LAMBDAS) - 1)
    t = q - low
    return math.exp((1 - t) * math.log(MSE_LAMBDAS[low - 1]) + t * math.log(MSE_LAMBDAS[low]))
