"""The neuralcodec file format (``.ncc``): a self-describing, versioned, checksummed container.

Layout, format version 2. All integers are unsigned and big-endian.

======  =====  ==================  ==========================================================
offset  bytes  field               meaning
======  =====  ==================  ==========================================================
0       2      magic               ``b"NC"``
2       1      format_version      ``2``
3       1      codec_id            stable id from ``registry.py``; never reused
4       4      weights_id          first 4 bytes of the weights file's sha256
8       2      quality             quality x 256 (so q = 3.5 is stored as 896)
10      1      mode                original image mode, index into :data:`MODES`
11      1      flags               bit 0: alpha plane stream, bit 1: palette stream
12      4      height              original height in pixels (>= 1)
16      4      width               original width in pixels (>= 1)
20      1      tile_log2           tiles are 2**tile_log2 pixels square (6..16)
21      1      num_streams         number of streams n (1..255)
22      4n     stream lengths      byte length of each stream
22+4n   4      payload_crc32       CRC32 of the concatenated streams
26+4n   4      header_crc32        CRC32 of every byte before this field
30+4n   ...    streams             concatenated, in order: the codec's entropy-coded
                                   streams, then the alpha plane (zlib) if flag 0, then
                                   the palette (768 raw bytes) if flag 1
======  =====  ==================  ==========================================================

Tiles: the codec's transforms run, and its latent is entropy-coded, in square tiles of the
(padded) image, row-major, so that memory stays bounded for any image size; how many streams
a codec writes follows from height, width and the tile size (one tile for images up to the tile
size). Version 1 (no tile field, never tiled) came from pre-release builds and is not read.

The latent shape is derived from height and width, never stored. :func:`unpack` checks the
magic, version, header CRC, field ranges, that the file is exactly as long as the header says,
and the payload CRC, before anything downstream reads a stream; every failure raises
:class:`ContainerError`. Standard library only.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

from neuralcodec.errors import BitstreamError

__all__ = [
    "MAGIC",
    "FORMAT_VERSION",
    "MODES",
    "FLAG_ALPHA",
    "FLAG_PALETTE",
    "MAX_STREAMS",
    "TILE_LOG2_RANGE",
    "tile_size_problem",
    "QUALITY_SCALE",
    "ContainerError",
    "Header",
    "pack",
    "unpack",
    "header_size",
]

MAGIC = b"NC"
FORMAT_VERSION = 2
#: Image modes a file can restore; the byte stores the index. Append only.
MODES = ("RGB", "L", "RGBA", "LA", "P", "1")
FLAG_ALPHA = 0x01
FLAG_PALETTE = 0x02
MAX_STREAMS = 255
#: Tile sides a file may declare: 2**6 = 64 to 2**16 pixels.
TILE_LOG2_RANGE = (6, 16)
#: Quality is stored in fixed point with this many steps per unit.
QUALITY_SCALE = 256
MAX_SIDE = 2**31 - 1

_FIXED = struct.Struct(">2sBBIHBBIIBB")  # magic .. num_streams
_CRC = struct.Struct(">I")


class ContainerError(BitstreamError):
    """The bytes are not a valid neuralcodec container."""


@dataclass(frozen=True)
class Header:
    """The fields of a container header (everything but the streams).

    Attributes:
        codec_id: Stable codec id from the registry.
        weights_id: First 4 bytes of the weights' sha256, as an integer.
        quality: Quality as coded; a multiple of 1/256.
        mode: Original image mode, one of :data:`MODES`.
        height: Original height in pixels.
        width: Original width in pixels.
        tile_size: Side of the coding tiles in pixels, a power of two.
        flags: Bit set of :data:`FLAG_ALPHA` and :data:`FLAG_PALETTE`.
    """

    codec_id: int
    weights_id: int
    quality: float
    mode: str
    height: int
    width: int
    tile_size: int
    flags: int = 0

    @property
    def num_extra_streams(self) -> int:
        """Streams after the codec's own: alpha plane and palette."""
        return bin(self.flags & (FLAG_ALPHA | FLAG_PALETTE)).count("1")


def header_size(num_streams: int) -> int:
    """Bytes taken by a header with ``num_streams`` streams."""
    return _FIXED.size + 4 * num_streams + 2 * _CRC.size


def tile_size_problem(tile_size: int) -> str | None:
    """Why ``tile_size`` cannot be stored (not a power of two in :data:`TILE_LOG2_RANGE`), or None."""
    low, high = TILE_LOG2_RANGE
    if tile_size in {2**k for k in range(low, high + 1)}:
        return None
    return f"tile size {tile_size} is not a power of two in [{2**low}, {2**high}]"


