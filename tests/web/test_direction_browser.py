"""Chromium: the supervisor's headline and one-tap accept; the tablet then shows the new task."""

from __future__ import annotations

import json
from typing import Any

from seamline.service_layer.line_direction import director

from .server import Served


def test_headline_accept_and_the_tablets_new_next_task(served: Served, context: Any, artifacts: Any) -> None:
    rt, lay = served.rt, served.layout
    f = lay.factory.id
    # a line with a move to suggest (L1 last: the other browser tests read its tablets)
    lines = sorted(lay.lines, key=lambda ln: (ln == "L1", ln))
    line = next((ln for ln in lines if director(rt).suggestion(lay, ln) is not None), None)
    assert line is not None, "no line of the simulated morning has a move to suggest"
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{served.url}/lines/{line}")
    data = json.loads(page.evaluate("() => JSON.stringify(SL.data)"))
    head, sug = page.inner_text("#hl-text"), page.inner_text("#hl-sug")
    assert head == data["headline"]["text"] and head.startswith(data["headline"]["station"]) and "件/时" in head
    assert sug == data["suggestion"]["text"] and sug.startswith(("把 ", "安排 ")) and "件/时" in sug
    assert data["headline"]["station"] in {s["station"] for s in data["stations"] if s["bottleneck"]}
    assert page.inner_text("#kpi-eff") == data["kpis"]["eff_txt"]
    assert page.inner_text("#kpi-eff-overall") == data["kpis"]["eff_overall_txt"]
    page.click("#hl-accept")
    page.wait_for_function("() => document.body.dataset.accepted !== undefined", timeout=10_000)
    assert page.evaluate("() => document.body.dataset.accepted") == "201"
    assert page.inner_text("#hl-accepted").startswith("已采纳：")
    page.screenshot(path=str(artifacts / "line-headline-accepted-zh.png"))

    badge, to_op = data["suggestion"]["badge"], data["suggestion"]["to_op"]
    with rt.pipeline.lock:
        station = rt.live.worker_at[(f, badge)]
    style = lay.styles[rt.live.line_style[(f, line)]]
    tab = context.new_page()
    tab.goto(f"{served.url}/station/{station}")
    td = json.loads(tab.evaluate("() => JSON.stringify(SL.data)"))
    assert td["next"]["op"] == to_op
    assert tab.inner_text("#t-next") == style.op(to_op).name_zh
    # never the task in hand again: another bundle, or another operation (the operation alone may repeat
    # when she was already on it, e.g. a waiting operator told to take more of the same work)
    cur = td.get("current") or {}
    assert (td["next"]["bundle"], td["next"]["op"]) != (cur.get("bundle"), cur.get("op"))
    assert tab.locator("#t-directed").is_visible() and tab.inner_text("#t-directed").startswith("主管调整")
    tab.screenshot(path=str(artifacts / "station-directed-zh.png"))
    assert errors == []
