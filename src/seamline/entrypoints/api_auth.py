"""The auth API: who am I, user accounts, API tokens, tablet pairing codes and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, HTTPException, Path, Query, Request
from pydantic import BaseModel, Field

from ..auth.roles import ACCOUNT_ROLES
from ..auth.service import AuthError
from .api import MAX_OFFSET, Instant, Problem, factory_layout
from .auth_http import auth_service, principal_of

# The roles an account or a token may hold, listed in the schema (a typo is a 422 there).
# The choices are data, so to the type checker the role is a string.
if TYPE_CHECKING:
    AccountRole = str
else:
    AccountRole = Literal[tuple(sorted(r.value for r in ACCOUNT_ROLES))]

ERRORS: dict[int | str, dict[str, Any]] = {s: {"model": Problem} for s in (400, 401, 403, 404, 409, 422)}


class Me(BaseModel):
    name: str
    kind: str
    roles: list[str]
    factory: str | None
    lines: list[str]
    station: str | None
    csrf: str | None = Field(None, description="send as X-CSRF-Token with changes made over a session cookie")


class NewUser(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)
    roles: list[AccountRole] = Field(min_length=1)
    display_name: str | None = Field(None, max_length=200)
    factory: str | None = None
    lines: list[str] = []


class UserChange(BaseModel):
    roles: list[AccountRole] | None = None
    lines: list[str] | None = None
    factory: str | None = None
    active: bool | None = None
    password: str | None = Field(None, max_length=200)


class User(BaseModel):
    username: str
    display_name: str
    roles: list[str]
    factory: str | None
    lines: list[str]
    active: bool


class NewToken(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    roles: list[AccountRole] = Field(min_length=1)
    factory: str | None = None
    lines: list[str] = []
    expires_days: int | None = Field(None, ge=1, le=3650)


class IssuedToken(BaseModel):
    id: int
    token: str = Field(description="shown once; only its hash is stored")


class PairingCode(BaseModel):
    code: str
    factory: str
    station: str
    expires_at: datetime


def _fail(e: AuthError) -> HTTPException:
    return HTTPException(e.status if 400 <= e.status < 500 else 400, str(e))


def register(app: FastAPI, rt: Any) -> None:
    r = APIRouter(prefix="/api/v1", tags=["auth"])

    @r.get("/auth/me", response_model=Me, responses=ERRORS)
    def me(request: Request) -> Me:
        p = principal_of(request)
        return Me(
            name=p.name,
            kind=p.kind,
            roles=sorted(x.value for x in p.roles),
            factory=p.factory,
            lines=sorted(p.lines),
            station=p.station,
            csrf=p.csrf,
        )

    @r.get("/users", response_model=list[User], responses=ERRORS)
    def users(request: Request) -> list[dict[str, Any]]:
        return auth_service(request).users()

    @r.post("/users", response_model=User, status_code=201, responses=ERRORS)
    def add_user(request: Request, body: NewUser) -> dict[str, Any]:
        """Create an account. Passwords: at least 10 characters, not containing the user name."""
        try:
            return auth_service(request).add_user(
                body.username,
                body.password,
                body.roles,
                actor=principal_of(request).name,
                display_name=body.display_name,
                factory=body.factory,
                lines=body.lines,
            )
        except AuthError as e:
            raise _fail(e) from None

    @r.patch("/users/{username}", response_model=User, responses=ERRORS)
    def change_user(request: Request, username: str, body: UserChange) -> dict[str, Any]:
        """Change roles, lines, password or disable an account; its sessions end at once."""
        try:
            return auth_service(request).update_user(
                username,
                actor=principal_of(request).name,
                roles=body.roles,
                lines=body.lines,
                factory=body.factory,
                active=body.active,
                password=body.password,
            )
        except AuthError as e:
            raise _fail(e) from None

    @r.get("/tokens", responses=ERRORS)
    def tokens(request: Request) -> list[dict[str, Any]]:
        return [
            {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in t.items()}
            for t in auth_service(request).tokens()
        ]

    @r.post("/tokens", response_model=IssuedToken, status_code=201, responses=ERRORS)
    def new_token(request: Request, body: NewToken) -> IssuedToken:
        """A bearer token for a gateway (role `gateway`: may only post events) or an integration."""
        try:
            tid, secret = auth_service(request).create_token(
                body.name,
                body.roles,
                actor=principal_of(request).name,
                factory=body.factory,
                lines=body.lines,
                expires_days=body.expires_days,
            )
        except AuthError as e:
            raise _fail(e) from None
        return IssuedToken(id=tid, token=secret)

    @r.delete("/tokens/{token_id}", status_code=204, responses=ERRORS)
    def revoke_token(request: Request, token_id: Annotated[int, Path(ge=1, le=MAX_OFFSET)]) -> None:
        try:
            auth_service(request).revoke_token(token_id, actor=principal_of(request).name)
        except AuthError as e:
            raise _fail(e) from None

    @r.post("/stations/{station}/pairing-code", response_model=PairingCode, status_code=201, responses=ERRORS)
    def pairing_code(request: Request, station: str, factory: str | None = None) -> PairingCode:
        """A six-digit code, valid 10 minutes, to type on the tablet at ``/pair``: it binds that
        tablet to this station (and unpairs any tablet paired there before)."""
        lay = factory_layout(rt, factory)
        try:
            p = auth_service(request).issue_pairing_code(lay.factory.id, station, actor=principal_of(request).name)
        except AuthError as e:
            raise _fail(e) from None
        return PairingCode(code=p.code, factory=p.factory, station=p.station, expires_at=p.expires_at)

    @r.get("/tablets", responses=ERRORS)
    def tablets(request: Request) -> list[dict[str, Any]]:
        """Paired tablets (a supervisor sees those on their lines)."""
        p = principal_of(request)
        items = auth_service(request).tablets()
        if not p.is_admin and p.kind != "open":
            lines = {s: st.line_id for lay in rt.layouts.values() for s, st in lay.stations.items()}
            items = [t for t in items if lines.get(t["station"]) in p.lines]
        return items

    @r.delete("/tablets/{session_id}", responses=ERRORS)
    def unpair(request: Request, session_id: str) -> dict[str, Any]:
        try:
            return auth_service(request).unpair(session_id, actor=principal_of(request))
        except AuthError as e:
            raise _fail(e) from None

    @r.get("/audit", responses=ERRORS)
    def audit(
        request: Request,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
        actor: str | None = None,
        since: Instant | None = None,
    ) -> dict[str, Any]:
        """Every manual change, newest first: who, with which roles, what, the answer's status and
        a SHA-256 of the request body (the body itself, cut at 2 kB, for reading)."""
        if since is not None and since.tzinfo is None:
            raise HTTPException(422, "`since` needs a UTC offset")
        total, items = auth_service(request).audit_entries(limit, offset, actor, since)
        return {"total": total, "items": items}

    app.include_router(r)
