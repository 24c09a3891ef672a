"""neuralcodec: learned image compression with real bitstreams.

Example:
    >>> import neuralcodec
    >>> data = neuralcodec.encode("kodim01.png", quality=3)  # doctest: +SKIP
    >>> image = neuralcodec.decode(data)  # doctest: +SKIP
"""

from neuralcodec.api import Codec, decode, decode_latents, encode
from neuralcodec.errors import (
    BitstreamError,
    NeuralcodecError,
    QualityError,
    UnsupportedImageError,
    WeightsChecksumError,
    WeightsError,
    WeightsMismatchError,
    WeightsNotFoundError,
)
from neuralcodec.registry import CODECS


def list_codecs() -> list[str]:
    """Names of the registered codecs."""
    return [spec.name for spec in CODECS]


__version__ = "0.1.0"

__all__ = [
    "BitstreamError",
    "Codec",
    "NeuralcodecError",
    "QualityError",
    "UnsupportedImageError",
    "WeightsChecksumError",
    "WeightsError",
    "WeightsMismatchError",
    "WeightsNotFoundError",
    "__version__",
    "decode",
    "decode_latents",
    "encode",
    "list_codecs",
]
