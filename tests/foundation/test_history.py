"""Cost that does not grow with history (issue #19): checkpoints + rollups give the full-replay
numbers, retention keeps memory flat as days pass, and a long silence walks no hours."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from datetime import datetime, timedelta
from pathlib import Path

import seamline.domain.live as live_mod
from seamline.bootstrap import bootstrap, make_projections, replay_into
from seamline.domain.cutting import cut_order
from seamline.domain.live import LiveState
from seamline.domain.model import Order
from seamline.service_layer.ingest import RawEvent
from seamline.web.board import floor_state
from seamline.web.plan import load_orders
from seamline.web.routes import SharedPages
from tests.conftest import tiny_layout
from tests.foundation.helpers import CST, payload, shift_of_one_worker

DAY0 = datetime(2026, 11, 2, tzinfo=CST)  # a Monday
SEAMLINE = str(Path(sys.executable).parent / "seamline")


def day_events(day: datetime, run: str) -> list[bytes]:
    """A day of both stations: pieces, a defect, machine states, a downtime, bundles in and out."""
    out = shift_of_one_worker(day, pieces=30, run=run)
    out += [
        payload("login", 0, day.replace(hour=8, minute=30), station="S2", worker="W2", id_=f"{run}-s2-login"),
        payload("bundle_in", 1, day.replace(hour=9), station="S2", bundle="O1-0002", id_=f"{run}-s2-bin"),
        payload(
            "piece",
            2,
            day.replace(hour=9, minute=5),
            station="S2",
            bundle="O1-0002",
            op="OP2",
            qty=5,
            id_=f"{run}-s2-p",
        ),
        payload(
            "defect",
            3,
            day.replace(hour=9, minute=6),
            station="S2",
            bundle="O1-0002",
            op="OP1",
            defect="SKIP",
            qty=1,
            id_=f"{run}-s2-d",
        ),
        payload("machine", 4, day.replace(hour=9, minute=10), station="S2", state="running", id_=f"{run}-s2-m1"),
        payload("downtime", 5, day.replace(hour=10), station="S2", reason="MECH", phase="start", id_=f"{run}-s2-dt1"),
        payload("machine", 6, day.replace(hour=10), station="S2", state="off", id_=f"{run}-s2-m2"),
        payload(
            "downtime",
            7,
            day.replace(hour=10, minute=40),
            station="S2",
            reason="MECH",
            phase="end",
            id_=f"{run}-s2-dt2",
        ),
        payload("machine", 8, day.replace(hour=10, minute=41), station="S2", state="running", id_=f"{run}-s2-m3"),
        payload("bundle_out", 9, day.replace(hour=11), station="S2", bundle="O1-0002", id_=f"{run}-s2-bout"),
        payload("logout", 10, day.replace(hour=15, minute=30), station="S2", worker="W2", id_=f"{run}-s2-logout"),
    ]
    return sorted(out, key=lambda p: p.split(b'"ts": "')[1][:25])


def process(rt, payloads):  # type: ignore[no-untyped-def]
    for i in range(0, len(payloads), 20):
        rt.pipeline.process([RawEvent(payload=p, source="http") for p in payloads[i : i + 20]])


def checkpoint(rt) -> None:  # type: ignore[no-untyped-def]
    """What the ingest worker does between batches when a checkpoint is due."""
    with rt.pipeline.lock:
        rt.pipeline.catch_up()
        rt.keeper.checkpoint(rt.keeper.history.max_pos())


def figures(live: LiveState, projections, start: datetime, end: datetime, as_of: datetime) -> dict:  # type: ignore[no-untyped-def]
    """What the pages and APIs show: today's line, every scope's efficiency per hour over the whole
    period, today's DHU and the orders' progress."""
    by = {p.name: p for p in projections}
    day_start, day_end = live.day_bounds("f1", as_of)
    return {
        "line_live": live.line_live("f1", "L1", as_of),
        **{
            scope: live.efficiency("f1", scope, start, end, as_of, hourly=True)
            for scope in ("worker", "station", "line", "factory")
        },
        "dhu_today": by["quality"].dhu.snapshot("f1", since=day_start, until=day_end).as_dict(),
        # the packed read models (quality's piece index, materials' bundle tracks) answer alike
        "bundles": [by["materials"].routing.bundle("f1", b, as_of) for b in ("O1-0001", "O1-0002")],
        "order_sewn": sorted(by["materials"].routing.order_sewn("f1", "O1").items()),
        "maker": by["quality"].dhu.maker_of("f1", "O1-0002", "OP2", as_of),
        "orders": dict(by["web.order_progress"].done),
        "earned": {k: round(v, 6) for k, v in by["web.order_progress"].earned_min.items()},
    }


def test_checkpoint_and_rollups_give_the_full_replay_numbers_across_a_restart_mid_day(db_url):
    days = 5
    rt = bootstrap(db_url, start_worker=False, retain_days=1.0)
    rt.save_layout(tiny_layout())
    for d in range(days):
        process(rt, day_events(DAY0 + timedelta(days=d), f"d{d}"))
        checkpoint(rt)
    today = DAY0 + timedelta(days=days)
    events = day_events(today, "today")
    noon = today.replace(hour=12)
    morning = [p for p in events if p.split(b'"ts": "')[1][:25].decode() < noon.isoformat()]
    process(rt, morning)
    checkpoint(rt)
    at_checkpoint = rt.store.count_events()
    process(rt, events[len(morning) : len(morning) + 3])  # after the checkpoint: replayed as the tail
    tail = rt.store.count_events() - at_checkpoint
    rt.close()

    rt2 = bootstrap(db_url, start_worker=False, retain_days=1.0)  # the restart, mid-day
    try:
        assert rt2.checkpoint_pos > 0 and tail > 0 and rt2.replayed == tail
        process(rt2, events[len(morning) + 3 :])
        rt2.pipeline.catch_up()
        assert rt2.keeper is not None and rt2.keeper.history.count_rollups() > 0
        horizon = rt2.live.horizon("f1")
        assert horizon is not None and horizon > DAY0 + timedelta(days=days - 2)  # old hours left memory

        full = LiveState(rt2.layouts)  # today's way: the whole store replayed into memory
        full_projections = make_projections(rt2.layouts, rt2.engine)
        replay_into(rt2.store, full, full_projections)
        assert full.horizon("f1") == DAY0.replace(hour=8)

        start, end, as_of = DAY0 - timedelta(days=1), today + timedelta(days=1), today.replace(hour=18)
        got = figures(rt2.live, rt2.pipeline.projections, start, end, as_of)
        want = figures(full, full_projections, start, end, as_of)
        assert got == want
        assert got["line"][0]["pieces"] == 35 * (days + 1)  # the old days are in, from the rollups
    finally:
        rt2.close()

    # `seamline rebuild` (the installed command) replays everything again and gives the same numbers.
    out = subprocess.run([SEAMLINE, "rebuild", "--db", db_url], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "已重建 / rebuilt" in out.stdout and "rebuilding" in out.stderr
    rt3 = bootstrap(db_url, start_worker=False, retain_days=1.0)
    try:
        assert rt3.replayed == 0 and rt3.checkpoint_pos == rt3.store.count_events()
        assert figures(rt3.live, rt3.pipeline.projections, start, end, as_of) == want
    finally:
        rt3.close()


def _sizes(rt) -> dict[str, int]:  # type: ignore[no-untyped-def]
    live = rt.live
    by = {p.name: p for p in rt.pipeline.projections}
    dhu = by["quality"].dhu
    return {
        "hours": sum(len(h) for h in live.buckets.values()),
        "hourly": len(live.hourly),
        "machine": len(live.machine_s),
        "dhu_hourly": len(dhu.hourly),
        "dhu_daily": len(dhu._daily),
        "dhu_made": sum(len(v) for v in dhu._made.values()),
        "dhu_defects": len(dhu.defects),
        "routing": len(by["materials"].routing.tracks),
        "learning_cells": len(by["learning"].state.cells),
    }


def test_retention_keeps_every_projection_flat_as_days_pass(db_url):
    rt = bootstrap(db_url, start_worker=False, retain_days=1.0)
    try:
        rt.save_layout(tiny_layout())
        sizes = []
        for d in range(6):
            process(rt, day_events(DAY0 + timedelta(days=d), f"r{d}"))
            checkpoint(rt)
            sizes.append(_sizes(rt))
        assert sizes[2]["hours"] > 0 and sizes[2]["dhu_made"] > 0
        assert sizes[2] == sizes[3] == sizes[4] == sizes[5]  # a day more of history, not a byte more
        assert rt.keeper is not None and rt.keeper.last_bytes > 0
    finally:
        rt.close()


def test_a_long_silence_walks_no_hours(monkeypatch):
    lay = tiny_layout()
    live = LiveState({"f1": lay})
    from seamline.domain.events import decode_event

    for p in (
        payload("machine", 1, DAY0.replace(hour=9), state="running"),
        payload("downtime", 2, DAY0.replace(hour=9), reason="MECH", phase="start"),
        payload("login", 3, DAY0.replace(hour=9), worker="W1"),
    ):
        ev = decode_event(p)
        live.apply(ev)
    walked = []
    real = live_mod.split_by_hour

    def counting(start, end, tz):  # type: ignore[no-untyped-def]
        out = real(start, end, tz)
        walked.append(len(out))
        return out

    monkeypatch.setattr(live_mod, "split_by_hour", counting)
    a_year_later = DAY0.replace(hour=12) + timedelta(days=365)
    day_start, day_end = live.day_bounds("f1", a_year_later)
    secs = live.machine_seconds("f1", "S1", day_start, day_end, a_year_later)
    assert secs["running"] == 12 * 3600.0
    assert live.downtime_seconds("f1", {"S1"}, day_start, day_end, a_year_later) == {"MECH": 12 * 3600.0}
    line = live.line_live("f1", "L1", a_year_later)
    assert line["stations"][0]["machine_s_today"]["running"] == 12 * 3600.0
    assert sum(walked) <= 4 * 25  # about a day's hours per query, not 8,760


def test_readers_of_one_page_share_one_computation():
    pages = SharedPages()
    calls = []
    gate = threading.Event()

    def compute() -> dict:  # type: ignore[type-arg]
        calls.append(1)
        gate.wait(2)
        return {"n": len(calls)}

    results = []
    threads = [
        threading.Thread(target=lambda: results.append(pages.get(("line", "L1", "en"), lambda: 7, compute, 1.0)))
        for _ in range(5)
    ]
    for th in threads:
        th.start()
    gate.set()
    for th in threads:
        th.join(5)
    assert len(calls) == 1 and results == [{"n": 1}] * 5
    assert pages.get(("line", "L1", "en"), lambda: 8, compute, 0.0) == {"n": 2}  # state changed: fresh


def test_checkpoint_survives_an_unknown_shape(db_url, tmp_path):
    """A checkpoint this build cannot read is ignored: the store is replayed, nothing is lost."""
    rt = bootstrap(db_url, start_worker=False, retain_days=1.0)
    rt.save_layout(tiny_layout())
    process(rt, day_events(DAY0, "x"))
    checkpoint(rt)
    rt.close()
    from sqlalchemy import update

    from seamline.adapters.db import make_engine
    from seamline.adapters.tables_history import projection_checkpoints

    eng = make_engine(db_url)
    with eng.begin() as conn:
        conn.execute(update(projection_checkpoints).values(state=b"not a pickle"))
    eng.dispose()
    rt2 = bootstrap(db_url, start_worker=False, retain_days=1.0)
    try:
        assert rt2.checkpoint_pos == 0 and rt2.replayed == rt2.store.count_events()
        assert rt2.live.efficiency("f1", "line", DAY0, DAY0 + timedelta(days=1))[0]["pieces"] == 35
    finally:
        rt2.close()
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_a_frozen_view_keeps_its_moment_while_ingest_goes_on():
    """Pages compute from a view taken under the lock; events applied afterwards (copy-on-write)
    do not change it, and the live state still gets them."""
    from seamline.domain.events import decode_event

    live = LiveState({"f1": tiny_layout()})
    events = [decode_event(p) for p in day_events(DAY0, "v")]
    for ev in events[:20]:
        ev.factory = "f1"
        live.apply(ev)
    as_of = DAY0.replace(hour=18)
    before = live.line_live("f1", "L1", as_of)
    view = live.frozen_view()
    for ev in events[20:]:
        ev.factory = "f1"
        live.apply(ev)
    assert view.line_live("f1", "L1", as_of) == before
    after = live.line_live("f1", "L1", as_of)
    assert after != before and after["today"]["pieces"] == 35


def _orders_layout():  # type: ignore[no-untyped-def]
    """The tiny line with a small order finished each day (D0…D3) and one left half sewn (DX)."""
    lay = tiny_layout()
    for oid in ("D0", "D1", "D2", "D3", "DX"):
        o = Order(id=oid, customer="ACME", style_code="HEM", quantities={("M", "Blue"): 10}, due=DAY0.date())
        lay.orders[oid] = o
        for b in cut_order(o, lay.styles["HEM"]):
            lay.bundles[b.id] = b
    return lay


def _order_events(day: datetime, d: int) -> list[bytes]:
    """Order D<d> sewn whole (OP1 then OP2, the final operation), and on day 0 half of DX."""
    at = day.replace
    out = [
        payload("piece", 50, at(hour=9, minute=30), bundle=f"D{d}-0001", op="OP1", qty=10, id_=f"o{d}-1"),
        payload("piece", 50, at(hour=10), station="S2", bundle=f"D{d}-0001", op="OP2", qty=10, id_=f"o{d}-2"),
    ]
    if d == 0:
        out.append(payload("piece", 51, at(hour=10, minute=30), bundle="DX-0001", op="OP1", qty=5, id_="ox-1"))
    return out


def _order_figures(rt_layouts, live, prog, as_of):  # type: ignore[no-untyped-def]
    """What the overview's plan and the planner's board are given, from a page's view."""
    lay = rt_layouts["f1"]
    view = prog.frozen_view()
    plans = [
        (p.order.id, p.line, p.done, round(p.remaining_sam_min, 6), p.start, p.finish, p.started)
        for lp in load_orders(lay, view, live, as_of)
        for p in lp.orders
    ]
    fl = floor_state(live, view, lay)
    earned = {oid: round(v, 6) for (f, oid), v in view.earned_min.items() if f == "f1"}
    for oid, r in view.finished("f1").items():
        earned[oid] = round(earned.get(oid, 0.0) + r.earned_min, 6)
    return {"done": view.done_of("f1"), "earned": earned, "plans": plans, "floor": (dict(fl.done), dict(fl.sewing_on))}


