"""Refusals and missing pages: a browser gets a translated page in the site's design, an API
client the JSON it always had (the same URL, told apart by the Accept header)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from seamline.auth.roles import Role

from .conftest import Site

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
API = {"Accept": "application/json"}


def _is_page(r: httpx.Response, status: int, *words: str) -> None:
    assert r.status_code == status, r.text[:300]
    assert r.headers["content-type"].startswith("text/html"), r.headers["content-type"]
    assert 'id="error-page"' in r.text and "/web/static/app.css" in r.text  # the site's own design
    for w in words:
        assert w in r.text, w


def _is_json(r: httpx.Response, status: int) -> None:
    assert r.status_code == status and r.headers["content-type"].startswith("application/json"), r.text[:300]
    assert r.json()["detail"]


def test_403_is_a_translated_page_for_browsers_and_json_for_clients(site: Site) -> None:
    c = site.shared(Role.SUPERVISOR)
    path = f"/lines/{site.other_line}"
    _is_page(c.get(path, headers=BROWSER), 403, "无权访问", 'lang="zh-CN"', "回到首页")
    _is_page(c.get(path, params={"lang": "en"}, headers=BROWSER), 403, "No access", 'lang="en"')
    _is_page(c.get(path, headers={**BROWSER, "Cookie": "seamline_lang=en"}), 403, "No access")
    _is_json(c.get(path, headers=API), 403)
    _is_json(c.get(path), 403)  # httpx's */*: a script, not a person
    assert "无权访问" not in c.get(path).text


def test_404_for_unknown_routes_and_unknown_keys(site: Site) -> None:
    c = site.shared(Role.ADMIN)
    _is_page(c.get("/no/such/page", headers=BROWSER), 404, "找不到页面")
    _is_json(c.get("/no/such/page", headers=API), 404)
    _is_page(c.get("/lines/NO-SUCH-LINE", headers=BROWSER), 404, "找不到页面", "NO-SUCH-LINE")  # from the handler
    _is_json(c.get("/lines/NO-SUCH-LINE", headers=API), 404)
    _is_json(c.get("/api/v1/lines/NO-SUCH-LINE/live", headers=API), 404)


def test_401_page_offers_the_login_and_keeps_the_bearer_challenge(site: Site) -> None:
    anon = site.shared(None)
    r = anon.get("/api/v1/auth/me", headers=BROWSER)
    _is_page(r, 401, "请先登录", 'href="/login?next=/api/v1/auth/me"')
    assert r.headers["www-authenticate"].startswith("Bearer")
    r = anon.get("/api/v1/auth/me", headers=API)
    _is_json(r, 401)
    assert r.headers["www-authenticate"].startswith("Bearer")
    # a page asked for without a session still goes straight to the sign-in form
    r = anon.get("/plan", headers=BROWSER)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/plan"


@pytest.mark.browser
def test_a_tablet_at_another_station_sees_the_refusal_page_in_chinese(site: Site, browser: Any) -> None:
    ctx = browser.new_context(locale="zh-CN", viewport={"width": 800, "height": 1280})
    ctx.add_cookies([{"name": "seamline_session", "value": site.tablet_cookie, "url": site.url}])
    page = ctx.new_page()
    failed: list[str] = []
    page.on("requestfailed", lambda req: failed.append(req.url))
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "403" not in m.text else None)
    try:
        resp = page.goto(f"{site.url}/station/{site.other_station}")
        assert resp is not None and resp.status == 403
        assert page.inner_text("#error-title") == "无权访问"
        # styled by app.css (the sign-in box's layout), not the browser's bare defaults
        assert page.eval_on_selector(".error-code", "e => getComputedStyle(e).fontSize") == "48px"
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.click("text=English")
        page.wait_for_selector("#error-title:has-text('No access')")
        page.click("#error-home")
        page.wait_for_url(f"{site.url}/station/{site.station}")  # the tablet's own page
        assert not failed and not errors, (failed, errors)
    finally:
        ctx.close()


def test_a_client_naming_json_beside_html_keeps_json(site: Site) -> None:
    r = site.shared(Role.SUPERVISOR).get(f"/lines/{site.other_line}", headers={"Accept": "text/html,application/json"})
    _is_json(r, 403)
