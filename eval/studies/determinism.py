"""Cross-setting determinism check: encode under one setting, decode under another, compare.

``python -m eval.studies.determinism [--limit N] [--quality 3.5]``

Settings are thread counts (1, 2), the convolution backend (oneDNN on / off, which changes
float rounding in every transform) and, where present, a CUDA device. For each Kodak image
the file made under each encoder setting is decoded under every decoder setting; the report
counts identical files, identical decoded pixels, and, for contrast, how many scale indexes a
*float* hyper-decoder would have chosen differently between settings (each such index
desynchronises the rANS decoder: the failure the integer hyper-decoder removes).
"""

from __future__ import annotations

import argparse
import contextlib
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from neuralcodec import metrics, pixels
from neuralcodec.api import Codec
from neuralcodec.models import MeanScaleHyperprior
from train.codec.data import data_root, list_images

__all__ = ["main"]

REPORT_DIR = Path(__file__).resolve().parents[1] / "reports" / "determinism"


def _settings() -> dict[str, tuple[str, int, bool]]:
    """name -> (device, threads, oneDNN enabled)."""
    settings = {
        "cpu-1thread": ("cpu", 1, True),
        "cpu-2threads": ("cpu", 2, True),
        "cpu-2threads-no-onednn": ("cpu", 2, False),
    }
    if torch.cuda.is_available():
        settings["cuda"] = ("cuda", 2, True)
    return settings


@contextlib.contextmanager
def _setting(codec: Codec, device: str, threads: int, onednn: bool) -> Iterator[Codec]:
    old_threads, old_onednn = torch.get_num_threads(), torch.backends.mkldnn.enabled
    torch.set_num_threads(threads)
    torch.backends.mkldnn.enabled = onednn
    codec.to(device)
    try:
        yield codec
    finally:
        torch.set_num_threads(old_threads)
        torch.backends.mkldnn.enabled = old_onednn
        codec.to("cpu")


@torch.inference_mode()
def _float_indexes(model: MeanScaleHyperprior, x: torch.Tensor, quality: float) -> torch.Tensor:
    """Scale indexes as a float hyper-decoder (CompressAI's way) would pick them."""
    y = model.g_a(x) * model.gain(quality).to(x.device)
    z = model.h_a(y)
    z_hat = model.entropy_bottleneck.decompress(model.entropy_bottleneck.compress(z), z.shape[-2:])
    scales_hat, _ = model.h_s(z_hat).chunk(2, 1)
    return model.gaussian_conditional.build_indexes(scales_hat).cpu()


