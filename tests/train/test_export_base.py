"""``train.codec.export --base``: a release that stores only what differs from an earlier one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from neuralcodec_testing import TINY, make_tiny_model, with_weights
from safetensors.torch import load_file, save_file

from neuralcodec import registry, weights
from neuralcodec.errors import WeightsChecksumError, WeightsError, WeightsNotFoundError
from neuralcodec.models import CodecModel
from train.codec.checkpoints import MODEL_PREFIX
from train.codec.export import export


def _checkpoint(model: CodecModel, path: Path) -> Path:
    torch.save({"state_dict": {MODEL_PREFIX + k: v for k, v in model.state_dict().items()},
                "global_step": 2}, path)
    return path


@pytest.fixture
def releases(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, CodecModel]:
    """A full release, and a second one made with it as base whose g_s alone was changed."""
    folder = tmp_path / "weights"
    monkeypatch.setenv("NEURALCODEC_WEIGHTS", str(folder))
    first = make_tiny_model()
    base = export(_checkpoint(first, tmp_path / "a.ckpt"), TINY, folder, "test")
    second = make_tiny_model()
    second.load_state_dict(first.state_dict())
    with torch.no_grad():
        for parameter in second.g_s.parameters():
            parameter.add_(0.01)
    delta = export(_checkpoint(second, tmp_path / "b.ckpt"), TINY, folder, "test", base=base)
    return base, delta, second


def _load(path: Path) -> CodecModel:
    model, _ = weights.load_model(with_weights(registry.get(TINY), (path, weights.sha256_file(path))))
    return model


def test_a_release_with_a_base_stores_only_what_differs(
    tmp_path: Path, releases: tuple[Path, Path, CodecModel]
) -> None:
    """It loads to the very tensors of the same model exported whole."""
    base, delta, second = releases
    stored = load_file(str(delta))
    assert stored and all(key.startswith("g_s.") for key in stored)
    assert delta.stat().st_size < base.stat().st_size / 2
    metadata, _ = weights.read_tensors(delta)
    assert metadata["base"] == base.name and metadata["base_sha256"] == weights.sha256_file(base)
    assert json.loads(delta.with_suffix(".json").read_text())["base"] == base.name
    whole = load_file(str(export(_checkpoint(second, tmp_path / "c.ckpt"), TINY, tmp_path / "whole", "test")))
    loaded = _load(delta).state_dict()
    assert loaded.keys() == whole.keys()
    for key, value in whole.items():
        assert torch.equal(loaded[key], value), key


def test_a_missing_or_altered_base_is_refused(releases: tuple[Path, Path, CodecModel]) -> None:
    base, delta, _ = releases
    raw = bytearray(base.read_bytes())
    raw[-1] ^= 1
    base.write_bytes(bytes(raw))
    with pytest.raises(WeightsChecksumError, match="base"):
        _load(delta)
    base.unlink()
    with pytest.raises(WeightsNotFoundError, match=base.name):
        _load(delta)


@pytest.mark.parametrize("entry", [
    {"base": "../elsewhere.safetensors"},
    {"base_tensors": "not json"},
    {"base_tensors": json.dumps(["no.such.tensor"])},
    {"base_sha256": None},
])
def test_a_malformed_base_entry_is_a_weights_error(
    releases: tuple[Path, Path, CodecModel], entry: dict[str, str | None]
) -> None:
    _, delta, _ = releases
    metadata, _ = weights.read_tensors(delta)
    metadata = {k: v for k, v in {**metadata, **entry}.items() if v is not None}
    save_file(load_file(str(delta)), str(delta), metadata=metadata)
    with pytest.raises(WeightsError):
        _load(delta)


def test_the_base_must_be_beside_the_release(tmp_path: Path, releases: tuple[Path, Path, CodecModel]) -> None:
    base, _, second = releases
    with pytest.raises(ValueError, match="output folder"):
        export(_checkpoint(second, tmp_path / "c.ckpt"), TINY, tmp_path / "elsewhere", "test", base=base)
