"""ROI API and the owner page: payback with its range, sensitivity, and the data behind each figure.

- ``GET /owner`` (``?lang=zh|en``, ``start``, ``end``, ``lines=L1,L2``): the owner's page.
- ``GET /owner.pdf``: the same as a one-page PDF.
- ``GET /api/v1/roi``: the report as JSON.
- ``GET /api/v1/roi/evidence/{figure}``: the rows a figure was computed from.

Settings (investment, rates, baseline) come from ``$SEAMLINE_ROI_SETTINGS`` or the example file
shipped for the demo (docs/roi.md). Reports are cached per query while no new event is applied,
and for at most a minute while events keep arriving.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from ..bootstrap import Runtime
from ..roi import service
from ..roi.labels import norm_lang
from ..roi.onepager import OnePagerError, render_onepager_pdf, render_png
from ..roi.render import render_page, render_pdf
from ..roi.report import evidence
from ..roi.store import data_version
from .api import HTML, PDF, Instant, problems

MAX_CACHE = 16
# A report is reused for this long while events keep arriving: payback does not move by the
# second, and a recompute scans the event store (docs/roi.md, known limits).
CACHE_TTL_S = 60.0
# The language cookie the web pages (seamline.web) set: /owner follows the language chosen there.
LANG_COOKIE = "seamline_lang"


def register(app: FastAPI, rt: Runtime) -> None:
    # query -> (computed at, events applied then, assessment)
    cache: dict[tuple[Any, ...], tuple[float, int, service.Assessment]] = {}
    cache_lock = threading.Lock()

    def factory_id(factory: str | None) -> str:
        if factory is None:
            if len(rt.layouts) != 1:
                if not rt.layouts:
                    raise HTTPException(404, "no factory is loaded yet: import a layout first (seamline import)")
                raise HTTPException(400, f"pass ?factory= one of {sorted(rt.layouts)}")
            return next(iter(rt.layouts))
        if factory not in rt.layouts:
            raise HTTPException(404, f"unknown factory {factory!r}")
        return factory

    def get(
        factory: str | None,
        start: datetime | None,
        end: datetime | None,
        lines: str | None,
        before_start: datetime | None = None,
        before_end: datetime | None = None,
    ) -> service.Assessment:
        if (before_start is None) != (before_end is None):
            raise HTTPException(422, "give both `before_start` and `before_end`, or neither")
        for name, d in (("start", start), ("end", end), ("before_start", before_start), ("before_end", before_end)):
            if d is not None and d.tzinfo is None:
                raise HTTPException(422, f"`{name}` must carry a UTC offset, e.g. 2026-11-26T08:00:00+08:00")
        if start is not None and end is not None and end <= start:
            raise HTTPException(422, "`end` must be after `start`")
        f = factory_id(factory)
        line_list = [x for x in (lines or "").split(",") if x] or None
        unknown = [x for x in line_list or [] if x not in rt.layouts[f].lines]
        if unknown:
            raise HTTPException(404, f"unknown lines {unknown}; lines: {sorted(rt.layouts[f].lines)}")
        try:
            settings, path = service.load()
        except (OSError, ValueError) as e:
            raise HTTPException(500, f"ROI settings unreadable: {e}") from None
        key = (f, start, end, tuple(line_list or ()), before_start, before_end, path)
        applied = rt.live.events_applied
        with cache_lock:
            hit = cache.get(key)
        if hit is not None and (hit[1] == applied or time.monotonic() - hit[0] < CACHE_TTL_S):
            return hit[2]
        try:
            a = service.assess_factory(
                rt.live,
                rt.store,
                f,
                settings,
                start,
                end,
                line_list,
                lock=rt.pipeline.lock,
                settings_file=path,
                before_start=before_start,
                before_end=before_end,
            )
        except ValueError as e:
            raise HTTPException(422, str(e)) from None
        with cache_lock:
            if len(cache) >= MAX_CACHE and key not in cache:
                cache.pop(next(iter(cache)))
            cache[key] = (time.monotonic(), applied, a)
        return a

    # (factory, settings file, local day) -> (computed at, events applied then, pilot answer)
    pilot_cache: dict[tuple[Any, ...], tuple[float, int, dict[str, Any]]] = {}

    def get_pilot(factory: str | None) -> dict[str, Any]:
        """The pilot against its controls, recomputed when events arrive (at most once a minute) or
        the day changes: the current day never counts, so within a day only new events move it."""
        f = factory_id(factory)
        try:
            settings, path = service.load()
        except (OSError, ValueError) as e:
            raise HTTPException(500, f"ROI settings unreadable: {e}") from None
        today = datetime.now(rt.live.tz(f)).date()
        key = (f, path, today, data_version(rt.engine, f))
        applied = rt.live.events_applied
        with cache_lock:
            hit = pilot_cache.get(key)
        if hit is not None and (hit[1] == applied or time.monotonic() - hit[0] < CACHE_TTL_S):
            return hit[2]
        try:
            out = service.assess_pilot_factory(rt.live, rt.store, rt.engine, f, settings, lock=rt.pipeline.lock)
        except ValueError as e:
            raise HTTPException(422, str(e)) from None
        with cache_lock:
            if len(pilot_cache) >= MAX_CACHE:
                pilot_cache.clear()
            pilot_cache[key] = (time.monotonic(), applied, out)
        return out

    r = APIRouter(prefix="/api/v1/roi", tags=["roi"])

    @r.get("/pilot", responses=problems(400, 404, 422, 500))
    def roi_pilot(factory: str | None = None) -> dict[str, Any]:
        """The pilot line against the control lines: difference-in-differences per metric with its 90 %
        interval, the naive before/after beside it, each effect in CNY per month, payback with its range
        and the chance of no payback within 12 months, and the twin's forecast where one is recorded."""
        return get_pilot(factory)

    @r.get("", responses=problems(400, 404, 422, 500))
    def roi(
        factory: str | None = None,
        start: Instant | None = None,
        end: Instant | None = None,
        lines: str | None = None,
        before_start: Instant | None = None,
        before_end: Instant | None = None,
    ) -> dict[str, Any]:
        """Payback in months with its 10-90 % range, the before/after figures priced per month, and the
        sensitivity cases (orders −30 %, half the lines equipped)."""
        return get(factory, start, end, lines, before_start, before_end).report

    @r.get("/evidence/{figure}", responses=problems(400, 404, 422, 500))
    def roi_evidence(
        figure: str,
        factory: str | None = None,
        start: Instant | None = None,
        end: Instant | None = None,
        lines: str | None = None,
        before_start: Instant | None = None,
        before_end: Instant | None = None,
    ) -> dict[str, Any]:
        """The rows behind one figure: per-block sums (each with its /api/v1/efficiency link), the
        orders counted, the baseline's source, or a money line's formula and inputs."""
        a = get(factory, start, end, lines, before_start, before_end)
        try:
            return evidence(a.collected, a.inputs, a.result, a.report, figure, a.before)
        except (KeyError, StopIteration):
            raise HTTPException(404, f"no figure {figure!r} on the ROI report") from None

    app.include_router(r)

    @app.get("/owner", response_class=Response, tags=["roi"], responses={200: HTML, **problems(400, 404, 422, 500)})
    def owner_page(
        request: Request,
        lang: str | None = None,
        factory: str | None = None,
        start: Instant | None = None,
        end: Instant | None = None,
        lines: str | None = None,
        before_start: Instant | None = None,
        before_end: Instant | None = None,
    ) -> HTMLResponse:
        """The owner's page: what the retrofit returns and how fast (Chinese by default)."""
        a = get(factory, start, end, lines, before_start, before_end)
        keep = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "lang"])
        lg = norm_lang(lang or request.cookies.get(LANG_COOKIE) or "zh")
        resp = HTMLResponse(render_page(a.report, lg, keep, get_pilot(factory)))
        if lang:  # remember the choice the way the other pages do
            resp.set_cookie(LANG_COOKIE, "en" if lg == "en" else "zh_CN", max_age=365 * 86400, samesite="lax")
        return resp

    def weekly(factory: str | None) -> dict[str, Any]:
        pilot = get_pilot(factory)
        if not pilot.get("configured"):
            raise HTTPException(404, "没有设置试点线 / no pilot configured (docs/roi.md)")
        return pilot

    @app.get(
        "/owner/weekly.pdf", response_class=Response, tags=["roi"], responses={200: PDF, **problems(400, 404, 422, 500)}
    )
    def owner_weekly_pdf(factory: str | None = None) -> Response:
        """The weekly one-pager (Chinese, fonts embedded) of the pilot against its controls."""
        try:
            doc = render_onepager_pdf(weekly(factory))
        except OnePagerError as e:
            raise HTTPException(500, str(e)) from None
        return Response(
            doc, media_type="application/pdf", headers={"Content-Disposition": 'inline; filename="seamline-weekly.pdf"'}
        )

    @app.get(
        "/owner/weekly.png",
        response_class=Response,
        tags=["roi"],
        responses={200: {"content": {"image/png": {}}}, **problems(400, 404, 422, 500)},
    )
    def owner_weekly_png(factory: str | None = None) -> Response:
        """The one-pager as an image to send in WeChat."""
        try:
            img = render_png(render_onepager_pdf(weekly(factory)))
        except OnePagerError as e:
            raise HTTPException(500, str(e)) from None
        return Response(
            img, media_type="image/png", headers={"Content-Disposition": 'inline; filename="seamline-weekly.png"'}
        )

    @app.get("/owner.pdf", response_class=Response, tags=["roi"], responses={200: PDF, **problems(400, 404, 422, 500)})
    def owner_pdf(
        lang: str | None = None,
        factory: str | None = None,
        start: Instant | None = None,
        end: Instant | None = None,
        lines: str | None = None,
        before_start: Instant | None = None,
        before_end: Instant | None = None,
    ) -> Response:
        a = get(factory, start, end, lines, before_start, before_end)
        lg = norm_lang(lang)
        return Response(
            render_pdf(a.report, lg),
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="seamline-roi-{lg}.pdf"'},
        )
