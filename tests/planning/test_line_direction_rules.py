"""Issue #21's pure rules: the tablet's next task, the smoothed bottleneck, the one-move suggestion."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from seamline.domain.model import Operation, Style, Worker
from seamline.planning.balance.data import BalanceProblem
from seamline.planning.balance.moves import apply_move, best_move
from seamline.planning.balance.solver import evaluate_allocation
from seamline.planning.bottleneck import BottleneckState, StationCapacity, raw_bottleneck, smooth_bottleneck
from seamline.planning.dispatch.next_task import ReadyBundle, StationPlan, choose_next, sam_to_end

T0 = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)


def _rb(bundle: str, op: str, holder: str | None, minutes: int = 0, **kw: object) -> ReadyBundle:
    return ReadyBundle(bundle, op, 10, T0 + timedelta(minutes=minutes), holder, **kw)  # type: ignore[arg-type]


# --- next task ---------------------------------------------------------------------------------
def test_next_is_never_the_task_in_work_and_a_station_bundle_comes_before_fetching() -> None:
    plan = StationPlan("S2", "B", "X1", {"B": 1.0}, frozenset({"B", "D"}))
    ready = [_rb("X1", "B", "S2"), _rb("X2", "B", "S1", 1), _rb("X3", "B", "S2", 5)]
    n = choose_next(plan, ready)
    assert (n.kind, n.op_code, n.bundle_id, n.holder) == ("next_bundle", "B", "X3", "S2")
    n = choose_next(plan, ready[:2])  # only one elsewhere: fetch it, and say where it is
    assert (n.kind, n.bundle_id, n.holder) == ("fetch", "X2", "S1")
    assert (n.bundle_id, n.op_code) != ("X1", "B")


def test_the_same_bundles_next_assigned_operation_first_then_priority_and_due() -> None:
    plan = StationPlan("S1", "A", "X1", {"A": 1.0, "B": 1.0}, frozenset({"A", "B"}))
    ready = [_rb("X1", "B", "S1", 9), _rb("X2", "A", "S1", 0, priority=2)]
    n = choose_next(plan, ready)
    assert (n.kind, n.op_code, n.bundle_id) == ("same_bundle", "B", "X1")
    plan = StationPlan("S1", "B", "X1", {"A": 1.0, "B": 1.0}, frozenset({"A", "B"}))
    ready = [
        _rb("X2", "A", "S1", 0),
        _rb("X3", "A", None, 30, due=date(2026, 12, 5)),
        _rb("X4", "A", "S1", 60, priority=1),
    ]
    assert choose_next(plan, ready).bundle_id == "X4"  # priority first
    n = choose_next(plan, ready[:2])
    assert (n.kind, n.bundle_id, n.holder) == ("fetch", "X3", None)  # due date beats FIFO; at the cutting table


def test_a_starved_station_is_sent_to_other_work_or_told_who_feeds_it() -> None:
    plan = StationPlan("S3", "C", None, {"C": 1.0}, frozenset({"C", "D", "E"}), upstream={"C": ("S2",)})
    ready = [_rb("X1", "D", "S4"), _rb("X2", "E", "S1"), _rb("X3", "E", "S1", 3), _rb("X4", "F", "S1")]
    n = choose_next(plan, ready)
    assert (n.kind, n.op_code, n.pieces_waiting) == ("other_op", "E", 20)  # most pieces waiting, able
    assert (n.bundle_id, n.holder) == ("X2", "S1")
    n = choose_next(plan, [_rb("X4", "F", "S1")])  # F is another machine's work
    assert (n.kind, n.op_code, n.upstream, n.bundle_id) == ("wait", "C", "S2", None)


def test_a_starved_station_helps_nearest_the_end_of_the_line_first() -> None:
    """Rule 3 with the line's order: the operation nearest the end with work ready, before a
    bigger pile upstream (a helper there ships garments); the bigger pile among equals."""
    plan = StationPlan("S3", "C", None, {"C": 1.0}, frozenset({"C", "D", "E"}), to_end_min={"D": 0.0, "E": 2.5})
    ready = [_rb("X1", "D", "S4"), _rb("X2", "E", "S1"), _rb("X3", "E", "S1", 3)]
    n = choose_next(plan, ready)
    assert (n.kind, n.op_code, n.bundle_id, n.pieces_waiting) == ("other_op", "D", "X1", 10)
    flat = StationPlan("S3", "C", None, {"C": 1.0}, frozenset({"C", "D", "E"}), to_end_min={"D": 1.0, "E": 1.0})
    assert choose_next(flat, ready).op_code == "E"


def test_sam_to_end_is_the_longest_standard_path_after_each_operation() -> None:
    ops = (
        Operation("A", "a", "a", 1.0, "SNLS"),
        Operation("B", "b", "b", 2.0, "SNLS", predecessors=("A",)),
        Operation("C", "c", "c", 0.5, "OL", predecessors=("A",)),
        Operation("D", "d", "d", 0.7, "MAN", predecessors=("B", "C")),
    )
    left = sam_to_end(Style("S", "s", "s", ops))
    assert left == pytest.approx({"A": 2.7, "B": 0.7, "C": 0.7, "D": 0.0})


# --- bottleneck --------------------------------------------------------------------------------
def _caps(**pph: float) -> list[StationCapacity]:
    ops = {"S1": "A", "S2": "B", "S3": "B", "S4": "C"}
    return [StationCapacity(s, ops[s], v) for s, v in pph.items()]


def test_capacity_rule_sums_stations_of_an_operation_and_skips_starved_operations() -> None:
    caps = _caps(S1=50.0, S2=30.0, S3=30.0, S4=55.0)
    assert raw_bottleneck(caps) == ("S1", "A", 50.0)  # B has 60 with two stations
    starved = [*caps[:3], StationCapacity("S4", "C", 20.0, starved=True)]
    assert raw_bottleneck(starved) == ("S1", "A", 50.0)  # C is slow but waits for work: not it
    assert raw_bottleneck([StationCapacity("S4", "C", 5.0, starved=True)]) is None


def test_the_bottleneck_does_not_move_within_minutes_and_moves_when_clearly_and_lastingly_lower() -> None:
    st = smooth_bottleneck(BottleneckState(), _caps(S1=50.0, S2=30.0, S3=30.0, S4=55.0), T0)
    assert st.station == "S1"
    # C dips below A by 4 %: not clearly lower, no move
    st = smooth_bottleneck(st, _caps(S1=50.0, S2=30.0, S3=30.0, S4=48.0), T0 + timedelta(minutes=1))
    assert st.station == "S1"
    # C clearly lower: only after 15 minutes in a row
    for m in (2, 8, 16):
        st = smooth_bottleneck(st, _caps(S1=50.0, S2=30.0, S3=30.0, S4=40.0), T0 + timedelta(minutes=m))
        assert st.station == "S1", m
    st = smooth_bottleneck(st, _caps(S1=50.0, S2=30.0, S3=30.0, S4=40.0), T0 + timedelta(minutes=18))
    assert (st.station, st.op_code) == ("S4", "C")
    # the marked station starves: replaced at once
    caps = [*_caps(S1=50.0, S2=30.0, S3=30.0), StationCapacity("S4", "C", 40.0, starved=True)]
    assert smooth_bottleneck(st, caps, T0 + timedelta(minutes=19)).station == "S1"


def test_a_challenger_that_gives_way_resets_the_clock() -> None:
    st = smooth_bottleneck(BottleneckState(), _caps(S1=50.0, S2=30.0, S3=30.0, S4=55.0), T0)
    st = smooth_bottleneck(st, _caps(S1=50.0, S2=30.0, S3=30.0, S4=40.0), T0 + timedelta(minutes=1))
    st = smooth_bottleneck(st, _caps(S1=50.0, S2=30.0, S3=30.0, S4=55.0), T0 + timedelta(minutes=10))
    assert st.challenger is None
    st = smooth_bottleneck(st, _caps(S1=50.0, S2=30.0, S3=30.0, S4=40.0), T0 + timedelta(minutes=12))
    assert smooth_bottleneck(st, _caps(S1=50.0, S2=30.0, S3=30.0, S4=40.0), T0 + timedelta(minutes=20)).station == "S1"


# --- the one move ------------------------------------------------------------------------------
STYLE = Style(
    "S",
    "款",
    "Style",
    (
        Operation("A", "甲", "A", 1.0, "SNLS"),
        Operation("B", "乙", "B", 2.0, "SNLS", predecessors=("A",)),
        Operation("C", "丙", "C", 0.5, "OL4", predecessors=("B",)),
    ),
)


def _problem() -> BalanceProblem:
    workers = tuple(
        Worker(b, b, "L", {mt: 3}) for b, mt in (("W1", "SNLS"), ("W2", "SNLS"), ("W3", "SNLS"), ("W4", "OL4"))
    )
    eff = {("W1", "A"): 1.0, ("W2", "A"): 1.0, ("W2", "B"): 1.0, ("W3", "B"): 1.0, ("W4", "C"): 1.0, ("W1", "B"): 0.8}
    return BalanceProblem(style=STYLE, workers=workers, efficiency=eff)


def test_the_best_move_relieves_the_bottleneck_and_its_gain_is_the_engines() -> None:
    p = _problem()
    # W1 and W2 share A (1 min), W3 alone on B (2 min): 30 pcs/h
    now = [("W1", {"A": 0.5}), ("W2", {"A": 0.5}), ("W3", {"B": 1.0}), ("W4", {"C": 1.0})]
    assert evaluate_allocation(p, now).pieces_per_hour == pytest.approx(30.0)
    m = best_move(p, now, machine_of={"W1": "SNLS", "W2": "SNLS", "W3": "SNLS", "W4": "OL4"})
    assert m is not None and (m.badge, m.from_op, m.to_op) == ("W2", "A", "B")
    after = evaluate_allocation(p, [(b, dict(sh)) for b, sh in m.stations])
    assert m.gain_pph == pytest.approx(after.pieces_per_hour - 30.0) and m.gain_pph > 25
    assert dict(m.stations)["W1"] == {"A": 1.0}  # A is left to W1 alone
    # W4 sits at an overlock: she is never moved onto a lockstitch operation
    assert all(mv.badge != "W4" for mv in [m])
    assert best_move(p, now, workers=frozenset({"W4"})) is None
    # an operation nobody else does cannot be left empty
    assert apply_move(p, now, "W3", "A") is None
