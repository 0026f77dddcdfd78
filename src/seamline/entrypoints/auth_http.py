"""Authentication and authorisation for every HTTP request, in one ASGI middleware.

One place decides, for every route, before any handler runs: who is asking (a bearer token, a
session cookie, or nobody), whether the route's rule in ``auth.policy`` lets them, whether a
cookie-borne change carries its CSRF token, and it writes the audit log of every change a person
makes. Handlers only narrow further where the rule depends on the request body or on row data
(a tablet posting another station's events, a supervisor's efficiency rows).

Modes: ``required`` (production, `seamline serve`) and ``open`` (`seamline demo`, tests): open
treats every request as an all-roles principal and is refused by `serve` on a non-loopback address.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import quote, unquote

import anyio
from fastapi import FastAPI, HTTPException, Request
from starlette.datastructures import QueryParams
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..auth.policy import SCOPE_PARAMS, match, methods_for, rule_for
from ..auth.roles import OPEN, Principal, Role, Rule, decide
from ..auth.service import SESSION_COOKIE, AuthService
from ..web.errors import PAGE_STATUSES, error_page, lang_of, wants_html
from ..web.nav import landing, may_open

log = logging.getLogger(__name__)

CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Posted as HTML forms: login and pairing have no session yet (an Origin check guards them), and
# logout checks the form's CSRF field itself.
FORM_ROUTES = frozenset({"/login", "/pair", "/logout"})
AUDIT_BODY_EXCERPT = 2000


@dataclass(frozen=True)
class AuthConfig:
    mode: str = "open"  # "required" | "open"
    secure_cookies: bool = False  # set behind HTTPS so the session cookie never travels in clear

    def __post_init__(self) -> None:
        if self.mode not in ("required", "open"):
            raise ValueError(f"auth mode is 'required' or 'open', not {self.mode!r}")


def principal_of(request: Request) -> Principal:
    """The principal the middleware resolved (always set on routes that are not public)."""
    p = getattr(request.state, "principal", None)
    if p is None:
        raise HTTPException(401, "log in first")
    return p


def auth_service(request: Request) -> AuthService:
    return request.app.state.auth


def install_auth(app: FastAPI, rt: Any, config: AuthConfig) -> AuthService:
    def station_lines(factory: str) -> dict[str, str]:
        lay = rt.layouts.get(factory)
        return {s: st.line_id for s, st in lay.stations.items()} if lay else {}

    service = AuthService(rt.engine, station_lines)
    app.state.auth = service
    app.state.auth_config = config
    app.add_middleware(AuthMiddleware, service=service, config=config, station_line=lambda: _all_station_lines(rt))
    _document_refusals(app)
    return service


def _document_refusals(app: FastAPI) -> None:
    """Say in /openapi.json what the middleware may answer: 401 and 403 on every route that is not
    public (and the bearer scheme), so clients and schema checks expect them."""
    plain = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        spec = plain()
        problem = (
            {"$ref": "#/components/schemas/Problem"}
            if "Problem" in spec.get("components", {}).get("schemas", {})
            else {"type": "object", "properties": {"detail": {"type": "string"}}}
        )
        comp = spec.setdefault("components", {}).setdefault("securitySchemes", {})
        comp["bearer"] = {"type": "http", "scheme": "bearer", "description": "`seamline token` or POST /api/v1/tokens"}
        comp["session"] = {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE}
        for path, ops in spec.get("paths", {}).items():
            for method, op in ops.items():
                rule = rule_for(method.upper(), path)
                if rule is None or rule.public:
                    continue
                op.setdefault("security", [{"bearer": []}, {"session": []}])
                responses = op.setdefault("responses", {})
                for status, text in (("401", "nobody signed in"), ("403", "not allowed for this role")):
                    responses.setdefault(
                        status, {"description": text, "content": {"application/json": {"schema": problem}}}
                    )
        app.openapi_schema = spec
        return spec

    # FastAPI's documented way to extend the schema is to replace app.openapi; mypy sees a method.
    app.openapi = openapi  # type: ignore[method-assign]


def _all_station_lines(rt: Any) -> dict[str, str]:
    return {s: st.line_id for lay in rt.layouts.values() for s, st in lay.stations.items()}


class AuthMiddleware:
    def __init__(
        self, app: ASGIApp, *, service: AuthService, config: AuthConfig, station_line: Callable[[], dict[str, str]]
    ) -> None:
        self.app = app
        self.service = service
        self.config = config
        self.station_line = station_line

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        route_path, path_params = _match(scope)
        if route_path is None:
            if self.config.mode == "open":  # nothing to protect: the framework answers as usual
                await self.app(scope, receive, send)
            else:
                await _refuse(send, scope, _headers(scope), 404, f"no route {scope['path']!r}")
            return
        rule = rule_for(method, route_path)
        if rule is None and method != "OPTIONS" and self.config.mode != "open":
            allowed = sorted(methods_for(route_path))
            await _json(send, 405, f"{method} is not allowed here; allowed: {', '.join(allowed)}")
            return
        headers = _headers(scope)
        principal = await self._principal(headers)
        scope.setdefault("state", {})["principal"] = principal

        params, repeated = request_params(scope, path_params)
        if repeated is not None:
            await _json(send, 400, f"参数 `{repeated}` 只能给一次 / `{repeated}` may be given only once")
            return

        # People and tokens of one factory see only that factory: a request naming another is
        # refused, and one naming none is pinned to theirs (so "the only factory loaded" can never
        # be someone else's).
        if principal is not None and principal.factory and principal.kind != "open" and not principal.is_admin:
            named = params.get("factory")
            if named is not None and named != principal.factory:
                refusal = f"{principal.name} belongs to factory {principal.factory!r}, not {named!r}"
                await _refuse(send, scope, headers, 403, refusal)
                return
            if named is None:
                extra = "factory=" + quote(principal.factory, safe="")
                qs = scope.get("query_string", b"").decode("latin-1")
                scope["query_string"] = (qs + "&" + extra if qs else extra).encode("latin-1")
                params["factory"] = principal.factory

        # Workers and supervisors land on their own page rather than a refusal.
        if route_path == "/" and method in SAFE_METHODS and principal is not None and principal.kind != "open":
            target = _home(principal)
            if target is not None:
                await _redirect(send, target)
                return

        decision = decide(principal, rule, params, self.station_line() if _needs_lines(rule, principal) else {})
        if not decision.allowed:
            if decision.status == 401 and method in SAFE_METHODS and _is_page(route_path, headers):
                # Nobody signed in at a station page: that is a tablet not (or no longer) paired.
                start = "/pair" if route_path.startswith("/station/") else "/login"
                await _redirect(send, start + "?next=" + quote(_full_path(scope), safe="/"))
                return
            if principal is not None and method not in SAFE_METHODS:
                refused = {"refused": decision.reason}
                await self._audit(principal, method, route_path, scope, decision.status, None, refused)
            await _refuse(send, scope, headers, decision.status, decision.reason, bearer=decision.status == 401)
            return

        if method not in SAFE_METHODS and principal is not None and principal.kind != "open":
            problem = _csrf_problem(principal, route_path, headers)
            if problem:
                await self._audit(principal, method, route_path, scope, 403, None, {"refused": problem})
                await _refuse(send, scope, headers, 403, problem)
                return

        if method in SAFE_METHODS or principal is None or route_path in FORM_ROUTES or _machine(principal, route_path):
            await self.app(scope, receive, send)
            return
        await self._audited(principal, method, route_path, scope, receive, send)

    async def _principal(self, headers: dict[str, str]) -> Principal | None:
        if self.config.mode == "open":
            return OPEN
        auth = headers.get("authorization", "")
        if auth:
            kind, _, secret = auth.partition(" ")
            if kind.lower() != "bearer" or not secret.strip():
                return None
            cached = self.service.cached_token_principal(secret.strip())
            if cached is not False:  # read less than a few seconds ago: no query, no thread hop
                return cached
            return await anyio.to_thread.run_sync(self.service.token_principal, secret.strip())
        cookie = headers.get("cookie")
        if cookie:
            c = SimpleCookie()
            try:
                c.load(cookie)
            except Exception:  # a malformed cookie header is as good as none
                return None
            if SESSION_COOKIE in c:
                return await anyio.to_thread.run_sync(self.service.session_principal, c[SESSION_COOKIE].value)
        return None

    async def _audited(
        self, principal: Principal, method: str, route_path: str, scope: Scope, receive: Receive, send: Send
    ) -> None:
        """Run the request, hashing its body on the way in and noting the status on the way out."""
        h = hashlib.sha256()
        excerpt = bytearray()
        status = 500

        async def recv() -> Message:
            msg = await receive()
            if msg["type"] == "http.request":
                body = msg.get("body", b"")
                h.update(body)
                if len(excerpt) < AUDIT_BODY_EXCERPT:
                    excerpt.extend(body[: AUDIT_BODY_EXCERPT - len(excerpt)])
            return msg

        audited = False

        async def audit() -> None:
            nonlocal audited
            audited = True
            detail: dict[str, Any] = {}
            if scope.get("query_string"):
                detail["query"] = scope["query_string"].decode("latin-1")
            if excerpt:
                detail["body"] = excerpt.decode("utf-8", "replace")
            await self._audit(principal, method, route_path, scope, status, h.hexdigest(), detail or None)

        async def snd(msg: Message) -> None:
            nonlocal status
            if msg["type"] == "http.response.start":
                status = msg["status"]
            elif msg["type"] == "http.response.body" and not msg.get("more_body", False) and not audited:
                # On record before the caller hears the answer: a client that reads the audit log
                # right after its change must find it there.
                await audit()
            await send(msg)

        try:
            await self.app(scope, recv, snd)
        finally:
            if not audited:
                await audit()

    async def _audit(
        self,
        p: Principal,
        method: str,
        route_path: str,
        scope: Scope,
        status: int,
        body_sha256: str | None,
        detail: dict[str, Any] | None,
    ) -> None:
        def write() -> None:
            self.service.audit_action(
                p.name,
                p.kind,
                f"{method} {route_path}",
                scope["path"],
                detail,
                roles=[r.value for r in p.roles],
                status=status,
                body_sha256=body_sha256,
            )

        try:
            await anyio.to_thread.run_sync(write)
        except Exception:  # the change happened; a failed audit write is logged loudly, not hidden
            log.exception("could not write the audit log for %s %s by %s", method, scope["path"], p.name)


def _match(scope: Scope) -> tuple[str | None, dict[str, str]]:
    """The policy's route template for this path. The policy is matched on its own, not through
    the framework's router, so a route the policy does not name is refused (404), never open."""
    found = match(scope["path"])
    if found is None:
        return None, {}
    return found[0], {k: unquote(v) for k, v in found[1].items()}


