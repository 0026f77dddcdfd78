"""Reading and writing exploration trials (``line_trials``): which worker tries which operation.

A controller hands out the whole set of a line's trials at once (``set_line``): trials no longer
in it end, new ones start, running ones stay as they are (their start time is when the worker was
first told). Readers get the line's open trials (``running``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine

from .tables_directives import line_trials as t


@dataclass(frozen=True)
class Trial:
    id: int
    factory: str
    line: str
    style: str
    badge: str
    station: str
    op_code: str
    started_by: str
    started_at: datetime
    ended_at: datetime | None = None


def _row(r: object) -> Trial:
    m = r._mapping  # type: ignore[attr-defined]
    return Trial(
        m["id"],
        m["factory_id"],
        m["line_id"],
        m["style_code"],
        m["badge"],
        m["station_id"],
        m["op_code"],
        m["started_by"],
        m["started_at"],
        m["ended_at"],
    )


class TrialStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def set_line(
        self, factory: str, line: str, style: str, trials: Mapping[str, tuple[str, str]], by: str, at: datetime
    ) -> tuple[int, int]:
        """The line's trials are now ``trials`` (badge → (station, operation)): end the open ones
        not in it, start the new ones. Returns (started, ended)."""
        ended = started = 0
        with self.engine.begin() as conn:
            open_rows = [
                _row(r)
                for r in conn.execute(
                    select(t).where(t.c.factory_id == factory, t.c.line_id == line, t.c.ended_at.is_(None))
                )
            ]
            keep: set[tuple[str, str, str, str]] = set()
            for tr in open_rows:
                key = (tr.style, tr.badge, tr.station, tr.op_code)
                if trials.get(tr.badge) == (tr.station, tr.op_code) and tr.style == style and key not in keep:
                    keep.add(key)
                    continue
                conn.execute(update(t).where(t.c.id == tr.id).values(ended_at=at))
                ended += 1
            for badge, (station, op) in sorted(trials.items()):
                if (style, badge, station, op) in keep:
                    continue
                conn.execute(
                    insert(t).values(
                        factory_id=factory,
                        line_id=line,
                        style_code=style,
                        badge=badge,
                        station_id=station,
                        op_code=op,
                        started_by=by,
                        started_at=at,
                        ended_at=None,
                    )
                )
                started += 1
        return started, ended

    def running(self, factory: str, line: str, since: datetime) -> list[Trial]:
        """The line's open trials started at or after ``since`` (a day's start: yesterday's open
        trial of a stopped demo is not today's), oldest first."""
        q = (
            select(t)
            .where(t.c.factory_id == factory, t.c.line_id == line, t.c.ended_at.is_(None), t.c.started_at >= since)
            .order_by(t.c.started_at, t.c.id)
        )
        with self.engine.connect() as conn:
            return [_row(r) for r in conn.execute(q)]
