"""The overview's order plan on the work clock: the same plan as walking the days, reused while
only the time passes, and the planner's order states (hold / cancel / close) taken out of it."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest

from seamline.adapters.layout_files import load_factory
from seamline.domain.events import Piece
from seamline.domain.live import LiveState
from seamline.domain.model import FactoryLayout, ShiftCalendar
from seamline.web import plan as pl
from seamline.web.progress import OrderProgress

FACTORY = Path(__file__).resolve().parents[2] / "examples" / "factory"


def reference_plan(
    layout: FactoryLayout, progress: OrderProgress, live: LiveState, now: datetime
) -> list[pl.OrderPlan]:
    """The plan as it was computed before the work clock: every order walks the days from where
    the previous one ended (``pl.advance``). Kept here as the yardstick."""
    f = layout.factory.id
    rates = {}
    for lid, line in sorted(layout.lines.items()):
        ops = pl.line_operators(layout, lid)
        rates[lid] = ops * line.target_efficiency_pct / 100.0
    ran: dict[str, set[str]] = defaultdict(set)
    for pf, style_code, lid in progress.ran:
        if pf == f:
            ran[style_code].add(lid)
    for (pf, lid), style_code in live.line_style.items():
        if pf == f:
            ran[style_code].add(lid)
    on_lines: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for (pf, lid, oid), lo in progress.by_line.items():
        if pf == f:
            on_lines[oid].append((lo.earned_min, lid))
    states = progress.order_states(f)
    plans = []
    for o in layout.orders.values():
        if states.get(o.id, "open") != "open":
            continue
        style = layout.styles[o.style_code]
        remaining = o.quantity * style.sam_min - progress.earned_min.get((f, o.id), 0.0)
        if remaining <= 0:
            continue
        p = pl.OrderPlan(o, style.sam_min, progress.done.get((f, o.id), 0), remaining)
        on = on_lines.get(o.id)
        if on:
            p.line, p.started = max(on)[1], True
        plans.append(p)
    plans.sort(key=lambda p: (not p.started, p.order.due, -p.order.priority, p.order.id))
    free_at = {lid: now for lid in rates}
    for p in plans:
        if p.line is None:
            cands = sorted(ran.get(p.order.style_code, set())) or list(rates)
            p.line = min(cands, key=lambda lid: (free_at[lid], lid))
        p.start = free_at[p.line]
        p.finish = pl.advance(layout.calendar_for_line(p.line), p.start, p.remaining_sam_min / rates[p.line])
        free_at[p.line] = p.finish
    return sorted(plans, key=lambda p: (p.line or "", plans.index(p)))


def _sample(extra_weeks: int = 3) -> FactoryLayout:
    """The sample factory with its orders again for later weeks (as bench/_history_store.py)."""
    base = load_factory(FACTORY)
    lay = dataclasses.replace(base, orders=dict(base.orders), bundles=dict(base.bundles))
    for k in range(1, extra_weeks + 1):
        for o in base.orders.values():
            lay.orders[f"{o.id}-w{k}"] = dataclasses.replace(o, id=f"{o.id}-w{k}", due=o.due + timedelta(weeks=k))
    return lay


def _progress(lay: FactoryLayout) -> OrderProgress:
    """Some orders under way on some lines (pieces at each order's first bundle)."""
    prog = OrderProgress({lay.factory.id: lay})
    st_by_line = {}
    for s in sorted(lay.stations.values(), key=lambda s: s.id):
        st_by_line.setdefault(s.line_id, s)
    bundles = {}
    for b in lay.bundles.values():
        bundles.setdefault(b.order_id, b)
    tz = lay.factory.tz
    t0 = datetime.combine(min(o.due for o in lay.orders.values()) - timedelta(days=6), time(9), tz)
    for i, (oid, b) in enumerate(sorted(bundles.items())[:5]):
        style = lay.styles[lay.orders[oid].style_code]
        line = sorted(st_by_line)[i % len(st_by_line)]
        for op in style.operations:
            prog.apply(
                Piece(
                    id=f"p{i}{op.code}",
                    seq=i,
                    ts=t0,
                    factory=lay.factory.id,
                    station=st_by_line[line].id,
                    bundle=b.id,
                    op=op.code,
                    qty=b.qty * (i + 1),
                )
            )
    return prog


def _nows(lay: FactoryLayout) -> list[datetime]:
    tz = lay.factory.tz
    first_due = min(o.due for o in lay.orders.values())
    t = datetime.combine(first_due - timedelta(days=4), time(6), tz)
    return [t + timedelta(minutes=97 * k) for k in range(120)]  # days, nights, breaks, a Sunday, due dates


def _same(a: list[pl.OrderPlan], b: list[pl.OrderPlan], lay: FactoryLayout, now: datetime) -> None:
    assert [(p.order.id, p.line, p.started) for p in a] == [(p.order.id, p.line, p.started) for p in b]
    for x, y in zip(a, b, strict=True):
        assert x.finish is not None and y.finish is not None
        assert abs((x.finish - y.finish).total_seconds()) < 0.01, x.order.id  # µs sums vs float walks
        assert pl.at_risk(lay, x) == pl.at_risk(lay, y)
        cal = lay.calendar_for_line(y.line or "")
        rate = pl.line_operators(lay, y.line or "") * lay.lines[y.line or ""].target_efficiency_pct / 100.0
        want = rate * pl.working_minutes(cal, now, pl.due_end(cal, y.order.due))
        assert x.capacity_until_due_min == pytest.approx(want)


@pytest.mark.parametrize("calendars", ["shared", "per_line"])
def test_the_plan_is_the_walking_plan_at_every_moment(calendars: str) -> None:
    lay = _sample()
    if calendars == "per_line":  # L2 on a later shift: the layout depends on the time then
        late = ShiftCalendar(id="late", timezone=lay.factory.timezone, shift_start=time(10), shift_end=time(20))
        lay.calendars["late"] = late
        lay.lines["L2"] = dataclasses.replace(lay.lines["L2"], calendar_id="late")
    prog = _progress(lay)
    live = LiveState({lay.factory.id: lay})
    risky_seen = 0
    for now in _nows(lay):
        new = [p for lp in pl.load_orders(lay, prog, live, now) for p in lp.orders]
        ref = reference_plan(lay, prog, live, now)
        _same(new, ref, lay, now)
        at_risk = pl.orders_at_risk(lay, prog, live, now)
        assert [p.order.id for p in at_risk] == [p.order.id for p in ref if pl.at_risk(lay, p)]
        risky_seen += len(at_risk)
    assert risky_seen > 0  # the moments cross due dates: the at-risk rows are exercised


def test_a_plan_only_time_moved_is_reused_and_a_piece_of_a_planned_order_lays_it_out_again() -> None:
    lay = _sample()
    prog = _progress(lay)
    live = LiveState({lay.factory.id: lay})
    now = _nows(lay)[10]
    book = pl.order_book(lay, prog, live, now)
    assert pl.order_book(lay, prog, live, now + timedelta(minutes=5)) is book  # time only
    started = next(s for s in book.slots if s.started)
    bundle = next(b for b in lay.bundles.values() if b.order_id == started.order.id)
    station = next(s for s in lay.stations.values() if s.line_id == started.line)
    op = lay.styles[started.order.style_code].operations[0]
    prog.apply(
        Piece(
            id="more", seq=99, ts=now, factory=lay.factory.id, station=station.id, bundle=bundle.id, op=op.code, qty=3
        )
    )
    again = pl.order_book(lay, prog, live, now)
    assert again is not book
    assert next(s for s in again.slots if s.order.id == started.order.id).remaining_sam_min < started.remaining_sam_min


def test_held_cancelled_and_closed_orders_are_not_planned_and_reopened_ones_are() -> None:
    lay = _sample(extra_weeks=1)
    prog = _progress(lay)
    live = LiveState({lay.factory.id: lay})
    now = _nows(lay)[3]
    all_ids = [p.order.id for lp in pl.load_orders(lay, prog, live, now) for p in lp.orders]
    held, cancelled, closed = all_ids[0], all_ids[1], all_ids[-1]

    class States:
        generation = 1

        def __init__(self, m: dict[str, str]) -> None:
            self.m = m

        def current(self, factory: str) -> dict[str, str]:
            return self.m

        def poll(self, force: bool = False) -> bool:
            return False

    prog.bind_states(States({held: "hold", cancelled: "cancelled", closed: "closed"}))
    ids = [p.order.id for lp in pl.load_orders(lay, prog, live, now) for p in lp.orders]
    assert set(all_ids) - set(ids) == {held, cancelled, closed}
    ref = reference_plan(lay, prog, live, now)
    _same([p for lp in pl.load_orders(lay, prog, live, now) for p in lp.orders], ref, lay, now)
    prog.bind_states(States({held: "hold"}))  # the others reopened
    ids = [p.order.id for lp in pl.load_orders(lay, prog, live, now) for p in lp.orders]
    assert set(all_ids) - set(ids) == {held}


def test_a_piece_of_an_order_outside_the_plan_costs_no_new_layout() -> None:
    """As in bench/history.py: pieces of an order that is not planned (here cancelled) change order
    progress but not the plan, which is reused; the untouched open orders are not walked again."""
    lay = _sample()
    prog = _progress(lay)
    live = LiveState({lay.factory.id: lay})
    now = _nows(lay)[10]
    started = next(s for s in pl.order_book(lay, prog, live, now).slots if s.started)

    class States:
        generation = 1

        def current(self, factory: str) -> dict[str, str]:
            return {started.order.id: "cancelled"}

        def poll(self, force: bool = False) -> bool:
            return False

    states = States.current(States(), "")
    prog.bind_states(States())
    prog.order_states = lambda f: states  # type: ignore[method-assign]  # one mapping object, as OrderStates keeps
    book = pl.order_book(lay, prog, live, now)
    assert started.order.id not in {s.order.id for s in book.slots}
    bundle = next(b for b in lay.bundles.values() if b.order_id == started.order.id)
    station = next(s for s in lay.stations.values() if s.line_id == started.line)
    op = lay.styles[started.order.style_code].operations[0]
    prog.apply(
        Piece(id="x", seq=98, ts=now, factory=lay.factory.id, station=station.id, bundle=bundle.id, op=op.code, qty=1)
    )
    assert pl.order_book(lay, prog, live, now + timedelta(seconds=1)) is book


def test_the_work_clock_counts_shift_minus_breaks_and_ends_exact_work_at_the_window_end() -> None:
    from seamline.planning.work_clock import US_PER_MIN

    from .factory import CAL, at

    c = pl.CLOCKS.of(CAL, at(8))
    assert c.pos(at(17)) - c.pos(at(8)) == 480 * US_PER_MIN  # 8-12 and 13-17
    assert c.pos(at(12, 30)) == c.pos(at(12)) == c.pos(at(13))  # lunch adds nothing
    assert c.at(c.pos(at(11)) + 60 * US_PER_MIN) == at(12)  # work that fills the morning ends at 12, not 13
    assert c.at(c.pos(at(11)) + 60 * US_PER_MIN + 1) > at(13)
    for t in (at(9, 17), at(16, 59)):
        assert c.at(c.pos(t)) == t
    assert c.at(c.pos(at(16)) + 120 * US_PER_MIN) == pl.advance(CAL, at(16), 120)  # over the night
