"""Run a controller against the simulated line and measure what comes out.

The loop steps the simulator from decision point to decision point (``Engine.run_until`` in
chunks gives exactly the stream of one long run), decodes the events it emitted, hands them to
the controller and applies its directives through the plant's levers (``sim.control``). The
measurements at the end read the simulator's truth; the controller never does.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from seamline.domain.events import BundleIn, Login, Logout, Piece, SensorEvent, decode_event, parse_topic
from seamline.domain.model import FactoryLayout, ShiftCalendar
from seamline.sim import SimConfig
from seamline.sim.control import install_balance, set_wip_cap, wip_bundles
from seamline.sim.engine import Engine

from .policy.protocol import Controller, Directive

# (topic, payload, ts, type): what the engine emits and the live publisher sends.
Item = tuple[str, bytes, datetime, str]

# The leader knows who is missing once the late-comers had their chance (the simulator's
# latecomers arrive within 20 minutes); the first decision of the day waits that long.
FIRST_DECISION_MIN = 30.0


@dataclass
class LoopResult:
    policy: str
    line: str
    output_pcs: int
    attended_h: float
    earned_min: float
    wip_mean_bundles: float
    order_lead_h: dict[str, float]  # order -> first bundle in → last bundle done, working hours
    order_qty: dict[str, int]
    # orders none of whose bundles was already under way when the run started (a bundle sewn in
    # the run at some operation but not at every first one was work in progress at the start):
    # for the others the lead from cut to packed is not observed, only the drain of what was left
    orders_cut_in_run: frozenset[str] = frozenset()
    decisions: list[dict[str, Any]] = field(default_factory=list)
    truth: dict[str, Any] = field(default_factory=dict)

    @property
    def output_per_attended_h(self) -> float:
        return self.output_pcs / self.attended_h if self.attended_h > 0 else 0.0

    @property
    def line_eff(self) -> float:
        return self.earned_min / (self.attended_h * 60.0) if self.attended_h > 0 else 0.0


def decode(emitted: list[tuple[str, bytes, datetime, str]]) -> list[SensorEvent]:
    out = []
    for topic, payload, _ts, _type in emitted:
        ev = decode_event(payload)
        ev.factory, ev.station = parse_topic(topic)
        out.append(ev)
    return out


def decision_times(eng: Engine, line_id: str, days: int, every_min: float) -> list[float]:
    """Seconds from the start: each workday's first decision, then every ``every_min`` to the
    shift end."""
    cal = eng.layout.calendar_for_line(line_id)
    out: list[float] = []
    day = eng.start.astimezone(cal.tz).date()
    seen = 0
    while seen < days:
        if day.weekday() in cal.workdays:
            seen += 1
            s = datetime.combine(day, cal.shift_start, cal.tz)
            e = datetime.combine(day, cal.shift_end, cal.tz)
            t = s + timedelta(minutes=FIRST_DECISION_MIN)
            while t < e:
                out.append(eng.sim_s(t))
                t += timedelta(minutes=every_min)
        day += timedelta(days=1)
    return [t for t in out if t >= 0]


def run_loop(
    layout: FactoryLayout,
    config: SimConfig,
    controller: Controller,
    line_id: str,
    *,
    days: int,
    every_min: float = 30.0,
    engine: Engine | None = None,
) -> LoopResult:
    """Run ``days`` working days of ``line_id`` under ``controller``; measure output, efficiency,
    WIP and order lead times."""
    eng = engine or Engine(layout, config)
    eng.dispatcher = controller.dispatch
    eng.order_priority = controller.order_priority
    times = decision_times(eng, line_id, days, every_min)
    cal = layout.calendar_for_line(line_id)
    end_day = eng.ts(times[-1]).astimezone(cal.tz).date() if times else eng.start.date()
    end_s = eng.sim_s(datetime.combine(end_day, cal.shift_end, cal.tz)) + 60.0
    events: list[SensorEvent] = []
    wip: list[int] = []
    for t in times:
        new = decode(eng.run_until(t))
        events.extend(new)
        controller.observe(new)
        wip.append(wip_bundles(eng, line_id))
        apply_directives(eng, controller.decide(eng.now_dt()))
    tail = decode(eng.run_until(end_s))
    events.extend(tail)
    controller.observe(tail)
    truth = eng.truth_dict()
    res = measure(layout, controller.name, line_id, events, truth, wip, cal)
    res.decisions = list(getattr(controller, "decisions", []))
    return res


def apply_directives(eng: Engine, directives: Sequence[Directive]) -> None:
    """Hand the controller's directives to the floor through the plant's levers."""
    for d in directives:
        install_balance(eng, d.line, d.style, d.balance)
        if d.wip_cap_bundles is not None:
            set_wip_cap(eng, d.line, d.wip_cap_bundles)


def controlled_stream(
    eng: Engine,
    controller: Controller,
    stop: threading.Event,
    *,
    every_min: float = 15.0,
    first_after_s: float = 60.0,
    chunk_s: float = 60.0,
    on_directives: Callable[[list[Directive], datetime], Sequence[Directive]] | None = None,
    outside: Callable[[datetime], Sequence[Directive]] | None = None,
) -> Iterator[Item]:
    """Endless events of a running engine under ``controller``: the live twin (the demo).

    Like ``sim.pacing.engine_stream`` (the engine ``chunk_s`` at a time), but the controller sees
    every event, picks each free station's next operation (``Engine.dispatcher``) and, every
    ``every_min`` of simulated time (the first ``first_after_s`` in, once the morning's logins are
    out), hands out its directives. A decision is taken when the consumer asks for the event after
    the last one before it, i.e. once everything up to the decision was published; the floor
    follows it from that moment. ``on_directives`` (the demo's record of them) is told then and
    returns what the floor gets (the demo: the same, with the tablets' work for idle hands).
    ``outside`` gives directives from elsewhere at each decision (a supervisor's accepted move),
    applied after the controller's.
    """
    eng.dispatcher = controller.dispatch
    eng.order_priority = controller.order_priority
    t = eng.env.now
    due = t + first_after_s
    while not stop.is_set():
        t = min(t + chunk_s, due)
        out = eng.run_until(t)
        controller.observe(decode(out))
        yield from out
        if t >= due and not stop.is_set():
            now = eng.now_dt()
            ds: Sequence[Directive] = controller.decide(now)
            if on_directives is not None and ds:
                ds = on_directives(list(ds), now)
            apply_directives(eng, ds)
            if outside is not None:
                apply_directives(eng, outside(now))
            due += every_min * 60.0


def measure(
    layout: FactoryLayout,
    policy: str,
    line_id: str,
    events: list[SensorEvent],
    truth: dict[str, Any],
    wip: list[int],
    cal: ShiftCalendar,
) -> LoopResult:
    # Attended time: login → logout per station, breaks taken out.
    attended_s = 0.0
    since: dict[str, datetime] = {}
    first_in: dict[str, datetime] = {}
    sewn_first: dict[str, set[str]] = {}  # bundle -> first operations (no predecessors) sewn in the run
    firsts = {code: {o.code for o in s.operations if not o.predecessors} for code, s in layout.styles.items()}
    for ev in events:
        sid = ev.station or ""
        if isinstance(ev, Login):
            since[sid] = ev.ts
        elif isinstance(ev, Logout) and sid in since:
            a = since.pop(sid)
            attended_s += (ev.ts - a).total_seconds() - cal.break_seconds(a, ev.ts)
        elif isinstance(ev, BundleIn):
            b = layout.bundles.get(ev.bundle)
            if b is not None and b.order_id not in first_in:
                first_in[b.order_id] = ev.ts
        elif isinstance(ev, Piece):
            st = layout.style_of_bundle(ev.bundle)
            seen = sewn_first.setdefault(ev.bundle, set())
            if st is not None and ev.op in firsts[st.code]:
                seen.add(ev.op)
    sam = {(code, o.code): o.sam_min for code, s in layout.styles.items() for o in s.operations}
    earned = sum(r["pieces"] * sam.get((r["style"], r["op"]), 0.0) for r in truth["piece_counts"])
    done_qty: dict[str, int] = {}
    last: dict[str, datetime] = {}
    for b in truth["bundles_done"]:
        done_qty[b["order"]] = done_qty.get(b["order"], 0) + b["qty"]
        end = datetime.fromisoformat(b["end"])
        if b["order"] not in last or end > last[b["order"]]:
            last[b["order"]] = end
    lead: dict[str, float] = {}
    qty: dict[str, int] = {}
    for oid, o in layout.orders.items():
        qty[oid] = o.quantity
        if done_qty.get(oid, 0) >= o.quantity and oid in first_in:
            lead[oid] = working_hours(cal, first_in[oid], last[oid])
    output = sum(b["qty"] for b in truth["bundles_done"] if b["line"] == line_id)
    under_way: set[str] = set()  # orders with a bundle in progress at the start
    for bid, seen in sewn_first.items():
        st = layout.style_of_bundle(bid)
        if st is not None and seen != firsts[st.code]:
            under_way.add(layout.bundles[bid].order_id)
    cut_in_run = frozenset(o for o in layout.orders if o not in under_way)
    return LoopResult(
        policy=policy,
        line=line_id,
        output_pcs=output,
        attended_h=attended_s / 3600.0,
        earned_min=earned,
        wip_mean_bundles=sum(wip) / len(wip) if wip else math.nan,
        order_lead_h=lead,
        order_qty=qty,
        orders_cut_in_run=cut_in_run,
        truth=truth,
    )


def working_hours(cal: ShiftCalendar, a: datetime, b: datetime) -> float:
    """Shift hours between ``a`` and ``b`` (nights, rest days and breaks do not count)."""
    total = 0.0
    day = a.astimezone(cal.tz).date()
    last = b.astimezone(cal.tz).date()
    while day <= last:
        if day.weekday() in cal.workdays:
            s = max(a, datetime.combine(day, cal.shift_start, cal.tz))
            e = min(b, datetime.combine(day, cal.shift_end, cal.tz))
            if e > s:
                total += (e - s).total_seconds() - cal.break_seconds(s, e)
        day += timedelta(days=1)
    return total / 3600.0
