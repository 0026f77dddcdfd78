"""Sign-in as a browser does it, CSRF, the audit trail of HTTP changes, and the policy's coverage."""

from __future__ import annotations

import hashlib
import json
import time

import httpx
import pytest
from fastapi.routing import _iter_included_route_candidates

from seamline.auth.policy import POLICY, match
from seamline.auth.roles import Role
from seamline.entrypoints.serve import ServeConfig

from .conftest import PASSWORD, Site


def test_every_route_of_the_app_has_exactly_its_own_rule(site: Site) -> None:
    app = site.client().get("/openapi.json")  # (refused: the schema is not public)
    assert app.status_code == 401
    from seamline.entrypoints.api import create_app

    routes = list(_iter_included_route_candidates(create_app(site.rt).routes))
    seen = set()
    for r in routes:
        path = r.path
        methods = sorted(getattr(r, "methods", None) or {"GET"})
        if path == "/web/static":
            path = "/web/static/{path:path}"
        for m in methods:
            if m == "HEAD":
                continue
            assert (m, path) in POLICY, f"{m} {path} has no access rule in seamline.auth.policy"
            seen.add((m, path))
        sample = path.replace("{path:path}", "app.css")
        for part in ("{", "}"):
            sample = sample.replace(part, "")
        assert match(sample) is not None and match(sample)[0] == path, f"{sample} matches {match(sample)}"
    assert seen == set(POLICY), f"rules for routes that do not exist: {set(POLICY) - seen}"


def test_browser_sign_in_lands_on_the_page_asked_for_and_never_off_site(site: Site) -> None:
    with httpx.Client(base_url=site.url) as c:
        r = c.get("/plan", headers={"Accept": "text/html"})
        assert r.status_code == 303 and r.headers["location"] == "/login?next=/plan"
        r = c.post("/login", data={"username": "ada", "password": "nope-nope-nope", "next": "/plan"})
        assert r.status_code == 401 and "auth-error" in r.text
        r = c.post("/login", data={"username": "ada", "password": PASSWORD, "next": "//evil.example/x"})
        assert r.status_code == 303 and r.headers["location"] == "/"
        cookie = r.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie
        assert c.get("/plan").status_code == 200
        assert "ada" in c.get("/plan").text  # the header names who is signed in


def test_changes_over_a_session_cookie_need_the_csrf_token(site: Site) -> None:
    c, csrf = site.login("ada")
    try:
        body = {"name": "csrf check", "roles": ["planner"]}
        assert c.post("/api/v1/tokens", json=body).status_code == 403
        assert c.post("/api/v1/tokens", json=body, headers={"X-CSRF-Token": "forged"}).status_code == 403
        cross = {"X-CSRF-Token": csrf, "Origin": "http://evil.example"}
        assert c.post("/api/v1/tokens", json=body, headers=cross).status_code == 403
        assert c.post("/api/v1/tokens", json=body, headers={"X-CSRF-Token": csrf}).status_code == 201
        # logging out ends the session on the server, not only in this browser
        cookie = c.cookies.get("seamline_session")
        assert c.post("/logout", data={"csrf": csrf}).status_code == 303
    finally:
        c.close()
    with httpx.Client(base_url=site.url, cookies={"seamline_session": cookie}) as again:
        assert again.get("/api/v1/auth/me").status_code == 401


def test_a_manual_change_is_audited_with_who_what_and_the_body_hash(site: Site) -> None:
    body = json.dumps({"name": "gateway hall 3", "roles": ["gateway"]}).encode()
    with site.client(Role.ADMIN) as c:
        r = c.post("/api/v1/tokens", content=body, headers={"Content-Type": "application/json"})
        assert r.status_code == 201
        items = c.get("/api/v1/audit", params={"limit": 20}).json()["items"]
    digest = hashlib.sha256(body).hexdigest()
    http = next(i for i in items if i["action"] == "POST /api/v1/tokens" and i["body_sha256"] == digest)
    assert http["actor"].startswith("token") and http["roles"] == ["admin"] and http["status"] == 201
    assert "gateway hall 3" in http["detail"]["body"]
    # a refused attempt is on record too
    with site.client(Role.PLANNER) as c:
        assert c.post("/api/v1/tokens", content=body).status_code == 403
    with site.client(Role.OWNER) as c:
        items = c.get("/api/v1/audit", params={"limit": 5}).json()["items"]
    assert any(i["status"] == 403 and i["actor"].startswith("token") and "planner" in i["roles"] for i in items)


def test_sensor_traffic_from_a_gateway_is_not_flooding_the_audit_log(site: Site) -> None:
    with site.client(Role.OWNER) as c:
        before = c.get("/api/v1/audit").json()["total"]
    ev = [
        {
            "id": "gw-audit-1",
            "seq": 0,
            "ts": "2026-11-26T08:00:00+08:00",
            "type": "machine",
            "state": "idle",
            "factory": site.layout.factory.id,
            "station": site.station,
        }
    ]
    with site.client(Role.GATEWAY) as c:
        assert c.post("/api/v1/events", json=ev).status_code == 200
    with site.client(Role.OWNER) as c:
        assert c.get("/api/v1/audit").json()["total"] == before


def test_open_access_is_refused_off_loopback() -> None:
    with pytest.raises(ValueError, match="open"):
        ServeConfig(host="0.0.0.0", auth="open").auth_config()
    assert ServeConfig(host="127.0.0.1", auth="open").auth_config().mode == "open"
    assert ServeConfig(host="0.0.0.0").auth_config().mode == "required"


