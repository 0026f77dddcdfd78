"""What every controller shares: the floor view, the current plan per line, the order book.

Subclasses say where efficiencies come from (``efficiency``), when to re-balance (``wants``) and
how a free station chooses (``dispatch``); the balancing itself is the planning engine's, the
same for all (``balancing.balance_for``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from seamline.domain.events import SensorEvent
from seamline.domain.model import FactoryLayout, Operation

from .balancing import LineBalance, balance_for
from .floor import FloorView
from .protocol import Directive, Option


@dataclass
class LineState:
    balance: LineBalance | None = None
    style: str = ""
    present: frozenset[tuple[str, str]] = frozenset()
    day: date | None = None
    rebalances_today: int = 0
    last_check: datetime | None = None


class PolicyBase(ABC):
    """A controller of the twin; not usable on its own: a policy says where its efficiencies come from
    and when it re-balances (Python refuses to build one that leaves either out)."""

    name = "base"

    def __init__(self, layout: FactoryLayout, lines: Sequence[str], *, time_limit_s: float = 0.5) -> None:
        self.layout = layout
        self.lines = list(lines)
        self.floor = FloorView(layout)
        self.time_limit_s = time_limit_s
        self.state: dict[str, LineState] = {lid: LineState() for lid in self.lines}
        orders = sorted(layout.orders.values(), key=lambda o: (o.due, -o.priority, o.id))
        self._first_style = orders[0].style_code if orders else ""
        self.decisions: list[dict[str, object]] = []  # what was decided when, for reports and tests
        # (line, day) -> the balance on the floor at the day's last decision point
        self.day_plans: dict[tuple[str, date], LineBalance] = {}

    # -- what subclasses define ------------------------------------------------------------------
    @abstractmethod
    def efficiency(self, badge: str, style: str, op: Operation) -> float:
        """The worker's efficiency on the operation as this policy believes it (1.0 = standard)."""

    @abstractmethod
    def wants(self, line: str, ls: LineState, now: datetime, present: dict[str, str], style: str) -> str | None:
        """Why to re-balance now (None: keep the plan)."""

    def accept(self, ls: LineState, new: LineBalance, reason: str) -> bool:
        """Whether to hand out ``new`` (the drift check of the seamline policy says no to small gains)."""
        return True

    def wip_cap(self, line: str, lb: LineBalance) -> int | None:
        return None

    # -- the controller protocol -----------------------------------------------------------------
    def observe(self, events: Sequence[SensorEvent]) -> None:
        self.floor.apply(events)

    def decide(self, now: datetime) -> list[Directive]:
        out: list[Directive] = []
        for line in self.lines:
            ls = self.state[line]
            if ls.day != now.date():
                ls.day, ls.rebalances_today = now.date(), 0
            present = self.floor.present(line)
            if not present:
                continue
            style = self.floor.style_on.get(line) or ls.style or self._first_style
            if not style:
                continue
            reason = self.wants(line, ls, now, present, style)
            ls.last_check = now
            if reason is None:
                if ls.balance is not None:
                    self.day_plans[(line, now.date())] = ls.balance
                continue
            previous = ls.balance.plan if ls.balance is not None and ls.style == style else None

            def eff(badge: str, op: Operation, style: str = style) -> float:
                return self.efficiency(badge, style, op)

            try:
                new = balance_for(self.layout, style, present, eff, previous=previous, time_limit_s=self.time_limit_s)
            except ValueError as e:  # e.g. nobody present can sew an operation: keep the floor as it is
                self.decisions.append({"at": now.isoformat(), "line": line, "style": style, "reason": reason,
                                       "error": str(e)})  # fmt: skip
                continue

            if not self.accept(ls, new, reason):
                if ls.balance is not None:
                    self.day_plans[(line, now.date())] = ls.balance
                continue
            if reason != "start":
                ls.rebalances_today += 1
            ls.balance, ls.style, ls.present = new, style, frozenset(present.items())
            self.day_plans[(line, now.date())] = new
            cap = self.wip_cap(line, new)
            self.decisions.append(
                {
                    "at": now.isoformat(),
                    "line": line,
                    "style": style,
                    "reason": reason,
                    "cycle_min": round(new.plan.cycle_min, 4),
                    "changes": new.plan.changes,
                    "wip_cap": cap,
                }
            )
            out.append(Directive(line, style, new.stations, cap, reason))
        return out

    def dispatch(self, station: str, options: Sequence[Option], waiting: Mapping[str, int]) -> int:
        """First in, first out across the station's operations: the bundle that waited longest."""
        return max(range(len(options)), key=lambda i: options[i][2])

    def order_priority(self, order_id: str) -> float:
        """Every order alike: within an operation the oldest cutting ticket goes first (FIFO)."""
        return 0.0
