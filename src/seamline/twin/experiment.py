"""The policies on identical floors: same line, workers, orders, absences and seed.

``line_case`` cuts one line of a factory out with an order book of one style; ``run_policy``
runs one policy on it for a few working days. The oracle's true efficiencies are read here, from
the engine's hidden workforce and piece counts, and handed to the oracle by a function returning a
plain dict (each pair where its learning curve stands when the oracle asks): this module is the
one place where the truth meets a controller.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from seamline.domain.cutting import cut_order
from seamline.domain.events import SensorEvent
from seamline.domain.model import FactoryLayout, Operation, Order
from seamline.planning.balance.data import BalanceProblem
from seamline.sim import SimConfig
from seamline.sim.engine import Engine

from .floor_check import FloorRate, carry_cycle, floor_rate, list_cycle
from .loop import LoopResult, run_loop
from .policy import BaselinePolicy, OraclePolicy, SeamlinePolicy
from .policy.balancing import LineBalance, balance_for, cycle_of, problem_for
from .policy.base import PolicyBase
from .policy.protocol import Directive, Option

POLICIES = ("baseline", "seamline", "oracle")
# A learned balance has "reached the oracle's balance quality" when its cycle, scored on the
# truth, is within 2 % of the oracle's (docs/closed-loop.md).
QUALITY_REACHED = 0.98
# Order sizes of a small-batch, fast-fashion book (garment-domain reference: most orders are a
# few hundred pieces, some over a thousand): half small (100–300 pcs), half 500–1500.
SMALL_MAX_PCS = 300
# Bundles per station already along the line when a case starts, as in the demo (sim/wip.py): the
# comparison is of lines in production, not of how fast an empty line fills (which would flatter
# the policy with the smaller WIP cap).
PRELOAD_WIP_BUNDLES_PER_STATION = 1.5


@dataclass(frozen=True)
class Case:
    layout: FactoryLayout
    line: str
    style: str
    seed: int
    days: int
    start: datetime


def line_case(base: FactoryLayout, line_id: str, style_code: str, seed: int, days: int) -> Case:
    """One line of ``base`` with its stations and workers, and an order book of ``style_code``
    big enough to keep it busy for ``days`` (drawn from ``seed``)."""
    style = base.styles[style_code]
    stations = {k: s for k, s in base.stations.items() if s.line_id == line_id}
    workers = {k: w for k, w in base.workers.items() if w.line_id == line_id}
    cal = base.calendar_for_line(line_id)
    # Capacity at 60 % of standard, with a margin so the line never runs dry in the horizon.
    need = len(stations) * cal.shift_minutes() * 0.6 / style.sam_min * days * 1.3
    rng = random.Random(f"{seed}/orders/{line_id}/{style_code}")
    orders: dict[str, Order] = {}
    first = _first_workday(cal.workdays)
    total, n = 0, 0
    while total < need:
        n += 1
        small = rng.random() < 0.5
        qty = rng.randint(100, SMALL_MAX_PCS) if small else rng.randint(500, 1500)
        qty = max(style.bundle_size, qty // style.bundle_size * style.bundle_size)
        oid = f"T{seed}-{style_code[:4]}-{n:02d}"
        orders[oid] = Order(oid, "twin", style_code, {("M", "Navy"): qty}, first + timedelta(days=7 + n))
        total += qty
    bundles = {b.id: b for o in orders.values() for b in cut_order(o, style)}
    layout = FactoryLayout(
        factory=base.factory,
        lines={line_id: base.lines[line_id]},
        stations=stations,
        workers=workers,
        styles={style_code: style},
        orders=orders,
        bundles=bundles,
        calendars=dict(base.calendars),
    )
    start = datetime.combine(first, cal.shift_start, cal.tz)
    return Case(layout, line_id, style_code, seed, days, start)


def _first_workday(workdays: tuple[int, ...]) -> date:
    d = date(2026, 11, 23)  # a Monday
    while d.weekday() not in workdays:
        d += timedelta(days=1)
    return d


def true_efficiency(eng: Engine, style_code: str) -> dict[tuple[str, str, str], float]:
    """The hidden steady-state efficiency of every worker of the case on every operation."""
    style = eng.layout.styles[style_code]
    return {
        (w.badge, style_code, op.code): eng.workforce.skill(w, style_code, op).eff_ss
        for w in eng.layout.workers.values()
        for op in style.operations
    }


def current_efficiency(
    eng: Engine, style_code: str, done: Mapping[tuple[str, str, str], int], horizon_pieces: int = 0
) -> dict[tuple[str, str, str], float]:
    """The hidden efficiency every worker of the case has now on every operation: the steady
    state times the learning curve at the pieces ``done`` of it (a pair never sewn starts at the
    bottom of its curve, as it would if the balance moved the worker there). With
    ``horizon_pieces``, over her next that many pieces of it instead (their SAM ÷ their time, the
    harmonic mean along the curve: what ``learning``'s forecast estimates from the events)."""
    style = eng.layout.styles[style_code]
    out: dict[tuple[str, str, str], float] = {}
    for w in eng.layout.workers.values():
        for op in style.operations:
            key = (w.badge, style_code, op.code)
            skill = eng.workforce.skill(w, style_code, op)
            n = done.get(key, 0)
            if horizon_pieces <= 1 or skill.learning is None:
                out[key] = skill.efficiency(n)
            else:
                out[key] = horizon_pieces / sum(1.0 / skill.efficiency(n + k) for k in range(horizon_pieces))
    return out


class _DayEnds:
    """A controller passed through unchanged, noting the plant's piece counts at each decision
    point (the last one of a day is the state its day plan is scored on). Reads the simulator,
    so it lives here, with the truth, never in the policy."""

    def __init__(self, ctl: PolicyBase, eng: Engine, line: str, every_min: float = 30.0) -> None:
        self.ctl, self.eng, self.line = ctl, eng, line
        self.name = ctl.name
        self.done: dict[date, dict[tuple[str, str, str], int]] = {}
        # day -> the balance seamline's estimates alone give at the day's last decision point
        self.fresh: dict[date, LineBalance] = {}
        self.fresh_lcb: dict[date, LineBalance] = {}  # the same on each pair's lower confidence bound
        self.every_min = every_min

    @property
    def decisions(self) -> list[dict[str, object]]:
        return self.ctl.decisions

    def observe(self, events: Sequence[SensorEvent]) -> None:
        self.ctl.observe(events)

    def decide(self, now: datetime) -> list[Directive]:
        out = self.ctl.decide(now)
        self.done[now.date()] = dict(self.eng.done_count)
        if isinstance(self.ctl, SeamlinePolicy) and self.ctl.learns and self._last_of_day(now):
            for store, lcb in ((self.fresh, False), (self.fresh_lcb, True)):
                fresh = self.ctl.fresh_balance(self.line, now, lcb=lcb)
                if fresh is not None:
                    store[now.date()] = fresh
        return out

    def _last_of_day(self, now: datetime) -> bool:
        cal = self.eng.layout.calendar_for_line(self.line)
        local = now.astimezone(cal.tz)
        return local + timedelta(minutes=self.every_min) >= datetime.combine(local.date(), cal.shift_end, cal.tz)

    def dispatch(self, station: str, options: Sequence[Option], waiting: Mapping[str, int]) -> int:
        return self.ctl.dispatch(station, options, waiting)

    def order_priority(self, order_id: str) -> float:
        return self.ctl.order_priority(order_id)


@dataclass
class PolicyRun:
    result: LoopResult
    # day index (1, 2, ...) -> oracle's cycle ÷ this policy's cycle, both scored on the truth as
    # the floor has it at the day's last decision (learning curves where they are)
    balance_quality: dict[int, float]
    # the same on the steady-state truth (every pair as if fully learned)
    balance_quality_ss: dict[int, float] = field(default_factory=dict)
    # day index -> the truth's optimum ÷ the cycle of the balance the policy's estimates alone give
    # at the day's last decision (``SeamlinePolicy.fresh_balance``: no move costs), on the floor's truth
    fresh_quality: dict[int, float] = field(default_factory=dict)
    # the same for the balance on each pair's lower confidence bound (``fresh_balance(lcb=True)``)
    fresh_lcb_quality: dict[int, float] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    # day index -> the truth's optimum ÷ the shortest cycle the day plan's station LISTS allow on
    # the floor's truth (shares re-optimised, ``floor_check.list_cycle``): what the floor gets is
    # the lists, and stations pull their work (docs/closed-loop.md, "What the floor receives")
    list_quality: dict[int, float] = field(default_factory=dict)
    # the same with the floor's carry-on respected (``floor_check.carry_cycle``): the model figure
    # the floor measurement agrees with (docs/closed-loop.md)
    carry_quality: dict[int, float] = field(default_factory=dict)
    # day index -> its date, the day plan on the floor at its last decision, and the plant's piece
    # counts then (the learning state): what ``floor_quality`` replays on the simulator
    days: dict[int, date] = field(default_factory=dict)
    day_plans: dict[int, LineBalance] = field(default_factory=dict)
    done: dict[int, dict[tuple[str, str, str], int]] = field(default_factory=dict)


def run_policy(case: Case, policy: str, *, time_limit_s: float = 0.3, quality: bool = False) -> PolicyRun:
    cfg = SimConfig(
        seed=case.seed,
        start=case.start,
        hours=24.0 * (case.days + 2),
        record_pieces=False,
        # a running line, not an empty one: the same bundles in progress for every policy (sim/wip.py)
        preload_wip_bundles_per_station=PRELOAD_WIP_BUNDLES_PER_STATION,
    )
    eng = Engine(case.layout, cfg)
    truth_eff = true_efficiency(eng, case.style)
    ctl: PolicyBase
    if policy == "baseline":
        ctl = BaselinePolicy(case.layout, [case.line], time_limit_s=time_limit_s)
    elif policy == "seamline":
        ctl = SeamlinePolicy(case.layout, [case.line], time_limit_s=time_limit_s)
    elif policy == "oracle":
        # the truth where every learning curve stands at the moment the oracle asks
        ctl = OraclePolicy(
            case.layout,
            [case.line],
            lambda horizon: current_efficiency(eng, case.style, eng.done_count, horizon),
            time_limit_s=time_limit_s,
        )
    else:
        raise ValueError(f"unknown policy {policy!r}; one of {POLICIES}")
    rec = _DayEnds(ctl, eng, case.line)
    res = run_loop(case.layout, cfg, rec, case.line, days=case.days, engine=eng)
    if not quality:
        return PolicyRun(res, {})
    days = dict(_days(case, ctl))
    floor_truth = {d: current_efficiency(eng, case.style, rec.done.get(d, {})) for d in days.values()}
    list_q, carry_q = (
        {
            i: balance_quality(case, ctl, floor_truth[d], time_limit_s, day=d, cycle=cyc)[i]
            for i, d in days.items()
            if (case.line, d) in ctl.day_plans
        }
        for cyc in (list_cycle, carry_cycle)
    )
    now_q = {
        i: balance_quality(case, ctl, current_efficiency(eng, case.style, rec.done.get(d, {})), time_limit_s, day=d)[i]
        for i, d in _days(case, ctl)
    }
    fresh_q, lcb_q = (
        {
            i: balance_quality(
                case, ctl, current_efficiency(eng, case.style, rec.done.get(d, {})), time_limit_s, day=d, plans=plans
            )[i]
            for i, d in _days(case, ctl)
            if d in plans
        }
        for plans in (rec.fresh, rec.fresh_lcb)
    )
    return PolicyRun(
        res,
        now_q,
        balance_quality(case, ctl, truth_eff, time_limit_s),
        fresh_quality=fresh_q,
        fresh_lcb_quality=lcb_q,
        list_quality=list_q,
        carry_quality=carry_q,
        days=days,
        day_plans={i: ctl.day_plans[(case.line, d)] for i, d in days.items() if (case.line, d) in ctl.day_plans},
        done={i: dict(rec.done.get(d, {})) for i, d in days.items()},
    )


def _days(case: Case, ctl: PolicyBase) -> list[tuple[int, date]]:
    return list(enumerate(sorted({d for (line, d) in ctl.day_plans if line == case.line}), start=1))


def balance_quality(
    case: Case,
    ctl: PolicyBase,
    truth_eff: Mapping[tuple[str, str, str], float],
    time_limit_s: float,
    *,
    day: date | None = None,
    plans: Mapping[date, LineBalance] | None = None,
    cycle: Callable[[LineBalance, BalanceProblem], float] | None = None,
) -> dict[int, float]:
    """For each day (or only ``day``): the oracle's cycle for the people present ÷ the
    controller's plan's cycle, both scored on ``truth_eff`` (1.0 = as good as balancing on it).
    The plan is the day plan on the floor, or the day's of ``plans`` when given. With ``cycle``
    the plan's cycle is that function's of it (``floor_check.list_cycle``: the shortest its
    station lists allow, shares re-optimised on the truth; ``carry_cycle``: the same with the
    floor's carry-on) instead of its own shares' (``cycle_of``)."""
    out: dict[int, float] = {}
    for i, d in _days(case, ctl):
        if day is not None and d != day:
            continue
        lb = ctl.day_plans[(case.line, d)] if plans is None else plans.get(d)
        if lb is None:
            continue
        present = {sid: b for b, sid in lb.station_of.items()}

        def eff(badge: str, op: Operation) -> float:
            return truth_eff.get((badge, case.style, op.code), 0.5)

        problem, _ = problem_for(case.layout, case.style, present, eff)
        mine = cycle(lb, problem) if cycle is not None else cycle_of(lb.plan, problem)
        best = balance_for(case.layout, case.style, present, eff, time_limit_s=time_limit_s, carry=False).plan.cycle_min
        out[i] = min(1.0, best / mine) if mine > 0 else 0.0
    return out


# Working days of a case the floor check replays by default (end of day 1 and 2: the goal's days).
FLOOR_DAYS = (1, 2)


@dataclass(frozen=True)
class FloorDay:
    """One day's floor check: the same floor (seamline's run's learning state, that day's
    people), three plans' station lists held fixed."""

    seamline: FloorRate
    oracle: FloorRate | None  # None when the oracle's day plan is for other people
    optimum: FloorRate
    # the truth's optimum cycle (minutes per garment) at that state: 60 ÷ it is the model's rate
    optimum_cycle_min: float = 0.0
    # plan ("seamline", "oracle", "optimum") -> model ("shares", "lists", "carry") -> garments per
    # hour the model says the plan gives on the truth at that state (60 ÷ its cycle)
    model: dict[str, dict[str, float]] = field(default_factory=dict)

    def of_model(self, rate: FloorRate | None) -> float | None:
        """A plan's whole garments per hour on the floor ÷ the model's optimum (60 ÷ the truth's
        optimum cycle, the learning state at the day's end held)."""
        if rate is None or self.optimum_cycle_min <= 0:
            return None
        return rate.garments_per_h * self.optimum_cycle_min / 60.0

    @property
    def quality(self) -> float:
        """Seamline's plan's whole garments per hour ÷ the truth's optimum plan's."""
        g = self.optimum.garments_per_h
        return self.seamline.garments_per_h / g if g > 0 else 0.0

    @property
    def oracle_quality(self) -> float | None:
        g = self.optimum.garments_per_h
        return None if self.oracle is None or g <= 0 else self.oracle.garments_per_h / g


def floor_quality(
    case: Case,
    seamline: PolicyRun,
    oracle: PolicyRun | None,
    days: Sequence[int] = FLOOR_DAYS,
    *,
    time_limit_s: float = 0.3,
    feed: bool = True,
) -> dict[int, FloorDay]:
    """For each day index in ``days``: replay that day on the simulator from seamline's learning
    state at its last decision (``floor_check.floor_rate``, common random numbers), with
    seamline's day plan, the oracle policy's day plan and the truth's optimum for the same people
    (the shortest-cycle share balance on the floor's truth at that state) each held fixed."""
    eng = Engine(case.layout, SimConfig(seed=case.seed, start=case.start, record_pieces=False))
    out: dict[int, FloorDay] = {}
    for i in days:
        lb, d = seamline.day_plans.get(i), seamline.days.get(i)
        if lb is None or d is None:
            continue
        done = seamline.done.get(i, {})
        truth = current_efficiency(eng, case.style, done)
        present = {sid: b for b, sid in lb.station_of.items()}

        def eff(badge: str, op: Operation, truth: Mapping[tuple[str, str, str], float] = truth) -> float:
            return truth.get((badge, case.style, op.code), 0.5)

        best = balance_for(case.layout, case.style, present, eff, time_limit_s=time_limit_s, carry=False)
        o_lb = oracle.day_plans.get(i) if oracle is not None else None
        rates = {
            k: floor_rate(case.layout, case.line, case.style, case.seed, d, done, plan, feed=feed)
            for k, plan in (("seamline", lb), ("oracle", o_lb), ("optimum", best))
            # the oracle's plan only when it is for the same people at the same stations
            if plan is not None and plan.station_of == lb.station_of
        }
        problem, _ = problem_for(case.layout, case.style, present, eff)
        plans = {k: p for k, p in (("seamline", lb), ("oracle", o_lb), ("optimum", best)) if k in rates and p}
        model = {
            k: {
                m: 60.0 / c if 0 < c < float("inf") else 0.0
                for m, c in (
                    ("shares", cycle_of(p.plan, problem)),
                    ("lists", list_cycle(p, problem)),
                    ("carry", carry_cycle(p, problem)),
                )
            }
            for k, p in plans.items()
        }
        out[i] = FloorDay(rates["seamline"], rates.get("oracle"), rates["optimum"], best.plan.cycle_min, model)
    return out
