"""HTTP endpoints of counting from motor bursts (issue #20): the supervisor's misfit flags, the
reconciliations of counted vs scanned bundles, the bundles in work, the learned signatures and
the sensor-only stations' estimated counts."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException, Query

from ..bootstrap import Runtime
from ..service_layer.counting import CountingProjection
from .api import factory_layout, problems


def _projection(rt: Runtime) -> CountingProjection:
    p = rt.projection("motor_counts")
    if not isinstance(p, CountingProjection):
        raise HTTPException(503, "计数投影未运行 / the counting projection is not running")
    return p


def register(app: FastAPI, rt: Runtime) -> None:
    api = APIRouter(prefix="/api/v1/counting", tags=["counting"])

    @api.get("/flags", responses=problems(400, 404, 422, 503))
    def flags(factory: str | None = None) -> dict[str, Any]:
        """Bundles whose motor bursts do not fit the operation's signature (rework, a wrong
        operation, a broken sensor), newest first."""
        lay = factory_layout(rt, factory)
        p = _projection(rt)
        with rt.pipeline.lock:
            return {"factory": lay.factory.id, "flags": p.flags(lay.factory.id)}

    @api.get("/bundles", responses=problems(400, 404, 422, 503))
    def bundles(factory: str | None = None, limit: int = Query(200, ge=1, le=5000)) -> dict[str, Any]:
        """Bundles in work (pieces counted so far) and the latest reconciliations (counted vs scanned)."""
        lay = factory_layout(rt, factory)
        p = _projection(rt)
        with rt.pipeline.lock:
            return {
                "factory": lay.factory.id,
                "open": p.open_bundles(lay.factory.id),
                "reconciled": p.reconciliations(lay.factory.id, limit),
            }

    @api.get("/signatures", responses=problems(400, 404, 422, 503))
    def signatures(factory: str | None = None) -> dict[str, Any]:
        """Per operation: known bundles, per-piece bursts / trims / run seconds and their spread."""
        lay = factory_layout(rt, factory)
        p = _projection(rt)
        with rt.pipeline.lock:
            return {"factory": lay.factory.id, "signatures": p.signatures(lay.factory.id)}

    @api.get("/sensor-only", responses=problems(400, 404, 422, 503))
    def sensor_only(factory: str | None = None, limit: int = Query(200, ge=1, le=5000)) -> dict[str, Any]:
        """Stations with a motor sensor and no tablet: the operation inferred for each, pieces
        estimated per bundle, reconciliations by downstream scans, and per worker and day the
        estimated and the confirmed pieces (not piece events: piece-rate pay does not include them)."""
        lay = factory_layout(rt, factory)
        p = _projection(rt)
        with rt.pipeline.lock:
            return {"factory": lay.factory.id, **p.sensor_only_stations(lay.factory.id, limit)}

    app.include_router(api)
