"""neuralcodec: learned image compression with real bitstreams.

The coding functions load torch and compressai on first use (PEP 562), so importing the
package, its errors or its registry stays fast.

Example:
    >>> import neuralcodec
    >>> data = neuralcodec.encode("kodim01.png", quality=3)  # doctest: +SKIP
    >>> image = neuralcodec.decode(data)  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
import importlib.util
import warnings
from typing import TYPE_CHECKING

from neuralcodec.container import ContainerError
from neuralcodec.errors import (
    BitstreamError,
    DatasetError,
    ExportError,
    MissingDependencyError,
    NeuralcodecError,
    NotRegisteredError,
    PixelLimitError,
    QualityError,
    TileSizeError,
    UnsupportedImageError,
    WeightsChecksumError,
    WeightsError,
    WeightsMismatchError,
    WeightsNotFoundError,
)
from neuralcodec.registry import CODECS

if TYPE_CHECKING:
    from neuralcodec.api import Codec, Latents, decode, decode_latents, encode, latents

# compressai 1.2.8 calls torch.jit.script at import time, which torch>=2.10 flags as deprecated;
# the notice says nothing to our users, so it is silenced for that message only.
warnings.filterwarnings("ignore", message=r".*torch\.jit\.script.*deprecated", category=FutureWarning)

__version__ = "0.1.0"

#: The public names that live in :mod:`neuralcodec.api`, imported when first used.
_API = ("Codec", "Latents", "decode", "decode_latents", "encode", "latents")


def __getattr__(name: str) -> object:
    """``neuralcodec.encode`` and the other coding names, and submodules (``neuralcodec.api``),
    imported on first use."""
    if name in _API:
        return getattr(importlib.import_module(f"{__name__}.api"), name)
    if importlib.util.find_spec(f"{__name__}.{name}") is not None:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)


def list_codecs() -> list[str]:
    """Names of the registered codecs."""
    return [spec.name for spec in CODECS]


__all__ = [
    "BitstreamError",
    "Codec",
    "ContainerError",
    "DatasetError",
    "ExportError",
    "Latents",
    "MissingDependencyError",
    "NeuralcodecError",
    "NotRegisteredError",
    "PixelLimitError",
    "QualityError",
    "TileSizeError",
    "UnsupportedImageError",
    "WeightsChecksumError",
    "WeightsError",
    "WeightsMismatchError",
    "WeightsNotFoundError",
    "__version__",
    "decode",
    "decode_latents",
    "encode",
    "latents",
    "list_codecs",
]
