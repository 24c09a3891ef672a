"""Weight files: location, checksum, metadata, strict loading, and bit-exact reuse of the CDFs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from neuralcodec_testing import TINY, export_weights, with_weights
from PIL import Image

import neuralcodec
from neuralcodec import Codec, registry, weights
from neuralcodec.errors import (
    WeightsChecksumError,
    WeightsError,
    WeightsNotFoundError,
)
from neuralcodec.models import MeanScaleHyperprior


@pytest.fixture
def weights_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "weights"
    folder.mkdir()
    monkeypatch.setenv("NEURALCODEC_WEIGHTS", str(folder))
    return folder


def spec_for(path: Path, sha256: str) -> registry.CodecSpec:
    return with_weights(registry.get(TINY), (path, sha256))


def test_weights_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The package data folder, which in a checkout is the top-level weights/; or the variable."""
    monkeypatch.delenv("NEURALCODEC_WEIGHTS", raising=False)
    package = Path(neuralcodec.__file__).parent
    assert weights.weights_dir() == (package / "_weights").resolve() == (package.parent / "weights").resolve()
    monkeypatch.setenv("NEURALCODEC_WEIGHTS", str(tmp_path))
    assert weights.weights_dir() == tmp_path


def test_spec_without_a_file() -> None:
    spec = registry.get(TINY)
    assert spec.weights_file is None
    with pytest.raises(WeightsNotFoundError, match="no weights"):
        weights.weights_path(spec)
    with pytest.raises(WeightsNotFoundError):
        weights.load_model(spec)
    with pytest.raises(WeightsNotFoundError):
        Codec(TINY)


def test_missing_file(weights_env: Path) -> None:
    spec = spec_for(Path("test-tiny-0badf00d.safetensors"), "0badf00d" + "0" * 56)
    with pytest.raises(WeightsNotFoundError, match="not found") as caught:
        weights.load_model(spec)
    assert str(weights_env / spec.weights_file) in str(caught.value)  # type: ignore[operator]
    assert isinstance(caught.value, FileNotFoundError)


def test_wrong_checksum(weights_env: Path, tiny_model: MeanScaleHyperprior) -> None:
    path, digest = export_weights(tiny_model, registry.get(TINY), weights_env)
    wrong = ("0" if digest[0] != "0" else "1") + digest[1:]
    with pytest.raises(WeightsChecksumError, match=digest):
        weights.load_model(spec_for(path, wrong))
    with pytest.raises(WeightsChecksumError):
        weights.load_model(spec_for(path, ""))
    # A single changed byte in the file is caught too.
    raw = bytearray(path.read_bytes())
    raw[-1] ^= 1
    path.write_bytes(bytes(raw))
    with pytest.raises(WeightsChecksumError):
        weights.load_model(spec_for(path, digest))


def test_save_load_round_trip(weights_env: Path, tiny_model: MeanScaleHyperprior) -> None:
    spec = registry.get(TINY)
    path, digest = export_weights(tiny_model, spec, weights_env)
    assert path.name == f"test-tiny-{digest[:8]}.safetensors"
    assert weights.sha256_file(path) == digest
    model, weights_id = weights.load_model(spec_for(path, digest))
    assert weights_id == int(digest[:8], 16) == weights.weights_id(digest)
    assert not model.training
    loaded, original = model.state_dict(), tiny_model.state_dict()
    assert loaded.keys() == original.keys()
    for key, value in original.items():
        assert torch.equal(loaded[key], value), key


def test_loaded_weights_decode_bit_exactly(
    weights_env: Path, tiny_model: MeanScaleHyperprior, tiny_image: Image.Image
) -> None:
    """CDF tables come from the file: a loaded codec decodes what the in-memory one encoded."""
    path, digest = export_weights(tiny_model, registry.get(TINY), weights_env)
    spec = spec_for(path, digest)
    memory = Codec.from_model(spec, tiny_model, weights.weights_id(digest))
    model, weights_id = weights.load_model(spec)
    loaded = Codec.from_model(spec, model, weights_id)
    for quality in (1, 4.5, 8):
        data = memory.encode(tiny_image, quality)
        assert loaded.encode(tiny_image, quality) == data
        assert np.array_equal(np.asarray(loaded.decode(data)), np.asarray(memory.decode(data)))


def test_codec_loads_through_the_registry(installed_tiny: registry.CodecSpec, tiny_image: Image.Image) -> None:
    codec = Codec(TINY)
    assert codec.spec == installed_tiny
    assert codec.weights_id == int(installed_tiny.sha256[:8], 16)  # type: ignore[index]
    data = neuralcodec.encode(tiny_image, 3, codec=TINY)  # the module-level API, cached codec
    assert data == codec.encode(tiny_image, 3)
    assert np.array_equal(np.asarray(neuralcodec.decode(data)), np.asarray(codec.decode(data)))
    assert torch.equal(neuralcodec.decode_latents(data), codec.decode_latents(data))
    installed = {row.name: row.installed for row in neuralcodec.catalog.available_codecs()}
    assert installed[TINY] is True


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("format", "neuralcodec-weights-0"),
        ("format", None),
        ("codec", "hyperprior"),
        ("codec", None),
        ("codec_id", "1"),
        ("config", json.dumps({"M": 13, "N": 8, "num_qualities": 8}, sort_keys=True)),
        ("config", None),
    ],
)
def test_metadata_mismatch(
    weights_env: Path, tiny_model: MeanScaleHyperprior, key: str, value: str | None
) -> None:
    path, digest = export_weights(tiny_model, registry.get(TINY), weights_env, metadata={key: value})
    with pytest.raises(WeightsError, match=key) as caught:
        weights.load_model(spec_for(path, digest))  # the checksum matches: the metadata must not
    assert not isinstance(caught.value, WeightsChecksumError)


def test_exported_metadata_is_what_the_loader_expects(weights_env: Path, tiny_model: MeanScaleHyperprior) -> None:
    from safetensors import safe_open

    path, _ = export_weights(tiny_model, registry.get(TINY), weights_env)
    with safe_open(str(path), framework="pt") as f:
        metadata = f.metadata()
    assert metadata["format"] == weights.WEIGHTS_FORMAT == "neuralcodec-weights-1"
    assert metadata["codec"] == TINY and metadata["codec_id"] == "0"
    assert json.loads(metadata["config"]) == {"N": 8, "M": 12, "num_qualities": 8}


@pytest.mark.parametrize("change", ["missing", "extra", "shape"])
def test_loading_is_strict(weights_env: Path, tiny_model: MeanScaleHyperprior, change: str) -> None:
    tensors = {k: v.contiguous() for k, v in tiny_model.state_dict().items()}
    if change == "missing":
        del tensors["g_a.0.weight"]
    elif change == "extra":
        tensors["unexpected"] = torch.zeros(1)
    else:
        tensors["log_gain"] = torch.zeros(8, 13)
    path, digest = export_weights(tiny_model, registry.get(TINY), weights_env, tensors=tensors)
    with pytest.raises((RuntimeError, WeightsError)):
        weights.load_model(spec_for(path, digest))
