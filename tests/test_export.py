"""ONNX export, encoder variants (``--encoder``) and their CLI errors, on the tiny random codec."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from neuralcodec_testing import TINY, TINY_WEIGHTS_ID, make_tiny_image, one_line_error, usage_error
from PIL import Image
from safetensors.torch import save_file

from neuralcodec import Codec, edge, pixels, registry
from neuralcodec.cli import main
from neuralcodec.errors import ExportError, WeightsChecksumError, WeightsMismatchError
from neuralcodec.export import codec_onnx, export_onnx
from neuralcodec.models.encoders import build_encoder, fold_gdn

ort = pytest.importorskip("onnxruntime", reason="edge extras (onnx, onnxruntime) not installed")
pytest.importorskip("onnx", reason="edge extras (onnx, onnxruntime) not installed")

TINY_ENCODER = "test-pruned"


@pytest.fixture(autouse=True)
def _restore_formatwarning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(warnings, "formatwarning", warnings.formatwarning)  # main() replaces it


@pytest.fixture
def tiny_x() -> torch.Tensor:
    """The tiny image padded to a multiple of 64, (1, 3, 64, 128)."""
    return pixels.pad_to_multiple(pixels.to_tensor(np.asarray(make_tiny_image())), 64)


def _session(path: Path) -> ort.InferenceSession:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def test_fold_gdn_is_exact(tiny_codec: Codec, tiny_x: torch.Tensor) -> None:
    with torch.no_grad():
        assert torch.equal(fold_gdn(tiny_codec.model.g_a)(tiny_x), tiny_codec.model.g_a(tiny_x))


def test_encoder_onnx_matches_torch_at_any_size(tiny_codec: Codec, tmp_path: Path) -> None:
    path = export_onnx(tiny_codec, "encoder", tmp_path / "encoder.onnx")
    session = _session(path)
    assert session.get_modelmeta().custom_metadata_map["codec"] == TINY
    for height, width in ((64, 128), (48, 80)):  # dynamic height and width
        x = torch.rand(1, 3, height, width)
        (y,) = session.run(None, {"x": x.numpy()})
        with torch.no_grad():
            expected = tiny_codec.model.g_a(x)
        assert y.shape == (1, 12, height // 16, width // 16)
        np.testing.assert_allclose(y, expected.numpy(), rtol=1e-4, atol=1e-4)


def test_decoder_onnx_matches_torch(tiny_codec: Codec, tiny_x: torch.Tensor, tmp_path: Path) -> None:
    data = tiny_codec.encode(make_tiny_image(), quality=5)
    latents = tiny_codec.latents(data)
    path = export_onnx(tiny_codec, "decoder", tmp_path / "decoder.onnx")
    inputs = {"y_hat": latents.y_hat.numpy(), "inverse_gain": latents.inverse_gain.numpy()}
    (x_hat,) = _session(path).run(None, inputs)
    with torch.no_grad():
        expected = tiny_codec.model.g_s(latents.y_hat * latents.inverse_gain)
    assert x_hat.shape == tuple(expected.shape)
    np.testing.assert_allclose(x_hat, expected.numpy(), rtol=1e-4, atol=1e-4)


def test_onnx_encoder_files_decode_with_the_normal_decoder(tiny_codec: Codec, tiny_image: Image.Image) -> None:
    onnx_codec = Codec.from_model(tiny_codec.spec, tiny_codec.model, TINY_WEIGHTS_ID, encoder="onnx")
    assert isinstance(onnx_codec._encoder_model.g_a, edge.OnnxEncoder)
    assert not isinstance(tiny_codec.model.g_a, edge.OnnxEncoder)  # the codec's model is untouched
    for quality in (1.0, 8.0):
        data = onnx_codec.encode(tiny_image, quality)
        reference = tiny_codec.encode(tiny_image, quality)
        decoded = tiny_codec.decode(data)  # the normal decoder
        assert decoded.size == tiny_image.size
        # Float summation order differs between onnxruntime and torch, so a few symbols may
        # round the other way; the tiny model's latents agree almost everywhere.
        ours, theirs = tiny_codec.latents(data).y_hat, tiny_codec.latents(reference).y_hat
        assert (ours != theirs).float().mean() < 0.01


def test_unknown_part_is_an_export_error(tiny_codec: Codec, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="unknown part"):
        codec_onnx(tiny_codec, "hyper-decoder")


@pytest.fixture
def tiny_encoder(
    installed_tiny: registry.CodecSpec, monkeypatch: pytest.MonkeyPatch
) -> Iterator[registry.EncoderSpec]:
    """A ``pruned-tiny`` encoder for ``test-tiny`` (the tiny g_a, pruned to 4 channels), registered."""
    config = registry.ENCODER_ARCHITECTURES["pruned-tiny"]
    torch.manual_seed(1)
    network = build_encoder(config)
    spec = registry.EncoderSpec(TINY_ENCODER, TINY, "torch", "pruned-tiny", None, None, "test")
    metadata = edge.encoder_metadata(spec, installed_tiny)
    path = Path(os.environ["NEURALCODEC_WEIGHTS"]) / f"{TINY}-encoder-{TINY_ENCODER}.safetensors"
    save_file({k: v.contiguous() for k, v in network.state_dict().items()}, str(path), metadata=metadata)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    spec = dataclasses.replace(spec, weights_file=path.name, sha256=digest)
    monkeypatch.setattr(registry, "ENCODERS", (*registry.ENCODERS, spec))
    yield spec
    path.unlink()


def test_encoder_selection(tiny_encoder: registry.EncoderSpec, tiny_image: Image.Image) -> None:
    default = Codec(TINY)
    variant = Codec(TINY, encoder=TINY_ENCODER)
    assert variant.encoder == TINY_ENCODER
    data = variant.encode(tiny_image, 8.0)
    assert data != default.encode(tiny_image, 8.0)  # another g_a, other latents
    assert default.decode(data).size == tiny_image.size  # same weights id, same decoder


def test_encoder_checksum_and_codec_are_checked(
    tiny_encoder: registry.EncoderSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = dataclasses.replace(tiny_encoder, name="bad-sum", sha256="0" * 64)
    other = dataclasses.replace(tiny_encoder, name="other-codec", codec="hyperprior")
    monkeypatch.setattr(registry, "ENCODERS", (*registry.ENCODERS, wrong, other))
    with pytest.raises(WeightsChecksumError):
        Codec(TINY, encoder="bad-sum")
    with pytest.raises(WeightsMismatchError, match="is for codec"):
        Codec(TINY, encoder="other-codec")


def test_cli_compress_with_encoder(
    tiny_encoder: registry.EncoderSpec, tiny_image: Image.Image, tmp_path: Path
) -> None:
    source = tmp_path / "tiny.png"
    tiny_image.save(source)
    out = tmp_path / "tiny.ncc"
    assert main(["compress", str(source), "--codec", TINY, "--encoder", TINY_ENCODER, "-q", "8",
                 "-o", str(out)]) == 0
    assert out.read_bytes() == Codec(TINY, encoder=TINY_ENCODER).encode(tiny_image, 8.0)
    assert main(["decompress", str(out), "-o", str(tmp_path / "back.png")]) == 0


def test_cli_models_lists_encoders(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models"]) == 0
    assert "encoder onnx" in capsys.readouterr().out


def test_cli_unknown_encoder(
    installed_tiny: registry.CodecSpec, tiny_image: Image.Image, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source = tmp_path / "tiny.png"
    tiny_image.save(source)
    usage_error(capsys, "invalid choice: 'nope'", "compress", source, "--codec", TINY, "--encoder", "nope",
                "-o", tmp_path / "x.ncc")
    assert not (tmp_path / "x.ncc").exists()


def test_cli_unsupported_format(installed_tiny: registry.CodecSpec, tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["export", "--codec", TINY, "--part", "encoder", "--format", "tflite",
                 "-o", str(tmp_path / "e.tflite")])
    one_line_error(code, capsys, "unsupported format 'tflite'", status=2)
    code = main(["export", "--codec", TINY, "--part", "entropy", "-o", str(tmp_path / "e.onnx")])
    one_line_error(code, capsys, "unknown part 'entropy'", status=2)
    assert not list(tmp_path.iterdir())


def test_cli_export(installed_tiny: registry.CodecSpec, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "decoder.onnx"
    assert main(["export", "--codec", TINY, "--part", "decoder", "-o", str(out)]) == 0
    assert [i.name for i in _session(out).get_inputs()] == ["y_hat", "inverse_gain"]
    code = main(["export", "--codec", TINY, "--part", "decoder", "-o", str(out)])
    one_line_error(code, capsys, "exists", status=1)
