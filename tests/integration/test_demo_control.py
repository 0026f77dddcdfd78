"""The demo's floor follows seamline: its balances become the lines' directives, the simulated
stations sew what those say, and a move a person accepts reaches the floor."""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from seamline.adapters.directive_store import Directive as StoredDirective
from seamline.adapters.layout_files import load_factory
from seamline.bootstrap import Runtime, bootstrap
from seamline.domain.model import FactoryLayout
from seamline.entrypoints.demo_control import DEMO_BY, DemoControl
from seamline.service_layer.line_direction import director
from seamline.sim import SimConfig
from seamline.sim.control import line_of
from seamline.sim.engine import Engine

ROOT = Path(__file__).resolve().parents[2]
MONDAY = datetime(2026, 11, 30, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture()
def rt(tmp_path: Path) -> Runtime:
    r = bootstrap(f"sqlite:///{tmp_path}/demo.db")
    r.save_layout(load_factory(ROOT / "examples" / "factory"))
    yield r
    r.close()


def _run(ctl: DemoControl, eng: Engine, hours: float) -> int:
    stop = threading.Event()
    n = 0
    for _topic, _payload, ts, _type in ctl.stream(eng, stop):
        n += 1
        if eng.sim_s(ts) > hours * 3600.0:
            break
    stop.set()
    return n


def test_the_floor_sews_what_the_stored_directives_say(rt: Runtime) -> None:
    layout: FactoryLayout = next(iter(rt.layouts.values()))
    cfg = SimConfig(seed=2, start=MONDAY, record_pieces=False, preload_wip_bundles_per_station=1.5)
    eng = Engine(layout, cfg)
    ctl = DemoControl(layout, director(rt).store)
    assert _run(ctl, eng, 1.0) > 1000
    assert eng.dispatcher is not None  # the policy picks each free station's next bundle
    assert ctl.stored >= len(layout.lines)
    for line in sorted(layout.lines):
        ds = ctl.store.since(layout.factory.id, line, MONDAY)
        assert ds and all(d.accepted_by == DEMO_BY for d in ds), line
        last = ds[-1]
        lb = ctl.policy.state[line].balance
        assert lb is not None and last.style == ctl.policy.state[line].style
        # The stored assignment is the policy's balance, worker by worker ...
        assert {b: set(sh) for b, sh in last.assignment} == {
            b: {a.op_code for a in lb.plan.assignments if a.badge == b} for b in lb.station_of
        }
        # ... and the simulated line's run of that style has exactly that station -> operations list.
        sim_line = line_of(eng, line)
        current = min(s.run_idx for s in sim_line.stations)  # runs before it are sewn and done
        run = next(r for r in sim_line.runs[current:] if r.style.code == last.style)
        # a station that has changed over to a later run is done with this one (the tail of an order)
        moved_on = {s.id for s in sim_line.stations if s.run_idx > run.index}
        got = {sid: sorted(ops) for sid, ops in run.balance.items() if ops}
        style = layout.styles[last.style]
        trials = ctl.policy.state[line].trials  # a trial's operation rides beside the plan
        for badge, sh in last.assignment:
            sid = lb.station_of[badge]
            if sid in moved_on:  # it took its share of this run before it changed over
                continue
            if sh:
                assert got.get(sid) == sorted({*sh, *trials.get(sid, ())}), (line, sid)
            else:  # no work in the plan: she sews what her tablet offers, her machine's operations
                mt = layout.stations[sid].machine_type
                able = sorted({*(o.code for o in style.operations if o.machine_type == mt), *trials.get(sid, ())})
                assert got.get(sid, []) == able, (line, sid)


def test_a_move_a_person_accepts_reaches_the_floor(rt: Runtime) -> None:
    layout: FactoryLayout = next(iter(rt.layouts.values()))
    eng = Engine(layout, SimConfig(seed=3, start=MONDAY, record_pieces=False, preload_wip_bundles_per_station=1.5))
    ctl = DemoControl(layout, director(rt).store)
    _run(ctl, eng, 0.5)
    line = "L4"
    mine = ctl.store.since(layout.factory.id, line, MONDAY)[-1]
    # The supervisor gives the first worker the second one's operations as well (as the one-tap
    # accept of a suggested move stores it: a full assignment).
    busy = [(b, sh) for b, sh in mine.assignment if sh]
    (b1, sh1), (_b2, sh2) = busy[0], busy[1]
    moved = {**sh1, **sh2}
    assignment = tuple((b, moved if b == b1 else sh) for b, sh in mine.assignment)
    by_hand = StoredDirective(
        0, layout.factory.id, line, mine.style, b1, None, next(iter(sh2)), 1.0, 10.0, 11.0, assignment,
        "组长 / leader", eng.now_dt(),
    )  # fmt: skip
    ctl.store.add(by_hand)
    ds = ctl.accepted(eng.now_dt())
    assert len(ds) == 1 and ctl.followed == 1
    station = ctl.policy.floor.present(line)
    sid = next(s for s, b in station.items() if b == b1)
    assert set(ds[0].balance[sid]) == set(moved)
    assert ctl.accepted(eng.now_dt()) == []  # handed out once
    # Through the stream: at the next decision point the floor takes it.
    _run(ctl, eng, 1.0)
    run = next(r for r in line_of(eng, line).runs if r.style.code == mine.style)
    assert set(run.balance[sid]) >= set(moved) or ctl.policy.state[line].rebalances_today > 0


def test_a_station_without_work_of_its_own_takes_what_its_tablet_offers() -> None:
    """``Engine.helper``: with the demo's rule a station whose operations have no bundle takes
    another operation of its machine type (tablet: "本工序暂无扎：可做 X"); without it, it waits."""
    from seamline.entrypoints.demo_control import take_other_for
    from seamline.sim.control import install_balance

    layout = load_factory(ROOT / "examples" / "factory")

    def sewn_at_x(helper: object) -> tuple[str, set[str], set[str]]:
        eng = Engine(layout, SimConfig(seed=4, start=MONDAY, preload_wip_bundles_per_station=1.5))
        eng.helper = helper  # type: ignore[assignment]
        run = line_of(eng, "L1").runs[0]
        types = {sid: layout.stations[sid].machine_type for sid in run.balance}
        x = next(s for s, ops in sorted(run.balance.items()) if ops and sum(t == types[s] for t in types.values()) > 2)
        y = next(s for s in sorted(run.balance) if s != x and types[s] == types[x] and run.balance[s])
        bal = {s: list(ops) for s, ops in run.balance.items() if s != x}
        bal[y] = bal[y] + [c for c in run.balance[x] if c not in bal[y]]
        eng.run_until(60.0)
        install_balance(eng, "L1", run.style.code, bal)
        eng.run_until(1800.0)  # the bundle in hand is done
        start = len(eng.truth.pieces)
        eng.run_until(5400.0)
        ops = {r[4] for r in eng.truth.pieces[start:] if r[2] == x}
        mine = {o.code for o in run.style.operations if o.machine_type == types[x]}
        return x, ops, mine

    x, waiting, _ = sewn_at_x(None)
    assert waiting == set(), (x, waiting)
    x2, helping, of_type = sewn_at_x(take_other_for(layout))
    assert x2 == x and helping and helping <= of_type, (x, helping, of_type)


def test_the_demo_explores_and_its_tablets_show_the_trials_the_floor_sews(rt: Runtime) -> None:
    """Exploration on the demo's floor, end to end: the policy's trials are stored as handed out
    (the line page lists them), the simulated floor gets the same balance with each trial's
    operation beside the plan, the bottleneck never tries, a trial's pieces are ordinary events
    (ingested, learned like any work), the tablets show a trial only for a pair being tried, and
    the demo still packs garments in its first hour."""
    from seamline.service_layer.ingest import RawEvent
    from seamline.twin.loop import decode

    layout: FactoryLayout = next(iter(rt.layouts.values()))
    f = layout.factory.id
    eng = Engine(layout, SimConfig(seed=2, start=MONDAY, record_pieces=False, preload_wip_bundles_per_station=1.5))
    dr = director(rt)
    ctl = DemoControl(layout, dr.store)
    assert ctl.policy.explore
    stop = threading.Event()
    items: list[tuple[str, bytes, datetime, str]] = []
    stream = ctl.stream(eng, stop)

    def run_to(sim_s: float) -> None:
        for item in stream:
            items.append(item)
            if eng.sim_s(item[2]) > sim_s:
                return

    def ingest(batch: list[tuple[str, bytes, datetime, str]]) -> None:
        for i in range(0, len(batch), 4000):
            raws = [RawEvent(payload=p, source="mqtt", topic=t) for t, p, _ts, _ty in batch[i : i + 4000]]
            assert rt.worker.submit_future(raws).result(60).accepted == len(raws)

    run_to(3600.0)
    assert ctl.trials_started > 0
    ingest(items)
    # first garments within the first hour: some order has packed pieces
    assert sum(ctl.policy.packed.values()) > 0

    tried: set[tuple[str, str, str]] = set()  # (badge, style, op) ever handed out as a trial
    for x in ctl.policy.decisions:
        if x.get("reason") == "explore":
            tried |= {(x["workers"][s], x["style"], ops[0]) for s, ops in x["trials"].items()}
    assert tried
    day_start = MONDAY.replace(hour=0)

    def check_lines() -> int:
        """The floor's state now against the store and the tablets; the trials the tablets show."""
        shown = 0
        for line in sorted(layout.lines):
            ls = ctl.policy.state[line]
            present = ctl.policy.floor.present(line)
            stored = {(t.badge, t.station, t.op_code) for t in ctl.trial_store.running(f, line, day_start)}  # type: ignore[union-attr]
            assert stored == {(present[s], s, ops[0]) for s, ops in ls.trials.items()}, line
            lb = ls.balance
            assert lb is not None and lb.plan.bottleneck not in {b for b, _s, _o in stored}, (
                line
            )  # never the bottleneck
            # one path: the simulated line's run of this style has each trial's operation beside the plan
            sim_line = line_of(eng, line)
            run = next(
                r for r in sim_line.runs[min(s.run_idx for s in sim_line.stations) :] if r.style.code == ls.style
            )
            for _badge, sid, op in stored:
                assert op in run.balance.get(sid, ()), (line, sid, op)
            # the tablets: a trial shown is one handed out to the worker at that station, apart from her own next task
            for sid, d in dr.directions(layout, rt.live, line, day_start).items():
                if d.trial is not None:
                    assert (d.worker, sid, d.trial.op_code) in stored, (line, sid)
                    assert d.trial.op_code not in d.assigned
                    shown += 1
        return shown

    # A tablet shows a trial only while a bundle of its operation is ready that no station's own
    # next task took, so at one instant few do (1–4 of 120 in the demo); look every 10 minutes of
    # the morning until one does, checking the rest at every look.
    at, shown = 3600.0, check_lines()
    while not shown and at < 3 * 3600.0:
        at += 600.0
        n = len(items)
        run_to(at)
        ingest(items[n:])
        shown = check_lines()
    stop.set()
    assert shown > 0
    # a trial's pieces are ordinary events: ingested, and learned like any other work
    pieces = {(ev.station, ev.op) for ev in decode(items) if type(ev).__name__ == "Piece"}
    worked = {(b, s, o) for b, s, o in tried if ctl.policy.learning.cells.get((f, b, s, o)) is not None}
    assert worked, "no trial was sewn"
    station_of = {b: sid for line in layout.lines for sid, b in ctl.policy.floor.present(line).items()}
    assert any((station_of.get(b), o) in pieces for b, _s, o in worked)
    learning = rt.projection("learning")
    assert learning is not None
    ests = {(e.worker, e.op) for line in layout.lines for e in learning.estimates_beside(rt.pipeline.lock, f, line)}
    assert any((b, o) in ests for b, _s, o in worked)
