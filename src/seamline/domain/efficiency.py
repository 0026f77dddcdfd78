"""The trade's formulas, in one place (see docs/data-model.md for their sources)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo


def efficiency_pct(earned_min: float, attended_min: float) -> float | None:
    """Earned standard minutes ÷ attended minutes × 100; None when nobody attended."""
    if attended_min <= 0:
        return None
    return earned_min * 100.0 / attended_min


def target_per_hour(operators: float, expected_efficiency_pct: float, garment_sam_min: float) -> float:
    """Pieces an hour a line should make: 60 × operators × expected efficiency ÷ garment SAM."""
    if garment_sam_min <= 0:
        return 0.0
    return 60.0 * operators * expected_efficiency_pct / 100.0 / garment_sam_min


def target_for_attended(attended_min: float, expected_efficiency_pct: float, garment_sam_min: float) -> float:
    """Target for the minutes actually attended: the same formula with operator-minutes,
    so breaks, late logins and early leavers lower the target instead of the efficiency."""
    if garment_sam_min <= 0:
        return 0.0
    return attended_min * expected_efficiency_pct / 100.0 / garment_sam_min


def pitch_time_min(garment_sam_min: float, operators: int) -> float:
    return garment_sam_min / operators if operators else 0.0


def dhu(defects: int, pieces_checked: int) -> float | None:
    """Defects per hundred units."""
    if pieces_checked <= 0:
        return None
    return defects * 100.0 / pieces_checked


def hour_start(ts: datetime, tz: ZoneInfo) -> datetime:
    """The start of the factory-local clock hour that contains ``ts`` (aware, in ``tz``)."""
    local = ts.astimezone(tz)
    return local.replace(minute=0, second=0, microsecond=0)


def split_by_hour(start: datetime, end: datetime, tz: ZoneInfo) -> list[tuple[datetime, datetime, datetime]]:
    """Cut [start, end) at local clock hours: (hour_start, piece_start, piece_end) triples."""
    out: list[tuple[datetime, datetime, datetime]] = []
    if end <= start:
        return out
    h = hour_start(start, tz)
    s = start
    while s < end:
        # Add an hour in UTC: local clock hours are one real hour long except across DST
        # changes, where this still cuts at real hour boundaries.
        nxt = (h.astimezone(ZoneInfo("UTC")) + timedelta(hours=1)).astimezone(tz)
        e = min(end, nxt)
        out.append((h, s, e))
        s = e
        h = nxt
    return out
