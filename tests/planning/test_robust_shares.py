"""Robust, then nominal (``balance_shares(robust=…)``): the shortest cycle on robust figures (lower
confidence bounds) first, then among allocations within a slack of it the shortest on the
estimates. Lower bounds alone tie and leave the LP an arbitrary plan; estimates alone flatter the
thinly seen pairs (docs/closed-loop.md, "Robust, then nominal")."""

from __future__ import annotations

import random

import pytest

from seamline.planning.balance.carry import carry_violations, last_predecessor
from seamline.planning.balance.data import BalancePlan, BalanceProblem
from seamline.planning.balance.shares import balance_shares
from tests.planning.fixtures import op as _op
from tests.planning.fixtures import small_problem as _problem


def _cycle_on(plan: BalancePlan, p: BalanceProblem, eff: dict[tuple[str, str], float]) -> float:
    ops = p.style.op_map()
    loads: dict[str, float] = {}
    for a in plan.assignments:
        loads[a.badge] = loads.get(a.badge, 0.0) + a.share * ops[a.op_code].sam_min / eff[(a.badge, a.op_code)]
    return max(loads.values())


def test_a_thinly_known_pair_that_flatters_itself_is_not_loaded_to_the_cycle() -> None:
    # U's estimate on S (1.4) is thin: its lower bound is 0.7. V is known at 1.0 on both.
    ops = (_op("P", 1.0), _op("S", 1.0))
    est = {("U", "S"): 1.4, ("V", "P"): 1.0, ("V", "S"): 1.0}
    lo = {("U", "S"): 0.7, ("V", "P"): 1.0, ("V", "S"): 1.0}
    p = _problem(ops, est, ["U", "V"])
    nominal = balance_shares(p, carry=False)
    robust = balance_shares(p, carry=False, robust=lo, robust_slack=0.0)
    share = {(a.badge, a.op_code): a.share for a in robust.assignments}
    # nominal: U takes all of S (0.714 min) and V does P (1.0 min), cycle 1.0 on the estimates
    assert nominal.cycle_min == pytest.approx(1.0)
    # robust: on U's bound all of S would take her 1.43 min; the robust optimum splits S so that
    # V's P + her part s of S equals U's part on the bound: 1 + s = (1 − s) ÷ 0.7, s = 0.3 ÷ 1.7.
    assert _cycle_on(robust, p, lo) == pytest.approx(2.0 / 1.7, rel=1e-6)
    assert share[("V", "S")] == pytest.approx(0.3 / 1.7, rel=1e-6)
    assert _cycle_on(nominal, p, lo) == pytest.approx(1.0 / 0.7, rel=1e-6)


def test_ties_on_the_robust_figures_are_broken_by_the_estimates() -> None:
    # On the lower bounds A and B are equal on P and Q: every split with p_A + q_A = 1 is as short
    # (1.0). On the estimates A is fast on P and B on Q: of those ties, A on P and B on Q is 0.5.
    ops = (_op("P", 1.0), _op("Q", 1.0))
    badges = ["A", "B"]
    lo = {(b, o): 1.0 for b in badges for o in ("P", "Q")}
    est = {**lo, ("A", "P"): 2.0, ("B", "Q"): 2.0}
    p = _problem(ops, est, badges)
    plan = balance_shares(p, carry=False, robust=lo, robust_slack=0.0)
    assert _cycle_on(plan, p, lo) == pytest.approx(1.0, rel=1e-6)
    assert plan.cycle_min == pytest.approx(0.5, rel=1e-6)
    assert plan.pairs() == {("A", "P"), ("B", "Q")}


def test_robust_then_nominal_on_random_lines_keeps_both_stages_and_the_rebalance() -> None:
    rng = random.Random(7)
    for _ in range(40):
        n_ops, badges = rng.randint(2, 6), [f"W{i}" for i in range(rng.randint(2, 5))]
        ops = tuple(
            _op(f"O{i}", rng.uniform(0.3, 2.0), (f"O{i - 1}",) if i and rng.random() < 0.6 else ())
            for i in range(n_ops)
        )
        est: dict[tuple[str, str], float] = {}
        lo: dict[tuple[str, str], float] = {}
        for b in badges:
            for o in ops:
                if rng.random() < 0.7 or b == badges[0]:
                    est[(b, o.code)] = rng.uniform(0.6, 1.3)
                    lo[(b, o.code)] = est[(b, o.code)] * rng.uniform(0.6, 1.0)
        p = _problem(ops, est, badges)
        robust_opt = balance_shares(_problem(ops, lo, badges), carry=False).cycle_min
        free = balance_shares(p, carry=False, robust=lo, robust_slack=0.02)
        assert robust_opt * (1 - 1e-6) <= _cycle_on(free, p, lo) <= robust_opt * 1.02 + 1e-6  # stage 1 holds
        assert free.cycle_min >= balance_shares(p, carry=False).cycle_min * (1 - 1e-6)  # stage 2 is a restriction
        plan = balance_shares(p, robust=lo, robust_slack=0.02)
        assert (
            carry_violations(
                {(a.badge, a.op_code): a.share for a in plan.assignments}, last_predecessor(p.style), slack=1e-3
            )
            == []
        )
        again = balance_shares(p, balance_shares(p), tolerance=0.02, robust=lo, robust_slack=0.02)
        assert all(a.share > 0 for a in again.assignments)
        assert {a.op_code for a in again.assignments} == {o.code for o in ops}
