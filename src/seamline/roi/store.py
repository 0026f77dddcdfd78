"""The daily reports and forecasts in the database (tables in ``adapters/tables_roi``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import and_, delete, insert, select, tuple_
from sqlalchemy.engine import Engine

from seamline.adapters.tables_roi import roi_daily_reports, roi_forecasts

from .daily_report import ReportRow


def save_report(engine: Engine, factory: str, rows: Sequence[ReportRow], source: str) -> dict[str, int]:
    """Store validated rows in one transaction; a row with the key (line, day, style) of a stored
    one replaces it. Returns counts of new and replaced rows."""
    now = datetime.now(UTC)
    keys = [(r.line, r.day, r.style) for r in rows]
    t = roi_daily_reports
    with engine.begin() as conn:
        existing: set[tuple[str, date, str]] = set()
        for i in range(0, len(keys), 400):
            chunk = keys[i : i + 400]
            q = select(t.c.line_id, t.c.day, t.c.style).where(
                t.c.factory_id == factory, tuple_(t.c.line_id, t.c.day, t.c.style).in_(chunk)
            )
            existing.update((a, b, c) for a, b, c in conn.execute(q))
            conn.execute(delete(t).where(t.c.factory_id == factory, tuple_(t.c.line_id, t.c.day, t.c.style).in_(chunk)))
        conn.execute(
            insert(t),
            [
                {
                    "factory_id": factory,
                    "line_id": r.line,
                    "day": r.day,
                    "style": r.style,
                    "sam_min": r.sam_min,
                    "output": r.output,
                    "workers": r.workers,
                    "hours": r.hours,
                    "overtime_h": r.overtime_h,
                    "defects": r.defects,
                    "checked": r.checked,
                    "orders_due": r.orders_due,
                    "orders_on_time": r.orders_on_time,
                    "source": source[:300],
                    "imported_at": now,
                }
                for r in rows
            ],
        )
    replaced = len(set(keys) & existing)
    return {"rows": len(rows), "new": len(rows) - replaced, "replaced": replaced}


def load_report(engine: Engine, factory: str, lines: Iterable[str] | None = None) -> list[ReportRow]:
    t = roi_daily_reports
    q = select(t).where(t.c.factory_id == factory)
    if lines is not None:
        q = q.where(t.c.line_id.in_(list(lines)))
    with engine.connect() as conn:
        res = conn.execute(q.order_by(t.c.day, t.c.line_id, t.c.style)).mappings().all()
    return [
        ReportRow(
            day=r["day"],
            line=r["line_id"],
            style=r["style"],
            sam_min=float(r["sam_min"]),
            output=int(r["output"]),
            workers=int(r["workers"]),
            hours=float(r["hours"]),
            overtime_h=float(r["overtime_h"]),
            defects=r["defects"],
            checked=r["checked"],
            orders_due=r["orders_due"],
            orders_on_time=r["orders_on_time"],
        )
        for r in res
    ]


@dataclass(frozen=True, slots=True)
class Forecast:
    """The twin's expected gain for a metric on some lines: a mean with its interval, where it came
    from and when it was made. Computed by ``seamline roi-forecast compute`` (the closed-loop twin,
    ``seamline.twin.forecast``) and recorded by ``roi-forecast set --file``; never made up by the page."""

    metric: str
    lines: tuple[str, ...]
    mean: float
    low: float
    high: float
    level_pct: float
    source: str
    made_on: date

    def as_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "lines": list(self.lines),
            "mean": self.mean,
            "low": self.low,
            "high": self.high,
            "level_pct": self.level_pct,
            "source": self.source,
            "made_on": self.made_on.isoformat(),
        }


def add_forecast(engine: Engine, factory: str, f: Forecast) -> None:
    if not f.low <= f.mean <= f.high:
        raise ValueError("预测区间应满足 下限 ≤ 均值 ≤ 上限 / the interval must satisfy low <= mean <= high")
    if not 0 < f.level_pct < 100:
        raise ValueError("区间置信水平应在 0–100 之间 / level must be between 0 and 100")
    if not f.source.strip():
        raise ValueError("请说明预测的来源 / say where the forecast comes from")
    with engine.begin() as conn:
        conn.execute(
            insert(roi_forecasts).values(
                factory_id=factory,
                metric=f.metric,
                lines=",".join(sorted(f.lines)),
                mean=f.mean,
                low=f.low,
                high=f.high,
                level_pct=f.level_pct,
                source=f.source,
                made_on=f.made_on,
                recorded_at=datetime.now(UTC),
            )
        )


def latest_forecasts(engine: Engine, factory: str, lines: Iterable[str]) -> dict[str, Forecast]:
    """Per metric, the forecast recorded last for exactly these lines."""
    t = roi_forecasts
    key = ",".join(sorted(lines))
    with engine.connect() as conn:
        res = conn.execute(
            select(t).where(and_(t.c.factory_id == factory, t.c.lines == key)).order_by(t.c.recorded_at, t.c.id)
        ).mappings()
        out: dict[str, Forecast] = {}
        for r in res:
            out[r["metric"]] = Forecast(
                r["metric"],
                tuple(r["lines"].split(",")),
                float(r["mean"]),
                float(r["low"]),
                float(r["high"]),
                float(r["level_pct"]),
                r["source"],
                r["made_on"],
            )
    return out


def data_version(engine: Engine, factory: str) -> tuple[Any, ...]:
    """Changes whenever a report is imported or a forecast recorded: part of the page's cache key."""
    from sqlalchemy import func

    t, f = roi_daily_reports, roi_forecasts
    with engine.connect() as conn:
        a = conn.execute(select(func.count(), func.max(t.c.imported_at)).where(t.c.factory_id == factory)).one()
        b = conn.execute(select(func.max(f.c.id)).where(f.c.factory_id == factory)).scalar()
    return (a[0], a[1], b)
