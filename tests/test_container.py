"""The .ncc container: golden bytes, round trips, and rejection of every corruption."""

from __future__ import annotations

import dataclasses
import struct
import zlib

import pytest
from neuralcodec_testing import check_golden

from neuralcodec import container
from neuralcodec.container import ContainerError, Header, pack, unpack
from neuralcodec.errors import BitstreamError, NeuralcodecError

RGB_HEADER = Header(
    codec_id=1, weights_id=0xDEADBEEF, quality=3.5, mode="RGB", height=45, width=67, tile_size=1024
)
RGB_STREAMS = [b"\x01\x02\x03\x04\x05\x06\x07\x08", b"y-stream" * 3]
RGBA_HEADER = Header(
    codec_id=0, weights_id=0x01020304, quality=1.0 + 1 / 256, mode="RGBA", height=1, width=2**31 - 1,
    tile_size=2**16, flags=container.FLAG_ALPHA,
)
RGBA_STREAMS = [b"zzzzzzzz", b"yyyyyyyyyyyy", zlib.compress(b"\xff\x80")]


def small_file() -> bytes:
    return pack(RGB_HEADER, RGB_STREAMS)


@pytest.mark.parametrize(
    ("name", "header", "streams"),
    [("container-rgb.bin", RGB_HEADER, RGB_STREAMS), ("container-rgba.bin", RGBA_HEADER, RGBA_STREAMS)],
)
def test_golden_bytes(name: str, header: Header, streams: list[bytes]) -> None:
    data = pack(header, streams)
    check_golden(name, data)
    assert unpack(data) == (header, streams)


def test_layout_matches_the_documented_table() -> None:
    data = small_file()
    n = len(RGB_STREAMS)
    assert data[:2] == b"NC"
    assert data[2] == container.FORMAT_VERSION == 2
    assert data[3] == 1  # codec id
    assert data[4:8] == bytes.fromhex("deadbeef")
    assert data[8:10] == (896).to_bytes(2, "big")  # 3.5 * 256
    assert data[10] == container.MODES.index("RGB") == 0
    assert data[11] == 0  # flags
    assert data[12:16] == (45).to_bytes(4, "big")
    assert data[16:20] == (67).to_bytes(4, "big")
    assert data[20] == 10  # tile_log2: 1024-pixel tiles
    assert data[21] == n
    assert struct.unpack(">2I", data[22:30]) == tuple(len(s) for s in RGB_STREAMS)
    payload = b"".join(RGB_STREAMS)
    assert data[22 + 4 * n : 26 + 4 * n] == zlib.crc32(payload).to_bytes(4, "big")
    assert data[26 + 4 * n : 30 + 4 * n] == zlib.crc32(data[: 26 + 4 * n]).to_bytes(4, "big")
    assert data[30 + 4 * n :] == payload
    assert container.header_size(n) == 30 + 4 * n


def test_modes_are_append_only() -> None:
    # The byte stores the index: reordering MODES would change the meaning of old files.
    assert container.MODES[:6] == ("RGB", "L", "RGBA", "LA", "P", "1")


@pytest.mark.parametrize("mode", container.MODES)
@pytest.mark.parametrize("quality", [1.0, 3.5, 8.0, 2.0 + 37 / 256])
def test_round_trip(mode: str, quality: float) -> None:
    flags = {"RGBA": container.FLAG_ALPHA, "LA": container.FLAG_ALPHA, "P": container.FLAG_PALETTE}
    header = Header(7, 0xFFFFFFFF, quality, mode, 513, 769, 64, flags.get(mode, 0))
    streams = [b"", b"abc", b"\x00" * 1000][: 1 + header.num_extra_streams + 1]
    assert unpack(pack(header, streams)) == (header, streams)


def test_round_trip_all_flags_and_max_streams() -> None:
    header = Header(255, 0, 8.0, "RGBA", 1, 1, 256, container.FLAG_ALPHA | container.FLAG_PALETTE)
    assert header.num_extra_streams == 2
    streams = [bytes([i]) * i for i in range(container.MAX_STREAMS)]
    assert unpack(pack(header, streams)) == (header, streams)


def test_quality_is_rounded_to_the_grid() -> None:
    header, _ = unpack(pack(dataclasses.replace(RGB_HEADER, quality=3.3), RGB_STREAMS))
    assert header.quality == round(3.3 * 256) / 256


def test_unpack_accepts_bytearray_and_memoryview() -> None:
    data = small_file()
    assert unpack(bytearray(data)) == unpack(memoryview(data)) == unpack(data)


def test_every_byte_change_in_the_file_is_detected() -> None:
    """Each position, every other byte value: header fields, lengths, CRCs and the payload."""
    data = small_file()
    assert len(data) < 100
    for position in range(len(data)):
        for value in range(256):
            if value == data[position]:
                continue
            corrupt = data[:position] + bytes([value]) + data[position + 1 :]
            with pytest.raises(ContainerError):
                unpack(corrupt)


