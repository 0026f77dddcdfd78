"""Quality API: live DHU and Pareto, AQL sampling plans, traceability of bundles and defects."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, HTTPException, Query
from pydantic import BaseModel, Field

from ..bootstrap import Runtime
from ..quality import aql as aql_tables
from ..quality.projection import QualityProjection
from ..quality.store import bundle_lot_map
from ..quality.trace import _bundle_from
from .api import Instant, factory_layout, problems

# The plan lookup takes the levels and AQL headings the standard prints; the schema lists them, so a
# client sees the choices and a typo is a 422 before the lookup.
# The choices are data (``aql_tables``), so to the type checker they are strings.
if TYPE_CHECKING:
    Level = str
    Aql = str
else:
    Level = Literal[aql_tables.LEVELS]
    Aql = Literal[tuple(aql_tables.aql_values())]


class AqlPlan(BaseModel):
    code_letter: str
    sample_size: int = Field(description="pieces to draw from the lot")
    accept: int = Field(description="Ac: accept the lot with at most this many nonconforming")
    reject: int = Field(description="Re: reject it with this many or more")
    inspect_100_percent: bool | None = Field(None, description="present (true) when the sample is the whole lot")


class DhuFigures(BaseModel):
    pieces: int
    defects: int
    defective: int = Field(description="pieces with at least one defect")
    dhu: float | None = Field(description="defects per hundred units; null without pieces")
    pct_defective: float | None


class ParetoRow(BaseModel):
    code: str
    defects: int
    pct: float
    cum_pct: float


class DhuSnapshot(BaseModel):
    factory: str
    since: str | None
    until: str | None
    total: DhuFigures
    operation: dict[str, DhuFigures] = Field(default_factory=dict, description="by `STYLE/OP`")
    worker: dict[str, DhuFigures] = Field(default_factory=dict)
    station: dict[str, DhuFigures] = Field(default_factory=dict)
    line: dict[str, DhuFigures] = Field(default_factory=dict)
    by_hour: dict[str, DhuFigures] = Field(description="by factory-local clock hour (RFC 3339)")
    by_line_hour: dict[str, DhuFigures] = Field(description="by `LINE@hour`")
    pareto: list[ParetoRow] = Field(description="defect codes, most frequent first")


class QualityAlert(BaseModel):
    factory: str
    scope: str = Field(description="worker | operation")
    key: str
    day: date
    ts: datetime
    dhu: float
    pieces: int
    defects: int
    threshold: float
    message: str


def _jsonable(x: Any) -> Any:
    if isinstance(x, datetime):
        return x.isoformat()
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    return x


def register(app: FastAPI, rt: Runtime) -> None:
    r = APIRouter(prefix="/api/v1/quality", tags=["quality"])

    def proj() -> QualityProjection:
        p = rt.projection("quality")
        assert isinstance(p, QualityProjection)
        return p

    def factory_id(factory: str | None) -> str:
        return factory_layout(rt, factory).factory.id

    @r.get("/dhu", response_model=DhuSnapshot, responses=problems(400, 404, 422))
    def dhu(
        factory: str | None = None,
        line: str | None = None,
        since: Instant | None = None,
        until: Instant | None = None,
    ) -> dict[str, Any]:
        """DHU and % defective per operation, worker, station and line, with the defect Pareto."""
        for name, d in (("since", since), ("until", until)):
            if d is not None and d.tzinfo is None:
                raise HTTPException(422, f"`{name}` needs a UTC offset")
        f = factory_id(factory)
        # Past hours are read from the rollup table outside the ingest lock.
        snap = proj().dhu.snapshot_beside(rt.pipeline.lock, f, since=since, until=until, line=line)
        return _jsonable(snap.as_dict())

    @r.get("/alerts", response_model=list[QualityAlert], responses=problems(400, 404, 422))
    def alerts(factory: str | None = None, limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[dict]:
        f = factory_id(factory)
        with rt.pipeline.lock:
            items = [a for a in proj().dhu.alerts if a.factory == f][-limit:]
            return [{**_jsonable(asdict(a)), "message": a.message} for a in items]

    @r.get("/aql", response_model=AqlPlan, response_model_exclude_unset=True, responses=problems(422))
    def aql(
        lot_size: Annotated[int, Query(ge=2)],
        level: Level = "II",
        aql: Aql = "2.5",
        inspection: Literal["normal", "tightened", "reduced"] = "normal",
    ) -> dict[str, Any]:
        """The ISO 2859-1 single sampling plan for a lot (arrows already followed)."""
        try:
            plan = aql_tables.sampling_plan(lot_size, level, aql, inspection)
        except (ValueError, KeyError) as e:
            raise HTTPException(422, str(e)) from None
        return plan.as_dict()

    @r.get("/trace/bundle/{bundle}", responses=problems(400, 404, 422))
    def trace_bundle(bundle: str, factory: str | None = None) -> dict[str, Any]:
        """A bundle's order, style, fabric lot, every production step (who, where, when) and defects."""
        f = factory_id(factory)
        layout = rt.layouts[f]
        if bundle not in layout.bundles:
            raise HTTPException(404, f"unknown bundle {bundle!r}")
        lots = bundle_lot_map(rt.engine, f)
        with rt.pipeline.lock:
            return _jsonable(asdict(_bundle_from(proj().dhu, layout, bundle, lots)))

    @r.get("/trace/defect/{event_id}", responses=problems(400, 404, 422))
    def trace_defect(event_id: str, factory: str | None = None) -> dict[str, Any]:
        """A reported defect → bundle, operation, the worker and station that made it, when, fabric lot."""
        f = factory_id(factory)
        with rt.pipeline.lock:
            rec = next((d for d in proj().dhu.defects if d.event_id == event_id and d.factory == f), None)
            if rec is None:
                raise HTTPException(404, f"no defect event {event_id!r}")
            out = _jsonable(asdict(rec))
        lot = bundle_lot_map(rt.engine, f).get(rec.bundle)
        out["fabric_lot"] = lot[0] if lot else None
        return out

    app.include_router(r)
