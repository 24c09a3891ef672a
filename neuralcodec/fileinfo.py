"""What a ``.ncc`` file's header says, read and verified without decoding the file (no torch)."""

from __future__ import annotations

from typing import NamedTuple

from neuralcodec import container, registry
from neuralcodec.errors import BitstreamError, NotRegisteredError

__all__ = ["FileInfo", "read_info"]


class FileInfo(NamedTuple):
    """What ``neuralcodec info`` shows about a file."""

    codec: str
    quality: float
    width: int
    height: int
    mode: str
    weights_id: str
    num_bytes: int
    bpp: float
    tile_size: int
    stream_bytes: list[int]
    format_version: int


def read_info(data: bytes) -> FileInfo:
    """Parse and verify a file's header without decoding it.

    Raises:
        BitstreamError: Corrupt file or unknown codec id.
    """
    header, streams = container.unpack(data)
    try:
        name = registry.get_by_id(header.codec_id).name
    except NotRegisteredError as error:
        raise BitstreamError(str(error)) from None
    return FileInfo(
        codec=name,
        quality=header.quality,
        width=header.width,
        height=header.height,
        mode=header.mode,
        weights_id=f"{header.weights_id:08x}",
        num_bytes=len(data),
        bpp=len(data) * 8 / (header.width * header.height),
        tile_size=header.tile_size,
        stream_bytes=[len(s) for s in streams],
        format_version=container.FORMAT_VERSION,
    )
