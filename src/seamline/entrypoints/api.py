"""The HTTP API (FastAPI): gateways post events, screens and tools read the live state.

Every bad request gets a 4xx with a message that says what to fix; OpenAPI at /openapi.json.
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import quote

import msgspec
from fastapi import APIRouter, FastAPI, HTTPException, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..adapters.event_store import RAW_PREVIEW_BYTES
from ..auth.roles import Principal, Role
from ..bootstrap import Runtime
from ..domain.events import MAX_PAYLOAD_BYTES, ProtocolError, split_batch
from ..domain.model import FactoryLayout
from ..plugins import optional_modules
from ..service_layer.ingest import RawEvent
from ..web.errors import PAGE_STATUSES, error_page, lang_of, wants_html
from ..web.page_worker import IngestFirst
from .auth_http import AuthConfig, install_auth, principal_of

MAX_EVENTS_PER_POST = 10_000
MAX_BODY_BYTES = 8 * 1024 * 1024
MAX_OFFSET = 2**31 - 1
MAX_QUARANTINE_PAGE = 500  # x 1 KiB previews: a page stays well under a megabyte


class Rejected(BaseModel):
    index: int = Field(description="position of the event in the posted array")
    id: str | None = Field(description="the event's id, when it could be read")
    reason: str


class IngestAnswer(BaseModel):
    accepted: int
    duplicate: int
    rejected: list[Rejected]


class Health(BaseModel):
    ok: bool = Field(description="false while ingest retries a batch the database does not take")
    mqtt: str = Field(description="the MQTT receiver's state, `off` without one")
    last_error: str | None = Field(
        description="the latest ingest error with its UTC time, also after recovery: a batch retried, or an event"
        " the database refused and the quarantine kept (signed-in callers only)"
    )
    clock: str = Field(
        default="wall",
        description="what event times are checked against: `wall` (the server's clock), or `demo:START@SPEEDx`"
        " for the demo's factory clock (set by `seamline demo` only)",
    )
    now: datetime = Field(description="that clock's time now: events more than 5 minutes after it are refused")


class FactorySummary(BaseModel):
    id: str
    name: str
    timezone: str
    lines: list[str]
    stations: int
    workers: int


class EfficiencyRow(BaseModel):
    """One worker, station, line or the factory; ``hours`` (same figures per clock hour) with ``hourly``."""

    model_config = ConfigDict(extra="allow")

    scope: str
    key: str
    pieces: int
    earned_min: float
    attended_min: float
    output: int
    defects: int
    efficiency_pct: float | None = Field(description="earned / attended minutes x 100; null without attendance")


class Efficiency(BaseModel):
    factory: str
    scope: Scope
    start: str = Field(description="RFC 3339, inclusive")
    end: str = Field(description="RFC 3339, exclusive")
    rows: list[EfficiencyRow]


QuarantineKind = Literal["invalid", "conflict", "failed"]


class QuarantineItem(BaseModel):
    qid: int
    received_at: datetime
    source: str = Field(description="mqtt | http | replay")
    topic: str | None
    factory_id: str | None
    station_id: str | None
    event_id: str | None
    raw: str = Field(
        description=f"the payload as received, its first {RAW_PREVIEW_BYTES} bytes (UTF-8, undecodable bytes"
        " replaced): GET /api/v1/quarantine/{qid} gives it whole"
    )
    raw_bytes: int = Field(description="the payload's whole size in bytes")
    raw_truncated: bool = Field(description="true when `raw` is only the start of the payload")
    reason: str
    kind: QuarantineKind = Field(
        description="invalid: breaks the protocol; conflict: a stored event's key with other content;"
        " failed: the database refused the event"
    )


class QuarantineEntry(BaseModel):
    qid: int
    received_at: datetime
    source: str = Field(description="mqtt | http | replay")
    topic: str | None
    factory_id: str | None
    station_id: str | None
    event_id: str | None
    raw: str = Field(description="the whole payload as text (UTF-8, undecodable bytes replaced)")
    raw_base64: str = Field(description="the whole payload exactly as received, base64")
    raw_bytes: int
    reason: str
    kind: QuarantineKind


class QuarantinePage(BaseModel):
    total: int = Field(description="rows in the quarantine (of `kind`, when given)")
    items: list[QuarantineItem]
    next_before: int | None = Field(description="pass as `before` for the next (older) page; null on the last page")


class Gap(BaseModel):
    model_config = ConfigDict(extra="allow")

    gid: int
    factory_id: str
    station_id: str
    expected_seq: int
    got_seq: int
    event_id: str
    detected_at: datetime


class Gaps(BaseModel):
    items: list[Gap]


class Problem(BaseModel):
    """Every 4xx (and 5xx) answer: one sentence that says what is wrong and what to send instead."""

    detail: str = Field(description="what is wrong with the request, and how to fix it")


# The handler reads the raw bytes (one decode, per-event verdicts), so the body is declared here:
# any JSON array; each element is judged on its own and a bad one is `rejected`, not a 4xx.
EVENTS_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "array",
                    "items": {
                        "description": "a sensor event with `factory` and `station` added (docs/sensor-protocol.md)"
                    },
                    "description": f"at most {MAX_EVENTS_PER_POST} events and {MAX_BODY_BYTES} bytes (else 413)",
                },
                "example": [
                    {
                        "id": "SEN-L1-07-000123",
                        "seq": 123,
                        "ts": "2026-11-26T09:15:02.250+08:00",
                        "type": "piece",
                        "factory": "xiaoshan",
                        "station": "L1-S07",
                        "bundle": "SO-2611-01-0004",
                        "op": "T05",
                        "qty": 1,
                    }
                ],
            }
        },
    }
}

_PROBLEM_TEXT = {
    400: "ambiguous or unreadable request (e.g. several factories loaded and no `factory` given)",
    404: "unknown factory, line, order, bundle, worker or figure",
    409: "refused by the current state (e.g. a lot is short, an order is already cut)",
    413: "too large: post smaller batches",
    422: "a parameter or body field is invalid (wrong type, out of range, a time without UTC offset)",
    500: "the server is misconfigured (e.g. an unreadable settings file); the message names it",
    503: "a feature's projection is not running",
}
# The 200 of a route answering a PDF document (bundle tickets, the owner's one-pager) or a page.
# Such routes use ``response_class=Response``: FastAPI files a route's error models under its
# response class's media type, and the errors are JSON.
PDF: dict[str, Any] = {
    "description": "a PDF document",
    "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
}
HTML: dict[str, Any] = {"description": "an HTML page", "content": {"text/html": {"schema": {"type": "string"}}}}

_RFC3339 = re.compile(r"\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d(:\d\d(\.\d+)?)?([Zz]|[+-]\d\d:\d\d)")


def _rfc3339(v: Any) -> Any:
    if isinstance(v, str) and not _RFC3339.fullmatch(v.strip()):
        raise ValueError("must be an RFC 3339 date-time with a UTC offset, e.g. 2026-11-26T08:00:00+08:00")
    return v


# A point in time as every route takes it: RFC 3339 with an offset, as the schema's `date-time`
# says. Pydantic alone would also take "0.5" (Unix seconds) or a time without offset.
Instant = Annotated[datetime, BeforeValidator(_rfc3339)]


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the error statuses a route can answer, each a ``Problem``: the schema
    lists every status a client must handle (checked by tests/integration/test_openapi_fuzz.py)."""
    return {c: {"model": Problem, "description": _PROBLEM_TEXT.get(c, "error")} for c in codes}


