"""Accepting the suggested move over HTTP with login on: who may, and what the tablets then show."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from seamline.adapters.layout_files import load_factory
from seamline.auth.service import AuthService
from seamline.bootstrap import Runtime, bootstrap
from seamline.domain.model import FactoryLayout
from seamline.entrypoints.api import create_app
from seamline.entrypoints.auth_http import AuthConfig
from seamline.service_layer.ingest import RawEvent
from seamline.service_layer.line_direction import director
from seamline.sim import SimConfig, default_start, simulate

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Floor:
    rt: Runtime
    layout: FactoryLayout
    client: TestClient
    svc: AuthService
    line: str  # a line with a suggestion


@pytest.fixture(scope="module")
def floor(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Floor]:
    d = tmp_path_factory.mktemp("directive")
    rt = bootstrap(f"sqlite:///{d}/d.db")
    layout = load_factory(REPO / "examples" / "factory")
    rt.save_layout(layout)
    start = default_start(layout, datetime.now(layout.factory.tz) - timedelta(days=1))
    sim = simulate(layout, SimConfig(seed=11, start=start, hours=3.0, record_pieces=False))
    raws = [RawEvent(payload=p, source="mqtt", topic=t) for t, p, _ in sim.events]
    for i in range(0, len(raws), 4000):
        rt.worker.submit_future(raws[i : i + 4000]).result(60)
    app = create_app(rt, AuthConfig(mode="required"))
    line = next((ln for ln in sorted(layout.lines) if director(rt).suggestion(layout, ln) is not None), None)
    assert line is not None, "no line of the simulated morning has a move to suggest"
    try:
        yield Floor(rt, layout, TestClient(app), app.state.auth, line)
    finally:
        rt.close()


def _token(fl: Floor, role: str, lines: list[str] | None = None) -> dict[str, str]:
    _id, tok = fl.svc.create_token(f"{role} t", [role], actor="test", factory=fl.layout.factory.id, lines=lines or [])
    return {"Authorization": f"Bearer {tok}"}


def test_a_supervisor_accepts_the_move_and_the_tablet_shows_the_new_task(floor: Floor) -> None:
    fl, line = floor, floor.line
    other = next(ln for ln in sorted(fl.layout.lines) if ln != line)
    data = fl.client.get(f"/web/data/line?key={line}&lang=en", headers=_token(fl, "planner")).json()
    s = data["suggestion"]
    assert s and s["text"].startswith(("Move ", "Put ")) and "pcs/h" in s["text"] and s["gain_pph"] >= 2
    assert data["headline"]["station"] and "pcs/h" in data["headline"]["text"]
    body = {"badge": s["badge"], "to_op": s["to_op"]}
    url = f"/api/v1/lines/{line}/directives"
    assert fl.client.post(url, json=body).status_code == 401
    assert fl.client.post(url, json=body, headers=_token(fl, "supervisor", [other])).status_code == 403
    assert fl.client.post(url, json=body, headers=_token(fl, "qa")).status_code == 403
    stale = fl.client.post(url, json={**body, "to_op": "NOPE"}, headers=_token(fl, "supervisor", [line]))
    assert stale.status_code == 409 and "suggestion" in stale.json()["detail"]
    r = fl.client.post(url, json=body, headers=_token(fl, "supervisor", [line]))
    assert r.status_code == 201, r.text
    d = r.json()
    assert (d["badge"], d["to_op"], d["line"]) == (s["badge"], s["to_op"], line)
    assert d["pph_after"] > d["pph_before"] and "supervisor t" in d["accepted_by"]
    # the tablet of the station where that worker sits now shows her new operation as next
    f = fl.layout.factory.id
    with fl.rt.pipeline.lock:
        station = fl.rt.live.worker_at[(f, s["badge"])]
    tab = fl.client.get(f"/web/data/station?key={station}&lang=en", headers=_token(fl, "admin")).json()
    assert tab["next"]["op"] == s["to_op"] and tab["directed"] is True
    assert tab["directed_txt"].startswith("Supervisor's move: now ")
    assert (tab["next"]["op"], tab["next"]["bundle"]) != (
        tab["current"]["op"] if tab["current"] else None,
        tab["bundle"],
    )
    # stored as an assignment version: a fresh director (a restart) reads it back
    from seamline.service_layer.line_direction import LineDirector

    day_start, _ = fl.rt.live.day_bounds(f, fl.rt.live.as_of(f))
    (stored,) = LineDirector(fl.rt).directives(f, line, day_start)
    assert set(dict(stored.assignment)[s["badge"]]) == {s["to_op"]}
