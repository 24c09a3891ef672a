"""``python -m eval.studies.gan``: the GAN codec at extreme rates against BPG-class HEVC, our MSE codec and JPEG.

Run after ``python -m eval.rd --dataset kodak --codecs neuralcodec-gan`` (the other codecs' Kodak
results come from the same folder). Writes ``eval/reports/gan/``:

- ``table.json`` and ``report.md``: each GAN rate point (mean over Kodak) with bpp, PSNR, MS-SSIM
  and LPIPS, and each reference codec's LPIPS and PSNR at the same rate and at twice the rate,
  read off its mean Kodak curve (linear in log-bpp between measured points; "below range" where
  the codec's lowest setting already spends more bits).
- ``grid.png``: Kodak crops (two faces, two text regions), the whole image coded by each codec
  at the GAN's rate (bisection on the codec's knob) and HEVC also at twice that rate, labelled
  with the rate reached and the whole-image LPIPS.
- ``rd-lpips.png`` / ``rd-psnr.png``: the curves up to 0.6 bpp.

No distribution metric (FID/KID): they need Inception weights, which no offline package ships.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (backend first)
import numpy as np  # noqa: E402
import torch  # noqa: E402
from tqdm import tqdm  # noqa: E402

from eval.rd.codecs import Codec, load_rgb, make_codec, measure  # noqa: E402
from eval.rd.datasets import resolve  # noqa: E402
from eval.rd.plot import plot_rd  # noqa: E402
from eval.rd.report import REPORTS_DIR  # noqa: E402
from eval.rd.results import load_results, metric  # noqa: E402
from neuralcodec.metrics import bpp as bits_per_pixel  # noqa: E402

__all__ = ["interpolate", "matched_rate_table", "make_grid", "main"]

GAN = "neuralcodec-gan"
#: Reference codecs of the comparison: results name -> label.
REFERENCES = {
    "hevc-444": "HEVC 4:4:4 (BPG-class)",
    "neuralcodec-hyperprior": "ours, MSE hyperprior",
    "jpeg-420": "JPEG 4:2:0",
}
#: Kodak crops for the grid: file -> (left, top, right, bottom).
GRID_CROPS = {
    "kodim04.png": (128, 250, 384, 506),  # face
    "kodim15.png": (220, 90, 476, 346),  # face with paint
    "kodim10.png": (110, 40, 366, 296),  # sail numbers
    "kodim08.png": (512, 250, 768, 506),  # lettering on a facade
}


def interpolate(bpp: Sequence[float], values: Sequence[float], at: float) -> float | None:
    """``values`` at rate ``at``, linear in log-bpp between measured points; None outside them."""
    points = sorted(zip(bpp, values))
    if not points or not points[0][0] <= at <= points[-1][0]:
        return None
    for (b0, v0), (b1, v1) in zip(points, points[1:]):
        if b0 <= at <= b1:
            t = 0.0 if b1 == b0 else (math.log(at) - math.log(b0)) / (math.log(b1) - math.log(b0))
            return v0 + t * (v1 - v0)
    return points[0][1]  # a single point, exactly at it


def matched_rate_table(results: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per GAN rate point: its metrics and each reference's at 1x and 2x its rate."""
    gan = results[GAN]["results"]
    rows = []
    for i, bpp in enumerate(gan["bpp"]):
        row: dict[str, Any] = {
            "quality": gan["quality"][i],
            "bpp": bpp,
            "psnr-rgb": gan["psnr-rgb"][i],
            "ms-ssim-rgb-db": gan["ms-ssim-rgb-db"][i],
            "lpips": gan["lpips"][i],
            "references": {},
        }
        for name in REFERENCES:
            if name not in results:
                continue
            lpips_curve = metric(results[name], "lpips")
            psnr_curve = metric(results[name], "psnr-rgb")
            row["references"][name] = {
                f"{key}@{factor}x": interpolate(*curve, factor * bpp)
                for factor in (1, 2)
                for key, curve in (("lpips", lpips_curve), ("psnr-rgb", psnr_curve))
            }
            row["references"][name]["lowest_bpp"] = min(lpips_curve[0], default=None)
        rows.append(row)
    return rows


