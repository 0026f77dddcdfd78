"""Chromium: the tablet shows an exploration trial apart from the own next task when the line's
trials name its worker, and not otherwise; the line page lists the trials running (issue #21).
A server of its own (SQLite): the test sets trials the shared server's other tests do not expect."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from seamline.service_layer.line_direction import director

from .server import REPO, Served, start
from .test_screens_matrix import AXE_JS

AXE = REPO / "src" / "seamline" / "web" / "static" / "vendor" / "axe.min.js"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def own() -> Iterator[Served]:
    with tempfile.TemporaryDirectory() as d:
        s = start(f"sqlite:///{Path(d) / 'web.db'}", hours=1.5, hold_back_min=5)
        try:
            yield s
        finally:
            s.stop()


def _fresh(s: Served, n: int) -> None:
    """Ingest the next ``n`` held-back events: the pages' data is cached per ingested state."""
    evs, s.held_back[:] = s.held_back[:n], s.held_back[n:]
    s.ingest(evs)
    dr = director(s.rt)
    dr._ready.clear()
    dr._dirs.clear()


def _set_trials(s: Served) -> tuple[str, dict[str, tuple[str, str]]]:
    """Hand out, on the first line where one fits, a trial to every operator who has an operation
    with a bundle ready that is not hers in the plan (badge → (station, op)), as a controller does."""
    lay, rt = s.layout, s.rt
    f = lay.factory.id
    dr = director(rt)
    for line in sorted(lay.lines):
        with rt.pipeline.lock:
            live = rt.live.frozen_view()
        day_start, _ = live.day_bounds(f, live.as_of(f))
        style = live.line_style.get((f, line))
        if style is None:
            continue
        dirs = dr.directions(lay, live, line, day_start)
        ready = {r.bundle.op_code for r in dr.ready_bundles(f).get(line, []) if r.in_work_at is None}
        trials: dict[str, tuple[str, str]] = {}
        used: set[str] = set()
        for sid, d in dirs.items():
            ops = sorted(ready - set(d.assigned) - used - {d.current_op or ""})
            if d.worker and ops:
                trials[d.worker] = (sid, ops[0])
                used.add(ops[0])
        if trials:
            dr.trial_store.set_line(f, line, style, trials, "组长 / leader", live.as_of(f))
            dr.forget_trials(f, line)
            return line, trials
    pytest.fail("no line of the simulated morning has a bundle ready for a trial")


def test_the_tablet_shows_a_trial_apart_and_the_line_page_lists_it(own: Served, context: Any, artifacts: Any) -> None:
    line, trials = _set_trials(own)
    _fresh(own, 1)
    f = own.layout.factory.id
    with own.rt.pipeline.lock:
        live = own.rt.live.frozen_view()
    day_start, _ = live.day_bounds(f, live.as_of(f))
    dirs = director(own.rt).directions(own.layout, live, line, day_start)
    with_trial = [sid for sid, d in dirs.items() if d.trial is not None and d.trial.bundle_id]
    without = [sid for sid, d in dirs.items() if d.trial is None and d.worker]
    assert with_trial and without, (trials, with_trial)
    sid, other = with_trial[0], without[0]
    op = dirs[sid].trial.op_code  # type: ignore[union-attr]
    errors: list[str] = []
    tab = context.new_page()
    tab.on("pageerror", lambda e: errors.append(str(e)))
    tab.goto(f"{own.url}/station/{sid}")
    td = json.loads(tab.evaluate("() => JSON.stringify(SL.data)"))
    assert td["trial"]["op"] == op
    box = tab.locator("#t-trial")
    assert box.is_visible()
    text = tab.inner_text("#t-trial-text")
    name = own.layout.styles[live.line_style[(f, line)]].op(op).name_zh
    assert text == f"试做：{name} 1 扎 — 学习您的效率"
    assert tab.inner_text("#t-trial-bundle") == td["trial"]["bundle"]
    assert tab.inner_text("#t-trial-where").endswith("本工序空闲时做")
    # apart from the own next task: the "Next" card still names her own work, not the trial's bundle
    assert tab.inner_text("#t-next") != "" and (td["next"] or {}).get("bundle") != td["trial"]["bundle"]
    tab.screenshot(path=str(artifacts / "station-trial-zh.png"))
    tab.add_script_tag(path=str(AXE))
    assert tab.evaluate(AXE_JS) == []  # no serious or critical axe-core finding with the trial card

    no = context.new_page()
    no.goto(f"{own.url}/station/{other}?lang=en")
    assert json.loads(no.evaluate("() => JSON.stringify(SL.data)"))["trial"] is None
    assert not no.locator("#t-trial").is_visible()

    lp = context.new_page()
    lp.goto(f"{own.url}/lines/{line}?lang=en")
    items = lp.locator("#hl-trials li")
    assert items.count() == len(trials)
    listed = " ".join(items.all_inner_texts())
    assert all(s in listed for s, _op in trials.values()) and "trying" in listed
    lp.screenshot(path=str(artifacts / "line-trials-en.png"))
    lp.add_script_tag(path=str(AXE))
    assert lp.evaluate(AXE_JS) == []

    # the trials end: the open tablet hides the trial on its next update, the line page says so
    director(own.rt).trial_store.set_line(f, line, live.line_style[(f, line)], {}, "组长 / leader", live.as_of(f))
    director(own.rt).forget_trials(f, line)
    _fresh(own, 2)
    tab.wait_for_function("() => document.getElementById('t-trial').hidden", timeout=10_000)
    lp.wait_for_function("() => document.querySelector('#hl-trials li.none') !== null", timeout=10_000)
    assert lp.inner_text("#hl-trials") == "No trial running"
    assert errors == []
