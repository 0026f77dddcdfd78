"""The owner's page with a pilot, in Chromium: effects against the controls, money, payback, forecast slot.

The server is the real app (uvicorn in a thread) on a database holding two simulated weeks of the
pilot line's sensor events and the daily report of the control lines; the settings name the
pilot. The browser reads what the owner reads.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from seamline.adapters.db import make_engine
from seamline.adapters.roi_files import read_report_file
from seamline.bootstrap import bootstrap
from seamline.entrypoints.api import create_app
from seamline.roi.daily_report import parse_report
from seamline.roi.service import SETTINGS_ENV
from seamline.roi.store import Forecast, add_forecast, save_report
from tests.conftest import ENGINES, new_database

from .pilot_data import REPORT_TO, SENSORS_FROM, load_sensors, settings, write_report, zh_day


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module", params=ENGINES)
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    d = tmp_path_factory.mktemp("pilot")
    db = new_database(request, request.param, d)
    load_sensors(db)
    write_report(d / "r.csv")
    table = read_report_file(d / "r.csv")
    eng = make_engine(db)
    save_report(eng, "f1", parse_report(table.header, table.rows, {"HEM": 0.75}), "r.csv")
    old = os.environ.get(SETTINGS_ENV)
    os.environ[SETTINGS_ENV] = str(settings(d / "s.json"))
    rt = bootstrap(db)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(rt), host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off"))  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True, name="uvicorn-roi-pilot")
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield {"url": f"http://127.0.0.1:{port}", "engine": eng}
    finally:
        server.should_exit = True
        thread.join(10)
        rt.close()
        eng.dispose()
        if old is None:
            os.environ.pop(SETTINGS_ENV, None)
        else:
            os.environ[SETTINGS_ENV] = old


@pytest.mark.browser
def test_owner_page_shows_the_pilot_against_controls_and_the_forecast_slot(
    served: dict[str, Any], browser: Any
) -> None:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, timezone_id="Asia/Shanghai", locale="zh-CN")
    try:
        page = ctx.new_page()
        page.goto(served["url"] + "/owner?lang=zh")
        assert page.locator("#pilot h2").inner_text() == "试点线效果：对比对照线"
        design = page.locator("#pilot-design").inner_text()
        assert f"{zh_day(SENSORS_FROM)}起装传感器" in design and "改造前 12 个工作日，改造后 12 个工作日" in design
        assert page.locator("#pilot-preliminary").count() == 0  # 12 workdays in each period
        assert re.fullmatch(r"\d+(\.\d)? 个月", page.locator("#pilot-payback").inner_text().strip())
        assert re.fullmatch(r"\d+%", page.locator("#pilot-no-payback").inner_text().strip())
        rows = page.locator("#pilot-effects tr[data-metric]")
        assert rows.count() == 4
        eff = page.locator('#pilot-effects tr[data-metric="efficiency_pct"]')
        assert "实测" in eff.locator("td.did").inner_text()
        assert re.search(r"[+-]\d+\.\d", eff.locator("td.naive").inner_text())
        assert "尚无预测" in eff.locator("td.forecast").inner_text()  # the twin (#21) is not there: no number
        assert page.locator("#pilot-sensitivity tr[data-scenario]").count() == 4
        page.locator("#pilot-formulas summary").click()
        formulas = page.locator("#pilot-formulas").inner_text()
        assert "挣得的标准分钟 ÷ 出勤分钟 × 100" in formulas and "Σ" not in formulas
        body = page.locator("body").inner_text()
        assert not re.search(r"\d{4}-\d{2}-\d{2}", body), "ISO dates on the owner's page"
        assert ".json" not in body and ".csv" not in body and "docs/" not in body

        add_forecast(
            served["engine"],
            "f1",
            Forecast("efficiency_pct", ("L1",), 7.5, 3.0, 11.0, 90.0, "闭环孪生", date(2026, 11, 1)),
        )
        page.reload()
        cell = page.locator('#pilot-effects tr[data-metric="efficiency_pct"] td.forecast').inner_text()
        assert "预测" in cell and "+7.5" in cell and "3.0 ~ 11.0" in cell and "11月1日" in cell
        did = page.locator('#pilot-effects tr[data-metric="efficiency_pct"] td.did').inner_text()
        assert "实测" in did  # measured beside the forecast, each marked

        png = page.locator("#weekly-png").get_attribute("href")
        r = httpx.get(served["url"] + str(png), timeout=60)
        assert r.status_code == 200 and r.headers["content-type"] == "image/png" and r.content[:4] == b"\x89PNG"
        page.goto(served["url"] + "/owner?lang=en")
        assert page.locator("#pilot h2").inner_text() == "The pilot against control lines"
    finally:
        ctx.close()


def test_pilot_api_and_weekly_pdf(served: dict[str, Any], tmp_path: Path) -> None:
    r = httpx.get(served["url"] + "/api/v1/roi/pilot", timeout=60).json()
    assert r["configured"] and r["pilot_lines"] == ["L1"] and r["control_lines"] == ["L2", "L3"]
    assert r["today_excluded"] > REPORT_TO.isoformat() and r["days_after"] == 12
    pdf = httpx.get(served["url"] + "/owner/weekly.pdf", timeout=60)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    (tmp_path / "w.pdf").write_bytes(pdf.content)
    import subprocess

    fonts = subprocess.run(["pdffonts", str(tmp_path / "w.pdf")], capture_output=True, text=True, check=True).stdout
    assert "WenQuanYi" in fonts and " no " not in fonts.split("\n", 2)[2]
