"""Cycle extraction on hand-made series: double counts, breaks, logouts, downtime, bundle changes,
defects and unreported interruptions."""

from __future__ import annotations

import math

import pytest

from seamline.learning.cycles import Rules, Verdict, judge
from seamline.learning.state import LearningState
from tests.conftest import tiny_layout

from .builders import SAM_S, Station


def feed(events) -> LearningState:
    lay = tiny_layout()
    state = LearningState({"f1": lay})
    for ev in events:
        state.apply(ev)
    return state


def cell(state: LearningState, worker: str = "W1", op: str = "OP1"):
    return state.cells[("f1", worker, "HEM", op)]


def test_judge_rules_by_hand():
    r = Rules()
    kw = {"qty": 1, "sam_s": 30.0, "ref_cycle_s": 40.0, "expected_cycle_s": 40.0}
    assert judge(r, dt_s=None, same_run=True, clean=True, **kw) is Verdict.CONTEXT
    assert judge(r, dt_s=7.9, same_run=True, clean=True, **kw) is Verdict.DOUBLE_COUNT  # < 20 % of 40 s
    assert judge(r, dt_s=8.1, same_run=True, clean=True, **kw) is Verdict.CYCLE
    assert judge(r, dt_s=119.0, same_run=True, clean=True, **kw) is Verdict.CYCLE
    assert judge(r, dt_s=121.0, same_run=True, clean=True, **kw) is Verdict.INTERRUPTION  # > 3 × 40 s
    assert judge(r, dt_s=40.0, same_run=True, clean=False, **kw) is Verdict.CONTEXT
    assert judge(r, dt_s=40.0, same_run=False, clean=True, **kw) is Verdict.CONTEXT
    # qty 3 in one event: the cycle is a third of the gap
    assert judge(r, dt_s=330.0, same_run=True, clean=True, **{**kw, "qty": 3}) is Verdict.CYCLE
    # without a reference the cap is the time at 10 % efficiency: 300 s for SAM 30 s
    no_ref = {**kw, "ref_cycle_s": None}
    assert judge(r, dt_s=299.0, same_run=True, clean=True, **no_ref) is Verdict.CYCLE
    assert judge(r, dt_s=301.0, same_run=True, clean=True, **no_ref) is Verdict.INTERRUPTION


def test_steady_series_gives_exact_cycles():
    s = Station().login().bundle_in()
    for _ in range(11):
        s.piece(40.0)
    st = feed(s.events)
    c = cell(st)
    assert c.n_pieces == 11
    assert c.n_cycles == 10  # the first piece after bundle_in has no gap to measure
    est = st.estimate(c)
    assert est.recent_efficiency == pytest.approx(SAM_S / 40.0, rel=1e-3)


def test_double_counts_are_not_pieces_and_not_cycles():
    s = Station().login().bundle_in()
    for i in range(30):
        s.piece(40.0)
        if i % 10 == 5:
            s.piece(0.3)  # the sensor bounced
    st = feed(s.events)
    c = cell(st)
    assert c.n_double == 3
    assert c.n_pieces == 30
    assert c.n_cycles == 29
    # kept cycles are 40 s, or 40.3 s when measured from the first of a double count
    assert all(40.0 - 1e-6 < math.exp(y) < 40.3 + 1e-6 for y in c.logs)


def test_breaks_logouts_downtime_bundle_changes_and_defects_drop_their_gap_only():
    s = Station().login().bundle_in()
    for _ in range(6):
        s.piece(40.0)
    s.machine("idle").wait(3600).machine("running").piece(40.0)  # lunch inside the gap
    s.piece(40.0)
    s.downtime("MECH", "start").wait(900).downtime("MECH", "end").piece(40.0)
    s.piece(40.0)
    s.bundle_out().bundle_in("O1-0002").piece(45.0, bundle="O1-0002")  # bundle change
    s.piece(40.0, bundle="O1-0002")
    s.defect(bundle="O1-0002").piece(64.0, bundle="O1-0002")  # 24 s rework inside
    s.piece(40.0, bundle="O1-0002")
    s.logout().wait(600).login().piece(40.0, bundle="O1-0002")  # a new session
    s.piece(40.0, bundle="O1-0002")
    st = feed(s.events)
    c = cell(st)
    assert c.n_pieces == 16
    assert c.n_context == 5 + 1  # 5 dropped gaps and the very first piece
    assert c.n_cycles == 10
    assert c.n_interrupt == 0
    assert c.n_double == 0
    est = st.estimate(c)
    assert est.recent_efficiency == pytest.approx(0.75, rel=1e-3)


