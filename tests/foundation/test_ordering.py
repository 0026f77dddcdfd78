"""The pure parts of scale-out: the reorder buffer (per-station seq order) and the pos tracker
(holes left by transactions that commit out of order)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from seamline.domain.events import Login, decode_event
from seamline.domain.live import LiveState
from seamline.domain.ordering import CrossStationHold, PosTracker, ReorderBuffer
from tests.conftest import tiny_layout
from tests.foundation.helpers import CST, payload

T0 = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


def ts(i: int) -> datetime:
    return T0 + timedelta(seconds=i)


def push_all(buf: ReorderBuffer, items, now: float = 0.0):  # type: ignore[no-untyped-def]
    out = []
    for key, seq in items:
        out += buf.push(key, seq, ts(seq), (key, seq), now)
    return out


def test_in_order_passes_straight_through():
    buf: ReorderBuffer = ReorderBuffer(wait_s=3)
    out = push_all(buf, [("a", 0), ("b", 0), ("a", 1), ("b", 1)])
    assert [r.item for r in out] == [("a", 0), ("b", 0), ("a", 1), ("b", 1)]
    assert all(r.gap is None for r in out) and len(buf) == 0


def test_out_of_order_is_held_then_released_in_seq_order():
    buf: ReorderBuffer = ReorderBuffer(wait_s=3)
    out = push_all(buf, [("a", 0), ("a", 2), ("a", 3)])
    assert [r.item[1] for r in out] == [0]
    assert len(buf) == 2
    out = buf.push("a", 1, ts(1), ("a", 1), 0.5)
    assert [r.item[1] for r in out] == [1, 2, 3]
    assert all(r.gap is None for r in out) and len(buf) == 0
    assert buf.expire(100.0) == []


def test_any_permutation_within_the_wait_comes_out_sorted_without_gaps():
    rng = random.Random(5)
    for _ in range(50):
        seqs = list(range(40))
        # shuffle within windows of 5: the interleaving two ingest processes produce
        for i in range(0, 40, 5):
            w = seqs[i : i + 5]
            rng.shuffle(w)
            seqs[i : i + 5] = w
        buf: ReorderBuffer = ReorderBuffer(wait_s=3)
        out = push_all(buf, [("k", s) for s in seqs])
        out += buf.expire(1.0)
        assert [r.item[1] for r in out] == list(range(40))
        assert all(r.gap is None for r in out)


def test_a_missing_seq_is_given_up_after_the_wait_and_recorded_as_a_gap():
    buf: ReorderBuffer = ReorderBuffer(wait_s=3)
    push_all(buf, [("a", 0), ("a", 1)])
    assert buf.push("a", 3, ts(3), ("a", 3), 1.0) == []
    assert buf.push("a", 4, ts(4), ("a", 4), 2.0) == []
    assert buf.expire(3.9) == []  # the wait counts from the first held arrival (1.0)
    out = buf.expire(4.0)
    assert [(r.item[1], r.gap) for r in out] == [(3, (2, 3)), (4, None)]
    # the straggler arrives after all: released at once, with a gap, numbering unchanged
    late = buf.push("a", 2, ts(2), ("a", 2), 5.0)
    assert [(r.item[1], r.gap) for r in late] == [(2, (5, 2))]
    nxt = buf.push("a", 5, ts(5), ("a", 5), 5.0)
    assert [(r.item[1], r.gap) for r in nxt] == [(5, None)]


def test_a_first_event_above_zero_waits_then_starts_without_a_gap():
    buf: ReorderBuffer = ReorderBuffer(wait_s=2)
    assert buf.push("a", 57, ts(57), "x57", 0.0) == []
    assert buf.push("a", 56, ts(56), "x56", 0.5) == []
    out = buf.expire(2.0)
    assert [(r.item, r.gap) for r in out] == [("x56", None), ("x57", None)]


def test_a_restart_of_the_numbering_continues_from_the_new_numbers():
    buf: ReorderBuffer = ReorderBuffer(wait_s=2)
    push_all(buf, [("a", 0), ("a", 1), ("a", 2)])
    out = buf.push("a", 0, ts(10), "r0", 1.0)  # later timestamp: the device restarted
    assert [(r.item, r.gap) for r in out] == [("r0", (3, 0))]
    out = buf.push("a", 1, ts(11), "r1", 1.0)
    assert [(r.item, r.gap) for r in out] == [("r1", None)]


def test_a_repeated_seq_number_is_released_and_counted_as_a_gap():
    buf: ReorderBuffer = ReorderBuffer(wait_s=2)
    push_all(buf, [("a", 0)])
    buf.push("a", 2, ts(2), "first2", 0.0)
    buf.push("a", 2, ts(2), "second2", 0.0)
    out = buf.push("a", 1, ts(1), "one", 0.1)
    assert [(r.item, r.gap) for r in out] == [("one", None), ("first2", None), ("second2", (3, 2))]


def test_flush_releases_everything_in_order():
    buf: ReorderBuffer = ReorderBuffer(wait_s=60)
    for s in (5, 3, 9):
        buf.push("a", s, ts(s), s, 0.0)
    buf.push("b", 0, ts(0), 0, 0.0)
    out = buf.flush()
    assert [r.item for r in out] == [3, 5, 9] and len(buf) == 0


# --- positions ------------------------------------------------------------------------------------
def test_pos_tracker_remembers_holes_and_forgets_them_when_filled():
    t = PosTracker(min_wait_s=0.2, max_wait_s=30)
    t.seen([1, 2, 5], now=0.0, horizon=100)
    assert t.high == 5 and sorted(t.holes()) == [3, 4]
    t.seen([4], now=0.1, horizon=101)
    assert t.holes() == [3] and t.filled_late == 1
    # the horizon has not passed: the transaction holding pos 3 may still be running
    assert t.expire(now=5.0, oldest_running=99) == []
    assert t.expire(now=5.0, oldest_running=100) == [3]
    assert t.holes() == [] and t.given_up == 1


def test_pos_tracker_waits_at_least_min_wait_and_at_most_max_wait():
    t = PosTracker(min_wait_s=0.5, max_wait_s=10)
    t.seen([3], now=0.0, horizon=7)
    assert t.expire(now=0.4, oldest_running=50) == []
    assert sorted(t.expire(now=0.5, oldest_running=50)) == [1, 2]
    t.seen([6], now=1.0, horizon=60)
    assert t.expire(now=10.9, oldest_running=None) == []  # nobody can say: wait
    assert sorted(t.expire(now=11.0, oldest_running=None)) == [4, 5]


def test_pos_tracker_without_horizons_expires_after_min_wait():
    t = PosTracker(min_wait_s=0.2)
    t.seen([2], now=0.0)
    assert t.expire(now=0.1) == []
    assert t.expire(now=0.2) == [1]


# --- across stations ------------------------------------------------------------------------------
def test_a_login_is_held_and_what_follows_at_its_station_waits_behind_it():
    hold: CrossStationHold = CrossStationHold(wait_s=2)
    assert hold.push("B", "login-B", ts(120), True, 0.0) == []
    assert hold.push("B", "piece-B", ts(130), False, 0.1) == []
    assert hold.push("A", "logout-A", ts(60), False, 0.5) == ["logout-A"]  # nothing held at A
    assert hold.release(1.9) == []
    assert hold.release(2.0) == ["login-B", "piece-B"]
    assert len(hold) == 0


def test_held_logins_leave_in_time_order():
    hold: CrossStationHold = CrossStationHold(wait_s=2)
    hold.push("B", "login-B", ts(120), True, 0.0)
    hold.push("A", "login-A", ts(0), True, 1.0)  # earlier login, arrived later
    hold.push("A", "piece-A", ts(60), False, 1.0)
    assert hold.release(2.0) == ["login-A", "piece-A", "login-B"]


def test_a_worker_moving_between_stations_comes_out_as_in_order_whatever_the_arrival():
    lay = tiny_layout()
    day = datetime(2026, 11, 25, 9, 0, tzinfo=CST)
    evs = [  # W1 works at S1, moves to S2 without logging out (that ends the S1 session), leaves
        ("S1", payload("login", 0, day, station="S1", worker="W1")),
        ("S1", payload("piece", 1, day + timedelta(minutes=1), station="S1", bundle="O1-0001", op="OP1")),
        ("S2", payload("login", 0, day + timedelta(minutes=3), station="S2", worker="W1")),
        ("S2", payload("piece", 1, day + timedelta(minutes=4), station="S2", bundle="O1-0001", op="OP2")),
        ("S2", payload("logout", 2, day + timedelta(minutes=5), station="S2", worker="W1")),
        ("S1", payload("login", 2, day + timedelta(minutes=6), station="S1", worker="W2")),
    ]
    decoded = [decode_event(p) for _s, p in evs]

    def live_of(order: list) -> dict:  # type: ignore[type-arg]
        live = LiveState({"f1": lay})
        for ev in order:
            live.apply(ev)
        snap = live.snapshot()
        snap["stations"] = {k: {**v, "last_seq": None} for k, v in snap["stations"].items()}
        return snap

    want = live_of(decoded)
    # Station S2's stream is committed well before S1's: S2's events arrive first.
    arrival = [decoded[i] for i in (2, 3, 4, 0, 1, 5)]
    assert live_of(arrival) != want  # folded as they come, the sessions come out wrong
    hold: CrossStationHold = CrossStationHold(wait_s=2)
    out = []
    for k, ev in enumerate(arrival):
        out += hold.push(ev.station, ev, ev.ts, isinstance(ev, Login), 0.1 * k)
    out += hold.release(5.0)
    assert live_of(out) == want
