"""The exceptions neuralcodec raises for bad input, bad files and missing weights.

Everything a user can cause derives from :class:`NeuralcodecError`, so callers can catch one type.
Standard library only: the container imports it.
"""

from __future__ import annotations

__all__ = [
    "NeuralcodecError",
    "BitstreamError",
    "UnsupportedImageError",
    "PixelLimitError",
    "NotRegisteredError",
    "QualityError",
    "TileSizeError",
    "WeightsError",
    "WeightsNotFoundError",
    "WeightsChecksumError",
    "WeightsMismatchError",
    "ExportError",
    "MissingDependencyError",
    "DatasetError",
]


class NeuralcodecError(Exception):
    """Base class of every error neuralcodec raises for input it cannot handle."""


class BitstreamError(NeuralcodecError, ValueError):
    """A bitstream is corrupt, truncated, of an unknown version, or exceeds a limit."""


class UnsupportedImageError(NeuralcodecError, ValueError):
    """An image cannot be read or has a mode/size the codec does not handle."""


class PixelLimitError(UnsupportedImageError):
    """An image, or a file's header, declares more pixels than the ``max_pixels`` limit.

    Attributes:
        size: (width, height), or None when the image reader refused it before saying.
        limit: The limit in pixels.
    """

    def __init__(self, size: tuple[int, int] | None, limit: int) -> None:
        self.size, self.limit = size, limit
        super().__init__(self.describe("raise max_pixels"))

    def describe(self, remedy: str) -> str:
        """The message, ending with ``remedy`` (the command line names its flag instead)."""
        what = "the image" if self.size is None else f"{self.size[0]}x{self.size[1]}"
        return f"{what} is over the {self.limit}-pixel limit ({remedy})"


class NotRegisteredError(NeuralcodecError, KeyError):
    """No codec, codec id, encoder variant or task head is registered under that key.

    A ``KeyError`` too, for callers that caught the registry's lookups as such; unlike
    ``KeyError`` its message is printed as is, not quoted.
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class QualityError(NeuralcodecError, ValueError):
    """A quality (or target bpp) outside the codec's range."""


class TileSizeError(NeuralcodecError, ValueError):
    """A tile size that is not a power of two in range, or that makes too many tiles."""


class WeightsError(NeuralcodecError):
    """Base class for problems with weight files."""


class WeightsNotFoundError(WeightsError, FileNotFoundError):
    """The weight file a codec needs is not installed."""


class WeightsChecksumError(WeightsError):
    """A weight file's sha256 differs from the registered one (or, for a base, the recorded one)."""


class WeightsMismatchError(WeightsError):
    """A bitstream was made with other weights (or another codec) than the ones loaded."""


class ExportError(NeuralcodecError, ValueError):
    """A model part cannot be exported: unknown part or format, or the exporter failed."""


class MissingDependencyError(NeuralcodecError, ImportError):
    """An optional package (e.g. onnxruntime, from the ``edge`` extra) is not installed."""


class DatasetError(NeuralcodecError, ValueError):
    """A source tree with no images or an unknown layout, or an output folder made with other settings."""
