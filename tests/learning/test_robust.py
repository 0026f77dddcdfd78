"""Robust location and scale on hand-made series."""

from __future__ import annotations

import math
import random

import pytest

from seamline.learning.robust import diff_sd, huber_location, mad_sd, median


def test_median_and_mad_by_hand():
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([4.0, 1.0, 2.0, 3.0]) == 2.5
    # |x - 2| = 1, 0, 1, 8 -> median 1 -> 1.4826
    assert mad_sd([1.0, 2.0, 3.0, 10.0], center=2.0) == pytest.approx(1.4826)


def test_huber_ignores_a_few_gross_outliers_and_the_mean_does_not():
    rng = random.Random(3)
    xs = [math.log(30.0) + rng.gauss(0.0, 0.2) for _ in range(60)]
    clean = huber_location(xs)
    dirty = xs + [math.log(30.0 * 8)] * 4  # four cycles eight times too long
    loc = huber_location(dirty)
    mean = sum(dirty) / len(dirty)
    assert abs(loc.loc - clean.loc) < 0.04
    assert abs(mean - clean.loc) > 0.1
    assert loc.se > 0 and loc.se < 0.05


def test_huber_standard_error_is_about_sigma_over_root_n():
    rng = random.Random(5)
    xs = [rng.gauss(0.0, 0.2) for _ in range(400)]
    loc = huber_location(xs)
    assert loc.se == pytest.approx(0.2 / math.sqrt(400), rel=0.2)
    assert loc.sd == pytest.approx(0.2, rel=0.15)


def test_lognormal_mean_correction():
    rng = random.Random(7)
    sigma = 0.3
    cycles = [30.0 * math.exp(rng.gauss(-0.5 * sigma**2, sigma)) for _ in range(4000)]
    loc = huber_location([math.log(c) for c in cycles])
    assert math.exp(loc.loc) < 29.0  # the median of a lognormal sits below its mean
    assert math.exp(loc.mean_log) == pytest.approx(sum(cycles) / len(cycles), rel=0.02)


def test_diff_sd_is_not_fooled_by_a_trend():
    rng = random.Random(11)
    xs = [-0.01 * i + rng.gauss(0.0, 0.1) for i in range(300)]  # a strong downward ramp
    assert mad_sd(xs) > 0.5
    assert diff_sd(xs) == pytest.approx(0.1, rel=0.2)
