"""Structure-aware mutators: ``.ncc`` files mutated below their CRCs, PNG and JPEG files.

A byte flip anywhere in a container dies at its header or payload CRC, so random mutation alone
only ever tests the CRC check. These mutators edit header fields and streams and then re-pack
(``container.pack`` recomputes both CRCs), or flip header bytes and patch the CRCs by hand, so
the field checks, the stream/shape checks and the entropy decoder all see hostile input. PNG
chunks carry CRCs too and are patched the same way; JPEG segments have none.

Every mutator is ``(data, max_size, mutation) -> bytes`` (see :class:`eval.fuzz.target.Mutation`);
libFuzzer's own byte-level mutation (``mutation.raw``) is one of the moves.
"""

from __future__ import annotations

import dataclasses
import random
import struct
import zlib
from collections.abc import Callable

from eval.fuzz.target import Mutation
from neuralcodec import container

__all__ = ["mutate_container", "mutate_image", "fix_container_crcs", "byte_mutator"]

_SIDES = (1, 2, 3, 15, 16, 17, 63, 64, 65, 127, 128, 129, 255, 256, 257, 511, 512, 513, 1023,
          1024, 2048, 4096, 65535, 65536, 2**20, 2**31 - 1, 2**32 - 1)
_QUALITIES = (0.0, 1 / 256, 0.99609375, 1.0, 1.00390625, 3.5, 8.0, 8.00390625, 255.99609375)
_PATTERNS = (b"\x00", b"\xff", b"\xf0", b"\x0f", b"\x80\x00\x00\x00", b"\xff\xff\xff\x7f", b"\xaa")
_CRC = struct.Struct(">I")


