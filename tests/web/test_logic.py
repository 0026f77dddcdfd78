"""Page logic by hand: alerts, bottleneck, next task, order progress and loading, formats."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from seamline.domain.events import BundleIn, Login, Piece
from seamline.domain.live import LiveState
from seamline.web import alerts as al
from seamline.web import plan as pl
from seamline.web.catalog import catalog_entries, extracted_ids
from seamline.web.dispatch import next_task
from seamline.web.i18n import Fmt, pick_lang
from seamline.web.progress import OrderProgress

from .factory import CAL, at, layout

_n = 0


def _ev(cls, station: str, ts, **kw):  # type: ignore[no-untyped-def]
    global _n
    _n += 1
    return cls(id=f"e{_n}", seq=_n, ts=ts, factory="F", station=station, **kw)


# --- alerts ------------------------------------------------------------------------------------
def _st(sid: str, **kw):  # type: ignore[no-untyped-def]
    return {"station": sid, "worker": "W", "machine_state": "running", "downtime": [], "wip": 1, **kw}


def test_idle_alert_after_n_minutes_and_down_counts_from_the_stop() -> None:
    now = at(10, 0)
    stations = [
        _st("S1", machine_state="idle", machine_since=(now - timedelta(minutes=12)).isoformat()),
        _st("S2", machine_state="idle", machine_since=(now - timedelta(minutes=8)).isoformat()),
        # Machine idle for an hour, but the stop with a reason began 11 minutes ago.
        _st(
            "S3",
            machine_state="idle",
            machine_since=(now - timedelta(minutes=60)).isoformat(),
            downtime=["MECH"],
            downtime_since=(now - timedelta(minutes=11)).isoformat(),
            downtime_reason="MECH",
        ),
        _st("S4", machine_state="idle", worker=None, machine_since=(now - timedelta(hours=2)).isoformat()),
    ]
    got = al.line_alerts(stations, now, {}, al.AlertRules(idle_min=10))
    assert [(a["station"], a["status"], round(a["minutes"])) for a in got] == [("S1", "idle", 12), ("S3", "down", 11)]
    assert got[1]["reason"] == "MECH"


def test_wip_alert_needs_both_a_pile_and_twice_the_average() -> None:
    stations = [_st("S1", wip=1), _st("S2", wip=1), _st("S3", wip=1), _st("S4", wip=6)]
    got = al.line_alerts(stations, at(10), {})
    assert [(a["kind"], a["station"], a["bundles"]) for a in got] == [("wip", "S4", 6)]
    # Everybody at 4 bundles: a full line, not a pile before one station.
    assert al.line_alerts([_st(f"S{i}", wip=4) for i in range(4)], at(10), {}) == []


def test_hours_alerts_near_the_regular_day_and_near_the_overtime_cap() -> None:
    stations = [_st("S1", worker="W1"), _st("S2", worker="W2"), _st("S3", worker="W3")]
    got = al.line_alerts(stations, at(19), {"W1": 7.0, "W2": 7.6, "W3": 10.6}, al.AlertRules())
    assert [(a["kind"], a["worker"], a["limit"]) for a in got] == [
        ("hours_regular", "W2", 8.0),
        ("hours_cap", "W3", 11.0),
    ]


def test_bottleneck_is_the_operation_with_the_lowest_capacity() -> None:
    # A: SAM 1.0 on two stations at 50 % → 30 + 30 = 60 pieces/h; B: SAM 0.5 at 40 % → 48 pieces/h.
    stations = [
        _st("S1", op="A", efficiency_pct_today=50.0, attended_min_today=120.0),
        _st("S2", op="A", efficiency_pct_today=50.0, attended_min_today=120.0),
        _st("S3", op="B", efficiency_pct_today=40.0, attended_min_today=120.0),
        _st("S4", op="C", efficiency_pct_today=None, attended_min_today=120.0),
        # Five minutes at 1 %: too short to say anything about speed.
        _st("S5", op="C", efficiency_pct_today=1.0, attended_min_today=5.0),
    ]
    assert al.bottleneck(stations, {"A": 1.0, "B": 0.5, "C": 0.5}) == "S3"
    stations[2]["efficiency_pct_today"] = 70.0  # B: 84/h; now A (60/h) limits, its slower station
    stations[1]["efficiency_pct_today"] = 45.0
    assert al.bottleneck(stations, {"A": 1.0, "B": 0.5, "C": 0.5}) == "S2"
    assert al.bottleneck([], {}) is None
    stations[4]["attended_min_today"] = 30.0  # now it counts, and C at 1.2 pieces/h limits the line
    assert al.bottleneck(stations, {"A": 1.0, "B": 0.5, "C": 0.5}) == "S5"


def test_a_starved_station_is_not_the_bottleneck() -> None:
    # S1 (op A, SAM 1.0) shows 20 % today but earned its 24 min in 30 min of machine time: 80 %
    # while working → 48 pieces/h. S2 (op B, SAM 0.5) at 40 %, no machine data: 60 / 0.5 × 0.40 = 48
    # pieces/h as well; S3 (op C, SAM 0.5) at 30 % → 36 pieces/h limits the line.
    stations = [
        _st(
            "S1",
            op="A",
            efficiency_pct_today=20.0,
            attended_min_today=120.0,
            earned_min_today=24.0,
            machine_s_today={"running": 1800.0, "idle": 5400.0},
        ),
        _st("S2", op="B", efficiency_pct_today=40.0, attended_min_today=120.0),
        _st("S3", op="C", efficiency_pct_today=30.0, attended_min_today=120.0),
    ]
    assert al.working_speed_pct(stations[0]) == pytest.approx(80.0)
    assert al.bottleneck(stations, {"A": 1.0, "B": 0.5, "C": 0.5}) == "S3"
    # Judged by efficiency today S1 would be the bottleneck (12 pieces/h): that is what we avoid.
    del stations[0]["machine_s_today"]
    assert al.bottleneck(stations, {"A": 1.0, "B": 0.5, "C": 0.5}) == "S1"


def test_status_and_efficiency_bands() -> None:
    assert al.station_status(_st("S", downtime=["MECH"])) == "down"
    assert al.station_status(_st("S", worker=None)) == "empty"
    assert al.station_status(_st("S", machine_state="off")) == "idle"
    assert [al.efficiency_band(x) for x in (None, 49.9, 50.0, 69.9, 70.0)] == ["none", "low", "mid", "mid", "high"]


# --- next task ---------------------------------------------------------------------------------
def test_next_task_follows_the_stations_operations_then_the_waiting_bundle() -> None:
    lay = layout()
    live = LiveState({"F": lay})
    t = at(8, 0)
    for ev in (
        _ev(Login, "S1", t, worker="W1"),
        _ev(BundleIn, "S1", t, bundle="B1"),
        _ev(Piece, "S1", t + timedelta(minutes=1), bundle="B1", op="A"),
        _ev(Piece, "S1", t + timedelta(minutes=2), bundle="B1", op="B"),
        _ev(BundleIn, "S1", t + timedelta(minutes=3), bundle="B2"),
        _ev(Piece, "S1", t + timedelta(minutes=4), bundle="B1", op="A"),
    ):
        live.apply(ev)
    day = at(0, 0)
    nt = next_task(lay, live, "S1", day)
    # The station does A then B; it is on A of B1, so next is B on the same bundle.
    assert (nt.current.op.code, nt.current.bundle, nt.next.op.code, nt.next.bundle, nt.kind) == (
        "A",
        "B1",
        "B",
        "B1",
        "same_bundle",
    )
    live.apply(_ev(Piece, "S1", t + timedelta(minutes=5), bundle="B1", op="B"))
    nt = next_task(lay, live, "S1", day)
    assert (nt.current.op.code, nt.next.op.code, nt.next.bundle, nt.kind) == ("B", "A", "B2", "next_bundle")
    assert nt.next.order == "O1"
    # A station with no pieces yet has no task to show.
    assert next_task(lay, live, "S2", day).current is None


def test_next_task_takes_the_earlier_due_order_first() -> None:
    """Planning's dispatch rule decides: among waiting bundles, the earlier due date goes first."""
    from seamline.domain.model import Bundle, Order

    lay = layout()
    lay.orders["O2"] = Order("O2", "ACME", "S1", {("L", "red"): 10}, date(2026, 11, 30))
    lay.bundles["X1"] = Bundle("X1", "O2", "L", "red", 10)
    live = LiveState({"F": lay})
    t = at(8, 0)
    for ev in (
        _ev(Login, "S1", t, worker="W1"),
        _ev(BundleIn, "S1", t, bundle="B1"),
        _ev(Piece, "S1", t + timedelta(minutes=1), bundle="B1", op="A", qty=5),
        _ev(BundleIn, "S1", t + timedelta(minutes=2), bundle="B2"),  # O1, due Dec 31, first in
        _ev(BundleIn, "S1", t + timedelta(minutes=3), bundle="X1"),  # O2, due Nov 30
        _ev(Piece, "S1", t + timedelta(minutes=4), bundle="B1", op="A", qty=5),  # still on B1
    ):
        live.apply(ev)
    nt = next_task(lay, live, "S1", at(0, 0))
    assert (nt.next.bundle, nt.next.order, nt.next.op.code, nt.kind) == ("X1", "O2", "A", "next_bundle")


