"""The planner's confirmed moves in the database (table in ``tables_planning``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Engine

from .tables_planning import plan_moves


@dataclass(frozen=True, slots=True)
class StoredMove:
    id: int
    order_id: str
    line_id: str
    start_day: date
    moved_by: str
    moved_at: datetime


def save_move(engine: Engine, factory: str, order_id: str, line_id: str, start_day: date, moved_by: str) -> int:
    """Append a confirmed move; returns its id, the plan's new version."""
    with engine.begin() as conn:
        res = conn.execute(
            insert(plan_moves).values(
                factory_id=factory,
                order_id=order_id,
                line_id=line_id,
                start_day=start_day,
                moved_by=moved_by[:128],
                moved_at=datetime.now(UTC),
            )
        )
        key = res.inserted_primary_key
        return int(key[0]) if key else 0


def current_moves(engine: Engine, factory: str) -> dict[str, StoredMove]:
    """The move in force per order: its newest row."""
    t = plan_moves
    out: dict[str, StoredMove] = {}
    with engine.connect() as conn:
        rows = conn.execute(select(t).where(t.c.factory_id == factory).order_by(t.c.id))
        for r in rows:
            out[r.order_id] = StoredMove(r.id, r.order_id, r.line_id, r.start_day, r.moved_by, r.moved_at)
    return out


def plan_version(engine: Engine, factory: str) -> int:
    """The newest move's id (0: no move yet): changes exactly when the plan is changed."""
    t = plan_moves
    with engine.connect() as conn:
        v = conn.execute(select(func.max(t.c.id)).where(t.c.factory_id == factory)).scalar()
    return int(v or 0)
