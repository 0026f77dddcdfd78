"""In Chromium with login on: a tablet that is not paired lands on the pairing page, not the
user sign-in; pairing it there opens its station; the installed app's start page follows it."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Site

pytestmark = pytest.mark.browser


def test_an_unpaired_tablet_lands_on_pairing_and_pairs_there(site: Site, browser: Any) -> None:
    ctx = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 800, "height": 1280})
    try:
        t = ctx.new_page()
        t.goto(f"{site.url}/station/{site.station}")
        assert t.url.startswith(f"{site.url}/pair?next=")
        assert t.locator("#pair-form").is_visible() and t.locator("#login-form").count() == 0
        # a supervisor who opened a station page still finds the sign-in, and comes back here
        assert t.get_attribute("#to-login", "href") == f"/login?next=/station/{site.station}&lang=zh_CN"
        t.goto(f"{site.url}/station/")  # the installed app's start page, unpaired: pairing too
        assert t.url.startswith(f"{site.url}/pair")

        code = site.svc.issue_pairing_code(site.layout.factory.id, site.station, actor="sam").code
        t.fill("#code", code)
        t.click("#pair-submit")
        t.wait_for_url(f"{site.url}/station/{site.station}")
        t.goto(f"{site.url}/station/")  # paired: the start page opens its station
        t.wait_for_url(f"{site.url}/station/{site.station}")
    finally:
        ctx.close()