def test_finished_orders_leave_memory_and_pages_show_the_same_orders(db_url):
    rt = bootstrap(db_url, start_worker=False, retain_days=1.0)
    rt.save_layout(_orders_layout())
    prog = rt.projection("web.order_progress")
    for d in range(4):
        process(rt, day_events(DAY0 + timedelta(days=d), f"d{d}") + _order_events(DAY0 + timedelta(days=d), d))
        with rt.pipeline.lock:  # a page's view, taken before the checkpoint lets orders go
            rt.pipeline.catch_up()
            view = prog.frozen_view()
        before = view.done_of("f1")
        checkpoint(rt)
        # Neither counted twice nor lost, by the old view or a new one; a view is reused until a change.
        assert view.done_of("f1") == before == prog.frozen_view().done_of("f1")
        assert prog.frozen_view() is prog.frozen_view()
    # D0…D2 are finished and older than the window (a day before day 3's last event): gone from
    # memory, in the table.
    assert ("f1", "D0") not in prog.done and ("f1", "D2") not in prog.earned_min
    assert not any(oid in ("D0", "D1", "D2") for (_f, _l, oid) in prog.by_line)
    assert set(prog.finished("f1")) == {"D0", "D1", "D2"} and rt.keeper.history.count_finished_orders() == 3
    # The half-sewn one and the one finished within the window stay; so does O1 (not finished).
    assert ("f1", "DX") in prog.earned_min and ("f1", "D3") in prog.done and ("f1", "O1") in prog.earned_min
    rt.close()

    rt2 = bootstrap(db_url, start_worker=False, retain_days=1.0)  # restart: from the checkpoint
    try:
        # A late rework on D0 reopens it in memory; its figures add to the ones in the table.
        process(
            rt2,
            [
                payload(
                    "piece",
                    60,
                    DAY0 + timedelta(days=3, hours=11),
                    station="S2",
                    bundle="D0-0001",
                    op="OP2",
                    qty=1,
                    id_="rework-1",
                )
            ],
        )
        rt2.pipeline.catch_up()
        full = LiveState(rt2.layouts)
        full_projections = make_projections(rt2.layouts, rt2.engine)
        replay_into(rt2.store, full, full_projections)  # no retention: every order in memory
        full_prog = next(p for p in full_projections if p.name == "web.order_progress")
        as_of = DAY0 + timedelta(days=3, hours=18)
        prog2 = rt2.projection("web.order_progress")
        got = _order_figures(rt2.layouts, rt2.live, prog2, as_of)
        want = _order_figures(rt2.layouts, full, full_prog, as_of)
        assert got == want
        assert got["done"]["D0"] == 11 and got["floor"][1]["D0"] == "L1"
        assert {p[0] for p in got["plans"]} == {"DX", "O1"}  # the open orders only
        # Checkpointed again a day later, D0 leaves memory once more and its one row adds up.
        process(rt2, day_events(DAY0 + timedelta(days=5), "d5"))
        checkpoint(rt2)
        assert ("f1", "D0") not in prog2.done and prog2.finished("f1")["D0"].done == 11
        assert rt2.keeper.history.count_finished_orders() == 4  # D0…D3; DX and O1 are open
    finally:
        rt2.close()
