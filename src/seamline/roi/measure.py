"""Per-block facts (a day, or an hour when the data is short) and the figures measured from them.

Every figure is a ratio of sums over blocks, never an average of per-block ratios, so a short
block weighs what its minutes weigh. The same function measures the full period and each
bootstrap resample (``spread``), which is what makes the range honest: it is the spread of the
very numbers on the page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from decimal import Decimal

import numpy as np

from .inputs import D


@dataclass(frozen=True, slots=True)
class BlockFacts:
    """What happened in one block of the period, at the scope being assessed."""

    label: str  # ISO date or hour; the evidence lists blocks by it
    day_equiv: float  # share of a working day this block is (1 for a day block)
    pieces: int = 0
    earned_min: float = 0.0
    attended_min: float = 0.0
    output: int = 0
    defects: int = 0
    overtime_h: float = 0.0
    worker_days: float = 0.0
    wip_piece_samples: float = 0.0  # sum over hourly samples of pieces in WIP
    wip_samples: int = 0
    orders_due: int = 0
    orders_on_time: int = 0
    order_qty_due: int = 0
    small_orders: int = 0
    small_order_qty: int = 0


SUM_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(BlockFacts) if f.name != "label")


def as_matrix(blocks: Sequence[BlockFacts]) -> np.ndarray:
    """Blocks × summable fields, so a resample's totals are one indexed sum."""
    return np.array([[float(getattr(b, n)) for n in SUM_FIELDS] for b in blocks], dtype=float).reshape(
        len(blocks), len(SUM_FIELDS)
    )


@dataclass(frozen=True, slots=True)
class Measured:
    """The figures of one period plus the monthly volumes the money formulas multiply by."""

    metrics: dict[str, Decimal | None]
    days: Decimal
    attended_h_month: Decimal
    earned_h_month: Decimal
    pieces_month: Decimal
    workers: Decimal
    orders_due_month: Decimal
    avg_order_qty: Decimal | None
    avg_small_order_qty: Decimal | None


def _q(x: float, places: str = "0.01") -> Decimal:
    return D(float(x)).quantize(Decimal(places))


def measure_totals(tot: dict[str, float], workdays_per_month: Decimal) -> Measured:
    """Figures from summed block facts (see docs/roi.md, "Measured figures")."""
    days = tot["day_equiv"]
    att_h = tot["attended_min"] / 60.0

    def ratio(num: float, den: float, scale: float = 1.0, places: str = "0.01") -> Decimal | None:
        return _q(scale * num / den, places) if den > 0 else None

    w = float(workdays_per_month)
    metrics: dict[str, Decimal | None] = {
        "efficiency_pct": ratio(tot["earned_min"], tot["attended_min"], 100.0),
        "output_per_attended_h": ratio(tot["output"], att_h, 1.0, "0.001"),
        "overtime_h_per_worker_month": ratio(tot["overtime_h"], tot["worker_days"], w),
        "wip_pieces": ratio(tot["wip_piece_samples"], tot["wip_samples"], 1.0, "0.1"),
        "dhu_pct": ratio(tot["defects"], tot["pieces"], 100.0, "0.001"),
        "on_time_pct": ratio(tot["orders_on_time"], tot["orders_due"], 100.0, "0.1"),
        "small_orders_per_month": ratio(tot["small_orders"], days, w),
    }
    per_month = (lambda x: _q(x * w / days)) if days > 0 else (lambda x: Decimal(0))
    return Measured(
        metrics=metrics,
        days=_q(days, "0.001"),
        attended_h_month=per_month(att_h),
        earned_h_month=per_month(tot["earned_min"] / 60.0),
        pieces_month=per_month(tot["pieces"]),
        workers=_q(tot["worker_days"] / days) if days > 0 else Decimal(0),
        orders_due_month=per_month(tot["orders_due"]),
        avg_order_qty=ratio(tot["order_qty_due"], tot["orders_due"], 1.0, "0.1"),
        avg_small_order_qty=ratio(tot["small_order_qty"], tot["small_orders"], 1.0, "0.1"),
    )


def totals(matrix: np.ndarray, rows: np.ndarray | None = None) -> dict[str, float]:
    m = matrix if rows is None else matrix[rows]
    s = m.sum(axis=0) if len(m) else np.zeros(len(SUM_FIELDS))
    return dict(zip(SUM_FIELDS, (float(x) for x in s), strict=True))


def measure(blocks: Sequence[BlockFacts], workdays_per_month: Decimal) -> Measured:
    return measure_totals(totals(as_matrix(blocks)), workdays_per_month)
