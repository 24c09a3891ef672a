"""neuralcodec: learned image compression with real bitstreams.

Example:
    >>> import neuralcodec
    >>> data = neuralcodec.encode("kodim01.png", quality=3)  # doctest: +SKIP
    >>> image = neuralcodec.decode(data)  # doctest: +SKIP
"""

import warnings

# compressai 1.2.8 calls torch.jit.script at import time, which torch>=2.10 flags as deprecated;
# the notice says nothing to our users, so it is silenced for that message only.
warnings.filterwarnings("ignore", message=r".*torch\.jit\.script.*deprecated", category=FutureWarning)

from neuralcodec.api import Codec, Latents, decode, decode_latents, encode, latents
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
    "Latents",
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
    "latents",
    "list_codecs",
]
