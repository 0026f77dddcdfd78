"""Learned efficiencies for the balancer, from the learning feature's snapshot table.

``learning_skills`` (``seamline.adapters.tables_learning``) is the published snapshot of the skill
matrix: reading it keeps planning independent of the learning code. Low-confidence cells are
not thrown away: they are shrunk towards the skill grade's prior (``prior_weight``), so the
efficiency is a number from data — above 100 % where the data says so — and the grade only a prior.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Engine


def learned_efficiency(
    engine: Engine, factory_id: str, style_code: str, min_confidence: str = "medium"
) -> dict[tuple[str, str], float]:
    """(badge, op code) -> measured efficiency as a fraction, for one factory and style."""
    from seamline.adapters.tables_learning import learning_skills as t

    ranks = {"low": 0, "medium": 1, "high": 2}
    need = ranks.get(min_confidence, 1)
    q = select(t.c.worker, t.c.op_code, t.c.efficiency, t.c.confidence).where(
        t.c.factory_id == factory_id, t.c.style_code == style_code
    )
    out: dict[tuple[str, str], float] = {}
    with engine.connect() as conn:
        for worker, op, eff, conf in conn.execute(q):
            if ranks.get(conf, 0) >= need and eff > 0:
                out[(worker, op)] = float(eff)
    return out


# Weight of the grade prior beside a measured efficiency, by the snapshot's confidence.
PRIOR_WEIGHT = {"low": 0.6, "medium": 0.2, "high": 0.0}


def learned_efficiency_with_prior(
    engine: Engine, factory_id: str, style_code: str
) -> tuple[dict[tuple[str, str], float], dict[tuple[str, str], float]]:
    """Every measured efficiency, and the weight of the grade prior beside each (by confidence)."""
    from seamline.adapters.tables_learning import learning_skills as t

    q = select(t.c.worker, t.c.op_code, t.c.efficiency, t.c.confidence).where(
        t.c.factory_id == factory_id, t.c.style_code == style_code
    )
    eff: dict[tuple[str, str], float] = {}
    prior: dict[tuple[str, str], float] = {}
    with engine.connect() as conn:
        for worker, op, e, conf in conn.execute(q):
            if e > 0:
                eff[(worker, op)] = float(e)
                prior[(worker, op)] = PRIOR_WEIGHT.get(conf, 0.6)
    return eff, prior
