"""Poison posted by someone whose events are checked against their station (issue #18): a clear
4xx, never a 500; and /api/v1/health shows the last ingest error to signed-in callers only."""

from __future__ import annotations

from sqlalchemy import text

from seamline.auth.roles import Role

from .conftest import Site


def test_an_unreadable_event_from_a_supervisor_is_refused_not_a_500(site: Site) -> None:
    f = site.layout.factory.id
    body = b'[{"id": "t1", "seq": 1, "ts": "2026-11-26T08:00:00+08:00", "type": "machine", "state": "idle",'
    body += b' "factory": "' + f.encode() + b'", "station": "\xff\xfe"}]'
    with site.client(Role.SUPERVISOR) as c:
        r = c.post("/api/v1/events", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 403 and "unreadable" in r.json()["detail"]


def test_health_shows_the_error_of_an_event_set_aside_to_signed_in_callers_only(site: Site) -> None:
    with site.rt.engine.begin() as c:
        c.execute(text(
            "CREATE TRIGGER refuse_auth BEFORE INSERT ON events WHEN NEW.event_id = 'auth-boom'"
            " BEGIN SELECT RAISE(ABORT, 'auth-boom refused'); END"
        ))  # fmt: skip
    try:
        ev = [{"id": "auth-boom", "seq": 0, "ts": "2026-11-26T08:00:00+08:00", "type": "machine", "state": "idle",
               "factory": site.layout.factory.id, "station": site.station}]  # fmt: skip
        with site.client(Role.GATEWAY) as c:
            r = c.post("/api/v1/events", json=ev)
        assert r.status_code == 200 and "auth-boom refused" in r.json()["rejected"][0]["reason"]
        with site.client() as anonymous:
            h = anonymous.get("/api/v1/health").json()
        assert h["ok"] is True and h["last_error"] is None
        with site.client(Role.ADMIN) as admin:
            h = admin.get("/api/v1/health").json()
        assert h["ok"] is True and "auth-boom refused" in h["last_error"]
    finally:
        with site.rt.engine.begin() as c:
            c.execute(text("DROP TRIGGER refuse_auth"))
