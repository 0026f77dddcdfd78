"""The pages' routes: server-rendered first paint, then Server-Sent Events with fresh page data.

Each page is a Jinja2 template (labels through gettext) plus a small script that places the page
data; the same data arrives over SSE at most once a second when live state changed, so an event
reaches the screen within about 1.5 s of its ingest (0.25 s poll + at most 1 s throttle + render).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Callable
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sse_starlette import EventSourceResponse

from ..domain.live import LiveState
from ..pay.store import RateCards
from ..service_layer.line_direction import director
from ..service_layer.plan_board import PlanBoards
from . import auth_pages, board, direction, nav, pwa, screens, tablet, views
from .i18n import LANGS, N_, Fmt, pick_lang, translations
from .page_worker import Encoded, IngestGate, PageWorker, encode, not_modified
from .progress import OrderProgress, attach

HERE = Path(__file__).parent
STATIC_PREFIX = "/web/static"
POLL_S = 0.25
MIN_PUSH_INTERVAL_S = 1.0
LANG_COOKIE = "seamline_lang"

# Strings the scripts show; rendered into every page as a JSON catalog in the page's language.
JS_STRINGS: dict[str, str] = {
    "offline_queued": N_("Offline — {n} queued"),
    "sending": N_("Sending {n}…"),
    "output": N_("Output"),
    "target": N_("Target"),
    "bottleneck": N_("Bottleneck"),
    "no_alerts": N_("No alerts"),
    "no_task": N_("No task yet: waiting for the first bundle"),
    "end_downtime": N_("End: {reason}"),
    "sent": N_("Sent"),
    "queued": N_("Queued"),
    "undo_defect": N_("Undo: {defect}"),
    "defect_undone": N_("Defect taken back"),
    "no_bundle": N_("No bundle at the station"),
    "no_orders_at_risk": N_("No orders at risk"),
    "no_balance": N_("No pieces yet today"),
    "load": N_("Load"),
    "at_risk": N_("At risk"),
    "on_time": N_("On time"),
    "last_update": N_("Last update {time}"),
    "data_age": N_("Data from {n} min ago"),
    "station": N_("Station"),
    "operator": N_("Operator"),
    "operations": N_("Operations (share of pieces)"),
    "std_min_per_garment": N_("Std min / garment"),
    "bundle_started": N_("Bundle {bundle} started"),
    "bundle_done": N_("Bundle {bundle} done: {n} pieces"),
    "same_bundle": N_("Bundle {bundle} is already in work"),
    "no_camera": N_("No camera: type the code or use the scanner"),
    "no_op": N_("No operation known for this bundle yet"),
    "counted": N_("{n} counted / {qty}"),
    "no_suggestion": N_("No single move gains output now"),
    "move_accepted": N_("Accepted: {move}"),
    "move_refused": N_("Not accepted ({status}): reload the page"),
    "not_paired": N_("This tablet is not paired to this station: taps are kept; ask your supervisor"),
}


@cache
def jinja_env(lang: str) -> Environment:
    """One environment per language, so gettext is bound once and never per request."""
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
    )
    # install_gettext_translations is added to the environment by the jinja2.ext.i18n extension at run time.
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    return env


class SharedPages:
    """One computation per page per tick, shared by every reader of that page.

    Keyed by (kind, key, language). A reader gets the cached data if live state has not changed
    since it was computed, or (``max_age_s`` > 0, the streams) if it is younger than that; else
    one reader computes it while the others of the same page wait for that result instead of
    computing it again. So N open screens of one line cost one computation a second, not N, and
    the ingest lock is taken once per page per tick. The data is kept encoded too (JSON bytes and
    their ETag, web/page_worker.py): every reader of a version gets the same bytes.
    """

    def __init__(self, gate: IngestGate | None = None) -> None:
        self._data: dict[tuple[str, str, str], tuple[int, float, Encoded]] = {}
        self._locks: dict[tuple[str, str, str], threading.Lock] = {}
        self._guard = threading.Lock()
        self.computed = 0
        self.views: SharedViews | None = None  # forgotten with the pages
        self.gate = gate or IngestGate()
        self.worker = PageWorker(self.gate)  # the one thread pages are computed on

    def get(
        self, page: tuple[str, str, str], applied: Callable[[], int], fn: Callable[[], dict[str, Any]], max_age_s: float
    ) -> dict[str, Any]:
        return self.get_encoded(page, applied, fn, max_age_s).data

    def get_encoded(
        self, page: tuple[str, str, str], applied: Callable[[], int], fn: Callable[[], dict[str, Any]], max_age_s: float
    ) -> Encoded:
        with self._guard:
            lock = self._locks.setdefault(page, threading.Lock())
        with lock:
            hit = self._data.get(page)
            now = time.monotonic()
            if hit is not None and (hit[0] == applied() or now - hit[1] < max_age_s):
                return hit[2]
            seen = applied()
            enc = encode(fn())
            self.computed += 1
            self._data[page] = (seen, time.monotonic(), enc)
            return enc

    def forget(self, kind: str) -> None:
        """Drop every cached copy of a kind of page (the plan after a confirmed move)."""
        with self._guard:
            for page in [p for p in self._data if p[0] == kind]:
                self._data.pop(page, None)

    def invalidate(self) -> None:
        """Forget every page (a supervisor's directive changed them without a new event)."""
        with self._guard:
            self._data.clear()
        if self.views is not None:
            self.views.forget()


class SharedViews:
    """One frozen view of live state (and order progress) per version, shared by every page.

    Taking a view costs the ingest lock for about a millisecond; pages computed from the same view
    also share figures through ``LiveState.memo`` (the overview computes every line's data, the line
    page of the same tick reuses it). A view is taken again once an event was applied, or after
    ``forget`` (a directive changed what pages show without an event).
    """

    def __init__(self, rt: Any, progress: OrderProgress, pause: Callable[[], None] | None = None) -> None:
        self.rt, self.progress, self.pause = rt, progress, pause
        self._guard = threading.Lock()
        self._last: tuple[int, LiveState, OrderProgress] | None = None

    def get(self) -> tuple[LiveState, OrderProgress]:
        rt = self.rt
        if self.pause is not None:
            self.pause()  # take the view (and the ingest lock) when ingest is not at work
        with self._guard:
            last = self._last
            if last is not None and last[0] == rt.live.events_applied and rt.live.demo_clock is None:
                return last[1], last[2]
            with rt.pipeline.lock:
                rt.pipeline.catch_up()  # the order-progress projection must have every event
                live, prog = rt.live.frozen_view(), self.progress.frozen_view()
                waiting = rt.projection("waiting")
                if live.view_memo is not None and hasattr(waiting, "frozen_view"):
                    live.view_memo["waiting"] = waiting.frozen_view()
                applied = rt.live.events_applied
            self._last = (applied, live, prog)
            return live, prog

    def forget(self) -> None:
        with self._guard:
            self._last = None


def _lang(request: Request) -> str:
    return pick_lang(request.query_params.get("lang"), request.cookies.get(LANG_COOKIE))


def _projection(rt: Any, name: str) -> Any:
    return next((p for p in rt.pipeline.projections if getattr(p, "name", "") == name), None)


def _bundle_fields(rt: Any, lay: Any, station: str | None) -> dict[str, Any]:
    """The tablet's bundle scan needs the open bundle's quantity and what was reported of it."""
    proj = next((p for p in rt.pipeline.projections if getattr(p, "name", "") == "motor_counts"), None)
    if proj is None or station is None:
        return {"open_bundle": None}
    return proj.station_bundle(lay.factory.id, station)


COUNT_FLAG_TEXT = {
    "too_many_bursts": N_("{station}: bundle {bundle} has {a} motor bursts for {b} pieces ({c} expected)"),
    "over_quantity": N_("{station}: {a} pieces counted from the motor, bundle {bundle} has {b}"),
    "no_bursts": N_("{station}: bundle {bundle} reported without motor bursts: sensor?"),
    "too_few_trims": N_("{station}: bundle {bundle} has {a} thread trims for {b} pieces ({c} expected): trimmer off?"),
}


def _with_count_flags(d: dict[str, Any], rt: Any, lay: Any, line: str | None, fmt: Fmt) -> dict[str, Any]:
    """The supervisor's alerts also list motor counts that do not fit (service_layer/counting.py)."""
    proj = next((p for p in rt.pipeline.projections if getattr(p, "name", "") == "motor_counts"), None)
    c = proj.counters.get(lay.factory.id) if proj is not None else None
    if c is None or not c.flags:
        return d
    extra = []
    for fl in reversed(c.flags):
        st = lay.stations.get(fl.station)
        if st is None or st.line_id != line:
            continue
        a, b, cc = (*fl.figures, 0, 0, 0)[:3]
        text = fmt.gettext(COUNT_FLAG_TEXT[fl.kind]).format(station=fl.station, bundle=fl.bundle, a=a, b=b, c=cc)
        extra.append({"kind": "count_" + fl.kind, "station": fl.station, "text": text})
        if len(extra) >= 10:
            break
    return {**d, "alerts": [*d.get("alerts", []), *extra]}


def register(app: FastAPI, rt: Any) -> None:
    """Mount the pages on the API app (called by ``create_app`` when this module exists)."""
    progress: OrderProgress = attach(rt)
    auth_pages.register(app, jinja_env)
    pwa.register(app)
    app.state.web_progress = progress
    worker_q = getattr(getattr(rt, "worker", None), "q", None)

    def ingest_queued() -> bool:
        return worker_q is not None and not worker_q.empty()

    gate = app.state.ingest_gate = IngestGate(ingest_queued)
    shared = app.state.web_pages = SharedPages(gate)
    pager = shared.worker
    boards = app.state.plan_boards = PlanBoards(rt.engine)  # the planner's board (web/board.py)
    cards = app.state.web_rate_cards = RateCards(rt.engine)
    app.mount(STATIC_PREFIX, StaticFiles(directory=HERE / "static"), name="web-static")

    PageFn = Callable[[LiveState, OrderProgress], dict[str, Any]]

    def builder(kind: str, key: str | None, lang: str) -> PageFn:
        """A function computing a page's data from a view of live state; 404 if the key is unknown."""
        fmt = Fmt(lang)
        layouts = rt.layouts
        try:
            if kind == "station":
                lay = views.find_station(layouts, key or "")
                return lambda live, _p: direction.station_page(
                    director(rt),
                    live,
                    lay,
                    key or "",
                    fmt,
                    {
                        **views.station_data(live, lay, key or "", fmt),
                        **_bundle_fields(rt, lay, key or ""),
                        **tablet.tablet_fields(live, lay, key or "", fmt, _projection(rt, "quality"), cards),
                    },
                )
            if kind == "line":
                lay = views.find_line(layouts, key or "")
                return lambda live, _p: screens.with_quality_alerts(
                    _with_count_flags(
                        direction.line_page(
                            director(rt), live, lay, key or "", fmt, views.line_data(live, lay, key or "", fmt)
                        ),
                        rt,
                        lay,
                        key or "",
                        fmt,
                    ),
                    rt,
                    live,
                    lay,
                    key or "",
                    fmt,
                )
            if kind == "overview":
                return lambda live, prog: direction.overview_page(
                    director(rt), live, layouts, fmt, views.overview_data(live, layouts, prog, fmt, pause=pager.pause)
                )
            if kind == "plan":
                lay = layouts[key] if key else next(iter(layouts.values()))
                return lambda live, prog: {
                    **views.plan_data(live, lay, prog, fmt),
                    **board.board_data(live, lay, prog, fmt, boards),
                }
        except (views.NotFound, KeyError, StopIteration):
            raise HTTPException(404, f"unknown {kind} {key!r}") from None
        raise HTTPException(404, f"unknown page kind {kind!r}")

    views_of = shared.views = SharedViews(rt, progress, pager.pause)

    def locked(fn: PageFn) -> Callable[[], dict[str, Any]]:
        """Take a consistent view under the ingest lock (about a millisecond), compute outside it:
        a page being computed never holds ingest up (docs/pages.md)."""

        def run() -> dict[str, Any]:
            return fn(*views_of.get())

        return run

    def applied() -> int:
        return int(rt.live.events_applied)

    async def compute_shared(page: tuple[str, str, str], fn: PageFn, max_age_s: float = 0.0) -> Encoded:
        """The page's encoded data of this version, computed on the page thread if not cached."""
        return await pager.arun(lambda: shared.get_encoded(page, applied, locked(fn), max_age_s))

    def page(request: Request, template: str, kind: str, key: str | None, title: str) -> Response:
        lang = _lang(request)
        data_fn = builder(kind, key, lang)
        return _render(request, lang, template, kind, key, title, data_fn)

    def _render(
        request: Request,
        lang: str,
        template: str,
        kind: str,
        key: str | None,
        title: str,
        data_fn: PageFn,
    ) -> Response:
        return html_page(request, lang, template, kind, key, title, pager.run(locked(data_fn)))

    def html_page(
        request: Request,
        lang: str,
        template: str,
        kind: str,
        key: str | None,
        title: str,
        data: dict[str, Any],
        *,
        live: bool = True,
    ) -> HTMLResponse:
        """A page in the site's frame: header, navigation, language toggle, page data and strings."""
        tr = translations(lang)
        js = {k: tr.gettext(v) for k, v in JS_STRINGS.items()}
        other = "en" if lang != "en" else "zh_CN"
        me = getattr(request.state, "principal", None)
        html = (
            jinja_env(lang)
            .get_template(template)
            .render(
                lang=lang,
                html_lang="zh-CN" if lang == "zh_CN" else "en",
                other_lang=other,
                other_lang_label="English" if other == "en" else "中文",
                title=tr.gettext(title),
                kind=kind,
                key=key or "",
                data=data,
                data_json=json.dumps(data, ensure_ascii=False).replace("</", "<\\/"),
                js_json=json.dumps(js, ensure_ascii=False).replace("</", "<\\/"),
                static=STATIC_PREFIX,
                lines=_nav_lines(lang, me),
                defect_codes=[(c, tr.gettext(m)) for c, m in views.DEFECT_CODES.items()],
                downtime_reasons=[(c, tr.gettext(m)) for c, m in views.DOWNTIME_REASONS.items()],
                csrf=(me.csrf if me is not None else None) or "",
                me=me,
                signed_in=me is not None and me.kind == "user",
                pair_stations=_pair_stations(me, kind, key),
                full_nav=me is None or me.kind == "open" or not ("worker" in me.roles or me.line_limited()),
                demo_clock=rt.live.demo_clock is not None,
                nav=[(e.href, tr.gettext(e.label), e.kind) for e in nav.entries_for(me)],
                live=live,
                tv=kind == "line" and request.query_params.get("tv") == "1",
                # the toggle keeps the page's other choices (a month, a lot size, the big screen)
                lang_href="?"
                + urlencode([*((k, v) for k, v in request.query_params.multi_items() if k != "lang"), ("lang", other)]),
            )
        )
        resp = HTMLResponse(html)
        if request.query_params.get("lang"):
            resp.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax")
        return resp

    def _pair_stations(me: Any, kind: str, key: str | None) -> list[str]:
        """The line page's stations whose tablets this person may pair (supervisor of it, admin)."""
        if kind != "line" or me is None:
            return []
        if not (me.kind == "open" or me.is_admin or ("supervisor" in me.roles and key in me.lines)):
            return []
        return sorted(s for lay in rt.layouts.values() for s, st in lay.stations.items() if st.line_id == key)

    def _nav_lines(lang: str, me: Any = None) -> list[tuple[str, str]]:
        """The lines in the header: all of them, or a supervisor's own (none for a tablet)."""
        fmt = Fmt(lang)
        out = []
        for lay in rt.layouts.values():
            for lid, ln in sorted(lay.lines.items()):
                if nav.may_open(me, "/lines/{line}", {"line": lid}):
                    out.append((lid, fmt.split_name(ln.name)))
        return out

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def overview_page(request: Request) -> Response:
        return page(request, "overview.html", "overview", None, N_("Factory overview"))

    @app.get("/lines/{line}", response_class=HTMLResponse, include_in_schema=False)
    def line_page(request: Request, line: str) -> Response:
        return page(request, "line.html", "line", line, N_("Line dashboard"))

    @app.get("/station/{station}", response_class=HTMLResponse, include_in_schema=False)
    def station_page(request: Request, station: str) -> Response:
        return page(request, "station.html", "station", station, N_("Station"))

    @app.get("/plan", response_class=HTMLResponse, include_in_schema=False)
    def plan_page(request: Request, factory: str | None = None) -> Response:
        return page(request, "plan.html", "plan", factory, N_("Planner"))

    screens.register(app, rt, html_page)

    @app.get("/web/data/{kind}", include_in_schema=False)
    async def data(request: Request, kind: str, key: str | None = None) -> Response:
        """The same page data as the stream, once (for scripts and checks): the bytes of this
        version, with an ETag; a poll that names it gets 304 and no body."""
        lang = _lang(request)
        enc = await compute_shared((kind, key or "", lang), builder(kind, key, lang))
        headers = {"ETag": enc.etag, "Cache-Control": "private, no-cache"}
        if not_modified(request.headers.get("if-none-match"), enc.etag):
            return Response(status_code=304, headers=headers)
        return Response(enc.body, media_type="application/json", headers=headers)

    @app.get("/web/stream/{kind}", include_in_schema=False)
    async def stream(request: Request, kind: str, key: str | None = None) -> EventSourceResponse:
        """Page data whenever live state changed, at most once per second."""
        lang = _lang(request)
        fn = builder(kind, key, lang)

        async def events() -> AsyncIterator[dict[str, Any]]:
            seen = -1
            last_push = 0.0
            while not getattr(app.state, "web_stopping", False):
                if await request.is_disconnected():
                    return
                applied = rt.live.events_applied
                now = time.monotonic()
                if applied != seen and now - last_push >= MIN_PUSH_INTERVAL_S:
                    seen = applied
                    last_push = now
                    enc = await compute_shared((kind, key or "", lang), fn, MIN_PUSH_INTERVAL_S)
                    yield {"event": "data", "data": enc.body.decode("utf-8")}
                await asyncio.sleep(POLL_S)

        return EventSourceResponse(events(), ping=15, headers={"Cache-Control": "no-store"})


__all__ = ["LANGS", "register"]
