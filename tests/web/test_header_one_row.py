"""The header is one row on a 1366 px laptop (#22): the admin sees the most of it (every line, every
page, the clock, the language toggle, their name and log-out), in Chinese and in English."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from seamline.auth.service import SESSION_COOKIE, AuthService
from seamline.entrypoints.auth_http import AuthConfig

from .server import Served, start

pytestmark = pytest.mark.browser

PASSWORD = "header-sews-7-seams"

# Every visible item of the header with its box: one row means every item shares a horizontal
# band with every other (the lowest top is above the highest bottom).
ROWS_JS = """() => {
  const h = document.querySelector('header.top');
  const items = [...h.querySelectorAll(':scope > *, nav > a, form > *')]
    .filter(el => el.checkVisibility() && el.tagName !== 'NAV' && el.tagName !== 'FORM');
  const boxes = items.map(el => {
    const r = el.getBoundingClientRect();
    return {text: el.textContent.trim().slice(0, 20), top: r.top, bottom: r.bottom, right: r.right};
  });
  return {height: h.getBoundingClientRect().height, width: document.documentElement.clientWidth, boxes: boxes};
}"""


@pytest.fixture(scope="module")
def admin_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, str]]:
    d = tmp_path_factory.mktemp("header")
    served = start(f"sqlite:///{d}/header.db", hours=1.0, auth=AuthConfig(mode="required"))
    try:
        svc: AuthService = served.server.config.app.state.auth  # type: ignore[attr-defined]
        # a long name, as people's names with a family and given name in Latin letters can be
        svc.add_user("admin-zhang-xiaoming", PASSWORD, ["admin"], actor="test")
        cookie, _p = svc.login("admin-zhang-xiaoming", PASSWORD)
        yield served, cookie
    finally:
        served.stop()


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
@pytest.mark.parametrize("path", ["/", "/lines/L1", "/plan", "/quality"])
def test_the_admins_header_is_one_row_at_1366(admin_site, browser, lang: str, path: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    served, cookie = admin_site
    ctx = browser.new_context(viewport={"width": 1366, "height": 768})
    try:
        ctx.add_cookies([{"name": SESSION_COOKIE, "value": cookie, "url": served.url}])
        page = ctx.new_page()
        page.goto(f"{served.url}{path}?lang={lang}")
        page.wait_for_selector("header.top #logout")
        got: dict[str, Any] = page.evaluate(ROWS_JS)
        boxes = got["boxes"]
        assert len(boxes) >= 10, boxes  # the admin's full header: lines, pages, clock, toggle, name
        lowest_top = max(b["top"] for b in boxes)
        highest_bottom = min(b["bottom"] for b in boxes)
        if lowest_top >= highest_bottom:
            page.screenshot(path=str(tmp_path / "header.png"))
        assert lowest_top < highest_bottom, f"the header wraps at 1366 px ({lang} {path}): {boxes}"
        assert max(b["right"] for b in boxes) <= got["width"] + 1, boxes  # and nothing hangs off the edge
    finally:
        ctx.close()
