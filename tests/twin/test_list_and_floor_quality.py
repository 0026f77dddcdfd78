"""What the floor receives is station lists: the list figure, and the floor measured by replay."""

from __future__ import annotations

from pathlib import Path

import pytest

from seamline.adapters.layout_files import load_factory
from seamline.domain.model import FactoryLayout, Operation
from seamline.sim import SimConfig
from seamline.sim.control import line_of
from seamline.sim.engine import Engine
from seamline.twin.experiment import Case, FloorDay, current_efficiency, line_case, run_policy
from seamline.twin.floor_check import (
    ample_book,
    carry_cycle,
    floor_rate,
    last_predecessor,
    list_cycle,
    list_problem,
)
from seamline.twin.policy.balancing import LineBalance, balance_for, cycle_of, problem_for

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def base() -> FactoryLayout:
    return load_factory(ROOT / "examples" / "factory")


@pytest.fixture(scope="module")
def tee(base: FactoryLayout) -> Case:
    return line_case(base, "L1", "TEE-BASIC", 3, 1)


class Floor:
    """The first day of the case: who is there, the truth where the curves stand, the optimum."""

    def __init__(self, case: Case) -> None:
        self.case = case
        eng = Engine(case.layout, SimConfig(seed=case.seed, start=case.start, record_pieces=False))
        plan = line_of(eng, case.line).day_plan(0)
        assert plan is not None
        self.present = {sid: w.badge for sid, (w, _a, _b) in plan.stations.items()}
        self.truth = current_efficiency(eng, case.style, {})
        self.day = case.start.date()
        self.problem, _ = problem_for(case.layout, case.style, self.present, self.eff)
        self.best = balance_for(case.layout, case.style, self.present, self.eff)

    def eff(self, badge: str, op: Operation) -> float:
        return self.truth[(badge, self.case.style, op.code)]

    def bad(self) -> LineBalance:
        """A plan balanced on the inverse of the truth: the slowest pairs take the work."""
        return balance_for(self.case.layout, self.case.style, self.present, lambda b, op: 1.0 / self.eff(b, op))

    def fixed_q(self, lb: LineBalance) -> float:
        return self.best.plan.cycle_min / cycle_of(lb.plan, self.problem)

    def list_q(self, lb: LineBalance) -> float:
        return self.best.plan.cycle_min / list_cycle(lb, self.problem)

    def rate(self, lb: LineBalance) -> float:
        c = self.case
        return floor_rate(c.layout, c.line, c.style, c.seed, self.day, {}, lb, window_h=3.0).garments_per_h


@pytest.fixture(scope="module")
def floor(tee: Case) -> Floor:
    return Floor(tee)


def test_the_list_figure_frees_only_the_shares_within_the_lists(floor: Floor) -> None:
    bad = floor.bad()
    lp = list_problem(floor.problem, bad)
    listed = {(b, op) for b, sid in bad.station_of.items() for op in bad.stations.get(sid, ())}
    allowed = {k for k, e in lp.eligible().items() if e > 0}
    assert allowed == listed
    # the lists of the optimum allow the optimum: its list figure is 1.0
    assert floor.list_q(floor.best) == pytest.approx(1.0, abs=1e-6)


def test_the_list_figure_is_at_least_the_fixed_share_figure(floor: Floor, tee: Case) -> None:
    bad = floor.bad()
    assert floor.list_q(bad) >= floor.fixed_q(bad) - 1e-9
    # and on a real day plan of the closed loop, every day
    run = run_policy(tee, "seamline", quality=True)
    assert run.list_quality and set(run.list_quality) == set(run.balance_quality)
    for d, q in run.list_quality.items():
        assert run.balance_quality[d] - 1e-9 <= q <= 1.0 + 1e-9
    assert run.day_plans and run.done and set(run.days) == set(run.day_plans)


def test_the_floor_measures_the_optimum_against_itself_as_one(floor: Floor) -> None:
    c = floor.case
    a = floor_rate(c.layout, c.line, c.style, c.seed, floor.day, {}, floor.best, window_h=3.0)
    b = floor_rate(c.layout, c.line, c.style, c.seed, floor.day, {}, floor.best, window_h=3.0)
    assert a.pieces_by_op == b.pieces_by_op  # common random numbers: the same floor, the same count
    assert a.garments_per_h > 0
    assert FloorDay(a, b, b, floor.best.plan.cycle_min).quality == 1.0


def test_a_bad_plan_scores_lower_on_all_three_figures(floor: Floor) -> None:
    bad = floor.bad()
    assert floor.fixed_q(bad) < 0.9
    assert floor.list_q(bad) < 0.9
    assert floor.rate(bad) < 0.9 * floor.rate(floor.best)


def test_the_floor_check_refuses_a_plan_for_people_not_there(floor: Floor, base: FactoryLayout) -> None:
    c = floor.case
    absent = next(s.id for s in base.stations.values() if s.line_id == c.line and s.id not in floor.present)
    lb = floor.best
    moved = LineBalance(lb.plan, lb.problem, {**lb.stations, absent: ("T01",)}, {**lb.station_of, "X": absent})
    with pytest.raises(ValueError, match="not staffed"):
        floor_rate(c.layout, c.line, c.style, c.seed, floor.day, {}, moved, window_h=1.0)


def with_sliver(floor: Floor) -> LineBalance:
    """The optimum's lists with one successor added to a station holding its usual last
    predecessor (the one that costs the carry-on most): the share LP gives the sliver nothing,
    the floor's carry-on gives the station the successor of every bundle it finishes there."""
    lb = floor.best
    last = last_predecessor(floor.case.layout.styles[floor.case.style])
    cands = []
    for badge, sid in lb.station_of.items():
        mine = lb.stations.get(sid, ())
        for succ, pred in last.items():
            if pred in mine and succ not in mine and floor.problem.efficiency.get((badge, succ), 0.0) > 0:
                moved = LineBalance(lb.plan, lb.problem, {**lb.stations, sid: (*mine, succ)}, lb.station_of)
                cands.append((carry_cycle(moved, floor.problem), sid, succ, moved))
    assert cands, "no station can take a successor of its own operation"
    return max(cands, key=lambda c: (c[0], c[1], c[2]))[3]


def test_the_carry_on_turns_a_sliver_on_a_list_into_a_whole_share(floor: Floor) -> None:
    sliver = with_sliver(floor)
    assert floor.list_q(sliver) == pytest.approx(1.0, abs=1e-6)  # the lists still allow the optimum
    best_carry = floor.best.plan.cycle_min / carry_cycle(floor.best, floor.problem)
    sliver_carry = floor.best.plan.cycle_min / carry_cycle(sliver, floor.problem)
    assert sliver_carry < best_carry - 0.05
    # and the floor agrees with the carry-on model, not with the lists: the sliver costs garments
    assert floor.rate(sliver) < floor.rate(floor.best)


def test_a_replay_never_runs_out_of_bundles(tee: Case, base: FactoryLayout) -> None:
    short = ample_book(tee.layout, tee.style, tee.line, 3.0, 9.0)
    n_short = len(short.bundles)
    assert n_short > len(tee.layout.bundles)  # a one-day book is repeated for a day's replay
    assert set(tee.layout.orders) <= set(short.orders)
    long = line_case(base, tee.line, tee.style, tee.seed, 6)
    assert ample_book(long.layout, long.style, long.line, 3.0, 9.0) is long.layout  # already enough
