"""Learned efficiencies are read from the learning snapshot table and used by the balancer."""

from __future__ import annotations

from datetime import UTC, datetime

from seamline.adapters.db import make_engine
from seamline.adapters.learned_efficiency import learned_efficiency, learned_efficiency_with_prior
from seamline.adapters.tables import metadata
from seamline.adapters.tables_learning import learning_skills
from seamline.domain.model import Operation, Style, Worker
from seamline.planning.balance.check import check_plan
from seamline.planning.balance.data import BalanceProblem
from seamline.planning.balance.solver import balance_line


def _row(worker: str, op: str, eff: float, conf: str) -> dict:
    now = datetime(2026, 3, 2, tzinfo=UTC)
    return dict(
        factory_id="F",
        worker=worker,
        style_code="S",
        op_code=op,
        line_id="L1",
        n_pieces=200,
        n_cycles=150,
        efficiency=eff,
        se=0.02,
        lo=eff - 0.05,
        hi=eff + 0.05,
        steady_state=eff,
        forecast_next_50=eff,
        trend="steady",
        p_learning=0.1,
        confidence=conf,
        double_counts=0,
        interruptions=0,
        updated_at=now,
        saved_at=now,
    )


def test_learned_efficiencies_drive_the_balance(db_url: str) -> None:
    engine = make_engine(db_url)
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            learning_skills.insert(),
            [_row("W1", "A", 1.2, "high"), _row("W2", "A", 0.6, "medium"), _row("W2", "B", 0.9, "low")],
        )
    eff = learned_efficiency(engine, "F", "S")
    everything, prior = learned_efficiency_with_prior(engine, "F", "S")
    engine.dispose()
    assert eff == {("W1", "A"): 1.2, ("W2", "A"): 0.6}  # the strict reader leaves the low cell out
    # The balancer's reader keeps it, shrunk towards the grade prior (a thin measurement).
    assert everything[("W2", "B")] == 0.9 and prior[("W2", "B")] > prior[("W2", "A")] > prior[("W1", "A")] == 0
    ops = (Operation("A", "甲", "a", 1.0, "SNLS"), Operation("B", "乙", "b", 1.0, "SNLS"))
    style = Style("S", "款", "s", ops)
    workers = (Worker("W1", "one", skills={"SNLS": 3}), Worker("W2", "two", skills={"SNLS": 3}))
    p = BalanceProblem(style=style, workers=workers, efficiency=everything, prior_weight=prior, max_workers_per_op=1)
    plan = balance_line(p, 1.0)
    assert check_plan(p, plan) == []
    # W1 is measured at 120 % on A (above any grade's 95 %): she sews A, W2 sews B.
    assert {(a.badge, a.op_code) for a in plan.assignments} == {("W1", "A"), ("W2", "B")}
    assert plan.loads_min["W1"] == 1.0 / 1.2
