"""Shared fixtures: a deterministic odd-sized image and a tiny random-init codec (no weights).

Also: one torch thread per test process,
and the ``weights`` marker, which skips tests when the shipped hyperprior weights are not
installed. Helpers live in ``neuralcodec_testing.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from PIL import Image

import neuralcodec
from neuralcodec import registry
from neuralcodec.models import MeanScaleHyperprior
from neuralcodec.registry import CodecSpec
from neuralcodec_testing import (
    TINY,
    TINY_WEIGHTS_ID,
    export_weights,
    make_tiny_image,
    make_tiny_model,
    with_weights,
)


@pytest.fixture(scope="session", autouse=True)
def _one_thread() -> Iterator[None]:
    """One intra-op thread: the tiny model gains nothing from more, and on a busy 2-core machine
    two threads spin against each other (50x slower). Thread-count tests set their own."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def tiny_image() -> Image.Image:
    """A deterministic 67x45 RGB image (odd sizes, gradients + noise). Copy before mutating."""
    return make_tiny_image()


@pytest.fixture(scope="session")
def tiny_model() -> MeanScaleHyperprior:
    """The model inside :func:`tiny_codec` (shared: do not modify)."""
    return make_tiny_model()


@pytest.fixture(scope="session")
def tiny_codec(tiny_model: MeanScaleHyperprior) -> neuralcodec.Codec:
    """A :class:`neuralcodec.Codec` around the random-init ``test-tiny`` model."""
    return neuralcodec.Codec.from_model(registry.get(TINY), tiny_model, TINY_WEIGHTS_ID)


@pytest.fixture(scope="session")
def tiny_weights(tmp_path_factory: pytest.TempPathFactory, tiny_model: MeanScaleHyperprior) -> tuple[Path, str]:
    """:func:`tiny_model` exported to a safetensors file: (path, sha256)."""
    return export_weights(tiny_model, registry.get(TINY), tmp_path_factory.mktemp("weights"))


@pytest.fixture
def installed_tiny(
    monkeypatch: pytest.MonkeyPatch, tiny_weights: tuple[Path, str]
) -> Iterator[CodecSpec]:
    """Register ``test-tiny`` with the exported weights, so ``Codec("test-tiny")`` loads them.

    Patches ``registry.CODECS`` (which ``get``, ``get_by_id`` and ``available_codecs`` read) and
    ``$NEURALCODEC_WEIGHTS``; returns the patched spec.
    """
    path, digest = tiny_weights
    spec = with_weights(registry.get(TINY), (path, digest))
    codecs = tuple(spec if s.name == TINY else s for s in registry.CODECS)
    monkeypatch.setattr(registry, "CODECS", codecs)
    monkeypatch.setenv("NEURALCODEC_WEIGHTS", str(path.parent))
    neuralcodec.api.load_codec.cache_clear()
    yield spec
    neuralcodec.api.load_codec.cache_clear()


def hyperprior_installed() -> bool:
    """Whether the shipped ``hyperprior`` weights are present."""
    return any(c.name == "hyperprior" and c.installed for c in neuralcodec.catalog.available_codecs())


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if hyperprior_installed():
        return
    skip = pytest.mark.skip(reason="needs the shipped hyperprior weights (not installed)")
    for item in items:
        if "weights" in item.keywords:
            item.add_marker(skip)
