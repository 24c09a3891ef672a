"""``python -m eval.studies.speed``: CPU encode/decode time of neuralcodec against CompressAI's hyperprior.

For each Kodak image, in one process and with one torch thread count, this times

- each neuralcodec codec of ``--codecs`` (default: the hyperprior and the channel-conditional
  codec) through its public API (:class:`neuralcodec.api.Codec`, shipped weights): image
  array -> ``.ncc`` bytes -> image, container and integer hyper-decoder included;
- ``compressai.models.MeanScaleHyperprior`` of the same N and M (random init, ``update()``):
  image array -> tensor -> pad -> ``compress`` -> ``decompress`` -> crop -> uint8,

back to back on the same image (which coder goes first rotates from image to image), after
one warm-up image. The medians over images go to ``eval/reports/speed/speed.json`` and
``speed.md``, with each coder's time relative to CompressAI's: the median over images of the
per-image ratio, which drifts less than a ratio of medians while other work loads the machine.
CompressAI's random weights code at a different rate than trained ones, so its bpp is not
meaningful; the time is dominated by the transforms and the rANS coder, which depend on the
image size, not the weights. neuralcodec is skipped with a message while its weights are not
installed. ``--limit N`` times only the first N Kodak images.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from eval.rd.codecs import load_rgb
from eval.rd.report import REPORTS_DIR
from neuralcodec import pixels

__all__ = ["Coder", "compressai_coder", "neuralcodec_coder", "time_coder", "ratios", "main"]

#: A coder: encodes an image array, returns (number of bytes, function that decodes it).
Coder = Callable[[np.ndarray], tuple[int, Callable[[], np.ndarray]]]


def compressai_coder(N: int, M: int, seed: int = 0) -> Coder:
    """A CompressAI ``MeanScaleHyperprior(N, M)``, random init and ``update()``d, as a coder."""
    from compressai.models import MeanScaleHyperprior

    torch.manual_seed(seed)
    net = MeanScaleHyperprior(N=N, M=M).eval()
    net.update(force=True)
    factor = 64  # g_a (x16) then h_a (x4)

    @torch.inference_mode()
    def encode(rgb: np.ndarray) -> tuple[int, Callable[[], np.ndarray]]:
        height, width = rgb.shape[:2]
        x = pixels.pad_to_multiple(pixels.to_tensor(rgb), factor)  # (1, 3, H', W')
        out = net.compress(x)
        num_bytes = sum(len(s) for strings in out["strings"] for s in strings)

        @torch.inference_mode()
        def decode() -> np.ndarray:
            x_hat = net.decompress(out["strings"], out["shape"])["x_hat"]
            return pixels.to_array(pixels.crop(x_hat, height, width))

        return num_bytes, decode

    return encode


def neuralcodec_coder(codec: str, quality: float) -> Coder:
    """neuralcodec's public API (shipped weights) at ``quality`` as a coder.

    Raises:
        neuralcodec.WeightsError: The weights are not installed.
    """
    from neuralcodec.api import Codec

    api = Codec(codec)

    def encode(rgb: np.ndarray) -> tuple[int, Callable[[], np.ndarray]]:
        data = api.encode(rgb, quality=quality)
        return len(data), lambda: np.asarray(api.decode(data).convert("RGB"))

    return encode


def time_coder(encode: Coder, rgb: np.ndarray) -> dict[str, float]:
    """Wall-clock encode and decode seconds and bpp of one image."""
    start = time.perf_counter()
    num_bytes, decode = encode(rgb)
    encoded = time.perf_counter()
    rgb_hat = decode()
    decoded = time.perf_counter()
    if rgb_hat.shape != rgb.shape:
        raise RuntimeError(f"decoded {rgb_hat.shape}, expected {rgb.shape}")
    return {"enc_s": encoded - start, "dec_s": decoded - encoded,
            "bpp": num_bytes * 8 / (rgb.shape[0] * rgb.shape[1])}


def _summary(rows: list[dict[str, float]]) -> dict[str, Any]:
    return {
        "median_enc_s": statistics.median(r["enc_s"] for r in rows),
        "median_dec_s": statistics.median(r["dec_s"] for r in rows),
        "median_bpp": statistics.median(r["bpp"] for r in rows),
        "enc_s": [round(r["enc_s"], 4) for r in rows],
        "dec_s": [round(r["dec_s"], 4) for r in rows],
        "bpp": [round(r["bpp"], 4) for r in rows],
    }


def ratios(rows: list[dict[str, float]], baseline: list[dict[str, float]]) -> dict[str, float]:
    """Median over images of the per-image time ratio ``rows / baseline``, encode and decode."""
    return {
        f"{key}_ratio": statistics.median(
            r[f"{key}_s"] / b[f"{key}_s"] for r, b in zip(rows, baseline)
        )
        for key in ("enc", "dec")
    }


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main(argv: Sequence[str] | None = None) -> int:
    """Time both coders on Kodak and write JSON + Markdown; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m eval.studies.speed", description=main.__doc__)
    parser.add_argument("--codecs", default="hyperprior,channel-conditional",
                        help="registered neuralcodec codecs, comma-separated (of CompressAI's size)")
    parser.add_argument("--quality", type=float, default=4.0, help="neuralcodec quality (default 4)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads for both (default 1)")
    parser.add_argument("--limit", type=int, help="only the first N Kodak images")
    parser.add_argument("--out", type=Path, default=REPORTS_DIR / "speed")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=FutureWarning)
    torch.set_num_threads(args.threads)

    from eval.rd.datasets import resolve
    from neuralcodec import registry
    from neuralcodec.errors import WeightsError

    names = [name for name in args.codecs.split(",") if name]
    config = registry.get(names[0]).config
    paths = resolve("kodak", limit=args.limit).paths
    coders: dict[str, Coder] = {}
    skipped: dict[str, str] = {}
    for codec in names:
        ours = f"neuralcodec {codec} q{args.quality:g}"
        try:
            coders[ours] = neuralcodec_coder(codec, args.quality)
        except WeightsError as error:
            skipped[ours] = f"weights not installed: {error}"
            print(f"skipping {ours}: {error}", file=sys.stderr)
    theirs = f"compressai MeanScaleHyperprior(N={config.N}, M={config.M}), random init"
    coders[theirs] = compressai_coder(config.N, config.M)

    rows: dict[str, list[dict[str, float]]] = {name: [] for name in coders}
    load_before = os.getloadavg()
    warm = load_rgb(paths[0])
    for encode in coders.values():
        time_coder(encode, warm)
    for i, path in enumerate(tqdm(paths, desc="timing", unit="img")):
        rgb = load_rgb(path)
        order = list(coders)[i % len(coders):] + list(coders)[: i % len(coders)]
        for name in order:
            rows[name].append(time_coder(coders[name], rgb))
    load_after = os.getloadavg()

    import compressai

    doc = {
        "command": " ".join(["python -m eval.studies.speed", *(sys.argv[1:] if argv is None else argv)]),
        "description": "wall-clock seconds per Kodak image, encode (array -> bytes) and decode "
                       "(bytes -> array), median over images, after one warm-up image",
        "machine": {"cpu": _cpu_name(), "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                    "loadavg_before": [round(v, 2) for v in load_before],
                    "loadavg_after": [round(v, 2) for v in load_after]},
        "versions": {"python": platform.python_version(), "torch": torch.__version__,
                     "compressai": compressai.__version__},
        "images": [p.name for p in paths],
        "results": {name: {**_summary(r), **ratios(r, rows[theirs])} for name, r in rows.items()},
        "skipped": skipped,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "speed.json").write_text(json.dumps(doc, indent=2) + "\n")
    lines = [
        "# Encode / decode speed on this CPU", "",
        f"{len(paths)} Kodak images, {doc['machine']['cpu']}, {doc['machine']['cores']} cores, "
        f"torch threads {doc['machine']['torch_threads']}, load average {load_before[0]:.2f} -> "
        f"{load_after[0]:.2f} (other work was running: compare the rows, not the absolute numbers). "
        "Median over images (ratios: median of the per-image ratios), after a warm-up image; "
        "the coders' order rotates from image to image.", "",
        f"Command: `{doc['command']}`", "",
        "| coder | encode (s) | decode (s) | encode / CompressAI | decode / CompressAI "
        "| bpp (median) |",
        "|---|---|---|---|---|---|",
    ]
    for name, summary in doc["results"].items():  # type: ignore[union-attr]
        lines.append(f"| {name} | {summary['median_enc_s']:.3f} | {summary['median_dec_s']:.3f} | "
                     f"{summary['enc_ratio']:.2f} | {summary['dec_ratio']:.2f} | "
                     f"{summary['median_bpp']:.3f} |")
    for name, reason in skipped.items():
        lines += ["", f"Not measured: {name}: {reason}"]
    (args.out / "speed.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines[4:]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