def content_disposition(disposition: str, filename: str) -> str:
    """A Content-Disposition value for any file name. Headers are Latin-1 and a badge or an order id
    may be Chinese (that was a 500), so: an ASCII fallback plus RFC 6266's UTF-8 ``filename*``."""
    plain = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in filename)
    return f"{disposition}; filename=\"{plain}\"; filename*=UTF-8''{quote(filename, safe='')}"


def validation_message(exc: RequestValidationError) -> str:
    """FastAPI's list of validation errors as one `Problem.detail` line: ``query.limit: Input should
    be greater than or equal to 1; ...``, so every 4xx has the same shape."""
    parts = []
    for e in exc.errors():
        where = ".".join(str(x) for x in e.get("loc", ()))
        parts.append(f"{where}: {e.get('msg', 'invalid')}" if where else str(e.get("msg", "invalid")))
    return "; ".join(parts) or "invalid request"


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


def create_app(rt: Runtime, auth: AuthConfig | None = None) -> FastAPI:
    """The web app. ``auth`` defaults to open (every request may do everything): what tests and
    `seamline demo` use; `seamline serve` passes ``AuthConfig(mode="required")``."""
    app = FastAPI(
        title="seamline",
        version="0.1.0",
        description="Manufacturing execution for garment sewing lines: sensor events in, live efficiency out.",
        docs_url=None,  # served below from the package, not from a CDN
    )
    app.state.runtime = rt
    _self_hosted_docs(app)
    install_auth(app, rt, auth or AuthConfig())
    app.add_middleware(IngestFirst, state=app.state)  # outermost: pages give way to a post (web/page_worker.py)
    api = APIRouter(prefix="/api/v1")
    bad = problems(400, 404, 422)

    @api.get("/health", response_model=Health)
    def health(request: Request) -> dict[str, Any]:
        """Up or not, for load balancers (no login); the last ingest error only for signed-in callers,
        since error texts can name hosts and tables."""
        signed_in = getattr(request.state, "principal", None) is not None
        return {
            "ok": rt.worker.retrying is None,
            "mqtt": rt.receiver.status if rt.receiver else "off",
            "last_error": rt.worker.last_error if signed_in else None,
            "clock": rt.live.demo_clock.describe() if rt.live.demo_clock is not None else "wall",
            "now": rt.pipeline.clock(),
        }

    @api.post("/events", response_model=IngestAnswer, responses=problems(400, 413), openapi_extra=EVENTS_BODY)
    async def post_events(request: Request) -> IngestAnswer:
        """Post a JSON array of sensor events, each with `factory` and `station` added.

        The answer counts accepted, duplicate (the same event already stored under its station,
        source and id) and rejected events; rejected ones (conflicts too: a stored key with other
        content) are kept in the quarantine with the reason given here. One event over 64 KiB
        refuses the whole post (413).
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
        for i, p in enumerate(payloads):
            if len(p) > MAX_PAYLOAD_BYTES:
                raise HTTPException(
                    413,
                    f"第 {i} 个事件有 {len(p)} 字节，超过 {MAX_PAYLOAD_BYTES} 字节上限 / event {i} is {len(p)}"
                    f" bytes; one event may have at most {MAX_PAYLOAD_BYTES} (docs/sensor-protocol.md)",
                )
        if not payloads:
            return IngestAnswer(accepted=0, duplicate=0, rejected=[])
        _check_own_stations(principal_of(request), payloads, rt)
        fut = rt.worker.submit_future([RawEvent(payload=p, source="http") for p in payloads])
        result = await asyncio.wrap_future(fut)
        return IngestAnswer(**result.as_dict())

    @api.get("/factories", response_model=list[FactorySummary], responses=problems(400, 422))
    def factories(request: Request, factory: str | None = None) -> list[dict[str, Any]]:
        """The factories loaded (for someone bound to one factory: only that one)."""
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
            if factory is None or lay.factory.id == factory
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
        as_of: Annotated[Instant | None, Query(description="default: the latest event time")] = None,
    ) -> dict[str, Any]:
        """A line right now: stations (worker, machine state, WIP, today's efficiency), hourly output
        against target, downtime by reason."""
        lay = factory_layout(rt, factory)
        if line not in lay.lines:
            raise HTTPException(404, f"unknown line {line!r}; lines: {sorted(lay.lines)}")
        pages = getattr(app.state, "web_pages", None)
        if pages is not None and pages.views is not None:
            # Computed on the pages' thread from their view of this tick, once per version, and
            # served as the same bytes to every reader (web/page_worker.py).
            views, f, at = pages.views, lay.factory.id, _aware("as_of", as_of)

            def compute() -> dict[str, Any]:
                return views.get()[0].line_live(f, line, at)

            if at is not None or rt.live.demo_clock is not None:  # a moment asked for, or a moving clock
                return pages.worker.run(compute)
            # Encoded once per version on the page thread (web/page_worker.encode, the bytes FastAPI
            # would send): no response-model validation and serialization per reader, and none of
            # it in the event loop that ingest's requests also wait for.
            enc = pages.worker.run(
                lambda: pages.get_encoded(
                    ("api_line_live", f"{f}/{line}", ""), lambda: rt.live.events_applied, compute, 0.0
                )
            )
            return Response(enc.body, media_type="application/json")  # type: ignore[return-value]
        with rt.pipeline.lock:  # a view in a millisecond; the page is computed outside the lock
            live = rt.live.frozen_view()
        return live.line_live(lay.factory.id, line, _aware("as_of", as_of))

    @api.get("/efficiency", response_model=Efficiency, response_model_exclude_unset=True, responses=bad)
    def efficiency(
        request: Request,
        scope: Scope = "worker",
        factory: str | None = None,
        start: Instant | None = None,
        end: Instant | None = None,
        key: str | None = None,
        hourly: bool = False,
        as_of: Instant | None = None,
    ) -> dict[str, Any]:
        """Pieces, earned and attended minutes and efficiency % per worker, station, line or factory
        for [start, end) (clock hours; default: today, factory time)."""
        lay = factory_layout(rt, factory)
        f = lay.factory.id
        _aware("start", start)
        _aware("end", end)
        _aware("as_of", as_of)
        with rt.pipeline.lock:
            live = rt.live.frozen_view()
        now = live.as_of(f, as_of)
        day_start, day_end = live.day_bounds(f, now)
        s = start or day_start
        e = end or (s + timedelta(days=1) if start else day_end)
        if e <= s:
            raise HTTPException(422, "`end` must be after `start`")
        if e - s > timedelta(days=93):
            raise HTTPException(422, "ranges are limited to 93 days")
        rows = live.efficiency(f, scope, s, e, as_of, hourly=hourly)
        if key is not None:
            rows = [r for r in rows if r["key"] == key]
        rows = _own_rows(principal_of(request), lay, scope, rows)
        return {"factory": f, "scope": scope, "start": s.isoformat(), "end": e.isoformat(), "rows": rows}

    @api.get("/quarantine", response_model=QuarantinePage, responses=problems(400, 422))
    def quarantine(
        limit: Annotated[int, Query(ge=1, le=MAX_QUARANTINE_PAGE)] = 100,
        # Bounded: the databases take a 64-bit OFFSET, and 2**63 used to end in a 500.
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
        before: Annotated[
            int | None, Query(ge=1, le=2**63 - 1, description="cursor: only rows with a `qid` below this")
        ] = None,
        kind: QuarantineKind | None = None,
    ) -> dict[str, Any]:
        """Rejected payloads, newest first, with the reason and the start of the raw payload.

        Page with `before` (the previous page's `next_before`), which stays right while new
        rejects arrive; `offset` also works. One whole payload: `/quarantine/{qid}`."""
        items = rt.store.quarantine(limit, offset, before=before, kind=kind)
        return {
            "total": rt.store.count_quarantine(kind),
            "items": items,
            "next_before": items[-1]["qid"] if len(items) == limit else None,
        }

    @api.get("/quarantine/{qid}", response_model=QuarantineEntry, responses=problems(404, 422))
    def quarantine_entry(qid: Annotated[int, Path(ge=1, le=2**63 - 1)]) -> dict[str, Any]:
        """One rejected payload, whole: as text and exactly as received (base64)."""
        entry = rt.store.quarantine_entry(qid)
        if entry is None:
            raise HTTPException(404, f"找不到隔离记录 {qid} / no quarantine entry {qid}")
        return entry

    @api.get("/gaps", response_model=Gaps, responses=problems(400, 422))
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

    # Starlette's class, so the router's own 404/405 are answered here too, not only ours.
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        """Browsers get 401/403/404 as translated pages (web/errors.py); API clients the JSON."""
        if exc.status_code in PAGE_STATUSES and wants_html(request.headers.get("accept")):
            lang = lang_of(request.url.query, request.headers.get("cookie"))
            path = request.url.path + ("?" + request.url.query if request.url.query else "")
            html = error_page(exc.status_code, lang, str(exc.detail), path)
            return HTMLResponse(html, status_code=exc.status_code, headers=exc.headers)
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": validation_message(exc)}, status_code=422)

    # Feature routers (pages, planning, quality, ...) register themselves like the CLI does.
    for mod in optional_modules(FEATURE_ROUTERS):
        mod.register(app, rt)
    return app


VENDOR = "/web/static/vendor"


def _self_hosted_docs(app: FastAPI) -> None:
    """/docs with Swagger UI's files from the package (FastAPI's "self-hosting JavaScript and CSS for
    docs"): FastAPI's default loads them from a CDN, which a factory network without internet
    access cannot reach, and the page stayed blank. scripts/vendor-frontend.sh fetches them."""
    from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html

    oauth2 = app.swagger_ui_oauth2_redirect_url or "/docs/oauth2-redirect"

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=oauth2,
            swagger_js_url=f"{VENDOR}/swagger-ui-bundle.js",
            swagger_css_url=f"{VENDOR}/swagger-ui.css",
            swagger_favicon_url=f"{VENDOR}/swagger-favicon-32x32.png",
        )

    @app.get(oauth2, include_in_schema=False)
    def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()


FEATURE_ROUTERS = (
    "seamline.entrypoints.api_auth",
    "seamline.web.routes",
    "seamline.entrypoints.api_planning",
    "seamline.entrypoints.api_quality",
    "seamline.entrypoints.api_compliance",
    "seamline.entrypoints.api_learning",
    "seamline.entrypoints.api_materials",
    "seamline.entrypoints.api_roi",
    "seamline.entrypoints.api_counting",
    "seamline.entrypoints.api_directives",
    "seamline.entrypoints.api_orders",
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


class _Where(msgspec.Struct):
    factory: str | None = None
    station: str | None = None


def _check_own_stations(p: Principal, payloads: list[bytes], rt: Runtime) -> None:
    """A paired tablet posts only its own station's events, a supervisor only their lines', and
    anyone bound to a factory (a gateway token, say) only that factory's."""
    if p.kind == "open" or p.is_admin:
        return
    unlimited = not p.roles.isdisjoint({Role.GATEWAY, Role.QA})
    if unlimited and not p.factory:
        return
    for i, raw in enumerate(payloads):
        try:
            w = msgspec.json.decode(raw, type=_Where)
        except (msgspec.DecodeError, msgspec.ValidationError, RecursionError, UnicodeDecodeError):
            raise HTTPException(403, f"event {i}: unreadable, and {p.name} may post only its own events") from None
        if p.factory and w.factory != p.factory:
            raise HTTPException(403, f"event {i}: {p.name} may post only factory {p.factory!r}'s events")
        if unlimited:
            continue
        lay = rt.layouts.get(w.factory or "")
        st = lay.stations.get(w.station or "") if lay else None
        if Role.WORKER in p.roles and p.station is not None and (w.station, w.factory) == (p.station, p.factory):
            continue
        if Role.SUPERVISOR in p.roles and st is not None and st.line_id in p.lines:
            continue
        raise HTTPException(403, f"event {i}: {p.name} may not post events for station {w.station!r}")


def _own_rows(p: Principal, lay: FactoryLayout, scope: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A supervisor's efficiency rows: their lines, their lines' stations, their lines' workers."""
    if not p.line_limited():
        return rows
    if scope == "factory":
        raise HTTPException(403, f"{p.name} sees only their own lines: ask for scope=line, station or worker")
    if scope == "line":
        keep = set(p.lines)
    elif scope == "station":
        keep = {s for s, st in lay.stations.items() if st.line_id in p.lines}
    else:
        keep = {b for b, w in lay.workers.items() if w.line_id in p.lines}
    return [r for r in rows if r["key"] in keep]
