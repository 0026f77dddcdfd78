"""Every read model keeps to its retention rule (issue #19; the rules are listed in
docs/data-model.md, "Retention, read model by read model").

One store of the same few stations is run for 30 days with a one-day window; each read model's
in-memory size (every element of every dict, list, set, deque and array it holds, counted
recursively) is taken after the 10th and after the 30th day: twenty more days of history must not
add one element. Each day's bundles are new ones, and each day a small order is sewn whole, so
anything keyed by bundle, order or day that is never dropped shows here.
"""

from __future__ import annotations

from array import array
from collections import deque
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import Engine

from seamline.adapters.history import HistoryStore
from seamline.bootstrap import bootstrap
from seamline.domain.cutting import cut_order
from seamline.domain.model import FactoryLayout, Line, Operation, Order, Station, Style, Worker
from seamline.learning import sensor_only, signature
from seamline.learning import state as learning_state
from seamline.service_layer import counting
from seamline.service_layer.ingest import RawEvent
from tests.conftest import tiny_layout
from tests.foundation.helpers import CST, payload

DAY0 = datetime(2026, 11, 2, tzinfo=CST)  # a Monday
DAYS = 30
_ATOMS = (str, bytes, int, float, bool, Decimal, datetime, date, timedelta, tzinfo, Enum, type(None))


def layout() -> FactoryLayout:
    """The tiny line with an order big enough for two new bundles a day, and a third operation
    sewn at a sensor-only station (S3: motor bursts, no tablet)."""
    lay = tiny_layout()
    hem = lay.styles["HEM"]
    op3 = Operation("OP3", "缝商标", "sew label", 0.4, "SNLS", predecessors=("OP1",))
    lay.styles["HEM"] = Style(hem.code, hem.name_zh, hem.name_en, (*hem.operations, op3), hem.bundle_size)
    lay.stations["S3"] = Station("S3", "f1", "L1", "SEN3", "SNLS", 3)
    lay.workers["W3"] = Worker("W3", "张伟", "L1", {"SNLS": 3})
    # S4 on a second line scans OP3 with a motor sensor: what teaches OP3's burst signature.
    lay.lines["L2"] = Line(id="L2", factory_id="f1", name="Line 2", calendar_id="day", target_efficiency_pct=60)
    lay.stations["S4"] = Station("S4", "f1", "L2", "SEN4", "SNLS", 1)
    lay.workers["W4"] = Worker("W4", "赵敏", "L2", {"SNLS": 3})
    old = lay.orders["O1"]
    order = Order(id="O1", customer=old.customer, style_code="HEM", quantities={("M", "Blue"): 100 * DAYS}, due=old.due)
    lay.orders["O1"] = order
    lay.bundles.clear()
    for b in cut_order(order, lay.styles["HEM"]):
        lay.bundles[b.id] = b
    # A small order a day, sewn whole that day: finished orders must leave order progress.
    for d in range(DAYS):
        small = Order(id=f"D{d}", customer="ACME", style_code="HEM", quantities={("M", "Blue"): 10}, due=old.due)
        lay.orders[small.id] = small
        for b in cut_order(small, lay.styles["HEM"]):
            lay.bundles[b.id] = b
    return lay


