"""The HTTP API (FastAPI): gateways post events, screens and tools read the live state.

Every bad request gets a 4xx with a message that says what to fix; OpenAPI at /openapi.json.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from ..bootstrap import Runtime
from ..domain.events import ProtocolError, split_batch
from ..domain.model import FactoryLayout
from ..plugins import optional_modules
from ..service_layer.ingest import RawEvent

MAX_EVENTS_PER_POST = 10_000
MAX_BODY_BYTES = 8 * 1024 * 1024


class Rejected(BaseModel):
    index: int = Field(description="position of the event in the posted array")
    id: str | None = Field(description="the event's id, when it could be read")
    reason: str


class IngestAnswer(BaseModel):
    accepted: int
    duplicate: int
    rejected: list[Rejected]


class Problem(BaseModel):
    detail: str


Scope = Literal["worker", "station", "line", "factory"]


def factory_layout(rt: Runtime, factory: str | None) -> FactoryLayout:
    """The factory a request means: the one named, or the only one loaded; 4xx otherwise.
    Feature routers use this too, so every route answers a missing or unknown factory alike."""
    if factory is None:
        if len(rt.layouts) == 1:
            return next(iter(rt.layouts.values()))
        if not rt.layouts:
            raise HTTPException(404, "no factory is loaded yet: import a layout first (seamline import)")
        raise HTTPException(400, f"several factories are loaded; pass ?factory= one of {sorted(rt.layouts)}")
    layout = rt.layouts.get(factory)
    if layout is None:
        raise HTTPException(404, f"unknown factory {factory!r}; known: {sorted(rt.layouts)}")
    return layout


def _aware(name: str, d: datetime | None) -> datetime | None:
    if d is not None and d.tzinfo is None:
        raise HTTPException(422, f"`{name}` must carry a UTC offset, e.g. 2026-11-26T08:00:00+08:00")
    return d


def create_app(rt: Runtime) -> FastAPI:
    app = FastAPI(
        title="seamline",
        version="0.1.0",
        description="Manufacturing execution for garment sewing lines: sensor events in, live efficiency out.",
    )
    app.state.runtime = rt
    api = APIRouter(prefix="/api/v1")
    bad = {400: {"model": Problem}, 404: {"model": Problem}, 422: {"model": Problem}}

    @api.get("/health")
    def health() -> dict[str, Any]:
        return {
            "ok": rt.worker.last_error is None,
            "mqtt": rt.receiver.status if rt.receiver else "off",
            "last_error": rt.worker.last_error,
        }

    @api.post("/events", response_model=IngestAnswer, responses={**bad, 413: {"model": Problem}})
    async def post_events(request: Request) -> IngestAnswer:
        """Post a JSON array of sensor events, each with `factory` and `station` added.

        The answer counts accepted, duplicate (an id already stored) and rejected events; rejected
        ones are kept in the quarantine with the reason given here.
        """
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            raise HTTPException(413, f"body over {MAX_BODY_BYTES} bytes: post smaller batches")
        try:
            payloads = split_batch(body)
        except ProtocolError as e:
            raise HTTPException(400, str(e)) from None
        if len(payloads) > MAX_EVENTS_PER_POST:
            raise HTTPException(413, f"{len(payloads)} events in one post; at most {MAX_EVENTS_PER_POST}")
        if not payloads:
            return IngestAnswer(accepted=0, duplicate=0, rejected=[])
        fut = rt.worker.submit_future([RawEvent(payload=p, source="http") for p in payloads])
        result = await asyncio.wrap_future(fut)
        return IngestAnswer(**result.as_dict())

    @api.get("/factories")
    def factories() -> list[dict[str, Any]]:
        return [
            {
                "id": lay.factory.id,
                "name": lay.factory.name,
                "timezone": lay.factory.timezone,
                "lines": sorted(lay.lines),
                "stations": len(lay.stations),
                "workers": len(lay.workers),
            }
            for lay in rt.layouts.values()
        ]

    @api.get("/factories/{factory}/model", responses=bad)
    def model(factory: str) -> dict[str, Any]:
        """The factory's master data: lines, stations, workers, styles with bulletins, orders, calendars."""
        lay = factory_layout(rt, factory)
        return {
            "factory": {"id": lay.factory.id, "name": lay.factory.name, "timezone": lay.factory.timezone},
            "calendars": [
                {
                    "id": c.id,
                    "timezone": c.timezone,
                    "shift_start": c.shift_start.isoformat(),
                    "shift_end": c.shift_end.isoformat(),
                    "breaks": [
                        {"start": b.start.isoformat(), "end": b.end.isoformat(), "name": b.name} for b in c.breaks
                    ],
                    "workdays": list(c.workdays),
                }
                for c in lay.calendars.values()
            ],
            "lines": [vars_(x) for x in lay.lines.values()],
            "stations": [vars_(x) for x in lay.stations.values()],
            "workers": [vars_(x) for x in lay.workers.values()],
            "styles": [
                {
                    "code": s.code,
                    "name_zh": s.name_zh,
                    "name_en": s.name_en,
                    "bundle_size": s.bundle_size,
                    "sam_min": round(s.sam_min, 4),
                    "operations": [vars_(o) for o in s.operations],
                }
                for s in lay.styles.values()
            ],
            "orders": [
                {
                    "id": o.id,
                    "customer": o.customer,
                    "style_code": o.style_code,
                    "due": o.due.isoformat(),
                    "quantity": o.quantity,
                    "quantities": [{"size": sz, "colour": c, "qty": q} for (sz, c), q in sorted(o.quantities.items())],
                }
                for o in lay.orders.values()
            ],
            "bundles": len(lay.bundles),
        }

    @api.get("/lines/{line}/live", responses=bad)
    def line_live(
        line: str,
        factory: str | None = None,
        as_of: Annotated[datetime | None, Query(description="default: the latest event time")] = None,
    ) -> dict[str, Any]:
        """A line right now: stations (worker, machine state, WIP, today's efficiency), hourly output
        against target, downtime by reason."""
        lay = factory_layout(rt, factory)
        if line not in lay.lines:
            raise HTTPException(404, f"unknown line {line!r}; lines: {sorted(lay.lines)}")
        with rt.pipeline.lock:
            return rt.live.line_live(lay.factory.id, line, _aware("as_of", as_of))

    @api.get("/efficiency", responses=bad)
    def efficiency(
        scope: Scope = "worker",
        factory: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        key: str | None = None,
        hourly: bool = False,
        as_of: datetime | None = None,
    ) -> dict[str, Any]:
        """Pieces, earned and attended minutes and efficiency % per worker, station, line or factory
        for [start, end) (clock hours; default: today, factory time)."""
        lay = factory_layout(rt, factory)
        f = lay.factory.id
        _aware("start", start)
        _aware("end", end)
        _aware("as_of", as_of)
        with rt.pipeline.lock:
            now = rt.live.as_of(f, as_of)
            day_start, day_end = rt.live.day_bounds(f, now)
            s = start or day_start
            e = end or (s + timedelta(days=1) if start else day_end)
            if e <= s:
                raise HTTPException(422, "`end` must be after `start`")
            if e - s > timedelta(days=93):
                raise HTTPException(422, "ranges are limited to 93 days")
            rows = rt.live.efficiency(f, scope, s, e, as_of, hourly=hourly)
        if key is not None:
            rows = [r for r in rows if r["key"] == key]
        return {"factory": f, "scope": scope, "start": s.isoformat(), "end": e.isoformat(), "rows": rows}

    @api.get("/quarantine")
    def quarantine(
        limit: Annotated[int, Query(ge=1, le=1000)] = 100, offset: Annotated[int, Query(ge=0)] = 0
    ) -> dict[str, Any]:
        """Rejected payloads, newest first, with the reason and the raw bytes as received."""
        return {"total": rt.store.count_quarantine(), "items": rt.store.quarantine(limit, offset)}

    @api.get("/gaps")
    def gaps(factory: str | None = None, limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict[str, Any]:
        """Sequence gaps per station: events a sensor numbered but that never arrived (or a reset)."""
        return {"items": rt.store.gaps(factory, limit)}

    @api.get("/ingest/status")
    def ingest_status() -> dict[str, Any]:
        with rt.pipeline.lock:
            stations = {
                f"{f}/{s}": {"last_seq": st.last_seq, "last_ts": st.last_ts.isoformat() if st.last_ts else None}
                for (f, s), st in rt.live.stations.items()
            }
            return {
                "counters": dict(rt.pipeline.counters),
                "events_applied": rt.live.events_applied,
                "replayed_at_start": rt.replayed,
                "mqtt": rt.receiver.status if rt.receiver else "off",
                "mqtt_received": rt.receiver.received if rt.receiver else 0,
                "queue": rt.worker.q.qsize(),
                "projection_lag": len(rt.pipeline.pending),
                "latest_ts": {f: t.isoformat() for f, t in rt.live.latest_ts.items()},
                "stations": stations,
            }

    app.include_router(api)

    @app.exception_handler(HTTPException)
    async def http_error(_request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)

    # Feature routers (pages, planning, quality, ...) register themselves like the CLI does.
    for mod in optional_modules(FEATURE_ROUTERS):
        mod.register(app, rt)
    return app


FEATURE_ROUTERS = (
    "seamline.web.routes",
    "seamline.entrypoints.api_planning",
    "seamline.entrypoints.api_quality",
    "seamline.entrypoints.api_compliance",
    "seamline.entrypoints.api_learning",
    "seamline.entrypoints.api_materials",
    "seamline.entrypoints.api_roi",
)


def vars_(obj: Any) -> dict[str, Any]:
    """A frozen dataclass as JSON-ready data (tuples to lists, times to ISO strings)."""
    from dataclasses import fields

    out = {}
    for f in fields(obj):
        v = getattr(obj, f.name)
        if isinstance(v, tuple):
            v = list(v)
        elif hasattr(v, "isoformat"):
            v = v.isoformat()
        out[f.name] = v
    return out
