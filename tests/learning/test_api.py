"""End to end: events through ingest into the projection, the API, the snapshot table, a restart."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from seamline.adapters.tables import all_tables
from seamline.adapters.tables_learning import learning_skills
from seamline.bootstrap import bootstrap
from seamline.domain.events import encode_event
from seamline.entrypoints.api import create_app
from seamline.entrypoints.cli import app as cli_app
from seamline.learning.projection import LearningProjection
from seamline.service_layer.ingest import RawEvent
from tests.conftest import tiny_layout

from .builders import SAM_S, Station, lognormal_cycles

W1_CYCLES = lognormal_cycles([SAM_S / 0.8] * 60, 0.15, seed=2)
# what W1 really did in this sample (the first piece has no gap): SAM earned ÷ time
W1_REALISED = 59 * SAM_S / sum(W1_CYCLES[1:])


def shift() -> list:
    a, b = Station("S1"), Station("S2")
    a.login("W1").bundle_in("O1-0001")
    b.login("W2").bundle_in("O1-0002")
    for c in W1_CYCLES:
        a.piece(c, bundle="O1-0001")
    a.piece(0.2, bundle="O1-0001")  # a double count
    # W2 is new to OP1 (SAM 30 s) and ramps up from 40 % to about 90 %
    for c in lognormal_cycles([SAM_S / (0.9 * (n + 20) / (n + 50)) for n in range(80)], 0.15, 3):
        b.piece(c, bundle="O1-0002", op="OP1")
    return sorted(a.events + b.events, key=lambda e: e.ts)


@pytest.fixture
def rt(db_url):
    r = bootstrap(db_url, start_worker=False)
    all_tables().create_all(r.engine, tables=[learning_skills], checkfirst=True)
    r.save_layout(tiny_layout())
    result = r.pipeline.process([RawEvent(payload=encode_event(e)) for e in shift()])
    assert result.accepted == len(shift()) and not result.rejected
    yield r
    r.close()


def test_skill_matrix_worker_skills_prior_and_snapshot(rt):
    client = TestClient(create_app(rt))
    m = client.get("/api/v1/skills").json()
    assert [w["badge"] for w in m["workers"]] == ["W1", "W2"]
    assert [o["key"] for o in m["operations"]] == ["HEM/OP1"]
    w1 = m["workers"][0]["cells"]["HEM/OP1"]
    assert w1["n_pieces"] == 60 and w1["double_counts"] == 1
    assert w1["interval"][0] < W1_REALISED < w1["interval"][1]
    assert abs(w1["efficiency"] - W1_REALISED) < 0.02
    assert abs(w1["efficiency"] - 0.8) < 0.08
    assert w1["trend"] == "steady"
    w2 = m["workers"][1]["cells"]["HEM/OP1"]
    assert w2["trend"] == "learning"
    assert w2["forecast_next_50"] > w2["efficiency"]
    assert client.get("/api/v1/skills", params={"line": "L1"}).json()["workers"] == m["workers"]
    assert client.get("/api/v1/skills", params={"line": "L9"}).status_code == 404

    one = client.get("/api/v1/workers/W2/skills").json()
    assert one["badge"] == "W2" and one["skills"][0]["op"] == "OP1"
    assert client.get("/api/v1/workers/NOBODY/skills").status_code == 404
    fc = client.get("/api/v1/workers/W2/skills/HEM/OP1", params={"horizon_pieces": 20}).json()
    assert fc["source"] == "data" and fc["forecast"] > w2["efficiency"]
    prior = client.get("/api/v1/workers/W1/skills/HEM/OP2").json()
    assert prior["source"] == "prior" and 0.3 < prior["efficiency"] < 1.3

    assert client.post("/api/v1/skills/snapshot").json() == {"rows": 2}
    with rt.engine.connect() as conn:
        rows = {r.worker: r for r in conn.execute(select(learning_skills))}
    assert rows["W1"].n_pieces == 60 and rows["W2"].trend == "learning"
    assert rows["W1"].efficiency == pytest.approx(w1["efficiency"], abs=1e-4)


def test_a_restart_replays_to_the_same_estimates(rt, db_url):
    proj = rt.projection("learning")
    assert isinstance(proj, LearningProjection)
    before = [e.as_dict() for e in proj.estimates()]
    rt2 = bootstrap(db_url, start_worker=False)
    try:
        proj2 = rt2.projection("learning")
        assert isinstance(proj2, LearningProjection)
        assert [e.as_dict() for e in proj2.estimates()] == before
    finally:
        rt2.close()


def test_cli_prints_the_matrix_and_saves_the_snapshot(rt, db_url):
    url = db_url
    res = CliRunner().invoke(cli_app, ["skills", "--db", url, "--json"])
    assert res.exit_code == 0, res.output
    m = json.loads(res.stdout)
    assert [w["badge"] for w in m["workers"]] == ["W1", "W2"]
    with rt.engine.connect() as conn:
        assert len(conn.execute(select(learning_skills)).all()) == 2
    table = CliRunner().invoke(cli_app, ["skills", "--db", url, "--no-save", "--line", "L1"])
    assert table.exit_code == 0
    assert "HEM/OP1" in table.stdout and "learning" in table.stdout
    bad = CliRunner().invoke(cli_app, ["skills", "--db", url, "--factory", "nowhere"])
    assert bad.exit_code == 2


def test_fitting_beside_the_lock_gives_the_same_estimates(rt, db_url):
    import threading

    cold = bootstrap(db_url, start_worker=False)
    try:
        proj = cold.projection("learning")
        assert isinstance(proj, LearningProjection)
        assert all(c.fit is None for c in proj.state.cells.values())
        beside = [e.as_dict() for e in proj.estimates_beside(threading.RLock())]
        assert all(c.fit is not None for c in proj.state.cells.values())
        warm = rt.projection("learning")
        assert isinstance(warm, LearningProjection)
        assert beside == [e.as_dict() for e in warm.estimates()]
    finally:
        cold.close()
