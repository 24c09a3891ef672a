"""Earlier weight releases: their files keep decoding, and they can be chosen for encoding."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

import neuralcodec
from neuralcodec import api, catalog, registry
from neuralcodec.errors import NotRegisteredError, WeightsMismatchError
from neuralcodec.registry import CodecSpec
from neuralcodec_testing import TINY, export_weights, make_tiny_model, with_weights


@pytest.fixture
def two_releases(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[tuple[CodecSpec, str, str]]:
    """``test-tiny`` with current weights (seed 1) and one earlier release (seed 0)."""
    old_path, old_sha = export_weights(make_tiny_model(seed=0), registry.get(TINY), tmp_path)
    new_path, new_sha = export_weights(make_tiny_model(seed=1), registry.get(TINY), tmp_path)
    spec = with_weights(registry.get(TINY), (new_path, new_sha), (old_path, old_sha))
    monkeypatch.setattr(registry, "CODECS", tuple(spec if s.name == TINY else s for s in registry.CODECS))
    monkeypatch.setenv("NEURALCODEC_WEIGHTS", str(tmp_path))
    api.load_codec.cache_clear()
    yield spec, old_sha, new_sha
    api.load_codec.cache_clear()


def test_releases_and_lookup_by_id(two_releases: tuple[CodecSpec, str, str]) -> None:
    spec, old_sha, new_sha = two_releases
    assert [r.sha256 for r in spec.releases()] == [new_sha, old_sha]
    assert spec.release(new_sha[:8]) is spec
    assert spec.release(old_sha[:8].upper()).weights_file == spec.weights[1].weights_file == spec.release("v1").weights_file
    with pytest.raises(NotRegisteredError, match="shipped"):
        spec.release("00000000")


def test_files_of_each_release_decode_with_their_weights(
    two_releases: tuple[CodecSpec, str, str], tiny_image: Image.Image
) -> None:
    _, old_sha, new_sha = two_releases
    old = neuralcodec.Codec(TINY, weights=old_sha[:8])
    new = neuralcodec.Codec(TINY)
    old_file, new_file = old.encode(tiny_image, 4.0), new.encode(tiny_image, 4.0)
    assert api.read_info(old_file).weights_id == old_sha[:8]
    assert api.read_info(new_file).weights_id == new_sha[:8]
    assert old_file != new_file
    # The module-level decode picks the release from the header.
    assert neuralcodec.decode(old_file).tobytes() == old.decode(old_file).tobytes()
    assert neuralcodec.decode(new_file).tobytes() == new.decode(new_file).tobytes()
    assert api.weights_release(TINY, new_sha[:8]) is None
    assert api.weights_release(TINY, old_sha[:8]) == old_sha[:8]
    with pytest.raises(WeightsMismatchError):
        new.decode(old_file)  # a loaded codec decodes only its own weights' files


def test_unknown_weights_in_a_file_is_a_mismatch(two_releases: tuple[CodecSpec, str, str]) -> None:
    with pytest.raises(WeightsMismatchError, match="12345678"):
        api.weights_release(TINY, "12345678")


def test_models_lists_the_earlier_weights(two_releases: tuple[CodecSpec, str, str]) -> None:
    spec, _, _ = two_releases
    row = next(r for r in catalog.available_codecs() if r.name == TINY)
    assert [Path(p).name for p in row.previous_weights] == [spec.weights[1].weights_file]


@pytest.mark.weights
def test_shipped_heads_and_encoders_name_a_shipped_release() -> None:
    """Every head and encoder variant is tied to weights its codec still ships."""
    for encoder in registry.ENCODERS:
        if encoder.codec is not None:
            registry.get(encoder.codec).release_version(encoder.codec_version or 0)
    for head in registry.HEADS:
        registry.get(head.codec).release_version(head.codec_version)
