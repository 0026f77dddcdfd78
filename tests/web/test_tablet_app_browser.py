"""The station tablet in Chromium: the bundle's defects and today's pay; the data's age and the
offline state once the server is gone; a reload with the server down opens the station from the
service worker, with its queue. A server of its own (SQLite), because one test stops it.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from seamline.pay.store import read_rate_file, save_rate_card

from .server import REPO, Served, start

pytestmark = pytest.mark.browser

UNDO_MS = 15_000  # station.js: a defect tap is held this long for an undo

CACHED_JS = """async () => {
  if (!navigator.serviceWorker.controller) return false;
  for (const name of await caches.keys()) {
    if (!name.startsWith('seamline-pages-')) continue;
    if ((await (await caches.open(name)).keys()).length) return true;
  }
  return false;
}"""


@pytest.fixture(scope="module")
def own() -> Iterator[Served]:
    with tempfile.TemporaryDirectory() as d:
        s = start(f"sqlite:///{Path(d) / 'web.db'}", hours=1.5, hold_back_min=5)
        try:
            yield s
        finally:
            if not s.server.should_exit:
                s.stop()


def _station(s: Served) -> str:
    """A station of line 1 with an operator who made pieces today, a bundle and an operation."""
    f = s.layout.factory.id
    with s.rt.pipeline.lock:
        for (pf, sid), st in sorted(s.rt.live.stations.items()):
            if pf == f and st.line == "L1" and st.worker and st.bundle and st.op and not st.downtime:
                return sid
    pytest.fail("no station of L1 is working on a bundle")


def _wait_live(page: Any) -> None:
    page.wait_for_function("() => document.body.dataset.events !== undefined", timeout=10_000)


def _queue(page: Any, sid: str) -> list[dict[str, Any]]:
    return json.loads(page.evaluate(f"() => localStorage.getItem('seamline.queue.{sid}') || '[]'"))


def test_bundle_defects_and_todays_pay(own: Served, context: Any) -> None:
    sid = _station(own)
    page = context.new_page()
    page.clock.install()
    page.goto(f"{own.url}/station/{sid}")
    _wait_live(page)
    assert page.locator("#t-earn-fig").is_hidden()  # no rate card yet: no figure at all

    save_rate_card(own.rt.engine, own.layout.factory.id, read_rate_file(REPO / "examples/factory/rates.json"), "t")
    own.server.config.app.state.web_rate_cards.forget()
    # Pages are recomputed when events arrive (a card is not an event): on a floor, within seconds.
    own.ingest(own.held_back[:20])
    page.wait_for_function("() => !document.getElementById('t-earn-fig').hidden", timeout=10_000)
    page.reload()
    _wait_live(page)
    shown = page.inner_text("#t-earn")
    want = httpx.get(f"{own.url}/web/data/station", params={"key": sid, "lang": "zh_CN"}).json()
    assert page.locator("#t-earn-fig").is_visible() and shown == want["earnings_txt"]
    assert re.fullmatch(r"¥\d+\.\d\d", shown) and Decimal(want["earnings"]) > 0

    before = int(page.inner_text("#t-bundle-defects"))
    assert before == want["bundle_defects"]
    page.click("button.defect[data-code='SKIP_STITCH']")
    page.wait_for_function(f"() => document.getElementById('t-bundle-defects').innerText === '{before + 1}'")
    page.click("#t-undo")  # taken back: the count too
    page.wait_for_function(f"() => document.getElementById('t-bundle-defects').innerText === '{before}'")
    page.click("button.defect[data-code='STAIN']")
    page.clock.fast_forward(UNDO_MS + 1_000)
    page.wait_for_function("() => document.body.dataset.queued === '0'", timeout=10_000)
    # sent: now it is the server's count that says one more
    page.wait_for_function(
        f"() => SL.data.bundle_defects === {before + 1} && "
        f"document.getElementById('t-bundle-defects').innerText === '{before + 1}'",
        timeout=10_000,
    )


def test_server_gone_shows_age_and_offline_and_a_reload_opens_from_the_service_worker(
    own: Served, context: Any, artifacts: Path
) -> None:
    sid = _station(own)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.clock.install()
    page.goto(f"{own.url}/station/{sid}")
    _wait_live(page)
    for _ in range(100):  # the worker installs, takes the page and keeps a copy of it
        if page.evaluate(CACHED_JS):
            break
        page.wait_for_timeout(100)
    else:
        pytest.fail("the service worker did not keep the station page")
    page.reload()  # online: the network answers first, not the copy
    _wait_live(page)
    assert page.locator("meta[name='sl-cached-at']").count() == 0
    assert page.locator("#t-age").is_hidden() and page.locator("#net").is_hidden()
    own.ingest(own.held_back[20:])  # newer data over the stream than the page the worker kept
    with own.rt.pipeline.lock:
        applied = own.rt.live.events_applied
    page.wait_for_function(f"() => SL.data.events === {applied}", timeout=10_000)
    shown = page.evaluate(
        "() => [document.getElementById('t-op').innerText, document.getElementById('t-pieces').innerText]"
    )

    own.stop()  # the server is gone: the stream stops
    page.clock.fast_forward(10_000)
    page.wait_for_function("() => !document.getElementById('net').hidden", timeout=10_000)
    assert "离线" in page.inner_text("#net")
    assert page.locator("#t-age").is_hidden()  # under a minute: no age yet
    page.clock.fast_forward(60_000)
    page.wait_for_function("() => !document.getElementById('t-age').hidden", timeout=5_000)
    assert re.fullmatch(r"1 分钟前的数据", page.inner_text("#t-age"))
    page.click("button.downtime[data-code='THREAD']")
    assert len(_queue(page, sid)) == 1

    page.reload()  # no server: the service worker's copy of the page
    assert page.locator("meta[name='sl-cached-at']").count() == 1
    # ... showing the latest data the stream brought (kept by the tablet), not the copy's older one
    assert page.evaluate("() => JSON.parse(document.getElementById('page-data').textContent).events") < applied
    assert page.evaluate("() => SL.data.events") == applied
    assert (
        page.evaluate(
            "() => [document.getElementById('t-op').innerText, document.getElementById('t-pieces').innerText]"
        )
        == shown
    )
    page.clock.fast_forward(61_000)
    page.wait_for_function("() => !document.getElementById('t-age').hidden", timeout=5_000)
    assert "分钟前的数据" in page.inner_text("#t-age")
    page.click("button.downtime[data-code='MECH']")  # taps still queue, the earlier one kept
    queue = _queue(page, sid)
    assert [(e["type"], e["reason"]) for e in queue] == [("downtime", "THREAD"), ("downtime", "MECH")]
    page.wait_for_function("() => /2/.test(document.getElementById('net').innerText)", timeout=5_000)
    # data is never answered from a cache
    assert (
        page.evaluate(
            "async (k) => { try { await fetch('/web/data/station?key=' + k); return 'answered'; } "
            "catch (e) { return 'failed'; } }",
            sid,
        )
        == "failed"
    )
    page.screenshot(path=str(artifacts / "station-from-service-worker-zh.png"), full_page=True)
    page.set_viewport_size({"width": 800, "height": 1280})  # a 10" tablet upright: both badges fit
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(artifacts / "station-from-service-worker-portrait-zh.png"), full_page=True)
    assert errors == []
