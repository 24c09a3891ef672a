"""``python -m eval.studies.learning_curve``: the hyperprior's Kodak BD-rate against JPEG, per CPU hour of training.

Training continues across sessions; each evaluated checkpoint becomes one point: the training
hours behind it (cumulative, from random initialisation) and its BD-rate (PSNR-RGB) against
Pillow's JPEG 4:2:0 on the same Kodak images, both coded for real, and its PSNR gain over
JPEG at equal bpp at each quality (the must-target needs all of them > 0). The plot and a log-log fit
of the rate gap say how far the must-target (BD-rate below 0 % against JPEG) still is.

    python -m eval.studies.learning_curve add runs/.../last.ckpt --hours 3.1 --label "session 17" [--average]
    python -m eval.studies.learning_curve add weights/hyperprior-583ecc69.safetensors --hours 2.0 --label shipped
    python -m eval.studies.learning_curve report

Points go to ``eval/reports/training/curve.json``; ``report`` draws ``learning-curve.png``.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from eval.rd.bdrate import bd_rate, gain_at_equal_rate
from eval.rd.codecs import JPEG
from eval.studies.train_speed import NUM_IMAGES, OUT_DIR, QUALITIES, evaluate_model, kodak_images, load_weights
from train.codec.data import data_root, list_images

__all__ = ["jpeg_curve", "projection", "gap_projection", "main"]

CURVE = OUT_DIR / "curve.json"


def jpeg_curve(limit: int) -> dict[str, list[float]]:
    """Mean bpp and PSNR-RGB of Pillow's JPEG 4:2:0 over the first ``limit`` Kodak images."""
    codec = JPEG("4:2:0", with_lpips=False)
    paths = list_images(data_root() / "kodak")[:limit]
    bpp, psnr = [], []
    for quality in codec.qualities:
        records = [codec.run(path, quality) for path in paths]
        bpp.append(sum(r.bpp for r in records) / len(records))
        psnr.append(sum(r.psnr_rgb for r in records) / len(records))
    return {"bpp": bpp, "psnr": psnr}


def _load() -> dict[str, Any]:
    return json.loads(CURVE.read_text()) if CURVE.is_file() else {"points": []}


def add(path: Path, hours: float, label: str, average: bool) -> dict[str, Any]:
    """Evaluate ``path`` and add it to the curve; returns the point."""
    curve = _load()
    if "jpeg" not in curve:
        curve["jpeg"] = jpeg_curve(NUM_IMAGES)
    rd = evaluate_model(load_weights(path, average), kodak_images(NUM_IMAGES))
    jpeg = curve["jpeg"]
    point = {
        "label": label,
        "hours": hours,
        "source": str(path),
        "weight_average": average,
        "rd": rd,
        "bd_rate_vs_jpeg": bd_rate(jpeg["bpp"], jpeg["psnr"], rd["bpp"], rd["psnr"]),
        "psnr_gain_vs_jpeg": gain_at_equal_rate(jpeg["bpp"], jpeg["psnr"], rd["bpp"], rd["psnr"]),
    }
    curve["points"] = [p for p in curve["points"] if p["label"] != label] + [point]
    curve["points"].sort(key=lambda p: p["hours"])
    CURVE.parent.mkdir(parents=True, exist_ok=True)
    CURVE.write_text(json.dumps(curve, indent=2) + "\n")
    return point


def _power_law(points: Sequence[dict[str, Any]]) -> tuple[float, float] | None:
    """Slope and intercept of log(1 + BD/100) against log(hours); None with fewer than two points."""
    usable = [p for p in points if not math.isnan(p["bd_rate_vs_jpeg"])]
    if len(usable) < 2:
        return None
    log_hours = np.log([p["hours"] for p in usable])
    log_ratio = np.log([1 + p["bd_rate_vs_jpeg"] / 100 for p in usable])
    slope, intercept = np.polyfit(log_hours, log_ratio, 1)
    return float(slope), float(intercept)


