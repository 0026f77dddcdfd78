"""The snapshot dispatch decides from, and its decision.

Plain frozen dataclasses filled by whoever holds live WIP (the service layer) — dispatch itself
does no I/O, so it is cheap to call on every piece event and trivial to test.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True, slots=True)
class QueuedBundle:
    bundle_id: str
    op_code: str  # the operation this bundle needs next
    qty: int
    ready_since: datetime  # when it became ready for op_code (oldest first)
    due: date | None = None  # the order's due date (earliest first)
    priority: int = 0  # the order's priority (higher first)


@dataclass(frozen=True, slots=True)
class StationState:
    station_id: str
    badge: str | None  # worker logged in; None: nobody, nothing to dispatch
    # op code -> share from the current balance: what the plan wants this worker to sew
    assigned: Mapping[str, float]
    able: frozenset[str]  # op codes she can also do when her own work runs out
    queue: tuple[QueuedBundle, ...]


@dataclass(frozen=True)
class LineSnapshot:
    stations: tuple[StationState, ...]
    # op code -> pieces waiting for it, line-wide (the WIP in front of each operation)
    wip_pcs: Mapping[str, int]
    # op code -> the operations that follow it in the bulletin
    successors: Mapping[str, tuple[str, ...]]
    # operations on the balance's bottleneck: never let them starve
    bottleneck_ops: frozenset[str] = frozenset()
    low_water_pcs: int = 20  # below this WIP a bottleneck counts as starving
    as_of: datetime | None = None
    extra: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Task:
    bundle_id: str
    op_code: str
    qty: int
    reason: str  # why this one: "assigned", "feeds-bottleneck", "fallback"


@dataclass(frozen=True, slots=True)
class Decision:
    """What the tablet shows: "this: X → next: Y"."""

    station_id: str
    this: Task | None
    next: Task | None
