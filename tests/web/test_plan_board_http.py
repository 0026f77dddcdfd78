"""The planning board over HTTP with login on: a what-if changes nothing, only a planner or an
admin confirms, a confirmed move is stored and the board then shows it, a refused one stores nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from seamline.auth.roles import Role
from seamline.bootstrap import Runtime, bootstrap
from seamline.domain.model import Bundle, Line, Order, Station, Worker
from seamline.entrypoints.api import create_app
from seamline.entrypoints.auth_http import AuthConfig
from seamline.service_layer.ingest import RawEvent

from .factory import at, layout


@dataclass
class Site:
    rt: Runtime
    client: TestClient
    tokens: dict[Role, str]

    def call(self, role: Role, method: str, path: str, body: Any = None) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"}
        return self.client.request(method, path, headers=headers, json=body)


def _two_lines() -> Any:
    lay = layout(order_qty=100, due=date(2026, 12, 31))
    lay.lines["L2"] = Line("L2", "F", "二线 / Line two", "day", target_efficiency_pct=50.0)
    for i, mt in enumerate(("OL4", "SNLS", "FL"), 4):
        lay.stations[f"S{i}"] = Station(f"S{i}", "F", "L2", f"sen{i}", mt, i - 3)
        lay.workers[f"W{i}"] = Worker(f"W{i}", f"工人{i}", "L2", {mt: 3})
    lay.orders["O2"] = Order("O2", "ACME", "S1", {("M", "blue"): 100}, date(2026, 11, 25))
    lay.bundles["B-O2"] = Bundle("B-O2", "O2", "M", "blue", 10)
    return lay


@pytest.fixture()
def site(db_url: str) -> Iterator[Site]:
    rt = bootstrap(db_url)
    try:
        lay = _two_lines()
        rt.save_layout(lay)
        piece = {
            "type": "piece",
            "id": "p1",
            "seq": 1,
            "ts": at(9).isoformat(),
            "factory": "F",
            "station": "S1",
            "bundle": "B1",
            "op": "A",
            "qty": 10,
        }
        rt.worker.submit_future([RawEvent(payload=json.dumps(piece).encode())]).result(10)
        app = create_app(rt, AuthConfig(mode="required"))
        svc = app.state.auth
        tokens = {}
        for role in (Role.PLANNER, Role.ADMIN, Role.OWNER, Role.SUPERVISOR, Role.AUDITOR, Role.QA):
            _id, tokens[role] = svc.create_token(
                f"{role.value} t",
                [role.value],
                actor="test",
                factory="F",
                lines=["L"] if role is Role.SUPERVISOR else [],
            )
        with TestClient(app) as client:
            yield Site(rt, client, tokens)
    finally:
        rt.close()


def _bars(site: Site) -> dict[str, tuple[str, str]]:
    d = site.call(Role.PLANNER, "GET", "/web/data/plan?lang=en").json()
    return {b["order"]: (b["line"], b["start"]) for b in d["board"]["bars"]}


def test_what_if_changes_nothing_and_only_planner_or_admin_confirms(site: Site) -> None:
    before = _bars(site)
    assert before["O1"][0] == "L"  # already sewing there: held to its line
    move = {"order": "O1", "line": "L2", "start": before["O1"][1]}
    r = site.call(Role.PLANNER, "POST", "/api/v1/plan/what-if?lang=en", move)
    assert r.status_code == 200, r.text
    w = r.json()
    assert w["feasible"] is True and w["feasible_txt"] == "Feasible"
    assert w["orders"][0]["order"] == "O1"
    assert (w["orders"][0]["line_before"], w["orders"][0]["line_after"]) == ("Test line", "Line two")
    assert {ln["line"] for ln in w["lines"]} >= {"L", "L2"}
    assert w["version"] == 0
    zh = site.call(Role.PLANNER, "POST", "/api/v1/plan/what-if", move).json()
    assert zh["feasible_txt"] == "可行"
    # the owner may look at a what-if too; nobody's what-if stores anything
    assert site.call(Role.OWNER, "POST", "/api/v1/plan/what-if", move).status_code == 200
    assert _bars(site) == before
    assert site.call(Role.PLANNER, "GET", "/api/v1/plan/moves").json() == []
    # only a planner or an admin confirms
    for role in (Role.OWNER, Role.SUPERVISOR, Role.AUDITOR, Role.QA):
        assert site.call(role, "POST", "/api/v1/plan/moves", move).status_code == 403, role
    for role in (Role.SUPERVISOR, Role.AUDITOR):
        assert site.call(role, "POST", "/api/v1/plan/what-if", move).status_code == 403, role
    assert _bars(site) == before
    r = site.call(Role.PLANNER, "POST", "/api/v1/plan/moves?lang=en", {**move, "version": 0})
    assert r.status_code == 200, r.text
    assert r.json()["version"] >= 1
    assert [b["line"] for b in r.json()["page"]["board"]["bars"] if b["order"] == "O1"] == ["L2"]
    after = _bars(site)
    assert after["O1"][0] == "L2" and after["O1"][1] >= move["start"]
    (stored,) = site.call(Role.OWNER, "GET", "/api/v1/plan/moves").json()
    assert (stored["order"], stored["line"], stored["moved_by"]) == ("O1", "L2", "token 1 (planner t)")
    # the admin moves it back; the planner's what-if made on the old version is refused as stale
    r = site.call(Role.ADMIN, "POST", "/api/v1/plan/moves", {"order": "O1", "line": "L", "start": move["start"]})
    assert r.status_code == 200, r.text
    stale = site.call(Role.PLANNER, "POST", "/api/v1/plan/moves", {**move, "version": 0})
    assert stale.status_code == 409 and "version" in stale.json()["detail"]
    assert _bars(site)["O1"][0] == "L"


def test_an_infeasible_move_is_answered_and_refused_and_stores_nothing(site: Site) -> None:
    before = _bars(site)
    for move, words in (
        ({"order": "O1", "line": "L2", "start": "2030-01-01"}, "after the plan's last day"),
        ({"order": "O1", "line": "NOPE", "start": before["O1"][1]}, "unknown line"),
        ({"order": "NOPE", "line": "L2", "start": before["O1"][1]}, "nothing left to plan"),
    ):
        w = site.call(Role.PLANNER, "POST", "/api/v1/plan/what-if?lang=en", move).json()
        assert w["feasible"] is False and any(words in r for r in w["reasons"]), w
        r = site.call(Role.PLANNER, "POST", "/api/v1/plan/moves", move)
        assert r.status_code == 409 and "不可行" in r.json()["detail"]
    assert site.call(Role.PLANNER, "POST", "/api/v1/plan/what-if", {"order": "O1"}).status_code == 422
    assert site.call(Role.PLANNER, "GET", "/api/v1/plan/moves").json() == []
    assert _bars(site) == before


def test_overdue_orders_are_late_not_at_risk(site: Site) -> None:
    """O2 was due 25 Nov; on 23 Nov (the factory clock) it is on time, so move the clock past it."""
    d = site.call(Role.PLANNER, "GET", "/web/data/plan?lang=en").json()
    rows = {r["order"]: r for r in d["orders"]}
    assert rows["O2"]["status"] == "ok"
    piece = {
        "type": "piece",
        "id": "p2",
        "seq": 2,
        "ts": at(9, day=date(2026, 11, 27)).isoformat(),
        "factory": "F",
        "station": "S1",
        "bundle": "B1",
        "op": "A",
        "qty": 1,
    }
    site.rt.worker.submit_future([RawEvent(payload=json.dumps(piece).encode())]).result(10)
    d = site.call(Role.PLANNER, "GET", "/web/data/plan?lang=en").json()
    rows = {r["order"]: r for r in d["orders"]}
    assert (rows["O2"]["status"], rows["O2"]["status_txt"]) == ("late", "Late")
    assert rows["O2"]["late_days"] >= 2 and rows["O2"]["late_txt"] == f"{rows['O2']['late_days']} d late"
    zh = {r["order"]: r for r in site.call(Role.PLANNER, "GET", "/web/data/plan").json()["orders"]}
    assert zh["O2"]["status_txt"] == "逾期"
    (bar,) = [b for b in d["board"]["bars"] if b["order"] == "O2"]
    assert bar["due_x"] <= 0 and bar["label"].startswith("O2 · ")
    assert "Due" in bar["tip"][2] and "SAM" in bar["tip"][3]


def test_the_what_if_names_the_material_shortage_a_move_creates(site: Site) -> None:
    """150 cones for two orders of 100 pieces at one cone each: the order loaded second runs short."""
    from datetime import UTC, datetime
    from decimal import Decimal

    from seamline.materials.bom import Bom, BomLine
    from seamline.materials.ledger import Lot
    from seamline.materials.store import MaterialsStore

    store = MaterialsStore(site.rt.engine, "F")
    store.save_bom(Bom([BomLine("S1", "THREAD-40", "trim", "cone", Decimal(1))]))  # no fabric: unusable
    w = site.call(Role.PLANNER, "POST", "/api/v1/plan/what-if", {"order": "O1", "line": "L2", "start": "2026-11-24"})
    assert w.json()["feasible"] is True and "no fabric in the BOM" in w.json()["materials_error"]
    bom = [
        BomLine("S1", "JERSEY", "fabric", "m", Decimal("0.5")),
        BomLine("S1", "THREAD-40", "trim", "cone", Decimal(1)),
    ]
    store.save_bom(Bom(bom))
    store.receive(Lot("LOT-1", "THREAD-40", "cone", datetime(2026, 11, 20, tzinfo=UTC)), Decimal(150))
    store.receive(Lot("LOT-2", "JERSEY", "m", datetime(2026, 11, 20, tzinfo=UTC)), Decimal(1000))
    bars = _bars(site)
    assert bars["O1"][1] <= bars["O2"][1]  # O1 (already sewing) is loaded first: O2 is the short one
    later = (date.fromisoformat(bars["O2"][1]) + timedelta(days=3)).isoformat()
    w = site.call(Role.PLANNER, "POST", "/api/v1/plan/what-if?lang=en", {"order": "O1", "line": "L2", "start": later})
    assert w.status_code == 200, w.text
    short = {s["order"]: s for s in w.json()["shortages"]}
    assert set(short) == {"O1"}  # now O2 goes first and O1 is the one that runs dry
    assert (short["O1"]["material"], short["O1"]["short"], short["O1"]["new"]) == ("THREAD-40", "50.000", True)