def projection(points: Sequence[dict[str, Any]]) -> float | None:
    """Training hours at which a power law through the points reaches BD-rate 0 % vs JPEG.

    The rate ratio to JPEG, ``1 + BD/100``, is fitted as ``a * hours**b`` (a line in log-log)
    over the points; None when fewer than two points or no downward trend.
    """
    fit = _power_law(points)
    if fit is None or fit[0] >= 0:
        return None
    slope, intercept = fit
    return float(math.exp(-intercept / slope))


def gap_projection(points: Sequence[dict[str, Any]]) -> dict[str, float | None]:
    """Per quality, the training hours at which its PSNR gap to JPEG (at equal bpp) closes.

    Each quality's gain over JPEG is fitted as a line in log(hours); None where fewer than two
    points have it or the gap does not shrink.
    """
    out: dict[str, float | None] = {}
    for index, quality in enumerate(QUALITIES):
        usable = [(p["hours"], p["psnr_gain_vs_jpeg"][index]) for p in points
                  if p["psnr_gain_vs_jpeg"][index] is not None]
        hours_at_zero = None
        if len(usable) >= 2:
            slope, intercept = np.polyfit(np.log([h for h, _ in usable]), [g for _, g in usable], 1)
            if slope > 0:
                hours_at_zero = float(math.exp(-intercept / slope))
        out[f"{quality:g}"] = hours_at_zero
    return out


def report() -> Path:
    """Plot BD-rate vs JPEG against training hours, with the fitted projection."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import ScalarFormatter

    points = _load()["points"]
    hours = [p["hours"] for p in points]
    bd = [p["bd_rate_vs_jpeg"] for p in points]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(hours, bd, "o-", color="black", label="hyperprior checkpoints")
    for p in points:  # releases labelled above right of their point, checkpoints below left
        shipped = p["source"].endswith(".safetensors")
        ax.annotate(p["label"], (p["hours"], p["bd_rate_vs_jpeg"]), textcoords="offset points",
                    xytext=(4, 4) if shipped else (-4, -11), ha="left" if shipped else "right",
                    fontsize=7)
    target, fit = projection(points), _power_law(points)
    if target is not None and fit is not None:
        slope, intercept = fit
        grid = np.geomspace(min(hours), max(target, max(hours)), 50)
        ax.plot(grid, (np.exp(intercept) * grid**slope - 1) * 100, "--", color="grey",
                label=f"power-law fit: 0 % at {target:.0f} h")
    ax.axhline(0, color="tab:red", lw=1, label="JPEG 4:2:0 (Pillow)")
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(ScalarFormatter())
    ax.set_xlabel("training hours, cumulative (2-core CPU unless labelled)")
    ax.set_ylabel(f"BD-rate vs JPEG (%), Kodak first {NUM_IMAGES}")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = OUT_DIR / "learning-curve.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    adding = commands.add_parser("add", help="evaluate a checkpoint or weight file, add its point")
    adding.add_argument("weights", type=Path, help="Lightning .ckpt or .safetensors")
    adding.add_argument("--hours", type=float, required=True, help="cumulative training hours behind it")
    adding.add_argument("--label", required=True, help="name of the point (replaces one of that name)")
    adding.add_argument("--average", action="store_true", help="the checkpoint's weight average")
    adding.add_argument("--threads", type=int, default=2, help="torch threads (2)")
    commands.add_parser("report", help="plot the curve")
    args = parser.parse_args(argv)
    if args.command == "add":
        torch.set_num_threads(args.threads)
        point = add(args.weights, args.hours, args.label, args.average)
        gains = ", ".join("–" if g is None else f"{g:+.1f}" for g in point["psnr_gain_vs_jpeg"])
        print(f"{point['label']}: {point['hours']:.2f} h, BD-rate vs JPEG {point['bd_rate_vs_jpeg']:+.1f} %, "
              f"PSNR gain over JPEG at equal bpp (dB): {gains}")
    path = report()
    points = _load()["points"]
    target = projection(points)
    print(f"{path}; projected BD-rate 0 % vs JPEG at {'n/a' if target is None else f'{target:.0f} h'}")
    gaps = ", ".join(f"q {q}: {'n/a' if h is None else f'{h:.0f} h'}" for q, h in gap_projection(points).items())
    print(f"projected hours until above JPEG at equal bpp (log-linear fit per quality): {gaps}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
