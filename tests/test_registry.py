"""The codec table: stable ids, consistent specs, the quality scale."""

from __future__ import annotations

import math
import re

import pytest

import neuralcodec
from neuralcodec import registry
from neuralcodec.errors import QualityError
from neuralcodec.models import GenerativeHyperprior, MeanScaleHyperprior

#: Every id ever given out. Files store these: an id is never renumbered, reused or removed.
GOLDEN_IDS = [("test-tiny", 0), ("hyperprior", 1), ("gan", 2), ("test-tiny-gan", 3)]


def test_codec_ids_are_stable() -> None:
    registered = [(spec.name, spec.codec_id) for spec in registry.CODECS]
    assert registered[: len(GOLDEN_IDS)] == GOLDEN_IDS, "codec ids are written into files: never change them"


def test_codec_ids_and_names_are_unique() -> None:
    ids = [spec.codec_id for spec in registry.CODECS]
    names = [spec.name for spec in registry.CODECS]
    assert len(set(ids)) == len(ids)
    assert len(set(names)) == len(names)
    assert all(0 <= i <= 255 for i in ids)  # one byte in the container
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", n) for n in names)  # kebab-case


def test_lookup_by_name_and_id() -> None:
    for spec in registry.CODECS:
        assert registry.get(spec.name) is spec
        assert registry.get_by_id(spec.codec_id) is spec
    with pytest.raises(KeyError, match="hyperprior"):  # the message lists the known names
        registry.get("no-such-codec")
    with pytest.raises(KeyError):
        registry.get_by_id(254)


def test_specs_are_consistent() -> None:
    assert registry.get(registry.DEFAULT_CODEC)
    for spec in registry.CODECS:
        assert spec.architecture in registry.ARCHITECTURES
        assert spec.config.num_qualities == len(spec.lambdas)
        assert list(spec.lambdas) == sorted(spec.lambdas)
        assert spec.description and "\n" not in spec.description
        assert (spec.weights_file is None) == (spec.sha256 is None)
        if spec.weights_file is not None:
            assert re.fullmatch(r"[0-9a-f]{64}", spec.sha256 or "")
            assert spec.weights_file == f"{spec.name}-{spec.sha256[:8]}.safetensors"  # type: ignore[index]


def test_public_list_codecs() -> None:
    assert neuralcodec.list_codecs() == [spec.name for spec in registry.CODECS]


HYPERPRIOR = registry.get("hyperprior")
GAN = registry.get("gan")


@pytest.mark.parametrize("quality", [1, 1.0, 3.5, 8, "4", 2 + 1 / 256])
def test_check_quality_accepts(quality: object) -> None:
    q = HYPERPRIOR.check_quality(quality)  # type: ignore[arg-type]
    assert isinstance(q, float) and q == float(quality)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "quality", [0, 0.999, 8.001, 9, -1, math.nan, math.inf, -math.inf, "abc", "", None, [3], "nan"]
)
def test_check_quality_rejects(quality: object) -> None:
    with pytest.raises(QualityError):
        HYPERPRIOR.check_quality(quality)  # type: ignore[arg-type]


def test_each_codec_has_its_own_quality_range() -> None:
    assert HYPERPRIOR.quality_range == (1.0, 8.0) and len(HYPERPRIOR.lambdas) == 8
    assert GAN.quality_range == (1.0, 3.0)
    assert GAN.check_quality(3) == 3.0
    with pytest.raises(QualityError, match=r"gan quality must be in \[1, 3\]"):
        GAN.check_quality(3.5)
    # The GAN codec starts below the hyperprior's lowest rate.
    assert max(GAN.lambdas) < min(HYPERPRIOR.lambdas)


def test_lambda_for_quality() -> None:
    for level, lmbda in enumerate(registry.MSE_LAMBDAS, start=1):
        assert HYPERPRIOR.lambda_for_quality(level) == pytest.approx(lmbda, rel=1e-12)
    # Log-linear in between: the geometric mean at a half step.
    mid = HYPERPRIOR.lambda_for_quality(3.5)
    assert mid == pytest.approx(math.sqrt(registry.MSE_LAMBDAS[2] * registry.MSE_LAMBDAS[3]), rel=1e-12)
    grid = [1 + i / 16 for i in range(7 * 16 + 1)]
    values = [HYPERPRIOR.lambda_for_quality(q) for q in grid]
    assert all(a < b for a, b in zip(values, values[1:]))
    with pytest.raises(QualityError):
        HYPERPRIOR.lambda_for_quality(8.5)


def test_build_gives_the_registered_architecture() -> None:
    model = registry.get("test-tiny").build()
    config = registry.ARCHITECTURES["mean-scale-tiny"].config
    assert isinstance(model, MeanScaleHyperprior)
    assert model.config == config
    assert model.log_gain.shape == (config.num_qualities, config.M)


def test_build_uses_the_architecture_model_class() -> None:
    model = registry.get("test-tiny-gan").build()
    assert isinstance(model, GenerativeHyperprior)
    assert model.log_gain.shape == (3, registry.ARCHITECTURES["generative-tiny"].config.M)
