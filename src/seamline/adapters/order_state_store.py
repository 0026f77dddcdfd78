"""Reading and writing the planner's order states (``order_state_changes``, append-only)."""

from __future__ import annotations

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Engine

from ..domain.order_state import OrderStateChange
from .tables_orders import order_state_changes as t


def _change(m: object) -> OrderStateChange:
    r = m._mapping  # type: ignore[attr-defined]
    return OrderStateChange(r["factory_id"], r["order_id"], r["state"], r["before"], r["reason"], r["actor"], r["at"])


class OrderStateStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, c: OrderStateChange) -> int:
        """Append one change; its row id (ids grow: the newest row of an order is its state)."""
        with self.engine.begin() as conn:
            res = conn.execute(
                insert(t).values(
                    factory_id=c.factory,
                    order_id=c.order,
                    state=c.state,
                    before=c.before,
                    reason=c.reason,
                    actor=c.actor,
                    at=c.at,
                )
            )
            return int(res.inserted_primary_key[0]) if res.inserted_primary_key else 0

    def last_id(self) -> int:
        """The newest row's id (0: none): a reader compares it to know whether to read again."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.coalesce(func.max(t.c.id), 0))).scalar_one())

    def current(self) -> tuple[int, dict[tuple[str, str], OrderStateChange]]:
        """(newest id, (factory, order) -> its newest change) for every order that has one."""
        out: dict[tuple[str, str], OrderStateChange] = {}
        last = 0
        with self.engine.connect() as conn:
            for r in conn.execute(select(t).order_by(t.c.id)):
                out[(r.factory_id, r.order_id)] = _change(r)
                last = int(r.id)
        return last, out

    def changes(self, factory: str, order: str | None = None) -> list[OrderStateChange]:
        """The audit trail, oldest first (one order's, or the factory's)."""
        q = select(t).where(t.c.factory_id == factory)
        if order is not None:
            q = q.where(t.c.order_id == order)
        with self.engine.connect() as conn:
            return [_change(r) for r in conn.execute(q.order_by(t.c.id))]