def _validate(header: Header, num_streams: int) -> None:
    if not 0 <= header.codec_id <= 0xFF:
        raise ContainerError(f"codec id {header.codec_id} does not fit in a byte")
    if not 0 <= header.weights_id <= 0xFFFFFFFF:
        raise ContainerError(f"weights id {header.weights_id} does not fit in 4 bytes")
    if header.mode not in MODES:
        raise ContainerError(f"image mode {header.mode!r} cannot be stored (known: {MODES})")
    if header.flags & ~(FLAG_ALPHA | FLAG_PALETTE):
        raise ContainerError(f"unknown flags 0x{header.flags:02x}")
    if not (1 <= header.height <= MAX_SIDE and 1 <= header.width <= MAX_SIDE):
        raise ContainerError(f"image size {header.width}x{header.height} out of range")
    problem = tile_size_problem(header.tile_size)
    if problem:
        raise ContainerError(problem)
    if not 1 <= num_streams <= MAX_STREAMS:
        raise ContainerError(f"{num_streams} streams; a file holds 1 to {MAX_STREAMS}")
    if header.num_extra_streams >= num_streams:
        raise ContainerError("flags name more extra streams than the file holds")


def _quality_code(quality: float) -> int:
    code = round(quality * QUALITY_SCALE)
    if not 0 <= code <= 0xFFFF:
        raise ContainerError(f"quality {quality} cannot be stored")
    return code


def pack(header: Header, streams: list[bytes]) -> bytes:
    """Serialise a header and its streams into container bytes.

    Args:
        header: Header fields. ``quality`` is rounded to a multiple of 1/256.
        streams: The codec's streams followed by the extras named in ``header.flags``.

    Returns:
        The complete file contents.

    Raises:
        ContainerError: A field is out of range.

    Example:
        >>> data = pack(Header(1, 0xDEADBEEF, 3.0, "RGB", 2, 3, 1024), [b"z", b"y"])
        >>> unpack(data)[1]
        [b'z', b'y']
    """
    _validate(header, len(streams))
    payload = b"".join(streams)
    head = _FIXED.pack(
        MAGIC,
        FORMAT_VERSION,
        header.codec_id,
        header.weights_id,
        _quality_code(header.quality),
        MODES.index(header.mode),
        header.flags,
        header.height,
        header.width,
        header.tile_size.bit_length() - 1,
        len(streams),
    )
    head += struct.pack(f">{len(streams)}I", *(len(s) for s in streams))
    head += _CRC.pack(zlib.crc32(payload))
    head += _CRC.pack(zlib.crc32(head))
    return head + payload


def unpack(data: bytes) -> tuple[Header, list[bytes]]:
    """Parse and verify container bytes.

    Args:
        data: The whole file.

    Returns:
        The header and the list of streams.

    Raises:
        ContainerError: Bad magic, unknown version, corrupt header or payload, truncated or
            trailing bytes, or a field out of range.
        TypeError: ``data`` is not bytes-like (a file name, say).
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(
            f"expected the bytes of a .ncc file, got {type(data).__name__}; "
            "for a file, pass Path(name).read_bytes()"
        )
    data = bytes(data)
    if len(data) < _FIXED.size:
        raise ContainerError(f"file is {len(data)} bytes, shorter than any neuralcodec header")
    (magic, version, codec_id, weights_id, quality_code, mode_index, flags, height, width,
     tile_log2, n) = _FIXED.unpack_from(data)
    if magic != MAGIC:
        raise ContainerError("not a neuralcodec file (bad magic bytes)")
    if version != FORMAT_VERSION:
        raise ContainerError(
            f"format version {version} is not supported (this reader: {FORMAT_VERSION})"
        )
    if not 1 <= n <= MAX_STREAMS:
        raise ContainerError(f"corrupt header: {n} streams")
    end_of_header = header_size(n)
    if len(data) < end_of_header:
        raise ContainerError("truncated header")
    (header_crc,) = _CRC.unpack_from(data, end_of_header - _CRC.size)
    if zlib.crc32(data[: end_of_header - _CRC.size]) != header_crc:
        raise ContainerError("corrupt header (CRC mismatch)")
    if mode_index >= len(MODES):
        raise ContainerError(f"unknown image mode index {mode_index}")
    if not TILE_LOG2_RANGE[0] <= tile_log2 <= TILE_LOG2_RANGE[1]:
        raise ContainerError(f"tile size 2**{tile_log2} out of range")
    lengths = struct.unpack_from(f">{n}I", data, _FIXED.size)
    (payload_crc,) = _CRC.unpack_from(data, _FIXED.size + 4 * n)
    expected = end_of_header + sum(lengths)
    if len(data) < expected:
        raise ContainerError(f"truncated file: {len(data)} bytes, header says {expected}")
    if len(data) > expected:
        raise ContainerError(f"{len(data) - expected} trailing bytes after the last stream")
    payload = data[end_of_header:]
    if zlib.crc32(payload) != payload_crc:
        raise ContainerError("corrupt payload (CRC mismatch)")
    header = Header(
        codec_id=codec_id,
        weights_id=weights_id,
        quality=quality_code / QUALITY_SCALE,
        mode=MODES[mode_index],
        height=height,
        width=width,
        tile_size=2**tile_log2,
        flags=flags,
    )
    _validate(header, n)
    streams, offset = [], 0
    for length in lengths:
        streams.append(payload[offset : offset + length])
        offset += length
    return header, streams
