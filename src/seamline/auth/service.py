"""Auth use-cases: accounts, sign-in with growing waits per address, sessions, API tokens, tablet pairing, audit.

Why sessions live in the database rather than in signed cookies: a supervisor who unpairs a lost
tablet, or an admin who disables a leaver, must cut access at once, on every server process.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from . import passwords
from .roles import ACCOUNT_ROLES, Principal, Role, parse_roles
from .store import AuthStore
from .throttle import Backoff, Budget, Throttle, client_key

SESSION_COOKIE = "seamline_session"  # the HTTP cookie that carries a session secret
USER_SESSION_TTL = timedelta(hours=12)  # one shift and its overtime
TABLET_SESSION_TTL = timedelta(days=365)  # a paired tablet stays paired until unpaired
PAIRING_CODE_TTL = timedelta(minutes=10)
# Wrong passwords and pairing codes slow down the address they come from (auth/throttle.py), they
# never lock an account or pairing for everyone. The figures are in docs/access.md.
LOGIN_PER_ACCOUNT_AT_ADDRESS = Backoff(free=5, base_s=1.0, cap_s=900.0, forget_after=timedelta(hours=1))
LOGIN_PER_ADDRESS = Backoff(free=20, base_s=1.0, cap_s=900.0, forget_after=timedelta(hours=1))
LOGIN_ACCOUNT_BUDGET = 50  # failures per account and hour (all addresses) before failed addresses wait the cap
PAIRING_PER_ADDRESS = Backoff(free=5, base_s=2.0, cap_s=600.0, forget_after=timedelta(hours=1))
# Six digits are guessable at network speed: once 30 wrong codes (all addresses together) arrive in
# ten minutes, an address that has typed a wrong code waits the cap; one with a clean record may try.
PAIRING_BUDGET = 30
PAIRING_BUDGET_WINDOW = timedelta(minutes=10)
# Verifying against a real hash when the user is unknown keeps the answer time the same, so the
# login form does not tell which user names exist.
_DUMMY_HASH = passwords.hash_password("no-such-user-placeholder")


# How long a live API token's row is trusted without reading the store again (its expiry is
# checked on every use; a revocation by this server is at once, by another process within this).
TOKEN_ROW_TTL_S = 5.0
TOKEN_ROWS_MAX = 10_000


class AuthError(Exception):
    """A refusal with a message fit to show the person (never which half of a login was wrong)."""

    def __init__(self, message: str, status: int = 400, retry_after_s: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after_s = retry_after_s  # with 429: whole seconds until the next try is heard


def _too_many(what: str, wait_s: float) -> AuthError:
    secs = max(1, math.ceil(wait_s))
    return AuthError(
        f"尝试过于频繁：请 {secs} 秒后再试 / too many wrong {what} from here: try again in {secs} s", 429, secs
    )


@dataclass(frozen=True)
class Pairing:
    code: str
    factory: str
    station: str
    expires_at: datetime


def _now() -> datetime:
    return datetime.now(UTC)


class AuthService:
    def __init__(
        self,
        engine: Engine,
        station_lines: Callable[[str], dict[str, str]] | None = None,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        """``station_lines(factory)`` maps station → line, to check that a supervisor's lines exist
        and that a station being paired is theirs."""
        self.store = AuthStore(engine)
        self.station_lines = station_lines or (lambda _f: {})
        self.clock = clock
        self._login_at = Throttle(LOGIN_PER_ADDRESS)
        self._login_user_at = Throttle(LOGIN_PER_ACCOUNT_AT_ADDRESS)
        self._login_budget = Budget(LOGIN_ACCOUNT_BUDGET, timedelta(hours=1))
        self._pair_at = Throttle(PAIRING_PER_ADDRESS)
        self._pair_budget = Budget(PAIRING_BUDGET, PAIRING_BUDGET_WINDOW)
        # token digest -> (monotonic time read, the token's row): see ``cached_token_principal``
        self._token_rows: dict[str, tuple[float, dict[str, Any]]] = {}

    # --- accounts -----------------------------------------------------------------------------
    def add_user(
        self,
        username: str,
        password: str,
        roles: Iterable[str],
        *,
        actor: str,
        display_name: str | None = None,
        factory: str | None = None,
        lines: Iterable[str] = (),
    ) -> dict[str, Any]:
        username = username.strip()
        if not username or len(username) > 64 or any(c.isspace() for c in username):
            raise AuthError("a user name is 1–64 characters without spaces")
        role_set = self._account_roles(roles)
        line_set = self._check_lines(role_set, factory, lines)
        try:
            passwords.check_strength(password, username)
        except passwords.WeakPassword as e:
            raise AuthError(str(e)) from None
        row = {
            "username": username,
            "display_name": display_name or username,
            "password_hash": passwords.hash_password(password),
            "roles": sorted(r.value for r in role_set),
            "factory_id": factory,
            "lines": sorted(line_set),
            "active": True,
            "failed_logins": 0,
            "locked_until": None,
            "created_at": self.clock(),
        }
        try:
            self.store.add_user(row)
        except IntegrityError:
            raise AuthError(f"user {username!r} exists already", 409) from None
        self.audit_action(actor, "user", "add user", username, {"roles": row["roles"], "lines": row["lines"]})
        return _public_user(row)

    def update_user(
        self,
        username: str,
        *,
        actor: str,
        roles: Iterable[str] | None = None,
        lines: Iterable[str] | None = None,
        factory: str | None = None,
        active: bool | None = None,
        password: str | None = None,
    ) -> dict[str, Any]:
        current = self.store.user(username)
        if current is None:
            raise AuthError(f"no user {username!r}", 404)
        values: dict[str, Any] = {}
        role_set = self._account_roles(roles) if roles is not None else parse_roles(current["roles"])
        fac = factory if factory is not None else current["factory_id"]
        line_set = self._check_lines(role_set, fac, lines if lines is not None else current["lines"])
        values.update(roles=sorted(r.value for r in role_set), lines=sorted(line_set), factory_id=fac)
        if password is not None:
            try:
                passwords.check_strength(password, username)
            except passwords.WeakPassword as e:
                raise AuthError(str(e)) from None
            values.update(password_hash=passwords.hash_password(password))
        if active is not None:
            values["active"] = active
        self.store.update_user(username, **values)
        if active is False or password is not None or roles is not None or lines is not None:
            self.store.revoke_sessions_of(username, self.clock())  # new rights take effect at once
        changed = {k: v for k, v in values.items() if k != "password_hash"}
        if password is not None:
            changed["password"] = "changed"
        self.audit_action(actor, "user", "update user", username, changed)
        return _public_user({**current, **values})

    def users(self) -> list[dict[str, Any]]:
        return [_public_user(u) for u in self.store.users()]

    def has_users(self) -> bool:
        return self.store.count_users() > 0

    def _account_roles(self, roles: Iterable[str]) -> frozenset[Role]:
        try:
            role_set = parse_roles(roles)
        except ValueError as e:
            raise AuthError(str(e)) from None
        if not role_set:
            raise AuthError("give at least one role")
        bad = role_set - ACCOUNT_ROLES
        if bad:
            raise AuthError(
                f"{', '.join(sorted(bad))} is not an account role: a worker uses the tablet paired to "
                "their station, a gateway uses an API token"
            )
        return role_set

    def _check_lines(self, roles: frozenset[Role], factory: str | None, lines: Iterable[str]) -> frozenset[str]:
        line_set = frozenset(x.strip() for x in lines if x.strip())
        if Role.SUPERVISOR in roles and not line_set and roles <= {Role.SUPERVISOR}:
            raise AuthError("a supervisor needs the lines they run (--lines L1,L2)")
        if line_set and factory is not None:
            known = set(self.station_lines(factory).values())
            unknown = line_set - known if known else frozenset()
            if unknown:
                raise AuthError(f"unknown lines {sorted(unknown)} in factory {factory!r}")
        return line_set

    # --- sign-in ------------------------------------------------------------------------------
    def login(self, username: str, password: str, *, client: str | None = None) -> tuple[str, Principal]:
        """Sign in. ``client`` is the caller's address: wrong passwords slow down that address (and
        that account at that address) with growing waits, answered 429 before the password is even
        checked — but nobody else, so a guesser cannot keep the real user out."""
        now = self.clock()
        addr = client_key(client)
        pair_key = f"{username}\n{addr}"
        wait = max(self._login_at.retry_after_s(addr, now), self._login_user_at.retry_after_s(pair_key, now))
        if self._login_budget.exhausted(username, now) and self._login_user_at.failures(pair_key, now) > 0:
            wait = max(wait, LOGIN_PER_ACCOUNT_AT_ADDRESS.cap_s)
        if wait > 0:
            raise _too_many("passwords", wait)
        user = self.store.user(username)
        if user is None:
            passwords.verify_password(_DUMMY_HASH, password)
            self._login_failed(username, addr, pair_key, now)
            raise AuthError("wrong user name or password", 401)
        if not passwords.verify_password(user["password_hash"], password) or not user["active"]:
            self._login_failed(username, addr, pair_key, now)
            self.audit_action(username, "user", "login failed", username, {"client": addr})
            raise AuthError("wrong user name or password", 401)
        self._login_user_at.forget(pair_key)
        secret, csrf = self._new_session(
            "user", now + USER_SESSION_TTL, username=username, factory_id=user["factory_id"]
        )
        self.audit_action(username, "user", "login", username, None)
        return secret, self._user_principal(user, passwords.digest(secret), csrf)

    def _login_failed(self, username: str, addr: str, pair_key: str, now: datetime) -> None:
        self._login_at.fail(addr, now)
        self._login_user_at.fail(pair_key, now)
        self._login_budget.spend(username, now)

    def _new_session(self, kind: str, expires_at: datetime, **who: Any) -> tuple[str, str]:
        """Store a session (only the hash of its secret); return the secret and its CSRF token."""
        secret, csrf = passwords.new_secret(), passwords.new_secret(16)
        row = {"username": None, "factory_id": None, "station_id": None, "paired_by": None, **who}
        self.store.add_session(
            {
                **row,
                "id_hash": passwords.digest(secret),
                "kind": kind,
                "csrf": csrf,
                "created_at": self.clock(),
                "expires_at": expires_at,
                "revoked_at": None,
            }
        )
        return secret, csrf

    def logout(self, secret: str) -> None:
        self.store.revoke_session(passwords.digest(secret), self.clock())

    def session_principal(self, secret: str) -> Principal | None:
        now = self.clock()
        h = passwords.digest(secret)
        s = self.store.session(h)
        if s is None or s["revoked_at"] is not None or s["expires_at"] <= now:
            return None
        if s["kind"] == "tablet":
            return Principal(
                name=f"tablet {s['factory_id']}/{s['station_id']}",
                roles=frozenset({Role.WORKER}),
                kind="tablet",
                factory=s["factory_id"],
                station=s["station_id"],
                session_id=h,
                csrf=s["csrf"],
            )
        user = self.store.user(s["username"])
        if user is None or not user["active"]:
            return None
        return self._user_principal(user, h, s["csrf"])

    @staticmethod
    def _user_principal(user: dict[str, Any] | Any, session_id: str, csrf: str) -> Principal:
        return Principal(
            name=user["username"],
            roles=parse_roles(user["roles"]),
            kind="user",
            factory=user["factory_id"],
            lines=frozenset(user["lines"]),
            session_id=session_id,
            csrf=csrf,
        )

    # --- API tokens ---------------------------------------------------------------------------
    def create_token(
        self,
        name: str,
        roles: Iterable[str],
        *,
        actor: str,
        factory: str | None = None,
        lines: Iterable[str] = (),
        expires_days: int | None = None,
    ) -> tuple[int, str]:
        """A bearer token for a gateway or an integration; the secret is shown once, only its hash kept."""
        try:
            role_set = parse_roles(roles)
        except ValueError as e:
            raise AuthError(str(e)) from None
        if not role_set:
            raise AuthError("give at least one role")
        if Role.WORKER in role_set:
            raise AuthError("a worker's access is a paired tablet, not a token")
        line_set = self._check_lines(role_set, factory, lines)
        if not name.strip():
            raise AuthError("name the token after what uses it, e.g. 'gateway hall 2'")
        if expires_days is not None and not 1 <= expires_days <= 3650:
            raise AuthError("expires_days is 1–3650")
        secret = "slt_" + passwords.new_secret()
        now = self.clock()
        token_id = self.store.add_token(
            {
                "token_hash": passwords.digest(secret),
                "name": name.strip(),
                "roles": sorted(r.value for r in role_set),
                "factory_id": factory,
                "lines": sorted(line_set),
                "created_by": actor,
                "created_at": now,
                "expires_at": now + timedelta(days=expires_days) if expires_days else None,
                "revoked_at": None,
            }
        )
        self.audit_action(actor, "user", "create token", f"token {token_id}", {"name": name, "roles": sorted(roles)})
        return token_id, secret

    def token_principal(self, secret: str) -> Principal | None:
        """The principal of an API token (None: unknown, revoked or expired). Reads the store; a
        live token's row is kept for ``TOKEN_ROW_TTL_S`` (see ``cached_token_principal``)."""
        h = passwords.digest(secret)
        t = self.store.token_by_hash(h)
        if t is not None and t["revoked_at"] is None:
            if len(self._token_rows) >= TOKEN_ROWS_MAX:
                self._token_rows.clear()  # bounded: a burst of tokens costs reads, not memory
            self._token_rows[h] = (time.monotonic(), dict(t))
        return self._token_of(t)

    def cached_token_principal(self, secret: str) -> Principal | Literal[False] | None:
        """The principal of a token read from the store less than ``TOKEN_ROW_TTL_S`` ago, without
        touching the store; ``False`` when it must be read (``token_principal``).

        Why: a gateway posts sensor events many times a second, each with its token; reading the
        token's row for each post cost a database query and two thread hand-overs per post, which
        under page readers wait for the GIL each time. A token revoked here (``revoke_token``) is
        dropped at once; one revoked by another process (the CLI) is refused within
        ``TOKEN_ROW_TTL_S``. Expiry is checked against the clock on every use."""
        h = passwords.digest(secret)
        hit = self._token_rows.get(h)
        if hit is None or time.monotonic() - hit[0] >= TOKEN_ROW_TTL_S:
            return False
        return self._token_of(hit[1])

    def _token_of(self, t: dict[str, Any] | Any | None) -> Principal | None:
        now = self.clock()
        if t is None or t["revoked_at"] is not None or (t["expires_at"] is not None and t["expires_at"] <= now):
            return None
        return Principal(
            name=f"token {t['id']} ({t['name']})",
            roles=parse_roles(t["roles"]),
            kind="token",
            factory=t["factory_id"],
            lines=frozenset(t["lines"]),
        )

    def tokens(self) -> list[dict[str, Any]]:
        return self.store.tokens()

    def revoke_token(self, token_id: int, *, actor: str) -> None:
        self._token_rows.clear()
        if not self.store.revoke_token(token_id, self.clock()):
            raise AuthError(f"no live token {token_id}", 404)
        self.audit_action(actor, "user", "revoke token", f"token {token_id}", None)

    # --- tablet pairing -------------------------------------------------------------------------
    def issue_pairing_code(self, factory: str, station: str, *, actor: str) -> Pairing:
        if station not in self.station_lines(factory):
            raise AuthError(f"unknown station {station!r} in factory {factory!r}", 404)
        now = self.clock()
        for _ in range(5):
            code = passwords.new_pairing_code()
            try:
                self.store.add_pairing_code(
                    {
                        "code_hash": passwords.digest(f"{code}"),
                        "factory_id": factory,
                        "station_id": station,
                        "created_by": actor,
                        "created_at": now,
                        "expires_at": now + PAIRING_CODE_TTL,
                        "used_at": None,
                    }
                )
                break
            except IntegrityError:  # the same six digits are live already: draw again
                continue
        else:
            raise AuthError("could not draw a free pairing code; try again", 503)
        self.audit_action(actor, "user", "issue pairing code", f"{factory}/{station}", None)
        return Pairing(code, factory, station, now + PAIRING_CODE_TTL)

    def pair(self, code: str, *, client: str | None = None) -> tuple[str, Principal]:
        """Bind the tablet presenting ``code`` to its station; an earlier tablet there is unpaired.
        Wrong codes slow down the address that sends them (``client``), not pairing as a whole."""
        now = self.clock()
        code = code.strip()
        addr = client_key(client)
        wait = self._pair_at.retry_after_s(addr, now)
        if self._pair_budget.exhausted("all", now) and self._pair_at.failures(addr, now) > 0:
            wait = max(wait, PAIRING_PER_ADDRESS.cap_s)
        if wait > 0:
            raise _too_many("pairing codes", wait)
        row = self.store.use_pairing_code(passwords.digest(code), now) if code.isdigit() else None
        if row is None:
            self._pair_at.fail(addr, now)
            self._pair_budget.spend("all", now)
            raise AuthError("that pairing code is wrong, used or expired: ask your supervisor for a new one", 401)
        self._pair_at.forget(addr)
        factory, station = row["factory_id"], row["station_id"]
        self.store.revoke_tablets_at(factory, station, now)
        secret, _csrf = self._new_session(
            "tablet", now + TABLET_SESSION_TTL, factory_id=factory, station_id=station, paired_by=row["created_by"]
        )
        self.audit_action(
            f"tablet {factory}/{station}",
            "tablet",
            "pair tablet",
            f"{factory}/{station}",
            {"code_issued_by": row["created_by"]},
        )
        principal = self.session_principal(secret)
        assert principal is not None
        return secret, principal

    def tablets(self) -> list[dict[str, Any]]:
        return [
            {
                "session_id": t["id_hash"][:16],
                "factory": t["factory_id"],
                "station": t["station_id"],
                "paired_at": t["created_at"].isoformat(),
                "paired_by": t["paired_by"],
                "expires_at": t["expires_at"].isoformat(),
            }
            for t in self.store.tablets(self.clock())
        ]

    def unpair(self, session_prefix: str, *, actor: Principal) -> dict[str, Any]:
        for t in self.store.tablets(self.clock()):
            if t["id_hash"].startswith(session_prefix) and len(session_prefix) >= 16:
                line = self.station_lines(t["factory_id"]).get(t["station_id"])
                if not actor.is_admin and line not in actor.lines:
                    raise AuthError(f"{actor.name} may not unpair a tablet on line {line!r}", 403)
                self.store.revoke_session(t["id_hash"], self.clock())
                target = f"{t['factory_id']}/{t['station_id']}"
                self.audit_action(actor.name, actor.kind, "unpair tablet", target, None)
                return {"factory": t["factory_id"], "station": t["station_id"]}
        raise AuthError(f"no paired tablet {session_prefix!r}", 404)

    # --- audit --------------------------------------------------------------------------------
    def audit_action(
        self,
        actor: str,
        actor_kind: str,
        action: str,
        target: str | None,
        detail: dict[str, Any] | None,
        *,
        roles: Iterable[str] = (),
        status: int | None = None,
        body_sha256: str | None = None,
    ) -> None:
        self.store.audit(
            {
                "at": self.clock(),
                "actor": actor,
                "actor_kind": actor_kind,
                "roles": sorted(roles),
                "action": action,
                "target": target,
                "status": status,
                "body_sha256": body_sha256,
                "detail": detail,
            }
        )

    def audit_entries(
        self, limit: int = 100, offset: int = 0, actor: str | None = None, since: datetime | None = None
    ) -> tuple[int, list[dict[str, Any]]]:
        total, rows = self.store.audit_entries(limit, offset, actor, since)
        for r in rows:
            r["at"] = r["at"].isoformat()
        return total, rows


def _public_user(u: dict[str, Any] | Any) -> dict[str, Any]:
    return {
        "username": u["username"],
        "display_name": u["display_name"],
        "roles": list(u["roles"]),
        "factory": u["factory_id"],
        "lines": list(u["lines"]),
        "active": bool(u["active"]),
    }
