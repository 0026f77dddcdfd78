"""Every page of the site and who may open it: the one list the browser matrix walks.

A page added to the site is covered by adding one line here; ``test_screens_matrix`` also fails
when a page route of ``auth.policy.POLICY`` is missing from this list, or when a line here names
other roles than the policy does.
"""

from __future__ import annotations

from dataclasses import dataclass

from seamline.auth.roles import Role

WK, SU, PL, QA, AU, OW, AD = (
    Role.WORKER,
    Role.SUPERVISOR,
    Role.PLANNER,
    Role.QA,
    Role.AUDITOR,
    Role.OWNER,
    Role.ADMIN,
)


@dataclass(frozen=True)
class PageSpec:
    """``path`` may hold ``{line}`` and ``{station}`` (the supervisor's line, the tablet's station);
    ``roles`` empty = a public page, visited signed out; ``stream`` = wait for its first live update."""

    name: str
    route: str  # the route template its access rule is filed under
    path: str
    roles: frozenset[Role]
    stream: bool = False


def page(name: str, route: str, roles: set[Role], *, path: str | None = None, stream: bool = False) -> PageSpec:
    return PageSpec(name, route, path or route, frozenset(roles), stream)


PAGES: tuple[PageSpec, ...] = (
    page("login", "/login", set()),
    page("pair", "/pair", set()),
    page("overview", "/", {PL, QA, OW, AD}, stream=True),
    page("line", "/lines/{line}", {SU, PL, QA, OW, AD}, stream=True),
    page("line-tv", "/lines/{line}", {SU, PL, QA, OW, AD}, path="/lines/{line}?tv=1", stream=True),
    page("station", "/station/{station}", {WK, SU, PL, QA, OW, AD}, stream=True),
    page("plan", "/plan", {PL, OW, AD}, stream=True),
    page("quality", "/quality", {PL, QA, OW, AD}),
    page("materials", "/materials", {PL, OW, AD}),
    page("auditor", "/auditor", {AU, OW, AD}),
    page("owner", "/owner", {OW, AD}),
)

# Routes under POLICY that are not pages a person reads: data, files and the API's own documentation.
NOT_PAGES = ("/api/", "/web/", "/docs", "/redoc", "/openapi.json", "/logout")
NOT_PAGE_SUFFIXES = (".pdf", ".png", ".csv", ".js")
# Routes that only redirect: the tablet app's start URL (its station once paired, else /pair).
REDIRECTS = frozenset({"/station/"})