# --- order progress and loading ----------------------------------------------------------------
def test_order_progress_counts_finished_garments_and_earned_minutes() -> None:
    lay = layout()
    proj = OrderProgress({"F": lay})
    proj.apply(_ev(Piece, "S1", at(9), bundle="B1", op="A", qty=10))
    proj.apply(_ev(Piece, "S3", at(10), bundle="B1", op="C", qty=4))
    proj.apply(_ev(Login, "S1", at(10), worker="W1"))
    assert proj.done[("F", "O1")] == 4  # only C is a final operation
    assert proj.earned_min[("F", "O1")] == pytest.approx(10 * 1.0 + 4 * 0.5)
    lo = proj.by_line[("F", "L", "O1")]
    assert (lo.first_ts, lo.last_ts) == (at(9), at(10))


def test_advance_skips_breaks_nights_and_sundays() -> None:
    assert pl.advance(CAL, at(11, 0), 120) == at(14, 0)  # 11-12, lunch, 13-14
    friday, saturday = date(2026, 11, 27), date(2026, 11, 28)
    assert pl.advance(CAL, at(16, 0, friday), 120) == at(9, 0, saturday)
    assert pl.advance(CAL, at(16, 30, saturday), 60) == at(8, 30, date(2026, 11, 30))  # Sunday off
    assert pl.working_minutes(CAL, at(8), at(17)) == 480


