"""In a real browser with login on: a supervisor signs in and pairs a tablet; the tablet's taps
carry the page's CSRF token and are stored as its station's."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from seamline.auth.roles import Role

from .conftest import PASSWORD, REPO, Site

ARTIFACTS = REPO / "test-artifacts" / "auth"

pytestmark = pytest.mark.browser


def _bundle_at(site: Site, station: str) -> str:
    """Put a worker and a bundle at the station, as its sensor would."""
    lay = site.layout
    bundle = next(iter(lay.bundles))
    badge = next(b for b, w in lay.workers.items() if w.line_id == site.line)
    now = datetime.now(UTC).isoformat()
    evs = [
        {
            "id": f"b-{uuid.uuid4()}",
            "seq": i,
            "ts": now,
            "type": t,
            "factory": lay.factory.id,
            "station": station,
            **extra,
        }
        for i, (t, extra) in enumerate([("login", {"worker": badge}), ("bundle_in", {"bundle": bundle})])
    ]
    with site.client(Role.GATEWAY) as c:
        assert c.post("/api/v1/events", json=evs).json()["accepted"] == 2
    return bundle


def test_supervisor_signs_in_and_a_paired_tablet_reports_downtime(site: Site, browser: Any) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    bundle = _bundle_at(site, site.station)
    sup = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    page = sup.new_page()
    page.goto(f"{site.url}/lines/{site.line}")
    assert "/login?next=" in page.url  # nobody signed in: the sign-in form, then back here
    page.fill("#username", "sam")
    page.fill("#password", "wrong-password-0")
    page.click("#login-submit")
    assert page.locator("#auth-error").is_visible()
    page.fill("#username", "sam")
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(f"{site.url}/lines/{site.line}")
    assert page.inner_text("#who") == "sam"
    page.screenshot(path=str(ARTIFACTS / "supervisor-line.png"))
    # the supervisor gets a pairing code for the station from the line page
    page.select_option("#pair-station", site.station)
    page.click("#pair-issue")
    page.wait_for_function("() => /^[0-9]{6}$/.test(document.getElementById('pair-code').innerText)")
    code = page.inner_text("#pair-code")
    page.screenshot(path=str(ARTIFACTS / "supervisor-pairing-code.png"))
    assert len(code) == 6

    tablet = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 800, "height": 1280})
    t = tablet.new_page()
    t.goto(f"{site.url}/pair")
    t.fill("#code", code)
    t.click("#pair-submit")
    t.wait_for_url(f"{site.url}/station/{site.station}")
    t.wait_for_function("() => document.body.dataset.events !== undefined", timeout=10_000)
    assert t.locator("#logout").count() == 0  # a worker cannot sign the tablet out by a tap
    t.wait_for_function(f"() => document.getElementById('t-bundle').innerText === '{bundle}'", timeout=10_000)
    t.click("button.downtime[data-code='THREAD']")
    t.wait_for_function("() => document.body.dataset.queued === '0'", timeout=10_000)
    t.screenshot(path=str(ARTIFACTS / "paired-tablet.png"))
    taps = [ev for _p, ev in site.rt.store.iter_events(types=("downtime",)) if ev.station == site.station]
    assert [(d.reason, d.source) for d in taps] == [("THREAD", "tablet")]

    # the tablet cannot open another station, and the supervisor's sign-out ends the session
    assert t.goto(f"{site.url}/station/{site.other_station}").status == 403
    page.click("#logout")
    page.wait_for_url(f"{site.url}/login")
    assert page.goto(f"{site.url}/lines/{site.line}") is not None and "/login?next=" in page.url
    sup.close()
    tablet.close()