def run(limit: int | None, quality: float) -> dict:
    """Run the check on Kodak and return the summary."""
    codec = Codec()
    settings = _settings()
    paths = list_images(data_root() / "kodak")[:limit]
    names = list(settings)
    files_equal = encoder_independent = latents_equal = 0
    differing_pixels = total_pixels = max_difference = 0
    psnrs: list[float] = []
    float_index_flips = float_images_affected = 0
    for path in tqdm(paths, desc="determinism", unit="image"):
        image = pixels.open_image(path)
        original = pixels.to_tensor(pixels.split_image(image).rgb)  # (1, 3, H, W)
        padded = pixels.pad_to_multiple(original, codec.model.downsampling_factor)
        files, indexes = {}, {}
        for name, setting in settings.items():
            with _setting(codec, *setting) as c:
                files[name] = c.encode(image, quality)
                indexes[name] = _float_indexes(c.model, padded.to(c.device), quality)  # type: ignore[arg-type]
        files_equal += all(files[n] == files[names[0]] for n in names)
        flips = max(int((indexes[n] != indexes[names[0]]).sum()) for n in names)
        float_index_flips += flips
        float_images_affected += flips > 0
        # decoded[decoder][encoder]: every file under every decoder setting.
        decoded: dict[str, dict[str, np.ndarray]] = {}
        latents: dict[str, list[torch.Tensor]] = {}
        for decoder, setting in settings.items():
            with _setting(codec, *setting) as c:
                decoded[decoder] = {e: np.asarray(c.decode(data)) for e, data in files.items()}
                latents[decoder] = [c.decode_latents(data).cpu() for data in files.values()]
        for decoder in names:
            images = list(decoded[decoder].values())
            encoder_independent += all(np.array_equal(i, images[0]) for i in images)
            latents_equal += all(
                torch.equal(a, b) for a, b in zip(latents[decoder], latents[names[0]])
            )
            psnrs += [metrics.psnr(original, pixels.to_tensor(i)) for i in images]
            reference = decoded[names[0]][names[0]].astype(np.int16)
            difference = np.abs(decoded[decoder][names[0]].astype(np.int16) - reference)
            differing_pixels += int((difference > 0).sum())
            total_pixels += difference.size
            max_difference = max(max_difference, int(difference.max()))
    return {
        "images": len(paths),
        "quality": quality,
        "settings": {k: {"device": v[0], "threads": v[1], "onednn": v[2]} for k, v in settings.items()},
        "images_with_identical_files_across_encoders": files_equal,
        "decoder_checks": len(paths) * len(names),
        "decoder_checks_independent_of_encoder": encoder_independent,
        "decoder_checks_with_identical_latents": latents_equal,
        "pixel_values_differing_between_decoders": differing_pixels,
        "pixel_values_compared": total_pixels,
        "max_pixel_difference_between_decoders": max_difference,
        "min_psnr_db": min(psnrs),
        "mean_psnr_db": float(np.mean(psnrs)),
        "float_hyper_decoder_index_flips": float_index_flips,
        "float_hyper_decoder_images_affected": float_images_affected,
    }


def _markdown(summary: dict) -> str:
    s = summary
    rows = "\n".join(
        f"| {name} | {v['device']} | {v['threads']} | {v['onednn']} |" for name, v in s["settings"].items()
    )
    return f"""# Determinism across encoder / decoder settings

Command: `python -m eval.studies.determinism` (Kodak, {s['images']} images, q = {s['quality']}).

| setting | device | threads | oneDNN |
|---|---|---|---|
{rows}

- Entropy decoding is exact: the latents y_hat decoded under each decoder setting equal those
  under the first for **{s['decoder_checks_with_identical_latents']} of {s['decoder_checks']}**
  (image, decoder) pairs, and every decode is a correct one (PSNR min {s['min_psnr_db']:.2f} dB,
  mean {s['mean_psnr_db']:.2f} dB: no desynchronised, garbage decodes).
- Encoder independence: under each decoder setting, the files made under every encoder setting
  decode to identical pixels in **{s['decoder_checks_independent_of_encoder']} of {s['decoder_checks']}**
  (image, decoder) pairs; the files themselves were byte-identical across encoder settings for
  {s['images_with_identical_files_across_encoders']} of {s['images']} images.
- The float synthesis transform: {s['pixel_values_differing_between_decoders']} of
  {s['pixel_values_compared']} decoded sample values differ between decoder settings (max
  difference {s['max_pixel_difference_between_decoders']} in 255): oneDNN and the thread count
  change float rounding in g_s, which can move a value across a rounding boundary.
- For contrast, a float hyper-decoder (CompressAI's way) would have picked a different scale index
  for {s['float_hyper_decoder_index_flips']} latents in {s['float_hyper_decoder_images_affected']}
  images across these settings; each such flip desynchronises the rANS decoder.
"""


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description="encode/decode determinism across settings")
    parser.add_argument("--limit", type=int, help="first N Kodak images only")
    parser.add_argument("--quality", type=float, default=3.5)
    args = parser.parse_args(argv)
    summary = run(args.limit, args.quality)
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    (REPORT_DIR / "determinism.json").write_text(json.dumps(summary, indent=2) + "\n")
    (REPORT_DIR / "README.md").write_text(_markdown(summary))
    print(_markdown(summary))


if __name__ == "__main__":
    main()
