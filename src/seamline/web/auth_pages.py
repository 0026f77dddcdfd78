"""Sign-in and tablet pairing pages (plain HTML forms: they work before any script loads).

The session cookie is HttpOnly and SameSite=Lax; changes made over it need the CSRF token the
pages carry (see ``entrypoints/auth_http.py``). A tablet is paired once with a six-digit code a
supervisor issues for its station; it then holds a year-long session bound to that station.
"""

from __future__ import annotations

import functools
from typing import Any
from urllib.parse import urlsplit

import anyio
from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..auth.service import SESSION_COOKIE, TABLET_SESSION_TTL, USER_SESSION_TTL, AuthError, AuthService
from .i18n import N_, pick_lang, translations
from .nav import landing

LANG_COOKIE = "seamline_lang"
STATIC_PREFIX = "/web/static"


def auth_service(request: Request) -> AuthService:
    """The service ``entrypoints.auth_http.install_auth`` put on the app (web never imports entry points)."""
    service: AuthService = request.app.state.auth
    return service


def _safe_next(target: str | None) -> str:
    """Only a local path: an open redirect after login would hand phishers a trusted link."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def _client(request: Request) -> str | None:
    """The caller's address as the server sees it (behind a reverse proxy, uvicorn takes it from
    X-Forwarded-For only when the proxy is in --forwarded-allow-ips)."""
    return request.client.host if request.client else None


def _retry_after(resp: Response, e: AuthError) -> Response:
    if e.status == 429 and e.retry_after_s is not None:
        resp.headers["Retry-After"] = str(e.retry_after_s)
    return resp


def register(app: FastAPI, jinja_env: Any) -> None:
    def lang_of(request: Request) -> str:
        return pick_lang(request.query_params.get("lang"), request.cookies.get(LANG_COOKIE))

    def render(
        request: Request, form: str, title: str, *, error: str | None = None, status: int = 200, next_: str = "/"
    ) -> HTMLResponse:
        lang = lang_of(request)
        tr = translations(lang)
        other = "en" if lang != "en" else "zh_CN"
        html = (
            jinja_env(lang)
            .get_template("auth.html")
            .render(
                lang=lang,
                html_lang="zh-CN" if lang == "zh_CN" else "en",
                other_lang=other,
                other_lang_label="English" if other == "en" else "中文",
                title=tr.gettext(title),
                form=form,
                error=tr.gettext(error) if error else None,
                next=next_,
                static=STATIC_PREFIX,
            )
        )
        resp = HTMLResponse(html, status_code=status)
        if request.query_params.get("lang"):
            resp.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax")
        return resp

    def set_session(request: Request, resp: Response, secret: str, max_age_s: int) -> None:
        resp.set_cookie(
            SESSION_COOKIE,
            secret,
            max_age=max_age_s,
            httponly=True,
            samesite="lax",
            secure=request.app.state.auth_config.secure_cookies,
        )

    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def login_page(request: Request, next: str = "/") -> Response:
        return render(request, "login", N_("Log in"), next_=_safe_next(next))

    @app.post("/login", include_in_schema=False)
    async def login(
        request: Request, username: str = Form(""), password: str = Form(""), next: str = Form("/")
    ) -> Response:
        try:
            secret, _p = await anyio.to_thread.run_sync(
                functools.partial(auth_service(request).login, username, password, client=_client(request))
            )
        except AuthError as e:
            msg = (
                N_("Too many failed attempts from here: wait a little and try again")
                if e.status == 429
                else N_("Wrong user name or password")
            )
            page = render(request, "login", N_("Log in"), error=msg, status=e.status, next_=_safe_next(next))
            return _retry_after(page, e)
        target = _safe_next(next)
        resp = RedirectResponse(landing(_p) if target == "/" else target, status_code=303)
        set_session(request, resp, secret, int(USER_SESSION_TTL.total_seconds()))
        return resp

    @app.get("/pair", response_class=HTMLResponse, include_in_schema=False)
    def pair_page(request: Request, next: str = "/") -> Response:
        # ``next``: where a supervisor who opened a station page goes after logging in instead.
        return render(request, "pair", N_("Pair this tablet"), next_=_safe_next(next))

    @app.post("/pair", include_in_schema=False)
    async def pair(request: Request, code: str = Form("")) -> Response:
        try:
            secret, p = await anyio.to_thread.run_sync(
                functools.partial(auth_service(request).pair, code, client=_client(request))
            )
        except AuthError as e:
            msg = (
                N_("Too many wrong codes: try again in a few minutes")
                if e.status == 429
                else N_("That code is wrong, used or expired: ask your supervisor for a new one")
            )
            return _retry_after(render(request, "pair", N_("Pair this tablet"), error=msg, status=e.status), e)
        resp = RedirectResponse(f"/station/{p.station}", status_code=303)
        set_session(request, resp, secret, int(TABLET_SESSION_TTL.total_seconds()))
        return resp

    @app.post("/logout", include_in_schema=False)
    async def logout(request: Request, csrf: str = Form("")) -> Response:
        p = getattr(request.state, "principal", None)
        if p is not None and p.session_id is not None:
            if csrf != p.csrf and request.headers.get("x-csrf-token") != p.csrf:
                return render(
                    request, "login", N_("Log in"), error=N_("Your session changed: log in again"), status=403
                )
            await anyio.to_thread.run_sync(auth_service(request).logout, request.cookies.get(SESSION_COOKIE, ""))
        resp = RedirectResponse("/login", status_code=303)
        resp.delete_cookie(SESSION_COOKIE)
        return resp