def request_params(scope: Scope, path_params: dict[str, str]) -> tuple[dict[str, str], str | None]:
    """The path and query parameters the access check reads, and the first scope parameter that is
    given more than once (or both in the path and the query), if any.

    The query is parsed by the same class the handlers' parameters come from (Starlette's
    ``QueryParams``), so the value checked is the value used; a repeated scope parameter is refused
    rather than resolved, because the framework keeps the last value and a check could keep another.
    """
    query = QueryParams(scope.get("query_string", b""))
    params: dict[str, str] = dict(path_params)
    for k in query:
        values = query.getlist(k)
        if k in SCOPE_PARAMS and (len(values) > 1 or k in path_params):
            return params, k
        params.setdefault(k, values[-1])
    return params, None


def _needs_lines(rule: Rule | None, p: Principal | None) -> bool:
    return rule is not None and rule.scope is not None and p is not None and Role.SUPERVISOR in p.roles


def _machine(p: Principal, route_path: str) -> bool:
    """Sensor traffic from a gateway token is not a manual change: the event store is its record."""
    return route_path == "/api/v1/events" and p.roles == {Role.GATEWAY}


def _home(p: Principal) -> str | None:
    """Where ``/`` sends someone who may not open the overview: the screen of their job."""
    if may_open(p, "/"):
        return None
    target = landing(p)
    return None if target == "/" else target


