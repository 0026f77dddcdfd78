"""Bundle routing from events: operation WIP, ageing in working time, stale alerts, overcounts."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from seamline.domain.events import BundleIn, BundleOut, Piece
from seamline.domain.model import ShiftCalendar
from seamline.materials.routing import Routing, working_seconds
from tests.conftest import tiny_layout

CST = ZoneInfo("Asia/Shanghai")
DAY = datetime(2026, 11, 24, tzinfo=CST)  # a Tuesday


class _Feed:
    def __init__(self, routing: Routing) -> None:
        self.r = routing
        self.n = 0

    def __call__(self, cls, station: str, at: datetime, **kw) -> None:  # type: ignore[no-untyped-def]
        self.n += 1
        self.r.apply(cls(id=f"e{self.n}", seq=self.n, ts=at, factory="f1", station=station, **kw))


def test_working_seconds_skip_breaks_nights_and_rest_days() -> None:
    cal = tiny_layout().calendars["day"]  # 08:00-16:00, lunch 12-13, Mon-Sat
    assert working_seconds(cal, DAY.replace(hour=11), DAY.replace(hour=14)) == 2 * 3600
    # 15:00 today to 09:00 tomorrow: one hour tonight, one hour tomorrow
    assert working_seconds(cal, DAY.replace(hour=15), DAY.replace(hour=9) + timedelta(days=1)) == 2 * 3600
    sat_15 = datetime(2026, 11, 28, 15, tzinfo=CST)
    assert working_seconds(cal, sat_15, sat_15 + timedelta(days=2, hours=-6)) == 3600 + 3600  # Sunday is off
    assert working_seconds(ShiftCalendar("x"), DAY, DAY) == 0.0


def test_bundle_moves_through_operations_and_wip_ages() -> None:
    lay = tiny_layout()  # HEM: OP1 (S1) -> OP2 (S2); bundles of 50
    r = Routing({"f1": lay})
    feed = _Feed(r)
    t = DAY.replace(hour=9)
    feed(BundleIn, "S1", t, bundle="O1-0001")
    for i in range(50):
        feed(Piece, "S1", t + timedelta(seconds=30 * (i + 1)), bundle="O1-0001", op="OP1")
    feed(Piece, "S1", t + timedelta(seconds=30 * 50, milliseconds=300), bundle="O1-0001", op="OP1")  # bounce
    feed(BundleOut, "S1", t + timedelta(minutes=26), bundle="O1-0001")
    feed(BundleIn, "S1", t + timedelta(minutes=26), bundle="O1-0002")
    feed(Piece, "S1", t + timedelta(minutes=27), bundle="O1-0002", op="OP1")

    b = r.bundle("f1", "O1-0001")
    assert b is not None and b["status"] == "in_progress" and b["at_operations"] == ["OP2"]
    op1 = b["operations"][0]
    assert (op1["done"], op1["counted"], op1["overcount"]) == (50, 51, 1)
    assert b["steps"][0]["station"] == "S1" and b["steps"][0]["ops"] == ["OP1"]

    now = t + timedelta(minutes=90)
    wip = {(w["op"]): w for w in r.wip("f1", as_of=now)["operations"]}
    assert wip["OP2"]["bundles"] == 1 and wip["OP2"]["pieces"] == 50 and wip["OP2"]["started"] == 0
    assert wip["OP1"]["bundles"] == 1 and wip["OP1"]["pieces"] == 49 and wip["OP1"]["started"] == 1
    # OP2 ready since the last OP1 piece (09:25:00.3): 65 minutes by 10:30
    assert round(wip["OP2"]["max_age_min"]) == 65
    assert r.wip("f1", as_of=now)["stations"] == [{"station": "S1", "bundles": 1, "max_age_min": 64.0}]

    stale = r.stale("f1", as_of=now, stale_after_min=60)
    assert [s["bundle"] for s in stale] == ["O1-0001", "O1-0002"]  # longest idle first
    assert stale[0]["message"] == "bundle O1-0001 has not moved for 64 working minutes (limit 60); waiting at OP2"
    # over lunch the clock runs, the ageing does not
    assert r.stale("f1", as_of=DAY.replace(hour=12, minute=59), stale_after_min=160) == []

    feed(BundleIn, "S2", t + timedelta(minutes=95), bundle="O1-0001")
    for i in range(50):
        feed(Piece, "S2", t + timedelta(minutes=95, seconds=15 * (i + 1)), bundle="O1-0001", op="OP2")
    feed(BundleOut, "S2", t + timedelta(minutes=110), bundle="O1-0001")
    b = r.bundle("f1", "O1-0001")
    assert b is not None and b["status"] == "sewn" and b["sewn"] == 50 and b["at_operations"] == []
    assert r.order_sewn("f1", "O1") == {"O1-0001": 50, "O1-0002": 0}
    assert [w["op"] for w in r.wip("f1")["operations"]] == ["OP1"]
    assert r.bundle("f1", "O1-0004")["status"] == "cut"  # type: ignore[index]
    assert r.bundle("f1", "NOPE") is None


def test_packed_sewn_bundles_answer_as_before_and_wake_on_a_late_event() -> None:
    """Retention packs sewn bundles at no station (Routing.pack_sewn): every answer stays the same."""
    lay = tiny_layout()
    r = Routing({"f1": lay})
    feed = _Feed(r)
    t = DAY.replace(hour=9)
    for b, st0 in (("O1-0001", 0), ("O1-0002", 40)):
        for station, op in (("S1", "OP1"), ("S2", "OP2")):
            feed(BundleIn, station, t + timedelta(minutes=st0), bundle=b)
            for i in range(50):
                feed(Piece, station, t + timedelta(minutes=st0, seconds=10 * (i + 1)), bundle=b, op=op)
            feed(BundleOut, station, t + timedelta(minutes=st0 + 10), bundle=b)
            st0 += 10
    feed(BundleIn, "S1", t + timedelta(minutes=70), bundle="O1-0003")  # still on the floor
    feed(Piece, "S1", t + timedelta(minutes=71), bundle="O1-0003", op="OP1")
    now = t + timedelta(hours=3)

    def answers() -> tuple[object, ...]:
        return (
            [r.bundle("f1", b, as_of=now) for b in ("O1-0001", "O1-0002", "O1-0003", "O1-0004")],
            r.wip("f1", as_of=now),
            r.stale("f1", as_of=now, stale_after_min=30),
            sorted(r.order_sewn("f1", "O1").items()),
        )

    before = answers()
    assert r.pack_sewn() == 2 and set(r.packed) == {("f1", "O1-0001"), ("f1", "O1-0002")}
    assert ("f1", "O1-0003") in r.tracks and ("f1", "O1-0001") not in r.tracks
    assert answers() == before
    # a late (bounced) piece of a packed bundle unpacks it and counts as an overcount
    feed(Piece, "S2", t + timedelta(minutes=100), bundle="O1-0001", op="OP2")
    assert ("f1", "O1-0001") in r.tracks and ("f1", "O1-0001") not in r.packed
    b = r.bundle("f1", "O1-0001", as_of=now)
    assert b is not None and b["operations"][1]["counted"] == 51 and b["operations"][1]["overcount"] == 1
    # retention drops packed bundles that have not moved since the cutoff
    r.forget_before(t + timedelta(minutes=95))
    assert ("f1", "O1-0002") not in r.packed and ("f1", "O1-0001") in r.tracks
