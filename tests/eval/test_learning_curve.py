"""The learning curve's projections and the equal-rate gain they read."""

from __future__ import annotations

import math

import pytest

pytest.importorskip("scipy", reason="eval extras not installed")

from eval.rd.bdrate import gain_at_equal_rate  # noqa: E402
from eval.studies.learning_curve import gap_projection, projection  # noqa: E402
from eval.studies.train_speed import QUALITIES  # noqa: E402


def test_gain_at_equal_rate_interpolates_in_log_rate() -> None:
    gains = gain_at_equal_rate([0.25, 1.0], [30.0, 36.0], [0.5, 0.1, 1.0], [34.0, 20.0, 35.0])
    assert gains[0] == pytest.approx(1.0)  # 0.5 bpp is half-way in log rate: JPEG 33 dB
    assert gains[1] is None  # below the anchor's range
    assert gains[2] == pytest.approx(-1.0)


def _point(hours: float, bd: float, gain: float) -> dict:
    return {"hours": hours, "bd_rate_vs_jpeg": bd, "psnr_gain_vs_jpeg": [None] + [gain] * (len(QUALITIES) - 1)}


def test_power_law_projection_of_the_rate_gap() -> None:
    # rate ratio 2 at 1 h, 1.5 at 2 h: ratio = 2 * h**log2(0.75); reaches 1 at h = 2**(1/-log2(0.75))
    hours = projection([_point(1.0, 100.0, 0.0), _point(2.0, 50.0, 0.0)])
    assert hours == pytest.approx(2 ** (1 / -math.log2(0.75)))
    assert projection([_point(1.0, 50.0, 0.0), _point(2.0, 60.0, 0.0)]) is None  # no progress
    assert projection([_point(1.0, 50.0, 0.0)]) is None


def test_gap_projection_per_quality() -> None:
    # -2 dB at 1 h, -1 dB at e h: one dB per e-fold, so 0 dB at e**2 h
    found = gap_projection([_point(1.0, 0.0, -2.0), _point(math.e, 0.0, -1.0)])
    assert found["1"] is None  # JPEG never reaches q 1's rate here
    assert found["8"] == pytest.approx(math.e**2)
