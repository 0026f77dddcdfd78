"""Past-period quality from the rollup table (issue #19): DHU, % defective and the defect Pareto of
days that left memory are read from ``quality_rollups`` and equal what a full in-memory replay of
the same store gives, across a restart mid-day, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient

from seamline.bootstrap import bootstrap, make_projections, replay_into
from seamline.domain.live import LiveState
from seamline.entrypoints.api import create_app
from seamline.roi.collect import collect
from seamline.roi.measure import measure
from seamline.service_layer.ingest import RawEvent
from tests.conftest import tiny_layout
from tests.foundation.helpers import CST, payload

DAY0 = datetime(2026, 11, 2, tzinfo=CST)  # a Monday
CODES = ("SKIP", "OPEN", "STAIN", "PUCKER")


def quality_day(day: datetime, d: int) -> list[bytes]:
    """W1 sews OP1 at S1, W2 inspects (OP2) at S2 and reports defects on OP1 (charged to W1), with
    a day-dependent mix of codes; two defects at one instant are one defective piece."""
    run = f"q{d}"
    b1, b2 = "O1-0001", "O1-0002"
    out = [
        payload("login", 0, day.replace(hour=8), worker="W1", id_=f"{run}-l1"),
        payload("login", 0, day.replace(hour=8), station="S2", worker="W2", id_=f"{run}-l2"),
    ]
    t = day.replace(hour=8, minute=5)
    for i in range(40):
        out.append(payload("piece", 1, t, bundle=b1 if i < 20 else b2, op="OP1", id_=f"{run}-p1-{i}"))
        t += timedelta(minutes=7)
    t = day.replace(hour=9)
    for i in range(20):
        out.append(payload("piece", 2, t, station="S2", bundle=b1, op="OP2", id_=f"{run}-p2-{i}"))
        t += timedelta(minutes=11)
    for j in range(1 + d % 3):
        at = day.replace(hour=10 + j, minute=15)
        code = CODES[(d + j) % len(CODES)]
        out.append(payload("defect", 3, at, station="S2", bundle=b1, op="OP1", defect=code, id_=f"{run}-d{j}"))
    at = day.replace(hour=14, minute=30)  # one garment, two defects
    out.append(payload("defect", 4, at, station="S2", bundle=b2, op="OP1", defect="OPEN", id_=f"{run}-dd1"))
    out.append(payload("defect", 5, at, station="S2", bundle=b2, op="OP1", defect="STAIN", id_=f"{run}-dd2"))
    out.append(payload("logout", 9, day.replace(hour=16), worker="W1", id_=f"{run}-o1"))
    out.append(payload("logout", 9, day.replace(hour=16), station="S2", worker="W2", id_=f"{run}-o2"))
    return sorted(out, key=lambda p: p.split(b'"ts": "')[1][:25])


def process(rt: Any, payloads: list[bytes]) -> None:
    for i in range(0, len(payloads), 20):
        rt.pipeline.process([RawEvent(payload=p, source="http") for p in payloads[i : i + 20]])


def checkpoint(rt: Any) -> None:
    with rt.pipeline.lock:
        rt.pipeline.catch_up()
        rt.keeper.checkpoint(rt.keeper.history.max_pos())


def quality_figures(projections: Any, days: int) -> dict[str, Any]:
    """Every past-period question the pages and the API ask: each day, each day of line L1, the
    whole history, and a span that starts inside one hour and straddles the window."""
    dhu = next(p for p in projections if p.name == "quality").dhu
    out: dict[str, Any] = {}
    for d in range(days):
        s, e = DAY0 + timedelta(days=d), DAY0 + timedelta(days=d + 1)
        out[f"day{d}"] = dhu.snapshot("f1", since=s, until=e).as_dict()
        out[f"day{d}-L1"] = dhu.snapshot("f1", since=s, until=e, line="L1").as_dict()
    out["all"] = dhu.snapshot("f1").as_dict()
    out["span"] = dhu.snapshot(
        "f1", since=DAY0.replace(hour=10, minute=30), until=DAY0 + timedelta(days=days)
    ).as_dict()
    return out


def test_past_dhu_from_rollups_equals_the_full_replay_across_a_restart(db_url):  # type: ignore[no-untyped-def]
    days = 6
    rt = bootstrap(db_url, start_worker=False, retain_days=1.0)
    rt.save_layout(tiny_layout())
    for d in range(days - 1):
        process(rt, quality_day(DAY0 + timedelta(days=d), d))
        checkpoint(rt)
    # A late defect for a day already out of memory (a bundle with no piece on record: charged to
    # the reporting station in both ways), summed into that day's rollup row at the next checkpoint.
    late = payload(
        "defect",
        7,
        DAY0.replace(hour=10, minute=20),
        station="S2",
        bundle="O1-0003",
        op="OP1",
        defect="SKIP",
        id_="late-1",
    )
    today = DAY0 + timedelta(days=days - 1)
    events = quality_day(today, days - 1)
    morning = [p for p in events if p.split(b'"ts": "')[1][:25].decode() < today.replace(hour=12).isoformat()]
    process(rt, [*morning, late])
    checkpoint(rt)
    process(rt, events[len(morning) : len(morning) + 5])  # after the checkpoint: the tail of the restart
    rt.close()

    rt2 = bootstrap(db_url, start_worker=False, retain_days=1.0)  # the restart, mid-day
    try:
        assert rt2.checkpoint_pos > 0 and rt2.replayed == 5
        process(rt2, events[len(morning) + 5 :])
        rt2.pipeline.catch_up()
        checkpoint(rt2)
        assert rt2.keeper is not None and rt2.keeper.history.count_quality_rollups() > 0
        dhu = rt2.projection("quality").dhu
        assert min(k[5] for k in dhu.hourly) >= DAY0 + timedelta(days=days - 3)  # old days left memory
        assert not any(d.ts < DAY0 + timedelta(days=days - 3) for d in dhu.defects)

        full = LiveState(rt2.layouts)  # the whole store replayed into memory, nothing evicted
        full_projections = make_projections(rt2.layouts, rt2.engine)
        replay_into(rt2.store, full, full_projections)
        full_dhu = next(p for p in full_projections if p.name == "quality").dhu
        assert min(k[5] for k in full_dhu.hourly) == DAY0.replace(hour=8)

        got, want = quality_figures(rt2.pipeline.projections, days), quality_figures(full_projections, days)
        assert got == want
        day0 = got["day0"]
        # day 0: 40 pieces of OP1 + 20 of OP2; 1 defect at 10:15, the late one, 2 at 14:30 (1 garment)
        assert day0["total"]["pieces"] == 60 and day0["total"]["defects"] == 4 and day0["total"]["defective"] == 3
        assert day0["worker"]["W1"]["defects"] == 3 and day0["worker"]["W2"]["defects"] == 1
        assert {r["code"]: r["defects"] for r in day0["pareto"]} == {"SKIP": 2, "OPEN": 1, "STAIN": 1}
        assert day0["operation"]["HEM:OP1"]["pieces"] == 40 and day0["station"]["S1"]["defects"] == 3
        assert got["all"]["total"]["pieces"] == 60 * days

        # ROI's quality figure (DHU from live state's defects and pieces) over the past days comes
        # from the hour rollups: the same blocks and DHU as the full replay.
        roi_got = collect(rt2.live, rt2.store, "f1", DAY0, today)
        roi_want = collect(full, rt2.store, "f1", DAY0, today)
        assert [(b.label, b.pieces, b.defects) for b in roi_got.blocks] == [
            (b.label, b.pieces, b.defects) for b in roi_want.blocks
        ]
        assert sum(b.defects for b in roi_got.blocks) > 0
        dhu_pct = measure(roi_got.blocks, Decimal(26)).metrics["dhu_pct"]
        assert dhu_pct is not None and dhu_pct == measure(roi_want.blocks, Decimal(26)).metrics["dhu_pct"]

        # The API answers a past day from the rollups too.
        client = TestClient(create_app(rt2))
        r = client.get(
            "/api/v1/quality/dhu",
            params={"since": DAY0.isoformat(), "until": (DAY0 + timedelta(days=1)).isoformat()},
        )
        assert r.status_code == 200 and r.json()["total"] == day0["total"] and r.json()["pareto"] == day0["pareto"]
    finally:
        rt2.close()


def test_a_store_upgraded_from_an_older_checkpoint_is_replayed_once_and_backfilled(db_url):  # type: ignore[no-untyped-def]
    """A checkpoint of the previous version (quality dropped its old hours without a rollup) is
    ignored at start-up: the whole store is replayed, which writes the quality rollups."""
    from sqlalchemy import update

    from seamline.adapters.tables_history import projection_checkpoints

    rt = bootstrap(db_url, start_worker=False, retain_days=1.0)
    rt.save_layout(tiny_layout())
    for d in range(4):
        process(rt, quality_day(DAY0 + timedelta(days=d), d))
        checkpoint(rt)
    want = quality_figures(rt.pipeline.projections, 4)
    with rt.engine.begin() as conn:  # what a store written by the previous release looks like
        conn.execute(update(projection_checkpoints).values(version="2"))
        conn.execute(projection_checkpoints.metadata.tables["quality_rollups"].delete())
    rt.close()
    rt2 = bootstrap(db_url, start_worker=False, retain_days=1.0)
    try:
        assert rt2.checkpoint_pos == 0 and rt2.replayed == rt2.store.count_events()
        checkpoint(rt2)
        assert rt2.keeper is not None and rt2.keeper.history.count_quality_rollups() > 0
        assert quality_figures(rt2.pipeline.projections, 4) == want
    finally:
        rt2.close()


def test_the_past_is_read_beside_the_ingest_lock_and_again_under_it_after_a_checkpoint(tmp_path):  # type: ignore[no-untyped-def]
    """Pages and the API sum memory under the ingest lock and read the rollup table outside it; if
    a checkpoint moved hours in between, they sum again under the lock (nothing counted twice)."""
    rt = bootstrap(f"sqlite:///{tmp_path}/b.db", start_worker=False, retain_days=1.0)
    try:
        rt.save_layout(tiny_layout())
        for d in range(3):
            process(rt, quality_day(DAY0 + timedelta(days=d), d))
            checkpoint(rt)
        dhu = rt.projection("quality").dhu
        history = rt.keeper.history
        want = dhu.snapshot("f1").as_dict()
        assert want["total"]["pieces"] == 180
        calls: list[bool] = []  # was the ingest lock free (for another thread) during each read?
        checkpoint_comes = [True]
        real = history.quality_sums

        def lock_is_free() -> bool:
            free: list[bool] = []

            def probe() -> None:
                got = rt.pipeline.lock.acquire(blocking=False)
                if got:
                    rt.pipeline.lock.release()
                free.append(got)

            t = threading.Thread(target=probe)
            t.start()
            t.join(5)
            return free[0]

        def sums(*args: Any) -> Any:
            calls.append(lock_is_free())
            if checkpoint_comes.pop() if checkpoint_comes else False:
                history._generation += 1  # a checkpoint came in while the table was read
            return real(*args)

        history.quality_sums = sums  # type: ignore[method-assign]
        got = dhu.snapshot_beside(rt.pipeline.lock, "f1").as_dict()
        assert got == want and calls == [True, False]  # beside the lock, then again under it
        calls.clear()
        assert dhu.snapshot_beside(rt.pipeline.lock, "f1").as_dict() == want and calls == [True]
    finally:
        rt.close()