def _csrf_problem(p: Principal, route_path: str, headers: dict[str, str]) -> str | None:
    if p.session_id is None:  # bearer tokens are not sent by browsers on their own: no CSRF
        return None
    origin = headers.get("origin")
    if origin and headers.get("host") and origin.split("://", 1)[-1] != headers["host"]:
        return f"cross-site request refused (origin {origin})"
    if route_path in FORM_ROUTES:
        return None
    if headers.get(CSRF_HEADER) != p.csrf:
        return "missing or wrong CSRF token: send the page's token in the X-CSRF-Token header"
    return None


def _is_page(route_path: str, headers: dict[str, str]) -> bool:
    return not route_path.startswith(("/api/", "/web/")) and "text/html" in headers.get("accept", "text/html")


def _full_path(scope: Scope) -> str:
    qs = scope.get("query_string", b"").decode("latin-1")
    return scope["path"] + ("?" + qs if qs else "")


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


async def _refuse(
    send: Send, scope: Scope, headers: dict[str, str], status: int, detail: str, *, bearer: bool = False
) -> None:
    """A refusal as a translated page for a browser's navigation, as JSON for everyone else."""
    if status in PAGE_STATUSES and wants_html(headers.get("accept")):
        lang = lang_of(scope.get("query_string", b""), headers.get("cookie"))
        body = error_page(status, lang, detail, _full_path(scope)).encode()
        out = [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(body)).encode())]
        if bearer:
            out.append((b"www-authenticate", b'Bearer realm="seamline"'))
        await send({"type": "http.response.start", "status": status, "headers": out})
        await send({"type": "http.response.body", "body": body})
        return
    await _json(send, status, detail, bearer=bearer)


async def _json(send: Send, status: int, detail: str, *, bearer: bool = False) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if bearer:
        headers.append((b"www-authenticate", b'Bearer realm="seamline"'))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _redirect(send: Send, location: str) -> None:
    headers = [(b"location", location.encode()), (b"content-length", b"0")]
    await send({"type": "http.response.start", "status": 303, "headers": headers})
    await send({"type": "http.response.body", "body": b""})
