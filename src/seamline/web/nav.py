"""The header's navigation and each role's landing page.

The navigation lists only what the signed-in person may open: each entry is checked with the same
access decision the server makes (``auth.policy``), so a link never leads to a refusal and a new
rule in the policy changes the menu by itself. The landing page is where the login form sends a
person who did not ask for a particular page: the screen of their job.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote

from ..auth.policy import rule_for
from ..auth.roles import Principal, Role, decide
from .i18n import N_


@dataclass(frozen=True, slots=True)
class NavEntry:
    href: str
    route: str  # the route template its access rule is filed under
    label: str  # message id (English), translated at render time
    kind: str  # the page kind that marks it as the current page


#: The role screens, in the header's order; the lines are placed after the overview.
ENTRIES: tuple[NavEntry, ...] = (
    NavEntry("/", "/", N_("Overview"), "overview"),
    NavEntry("/plan", "/plan", N_("Planner"), "plan"),
    NavEntry("/materials", "/materials", N_("Materials"), "materials"),
    NavEntry("/quality", "/quality", N_("Quality"), "quality"),
    NavEntry("/auditor", "/auditor", N_("Hours and pay"), "auditor"),
    NavEntry("/owner", "/owner", N_("Owner"), "owner"),
)


def may_open(me: Principal | None, route: str, params: Mapping[str, str] | None = None) -> bool:
    """Would the access check let ``me`` open the page filed under ``route`` (with these path
    parameters)? ``None`` is the open principal (login switched off)."""
    if me is None or me.kind == "open":
        return True
    return decide(me, rule_for("GET", route), params or {}, {}).allowed


def entries_for(me: Principal | None) -> list[NavEntry]:
    return [e for e in ENTRIES if may_open(me, e.route)]


# Who lands where, the first role that applies: an admin sees the factory overview; a person with
# several roles gets the screen of the broadest one.
_LANDING: tuple[tuple[Role, str], ...] = (
    (Role.ADMIN, "/"),
    (Role.OWNER, "/owner"),
    (Role.PLANNER, "/plan"),
    (Role.QA, "/quality"),
    (Role.AUDITOR, "/auditor"),
)


def landing(me: Principal) -> str:
    """The page a person lands on after signing in without asking for one."""
    if Role.WORKER in me.roles and me.station:
        return f"/station/{quote(me.station)}"
    for role, path in _LANDING:
        if role in me.roles:
            return path
    if Role.SUPERVISOR in me.roles and me.lines:
        return f"/lines/{quote(sorted(me.lines)[0])}"
    return "/"
