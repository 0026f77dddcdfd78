"""The planner's order states as a use-case: change one (checked, stored with who and why) and
know every order's current state (domain/order_state.py says what each state means).

A running server keeps the states in memory (``OrderStates``) and reads the table again when it
has a newer row: a change through the API is seen at once (the route calls ``poll(force=True)``),
one made with the CLI within ``poll_s`` of the next page read. Pages read ``current()``, which
never touches the database (it may run under the ingest lock).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from ..adapters.order_state_store import OrderStateStore
from ..domain.model import FactoryLayout
from ..domain.order_state import OPEN, OrderStateChange, OrderStateError, ReasonRequired, next_state

_NONE: Mapping[str, str] = {}


class OrderNotFound(LookupError):
    """No such factory or order (the message is for the planner, Chinese first)."""


def find_factory(layouts: Mapping[str, FactoryLayout], factory: str | None) -> FactoryLayout:
    """The named factory, or the only one; a clear error otherwise."""
    if factory is None:
        if len(layouts) == 1:
            return next(iter(layouts.values()))
        if not layouts:
            raise OrderNotFound("还没有导入工厂 / no factory is loaded yet: import a layout first (seamline import)")
        raise OrderNotFound(f"请指定工厂 / name the factory (--factory): one of {', '.join(sorted(layouts))}")
    lay = layouts.get(factory)
    if lay is None:
        raise OrderNotFound(f"找不到工厂 / unknown factory {factory!r}")
    return lay


def change_state(
    store: OrderStateStore,
    layout: FactoryLayout,
    current: str,
    order: str,
    action: str,
    reason: str,
    actor: str,
    now: datetime | None = None,
) -> OrderStateChange:
    """Check and store one change; nothing is stored when it is refused."""
    if order not in layout.orders:
        raise OrderNotFound(f"找不到订单 / unknown order {order!r} in factory {layout.factory.id!r}")
    to = next_state(current, action)
    reason = reason.strip()
    if action in ("cancel", "close") and not reason:
        raise ReasonRequired("请写明原因 / give a reason (--reason): a cancelled or closed order is not planned again")
    at = now or datetime.now(UTC)
    if at.tzinfo is None:
        raise OrderStateError("时间须带时区 / the time must be timezone-aware")
    c = OrderStateChange(layout.factory.id, order, to, current, reason, actor, at)
    store.add(c)
    return c


class OrderStates:
    """Every order's current state, in memory; ``current(factory)`` holds the orders that are
    not open (order -> state) and is the same object until a change, so readers may cache on it."""

    def __init__(self, store: OrderStateStore, poll_s: float = 1.0, clock: Callable[[], float] = time.monotonic):
        self.store = store
        self.poll_s = poll_s
        self.clock = clock
        self.generation = -1  # the newest row read (-1: not read yet)
        self._by_factory: dict[str, Mapping[str, str]] = {}
        self._polled_at = float("-inf")
        self._lock = threading.Lock()
        self.poll(force=True)

    def current(self, factory: str) -> Mapping[str, str]:
        return self._by_factory.get(factory, _NONE)

    def state_of(self, factory: str, order: str) -> str:
        return self.current(factory).get(order, OPEN)

    def poll(self, force: bool = False) -> bool:
        """Read the table again if it has a newer row (at most every ``poll_s`` unless forced);
        True if the states changed."""
        now = self.clock()
        if not force and now - self._polled_at < self.poll_s:
            return False
        with self._lock:
            self._polled_at = now
            if self.store.last_id() == self.generation:
                return False
            last, rows = self.store.current()
            by: dict[str, dict[str, str]] = {}
            for (f, oid), c in rows.items():
                if c.state != OPEN:
                    by.setdefault(f, {})[oid] = c.state
            self._by_factory, self.generation = dict(by), last
            return True

    def change(
        self,
        layouts: Mapping[str, FactoryLayout],
        factory: str | None,
        order: str,
        action: str,
        reason: str,
        actor: str,
    ) -> OrderStateChange:
        """Change one order's state (checked against the newest stored state) and read it back."""
        lay = find_factory(layouts, factory)
        self.poll(force=True)
        c = change_state(self.store, lay, self.state_of(lay.factory.id, order), order, action, reason, actor)
        self.poll(force=True)
        return c
