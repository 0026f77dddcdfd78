"""In Chromium, signed in as a planner: a drag on the planning board in the browser changes the plan
only after the what-if is confirmed (drag, see the what-if, reload: unchanged; drag again, confirm,
reload: changed). Screenshots go to test-artifacts/web/."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
import uvicorn

from seamline.adapters.layout_files import load_factory
from seamline.bootstrap import Runtime, bootstrap
from seamline.entrypoints.api import create_app
from seamline.entrypoints.auth_http import AuthConfig

from ..conftest import free_port
from .server import REPO

pytestmark = pytest.mark.browser
PASSWORD = "plan-the-week-9"


@dataclass
class Board:
    rt: Runtime
    url: str


@pytest.fixture(scope="module")
def board_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Board]:
    d = tmp_path_factory.mktemp("board")
    rt = bootstrap(f"sqlite:///{d}/board.db")
    rt.save_layout(load_factory(REPO / "examples" / "factory"))
    app = create_app(rt, AuthConfig(mode="required"))
    app.state.auth.add_user("pia", PASSWORD, ["planner"], actor="test")
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True, name="uvicorn-board-tests")
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    port = server.config.port
    try:
        yield Board(rt, f"http://127.0.0.1:{port}")
    finally:
        app.state.web_stopping = True
        server.should_exit = True
        thread.join(10)
        rt.close()


def _bar(page: Any, order: str) -> dict[str, str]:
    return page.eval_on_selector(
        f'.board-bar[data-order="{order}"]', "b => ({line: b.dataset.line, start: b.dataset.start})"
    )


def _drag_down_one_line(page: Any, order: str) -> None:
    """Mouse drag of the order's bar onto the next line's row, one day later."""
    bar = page.locator(f'.board-bar[data-order="{order}"]')
    bar.scroll_into_view_if_needed()
    box = bar.bounding_box()
    line = bar.get_attribute("data-line")
    rows = page.locator(".board-row[data-line]")
    ids = [rows.nth(i).get_attribute("data-line") for i in range(rows.count())]
    target = page.locator(f'.board-row[data-line="{ids[ids.index(line) + 1]}"]').bounding_box()
    x, y = box["x"] + min(12, box["width"] / 2), box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 20, y + 10, steps=4)
    page.mouse.move(x + 72, target["y"] + target["height"] / 2, steps=8)
    page.mouse.up()


def test_a_drag_on_the_board_changes_the_plan_only_after_the_what_if_is_confirmed(
    board_site: Board, browser: Any
) -> None:
    from .conftest import ARTIFACTS

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN", timezone_id="Asia/Shanghai")
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        page.goto(f"{board_site.url}/plan")
        assert "/login?next=" in page.url
        page.fill("#username", "pia")
        page.fill("#password", PASSWORD)
        page.click("#login-submit")
        page.wait_for_url(f"{board_site.url}/plan")
        page.wait_for_selector(".board-bar")
        # the board: labelled bars, a today line, due markers; overdue orders say late, not at risk
        assert page.locator(".board-today").count() >= 1
        assert page.locator(".board-due").count() == page.locator(".board-bar").count()
        first = page.locator(".board-bar").first.inner_text()
        assert " · " in first
        statuses = set(page.eval_on_selector_all("#orders td[data-status]", "els => els.map(e => e.dataset.status)"))
        assert "late" in statuses  # the sample orders fall due before today
        assert "逾期" in page.inner_text("#orders")
        # an order on the first line with a line below it
        order = page.eval_on_selector_all(
            '.board-row[data-row="0"] .board-bar',
            "bs => bs.sort((a, b) => a.offsetLeft - b.offsetLeft)[0].dataset.order",
        )
        before = _bar(page, order)

        _drag_down_one_line(page, order)
        page.wait_for_function(
            "() => ['feasible', 'infeasible'].includes(document.body.dataset.whatif)", timeout=20_000
        )
        assert page.locator("#whatif").is_visible()
        assert page.evaluate("document.body.dataset.whatif") == "feasible", page.inner_text("#whatif")
        assert page.inner_text("#wi-feasible") == "可行"
        assert order in page.inner_text("#wi-orders")
        page.screenshot(path=str(ARTIFACTS / "planner-what-if-zh.png"))
        page.reload()
        page.wait_for_selector(".board-bar")
        assert _bar(page, order) == before, "a what-if alone changed the plan"
        assert page.locator("#whatif").is_hidden()

        _drag_down_one_line(page, order)
        page.wait_for_function("() => document.body.dataset.whatif === 'feasible'", timeout=20_000)
        proposed_line = page.eval_on_selector(
            f'.board-row[data-line="{before["line"]}"] + .board-row', "r => r.dataset.line"
        )
        page.click("#wi-confirm")
        page.wait_for_function("() => document.body.dataset.planVersion !== '0'", timeout=20_000)
        page.reload()
        page.wait_for_selector(".board-bar")
        after = _bar(page, order)
        assert after["line"] == proposed_line != before["line"]
        one_day_later = (date.fromisoformat(before["start"]) + timedelta(days=1)).isoformat()
        assert after["start"] >= one_day_later  # dropped one day to the right: starts no earlier
        assert page.locator(f'.board-bar[data-order="{order}"].moved').count() == 1
        page.screenshot(path=str(ARTIFACTS / "planner-board-zh.png"))
        assert errors == []
    finally:
        ctx.close()


def test_the_keyboard_moves_an_order_and_cancel_puts_it_back(board_site: Board, browser: Any) -> None:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US", timezone_id="Asia/Shanghai")
    page = ctx.new_page()
    try:
        page.goto(f"{board_site.url}/plan?lang=en")
        page.fill("#username", "pia")
        page.fill("#password", PASSWORD)
        page.click("#login-submit")
        page.wait_for_selector(".board-bar")
        bar = page.locator(".board-bar").first
        order = bar.get_attribute("data-order")
        before = _bar(page, order)
        bar.focus()
        page.keyboard.press("Enter")
        assert bar.get_attribute("aria-pressed") == "true"
        page.click("#mv-later")
        page.wait_for_function(
            "() => ['feasible', 'infeasible'].includes(document.body.dataset.whatif)", timeout=20_000
        )
        assert page.inner_text("#wi-feasible") in ("Feasible", "Not feasible")
        from .conftest import ARTIFACTS

        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "planner-what-if-en-full.png"), full_page=True)
        page.click("#wi-cancel")
        assert page.locator("#whatif").is_hidden()
        assert _bar(page, order) == before
    finally:
        ctx.close()


def test_a_touch_drag_asks_for_the_what_if_too(board_site: Board, browser: Any) -> None:
    """A finger on a tablet: the same Pointer Events with pointerType "touch"."""
    ctx = browser.new_context(
        viewport={"width": 1024, "height": 768}, has_touch=True, locale="zh-CN", timezone_id="Asia/Shanghai"
    )
    page = ctx.new_page()
    try:
        page.goto(f"{board_site.url}/plan")
        page.fill("#username", "pia")
        page.fill("#password", PASSWORD)
        page.click("#login-submit")
        page.wait_for_selector(".board-bar")
        bar = page.locator('.board-row[data-row="1"] .board-bar').first
        order = bar.get_attribute("data-order")
        before = _bar(page, order)
        box = bar.bounding_box()
        x, y = box["x"] + 10, box["y"] + box["height"] / 2
        ev = {"pointerType": "touch", "pointerId": 7, "isPrimary": True, "button": 0}
        bar.dispatch_event("pointerdown", {**ev, "clientX": x, "clientY": y})
        for dx in (10, 40, 72 * 2):
            bar.dispatch_event("pointermove", {**ev, "clientX": x + dx, "clientY": y})
        bar.dispatch_event("pointerup", {**ev, "clientX": x + 72 * 2, "clientY": y})
        page.wait_for_function(
            "() => ['feasible', 'infeasible'].includes(document.body.dataset.whatif)", timeout=20_000
        )
        assert order in page.inner_text("#wi-move")
        page.click("#wi-cancel")
        assert _bar(page, order) == before
    finally:
        ctx.close()
