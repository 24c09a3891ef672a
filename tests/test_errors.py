"""The errors the API raises: all importable from ``neuralcodec``, typed, with readable messages."""

from __future__ import annotations

from pathlib import Path

import pytest
from neuralcodec_testing import TINY

import neuralcodec
from neuralcodec import Codec, errors
from neuralcodec.errors import NeuralcodecError, NotRegisteredError, UnsupportedImageError


@pytest.mark.parametrize("name", [*errors.__all__, "ContainerError"])
def test_every_error_class_is_importable_from_the_package(name: str) -> None:
    error = getattr(neuralcodec, name)
    assert issubclass(error, NeuralcodecError) and name in neuralcodec.__all__


@pytest.mark.usefixtures("installed_tiny")
def test_unknown_codec_is_a_neuralcodec_error() -> None:
    with pytest.raises(NotRegisteredError) as caught:
        Codec("nope")
    assert isinstance(caught.value, NeuralcodecError) and isinstance(caught.value, KeyError)
    assert str(caught.value) == f"unknown codec 'nope'; known: {', '.join(neuralcodec.list_codecs())}"
    with pytest.raises(NotRegisteredError, match="unknown encoder 'nope'"):
        Codec(TINY, encoder="nope")


@pytest.mark.parametrize("data", ["photo.ncc", Path("photo.ncc"), 12])
def test_decode_of_a_file_name_says_what_to_pass(data: object) -> None:
    with pytest.raises(TypeError, match=r"expected the bytes of a \.ncc file, got .*Path\(name\)\.read_bytes\(\)"):
        neuralcodec.decode(data)  # type: ignore[arg-type]


def test_messages_never_dump_raw_bytes(tiny_codec: Codec, tiny_image: object) -> None:
    """A .ncc file passed as an image (bytes are read as an image file) is named, not dumped."""
    data = tiny_codec.encode(tiny_image, 3)  # type: ignore[arg-type]
    with pytest.raises(UnsupportedImageError) as caught:
        tiny_codec.encode(data, 3)
    assert str(caught.value) == "cannot read the image: not an image format Pillow reads"
    with pytest.raises(neuralcodec.BitstreamError) as corrupt:
        tiny_codec.decode(b"\x89PNG\r\n\x1a\n" + bytes(64))
    assert "\\x" not in str(corrupt.value) and "b'" not in str(corrupt.value)


def test_coding_names_load_on_first_use() -> None:
    assert neuralcodec.Codec is neuralcodec.api.Codec and neuralcodec.encode is neuralcodec.api.encode
    assert {"Codec", "encode", "PixelLimitError"} <= set(dir(neuralcodec))
    with pytest.raises(AttributeError):
        neuralcodec.nope  # type: ignore[attr-defined]  # noqa: B018
