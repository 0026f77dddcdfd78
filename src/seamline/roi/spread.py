"""The payback range (bootstrap over the after-period's blocks) and the sensitivity cases.

Why a bootstrap: the after-period is a handful of days whose efficiency, defects and orders
scatter; resampling whole blocks with replacement and recomputing every figure shows how much
the payback would move had other days of the same kind been observed. Days are the blocks when
there are enough of them (``MIN_DAY_BLOCKS``); with less data hours are used, which understates
day-to-day variation (the page says which was used). The baseline is held fixed: it is the
owner's figure, not a sample.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from .inputs import RoiInputs, scaled_investment, with_measured
from .measure import BlockFacts, Measured, as_matrix, measure_totals, totals
from .money import Effect, effects, gross_monthly, net_monthly, payback_months

MIN_DAY_BLOCKS = 5
RESAMPLES = 1000
PCTS = (10, 50, 90)


@dataclass(frozen=True, slots=True)
class Scenario:
    """One case of the sensitivity table: its factors, investment, net benefit and payback range."""

    key: str
    volume: Decimal
    share: Decimal
    one_off: Decimal
    net_monthly: Decimal
    payback: Decimal | None
    p10: Decimal | None  # payback percentiles over resamples; None = not earned back
    p50: Decimal | None
    p90: Decimal | None
    never_share: Decimal  # share of resamples in which the benefit does not cover the running cost


SCENARIOS: tuple[tuple[str, Decimal, Decimal], ...] = (
    ("as_measured", Decimal(1), Decimal(1)),
    ("orders_minus_30", Decimal("0.7"), Decimal(1)),
    ("half_lines", Decimal(1), Decimal("0.5")),
    ("both", Decimal("0.7"), Decimal("0.5")),
)


def resample_gross(
    blocks: Sequence[BlockFacts],
    inputs: RoiInputs,
    n: int = RESAMPLES,
    seed: int = 0,
    before: Sequence[BlockFacts] = (),
    before_source: tuple[str, str] = ("", ""),
) -> list[Decimal]:
    """Gross monthly benefit of ``n`` bootstrap resamples of the blocks (fixed seed: reproducible).

    With a measured before-period its blocks are resampled too, so the range carries the
    uncertainty of both sides; hand-entered figures stay fixed."""
    if not blocks:
        return []
    m = as_matrix(blocks)
    mb = as_matrix(before) if before else None
    rng = np.random.default_rng(seed)
    out: list[Decimal] = []
    k = len(blocks)
    w = inputs.rates.workdays_per_month
    for _ in range(n):
        idx = rng.integers(0, k, size=k)
        meas = measure_totals(totals(m, idx), w)
        baseline = inputs.baseline
        if mb is not None:
            bidx = rng.integers(0, len(before), size=len(before))
            baseline = with_measured(baseline, measure_totals(totals(mb, bidx), w).metrics, *before_source)
        out.append(gross_monthly(effects(baseline, meas, inputs.rates)))
    return out


def _percentile(values: list[float], p: int) -> Decimal | None:
    """Percentile that picks an observed value (inverted CDF), so "never" (inf) stays "never"."""
    v = float(np.percentile(np.array(values, dtype=float), p, method="inverted_cdf"))
    return None if math.isinf(v) else Decimal(repr(v)).quantize(Decimal("0.1"))


def scenario(
    key: str, volume: Decimal, share: Decimal, gross: Decimal, samples: list[Decimal], inputs: RoiInputs
) -> Scenario:
    inv = scaled_investment(inputs.investment, share) if share != 1 else inputs.investment
    net = net_monthly(gross, inv, volume, share)
    paybacks: list[float] = []
    never = 0
    for g in samples:
        pb = payback_months(inv.one_off, net_monthly(g, inv, volume, share))
        if pb is None:
            never += 1
            paybacks.append(math.inf)
        else:
            paybacks.append(float(pb))
    p10, p50, p90 = (_percentile(paybacks, p) if paybacks else None for p in PCTS)
    return Scenario(
        key=key,
        volume=volume,
        share=share,
        one_off=inv.one_off,
        net_monthly=net,
        payback=payback_months(inv.one_off, net),
        p10=p10,
        p50=p50,
        p90=p90,
        never_share=(Decimal(never) / len(samples)).quantize(Decimal("0.001")) if samples else Decimal(0),
    )


@dataclass(frozen=True, slots=True)
class RoiResult:
    after: Measured
    effects: list[Effect]
    gross_monthly: Decimal
    scenarios: list[Scenario]
    block_kind: str  # "day" or "hour"
    blocks: int
    resamples: int


def assess(
    blocks: Sequence[BlockFacts],
    inputs: RoiInputs,
    block_kind: str,
    n: int = RESAMPLES,
    before: Sequence[BlockFacts] = (),
    before_source: tuple[str, str] = ("measured before-period", "改造前时期实测"),
) -> RoiResult:
    """Everything the owner page shows, from the after-period blocks and the owner's inputs.

    ``before`` (blocks of a measured before-period) replaces the hand baseline's figures that
    it can measure; ``inputs.baseline`` must already carry them (``with_measured``) for the
    point estimate; here they are also resampled for the range."""
    meas = measure_totals(totals(as_matrix(blocks)), inputs.rates.workdays_per_month)
    effs = effects(inputs.baseline, meas, inputs.rates)
    gross = gross_monthly(effs)
    samples = resample_gross(blocks, inputs, n, before=before, before_source=before_source)
    scen = [scenario(k, v, s, gross, samples, inputs) for k, v, s in SCENARIOS]
    return RoiResult(meas, effs, gross, scen, block_kind, len(blocks), len(samples))
