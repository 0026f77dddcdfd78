"""The quality page for a chosen earlier day or month (issue #19): a QA manager picks a day that left
memory long ago and sees its DHU, per-worker figures and Pareto, read from the quality rollups."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import uvicorn

from seamline.bootstrap import Runtime, bootstrap
from seamline.entrypoints.api import create_app
from tests.conftest import tiny_layout
from tests.quality.test_quality_rollups import DAY0, checkpoint, process, quality_day
from tests.web.server import free_port

DAYS = 4
pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def past(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Runtime, str]]:
    """Four days of the tiny line with a one-day window, restarted from its checkpoint, served."""
    url = f"sqlite:///{tmp_path_factory.mktemp('qpast')}/q.db"
    rt = bootstrap(url, start_worker=False, retain_days=1.0)
    rt.save_layout(tiny_layout())
    for d in range(DAYS):
        process(rt, quality_day(DAY0 + timedelta(days=d), d))
        checkpoint(rt)
    rt.close()
    rt = bootstrap(url, retain_days=1.0)
    server = uvicorn.Server(
        uvicorn.Config(create_app(rt), host="127.0.0.1", port=free_port(), log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True, name="uvicorn-quality-past")
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield rt, f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(10)
        rt.close()


def test_a_past_day_and_month_on_the_quality_page_come_from_the_rollups(past, browser, tmp_path: Path):  # type: ignore[no-untyped-def]
    rt, url = past
    dhu = rt.projection("quality").dhu
    assert min(k[5] for k in dhu.hourly) > DAY0 + timedelta(days=1)  # day 0 is not in memory
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    try:
        page = ctx.new_page()
        page.goto(f"{url}/quality?lang=en")
        page.fill("#q-day-pick", DAY0.date().isoformat())
        page.click("#q-day-go")
        page.wait_for_url("**day=2026-11-02**")
        # day 0: 40 pieces of OP1 and 20 of OP2; defects: SKIP at 10:15, OPEN + STAIN on one garment
        assert page.inner_text("#q-pieces") == "60" and page.inner_text("#q-defects") == "3"
        assert page.inner_text("#q-dhu") == "5.0"
        workers = page.inner_text("#q-by-worker")
        assert "王芳" in workers and "W1" in workers  # the sewer of OP1 carries the defects
        rows = page.eval_on_selector_all(
            "#q-pareto tbody tr", "rs => rs.map(r => [r.cells[0].innerText, r.cells[1].innerText])"
        )
        assert sorted(rows) == [["OPEN", "1"], ["SKIP", "1"], ["stain", "1"]], rows
        assert "Pieces checked" in page.inner_text(".kpis") and "today" not in page.inner_text(".kpis")
        page.screenshot(path=str(tmp_path / "quality-past-day.png"), full_page=True)
        Path("/tmp/quality-past-day.png").write_bytes((tmp_path / "quality-past-day.png").read_bytes())

        page.fill("#q-month-pick", "2026-11")
        page.click("#q-month-go")
        page.wait_for_url("**month=2026-11**")
        assert page.inner_text("#q-pieces") == str(60 * DAYS)
        page.click("#q-today")
        page.wait_for_url(f"{url}/quality")
        assert "today" in page.inner_text(".kpis")
    finally:
        ctx.close()


def test_a_malformed_day_is_refused_in_both_languages(past) -> None:  # type: ignore[no-untyped-def]
    import httpx

    _rt, url = past
    r = httpx.get(f"{url}/quality", params={"day": "2026-13-45"}, headers={"Accept": "text/html"})
    assert r.status_code == 404 and "YYYY-MM-DD" in r.text and "日期" in r.text