def _grid_cell(codec: Codec, rgb: np.ndarray, quality: float | None, target_bpp: float | None) -> dict[str, Any]:
    """Code the whole image, by quality or at most a target rate; return the decoded image and its numbers."""
    if quality is not None:
        coded = codec.encode_decode(rgb, quality)
    else:
        assert target_bpp is not None
        _, coded = codec.encode_at_bpp(rgb, target_bpp)
    height, width = rgb.shape[:2]
    quality_ = measure(rgb, coded.rgb_hat, with_lpips=True)
    return {
        "rgb": coded.rgb_hat,
        "bpp": bits_per_pixel(len(coded.data), height, width),
        "lpips": quality_.lpips,
        "psnr-rgb": quality_.psnr_rgb,
    }


def make_grid(paths: dict[str, Path], gan_quality: float, out: Path) -> list[dict[str, Any]]:
    """Draw the crops grid into ``out``; returns what each cell shows (codec, image, bpp, LPIPS)."""
    gan = make_codec(GAN)
    candidates: list[tuple[str, Codec | None, float | None]] = [  # label, codec, rate factor
        ("original", None, None),
        ("ours, GAN", gan, None),
        ("HEVC 4:4:4 (BPG-class)", make_codec("hevc-444"), 1.0),
        ("HEVC 4:4:4, 2x bits", make_codec("hevc-444"), 2.0),
        ("ours, MSE, 2x bits", make_codec("neuralcodec-hyperprior"), 2.0),
        ("JPEG 4:2:0", make_codec("jpeg-420"), 1.0),
    ]
    columns = []
    for label, codec, factor in candidates:
        reason = None if codec is None else codec.unavailable_reason()
        if reason is None:
            columns.append((label, codec, factor))
        else:
            print(f"grid: leaving out {label!r}: {reason}")
    fig, axes = plt.subplots(len(GRID_CROPS), len(columns), figsize=(2.3 * len(columns), 2.55 * len(GRID_CROPS)),
                             dpi=130, squeeze=False)
    cells = []
    progress = tqdm(total=len(GRID_CROPS) * (len(columns) - 1), desc="grid", unit="cell")
    for row, (name, box) in enumerate(GRID_CROPS.items()):
        rgb = load_rgb(paths[name])
        left, top, right, bottom = box
        gan_bpp = 0.0
        for col, (label, codec, factor) in enumerate(columns):
            ax = axes[row][col]
            if codec is None:
                crop, caption = rgb, f"{name}"
            else:
                cell = _grid_cell(codec, rgb, gan_quality if factor is None else None,
                                  None if factor is None else factor * gan_bpp)
                if factor is None:
                    gan_bpp = cell["bpp"]
                crop = cell["rgb"]
                caption = f"{cell['bpp']:.3f} bpp, LPIPS {cell['lpips']:.3f}"
                cells.append({"image": name, "column": label, "bpp": cell["bpp"], "lpips": cell["lpips"],
                              "psnr-rgb": cell["psnr-rgb"]})
                progress.update()
            ax.imshow(crop[top:bottom, left:right], interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_xlabel(caption, fontsize=7)
            if row == 0:
                ax.set_title(label, fontsize=8)
    progress.close()
    fig.suptitle(f"Kodak crops at the GAN codec's q={gan_quality:g} rate (LPIPS of the whole image)", fontsize=9)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, metadata={"Software": None})
    plt.close(fig)
    return cells


def _fmt(value: float | None, digits: int = 3) -> str:
    return "below range" if value is None else f"{value:.{digits}f}"


