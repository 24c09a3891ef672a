"""Rate-distortion plots drawn from results JSON only (nothing is recomputed here).

Measured curves are solid with markers; CompressAI's published anchors are dashed.
"""

from __future__ import annotations

import itertools

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (backend first)

from eval.rd.results import metric  # noqa: E402

__all__ = ["PLOTS", "plot_rd", "plot_all"]

#: File stem -> (results key, axis label, higher is better).
PLOTS = {
    "rd-psnr": ("psnr-rgb", "PSNR-RGB (dB)", True),
    "rd-ms-ssim": ("ms-ssim-rgb-db", "MS-SSIM (dB)", True),
    "rd-lpips": ("lpips", "LPIPS AlexNet (lower is better)", False),
}
_MAX_BPP = 2.0
#: Colour and marker of each of our own curves, in order (thick and dark, never an anchor's style).
_OURS_STYLES = (("black", "o"), ("#8b1a1a", "s"), ("#1a4f8b", "^"))


def _visible_range(curves: list[tuple[list[float], list[float]]], x_max: float) -> tuple[float, float] | None:
    values = [v for bpp, vals in curves for b, v in zip(bpp, vals) if b <= x_max]
    if not values:
        return None
    low, high = min(values), max(values)
    pad = 0.04 * (high - low or 1.0)
    return low - pad, high + pad


def plot_rd(
    results: dict[str, dict[str, Any]],
    anchors: dict[str, dict[str, Any]],
    key: str,
    ylabel: str,
    title: str,
    out_base: Path,
    max_bpp: float = _MAX_BPP,
) -> list[Path]:
    """Draw one metric against bpp; write ``out_base`` + ``.png`` and ``.svg``.

    Args:
        results: Measured curves, by codec name.
        anchors: Published curves, by legend text (drawn dashed).
        key: The results key to draw.
        ylabel: Y axis label.
        title: Figure title.
        out_base: Output path without suffix.
        max_bpp: Right end of the rate axis (less when the data ends before it).

    Returns:
        The files written (none when no curve has ``key``).
    """
    measured = {doc.get("name", name): metric(doc, key) for name, doc in results.items()}
    published = {label: metric(doc, key) for label, doc in anchors.items()}
    measured = {k: v for k, v in measured.items() if v[0]}
    published = {k: v for k, v in published.items() if v[0]}
    if not measured and not published:
        return []
    all_bpp = [b for bpp, _ in measured.values() for b in bpp] or [b for bpp, _ in published.values() for b in bpp]
    x_max = min(max_bpp, max(all_bpp) * 1.05)
    fig, ax = plt.subplots(figsize=(7.5, 5.2), dpi=120)
    colours = [c for i, c in enumerate(plt.get_cmap("tab10").colors) if i != 7]  # grey is for anchors
    ours_styles = itertools.cycle(_OURS_STYLES)  # ours: thick, dark, one marker each
    for i, (label, (bpp, values)) in enumerate(measured.items()):
        if label.lower().startswith("neuralcodec"):
            colour, marker = next(ours_styles)
            ax.plot(bpp, values, marker=marker, markersize=4.5, linewidth=2.6, color=colour, label=label, zorder=3)
        else:
            ax.plot(bpp, values, marker="o", markersize=3.5, linewidth=1.5, color=colours[i % len(colours)],
                    label=label, zorder=2)
    # Anchors: muted colours and distinct dash patterns, so they never pass for a measured curve.
    styles = (("#555555", (0, (6, 3))), ("#a0522d", (0, (3, 2))), ("#6a8caf", (0, (8, 2, 2, 2))),
              ("#9b6fb0", (0, (2, 2))))
    for i, (label, (bpp, values)) in enumerate(published.items()):
        colour, dashes = styles[i % len(styles)]
        ax.plot(bpp, values, linestyle=dashes, linewidth=1.3, color=colour, label=label, zorder=1)
    ax.set_xlim(0, x_max)
    y_range = _visible_range(list(measured.values()) + list(published.values()), x_max)
    if y_range:
        ax.set_ylim(*y_range)
    ax.set_xlabel("bits per pixel (whole file)")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7.5, loc="best")
    fig.tight_layout()
    out_base.parent.mkdir(parents=True, exist_ok=True)
    written = [out_base.with_suffix(".png"), out_base.with_suffix(".svg")]
    fig.savefig(written[0], metadata={"Software": None})
    with matplotlib.rc_context({"svg.hashsalt": "neuralcodec"}):
        fig.savefig(written[1], metadata={"Date": None, "Creator": None})
    plt.close(fig)
    return written


def plot_all(
    results: dict[str, dict[str, Any]],
    anchors: dict[str, dict[str, Any]],
    dataset: str,
    folder: Path,
) -> dict[str, list[Path]]:
    """Every plot of :data:`PLOTS` into ``folder``; returns the files by plot stem."""
    return {
        stem: plot_rd(results, anchors, key, label, f"{dataset}: {label.split(' (')[0]} vs rate",
                      folder / stem)
        for stem, (key, label, _) in PLOTS.items()
    }