def test_the_documented_matrix_is_the_policy() -> None:
    from seamline.auth.policy import markdown_matrix

    from .conftest import REPO

    assert markdown_matrix() in (REPO / "docs" / "access.md").read_text("utf-8")


def test_people_of_one_factory_see_only_that_factory(site: Site) -> None:
    here = site.layout.factory.id
    _id, elsewhere = site.svc.create_token("planner of another factory", ["planner"], actor="test", factory="f-other")
    with httpx.Client(base_url=site.url, headers={"Authorization": f"Bearer {elsewhere}"}) as c:
        assert c.get("/api/v1/factories").json() == []
        assert c.get("/api/v1/efficiency").status_code == 404  # pinned to their own (not loaded here)
        r = c.get("/api/v1/efficiency", params={"factory": here})
        assert r.status_code == 403 and "f-other" in r.json()["detail"]
    _id, gw = site.svc.create_token("gateway of another factory", ["gateway"], actor="test", factory="f-other")
    ev = [
        {
            "id": "x-factory-1",
            "seq": 0,
            "ts": "2026-11-26T08:00:00+08:00",
            "type": "machine",
            "state": "idle",
            "factory": here,
            "station": site.station,
        }
    ]
    with httpx.Client(base_url=site.url, headers={"Authorization": f"Bearer {gw}"}) as c:
        assert c.post("/api/v1/events", json=ev).status_code == 403
    with site.client(Role.PLANNER) as c:  # bound to this factory
        assert [f["id"] for f in c.get("/api/v1/factories").json()] == [here]
        assert c.get("/api/v1/efficiency").status_code == 200


def test_a_repeated_scope_parameter_is_refused_not_resolved(site: Site) -> None:
    """Issue #18 item 3: the check kept the first `factory`, FastAPI the last, so `?factory=A&factory=B`
    crossed factories. Every route that reads a factory refuses two values, in either order."""
    here, other = site.layout.factory.id, "f-other"
    routes = [
        "/api/v1/efficiency",
        "/api/v1/skills",
        f"/api/v1/lines/{site.line}/live",
        "/api/v1/compliance/hours-report",
        "/api/v1/materials/shortages",
        "/api/v1/materials/lots",
        "/api/v1/materials/wip",
        "/api/v1/materials/orders/NO-SUCH/cut-plan",
    ]
    with site.client(Role.OWNER) as c:  # bound to factory `here`
        for path in routes:
            for pair in ([here, other], [other, here], [here, here]):
                r = c.get(path, params=[("factory", v) for v in pair])
                assert r.status_code == 400, (path, pair, r.status_code, r.text)
                assert "factory" in r.json()["detail"] and "只能给一次" in r.json()["detail"]
            r = c.get(path, params={"factory": other})
            assert r.status_code == 403, (path, r.status_code, r.text)
            # percent-encoded names are the same parameter to the handler, so to the check too
            r = c.get(f"{path}?factory={here}&%66actory={other}")
            assert r.status_code == 400, (path, r.text)
        # the single, own value still works
        assert c.get("/api/v1/efficiency", params={"factory": here}).status_code == 200
    with site.client(Role.SUPERVISOR) as c:  # limited to `line`
        r = c.get("/api/v1/skills", params=[("line", site.line), ("line", site.other_line)])
        assert r.status_code == 400 and "line" in r.json()["detail"]
        r = c.get(f"/api/v1/lines/{site.line}/live", params={"line": site.other_line})
        assert r.status_code == 400  # a query value beside the path's is ambiguous too
        assert c.get("/api/v1/skills", params={"line": site.line}).status_code == 200


def test_a_guesser_at_one_address_does_not_keep_the_admin_out_at_another(site: Site) -> None:
    """Issue #18 item 10, over real HTTP: the guesser (127.0.0.3) is answered 429 with Retry-After,
    the admin signing in from 127.0.0.1 with the right password gets in at once."""
    from seamline.auth.service import LOGIN_PER_ACCOUNT_AT_ADDRESS

    guesser = httpx.Client(base_url=site.url, timeout=30, transport=httpx.HTTPTransport(local_address="127.0.0.3"))
    with guesser:
        form = {"username": "ada", "password": "wrong-password-1", "next": "/"}
        for _ in range(LOGIN_PER_ACCOUNT_AT_ADDRESS.free):
            assert guesser.post("/login", data=form).status_code == 401
        # each further failure doubles the wait (1 s, 2 s, 4 s …): go on until the wait is long
        # enough that the next request surely falls inside it, however slow this machine is
        for _ in range(10):
            r = guesser.post("/login", data=form)
            if r.status_code == 429:
                wait = int(r.headers["retry-after"])
                if wait >= 8:
                    break
                time.sleep(wait)
            else:
                assert r.status_code == 401
        assert r.status_code == 429 and "请稍候再试" in r.text
        r = guesser.post("/login", data={**form, "password": PASSWORD})  # the right one: not heard either
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    c = httpx.Client(base_url=site.url, timeout=30)
    with c:
        r = c.post("/login", data={"username": "ada", "password": PASSWORD, "next": "/"})
        assert r.status_code == 303, r.text
        assert c.get("/api/v1/auth/me").json()["name"] == "ada"