def write_report(
    folder: Path, rows: list[dict[str, Any]], cells: list[dict[str, Any]] | None, num_images: int
) -> Path:
    """``report.md`` from the table rows and grid cells."""
    lines = [
        f"# GAN codec at extreme rates (Kodak, {num_images} images)",
        "",
        "Generated by `python -m eval.studies.gan` from the Kodak results of "
        f"`python -m eval.rd --dataset kodak --codecs neuralcodec-gan`. Means over the {num_images} images; "
        "a reference's value at a rate is read off its mean curve (linear in log-bpp); "
        "\"below range\" means its lowest setting already spends more bits.",
        "",
        "| q | bpp | PSNR (dB) | MS-SSIM (dB) | LPIPS | " + " | ".join(
            f"{label} LPIPS at 1x / 2x" for label in REFERENCES.values()) + " |",
        "|---" * (5 + len(REFERENCES)) + "|",
    ]
    for row in rows:
        refs = [
            f"{_fmt(row['references'][n]['lpips@1x'])} / {_fmt(row['references'][n]['lpips@2x'])}"
            if n in row["references"] else "not run"
            for n in REFERENCES
        ]
        lines.append(f"| {row['quality']:g} | {row['bpp']:.4f} | {row['psnr-rgb']:.2f} | "
                     f"{row['ms-ssim-rgb-db']:.2f} | {row['lpips']:.3f} | " + " | ".join(refs) + " |")
    lowest = {n: row["references"][n]["lowest_bpp"] for row in rows[:1] for n in row["references"]}
    lines += ["", "Lowest mean rate each reference reaches on Kodak: " + ", ".join(
        f"{REFERENCES[n]} {b:.3f} bpp" for n, b in lowest.items() if b is not None) + ".", ""]
    lines += ["![LPIPS vs rate](rd-lpips.png)", "", "![PSNR vs rate](rd-psnr.png)", ""]
    if cells is not None:
        lines += ["## Crops", "", "![grid](grid.png)", "",
                  "| image | column | bpp | LPIPS | PSNR (dB) |", "|---|---|---|---|---|"]
        lines += [f"| {c['image']} | {c['column']} | {c['bpp']:.4f} | {c['lpips']:.3f} | {c['psnr-rgb']:.2f} |"
                  for c in cells]
    lines += ["", "No distribution metric (FID/KID): both need Inception weights, which no package "
              "available offline ships.", ""]
    path = folder / "report.md"
    path.write_text("\n".join(lines))
    return path


def main(argv: Sequence[str] | None = None) -> int:
    """Build the GAN report; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m eval.studies.gan", description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, default=REPORTS_DIR / "kodak",
                        help="folder with results/<codec>.json (default eval/reports/kodak)")
    parser.add_argument("--out", type=Path, default=REPORTS_DIR / "gan")
    parser.add_argument("--grid-quality", type=float, default=2.0, help="GAN quality of the grid (default 2)")
    parser.add_argument("--no-grid", action="store_true", help="table and plots only")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    results = load_results(args.results / "results")
    if GAN not in results:
        parser.exit(2, f"error: no {GAN} results in {args.results}; run "
                       "python -m eval.rd --dataset kodak --codecs neuralcodec-gan first\n")
    args.out.mkdir(parents=True, exist_ok=True)
    rows = matched_rate_table(results)
    shown = {n: results[n] for n in (GAN, *REFERENCES, "heif-444", "jpeg2000", "webp") if n in results}
    for stem, key, label in (("rd-lpips", "lpips", "LPIPS AlexNet (lower is better)"),
                             ("rd-psnr", "psnr-rgb", "PSNR-RGB (dB)")):
        plot_rd(shown, {}, key, label, f"Kodak at low rates: {label.split(' (')[0]}", args.out / stem, max_bpp=0.6)
    cells = None
    if not args.no_grid:
        paths = {p.name: p for p in resolve("kodak", None, "val", None, None).paths}
        cells = make_grid(paths, args.grid_quality, args.out / "grid.png")
    (args.out / "table.json").write_text(json.dumps({"rows": rows, "grid": cells}, indent=2) + "\n")
    print(f"report: {write_report(args.out, rows, cells, results[GAN]['num_images'])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