def day_events(day: datetime, d: int) -> list[bytes]:
    """Scans, pieces, defects, machine states, a downtime, a pressed "waiting for work" and motor
    bursts, on each day's own two bundles."""
    run = f"a{d}"
    b1, b2 = f"O1-{2 * d + 1:04d}", f"O1-{2 * d + 2:04d}"
    at = day.replace
    out = [
        payload("login", 0, at(hour=8), worker="W1", id_=f"{run}-l1"),
        payload("login", 0, at(hour=8), station="S2", worker="W2", id_=f"{run}-l2"),
        payload("login", 0, at(hour=8), station="S3", worker="W3", id_=f"{run}-l3"),
        payload("login", 0, at(hour=8), station="S4", worker="W4", id_=f"{run}-l4"),
        payload("machine", 0, at(hour=8, minute=1), state="running", id_=f"{run}-m1"),
    ]
    for j, b in enumerate((b1, b2)):
        h = 9 + 3 * j
        out.append(payload("bundle_in", 1, at(hour=h), bundle=b, id_=f"{run}-bi1{j}"))
        for i in range(10):
            ts = at(hour=h, minute=5 + 5 * i)
            out.append(payload("burst", 2, ts, run_s=12.0, trim=True, id_=f"{run}-u{j}-{i}"))
            out.append(
                payload("piece", 2, ts + timedelta(seconds=20), bundle=b, op="OP1", qty=5, id_=f"{run}-p{j}-{i}")
            )
        out.append(payload("bundle_out", 3, at(hour=h + 1), bundle=b, id_=f"{run}-bo1{j}"))
        out.append(payload("bundle_in", 4, at(hour=h + 1, minute=5), station="S2", bundle=b, id_=f"{run}-bi2{j}"))
        out.append(
            payload("piece", 5, at(hour=h + 1, minute=30), station="S2", bundle=b, op="OP2", qty=50, id_=f"{run}-q{j}")
        )
        out.append(
            payload(
                "defect",
                6,
                at(hour=h + 1, minute=31),
                station="S2",
                bundle=b,
                op="OP1",
                defect="SKIP",
                id_=f"{run}-d{j}",
            )
        )
        out.append(payload("bundle_out", 7, at(hour=h + 1, minute=40), station="S2", bundle=b, id_=f"{run}-bo2{j}"))
        out.append(payload("bundle_in", 7, at(hour=h + 1, minute=1), station="S4", bundle=b, id_=f"{run}-bi4{j}"))
        for i in range(5):
            ts = at(hour=h + 1, minute=2 + 5 * i)
            out.append(payload("burst", 7, ts, station="S4", run_s=9.0, trim=True, id_=f"{run}-s4-{j}-{i}"))
            out.append(
                payload(
                    "piece",
                    7,
                    ts + timedelta(seconds=15),
                    station="S4",
                    bundle=b,
                    op="OP3",
                    qty=1,
                    id_=f"{run}-p4-{j}-{i}",
                )
            )
        out.append(payload("bundle_out", 7, at(hour=h + 1, minute=30), station="S4", bundle=b, id_=f"{run}-bo4{j}"))
        for i in range(8):  # S3 sews OP3 on the bundle once S1 has finished OP1
            ts = at(hour=h + 1, minute=10 + 5 * i)
            out.append(payload("burst", 7, ts, station="S3", run_s=9.0, trim=True, id_=f"{run}-s3-{j}-{i}"))
    small = f"D{d}-0001"  # the day's small order: every operation, every garment
    out += [
        payload("piece", 8, at(hour=13, minute=10), bundle=small, op="OP1", qty=10, id_=f"{run}-sm1"),
        payload("piece", 8, at(hour=13, minute=20), station="S2", bundle=small, op="OP2", qty=10, id_=f"{run}-sm2"),
        payload("piece", 8, at(hour=13, minute=30), station="S4", bundle=small, op="OP3", qty=10, id_=f"{run}-sm3"),
    ]
    out += [
        payload("downtime", 8, at(hour=14), station="S2", reason="NO_WORK", phase="start", id_=f"{run}-w1"),
        payload("downtime", 8, at(hour=14, minute=20), station="S2", reason="NO_WORK", phase="end", id_=f"{run}-w2"),
        payload("downtime", 8, at(hour=14, minute=30), reason="MECH", phase="start", id_=f"{run}-dt1"),
        payload("machine", 8, at(hour=14, minute=30), state="off", id_=f"{run}-m2"),
        payload("downtime", 8, at(hour=14, minute=50), reason="MECH", phase="end", id_=f"{run}-dt2"),
        payload("machine", 8, at(hour=14, minute=50), state="running", id_=f"{run}-m3"),
        payload("logout", 9, at(hour=16), worker="W1", id_=f"{run}-o1"),
        payload("logout", 9, at(hour=16), station="S2", worker="W2", id_=f"{run}-o2"),
        payload("logout", 9, at(hour=16), station="S3", worker="W3", id_=f"{run}-o3"),
        payload("logout", 9, at(hour=16), station="S4", worker="W4", id_=f"{run}-o4"),
        payload("machine", 9, at(hour=16, minute=1), state="off", id_=f"{run}-m4"),
    ]
    return sorted(out, key=lambda p: p.split(b'"ts": "')[1][:25])


