"""The role model: who a request is (a ``Principal``) and what a route asks of it (a ``Rule``).

Roles follow how a sewing floor is run: a *worker* only ever acts through the tablet paired to
their station; a *supervisor* runs some lines; a *planner* loads orders; *qa* inspects; a
*compliance auditor* (often the buyer's) reads hours and reports but changes nothing; the *owner*
sees everything; *admin* manages users and devices. *gateway* is a machine role: a token that may
only post sensor events.

Pure: no I/O, so the whole matrix is tested without a server.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    WORKER = "worker"
    SUPERVISOR = "supervisor"
    PLANNER = "planner"
    QA = "qa"
    AUDITOR = "auditor"
    OWNER = "owner"
    ADMIN = "admin"
    GATEWAY = "gateway"


HUMAN_ROLES = frozenset(Role) - {Role.GATEWAY}
#: Roles a person can be given at a user account (a worker is a paired tablet, not an account).
ACCOUNT_ROLES = frozenset(Role) - {Role.WORKER}


def parse_roles(names: Iterable[str]) -> frozenset[Role]:
    out = set()
    for n in names:
        try:
            out.add(Role(n.strip().lower()))
        except ValueError:
            raise ValueError(f"unknown role {n!r}; roles: {', '.join(r.value for r in Role)}") from None
    return frozenset(out)


@dataclass(frozen=True)
class Principal:
    """Who is asking. ``lines`` limits a supervisor to their lines; ``station`` binds a tablet."""

    name: str
    roles: frozenset[Role]
    kind: str = "user"  # user | token | tablet | open
    factory: str | None = None
    lines: frozenset[str] = field(default_factory=frozenset)
    station: str | None = None
    session_id: str | None = None  # set for cookie sessions: they need CSRF tokens
    csrf: str | None = None

    @property
    def is_admin(self) -> bool:
        return Role.ADMIN in self.roles

    def line_limited(self) -> bool:
        """True when every role this principal has is limited to its lines (a supervisor only)."""
        return bool(self.roles) and self.roles <= {Role.SUPERVISOR}

    def has_any(self, roles: Iterable[Role]) -> bool:
        return not self.roles.isdisjoint(roles)


#: The open principal: what every request is when auth is switched off (`seamline demo`, tests).
OPEN = Principal(name="open", roles=frozenset(HUMAN_ROLES), kind="open")


@dataclass(frozen=True)
class Rule:
    """What a route needs. ``public`` routes need nobody; ``scope`` names how a line- or
    station-limited principal is checked against the request: by the ``line`` or ``station``
    path parameter, or by the page kind and key of the web data routes."""

    roles: frozenset[Role] = frozenset()
    public: bool = False
    scope: str | None = None  # None | "line" | "station" | "web"
    note: str = ""


@dataclass(frozen=True)
class Decision:
    allowed: bool
    status: int = 200  # 401 when nobody is logged in, 403 when the wrong somebody is
    reason: str = ""


def decide(
    p: Principal | None,
    rule: Rule | None,
    params: Mapping[str, str],
    station_line: Mapping[str, str],
) -> Decision:
    """May ``p`` call a route with ``rule``? ``params`` are its path and query parameters;
    ``station_line`` maps each station to its line (for the line-limited checks)."""
    if rule is None:
        return Decision(False, 403, "no access rule covers this route")
    if rule.public:
        return Decision(True)
    if p is None:
        return Decision(False, 401, "log in (pages) or send `Authorization: Bearer <token>` (API)")
    if p.kind == "open":
        return Decision(True)
    if not p.has_any(rule.roles):
        need = ", ".join(sorted(r.value for r in rule.roles))
        return Decision(False, 403, f"{p.name} may not do this; it needs one of the roles: {need}")
    # Full access through any role that is not limited wins over the limited ones.
    unlimited = p.roles & rule.roles - {Role.SUPERVISOR, Role.WORKER}
    if unlimited or rule.scope is None:
        return Decision(True)
    return _scoped(p, rule.scope, params, station_line)


def _scoped(p: Principal, scope: str, params: Mapping[str, str], station_line: Mapping[str, str]) -> Decision:
    line = params.get("line")
    station = params.get("station")
    if scope == "web":
        kind, key = params.get("kind"), params.get("key")
        if kind == "line":
            line = key
        elif kind == "station":
            station = key
        else:
            return Decision(False, 403, f"{p.name} sees only their own {_what(p)}, not the {kind} page")
    if station is not None:
        if Role.WORKER in p.roles and p.station == station:
            return Decision(True)
        if Role.SUPERVISOR in p.roles and station_line.get(station) in p.lines:
            return Decision(True)
        return Decision(False, 403, f"{p.name} may not see or act for station {station!r}")
    if line is not None:
        if Role.SUPERVISOR in p.roles and line in p.lines:
            return Decision(True)
        return Decision(False, 403, f"{p.name} may not see line {line!r}")
    if scope in ("line", "station"):
        return Decision(False, 403, f"{p.name} sees only their own {_what(p)}")
    return Decision(True)


def _what(p: Principal) -> str:
    return "station" if Role.WORKER in p.roles else "lines"
