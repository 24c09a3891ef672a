"""The exceptions neuralcodec raises for bad input, bad files and missing weights.

Everything a user can cause derives from :class:`NeuralcodecError`, so callers can catch one type.
Standard library only: the container imports it.
"""

from __future__ import annotations

__all__ = [
    "NeuralcodecError",
    "BitstreamError",
    "UnsupportedImageError",
    "QualityError",
    "TileSizeError",
    "WeightsError",
    "WeightsNotFoundError",
    "WeightsChecksumError",
    "WeightsMismatchError",
    "ExportError",
    "MissingDependencyError",
]


class NeuralcodecError(Exception):
    """Base class of every error neuralcodec raises for input it cannot handle."""


class BitstreamError(NeuralcodecError, ValueError):
    """A bitstream is corrupt, truncated, of an unknown version, or exceeds a limit."""


class UnsupportedImageError(NeuralcodecError, ValueError):
    """An image cannot be read or has a mode/size the codec does not handle."""


class QualityError(NeuralcodecError, ValueError):
    """A quality (or target bpp) outside the codec's range."""


class TileSizeError(NeuralcodecError, ValueError):
    """A tile size that is not a power of two in range, or that makes too many tiles."""


class WeightsError(NeuralcodecError):
    """Base class for problems with weight files."""


class WeightsNotFoundError(WeightsError, FileNotFoundError):
    """The weight file a codec needs is not installed."""


class WeightsChecksumError(WeightsError):
    """A weight file's sha256 differs from the one in the registry."""


class WeightsMismatchError(WeightsError):
    """A bitstream was made with other weights (or another codec) than the ones loaded."""


class ExportError(NeuralcodecError, ValueError):
    """A model part cannot be exported: unknown part or format, or the exporter failed."""


class MissingDependencyError(NeuralcodecError, ImportError):
    """An optional package (e.g. onnxruntime, from the ``edge`` extra) is not installed."""
