"""Learned efficiencies for the balancer, from the learning feature's snapshot table.

``learning_skills`` (``seamline.adapters.tables_learning``) is the published snapshot of the skill
matrix: reading it keeps planning independent of the learning code, and reading it here (not in
``seamline.planning``) keeps the balancer free of the database: it takes the dict this returns.
Low-confidence cells are skipped, so a worker with three pieces on an operation falls back to her
skill grade.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Engine

from .tables_learning import learning_skills as t


def learned_efficiency(
    engine: Engine, factory_id: str, style_code: str, min_confidence: str = "medium"
) -> dict[tuple[str, str], float]:
    """(badge, op code) -> measured efficiency as a fraction, for one factory and style."""
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
