"""Save and read skill-matrix snapshots (``learning_skills``): the learning feature's database side.

``seamline.learning`` computes estimates and touches no database; this module stores them, binds the
projection to a database (``create`` is the plug-in ``seamline.bootstrap`` loads).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.exc import SQLAlchemyError

from ..domain.model import FactoryLayout
from ..learning.projection import LearningProjection, SnapshotError
from ..learning.state import SkillEstimate
from .tables_learning import learning_skills


def save_snapshot(engine: Engine, estimates: Sequence[SkillEstimate], saved_at: datetime) -> int:
    """Replace the snapshot rows of every factory present in ``estimates``; returns rows written."""
    if saved_at.tzinfo is None:
        raise ValueError("saved_at must be timezone-aware")
    factories = sorted({e.factory for e in estimates})
    rows = [
        {
            "factory_id": e.factory,
            "worker": e.worker,
            "style_code": e.style,
            "op_code": e.op,
            "line_id": e.line,
            "n_pieces": e.n_pieces,
            "n_cycles": e.n_cycles,
            "efficiency": e.efficiency,
            "se": e.se,
            "lo": e.lo,
            "hi": e.hi,
            "steady_state": e.steady_state,
            "forecast_next_50": e.forecast_next,
            "trend": e.trend,
            "p_learning": e.p_learning,
            "confidence": e.confidence,
            "double_counts": e.double_counts,
            "interruptions": e.interruptions,
            "updated_at": e.updated_at,
            "saved_at": saved_at,
        }
        for e in estimates
    ]
    with engine.begin() as conn:
        for f in factories:
            conn.execute(delete(learning_skills).where(learning_skills.c.factory_id == f))
        if rows:
            conn.execute(insert(learning_skills), rows)
    return len(rows)


def load_snapshot(engine: Engine, factory: str | None = None, worker: str | None = None) -> list[dict[str, Any]]:
    q = select(learning_skills)
    if factory is not None:
        q = q.where(learning_skills.c.factory_id == factory)
    if worker is not None:
        q = q.where(learning_skills.c.worker == worker)
    q = q.order_by(
        learning_skills.c.factory_id, learning_skills.c.worker, learning_skills.c.style_code, learning_skills.c.op_code
    )
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(q)]


class SqlSnapshotStore:
    """``learning.projection.SnapshotStore`` on a SQLAlchemy engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def save(self, estimates: Sequence[SkillEstimate], saved_at: datetime) -> int:
        try:
            return save_snapshot(self.engine, estimates, saved_at)
        except SQLAlchemyError as e:
            raise SnapshotError(
                f"could not write learning_skills ({type(e).__name__}); is the database migrated "
                f"(seamline.adapters.tables_learning)?"
            ) from e


def create(layouts: dict[str, FactoryLayout], engine: Engine) -> LearningProjection:
    """The learning projection, snapshotting into ``engine`` (loaded by ``seamline.bootstrap``)."""
    return LearningProjection(layouts, SqlSnapshotStore(engine))
