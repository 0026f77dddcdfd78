"""HTTP endpoints of seamline.learning: the skill matrix and each worker's skills.

Efficiencies are fractions of standard (1.0 = 100 %), each with a standard error, a 95 % interval,
the pieces behind it, a confidence grade and a trend (learning / steady). Estimates are fitted
lazily beside the ingest lock (cells are copied under it) and cached per cell until new cycles arrive.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field

from ..bootstrap import Runtime
from ..learning.matrix import skill_matrix
from ..learning.projection import LearningProjection, SnapshotError
from .api import factory_layout, problems


class SkillEstimate(BaseModel):
    """One worker on one operation; efficiencies are fractions of standard (1.0 = 100 %)."""

    model_config = ConfigDict(extra="allow")

    factory: str
    worker: str
    style: str
    op: str
    line: str | None
    n_pieces: int
    n_cycles: int
    efficiency: float = Field(description="now, at the current piece count")
    se: float
    interval: list[float] = Field(description="95 % interval [low, high]")
    steady_state: float
    forecast_next_50: float
    trend: str = Field(description="learning | steady")
    p_learning: float
    recent_efficiency: float | None
    prior_efficiency: float
    confidence: str = Field(description="high | medium | low")
    double_counts: int
    interruptions: int
    updated_at: str | None = Field(description="RFC 3339")


class WorkerSkills(BaseModel):
    factory: str
    badge: str
    name: str
    line: str | None
    skill_group: str
    skills: list[SkillEstimate] = Field(description="best first")


def _projection(rt: Runtime) -> LearningProjection:
    p = rt.projection("learning")
    if not isinstance(p, LearningProjection):
        raise HTTPException(503, "the learning projection is not running")
    return p


def register(app: FastAPI, rt: Runtime) -> None:
    api = APIRouter(prefix="/api/v1", tags=["learning"])

    @api.get("/skills", responses=problems(400, 404, 422, 503))
    def skills(factory: str | None = None, line: str | None = None) -> dict[str, Any]:
        """Skill matrix, workers × operations: efficiency now, SE, interval, pieces, confidence, trend."""
        lay = factory_layout(rt, factory)
        if line is not None and line not in lay.lines:
            raise HTTPException(404, f"unknown line {line!r} in factory {lay.factory.id!r}; known: {sorted(lay.lines)}")
        proj = _projection(rt)
        ests = proj.estimates_beside(rt.pipeline.lock, lay.factory.id, line)
        proj.maybe_snapshot(rt.pipeline.lock)
        return skill_matrix(lay, ests, line)

    @api.get("/workers/{badge}/skills", response_model=WorkerSkills, responses=problems(400, 404, 422, 503))
    def worker_skills(badge: str, factory: str | None = None) -> dict[str, Any]:
        """One worker's estimates on every operation they have done, best first."""
        lay = factory_layout(rt, factory)
        w = lay.workers.get(badge)
        if w is None:
            raise HTTPException(404, f"unknown worker {badge!r} in factory {lay.factory.id!r}")
        proj = _projection(rt)
        ests = proj.estimates_beside(rt.pipeline.lock, lay.factory.id, worker=badge)
        cells = sorted((e.as_dict() for e in ests), key=lambda d: -float(d["efficiency"]))
        return {
            "factory": lay.factory.id,
            "badge": badge,
            "name": w.name,
            "line": w.line_id,
            "skill_group": w.skill_group,
            "skills": cells,
        }

    @api.get("/workers/{badge}/skills/{style}/{op}", responses=problems(400, 404, 422, 503))
    def worker_op(
        badge: str, style: str, op: str, factory: str | None = None, horizon_pieces: int = Query(50, ge=1, le=5000)
    ) -> dict[str, Any]:
        """Estimate for one worker on one operation; for a pair never seen, the shrinkage prior
        (the skill group's and the operation's factory-wide figure)."""
        lay = factory_layout(rt, factory)
        if badge not in lay.workers:
            raise HTTPException(404, f"unknown worker {badge!r}")
        s = lay.styles.get(style)
        if s is None or op not in s.op_map():
            raise HTTPException(404, f"unknown operation {style!r}/{op!r}")
        proj = _projection(rt)
        with rt.pipeline.lock:
            cell = proj.state.cells.get((lay.factory.id, badge, style, op))
            if cell is None:
                return {
                    "factory": lay.factory.id,
                    "worker": badge,
                    "style": style,
                    "op": op,
                    "n_pieces": 0,
                    "source": "prior",
                    "efficiency": round(proj.state.prior_estimate(lay.factory.id, badge, style, op), 4),
                }
            est = proj.state.estimate(cell)
            fc = proj.state.forecast(cell, horizon_pieces)
        return {**est.as_dict(), "source": "data", "horizon_pieces": horizon_pieces, "forecast": round(fc, 4)}

    @api.post("/skills/snapshot", responses=problems(503))
    def snapshot() -> dict[str, int]:
        """Write the current skill matrix to the ``learning_skills`` table now."""
        proj = _projection(rt)
        try:
            return {"rows": proj.snapshot(lock=rt.pipeline.lock)}
        except SnapshotError as e:
            raise HTTPException(503, str(e)) from None

    app.include_router(api)
