"""The thin database adapter of seamline.compliance: events in, corrections and chain records in/out.

Loading is by factory and time range with margins, because a work day's facts reach outside it: a
night shift's logout is on the next date, the weekly overtime split needs the days since Monday, the
rolling 7-day rules need the 6 days before, and a returned piece may have been made up to
``DEFECT_LOOKBACK`` earlier.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta

from sqlalchemy import Connection, Engine, insert, select

from seamline.adapters import tables as t
from seamline.adapters import tables_compliance as tc
from seamline.adapters.master_data import load_layouts
from seamline.compliance.attendance import DEFECT_LOOKBACK, Correction
from seamline.compliance.chain import ChainRecord
from seamline.compliance.pipeline import Facts
from seamline.domain.events import Defect, Login, Logout, Piece, decode_event
from seamline.domain.model import FactoryLayout

FACT_TYPES = ("login", "logout", "piece", "defect")
LOOKBACK = max(DEFECT_LOOKBACK, timedelta(days=7)) + timedelta(days=1)
LOOKAHEAD = timedelta(days=2)


class NotFound(LookupError):
    pass


def load_layout(engine: Engine, factory: str) -> FactoryLayout:
    layouts = load_layouts(engine)
    if factory not in layouts:
        raise NotFound(f"factory {factory!r} is not in the master data (known: {sorted(layouts)})")
    return layouts[factory]


def load_events(engine: Engine, factory: str, start: datetime, end: datetime) -> list[Login | Logout | Piece | Defect]:
    """Login/Logout/Piece/Defect events of ``factory`` with start <= ts < end, in store order."""
    ev = t.events.c
    stmt = (
        select(ev.station_id, ev.payload)
        .where(ev.factory_id == factory, ev.type.in_(FACT_TYPES), ev.ts >= start, ev.ts < end)
        .order_by(ev.pos)
    )
    out: list[Login | Logout | Piece | Defect] = []
    with engine.connect() as conn:
        for station, payload in conn.execute(stmt):
            e = decode_event(payload)
            e.factory = factory
            e.station = station
            if isinstance(e, Login | Logout | Piece | Defect):  # always: the query selects FACT_TYPES
                out.append(e)
    return out


def load_corrections(engine: Engine, factory: str) -> list[Correction]:
    c = tc.attendance_corrections.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(tc.attendance_corrections).where(c.factory_id == factory).order_by(c.at, c.id)
        ).mappings()
        return [
            Correction(
                id=r["id"],
                action=r["action"],
                worker=r["worker"],
                who=r["who"],
                at=r["at"],
                why=r["why"],
                session_id=r["session_id"],
                station=r["station_id"],
                start=r["start"],
                end=r["end"],
            )
            for r in rows
        ]


def add_correction(engine: Engine, factory: str, corr: Correction) -> None:
    """Record a correction (append only: there is no update or delete)."""
    with engine.begin() as conn:
        conn.execute(
            insert(tc.attendance_corrections).values(
                id=corr.id,
                factory_id=factory,
                action=corr.action,
                worker=corr.worker,
                session_id=corr.session_id,
                station_id=corr.station,
                start=corr.start,
                end=corr.end,
                who=corr.who,
                at=corr.at,
                why=corr.why,
            )
        )


def local_bounds(layout: FactoryLayout, first: date, last: date) -> tuple[datetime, datetime]:
    tz = layout.factory.tz
    return datetime.combine(first, time(0), tz), datetime.combine(last + timedelta(days=1), time(0), tz)


def load_facts(engine: Engine, factory: str, first: date, last: date) -> Facts:
    """Everything needed to compute the work days ``first``..``last`` exactly."""
    layout = load_layout(engine, factory)
    start, end = local_bounds(layout, first, last)
    events = load_events(engine, factory, start - LOOKBACK, end + LOOKAHEAD)
    return Facts(layout=layout, events=events, corrections=load_corrections(engine, factory))


def load_chain(engine: Engine, factory: str) -> list[ChainRecord]:
    c = tc.hours_chain.c
    with engine.connect() as conn:
        rows = conn.execute(select(tc.hours_chain).where(c.factory_id == factory).order_by(c.seq)).mappings()
        return [
            ChainRecord(
                r["factory_id"],
                r["seq"],
                date.fromisoformat(r["day"]),
                r["version"],
                r["payload"],
                r["prev_hash"],
                r["hash"],
            )
            for r in rows
        ]


def chain_factories(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.execute(select(tc.hours_chain.c.factory_id).distinct()).scalars())


def append_chain(engine: Engine, records: Sequence[ChainRecord], sealed_at: datetime) -> None:
    """Append records; the primary key (factory, seq) refuses a concurrent writer's duplicate."""
    if not records:
        return
    with engine.begin() as conn:
        conn.execute(
            insert(tc.hours_chain),
            [
                {
                    "factory_id": r.factory,
                    "seq": r.seq,
                    "day": r.day.isoformat(),
                    "version": r.version,
                    "payload": r.payload,
                    "prev_hash": r.prev_hash,
                    "hash": r.hash,
                    "sealed_at": sealed_at,
                }
                for r in records
            ],
        )


def first_event_day(engine: Engine, layout: FactoryLayout) -> date | None:
    return event_day_span(engine, layout)[0]


def event_day_span(engine: Engine, layout: FactoryLayout) -> tuple[date | None, date | None]:
    """The first and the last local date holding an attendance or piece fact of the factory."""
    ev = t.events.c
    where = (ev.factory_id == layout.factory.id, ev.type.in_(FACT_TYPES))
    with engine.connect() as conn:
        first = conn.execute(select(ev.ts).where(*where).order_by(ev.ts).limit(1)).scalar()
        last = conn.execute(select(ev.ts).where(*where).order_by(ev.ts.desc()).limit(1)).scalar()
    tz = layout.factory.tz
    return (
        None if first is None else first.astimezone(tz).date(),
        None if last is None else last.astimezone(tz).date(),
    )


def known_factories(engine: Engine) -> list[str]:
    """Every factory that has master data or sealed records: a chain deleted whole is still checked."""
    names = set(load_layouts(engine))
    with engine.connect() as conn:
        if tc.hours_chain.name in _table_names(conn):
            names |= set(conn.execute(select(tc.hours_chain.c.factory_id).distinct()).scalars())
    return sorted(names)


def _table_names(conn: Connection) -> set[str]:
    from sqlalchemy import inspect

    return set(inspect(conn).get_table_names())