def test_loading_flags_an_order_that_cannot_make_its_due_date() -> None:
    # 3 operators at 50 %: 1.5 std min per working minute, 720 a day. 1000 × 2.0 = 2000 std min
    # need 1333⅓ working minutes: Mon 360 + Tue 480 + Wed 480 = 1320, then 13⅓ more on Thursday
    # → Thu 08:13:20. Due Tuesday is late, due Thursday is not.
    for due, late in ((date(2026, 11, 24), True), (date(2026, 11, 26), False)):
        lay = layout(order_qty=1000, due=due)
        live = LiveState({"F": lay})
        plans = pl.load_orders(lay, OrderProgress({"F": lay}), live, at(10))
        (p,) = plans[0].orders
        assert p.remaining_sam_min == pytest.approx(2000.0)
        assert p.finish == at(8, 13, date(2026, 11, 26)) + timedelta(seconds=20)
        assert pl.at_risk(lay, p) is late
    # Capacity until due (Tuesday 17:00 from Monday 10:00): 360 + 480 working minutes × 1.5.
    lay = layout(order_qty=1000, due=date(2026, 11, 24))
    (p,) = pl.load_orders(lay, OrderProgress({"F": lay}), LiveState({"F": lay}), at(10))[0].orders
    assert p.capacity_until_due_min == pytest.approx((360 + 480) * 1.5)