def footprint(obj: Any, seen: set[int] | None = None) -> int:
    """Elements held, recursively: one per dict entry, list / set / deque / array item; master data
    (layouts), the database and functions are referred to, not held."""
    seen = set() if seen is None else seen
    if isinstance(obj, _ATOMS) or (callable(obj) and not hasattr(obj, "__dict__")):
        return 0
    if id(obj) in seen or isinstance(obj, (FactoryLayout, Engine, HistoryStore)):
        return 0
    seen.add(id(obj))
    if isinstance(obj, dict):
        if obj and all(isinstance(v, FactoryLayout) for v in obj.values()):
            return 0  # the layouts by factory
        return len(obj) + sum(footprint(k, seen) + footprint(v, seen) for k, v in obj.items())
    if isinstance(obj, deque) and obj.maxlen is not None:  # capped: counts as full
        return obj.maxlen + sum(footprint(v, seen) for v in obj)
    if isinstance(obj, (list, tuple, set, frozenset, deque)):
        return len(obj) + sum(footprint(v, seen) for v in obj)
    if isinstance(obj, array):
        return len(obj)
    n = 0
    for name in getattr(type(obj), "__slots__", ()):
        if hasattr(obj, name):
            n += footprint(getattr(obj, name), seen)
    d = getattr(obj, "__dict__", None)
    if isinstance(d, dict):
        n += sum(footprint(v, seen) for k, v in d.items() if not k.startswith("__"))
    return n


def sizes(rt: Any) -> dict[str, int]:
    return {"live": footprint(rt.live), **{p.name: footprint(p) for p in rt.pipeline.projections}}


def test_no_read_model_grows_from_a_10_day_to_a_30_day_store(db_url, monkeypatch):  # type: ignore[no-untyped-def]
    # Read models bounded by a count rather than by the window are held to small caps here, so
    # that they reach them within the first days (a capped deque counts as full, see footprint).
    monkeypatch.setattr(learning_state, "MAX_KEEP", 12)
    monkeypatch.setattr(learning_state, "KEEP_AFTER_TRIM", 12)
    monkeypatch.setattr(counting, "LINE_BUNDLES_KEEP", 4)
    monkeypatch.setattr(signature, "KEEP_BUNDLES", 4)
    monkeypatch.setattr(sensor_only, "MAX_QUEUE", 4)
    monkeypatch.setattr(sensor_only, "MAX_WINDOW_BURSTS", 16)  # S3's bursts of a day
    rt = bootstrap(db_url, start_worker=False, retain_days=1.0)
    try:
        rt.save_layout(layout())
        taken = {}
        for d in range(DAYS):
            payloads = day_events(DAY0 + timedelta(days=d), d)
            for i in range(0, len(payloads), 50):
                rt.pipeline.process([RawEvent(payload=p, source="http") for p in payloads[i : i + 50]])
            with rt.pipeline.lock:
                rt.pipeline.catch_up()
                rt.keeper.checkpoint(rt.keeper.history.max_pos())
            if d + 1 in (10, DAYS):
                taken[d + 1] = sizes(rt)
        names = {"live", "quality", "materials", "learning", "motor_counts", "waiting", "web.order_progress"}
        assert names <= set(taken[DAYS])
        assert all(n > 0 for n in taken[10].values()), taken[10]
        grew = {k: (taken[10][k], taken[DAYS][k]) for k in taken[DAYS] if taken[DAYS][k] > taken[10][k]}
        assert not grew, f"read models that grow with history (size at day 10, day {DAYS}): {grew}"
        assert rt.keeper.history.count_quality_rollups() > 0 and rt.keeper.history.count_rollups() > 0
        # The finished small orders left order progress for the table (the window is one day).
        assert rt.keeper.history.count_finished_orders() >= DAYS - 2
        counts = rt.projection("motor_counts")
        assert counts.so_day and {k[1] for k in counts.so_day} == {"S3"}  # the sensor-only station was counted
    finally:
        rt.close()
