"""Robust location and scale of log cycle times.

Cycle times of a sewing operator are right-skewed and roughly lognormal; on the log scale the
noise is close to symmetric, so a Huber M-estimate of the log location is efficient on clean data
(about 95 % of the mean's efficiency) and bounded against the few long cycles that slip through the
interruption filter. Efficiency, however, is earned minutes ÷ attended minutes: a ratio of *means*,
not of medians. For a lognormal the mean is exp(location + σ²/2), so the level is corrected by the
estimated log-scale variance before it becomes a cycle time.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

MAD_TO_SD = 1.4826  # median absolute deviation → standard deviation for a normal
HUBER_K = 1.345  # 95 % efficiency at the normal
MIN_LOG_SD = 0.02  # below this the noise is quantisation, not information


def median(xs: Sequence[float]) -> float:
    s = sorted(xs)
    n = len(s)
    if n == 0:
        raise ValueError("median of an empty sequence")
    m = n // 2
    return s[m] if n % 2 else 0.5 * (s[m - 1] + s[m])


def mad_sd(xs: Sequence[float], center: float | None = None) -> float:
    """Normal-consistent standard deviation from the median absolute deviation."""
    c = median(xs) if center is None else center
    return MAD_TO_SD * median([abs(x - c) for x in xs])


def diff_sd(xs: Sequence[float]) -> float:
    """Noise σ from successive differences: |x[i+1] − x[i]| has median 0.6745·σ·√2.

    Unlike the MAD around one centre this is not inflated by a trend (a learning ramp), because
    neighbouring pieces share nearly the same expected level.
    """
    if len(xs) < 3:
        raise ValueError("diff_sd needs at least 3 values")
    d = np.abs(np.diff(np.asarray(xs, dtype=float)))
    return float(np.median(d)) / (0.6745 * math.sqrt(2.0))


@dataclass(frozen=True, slots=True)
class Location:
    """A robust log-scale location with its noise scale and standard error."""

    loc: float  # Huber location of log values
    sd: float  # robust σ of the log values
    se: float  # standard error of ``loc``
    n: int

    @property
    def mean_log(self) -> float:
        """log of the arithmetic mean for lognormal data: loc + σ²/2."""
        return self.loc + 0.5 * self.sd * self.sd


def huber_location(xs: Sequence[float], *, k: float = HUBER_K, sd: float | None = None, iters: int = 30) -> Location:
    """Huber M-estimate of location (scale fixed at the MAD), by iteratively reweighted means.

    The standard error uses the sandwich form σ·sqrt(E[ψ²]) / E[ψ'] / √n, so it grows when many
    points are down-weighted instead of pretending they were clean.
    """
    n = len(xs)
    if n == 0:
        raise ValueError("huber_location of an empty sequence")
    mu = median(xs)
    s = mad_sd(xs, mu) if sd is None else sd
    s = max(s, MIN_LOG_SD)
    if n == 1:
        return Location(mu, s, s, 1)
    a = np.asarray(xs, dtype=float)
    c = k * s
    for _ in range(iters):
        r = np.abs(a - mu)
        w = np.where(r <= c, 1.0, c / np.maximum(r, 1e-300))
        new = float(w @ a / w.sum())
        if abs(new - mu) < 1e-9 * max(1.0, abs(mu)):
            mu = new
            break
        mu = new
    r = (a - mu) / s
    inside = np.abs(r) <= k
    e_psi2 = float(np.where(inside, r * r, k * k).mean())
    e_dpsi = max(float(inside.mean()), 1.0 / n)
    se = s * math.sqrt(e_psi2) / e_dpsi / math.sqrt(n)
    return Location(mu, s, max(se, s / math.sqrt(n) * 0.5), n)