def test_an_order_past_its_due_date_is_late_not_at_risk() -> None:
    from seamline.web.i18n import Fmt
    from seamline.web.views import _order_row

    # due Tuesday 24th, not finished: on Monday it is at risk, on Wednesday it is late
    lay = layout(order_qty=1000, due=date(2026, 11, 24))
    for now, late, word in ((at(10), False, "有风险"), (at(10, 0, date(2026, 11, 25)), True, "逾期")):
        (p,) = pl.load_orders(lay, OrderProgress({"F": lay}), LiveState({"F": lay}), now)[0].orders
        row = _order_row(Fmt("zh_CN"), lay, p, now)
        assert row["at_risk"] and row["late"] is late and row["state_txt"] == word


# --- language ----------------------------------------------------------------------------------
def test_every_string_is_translated_with_the_same_placeholders() -> None:
    ids = extracted_ids()
    assert len(ids) > 80
    zh, en = catalog_entries("zh_CN"), catalog_entries("en")
    placeholder = re.compile(r"\{\w+\}")
    for mid in sorted(ids):
        assert zh.get(mid), f"zh_CN misses {mid!r}"
        assert en.get(mid), f"en misses {mid!r}"
        assert re.search(r"[\u4e00-\u9fff]", zh[mid]), f"zh_CN {mid!r} is not Chinese: {zh[mid]!r}"
        assert sorted(placeholder.findall(zh[mid])) == sorted(placeholder.findall(mid)), mid
    assert not set(zh) - ids, "catalog keeps strings no page uses"


def test_numbers_times_and_durations_follow_the_locale() -> None:
    zh, en = Fmt("zh_CN"), Fmt("en")
    assert (zh.num(12345.678, 1), en.num(12345.678, 1)) == ("12,345.7", "12,345.7")
    assert (zh.pct(62.46, 1), en.pct(62.46, 1)) == ("62.5%", "62.5%")
    assert (zh.duration(6600), en.duration(6600)) == ("1小时 50分钟", "1 hr 50 min")
    assert (zh.datetime(at(13, 5)), en.datetime(at(13, 5))) == ("11月23日 13:05", "Nov 23 13:05")
    assert zh.split_name("测试线 / Test line") == "测试线" and en.split_name("测试线 / Test line") == "Test line"
    assert Fmt("de").num(12345.5, 1) == "12.345,5"  # the formats really are Babel's, per locale


def test_language_choice() -> None:
    assert pick_lang(None, None) == "zh_CN"
    assert pick_lang("en", "zh_CN") == "en"
    assert pick_lang(None, "en") == "en"
    assert pick_lang("en-US", None) == "en"
    assert pick_lang("fr", None) == "zh_CN"


def test_the_hourly_chart_shows_the_whole_shift() -> None:
    from seamline.web.views import line_data

    lay = layout()
    live = LiveState({"F": lay})
    live.apply(_ev(Login, "S3", at(8), worker="W3"))
    live.apply(_ev(BundleIn, "S3", at(8), bundle="B1"))
    live.apply(_ev(Piece, "S3", at(9, 30), bundle="B1", op="C", qty=10))
    chart = line_data(live, lay, "L", Fmt("zh_CN"))["chart"]
    assert chart["hours"] == [f"{h:02d}:00" for h in range(8, 17)]
    # 08:00-09:00 attended 60 min × 50 % ÷ garment SAM 2.0 = 15; 09:00-09:30 (as of) = 7.5.
    assert chart["target"][:3] == [15.0, 7.5, None]
    assert chart["output"][:3] == [0, 10, None]