def test_an_unreported_interruption_is_dropped_by_the_robust_reference():
    s = Station().login().bundle_in()
    for i in range(40):
        s.piece(600.0 if i == 25 else 40.0)  # ten minutes away with no event at all
    st = feed(s.events)
    c = cell(st)
    assert c.n_interrupt == 1
    assert c.n_cycles == 38
    assert st.estimate(c).recent_efficiency == pytest.approx(0.75, rel=1e-3)


def test_pieces_go_to_the_worker_logged_in_and_none_without_one():
    a = Station("S1")
    a.piece(40.0)  # nobody logged in: not attributable
    a.login("W2").bundle_in()
    for _ in range(5):
        a.piece(40.0)
    st = feed(a.events)
    assert ("f1", "W1", "HEM", "OP1") not in st.cells
    assert cell(st, "W2").n_pieces == 5


def test_two_stations_interleaved_do_not_mix():
    a, b = Station("S1"), Station("S2")
    a.login("W1").bundle_in("O1-0001")
    b.login("W2").bundle_in("O1-0002")
    for _ in range(20):
        a.piece(40.0, bundle="O1-0001")
        b.piece(20.0, bundle="O1-0002", op="OP2")
        b.piece(20.0, bundle="O1-0002", op="OP2")
        a.t = b.t = max(a.t, b.t)
    events = sorted(a.events + b.events, key=lambda e: e.ts)
    st = feed(events)
    assert st.estimate(cell(st, "W1")).recent_efficiency == pytest.approx(0.75, rel=1e-3)
    # OP2 has SAM 0.25 min = 15 s; two pieces every 40 s = 20 s a piece
    assert st.estimate(cell(st, "W2", "OP2")).recent_efficiency == pytest.approx(0.75, rel=1e-3)


def test_a_cached_fit_is_reused_for_a_few_new_cycles_but_counts_are_current():
    s = Station().login().bundle_in()
    for _ in range(101):
        s.piece(40.0)
    st = feed(s.events)
    c = cell(st)
    first = st.estimate(c)
    assert first.n_pieces == 101
    for _ in range(3):  # 3 new cycles on 100: under the 10 % refit threshold
        s.piece(20.0)
    for ev in s.events[-3:]:
        st.apply(ev)
    again = st.estimate(c)
    assert again.n_pieces == 104 and again.n_cycles == 103
    assert again.efficiency == first.efficiency  # not refitted
    for _ in range(20):
        s.piece(20.0)
    for ev in s.events[-20:]:
        st.apply(ev)
    assert st.estimate(c).efficiency > first.efficiency  # refitted: the worker got faster


def test_a_re_timed_bulletin_is_picked_up():
    from dataclasses import replace

    layouts = {"f1": tiny_layout()}
    st = LearningState(layouts)
    s = Station().login().bundle_in()
    for _ in range(15):
        s.piece(40.0)
    for ev in s.events:
        st.apply(ev)
    assert cell(st).sam_s == pytest.approx(30.0)
    new = tiny_layout()  # the same factory with OP1 re-timed from 0.5 to 0.6 min
    style = new.styles["HEM"]
    new.styles["HEM"] = replace(
        style, operations=tuple(replace(o, sam_min=0.6) if o.code == "OP1" else o for o in style.operations)
    )
    layouts["f1"] = new
    st.apply(s.piece(40.0).events[-1])
    assert cell(st).sam_s == pytest.approx(36.0)
    assert st.estimate(cell(st)).recent_efficiency == pytest.approx(0.9, rel=1e-3)


def test_hand_entries_count_but_give_no_cycles_and_late_events_do_not_rewind():
    s = Station().login().bundle_in()
    for _ in range(10):
        s.piece(40.0)
    s.piece(5.0, qty=3, source="tablet")  # three pieces typed in by the line leader
    s.piece(40.0)  # gap after a hand entry: not a cycle
    for _ in range(5):
        s.piece(40.0)
    late = s.events[-3].__class__(
        **{**{f: getattr(s.events[-3], f) for f in s.events[-3].__struct_fields__}, "id": "late", "ts": s.events[-3].ts}
    )
    st = feed([*s.events, late])
    c = cell(st)
    assert c.n_pieces == 10 + 3 + 1 + 5 + 1
    assert c.n_cycles == 9 + 5
    assert c.n_double == 0
    assert st.estimate(c).recent_efficiency == pytest.approx(0.75, rel=1e-3)
