"""``python -m eval.studies.half_storage CKPT``: what storing a codec's networks in float16 costs.

Exports one training checkpoint twice with ``train.codec.export`` (the same weights: float32,
and with the given networks stored in float16 and loaded back as float32), codes the first
Kodak images with each at :data:`~eval.studies.train_speed.QUALITIES` through real bitstreams,
and reports the bpp and PSNR differences and the BD-rate of the float16 file against the
float32 one. g_s takes no part in entropy coding, so float16 g_s changes pixels only; the
others change the weights the coder uses (a file stays self-consistent). Written to
``eval/reports/training/half-storage-<codec>.md`` and ``.json``.

    python -m eval.studies.half_storage runs/hyperprior-cpu/.../last.ckpt --average --images 8
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import torch

from eval.rd.bdrate import bd_rate
from eval.rd.report import REPORTS_DIR
from eval.studies.train_speed import QUALITIES, evaluate_model, kodak_images, load_weights
from train.codec.export import export

__all__ = ["main"]

OUT = REPORTS_DIR / "training"


def main(argv: Sequence[str] | None = None) -> int:
    """Export float32 and float16 copies of a checkpoint, code Kodak with both, compare."""
    parser = argparse.ArgumentParser(prog="python -m eval.studies.half_storage", description=main.__doc__)
    parser.add_argument("checkpoint", type=Path, help="Lightning checkpoint")
    parser.add_argument("--codec", default="hyperprior")
    parser.add_argument("--half", default="g_a,g_s,h_a,h_s", help="networks stored in float16")
    parser.add_argument("--average", action="store_true", help="the checkpoint's weight average")
    parser.add_argument("--images", type=int, default=8, help="first N Kodak images (8)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    images = kodak_images(args.images)
    half = [part for part in args.half.split(",") if part]
    curves = {}
    with tempfile.TemporaryDirectory() as folder:
        for name, parts in (("float32", []), ("float16", half)):
            (Path(folder) / name).mkdir()
            path = export(args.checkpoint, args.codec, Path(folder) / name, "n/a", None, parts, args.average)
            curves[name] = {"file_bytes": path.stat().st_size,
                            **evaluate_model(load_weights(path, codec=args.codec), images)}
    full, small = curves["float32"], curves["float16"]
    doc = {
        "command": " ".join(["python -m eval.studies.half_storage", *(sys.argv[1:] if argv is None else argv)]),
        "codec": args.codec, "half": half, "images": len(images), "qualities": list(QUALITIES),
        "curves": curves,
        "bd_rate_percent": bd_rate(full["bpp"], full["psnr"], small["bpp"], small["psnr"]),
    }
    OUT.mkdir(parents=True, exist_ok=True)
    stem = OUT / f"half-storage-{args.codec}"
    stem.with_suffix(".json").write_text(json.dumps(doc, indent=2) + "\n")
    rows = [
        f"| {q:g} | {b32:.4f} | {b16:.4f} | {(b16 / b32 - 1) * 100:+.3f} % | {p32:.3f} | {p16:.3f} | {p16 - p32:+.4f} |"
        for q, b32, b16, p32, p16 in zip(QUALITIES, full["bpp"], small["bpp"], full["psnr"], small["psnr"])
    ]
    stem.with_suffix(".md").write_text("\n".join([
        f"# float16 storage of `{args.codec}` ({', '.join(half)})", "",
        f"The same checkpoint exported twice and coded on the first {len(images)} Kodak images "
        f"(real bitstreams). Files: {full['file_bytes'] / 1e6:.1f} MB (float32) and "
        f"{small['file_bytes'] / 1e6:.1f} MB (float16). BD-rate of float16 against float32: "
        f"**{doc['bd_rate_percent']:+.2f} %**.", "",
        f"Command: `{doc['command']}`", "",
        "| quality | bpp float32 | bpp float16 | Δ bpp | PSNR float32 | PSNR float16 | Δ PSNR (dB) |",
        "|---|---|---|---|---|---|---|",
        *rows, "",
    ]))
    print(f"wrote {stem}.md: BD-rate {doc['bd_rate_percent']:+.2f} %")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
