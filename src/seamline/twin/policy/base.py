"""What every controller shares: the floor view, the current plan per line, the order book.

Subclasses say where efficiencies come from (``efficiency``), when to re-balance (``wants``) and
how a free station chooses (``dispatch``); the balancing itself is the planning engine's, the
same for all (``balancing.balance_for``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
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
    # station -> operations handed out for a trial beside the plan (``PolicyBase.trials``)
    trials: dict[str, tuple[str, ...]] = field(default_factory=dict)
    cap: int | None = None  # the WIP cap last handed out


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

    def rebalance(
        self, line: str, ls: LineState, now: datetime, present: dict[str, str], style: str, reason: str
    ) -> LineBalance | None:
        """The balance to hand out for ``reason`` (None: keep the floor as it is).

        By default the planning engine's: the shortest cycle, and on a re-balance the fewest
        changed pairs within its tolerance of it; the seamline policy weighs moves against gains."""
        previous = ls.balance.plan if ls.balance is not None and ls.style == style else None
        new = balance_for(
            self.layout, style, present, self._eff(style), previous=previous, time_limit_s=self.time_limit_s
        )
        return new if self.accept(ls, new, reason) else None

    def accept(self, ls: LineState, new: LineBalance, reason: str) -> bool:
        """Whether to hand out ``new``."""
        return True

    def trials(self, line: str, ls: LineState, now: datetime) -> dict[str, tuple[str, ...]]:
        """Station → operations to try beside the plan (none by default: see the seamline policy)."""
        return {}

    def _eff(self, style: str) -> Callable[[str, Operation], float]:
        def eff(badge: str, op: Operation) -> float:
            return self.efficiency(badge, style, op)

        return eff

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
            new: LineBalance | None = None
            if reason is not None:
                try:
                    new = self.rebalance(line, ls, now, present, style, reason)
                except ValueError as e:  # e.g. nobody present can sew an operation: keep the floor as it is
                    self.decisions.append({"at": now.isoformat(), "line": line, "style": style, "reason": reason,
                                           "error": str(e)})  # fmt: skip
            before = (ls.balance.stations, ls.cap) if ls.balance is not None and ls.style == style else None
            cap = self.wip_cap(line, new) if new is not None else ls.cap
            # A drift re-balance that only moves shares (the same station lists, the same cap): the
            # plan is kept up to date, the floor (stations pull their work) is told nothing. Any
            # other reason is handed out as before (the baseline and the oracle never drift).
            moved = new is not None and (reason != "drift" or before != (new.stations, cap))
            if new is not None:
                ls.balance, ls.style, ls.present = new, style, frozenset(present.items())
            if moved:
                assert new is not None and reason is not None
                if reason != "start":
                    ls.rebalances_today += 1
                ls.cap = cap
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
            if ls.balance is None:
                continue
            self.day_plans[(line, now.date())] = ls.balance
            # Trials ride beside the plan: the floor gets the plan's stations plus each trial's
            # operation; the plan itself (what is scored and recorded) stays the engine's.
            if ls.style != style:  # the floor is on a style the plan is not for (it could not be made)
                continue
            trials = self.trials(line, ls, now)
            if not moved and trials == ls.trials:
                continue
            ls.trials = trials
            if trials:
                self.decisions.append({"at": now.isoformat(), "line": line, "style": style, "reason": "explore",
                                       "trials": {s: list(ops) for s, ops in trials.items()},
                                       "workers": {s: present.get(s, "") for s in trials}})  # fmt: skip
            out.append(
                Directive(
                    line,
                    style,
                    with_trials(ls.balance.stations, trials),
                    cap if moved else None,
                    reason if moved and reason is not None else "explore",
                    trials,
                )
            )
        return out

    def dispatch(self, station: str, options: Sequence[Option], waiting: Mapping[str, int]) -> int:
        """First in, first out across the station's operations: the bundle that waited longest."""
        return max(range(len(options)), key=lambda i: options[i][2])

    def order_priority(self, order_id: str) -> float:
        """Every order alike: within an operation the oldest cutting ticket goes first (FIFO)."""
        return 0.0


def with_trials(
    stations: Mapping[str, tuple[str, ...]], trials: Mapping[str, tuple[str, ...]]
) -> dict[str, tuple[str, ...]]:
    """The stations' operations with each trial operation added to its station's list."""
    out = dict(stations)
    for sid, ops in trials.items():
        out[sid] = tuple(dict.fromkeys((*out.get(sid, ()), *ops)))
    return out
