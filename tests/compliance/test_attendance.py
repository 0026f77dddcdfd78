"""Sessions from login/logout, breaks, night shifts, missing logouts, corrections, piece attribution."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from seamline.compliance.attendance import (
    Correction,
    CorrectionError,
    apply_corrections,
    attended_by_day,
    attribute_defects,
    attribute_pieces,
    build_sessions,
)

from .builders import Ev, at, make_layout

H = 3600.0


def test_day_session_excludes_lunch() -> None:
    ev = Ev()
    ev.shift("W1", "S1", "2026-03-02", "08:00", "17:00")
    s = build_sessions(ev.events, make_layout())
    assert len(s) == 1
    # 9 h on site minus the 1 h lunch
    assert s[0].attended_s == 8 * H
    assert s[0].work_day == date(2026, 3, 2)
    assert s[0].flags == ()


def test_night_shift_across_midnight_belongs_to_the_start_day() -> None:
    ev = Ev()
    ev.login("W3", "S3", at("2026-03-02", "20:00"))
    ev.logout("W3", "S3", at("2026-03-03", "05:30"))
    sessions = build_sessions(ev.events, make_layout())
    # 9.5 h minus the 00:00-00:30 meal break = 9 h, all on Monday 2 March
    assert attended_by_day(sessions) == {("W3", date(2026, 3, 2)): 9 * H}


def test_missing_logout_closes_at_shift_end_and_is_flagged() -> None:
    ev = Ev()
    ev.login("W1", "S1", at("2026-03-02", "08:30"))
    ev.shift("W1", "S1", "2026-03-03", "08:00", "12:00")
    s = build_sessions(ev.events, make_layout())
    assert [x.flags for x in s] == [("missing_logout",), ()]
    assert s[0].end == at("2026-03-02", "17:00")
    assert s[0].attended_s == 7.5 * H  # 08:30-17:00 minus lunch
    assert s[1].attended_s == 4 * H


def test_missing_logout_of_a_night_shift_closes_next_morning() -> None:
    ev = Ev()
    ev.login("W3", "S3", at("2026-03-02", "19:55"))
    s = build_sessions(ev.events, make_layout())
    assert (s[0].end, s[0].work_day, s[0].flags) == (at("2026-03-03", "05:00"), date(2026, 3, 2), ("missing_logout",))
    assert s[0].attended_s == (9 * 60 + 5 - 30) * 60.0  # 19:55-05:00 minus the 30 min meal


def test_missing_logout_after_the_shift_closes_at_the_last_piece() -> None:
    ev = Ev()
    ev.login("W1", "S1", at("2026-03-02", "18:00"))
    ev.piece("S1", at("2026-03-02", "19:15"))
    s = build_sessions(ev.events, make_layout())
    assert s[0].end == at("2026-03-02", "19:15")
    assert s[0].attended_s == 1.25 * H
    assert s[0].flags == ("missing_logout",)


def test_a_stale_after_shift_session_does_not_run_into_the_next_day() -> None:
    ev = Ev()
    ev.login("W1", "S1", at("2026-03-02", "18:00"))
    ev.piece("S1", at("2026-03-02", "19:00"))
    ev.shift("W1", "S1", "2026-03-03", "08:00", "17:00")
    s = build_sessions(ev.events, make_layout())
    assert [(x.work_day.day, x.attended_s, x.flags) for x in s] == [(2, 1 * H, ("missing_logout",)), (3, 8 * H, ())]


def test_pieces_after_the_shift_extend_a_session_without_logout() -> None:
    ev = Ev()
    ev.login("W1", "S1", at("2026-03-02", "08:00"))
    p = ev.piece("S1", at("2026-03-02", "18:30"))
    sessions = build_sessions(ev.events, make_layout())
    assert (sessions[0].end, sessions[0].flags) == (at("2026-03-02", "18:30"), ("missing_logout",))
    assert sessions[0].attended_s == 9.5 * H
    assert [x.worker for x in attribute_pieces([p], sessions)[0]] == ["W1"]


def test_open_session_is_cut_at_until() -> None:
    ev = Ev()
    ev.login("W1", "S1", at("2026-03-02", "08:00"))
    s = build_sessions(ev.events, make_layout(), until=at("2026-03-02", "10:00"))
    assert s[0].attended_s == 2 * H and s[0].flags == ("open",)
    # overtime in progress: past the shift end, but a piece 20 minutes ago -> still open, counted to now
    ev.piece("S1", at("2026-03-02", "18:10"))
    s = build_sessions(ev.events, make_layout(), until=at("2026-03-02", "18:30"))
    assert s[0].end == at("2026-03-02", "18:30") and s[0].flags == ("open",)
    # the next morning it is a forgotten logout, closed at the last piece
    s = build_sessions(ev.events, make_layout(), until=at("2026-03-03", "07:00"))
    assert s[0].end == at("2026-03-02", "18:10") and s[0].flags == ("missing_logout",)


def test_login_elsewhere_closes_the_first_session_and_pieces_follow_the_badge() -> None:
    ev = Ev()
    ev.login("W1", "S1", at("2026-03-02", "08:00"))
    ev.login("W1", "S2", at("2026-03-02", "10:00"))
    p_s1_before = ev.piece("S1", at("2026-03-02", "09:00"), qty=3)
    p_s1_after = ev.piece("S1", at("2026-03-02", "11:00"), qty=5)
    p_s2 = ev.piece("S2", at("2026-03-02", "11:00"), qty=7)
    ev.logout("W1", "S2", at("2026-03-02", "12:00"))
    sessions = build_sessions(ev.events, make_layout())
    assert [(x.station, x.attended_s, x.flags) for x in sessions] == [
        ("S1", 2 * H, ("closed_by_login_elsewhere",)),
        ("S2", 2 * H, ()),
    ]
    done, orphans = attribute_pieces([p_s1_before, p_s1_after, p_s2], sessions)
    assert [(p.event_id, p.worker, p.qty) for p in done] == [(p_s1_before.id, "W1", 3), (p_s2.id, "W1", 7)]
    assert orphans == [p_s1_after]


def test_second_worker_at_a_station_replaces_the_first() -> None:
    ev = Ev()
    ev.login("W1", "S1", at("2026-03-02", "08:00"))
    ev.login("W2", "S1", at("2026-03-02", "09:00"))
    p = ev.piece("S1", at("2026-03-02", "09:30"))
    ev.logout("W2", "S1", at("2026-03-02", "10:00"))
    sessions = build_sessions(ev.events, make_layout())
    assert [(x.worker, x.attended_s, x.flags) for x in sessions] == [
        ("W1", 1 * H, ("replaced_at_station",)),
        ("W2", 1 * H, ()),
    ]
    assert attribute_pieces([p], sessions)[0][0].worker == "W2"


def test_repeated_login_at_the_same_station_does_not_split_the_session() -> None:
    ev = Ev()
    ev.login("W1", "S1", at("2026-03-02", "08:00"))
    ev.login("W1", "S1", at("2026-03-02", "09:00"))
    ev.logout("W1", "S1", at("2026-03-02", "11:00"))
    s = build_sessions(ev.events, make_layout())
    assert [(x.start, x.attended_s) for x in s] == [(at("2026-03-02", "08:00"), 3 * H)]


def _corr(cid: str, action: str, minute: int, **kw: object) -> Correction:
    return Correction(
        id=cid,
        action=action,
        worker="W1",
        who="supervisor Chen",  # type: ignore[arg-type]
        at=datetime(2026, 3, 3, 1, minute, tzinfo=UTC),
        why="badge reader down",
        **kw,
    )  # type: ignore[arg-type]


def test_corrections_add_adjust_void_in_order() -> None:
    lay = make_layout()
    ev = Ev()
    login = ev.login("W1", "S1", at("2026-03-02", "08:00"))
    ev.logout("W1", "S1", at("2026-03-02", "12:00"))
    sessions = build_sessions(ev.events, lay)
    corrections = [
        # applied by `at`, not by list order: the add (minute 1) comes before its void (minute 3)
        _corr("c3", "void", 3, session_id="c1"),
        _corr("c1", "add", 1, station="S1", start=at("2026-03-02", "13:00"), end=at("2026-03-02", "15:00")),
        _corr("c2", "adjust", 2, session_id=login.id, end=at("2026-03-02", "12:00").replace(hour=11)),
    ]
    eff = apply_corrections(sessions, corrections, lay)
    assert [(s.id, s.attended_s, s.flags) for s in eff] == [(login.id, 3 * H, ("corrected",))]
    # without the void the added session counts, with the 'manual' flag
    eff2 = apply_corrections(sessions, corrections[1:], lay)
    assert attended_by_day(eff2) == {("W1", date(2026, 3, 2)): 5 * H}
    assert [s.flags for s in eff2] == [("corrected",), ("manual",)]


def test_corrections_need_who_why_and_aware_times() -> None:
    with pytest.raises(CorrectionError, match="who and why"):
        Correction(id="x", action="void", worker="W1", who=" ", at=datetime.now(UTC), why="x", session_id="s")
    with pytest.raises(CorrectionError, match="timezone-aware"):
        Correction(id="x", action="void", worker="W1", who="a", at=datetime(2026, 3, 3), why="x", session_id="s")
    with pytest.raises(CorrectionError, match="add needs start and end"):
        Correction(id="x", action="add", worker="W1", who="a", at=datetime.now(UTC), why="x")
    with pytest.raises(CorrectionError, match="no session"):
        apply_corrections([], [_corr("c", "void", 1, session_id="nope")], make_layout())


def test_overlapping_corrected_sessions_are_counted_once() -> None:
    lay = make_layout()
    ev = Ev()
    ev.shift("W1", "S1", "2026-03-02", "08:00", "11:00")
    sessions = build_sessions(ev.events, lay)
    eff = apply_corrections(
        sessions,
        [_corr("c1", "add", 1, station="S2", start=at("2026-03-02", "10:00"), end=at("2026-03-02", "11:30"))],
        lay,
    )
    assert attended_by_day(eff) == {("W1", date(2026, 3, 2)): 3.5 * H}


def test_defect_is_charged_to_the_maker_of_that_bundle_and_op() -> None:
    lay = make_layout()
    ev = Ev()
    ev.shift("W1", "S1", "2026-03-02", "08:00", "12:00")
    ev.shift("W2", "S2", "2026-03-02", "08:00", "12:00")
    pa = ev.piece("S1", at("2026-03-02", "09:00"), op="A", qty=10)
    pb = ev.piece("S2", at("2026-03-02", "10:00"), op="B", qty=10)
    da = ev.defect("S2", at("2026-03-03", "09:00"), op="A", qty=2)
    db = ev.defect("S2", at("2026-03-03", "09:00"), op="B", qty=1)
    stray = ev.defect("S2", at("2026-03-03", "09:00"), op="A", qty=1, bundle="B2")
    pieces, _ = attribute_pieces([pa, pb], build_sessions(ev.events, lay))
    done, orphans = attribute_defects([da, db, stray], pieces, lay)
    assert [(d.worker, d.op, d.qty, d.day, d.piece_event_id) for d in done] == [
        ("W1", "A", 2, date(2026, 3, 3), pa.id),
        ("W2", "B", 1, date(2026, 3, 3), pb.id),
    ]
    assert orphans == [stray]
