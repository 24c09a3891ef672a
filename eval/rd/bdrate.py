"""Bjøntegaard delta rate (BD-rate) between two rate-distortion curves.

The rate (log bpp) is interpolated as a function of quality with monotone piecewise-cubic
Hermite splines (pchip, as in VCEG-AL22 / JVET-style tools and CompressAI's published tables)
and integrated over the quality range both curves cover. The result is the average rate
difference of ``test`` against ``anchor`` at equal quality, in percent: negative means ``test``
needs fewer bits.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.interpolate import PchipInterpolator

__all__ = ["bd_rate", "gain_at_equal_rate"]


def _log_rate_curve(bpp: Sequence[float], metric: Sequence[float]) -> PchipInterpolator | None:
    """log(bpp) as a function of the metric, or None with fewer than two usable points."""
    rate = np.asarray(bpp, dtype=np.float64)
    quality = np.asarray(metric, dtype=np.float64)
    keep = np.isfinite(rate) & np.isfinite(quality) & (rate > 0)
    rate, quality = rate[keep], quality[keep]
    if len(quality) < 2:
        return None
    order = np.argsort(quality, kind="stable")
    rate, quality = rate[order], quality[order]
    # pchip needs strictly increasing abscissae: drop repeated quality values.
    unique = np.concatenate(([True], np.diff(quality) > 0))
    rate, quality = rate[unique], quality[unique]
    if len(quality) < 2:
        return None
    return PchipInterpolator(quality, np.log(rate))


def bd_rate(
    anchor_bpp: Sequence[float],
    anchor_metric: Sequence[float],
    test_bpp: Sequence[float],
    test_metric: Sequence[float],
) -> float:
    """BD-rate of ``test`` against ``anchor``, in percent.

    Args:
        anchor_bpp: Rates of the anchor curve (bits per pixel).
        anchor_metric: Its quality at those rates, higher is better (PSNR in dB, MS-SSIM in dB;
            pass ``-lpips`` for LPIPS).
        test_bpp: Rates of the tested curve.
        test_metric: Its quality at those rates.

    Returns:
        The average rate difference in percent over the overlapping quality range, or NaN when
        the curves do not overlap or either has fewer than two points.

    Example:
        >>> round(bd_rate([0.25, 0.5, 1.0], [30, 33, 36], [0.2, 0.4, 0.8], [30, 33, 36]), 6)
        -20.0
    """
    anchor = _log_rate_curve(anchor_bpp, anchor_metric)
    test = _log_rate_curve(test_bpp, test_metric)
    if anchor is None or test is None:
        return math.nan
    low = max(anchor.x[0], test.x[0])
    high = min(anchor.x[-1], test.x[-1])
    if not high > low:
        return math.nan
    area_anchor = anchor.integrate(low, high)
    area_test = test.integrate(low, high)
    mean_log_ratio = (area_test - area_anchor) / (high - low)
    return float((math.exp(mean_log_ratio) - 1) * 100)


def gain_at_equal_rate(
    anchor_bpp: Sequence[float],
    anchor_metric: Sequence[float],
    test_bpp: Sequence[float],
    test_metric: Sequence[float],
) -> list[float | None]:
    """Each test point's metric minus the anchor's at the same rate (linear in log bpp).

    Returns:
        One value per test point; None where its rate is outside the anchor's range.

    Example:
        >>> gain_at_equal_rate([0.25, 1.0], [30, 36], [0.5, 2.0], [34, 40])
        [1.0, None]
    """
    order = np.argsort(np.asarray(anchor_bpp, dtype=np.float64))
    log_rate = np.log(np.asarray(anchor_bpp, dtype=np.float64)[order])
    metric = np.asarray(anchor_metric, dtype=np.float64)[order]
    return [
        float(value - np.interp(math.log(bpp), log_rate, metric))
        if log_rate[0] <= math.log(bpp) <= log_rate[-1] else None
        for bpp, value in zip(test_bpp, test_metric)
    ]