def _pattern(rng: random.Random, size: int) -> bytes:
    if rng.random() < 0.3:
        return rng.randbytes(size)
    unit = rng.choice(_PATTERNS)
    return (unit * (size // len(unit) + 1))[:size]


def _stream_size(rng: random.Random) -> int:
    return rng.choice((0, 1, 4, 7, 8, 12, 16, 64, 256, 4096))


# -- container ------------------------------------------------------------------------------------


def fix_container_crcs(head: bytes, payload: bytes) -> bytes:
    """``head`` (a header, CRCs included) and ``payload`` joined with both CRCs recomputed.

    Relies on the layout's trailer, shared by every format version: ``... | payload_crc32 |
    header_crc32`` are the last 8 header bytes, the header CRC covering everything before it.
    """
    body = head[:-8] + _CRC.pack(zlib.crc32(payload))
    return body + _CRC.pack(zlib.crc32(body)) + payload


def _mutate_fields(header: container.Header, rng: random.Random) -> container.Header:
    """The header with one to three fields set to boundary or random values."""
    changes: dict[str, object] = {}
    fields = [f.name for f in dataclasses.fields(header)]
    for name in rng.sample(fields, k=min(len(fields), rng.randint(1, 3))):
        old = getattr(header, name)
        if name == "mode":
            changes[name] = rng.choice(container.MODES)
        elif name == "quality":
            changes[name] = rng.choice((*_QUALITIES, rng.uniform(0, 10)))
        elif name in ("height", "width"):
            changes[name] = rng.choice((*_SIDES, max(1, old + rng.randint(-70, 70)), old * 2, old * 16))
        elif name == "tile_size":
            changes[name] = 2 ** rng.randint(6, 16)
        elif name == "flags":
            changes[name] = rng.randint(0, 3)
        elif name == "codec_id":
            changes[name] = rng.choice((0, 1, 2, 255))
        elif isinstance(old, int):
            changes[name] = rng.choice((0, old ^ (1 << rng.randint(0, 31)), rng.getrandbits(32)))
    return dataclasses.replace(header, **changes)  # type: ignore[arg-type]


def byte_mutator(rng: random.Random) -> Callable[[bytes, int], bytes]:
    """A plain byte mutator (flip, overwrite, insert, erase) for use outside a fuzzer."""

    def mutate(data: bytes, max_size: int) -> bytes:
        out = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            move, position = rng.randrange(4), rng.randint(0, len(out))
            if move == 0 and position < len(out):
                out[position] ^= 1 << rng.randrange(8)
            elif move == 1 and position < len(out):
                out[position] = rng.randrange(256)
            elif move == 2:
                out[position:position] = rng.randbytes(rng.randint(1, 8))
            else:
                del out[position : position + rng.randint(1, 8)]
        return bytes(out[:max_size])

    return mutate


def _mutate_streams(streams: list[bytes], m: Mutation) -> list[bytes]:
    """One edit of the stream list: a stream rewritten, truncated, extended, or the list reshaped."""
    rng, donors = m.rng, m.donors
    streams = list(streams)
    i = rng.randrange(len(streams))
    move = rng.randrange(9)
    if move == 0:
        streams[i] = m.raw(streams[i], max(8, 2 * len(streams[i])))
    elif move == 1:  # truncate, often to a multiple of 4 so the rANS length check passes
        cut = rng.randint(0, len(streams[i]))
        streams[i] = streams[i][: cut - cut % 4 if rng.random() < 0.7 else cut]
    elif move == 2:
        streams[i] += _pattern(rng, _stream_size(rng))
    elif move == 3:
        streams[i] = _pattern(rng, _stream_size(rng))
    elif move == 4:  # flip bits inside the stream
        data = bytearray(streams[i])
        for _ in range(rng.randint(1, 4)):
            if data:
                data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        streams[i] = bytes(data)
    elif move == 5 and len(streams) > 1:
        j = rng.randrange(len(streams))
        streams[i], streams[j] = streams[j], streams[i]
    elif move == 6 and len(streams) > 1:
        del streams[i]
    elif move == 7:
        streams.insert(i, rng.choice(streams))
    else:  # a stream from another file
        donor = rng.choice(donors)
        try:
            donor_streams = container.unpack(donor)[1]
        except container.ContainerError:
            donor_streams = [donor]
        streams[i] = rng.choice(donor_streams)
    return streams


def _resize(header: container.Header, streams: list[bytes], rng: random.Random) -> tuple[container.Header, list[bytes]]:
    """A consistent file for another (often much larger) image: RGB, one tile, z and y streams.

    With a single tile the codec expects exactly two streams whatever the size, so the file
    passes every header check and the entropy decoder runs on streams made for a smaller image.
    """
    side = rng.choice(_SIDES[:22])
    changes: dict[str, object] = {"height": side, "width": max(1, side + rng.randint(-64, 64)),
                                  "mode": "RGB", "flags": 0}
    if any(f.name == "tile_size" for f in dataclasses.fields(header)):
        changes["tile_size"] = 2**16
    z_stream = streams[0][: rng.choice((8, 16, len(streams[0])))]
    return dataclasses.replace(header, **changes), [z_stream, streams[-1]]  # type: ignore[arg-type]


def _flip_header(data: bytes, header_len: int, rng: random.Random) -> bytes:
    """Overwrite a few header bytes (CRCs excluded), then make both CRCs valid again."""
    head = bytearray(data[:header_len])
    for _ in range(rng.randint(1, 3)):
        position = rng.randrange(max(1, header_len - 8))
        head[position] = rng.choice((0, 1, 0xFF, 0x7F, 0x80, rng.randrange(256), head[position] ^ 1))
    return fix_container_crcs(bytes(head), data[header_len:])


def mutate_container(data: bytes, max_size: int, m: Mutation) -> bytes:
    """Mutate a container file; most results still pass the CRC checks.

    Moves: libFuzzer's byte mutation (tests the parser and the CRCs), header bytes rewritten
    with the CRCs patched, a consistent resize (see :func:`_resize`), header fields and streams
    edited then re-packed, and splicing.
    """
    rng = m.rng
    try:
        header, streams = container.unpack(data)
    except container.ContainerError:
        if rng.random() < 0.5 or not m.donors:
            return bytes(m.raw(data, max_size))
        data = rng.choice(m.donors)
        header, streams = container.unpack(data)
    move = rng.random()
    if move < 0.1:
        return bytes(m.raw(data, max_size))
    header_len = len(data) - sum(len(s) for s in streams)
    if move < 0.3:
        return _flip_header(data, header_len, rng)[:max_size]
    if move < 0.4:
        header, streams = _resize(header, streams, rng)
    for _ in range(rng.randint(1, 3) if move >= 0.4 else 0):
        if rng.random() < 0.4:
            header = _mutate_fields(header, rng)
        else:
            streams = _mutate_streams(streams, m)
    try:
        out = container.pack(header, streams)
    except container.ContainerError:  # a field pack() refuses: write a raw header instead
        out = _flip_header(data, header_len, rng)
    return out[:max_size]


# -- images ---------------------------------------------------------------------------------------

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes]] | None:
    """(type, data) of each chunk, or None when ``data`` is not a well-formed PNG."""
    if not data.startswith(_PNG_SIGNATURE):
        return None
    chunks, offset = [], len(_PNG_SIGNATURE)
    while offset + 12 <= len(data):
        (length,) = struct.unpack_from(">I", data, offset)
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        if len(body) != length:
            return None
        chunks.append((kind, body))
        offset += 12 + length
    return chunks if offset == len(data) else None