@pytest.mark.parametrize("make", [small_file, lambda: pack(RGBA_HEADER, RGBA_STREAMS)])
def test_every_truncation_is_detected(make) -> None:  # type: ignore[no-untyped-def]
    data = make()
    for length in range(len(data)):
        with pytest.raises(ContainerError):
            unpack(data[:length])


@pytest.mark.parametrize("extra", [b"\x00", b"NC", b"\x00" * 1000])
def test_trailing_bytes(extra: bytes) -> None:
    with pytest.raises(ContainerError, match="trailing"):
        unpack(small_file() + extra)


@pytest.mark.parametrize("magic", [b"nc", b"PK", b"\x89P", b"\x00\x00"])
def test_bad_magic(magic: bytes) -> None:
    with pytest.raises(ContainerError, match="magic"):
        unpack(magic + small_file()[2:])


def test_not_a_container_at_all() -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    with pytest.raises(ContainerError):
        unpack(png)


@pytest.mark.parametrize("version", [0, 1, 3, 255])
def test_unknown_version(version: int) -> None:
    data = bytearray(small_file())
    data[2] = version
    with pytest.raises(ContainerError, match="version"):
        unpack(bytes(data))


def _with_field(data: bytes, offset: int, value: bytes) -> bytes:
    """Overwrite header bytes and fix the header CRC: the field checks must catch it, not the CRC."""
    raw = bytearray(data)
    raw[offset : offset + len(value)] = value
    end = container.header_size(raw[21])
    raw[end - 4 : end] = zlib.crc32(bytes(raw[: end - 4])).to_bytes(4, "big")
    return bytes(raw)


@pytest.mark.parametrize(
    ("offset", "value", "match"),
    [
        (10, bytes([len(container.MODES)]), "mode"),  # mode index past the table
        (10, b"\xff", "mode"),
        (11, b"\x04", "flags"),  # unknown flag bits
        (11, b"\x80", "flags"),
        (11, bytes([container.FLAG_ALPHA | container.FLAG_PALETTE]), "extra streams"),  # 2 of 2
        (12, b"\x00\x00\x00\x00", "size"),  # height 0
        (16, b"\x00\x00\x00\x00", "size"),  # width 0
        (12, b"\x80\x00\x00\x00", "size"),  # height 2**31
        (16, b"\xff\xff\xff\xff", "size"),
        (20, b"\x05", "tile"),  # 32-pixel tiles
        (20, b"\x11", "tile"),
        (21, b"\x00", "streams"),
    ],
)
def test_out_of_range_fields_with_valid_crc(offset: int, value: bytes, match: str) -> None:
    with pytest.raises(ContainerError, match=match):
        unpack(_with_field(small_file(), offset, value))


def test_valid_crc_but_lengths_disagree_with_the_file() -> None:
    data = small_file()
    longer = _with_field(data, 22, (len(RGB_STREAMS[0]) + 1).to_bytes(4, "big"))
    with pytest.raises(ContainerError, match="truncated"):
        unpack(longer)
    shorter = _with_field(data, 22, (len(RGB_STREAMS[0]) - 1).to_bytes(4, "big"))
    with pytest.raises(ContainerError, match="trailing"):
        unpack(shorter)


def test_valid_header_crc_but_corrupt_payload() -> None:
    data = bytearray(small_file())
    data[-1] ^= 0x01
    with pytest.raises(ContainerError, match="payload"):
        unpack(bytes(data))


@pytest.mark.parametrize(
    ("changes", "streams"),
    [
        ({"codec_id": 256}, None),
        ({"codec_id": -1}, None),
        ({"weights_id": 2**32}, None),
        ({"weights_id": -1}, None),
        ({"quality": 256.0}, None),  # does not fit 16 bits at 1/256
        ({"quality": -1.0}, None),
        ({"mode": "CMYK"}, None),
        ({"mode": "I;16"}, None),
        ({"flags": 0x04}, None),
        ({"height": 0}, None),
        ({"width": 0}, None),
        ({"height": 2**31}, None),
        ({"width": -5}, None),
        ({"tile_size": 32}, None),
        ({"tile_size": 1000}, None),
        ({"tile_size": 2**17}, None),
        ({}, []),  # no streams
        ({}, [b""] * (container.MAX_STREAMS + 1)),
        ({"flags": container.FLAG_ALPHA}, [b"alpha"]),  # the extra stream leaves no codec stream
    ],
)
def test_pack_rejects_out_of_range_fields(changes: dict[str, object], streams: list[bytes] | None) -> None:
    header = dataclasses.replace(RGB_HEADER, **changes)  # type: ignore[arg-type]
    with pytest.raises(ContainerError):
        pack(header, RGB_STREAMS if streams is None else streams)


def test_container_error_is_a_bitstream_error() -> None:
    assert issubclass(ContainerError, BitstreamError)
    assert issubclass(ContainerError, NeuralcodecError)
    assert issubclass(ContainerError, ValueError)
