"""Every route × every role, over real HTTP with login switched on.

The expectations come from two places: ``auth.policy`` (which roles a route names) and hand-written
facts that do not depend on that table — an auditor changes nothing, a gateway only posts events,
a tablet sees only its own station, a supervisor only their lines.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import httpx
import pytest

from seamline.auth.policy import POLICY
from seamline.auth.roles import Role

from .conftest import Site

PEOPLE = [*Role, None]  # None: nobody logged in


def _event(site: Site, station: str) -> list[dict[str, object]]:
    return [
        {
            "id": f"auth-{uuid.uuid4()}",
            "seq": 0,
            "ts": datetime.now(UTC).isoformat(),
            "type": "machine",
            "state": "idle",
            "factory": site.layout.factory.id,
            "station": station,
            "source": "tablet",
        }
    ]


def _url(site: Site, path: str, role: Role | None = None) -> str:
    """A concrete URL for a route template, with values a role that may call it can use."""
    values = {
        "line": site.line,
        "station": site.station,
        "factory": site.layout.factory.id,
        "kind": "line",
        "bundle": next(iter(site.layout.bundles)) if site.layout.bundles else "B-1",
        "event_id": "no-such-event",
        "order": "NO-SUCH-ORDER",  # writes must not change the factory under the other tests
        "badge": next(iter(site.layout.workers)),
        "style": next(iter(site.layout.styles)),
        "op": "OP-X",
        "figure": "efficiency",
        "username": "nobody",
        "token_id": "999999",
        "session_id": "0" * 16,
        "path": "app.css",
    }
    url = path.replace("{path:path}", values["path"])
    for k, v in values.items():
        url = url.replace("{" + k + "}", v)
    if path.startswith(("/web/data", "/web/stream")):
        # a tablet's page data is its station's; everybody else asks for a line's
        if role is Role.WORKER:
            url = url.replace("/line", "/station") + f"?key={site.station}"
        else:
            url += f"?key={site.line}"
    elif "{line}" not in path and POLICY.get(("GET", path)) and POLICY[("GET", path)].scope == "line":
        # (a line in the path and again in the query would be refused as ambiguous)
        url += f"?line={site.line}"
    return url


def _call(site: Site, role: Role | None, method: str, path: str) -> httpx.Response:
    c = site.shared(role)
    url = _url(site, path, role)
    headers = {}
    if role is Role.WORKER and method != "GET":
        headers["X-CSRF-Token"] = _csrf(site, c)
    body: object = {}
    if path == "/api/v1/events":
        body = _event(site, site.station)
    if path.startswith("/web/stream"):  # a stream never ends: the status line is the answer
        with c.stream(method, url, headers=headers) as r:
            if r.status_code != 200:
                r.read()
            return r
    if path in ("/login", "/pair", "/logout"):
        return c.request(method, url, headers=headers, data={}, follow_redirects=False)
    if method == "GET":
        return c.get(url, headers={**headers, "Accept": "text/html,application/json"}, follow_redirects=False)
    return c.request(method, url, headers=headers, content=json.dumps(body), follow_redirects=False)


_CSRF: dict[int, str] = {}


def _csrf(site: Site, c: httpx.Client) -> str:
    if id(c) not in _CSRF:
        _CSRF[id(c)] = c.get("/api/v1/auth/me").json()["csrf"]
    return _CSRF[id(c)]


CASES = [(m, p, role) for (m, p) in sorted(POLICY) for role in PEOPLE if not (p == "/logout" and role is Role.WORKER)]


@pytest.mark.parametrize(("method", "path", "role"), CASES, ids=[f"{m} {p} {r}" for m, p, r in CASES])
def test_every_route_for_every_role(site: Site, method: str, path: str, role: Role | None) -> None:
    rule = POLICY[(method, path)]
    r = _call(site, role, method, path)
    if path == "/" and role in (Role.WORKER, Role.SUPERVISOR, Role.AUDITOR):
        own = {
            Role.WORKER: f"/station/{site.station}",
            Role.SUPERVISOR: f"/lines/{site.line}",
            Role.AUDITOR: "/auditor",
        }[role]
        assert (r.status_code, r.headers.get("location")) == (303, own)
    elif path == "/station/":  # the installed tablet app's start: its station, pairing, or home
        own = f"/station/{site.station}" if role is Role.WORKER else "/pair" if role is None else "/"
        assert (r.status_code, r.headers.get("location")) == (303, own)
    elif rule.public:
        assert r.status_code != 403, r.text
        if method == "GET":
            assert r.status_code == 200
    elif role is None:
        if method == "GET" and not path.startswith(("/api/", "/web/")):
            start = "/pair?next=" if path.startswith("/station/") else "/login?next="  # an unpaired tablet
            assert r.status_code == 303 and r.headers["location"].startswith(start)
        else:
            assert r.status_code == 401, r.text
            assert r.headers.get("www-authenticate", "").startswith("Bearer")
    elif role in rule.roles:
        assert r.status_code not in (401, 403), f"{role} refused: {r.status_code} {r.text[:200]}"
    else:
        assert r.status_code == 403, f"{role} let in: {r.status_code} {r.text[:200]}"
        assert "detail" in r.json()


def test_the_auditor_reads_and_changes_nothing(site: Site) -> None:
    for (method, path), _rule in POLICY.items():
        if method != "GET" and path not in ("/login", "/pair", "/logout"):
            assert _call(site, Role.AUDITOR, method, path).status_code == 403, (method, path)
    with site.client(Role.AUDITOR) as c:
        assert c.get("/api/v1/compliance/hours-alerts").status_code == 200
        assert c.get("/api/v1/audit").status_code == 200


def test_a_gateway_token_only_posts_events(site: Site) -> None:
    let_in = {
        (m, p)
        for (m, p), rule in POLICY.items()
        if not rule.public and _call(site, Role.GATEWAY, m, p).status_code not in (401, 403)
    }
    docs = {("GET", p) for p in ("/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc", "/api/v1/auth/me")}
    assert let_in == {("POST", "/api/v1/events")} | docs


def test_a_tablet_sees_and_posts_only_its_station(site: Site) -> None:
    with site.client(Role.WORKER) as c:
        csrf = c.get("/api/v1/auth/me").json()["csrf"]
        assert c.get(f"/station/{site.station}").status_code == 200
        assert c.get(f"/station/{site.other_station}").status_code == 403
        assert c.get(f"/web/data/station?key={site.station}").status_code == 200
        assert c.get(f"/web/data/station?key={site.other_station}").status_code == 403
        assert c.get(f"/web/data/line?key={site.line}").status_code == 403
        assert c.get(f"/lines/{site.line}").status_code == 403
        h = {"X-CSRF-Token": csrf}
        own = c.post("/api/v1/events", json=_event(site, site.station), headers=h)
        assert own.status_code == 200 and own.json()["accepted"] == 1
        other = c.post("/api/v1/events", json=_event(site, site.other_station), headers=h)
        assert other.status_code == 403 and site.other_station in other.json()["detail"]
        mixed = _event(site, site.station) + _event(site, site.other_station)
        assert c.post("/api/v1/events", json=mixed, headers=h).status_code == 403  # all or nothing
        # the same session without its CSRF token: refused, even for its own station
        assert c.post("/api/v1/events", json=_event(site, site.station)).status_code == 403


def test_a_supervisor_sees_only_their_lines(site: Site) -> None:
    with site.client(Role.SUPERVISOR) as c:
        assert c.get(f"/lines/{site.line}").status_code == 200
        assert c.get(f"/lines/{site.other_line}").status_code == 403
        assert c.get(f"/api/v1/lines/{site.other_line}/live").status_code == 403
        assert c.get(f"/station/{site.station}").status_code == 200
        assert c.get(f"/station/{site.other_station}").status_code == 403
        assert c.get("/api/v1/quality/dhu").status_code == 403  # factory-wide: needs ?line=
        assert c.get(f"/api/v1/quality/dhu?line={site.other_line}").status_code == 403
        assert c.get(f"/api/v1/quality/dhu?line={site.line}").status_code == 200
        assert c.get(f"/api/v1/quality/dhu?line={site.line}&line={site.other_line}").status_code == 400
        assert c.get("/api/v1/efficiency?scope=factory").status_code == 403
        stations = c.get("/api/v1/efficiency?scope=station").json()["rows"]
        lines_of = {s: st.line_id for s, st in site.layout.stations.items()}
        assert all(lines_of[r["key"]] == site.line for r in stations)
        r = c.post("/api/v1/events", json=_event(site, site.other_station))
        assert r.status_code == 403
        assert c.post(f"/api/v1/stations/{site.other_station}/pairing-code").status_code == 403
        assert c.post(f"/api/v1/stations/{site.station}/pairing-code").status_code == 201


def test_pages_show_only_what_the_role_may_open(site: Site) -> None:
    with site.client(Role.SUPERVISOR) as c:
        html = c.get(f"/lines/{site.line}").text
    assert f'href="/lines/{site.line}"' in html and f'href="/lines/{site.other_line}"' not in html
    assert 'href="/plan"' not in html
    with site.client(Role.WORKER) as c:
        html = c.get(f"/station/{site.station}").text
    assert 'href="/lines/' not in html and 'href="/plan"' not in html