def _png_join(chunks: Sequence[tuple[bytes, bytes]]) -> bytes:
    out = bytearray(_PNG_SIGNATURE)
    for kind, body in chunks:
        out += struct.pack(">I", len(body)) + kind + body + _CRC.pack(zlib.crc32(kind + body))
    return bytes(out)


def _mutate_png(chunks: list[tuple[bytes, bytes]], m: Mutation) -> bytes:
    """Edit one chunk (IHDR fields, IDAT data, any body), or drop / repeat one; CRCs patched."""
    rng = m.rng
    i = rng.randrange(len(chunks))
    kind, body = chunks[i]
    move = rng.randrange(6)
    if kind == b"IHDR" and len(body) == 13 and move < 3:
        width, height, depth, color, method, filt, interlace = struct.unpack(">IIBBBBB", body)
        field = rng.randrange(5)
        if field == 0:
            width, height = rng.choice(_SIDES), rng.choice(_SIDES)
        elif field == 1:
            depth = rng.choice((1, 2, 4, 8, 16, 3, 0))
        elif field == 2:
            color = rng.choice((0, 2, 3, 4, 6, 1, 7))
        elif field == 3:
            interlace = rng.randint(0, 2)
        else:
            method, filt = rng.randint(0, 1), rng.randint(0, 1)
        body = struct.pack(">IIBBBBB", width, height, depth, color, method, filt, interlace)
    elif kind == b"IDAT" and move < 2:  # a valid zlib stream of other (or too much) data
        raw = zlib.decompress(body) if rng.random() < 0.5 and _inflates(body) else b""
        body = zlib.compress(m.raw(raw, 2 * len(raw) + 64) if raw else _pattern(rng, 1 << rng.randint(4, 20)))
    elif move < 4:
        body = m.raw(body, 2 * len(body) + 16)
    elif move == 4 and len(chunks) > 2:
        del chunks[i]
        return _png_join(chunks)
    else:
        chunks.insert(i, (kind, body))
        return _png_join(chunks)
    chunks[i] = (kind, body)
    return _png_join(chunks)


def _inflates(body: bytes) -> bool:
    try:
        zlib.decompress(body)
    except zlib.error:
        return False
    return True


def _jpeg_sof(data: bytes) -> int | None:
    """Offset of the first SOF segment's marker, or None."""
    offset = 2
    while offset + 4 <= len(data) and data[offset] == 0xFF:
        marker = data[offset + 1]
        (length,) = struct.unpack_from(">H", data, offset + 2)
        if marker in (0xC0, 0xC1, 0xC2):
            return offset
        if marker == 0xDA:
            return None
        offset += 2 + length
    return None


def _mutate_jpeg(data: bytes, rng: random.Random) -> bytes:
    """Rewrite the frame size or component count, or corrupt the entropy-coded scan."""
    out = bytearray(data)
    sof = _jpeg_sof(data)
    if sof is not None and sof + 10 <= len(out) and rng.random() < 0.5:
        if rng.random() < 0.7:  # height, width: u16 at marker + 5 and + 7
            struct.pack_into(">HH", out, sof + 5, rng.choice(_SIDES) & 0xFFFF, rng.choice(_SIDES) & 0xFFFF)
        else:
            out[sof + 9] = rng.choice((0, 1, 2, 3, 4, 255))
        return bytes(out)
    scan = data.find(b"\xff\xda")
    start = scan + 2 if scan >= 0 else len(data) // 2
    for _ in range(rng.randint(1, 8)):
        if start < len(out):
            out[rng.randrange(start, len(out))] = rng.randrange(256)
    return bytes(out)


def mutate_image(data: bytes, max_size: int, m: Mutation) -> bytes:
    """Mutate a PNG or JPEG file: truncation, format-aware edits (PNG CRCs patched), byte flips."""
    rng, donors = m.rng, m.donors
    if not data and donors:
        data = rng.choice(donors)
    move = rng.random()
    if move < 0.2:
        return bytes(m.raw(data, max_size))
    if move < 0.4:
        return data[: rng.randint(0, len(data))]
    chunks = _png_chunks(data)
    if chunks:
        return _mutate_png(chunks, m)[:max_size]
    if data.startswith(b"\xff\xd8"):
        return _mutate_jpeg(data, rng)[:max_size]
    return bytes(m.raw(rng.choice(donors) if donors else data, max_size))
